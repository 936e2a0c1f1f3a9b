"""Subsidence areas (沉陷区) as polygons from a deformation raster.

Sign conventions (docs/science.md §0): subsidence W is in **mm, positive downward**. InSAR gives line-of-sight
displacement positive toward the satellite; :func:`subsidence_from_los` converts it under the
vertical-only assumption, W = −d_LOS / cos(incidence). A vertical displacement (positive up, as MintPy
and LiCSBAS write it) becomes W = −d_v (:func:`subsidence_from_vertical`). The conversion is explicit
and named, so nobody divides the wrong way round.

Defaults (:class:`BasinParams`) and why:

* ``threshold_mm = 10`` — the *Coal pillar and pressed-coal mining code* (2017) takes 10 mm of subsidence
  as the start of surface movement; Sentinel-1 small-baseline cumulative displacement has a noise
  floor of a few mm, so 10 mm is also ≈ 2–3 σ above noise.
* ``threshold_rate_mm_per_yr = 10`` — for a velocity map: 10 mm accumulated within a year, ≥ 3 σ of
  typical SBAS velocity precision (1–3 mm/yr).
* ``min_area_ha = 1.0`` and ``min_pixels = 9`` — the effective minimum is the larger of the two. A 3 × 3
  pixel block is the smallest cluster that noise and atmosphere rarely produce by chance (a single
  pixel or a thin line above threshold usually is an unwrapping error or a residual), and the
  smallest real basin over a Shendong longwall panel (300 m wide plus the influence radius on both
  sides) covers ≳ 10 ha, so 1 ha loses none.
* ``min_coherence = 0.7`` — MintPy's default temporal-coherence mask; pixels below it are treated as
  no data.
* ``close_px = 2`` — gaps of up to two pixels in the ring around a decorrelated centre are closed
  before the centre is recognised as enclosed.
* ``relevel = True`` and ``noise_edge = True`` — the map's zero level is the median of the stable ground (not the
  InSAR reference pixel, whose own 3-5 mm of noise shifts every contour), and on a noisy map the edge is drawn at
  the level whose area is unbiased (a per-pixel threshold overestimates the area by sigma^2/2 A''(T)); see
  :mod:`subsidence.census.kernels.levels`. Noise-free maps are unchanged; the result reports both
  (``BasinResult.level``).

Decorrelated centres (the physics limit, ≈ λ/4 of differential motion per interferogram between
neighbouring pixels): no-data or low-coherence pixels enclosed by a basin ring belong to the basin.
Without a model they count in the area but not in the statistics, and the maximum is reported as a
lower bound; with a *filler* (:mod:`subsidence.census.kernels.fusion`: the PIM fitted on the reliable edge
pixels) they are predicted, counted, and marked (``filled_fraction`` and ``filled_geometry``).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from subsidence.census.kernels.grid import Grid
from subsidence.census.kernels.levels import (
    AREA_INTERVAL_Z,
    MapLevel,
    NoiseCovariance,
    StableSample,
    area_sd_pixels,
    fit_noise_covariance,
    gradient_magnitude,
    level_map,
)
from subsidence.geo import m2_to_ha
from subsidence.vocabulary import MovementStage

log = logging.getLogger(__name__)

DAYS_PER_YEAR = 365.25
EIGHT = np.ones((3, 3), dtype=bool)


class CensusInputError(ValueError):
    """Deformation input that cannot give a census (all NaN, wrong shape, implausible incidence ...)."""


# ----------------------------------------------------------------------------------------- conversions
def subsidence_from_los(d_los_mm: np.ndarray, incidence_deg: float | np.ndarray) -> np.ndarray:
    """Subsidence W (mm, positive down) from LOS displacement (mm, positive toward the satellite).

    Vertical-only assumption: d_v = d_LOS / cos(θ), W = −d_v. ``incidence_deg`` is the incidence angle
    in **degrees** (scalar or per-pixel array); values that look like radians are refused.
    """
    inc = np.asarray(incidence_deg, dtype=float)
    finite = inc[np.isfinite(inc)]
    if finite.size == 0:
        raise CensusInputError("incidence angle: no finite value")
    if np.nanmax(finite) <= np.pi / 2 and np.nanmax(finite) < 5.0:
        raise CensusInputError(
            f"incidence angle {float(np.nanmax(finite)):.3f} looks like radians; give degrees (Sentinel-1: 29–46°)"
        )
    if np.any((finite <= 0) | (finite >= 80)):
        raise CensusInputError("incidence angle must be in degrees between 0 and 80 (Sentinel-1: 29–46°)")
    return -np.asarray(d_los_mm, dtype=float) / np.cos(np.deg2rad(inc))


def subsidence_from_vertical(d_v_mm: np.ndarray) -> np.ndarray:
    """Subsidence W (mm, positive down) from vertical displacement (mm, positive up)."""
    return -np.asarray(d_v_mm, dtype=float)


# ----------------------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class BasinParams:
    """Detection parameters; see the module docstring for the justification of each default."""

    threshold_mm: float = 10.0
    threshold_rate_mm_per_yr: float = 10.0
    min_area_ha: float = 1.0
    min_pixels: int = 9
    min_coherence: float = 0.7
    close_px: int = 2
    #: fraction of a basin's pixels that must be in a stage for the basin to take it (most active first)
    stage_min_fraction: float = 0.10
    #: zero level = median of the stable ground (pixels farther than ``stable_margin_px`` from candidate areas)
    relevel: bool = True
    #: edge at the noise-unbiased level (census.levels.unbiased_edge_threshold) when the map is noisy
    noise_edge: bool = True
    stable_margin_px: int = 5
    #: area interval per basin (area_ha_low / area_ha_high, 95 %) from the noise covariance of the stable ground
    #: and the contour-position error sigma / |gradient| (census.levels.area_sd_pixels)
    area_interval: bool = True

    def min_area_for(self, grid: Grid) -> float:
        """Effective minimum area (ha) on this grid: max(min_area_ha, min_pixels × pixel area)."""
        return max(self.min_area_ha, self.min_pixels * grid.pixel_area_ha)

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# ----------------------------------------------------------------------------------------- results
@dataclass
class FillRequest:
    """What a filler gets: one basin's reliable pixels and the decorrelated pixels to predict.

    Coordinates are map metres in the grid CRS; values mm positive down.
    """

    label: int
    grid: Grid
    edge_x: np.ndarray
    edge_y: np.ndarray
    edge_w_mm: np.ndarray
    hole_x: np.ndarray
    hole_y: np.ndarray
    footprint: BaseGeometry


#: a filler returns predicted subsidence (mm) for the hole pixels, or None when it cannot fill this basin; it may
#: return an object with ``values`` (that array) and ``info`` (a dict kept as ``Basin.extra["fusion"]``; with
#: ``info["lower_bound"]`` True the filled maximum is marked as a lower bound), e.g. census.fusion.FillResult
Filler = Callable[[FillRequest], "np.ndarray | None"]
#: a stage function classifies per-pixel series (n_dates, n_pixels) of subsidence mm at dates
StageFn = Callable[[np.ndarray, Sequence[date]], np.ndarray]


@dataclass
class Basin:
    """One detected subsidence area with its statistics (mm positive down; m³; ha; mm/yr)."""

    label: int
    geometry: MultiPolygon
    area_ha: float
    n_pixels: int
    max_subsidence_mm: float
    mean_subsidence_mm: float
    volume_m3: float
    mean_rate_mm_per_yr: float | None
    stage: MovementStage | None
    stage_fractions: dict[str, float]
    first_seen: date | None
    last_seen: date | None
    source: str
    decorrelated_ha: float = 0.0
    filled_fraction: float = 0.0
    filled_geometry: MultiPolygon | None = None
    max_is_lower_bound: bool = False
    peak_xy: tuple[float, float] | None = None
    extra: dict = field(default_factory=dict)
    #: standard deviation (ha) of the area under the map's noise (None when the noise could not be measured)
    area_sd_ha: float | None = None

    @property
    def area_ha_low(self) -> float | None:
        """Lower end of the 95 % area interval (ha): area - 1.96 sd, at least 0."""
        return None if self.area_sd_ha is None else max(0.0, self.area_ha - AREA_INTERVAL_Z * self.area_sd_ha)

    @property
    def area_ha_high(self) -> float | None:
        """Upper end of the 95 % area interval (ha): area + 1.96 sd."""
        return None if self.area_sd_ha is None else self.area_ha + AREA_INTERVAL_Z * self.area_sd_ha

    def properties(self) -> dict:
        """Plain-value attributes for GeoJSON / tables."""
        return {
            "area_ha": round(self.area_ha, 4),
            "area_ha_low": None if self.area_ha_low is None else round(self.area_ha_low, 4),
            "area_ha_high": None if self.area_ha_high is None else round(self.area_ha_high, 4),
            "n_pixels": self.n_pixels,
            "max_subsidence_mm": round(self.max_subsidence_mm, 2),
            "mean_subsidence_mm": round(self.mean_subsidence_mm, 2),
            "volume_m3": round(self.volume_m3, 1),
            "mean_rate_mm_per_yr": None if self.mean_rate_mm_per_yr is None else round(self.mean_rate_mm_per_yr, 2),
            "stability": None if self.stage is None else self.stage.value,
            "stability_zh": None if self.stage is None else self.stage.label("zh"),
            "first_seen": None if self.first_seen is None else self.first_seen.isoformat(),
            "last_seen": None if self.last_seen is None else self.last_seen.isoformat(),
            "source": self.source,
            "decorrelated_ha": round(self.decorrelated_ha, 4),
            "filled_fraction": round(self.filled_fraction, 4),
            "max_is_lower_bound": self.max_is_lower_bound,
        }


@dataclass
class BasinResult:
    """All basins of one raster plus the label raster (0 = none) and the subsidence used (filled)."""

    basins: list[Basin]
    labels: np.ndarray
    subsidence_mm: np.ndarray
    grid: Grid
    params: BasinParams
    min_area_ha: float
    kind: str
    #: zero level, noise and edge threshold of the map (census.levels); None when neither step ran
    level: MapLevel | None = None


# ----------------------------------------------------------------------------------------- kernel
def _polygons_by_label(labels: np.ndarray, grid: Grid) -> dict[int, MultiPolygon]:
    """Polygonise a label raster (rasterio.features.shapes, 8-connected) into one MultiPolygon per label."""
    from rasterio.features import shapes

    parts: dict[int, list[Polygon]] = {}
    for geojson, value in shapes(labels.astype(np.int32), mask=labels > 0, connectivity=8, transform=grid.transform):
        parts.setdefault(int(value), []).append(shape(geojson))
    return {k: _as_multipolygon(shapely.union_all(v)) for k, v in parts.items()}


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    geom = shapely.make_valid(geom)
    polys: list[Polygon] = []
    if isinstance(geom, Polygon):
        polys = [geom]
    elif hasattr(geom, "geoms"):
        for g in geom.geoms:
            if isinstance(g, Polygon):
                polys.append(g)
            elif isinstance(g, MultiPolygon):
                polys.extend(g.geoms)
    return MultiPolygon([p for p in polys if not p.is_empty])


def polygonize_mask(mask: np.ndarray, grid: Grid) -> MultiPolygon:
    """All True pixels of ``mask`` as one MultiPolygon in the grid CRS."""
    if not mask.any():
        return MultiPolygon()
    return _polygons_by_label(mask.astype(np.int32), grid)[1]


def default_stage_fn() -> StageFn:
    """Per-pixel movement stage from the science package (:func:`subsidence.science.stability.classify_series`:
    the *Coal pillar code* criteria — start 10 mm, active > 1.67 mm/d, stable ≤ 30 mm in 6 months)."""
    from subsidence.science.stability import classify_series

    return classify_series


_STAGE_ORDER = [MovementStage.ACTIVE, MovementStage.DECLINING, MovementStage.STABLE, MovementStage.NOT_STARTED]


def aggregate_stage(pixel_stages: np.ndarray, min_fraction: float) -> tuple[MovementStage | None, dict[str, float]]:
    """Basin stage: the most active stage held by at least ``min_fraction`` of its pixels."""
    if pixel_stages.size == 0:
        return None, {}
    values = np.asarray([getattr(s, "value", s) for s in pixel_stages], dtype=object)
    fractions = {s.value: float(np.mean(values == s.value)) for s in _STAGE_ORDER}
    for s in _STAGE_ORDER:
        if fractions[s.value] >= min_fraction:
            return s, fractions
    return max(_STAGE_ORDER, key=lambda s: fractions[s.value]), fractions


def _velocity_mm_per_yr(series: np.ndarray, dates: Sequence[date]) -> np.ndarray:
    """Least-squares linear rate (mm/yr) of each column of ``series`` (n_dates, n_pixels)."""
    t = np.array([d.toordinal() for d in dates], dtype=float) / DAYS_PER_YEAR
    t = t - t.mean()
    ok = np.isfinite(series)
    y = np.where(ok, series, 0.0)
    n = ok.sum(0)
    tm = (ok * t[:, None]).sum(0) / np.maximum(n, 1)
    ym = y.sum(0) / np.maximum(n, 1)
    cov = (ok * (t[:, None] - tm) * (y - ym)).sum(0)
    var = (ok * (t[:, None] - tm) ** 2).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, cov / var, np.nan)


def detect_basins(
    subsidence_mm: np.ndarray | None,
    grid: Grid,
    *,
    params: BasinParams = BasinParams(),
    rate_mm_per_yr: np.ndarray | None = None,
    coherence: np.ndarray | None = None,
    series_mm: np.ndarray | None = None,
    dates: Sequence[date] | None = None,
    observed: tuple[date | None, date | None] | None = None,
    filler: Filler | None = None,
    stage_fn: StageFn | None = None,
    source: str = "remote_sensing",
    progress: Callable[[int, int], None] | None = None,
) -> BasinResult:
    """Detect subsidence areas.

    Give cumulative subsidence ``subsidence_mm`` (mm, positive down; NaN = no data) or, with
    ``subsidence_mm=None``, a subsidence rate ``rate_mm_per_yr`` (mm/yr, positive down). A time series
    ``series_mm`` (n_dates, rows, cols; mm positive down, relative to ``dates[0]``) gives the stage per
    pixel, the mean rate and first/last dates seen; without it ``observed=(start, end)`` dates the raster
    (first = last seen = end; the mean rate is the mean subsidence over the period).
    ``coherence`` (0–1) below ``params.min_coherence`` counts as no data. ``progress(i, n)`` is called
    per basin.
    """
    if subsidence_mm is None and series_mm is not None:
        subsidence_mm = series_mm[-1]
    if subsidence_mm is None and rate_mm_per_yr is None:
        raise CensusInputError("give cumulative subsidence or a subsidence rate")
    kind = "cumulative" if subsidence_mm is not None else "rate"
    value = np.asarray(subsidence_mm if subsidence_mm is not None else rate_mm_per_yr, dtype=float)
    if value.ndim != 2:
        raise CensusInputError(f"expected a 2-D raster, got shape {value.shape}")
    if value.shape != grid.shape:
        raise CensusInputError(f"raster shape {value.shape} differs from its grid {grid.shape}")
    for name, arr in (("rate", rate_mm_per_yr), ("coherence", coherence)):
        if arr is not None and np.shape(arr) != value.shape:
            raise CensusInputError(f"{name} raster shape {np.shape(arr)} differs from the deformation {value.shape}")
    if series_mm is not None:
        if dates is None or len(dates) != series_mm.shape[0]:
            raise CensusInputError("a time series needs one date per layer")
        if series_mm.shape[1:] != value.shape:
            raise CensusInputError(f"time-series shape {series_mm.shape[1:]} differs from the raster {value.shape}")

    valid = np.isfinite(value)
    if coherence is not None:
        valid &= np.nan_to_num(np.asarray(coherence, dtype=float), nan=0.0) >= params.min_coherence
    if not valid.any():
        raise CensusInputError("the deformation raster has no valid pixel (all NaN / no data / low coherence)")
    threshold = params.threshold_mm if kind == "cumulative" else params.threshold_rate_mm_per_yr
    level = None
    stable = None
    edge = threshold
    if params.relevel or params.noise_edge:
        level, stable = level_map(
            value,
            valid,
            threshold,
            relevel=params.relevel,
            noise_edge=params.noise_edge,
            margin_px=params.stable_margin_px,
            min_pixels=params.min_pixels,
        )
        edge = level.edge_threshold
        if level.offset and stable is not None:
            value = value - level.offset
            if series_mm is not None:  # every date has its own reference-pixel offset
                s = np.asarray(series_mm, dtype=float)
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a date with no data on the stable ground
                    per_date = np.nan_to_num(np.nanmedian(s[:, stable], axis=1), nan=0.0)
                series_mm = s - per_date[:, None, None]
            if rate_mm_per_yr is not None and kind == "cumulative":
                r = np.asarray(rate_mm_per_yr, dtype=float)
                if np.isfinite(r[stable]).any():
                    rate_mm_per_yr = r - float(np.nanmedian(r[stable]))
        log.debug(
            "map level: offset %.2f, noise %.2f, edge at %.2f (threshold %.2f)",
            level.offset,
            level.sigma,
            edge,
            threshold,
        )
    above = valid & (np.where(valid, value, -np.inf) >= edge)
    # area intervals: noise covariance of the stable ground, contour-position error along each basin's edge
    cov = grad = sample = None
    if params.area_interval and level is not None and stable is not None and np.isfinite(level.sigma):
        # a noise-free map (the levels module's criterion) has an exact area: what is left on its "stable ground"
        # is the basins' own tails, not noise
        noise_free = level.sigma < 0.05 * abs(threshold)
        cov = NoiseCovariance(0.0, 0.0, 1.0) if noise_free else fit_noise_covariance(value, stable)
        if cov is not None:
            level = dataclasses.replace(level, covariance=cov)
            grad = gradient_magnitude(value, edge)
            sample = StableSample.of(stable, cov) if params.relevel else None

    # Decorrelated centres: invalid pixels enclosed by a (closed) ring of above-threshold pixels.
    closed = ndimage.binary_closing(above, structure=EIGHT, iterations=params.close_px) if params.close_px else above
    filled_shape = ndimage.binary_fill_holes(closed | above)
    enclosed_invalid = filled_shape & ~valid
    region_mask = above | enclosed_invalid
    comp, n_comp = ndimage.label(region_mask, structure=EIGHT)

    min_area = params.min_area_for(grid)
    pix_ha = grid.pixel_area_ha
    counts = np.bincount(comp.ravel(), minlength=n_comp + 1)
    above_counts = np.bincount(comp.ravel(), weights=above.ravel(), minlength=n_comp + 1)
    keep = np.zeros(n_comp + 1, dtype=bool)
    keep[1:] = (counts[1:] * pix_ha >= min_area - 1e-9) & (above_counts[1:] > 0)
    relabel = np.zeros(n_comp + 1, dtype=np.int32)
    relabel[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    labels = relabel[comp]
    n = int(keep.sum())
    log.debug("%d candidate areas ≥ %.2f ha (%d components before the minimum area)", n, min_area, n_comp)

    polygons = _polygons_by_label(labels, grid) if n else {}
    work = np.where(valid, value, np.nan)
    rows_all, cols_all = np.nonzero(labels)
    lab_all = labels[rows_all, cols_all]
    order = np.argsort(lab_all, kind="stable")
    rows_all, cols_all, lab_all = rows_all[order], cols_all[order], lab_all[order]
    bounds = np.searchsorted(lab_all, np.arange(1, n + 2))
    stage_fn = stage_fn or (default_stage_fn() if series_mm is not None else None)
    basins: list[Basin] = []
    for k in range(1, n + 1):
        rr, cc = rows_all[bounds[k - 1] : bounds[k]], cols_all[bounds[k - 1] : bounds[k]]
        geom = polygons[k]
        holes = ~valid[rr, cc]
        n_holes = int(holes.sum())
        filled = 0
        fill_info: dict = {}
        if n_holes and filler is not None:
            filled = _fill_basin(k, rr, cc, holes, work, valid, labels, grid, geom, filler, fill_info)
        vals = work[rr, cc]
        good = np.isfinite(vals)
        v = vals[good]
        wm = float(np.max(v)) if v.size else float("nan")
        peak = None
        if v.size:
            i = int(np.flatnonzero(good)[np.argmax(v)])
            px, py = grid.xy(rr[i], cc[i])
            peak = (float(px), float(py))
        basin = Basin(
            label=k,
            geometry=geom,
            area_ha=m2_to_ha(geom.area),
            n_pixels=int(rr.size),
            max_subsidence_mm=wm,
            mean_subsidence_mm=float(np.mean(v)) if v.size else float("nan"),
            volume_m3=float(np.sum(v) / 1000.0 * grid.pixel_area_m2) if kind == "cumulative" else float("nan"),
            mean_rate_mm_per_yr=None,
            stage=None,
            stage_fractions={},
            # one raster: the area is seen in the product dated by its end date (the series refines this below)
            first_seen=observed[1] if observed else None,
            last_seen=observed[1] if observed else None,
            source=source,
            decorrelated_ha=n_holes * pix_ha,
            filled_fraction=filled / rr.size,
            max_is_lower_bound=n_holes > filled or bool(fill_info.get("lower_bound")),
            peak_xy=peak,
        )
        if cov is not None and grad is not None:
            r0, c0 = int(rr.min()), int(cc.min())
            crop = np.zeros((int(rr.max()) - r0 + 1, int(cc.max()) - c0 + 1), dtype=bool)
            crop[rr - r0, cc - c0] = True
            px_m = float(np.sqrt(grid.pixel_area_m2))
            sd_px = area_sd_pixels(grad, crop, cov, float(geom.length) / px_m, sample, origin=(r0, c0))
            basin.area_sd_ha = sd_px * pix_ha
        if fill_info:
            basin.extra["fusion"] = fill_info
        if filled:
            fmask = np.zeros(grid.shape, dtype=bool)
            fmask[rr[holes], cc[holes]] = np.isfinite(work[rr[holes], cc[holes]])
            basin.filled_geometry = polygonize_mask(fmask, grid)
        rate_px = None
        if kind == "rate":
            basin.mean_rate_mm_per_yr = basin.mean_subsidence_mm
            basin.extra["max_rate_mm_per_yr"] = wm
            rate_px = vals
        elif rate_mm_per_yr is not None:
            r = np.asarray(rate_mm_per_yr, dtype=float)[rr, cc]
            basin.mean_rate_mm_per_yr = float(np.nanmean(r)) if np.isfinite(r).any() else None
            rate_px = r
        if series_mm is not None:
            assert dates is not None  # checked on entry: a time series comes with one date per layer
            _series_stats(basin, series_mm[:, rr, cc][:, ~holes], dates, params, stage_fn)
        elif rate_px is not None and (stage_fn or _science_stage_available()):
            _rate_stage(
                basin, rate_px, vals if kind == "cumulative" else None, observed, params, stage_fn or default_stage_fn()
            )
        elif (
            kind == "cumulative"
            and basin.mean_rate_mm_per_yr is None
            and observed
            and observed[0]
            and observed[1]
            and observed[1] > observed[0]
            and v.size
        ):
            # one cumulative raster over a known period: the average rate over that period
            basin.mean_rate_mm_per_yr = basin.mean_subsidence_mm / ((observed[1] - observed[0]).days / DAYS_PER_YEAR)
        basins.append(basin)
        if progress is not None:
            progress(k, n)
    return BasinResult(
        basins=basins,
        labels=labels,
        subsidence_mm=work,
        grid=grid,
        params=params,
        min_area_ha=min_area,
        kind=kind,
        level=level,
    )


def _series_stats(
    basin: Basin, s: np.ndarray, dates: Sequence[date], params: BasinParams, stage_fn: StageFn | None
) -> None:
    """Stage, mean rate and first/last date seen from the basin's reliable pixel series."""
    if s.shape[1] == 0:
        return
    if basin.mean_rate_mm_per_yr is None:
        vel = _velocity_mm_per_yr(s, dates)
        basin.mean_rate_mm_per_yr = float(np.nanmean(vel)) if np.isfinite(vel).any() else None
    n_above = (np.nan_to_num(s, nan=-np.inf) >= params.threshold_mm).sum(axis=1)
    seen = np.flatnonzero(n_above >= min(params.min_pixels, s.shape[1]))
    if seen.size:
        basin.first_seen, basin.last_seen = dates[int(seen[0])], dates[int(seen[-1])]
    if stage_fn is not None:
        ok = np.isfinite(s).all(axis=0)
        if ok.any():
            basin.stage, basin.stage_fractions = aggregate_stage(
                np.asarray(stage_fn(s[:, ok], dates)), params.stage_min_fraction
            )
            basin.extra["stage_basis"] = "series"


