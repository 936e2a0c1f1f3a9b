"""Synthetic interferogram stacks with a known truth, for tests, benchmarks and demos.

Truth: a subsidence bowl shaped like the probability-integral method's rectangular-panel trough (product of erf
profiles), growing linearly in time, seen in LOS (sinking = negative LOS). Interferograms: each date linked to its
next ``links`` dates; phase = truth difference converted with the project's sign convention + noise whose variance
matches the coherence (1 / Fisher information) + a per-interferogram constant (what the unwrapper leaves) ; a
fraction of phase values set to 0 (MintPy no-data); optionally a gap that no interferogram spans; optionally a
turbulent atmosphere per date (spatially correlated, power-law spectrum; ``atmosphere_m``), whose difference enters
every interferogram as it does in real data.
Radar-coordinate scenes (:class:`RadarSceneSpec`): the same stack in radar geometry (rows = azimuth lines,
cols = range samples) with a lookup table as ISCE/topsStack makes it (per-pixel latitude/longitude shifted by the
topography, incidence growing with range), and the truth defined on the map.
Deterministic for a seed, and generated block by block (:class:`SyntheticSource`) so county-size stacks never
need to exist on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

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
    #: RMS of the turbulent atmospheric delay of each date (LOS metres; 0 = none). Sentinel-1 single-date
    #: turbulence is typically 5-15 mm over tens of km, a few mm over a few km (Hanssen 2001, ch. 4).
    atmosphere_m: float = 0.0
    #: exponent of the 2-D power spectrum of the delay, P(k) ~ k^-beta (8/3: Kolmogorov turbulence, Hanssen 2001)
    atmosphere_beta: float = 8.0 / 3.0

    @property
    def dates(self) -> list[date]:
        extra = [
            self.gap_extra_days if (self.gap_after is not None and k > self.gap_after) else 0
            for k in range(self.n_dates)
        ]
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
        return Grid(
            Affine(self.pixel_m, 0, x0, 0, -self.pixel_m, y0), CRS.from_epsg(self.crs_epsg), (self.rows, self.cols)
        )

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


def atmosphere_screens(spec: SyntheticSpec) -> np.ndarray:
    """Turbulent delay of every date (n_dates, rows, cols), LOS metres, each with RMS ``spec.atmosphere_m``.

    Fractal surfaces by spectral synthesis: white noise filtered by k^(-beta/2) (P(k) ~ k^-beta), the largest
    scale capped at 20 km; deterministic for the seed."""
    n = spec.n_dates
    out = np.zeros((n, spec.rows, spec.cols))
    if spec.atmosphere_m <= 0:
        return out
    ky = np.fft.fftfreq(spec.rows, spec.pixel_m)
    kx = np.fft.fftfreq(spec.cols, spec.pixel_m)
    k = np.maximum(np.hypot(ky[:, None], kx[None, :]), 1.0 / 20_000.0)
    amp = k ** (-spec.atmosphere_beta / 2.0)
    amp[0, 0] = 0.0
    rng = np.random.default_rng([spec.seed, 11])
    for i in range(n):
        f = np.fft.ifft2(amp * np.fft.fft2(rng.standard_normal((spec.rows, spec.cols)))).real
        sd = f.std()
        out[i] = f / sd * spec.atmosphere_m if sd > 0 else 0.0
    return out


@dataclass(frozen=True)
class SyntheticSource:
    """A :class:`~subsidence.insar.stack.BlockSource` computing rows on the fly (deterministic per row).

    ``truth``: optional true LOS displacement (n_dates, rows, cols) metres replacing the spec's bowl (radar scenes).
    """

    spec: SyntheticSpec
    wavelength_m: float = SENTINEL1_WAVELENGTH_M
    truth: np.ndarray | None = field(default=None, compare=False, hash=False, repr=False)
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def _atmosphere(self) -> np.ndarray | None:
        if self.spec.atmosphere_m <= 0:
            return None
        if "atm" not in self._cache:
            self._cache["atm"] = atmosphere_screens(self.spec)
        return self._cache["atm"]

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
        truth = truth_los_m(spec, r0, r1) if self.truth is None else np.asarray(self.truth[:, r0:r1], float)
        atm = self._atmosphere()
        if atm is not None:
            truth = truth + atm[:, r0:r1]
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


def synthetic_stack(spec: SyntheticSpec | None = None, **kw: Any) -> IfgramStack:
    """An :class:`IfgramStack` backed by :class:`SyntheticSource`."""
    spec = spec or SyntheticSpec(**kw)
    return IfgramStack(
        pairs=spec.pairs,
        wavelength_m=SENTINEL1_WAVELENGTH_M,
        grid=spec.grid,
        source=SyntheticSource(spec),
        has_coherence=True,
        looks=float(spec.looks),
        origin=f"synthetic(seed={spec.seed})",
        kind="synthetic",
        attrs={"PLATFORM": "Sen", "ALOOKS": "1", "RLOOKS": "1", "NCORRLOOKS": str(spec.looks)},
    )


# ----------------------------------------------------------------------------------------------------------------
# radar-coordinate scenes
# ----------------------------------------------------------------------------------------------------------------
def panel_profile(u: np.ndarray, length: float, r: float) -> np.ndarray:
    """PIM profile of a panel of ``length`` between inflection points, influence radius ``r`` (same units):
    C(u) = [erf(sqrt(pi) u / r) - erf(sqrt(pi) (u - length) / r)] / 2, 1 over a wide panel's centre."""
    s = np.sqrt(np.pi)
    return 0.5 * (erf(s * u / r) - erf(s * (u - length) / r))


