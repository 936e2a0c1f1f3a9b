"""Vegetation change (task 3, 植被恢复) from red/NIR reflectance: NDVI, its change, loss and recovery polygons.

Reflectance handling: Sentinel-2 L2A stores surface reflectance as integers, ρ = (DN + offset) × scale with
scale 1/10000 and, from processing baseline 04.00 (25 January 2022), ``BOA_ADD_OFFSET`` = −1000. Give
``scale``/``offset`` explicitly or let the reader take them from the file's tags (:mod:`subsidence.census.kernels.inputs`).
Masked (NaN) are: nodata, cloud/shadow pixels of an optional mask, and reflectances outside [0, 1.2]
(saturation, bad offsets).

Defaults (:class:`VegetationParams`) and why:

* ``loss_delta = -0.10`` / ``recovery_delta = +0.10`` — an NDVI change of 0.1 exceeds the inter-annual
  variability of stable Mu Us grassland at the same season (≈ 0.03–0.06) and the sensor/atmospheric
  noise of L2A products; compare images of the same season (phenology).
* ``vegetated_ndvi = 0.20`` — the usual bare-soil / sparse-vegetation boundary: loss needs vegetation before,
  recovery needs vegetation after.
* ``min_area_ha = 0.5`` — 50 Sentinel-2 10 m pixels; smaller patches are dominated by mixed edge pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from subsidence.census.kernels.basins import EIGHT, _polygons_by_label
from subsidence.census.kernels.grid import Grid
from subsidence.geo import m2_to_ha


class VegetationInputError(ValueError):
    """Red/NIR input unusable for NDVI (shapes differ, nothing valid ...)."""


def reflectance(
    dn: np.ndarray,
    *,
    scale: float = 1e-4,
    offset: float = 0.0,
    nodata: float | None = None,
    valid_range: tuple[float, float] = (0.0, 1.2),
) -> np.ndarray:
    """Surface reflectance ρ = (DN + offset) × scale, NaN where nodata or outside ``valid_range``."""
    a = np.asarray(dn, dtype=float)
    bad = ~np.isfinite(a)
    if nodata is not None and np.isfinite(nodata):
        bad |= a == nodata
    r = (a + offset) * scale
    bad |= (r < valid_range[0]) | (r > valid_range[1])
    return np.where(bad, np.nan, r)


#: Sentinel-2 L2A scene classification (SCL) classes masked for NDVI: no data, saturated/defective, dark/shadow,
#: cloud shadow, cloud medium/high probability, thin cirrus, snow
SCL_MASKED = (0, 1, 2, 3, 8, 9, 10, 11)


def cloud_mask(mask: np.ndarray, *, kind: str = "binary") -> np.ndarray:
    """True where a pixel must be masked: ``kind="binary"`` (non-zero = cloud) or ``"scl"`` (Sentinel-2 SCL band)."""
    m = np.asarray(mask)
    if kind == "scl":
        return np.isin(np.nan_to_num(m, nan=0).astype(int), SCL_MASKED)
    if kind != "binary":
        raise VegetationInputError(f"mask kind {kind!r}: use binary or scl")
    return np.nan_to_num(m, nan=1) != 0


def ndvi(red: np.ndarray, nir: np.ndarray, cloud_mask: np.ndarray | None = None) -> np.ndarray:
    """NDVI = (NIR − red)/(NIR + red) from reflectances; NaN where either is NaN, the sum is 0, or cloud."""
    red = np.asarray(red, dtype=float)
    nir = np.asarray(nir, dtype=float)
    if red.shape != nir.shape:
        raise VegetationInputError(f"red {red.shape} and NIR {nir.shape} have different shapes")
    with np.errstate(invalid="ignore", divide="ignore"):
        s = nir + red
        v = np.where(s > 0, (nir - red) / s, np.nan)
    if cloud_mask is not None:
        v = np.where(np.asarray(cloud_mask, dtype=bool), np.nan, v)
    return np.clip(v, -1.0, 1.0)


@dataclass(frozen=True)
class VegetationParams:
    loss_delta: float = -0.10
    recovery_delta: float = 0.10
    vegetated_ndvi: float = 0.20
    min_area_ha: float = 0.5


@dataclass
class ChangePatch:
    """One polygon of vegetation loss or recovery (geometry in the grid CRS)."""

    kind: str  # "loss" | "recovery"
    geometry: MultiPolygon
    area_ha: float
    mean_delta_ndvi: float
    mean_ndvi_before: float
    mean_ndvi_after: float
    extra: dict = field(default_factory=dict)

    def properties(self) -> dict:
        return {
            "kind": self.kind,
            "kind_zh": "植被退化" if self.kind == "loss" else "植被恢复",
            "area_ha": round(self.area_ha, 4),
            "mean_delta_ndvi": round(self.mean_delta_ndvi, 4),
            "mean_ndvi_before": round(self.mean_ndvi_before, 4),
            "mean_ndvi_after": round(self.mean_ndvi_after, 4),
            **self.extra,
        }


@dataclass
class VegetationChangeResult:
    delta: np.ndarray
    patches: list[ChangePatch]
    grid: Grid
    params: VegetationParams
    valid_fraction: float
    #: caveats of the inputs (e.g. a possibly missing Sentinel-2 BOA_ADD_OFFSET), for the report
    notes: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[ChangePatch]:
        return [p for p in self.patches if p.kind == kind]


def vegetation_change(
    ndvi_before: np.ndarray,
    ndvi_after: np.ndarray,
    grid: Grid,
    *,
    params: VegetationParams = VegetationParams(),
    within: BaseGeometry | None = None,
    notes: list[str] | tuple[str, ...] = (),
) -> VegetationChangeResult:
    """Loss and recovery polygons between two NDVI rasters on the same grid (``within``: e.g. the goaf;
    ``notes``: caveats of the inputs, carried into the result)."""
    a, b = np.asarray(ndvi_before, dtype=float), np.asarray(ndvi_after, dtype=float)
    if a.shape != b.shape or a.shape != grid.shape:
        raise VegetationInputError(f"NDVI rasters {a.shape} / {b.shape} are not on the grid {grid.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        raise VegetationInputError("no pixel is valid on both dates (all nodata or cloud)")
    if within is not None:
        from rasterio.features import geometry_mask

        inside = (
            ~geometry_mask([within], out_shape=grid.shape, transform=grid.transform, all_touched=False)
            if not within.is_empty
            else np.zeros(grid.shape, dtype=bool)
        )
        ok &= inside
    d = np.where(ok, b - a, np.nan)
    loss = ok & (d <= params.loss_delta) & (a >= params.vegetated_ndvi)
    rec = ok & (d >= params.recovery_delta) & (b >= params.vegetated_ndvi)
    min_px = params.min_area_ha / grid.pixel_area_ha
    patches: list[ChangePatch] = []
    for kind, mask in (("loss", loss), ("recovery", rec)):
        lab, n = ndimage.label(mask, structure=EIGHT)
        if n == 0:
            continue
        counts = np.bincount(lab.ravel(), minlength=n + 1)
        keep = np.zeros(n + 1, dtype=bool)
        keep[1:] = counts[1:] >= min_px - 1e-9
        relabel = np.zeros(n + 1, dtype=np.int32)
        relabel[keep] = np.arange(1, int(keep.sum()) + 1)
        lab = relabel[lab]
        m = int(keep.sum())
        if m == 0:
            continue
        polys = _polygons_by_label(lab, grid)
        idx = lab.ravel()
        sums = {
            name: np.bincount(idx, weights=np.nan_to_num(arr.ravel()), minlength=m + 1)
            for name, arr in (("d", d), ("a", a), ("b", b))
        }
        cnt = np.bincount(idx, minlength=m + 1)
        for k in range(1, m + 1):
            g = polys[k]
            patches.append(
                ChangePatch(
                    kind=kind,
                    geometry=g,
                    area_ha=m2_to_ha(g.area),
                    mean_delta_ndvi=sums["d"][k] / cnt[k],
                    mean_ndvi_before=sums["a"][k] / cnt[k],
                    mean_ndvi_after=sums["b"][k] / cnt[k],
                )
            )
    return VegetationChangeResult(
        delta=d, patches=patches, grid=grid, params=params, valid_fraction=float(ok.mean()), notes=list(notes)
    )


def intersect_patches(patches: list[ChangePatch], region: BaseGeometry | None) -> float:
    """Total area (ha) of the patches inside ``region`` (e.g. loss over goaf)."""
    if region is None or region.is_empty or not patches:
        return 0.0
    return m2_to_ha(shapely.intersection(shapely.union_all([p.geometry for p in patches]), region).area)