def _science_stage_available() -> bool:
    try:
        default_stage_fn()
        return True
    except Exception:
        return False


def _rate_stage(
    basin: Basin,
    rate: np.ndarray,
    cum: np.ndarray | None,
    observed: tuple[date | None, date | None] | None,
    params: BasinParams,
    stage_fn: StageFn,
) -> None:
    """Stage from a velocity map under a constant-rate assumption: the code's criteria applied to the linear
    series W(t) = W_now − v·(t_now − t) over the last six months (W_now: the cumulative value, or for a
    velocity-only product the threshold plus six months of motion). Marked ``stage_basis = "rate"``."""
    ok = np.isfinite(rate) & (np.isfinite(cum) if cum is not None else True)
    if not ok.any():
        return
    v = rate[ok] / DAYS_PER_YEAR  # mm/d
    end = observed[1] if observed and observed[1] else date.today()
    lags = np.array([183.0, 30.0, 0.0])
    dates = [end - timedelta(days=int(d)) for d in lags]
    w_now = cum[ok] if cum is not None else params.threshold_mm + v * 183.0
    series = w_now[None, :] - v[None, :] * lags[:, None]
    basin.stage, basin.stage_fractions = aggregate_stage(np.asarray(stage_fn(series, dates)), params.stage_min_fraction)
    basin.extra["stage_basis"] = "rate"


