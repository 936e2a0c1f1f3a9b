"""Building damage grade (brick-concrete, I..IV) from tilt, curvature and horizontal strain.

The grade is the highest reached by any indicator (docs/science.md §3, *Coal pillar and pressed-coal mining
code* 2017 [verify]); a value exactly on a limit belongs to the lower grade (``<=`` in the table)::

    grade  strain eps (mm/m)  curvature K (1e-3/m)  tilt i (mm/m)
    I      <= 2.0             <= 0.2                <= 3.0
    II     <= 4.0             <= 0.4                <= 6.0
    III    <= 6.0             <= 0.6                <= 10.0
    IV     >  6.0             >  0.6                >  10.0

Magnitudes are used (|eps|, |K|, |i|): compression and extension, hogging and sagging count alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

GRADE_LABELS = {
    1: ("I", "I级 极轻微/轻微损坏 (不修或简单维修)", "very slight/slight: no or simple repair"),
    2: ("II", "II级 轻度损坏 (小修)", "light: minor repair"),
    3: ("III", "III级 中度损坏 (中修)", "moderate: medium repair"),
    4: ("IV", "IV级 严重损坏 (大修、重建)", "severe: major repair or rebuild"),
}
INDICATORS = ("tilt", "curvature", "strain")


@dataclass(frozen=True)
class DamageThresholds:
    """Upper limits of grades I, II, III per indicator. Source: docs/science.md §3 (code 2017) [verify]."""

    tilt_mm_per_m: tuple[float, float, float] = (3.0, 6.0, 10.0)
    curvature_1e3_per_m: tuple[float, float, float] = (0.2, 0.4, 0.6)
    strain_mm_per_m: tuple[float, float, float] = (2.0, 4.0, 6.0)

    def __post_init__(self) -> None:
        for name in ("tilt_mm_per_m", "curvature_1e3_per_m", "strain_mm_per_m"):
            t = getattr(self, name)
            if len(t) != 3 or not all(a > 0 for a in t) or not (t[0] < t[1] < t[2]):
                raise ValueError(f"damage thresholds {name}={t!r}: need three increasing positive limits")


def indicator_grade(values: Any, limits: Sequence[float]) -> np.ndarray:
    """Grade 1..4 of one indicator: 1 + number of limits that |value| exceeds (NaN -> 0 = unknown)."""
    v = np.abs(np.asarray(values, dtype=float))
    g = (1 + np.searchsorted(np.asarray(limits, dtype=float), v, side="left")).astype(np.int8)
    return np.where(np.isnan(v), 0, g).astype(np.int8)


def grade(
    tilt_mm_per_m: Any, curvature_1e3_per_m: Any, strain_mm_per_m: Any, thresholds: DamageThresholds | None = None
) -> np.ndarray:
    """Damage grade 1..4 (I..IV) per element: the highest grade reached by any indicator."""
    t = thresholds or DamageThresholds()
    return np.maximum(
        np.maximum(
            indicator_grade(tilt_mm_per_m, t.tilt_mm_per_m), indicator_grade(curvature_1e3_per_m, t.curvature_1e3_per_m)
        ),
        indicator_grade(strain_mm_per_m, t.strain_mm_per_m),
    )


@dataclass
class BuildingDamage:
    """Per building: maxima over the footprint (|i| mm/m, |K| 1e-3/m, |eps| mm/m), grade and governing indicator."""

    tilt_mm_per_m: np.ndarray
    curvature_1e3_per_m: np.ndarray
    strain_mm_per_m: np.ndarray
    grade: np.ndarray
    governing: np.ndarray  # indicator name with the highest grade (object array)
    n_cells: np.ndarray


def _inverse_affine(transform: Sequence[float]) -> np.ndarray:
    a, b, c, d, e, f = (float(v) for v in transform[:6])
    m = np.array([[a, b, c], [d, e, f], [0.0, 0.0, 1.0]])
    return np.linalg.inv(m)


def footprint_damage(
    tilt: np.ndarray,
    curvature: np.ndarray,
    strain: np.ndarray,
    transform: Sequence[float],
    footprints: Iterable[Any],
    thresholds: DamageThresholds | None = None,
) -> BuildingDamage:
    """Maxima of |tilt|, |curvature|, |strain| over each footprint and the resulting grade.

    tilt/curvature/strain: 2-D rasters (rows, cols) in mm/m, 1e-3/m, mm/m (e.g. the ``*_max_*`` bands of a
    prediction); transform: affine (a, b, c, d, e, f) with x = a col + b row + c, y = d col + e row + f
    (rasterio ``Affine`` order); footprints: shapely polygons in the raster's CRS. Cells whose centre lies
    in the footprint count, plus the cells under its vertices and centroid (buildings smaller than a cell).
    A footprint entirely outside the raster gets NaN maxima and grade 0.
    """
    import shapely

    rows, cols = tilt.shape
    inv = _inverse_affine(transform)
    a, b, c, d, e, f = (float(v) for v in transform[:6])
    tmax: list[float] = []
    kmax: list[float] = []
    smax: list[float] = []
    n: list[int] = []
    for fp in footprints:
        if fp is None or fp.is_empty:
            for acc in (tmax, kmax, smax):
                acc.append(np.nan)
            n.append(0)
            continue
        minx, miny, maxx, maxy = fp.bounds
        corners = np.array([[minx, miny, 1], [minx, maxy, 1], [maxx, miny, 1], [maxx, maxy, 1]]).T
        cr = inv @ corners
        c0 = int(max(0, np.floor(cr[0].min())))
        c1 = int(min(cols - 1, np.ceil(cr[0].max())))
        r0 = int(max(0, np.floor(cr[1].min())))
        r1 = int(min(rows - 1, np.ceil(cr[1].max())))
        picks_r: list[np.ndarray] = []
        picks_c: list[np.ndarray] = []
        if c0 <= c1 and r0 <= r1:
            cc, rr = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1))
            xs = a * (cc + 0.5) + b * (rr + 0.5) + c
            ys = d * (cc + 0.5) + e * (rr + 0.5) + f
            inside = shapely.contains_xy(fp, xs, ys)
            picks_r.append(rr[inside])
            picks_c.append(cc[inside])
        pts = np.asarray(shapely.get_coordinates(fp))
        pts = np.vstack([pts, np.asarray(fp.centroid.coords)])
        pc = inv @ np.vstack([pts.T, np.ones(len(pts))])
        ci, ri = np.floor(pc[0]).astype(int), np.floor(pc[1]).astype(int)
        ok = (ci >= 0) & (ci < cols) & (ri >= 0) & (ri < rows)
        picks_r.append(ri[ok])
        picks_c.append(ci[ok])
        rr_all = np.concatenate(picks_r)
        cc_all = np.concatenate(picks_c)
        if len(rr_all) == 0:
            for acc in (tmax, kmax, smax):
                acc.append(np.nan)
            n.append(0)
            continue
        cells = np.unique(np.stack([rr_all, cc_all]), axis=1)
        n.append(cells.shape[1])
        tmax.append(np.nanmax(np.abs(tilt[cells[0], cells[1]])))
        kmax.append(np.nanmax(np.abs(curvature[cells[0], cells[1]])))
        smax.append(np.nanmax(np.abs(strain[cells[0], cells[1]])))
    t = np.array(tmax, dtype=float)
    k = np.array(kmax, dtype=float)
    s = np.array(smax, dtype=float)
    th = thresholds or DamageThresholds()
    gs = np.stack(
        [
            indicator_grade(t, th.tilt_mm_per_m),
            indicator_grade(k, th.curvature_1e3_per_m),
            indicator_grade(s, th.strain_mm_per_m),
        ]
    )
    g = gs.max(axis=0) if gs.size else np.zeros(0, dtype=np.int8)
    gov = (
        np.array([INDICATORS[i] if gg > 0 else "" for i, gg in zip(np.argmax(gs, axis=0), g)], dtype=object)
        if gs.size
        else np.zeros(0, dtype=object)
    )
    return BuildingDamage(t, k, s, g, gov, np.array(n))