@dataclass(frozen=True)
class RadarSceneSpec:
    """A Sentinel-1-like scene in radar geometry over a PIM subsidence bowl defined on the map.

    Geometry (flat Earth plus topography, enough for lookup-table geocoding): rows are azimuth lines along the
    heading (``heading_deg`` clockwise from north; -12 = ascending, -168 = descending), columns are slant-range
    samples looking right; the ground position of a pixel is shifted toward the sensor by height / tan(incidence)
    relative to 1300 m (what makes ISCE's lat.rdr/lon.rdr irregular). The bowl (``w0_mm`` subsidence at its flat bottom at the last
    date, growing linearly in time; panel ``panel_m`` between inflection points, influence radius ``r_m``) is
    centred ``bowl_offset_m`` (east, north) from the scene centre, in the map CRS ``crs_epsg``.
    """

    stack: SyntheticSpec = field(default_factory=lambda: SyntheticSpec(rows=64, cols=48, n_dates=16, pixel_m=1.0))
    heading_deg: float = -12.0
    centre_lonlat: tuple[float, float] = (110.0, 39.45)
    azimuth_spacing_m: float = 41.6  # ground, e.g. 3 azimuth looks of 13.9 m
    range_spacing_m: float = 23.3  # slant, e.g. 10 range looks of 2.33 m (ground ~ 37 m at 39 degrees)
    near_incidence_deg: float = 38.0
    satellite_height_m: float = 693_000.0
    relief_m: float = 40.0  # amplitude of the synthetic DEM around 1300 m
    w0_mm: float = 120.0
    panel_m: tuple[float, float] = (600.0, 400.0)
    r_m: float = 250.0
    bowl_offset_m: tuple[float, float] = (0.0, 0.0)
    crs_epsg: int = 4546  # CGCS2000 3-degree GK CM 111E (the storage CRS), the map of the truth

    def _centre_xy(self) -> tuple[float, float]:
        from pyproj import Transformer

        t = Transformer.from_crs(4326, self.crs_epsg, always_xy=True)
        x, y = t.transform(*self.centre_lonlat)
        return float(x), float(y)

    def geometry(self) -> dict[str, np.ndarray]:
        """Per-pixel datasets as in MintPy's geometryRadar.h5 (float32; masks bool) plus map ``x``/``y`` (float64,
        in ``crs_epsg``) of each pixel's ground position."""
        from pyproj import Transformer

        L, W = self.stack.rows, self.stack.cols
        h = np.deg2rad(self.heading_deg)
        along = np.array([np.sin(h), np.cos(h)])  # east, north
        look = np.array([np.sin(h + np.pi / 2), np.cos(h + np.pi / 2)])  # right-looking
        H = self.satellite_height_m
        r0 = H / np.cos(np.deg2rad(self.near_incidence_deg))
        slant = r0 + self.range_spacing_m * np.arange(W)
        ground = np.sqrt(slant**2 - H**2)
        inc = np.rad2deg(np.arccos(H / slant))  # flat Earth: incidence grows with range
        s = (np.arange(L) - (L - 1) / 2.0) * self.azimuth_spacing_m
        g = ground - ground[(W - 1) // 2]
        xc, yc = self._centre_xy()
        E = s[:, None] * along[0] + g[None, :] * look[0]
        N = s[:, None] * along[1] + g[None, :] * look[1]
        height = 1300.0 + self.relief_m * np.sin(E / 900.0) * np.cos(N / 1300.0)
        # a point above the reference height is imaged nearer in range: the pixel at ground range g sees a point
        # displaced toward the sensor by (h - h_ref) / tan(incidence) (what makes lat.rdr/lon.rdr irregular)
        shift = -(height - 1300.0) / np.tan(np.deg2rad(inc))[None, :]
        x = xc + E + shift * look[0]
        y = yc + N + shift * look[1]
        lon, lat = Transformer.from_crs(self.crs_epsg, 4326, always_xy=True).transform(x, y)
        az = -(self.heading_deg - 90.0)  # MintPy: LOS azimuth from north, anti-clockwise, ground -> satellite
        az -= np.round(az / 360.0) * 360.0
        return {
            "latitude": lat.astype(np.float32),
            "longitude": lon.astype(np.float32),
            "height": height.astype(np.float32),
            "incidenceAngle": np.broadcast_to(inc, (L, W)).astype(np.float32),
            "azimuthAngle": np.full((L, W), az, np.float32),
            "slantRangeDistance": np.broadcast_to(slant, (L, W)).astype(np.float32),
            "shadowMask": np.zeros((L, W), bool),
            "waterMask": np.ones((L, W), bool),
            "x": x,
            "y": y,
        }

    def subsidence_mm(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True subsidence (mm, positive down) at the last date at map coordinates ``x``, ``y`` (``crs_epsg``)."""
        xc, yc = self._centre_xy()
        lx, ly = self.panel_m
        u = np.asarray(x) - (xc + self.bowl_offset_m[0] - lx / 2)
        v = np.asarray(y) - (yc + self.bowl_offset_m[1] - ly / 2)
        return self.w0_mm * panel_profile(u, lx, self.r_m) * panel_profile(v, ly, self.r_m)

    def truth_los_m(self, geometry: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """True LOS displacement (n_dates, rows, cols) metres, positive toward the satellite, vertical motion only:
        d = -W cos(incidence)."""
        geo = geometry or self.geometry()
        w_m = self.subsidence_mm(geo["x"], geo["y"]) / 1000.0
        los = -w_m * np.cos(np.deg2rad(geo["incidenceAngle"].astype(float)))
        t = self.stack.t_years()
        return (t / t[-1])[:, None, None] * los[None]

    def attrs(self) -> dict[str, str]:
        """Root attributes as MintPy's ISCE/topsStack loader writes them for radar-coordinate files (strings)."""
        geo = self.geometry()
        lat, lon = geo["latitude"], geo["longitude"]
        corners = [(0, 0), (0, -1), (-1, 0), (-1, -1)]
        a = {
            "LENGTH": str(self.stack.rows),
            "WIDTH": str(self.stack.cols),
            "PROCESSOR": "isce",
            "PLATFORM": "Sen",
            "WAVELENGTH": repr(SENTINEL1_WAVELENGTH_M),
            "ALOOKS": "3",
            "RLOOKS": "10",
            "AZIMUTH_PIXEL_SIZE": repr(self.azimuth_spacing_m),
            "RANGE_PIXEL_SIZE": repr(self.range_spacing_m),
            "HEADING": repr(self.heading_deg),
            "ORBIT_DIRECTION": "ASCENDING" if abs(self.heading_deg) < 90 else "DESCENDING",
            "ANTENNA_SIDE": "-1",
            "HEIGHT": repr(self.satellite_height_m),
            "EARTH_RADIUS": "6371000.0",
            "STARTING_RANGE": repr(float(geo["slantRangeDistance"][0, 0])),
            "CENTER_LINE_UTC": "36000.0",
            "NCORRLOOKS": str(self.stack.looks),
        }
        for i, (r, c) in enumerate(corners, start=1):
            a[f"LAT_REF{i}"] = repr(float(lat[r, c]))
            a[f"LON_REF{i}"] = repr(float(lon[r, c]))
        return a


def radar_synthetic_stack(scene: RadarSceneSpec | None = None) -> IfgramStack:
    """An in-memory radar-coordinate :class:`IfgramStack` of ``scene`` (no geometry attached; the readers attach
    the geometry file)."""
    scene = scene or RadarSceneSpec()
    spec = scene.stack
    return IfgramStack(
        pairs=spec.pairs,
        wavelength_m=SENTINEL1_WAVELENGTH_M,
        grid=Grid.radar((spec.rows, spec.cols)),
        source=SyntheticSource(spec, truth=scene.truth_los_m()),
        has_coherence=True,
        looks=float(spec.looks),
        origin=f"synthetic-radar(seed={spec.seed})",
        kind="synthetic",
        attrs=scene.attrs(),
    )
