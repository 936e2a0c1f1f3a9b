"""Remote-sensing check of a reported treated parcel (pure: arrays and geometries in, numbers out).

A parcel counts as *verified by remote sensing* when (a) enough clear pixels cover it, (b) the vegetation
recovered — mean NDVI after treatment at least ``min_ndvi_after`` and at least ``min_ndvi_gain`` above the
NDVI before — for land types that are meant to carry vegetation, and (c) the ground under it is stable:
at most ``1 − min_stable_fraction`` of its area lies in subsidence areas whose movement stage is still active
or declining. The defaults follow the census' vegetation rules (0.20 is the bare-soil / sparse-vegetation
boundary; a gain of 0.05 is above the season-matched noise of Sentinel-2 L2A NDVI) and the code's stability
criterion (ground counts as stable when the census says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rasterio.features import geometry_mask
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from subsidence.census.kernels.grid import Grid

VEGETATED_LAND_TYPES = frozenset({"cropland", "forest", "grassland"})


@dataclass(frozen=True)
class VerificationThresholds:
    min_ndvi_after: float = 0.20
    min_ndvi_gain: float = 0.05
    min_valid_fraction: float = 0.6
    min_stable_fraction: float = 0.9


@dataclass(frozen=True)
class ParcelEvidence:
    """What remote sensing says about one parcel. NDVI values are means over clear pixels (NaN if none)."""

    ndvi_before: float
    ndvi_after: float
    valid_fraction: float  #: share of the parcel's pixels clear on both dates, 0–1
    n_pixels: int
    stable_fraction: float  #: share of the parcel's area outside unstable subsidence areas, 0–1


@dataclass(frozen=True)
class Verdict:
    verified: bool
    reasons: list[str] = field(default_factory=list)  #: why not (Chinese first, English after " / ")


def zonal_ndvi(
    parcel: BaseGeometry, ndvi_before: np.ndarray, ndvi_after: np.ndarray, grid: Grid
) -> tuple[float, float, float, int]:
    """Mean NDVI before and after over the pixels whose centres fall in ``parcel`` (same CRS as ``grid``).

    Returns (mean_before, mean_after, valid_fraction, n_pixels_in_parcel).
    """
    if ndvi_before.shape != grid.shape or ndvi_after.shape != grid.shape:
        raise ValueError(f"NDVI arrays {ndvi_before.shape}/{ndvi_after.shape} do not match the grid {grid.shape}")
    inside = geometry_mask([parcel], out_shape=grid.shape, transform=grid.transform, invert=True)
    n = int(inside.sum())
    if n == 0:
        return float("nan"), float("nan"), 0.0, 0
    b, a = ndvi_before[inside], ndvi_after[inside]
    clear = np.isfinite(b) & np.isfinite(a)
    if not clear.any():
        return float("nan"), float("nan"), 0.0, n
    return float(b[clear].mean()), float(a[clear].mean()), float(clear.sum() / n), n


def stable_fraction(parcel: BaseGeometry, unstable_areas: list[BaseGeometry]) -> float:
    """Share (0–1) of ``parcel``'s area outside the given unstable subsidence areas."""
    if parcel.is_empty or parcel.area == 0:
        return 0.0
    if not unstable_areas:
        return 1.0
    overlap = parcel.intersection(unary_union(unstable_areas)).area
    return float(max(0.0, 1.0 - overlap / parcel.area))


def judge(
    evidence: ParcelEvidence, land_type: str, thresholds: VerificationThresholds = VerificationThresholds()
) -> Verdict:
    """Verified, or not with every reason."""
    t = thresholds
    reasons: list[str] = []
    needs_vegetation = land_type in VEGETATED_LAND_TYPES
    if needs_vegetation:
        if evidence.valid_fraction < t.min_valid_fraction:
            reasons.append(
                f"有效像元比例 {evidence.valid_fraction:.0%} 低于 {t.min_valid_fraction:.0%}，无法判定 / "
                f"too few clear pixels ({evidence.valid_fraction:.0%} < {t.min_valid_fraction:.0%})"
            )
        else:
            if not evidence.ndvi_after >= t.min_ndvi_after:
                reasons.append(
                    f"治理后NDVI均值 {evidence.ndvi_after:.2f} 低于 {t.min_ndvi_after:.2f}，植被未恢复 / "
                    f"vegetation not recovered (NDVI {evidence.ndvi_after:.2f} < {t.min_ndvi_after:.2f})"
                )
            gain = evidence.ndvi_after - evidence.ndvi_before
            if not gain >= t.min_ndvi_gain:
                reasons.append(
                    f"NDVI增幅 {gain:+.2f} 小于 {t.min_ndvi_gain:+.2f} / NDVI gain {gain:+.2f} below "
                    f"{t.min_ndvi_gain:+.2f}"
                )
    if evidence.stable_fraction < t.min_stable_fraction:
        reasons.append(
            f"地块 {1 - evidence.stable_fraction:.0%} 位于未稳定沉陷区 / {1 - evidence.stable_fraction:.0%} "
            "of the parcel lies on ground that is not yet stable"
        )
    return Verdict(verified=not reasons, reasons=reasons)
