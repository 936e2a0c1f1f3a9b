"""Synthetic interferogram stacks with a known truth, for tests, benchmarks and demos.

Truth: a subsidence bowl shaped like the probability-integral method's rectangular-panel trough (product of erf
profiles), growing linearly in time, seen in LOS (sinking = negative LOS). Interferograms: each date linked to its
next ``links`` dates; phase = truth difference converted with the project's sign convention + noise whose variance
matches the coherence (1 / Fisher information) + a per-interferogram constant (what the unwrapper leaves) ; a
fraction of phase values set to 0 (MintPy no-data); optionally a gap that no interferogram spans.
Deterministic for a seed, and generated block by block (:class:`SyntheticSource`) so county-size stacks never
need to exist on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from affine import Affine
from pyproj import CRS
from scipy.special import erf

from subsidence.insar.convention import SENTINEL1_WAVELENGTH_M, los_m_to_phase_rad
from subsidence.insar.sbas import DAYS_PER_YEAR
from subsidence.insar.stack import BlockData, Grid, IfgramStack


@dataclass(frozen=True)
class SyntheticSpec:
    rows: int = 40
    cols: int = 40
    n_dates: int = 30
    interval_days: int = 12
    links: int = 3  # each date paired with the next `links` dates
    gap_after: int | None = None  # index of the date after which no interferogram crosses (a network gap)
    gap_extra_days: int = 0  # extra days without acquisitions after ``gap_after`` (e.g. a winter outage)
    nodata_fraction: float = 0.05
    looks: int = 20
    coherence_range: tuple[float, float] = (0.35, 0.95)
    max_los_m: float = -0.06  # LOS displacement at the bowl centre at the last date (negative = sinking)
    pixel_m: float = 30.0
    seed: int = 0
    start: date = date(2023, 1, 3)
    offsets: bool = True  # per-interferogram constant phase offsets (removed by referencing)
    crs_epsg: int = 4546  # CGCS2000 GK CM 111E
    origin_xy: tuple[float, float] = (37_400_000.0, 4_380_000.0)

    @property
    def dates(self) -> list[date]:
        extra = [self.gap_extra_days if (self.gap_after is not None and k > self.gap_after) else 0
                 for k in range(self.n_dates)]
        return [self.start + timedelta(days=self.interval_days * k + extra[k]) for k in range(self.n_dates)]

    @property
    def pairs(self) -> list[tuple[date, date]]:
        d = self.dates
        out = []
        for i in range(self.n_dates):
            for j in range(i + 1, min(i + 1 + self.links, self.n_dates)):
                if self.gap_after is not None and i <= self.gap_after < j:
                    continue
                out.append((d[i], d[j]))
        return out

    @property
    def grid(self) -> Grid:
        x0, y0 = self.origin_xy
        return Grid(Affine(self.pixel_m, 0, x0, 0, -self.pixel_m, y0), CRS.from_epsg(self.crs_epsg),
                    (self.rows, self.cols))

    def t_years(self) -> np.ndarray:
        return np.array([(d - self.dates[0]).days for d in self.dates], float) / DAYS_PER_YEAR


def bowl_shape(rows: np.ndarray, cols: np.ndarray, spec: SyntheticSpec) -> np.ndarray:
    """PIM-like trough, 1 at the centre: C(x) C(y), C = [erf(sqrt(pi) x / r) - erf(sqrt(pi) (x - l) / r)] / 2."""
    R, Cc = spec.rows, spec.cols
    r_infl = 0.18 * min(R, Cc)  # influence radius, pixels
    lx, ly = 0.35 * Cc, 0.25 * R  # panel extents between inflection points, pixels
    x = cols - (Cc - lx) / 2.0
    y = rows - (R - ly) / 2.0
    cx = 0.5 * (erf(np.sqrt(np.pi) * x / r_infl) - erf(np.sqrt(np.pi) * (x - lx) / r_infl))
    cy = 0.5 * (erf(np.sqrt(np.pi) * y / r_infl) - erf(np.sqrt(np.pi) * (y - ly) / r_infl))
    centre = (0.5 * (erf(np.sqrt(np.pi) * lx / 2 / r_infl) * 2)) * (0.5 * (erf(np.sqrt(np.pi) * ly / 2 / r_infl) * 2))
    return cy[:, None] * cx[None, :] / centre


def truth_los_m(spec: SyntheticSpec, r0: int = 0, r1: int | None = None) -> np.ndarray:
    """True LOS displacement (n_dates, r1-r0, cols) metres, first date 0, growing linearly in time."""
    r1 = spec.rows if r1 is None else r1
    shape = bowl_shape(np.arange(r0, r1, dtype=float), np.arange(spec.cols, dtype=float), spec)
    t = spec.t_years()
    frac = t / t[-1]
    return (spec.max_los_m * frac[:, None, None] * shape[None]).astype(np.float64)


@dataclass(frozen=True)
class SyntheticSource:
    """A :class:`~subsidence.insar.stack.BlockSource` computing rows on the fly (deterministic per row)."""

    spec: SyntheticSpec
    wavelength_m: float = SENTINEL1_WAVELENGTH_M
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def _offsets(self, m: int) -> np.ndarray:
        if not self.spec.offsets:
            return np.zeros(m)
        return np.random.default_rng([self.spec.seed, 7]).uniform(-3, 3, m)

    def read_rows(self, r0: int, r1: int) -> BlockData:
        spec = self.spec
        d_index = {d: i for i, d in enumerate(spec.dates)}
        i1 = np.array([d_index[a] for a, _ in spec.pairs])
        i2 = np.array([d_index[b] for _, b in spec.pairs])
        m = len(i1)
        truth = truth_los_m(spec, r0, r1)
        phase_truth = los_m_to_phase_rad(truth[i2] - truth[i1], self.wavelength_m)
        ph = np.empty((m, r1 - r0, spec.cols), np.float32)
        coh = np.empty_like(ph)
        offs = self._offsets(m)
        for k, r in enumerate(range(r0, r1)):  # per row so that any block split gives identical data
            rng = np.random.default_rng([spec.seed, r])
            g = rng.uniform(*spec.coherence_range, size=(m, spec.cols))
            sigma = np.sqrt((1 - g * g) / (2 * spec.looks * g * g))  # 1 / sqrt(Fisher information)
            noise = rng.standard_normal((m, spec.cols)) * sigma
            p = phase_truth[:, k, :] + noise + offs[:, None]
            p[rng.random((m, spec.cols)) < spec.nodata_fraction] = 0.0
            ph[:, k, :] = p
            coh[:, k, :] = g
        return BlockData(ph, coh)


def synthetic_stack(spec: SyntheticSpec | None = None, **kw) -> IfgramStack:
    """An :class:`IfgramStack` backed by :class:`SyntheticSource`."""
    spec = spec or SyntheticSpec(**kw)
    return IfgramStack(pairs=spec.pairs, wavelength_m=SENTINEL1_WAVELENGTH_M, grid=spec.grid,
                       source=SyntheticSource(spec), has_coherence=True, looks=float(spec.looks),
                       origin=f"synthetic(seed={spec.seed})", kind="synthetic",
                       attrs={"PLATFORM": "Sen", "ALOOKS": "1", "RLOOKS": "1", "NCORRLOOKS": str(spec.looks)})