def _fill_basin(
    k: int,
    rr: np.ndarray,
    cc: np.ndarray,
    holes: np.ndarray,
    work: np.ndarray,
    valid: np.ndarray,
    labels: np.ndarray,
    grid: Grid,
    geom: BaseGeometry,
    filler: Filler,
    info: dict | None = None,
) -> int:
    """Ask the filler for the hole pixels of basin ``k``; writes predictions into ``work`` and the filler's
    ``info`` (when it returns one) into ``info``. Returns pixels filled."""
    r0, r1 = max(rr.min() - 10, 0), min(rr.max() + 11, grid.shape[0])
    c0, c1 = max(cc.min() - 10, 0), min(cc.max() + 11, grid.shape[1])
    sub = labels[r0:r1, c0:c1] == k
    ring = ndimage.binary_dilation(sub, structure=EIGHT, iterations=10) & valid[r0:r1, c0:c1]
    er, ec = np.nonzero(ring)
    er, ec = er + r0, ec + c0
    ex, ey = grid.xy(er, ec)
    hr, hc = rr[holes], cc[holes]
    hx, hy = grid.xy(hr, hc)
    req = FillRequest(
        label=k, grid=grid, edge_x=ex, edge_y=ey, edge_w_mm=work[er, ec], hole_x=hx, hole_y=hy, footprint=geom
    )
    try:
        pred = filler(req)
    except Exception as exc:  # a fit that fails leaves the hole unfilled, never the census broken
        log.warning("area %d: centre not filled (%s)", k, exc)
        return 0
    if pred is None:
        return 0
    if hasattr(pred, "values") and hasattr(pred, "info"):
        if info is not None:
            info.update(pred.info or {})
        pred = pred.values
    pred = np.asarray(pred, dtype=float)
    if pred.shape != hr.shape:
        raise ValueError(f"filler returned {pred.shape} values for {hr.shape} hole pixels")
    work[hr, hc] = pred
    return int(np.isfinite(pred).sum())
