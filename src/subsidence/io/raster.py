"""GeoTIFF in and out: multi-band rasters with named bands, units, CRS and transform.

Generic (used by prediction, InSAR products and the census): bands are named by their description
(e.g. ``subsidence_mm``), each carries a ``units`` value and optional tags; the CRS is always written and, on
reading, checked: a raster whose values are lengths and areas must be in a projected (metre) CRS, so
``require_projected=True`` refuses a geographic (degree) CRS with a message that names the file and the fix.
Writes are atomic (temporary file, then rename): a failed write leaves no partial file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from subsidence.io.files import atomic_path

log = logging.getLogger(__name__)


class RasterError(ValueError):
    """A raster that cannot be read or written as asked; the message names the file and the fix."""


@dataclass
class RasterData:
    """Bands (n_bands, rows, cols), affine transform (rasterio ``Affine``), CRS (pyproj), band names/units."""

    array: np.ndarray
    transform: Any
    crs: Any
    names: list[str]
    units: list[str]
    nodata: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    band_tags: list[dict[str, str]] = field(default_factory=list)
    path: Path | None = None

    def band(self, name: str) -> np.ndarray:
        """The band whose description is ``name`` (nodata replaced by NaN for float bands)."""
        if name not in self.names:
            raise RasterError(f"{self.path or 'raster'}: no band named {name!r}; bands: {', '.join(self.names)}")
        return self.array[self.names.index(name)]

    @property
    def shape(self) -> tuple[int, int]:
        return self.array.shape[1], self.array.shape[2]

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (cols,) and y (rows,) of a north-up raster."""
        return axes_from_transform(self.transform, self.shape[1], self.shape[0])


def transform_from_axes(x: Sequence[float], y: Sequence[float]) -> Any:
    """Affine transform of a north-up grid from its cell-centre axes (x ascending, y descending, regular)."""
    from rasterio.transform import Affine

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    dx = float(x[1] - x[0]) if len(x) > 1 else 1.0
    dy = float(y[1] - y[0]) if len(y) > 1 else -dx
    if dx <= 0 or dy >= 0:
        raise RasterError("grid axes must have x ascending and y descending (north-up)")
    if len(x) > 2 and not np.allclose(np.diff(x), dx, rtol=1e-9, atol=1e-9 * abs(dx)):
        raise RasterError("x axis is not regular")
    if len(y) > 2 and not np.allclose(np.diff(y), dy, rtol=1e-9, atol=1e-9 * abs(dy)):
        raise RasterError("y axis is not regular")
    return Affine(dx, 0.0, x[0] - dx / 2, 0.0, dy, y[0] - dy / 2)


def axes_from_transform(transform: Any, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre x (width,) and y (height,) of a north-up transform; refuses rotated rasters."""
    a, b, c, d, e, f = (float(v) for v in tuple(transform)[:6])
    if b != 0.0 or d != 0.0:
        raise RasterError("rotated rasters are not supported here; warp to a north-up grid first (gdalwarp)")
    return c + a * (np.arange(width) + 0.5), f + e * (np.arange(height) + 0.5)


def require_projected(crs: Any, source: str) -> Any:
    """Return the pyproj CRS if it is projected (metres); else raise :class:`RasterError`."""
    from pyproj import CRS

    if crs is None:
        raise RasterError(f"{source}: no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4546 {source})")
    c = CRS.from_user_input(crs)
    if not c.is_projected:
        raise RasterError(
            f"{source}: CRS {c.name!r} is geographic (degrees); distances and areas need a projected "
            "metric CRS: reproject first (e.g. gdalwarp -t_srs EPSG:4546)"
        )
    unit = (c.axis_info[0].unit_name or "").lower() if c.axis_info else ""
    if unit and unit not in ("metre", "meter", "m"):
        raise RasterError(f"{source}: CRS {c.name!r} has axis unit {unit!r}; a metre-based CRS is required")
    return c


def write_geotiff(
    path: str | Path,
    bands: Mapping[str, np.ndarray],
    *,
    transform: Any,
    crs: Any,
    units: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    nodata: float | None = None,
    dtype: str = "float32",
    tags: Mapping[str, Any] | None = None,
    compress: str = "deflate",
) -> Path:
    """Write ``bands`` (name -> 2-D array, all one shape) as one multi-band GeoTIFF.

    Each band's description is its name (e.g. ``subsidence_mm``: component and unit), its ``units`` metadata
    the unit, and ``long_name`` tag the human description. ``tags`` go to the dataset. Float bands default to
    NaN nodata. The file appears atomically.
    """
    import rasterio
    from pyproj import CRS

    path = Path(path)
    if not bands:
        raise RasterError(f"{path}: no bands to write")
    arrays = list(bands.values())
    shape = arrays[0].shape
    if any(a.shape != shape or a.ndim != 2 for a in arrays):
        raise RasterError(f"{path}: every band must be 2-D with one shape ({shape})")
    if np.issubdtype(np.dtype(dtype), np.floating) and nodata is None:
        nodata = float("nan")
    crs_obj = CRS.from_user_input(crs)
    profile = {
        "driver": "GTiff",
        "width": shape[1],
        "height": shape[0],
        "count": len(arrays),
        "dtype": dtype,
        "crs": crs_obj.to_wkt(),
        "transform": transform,
        "nodata": nodata,
        "compress": compress,
        "tiled": shape[0] >= 256 and shape[1] >= 256,
        "BIGTIFF": "IF_SAFER",
    }
    if profile["tiled"]:
        profile.update(blockxsize=256, blockysize=256)
    with atomic_path(path, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            for i, (name, arr) in enumerate(bands.items(), start=1):
                dst.write(np.asarray(arr).astype(dtype, copy=False), i)
                dst.set_band_description(i, name)
                unit = (units or {}).get(name)
                if unit:
                    dst.update_tags(i, units=unit)
                desc = (descriptions or {}).get(name)
                if desc:
                    dst.update_tags(i, long_name=desc)
            if units:
                dst.units = tuple((units or {}).get(n, "") for n in bands)
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
    log.debug("wrote %s (%d bands, %d x %d)", path, len(arrays), shape[1], shape[0])
    return path


def read_geotiff(
    path: str | Path, *, bands: Sequence[str] | None = None, require_metric: bool = False, masked_nan: bool = True
) -> RasterData:
    """Read a GeoTIFF (all bands, or those named in ``bands``) with its CRS, transform and band names.

    require_metric: refuse a missing or geographic CRS (see :func:`require_projected`). masked_nan: float
    bands get NaN where the file's nodata value is.
    """
    import rasterio
    from pyproj import CRS

    path = Path(path)
    if not path.exists():
        raise RasterError(f"{path}: no such file")
    try:
        ds = rasterio.open(path)
    except Exception as exc:
        raise RasterError(f"{path}: not a readable raster ({exc})") from exc
    with ds:
        crs = CRS.from_user_input(ds.crs.to_wkt()) if ds.crs else None
        if require_metric:
            crs = require_projected(crs, str(path))
        names = [d or f"band_{i + 1}" for i, d in enumerate(ds.descriptions)]
        idx = list(range(1, ds.count + 1))
        if bands is not None:
            missing = [b for b in bands if b not in names]
            if missing:
                raise RasterError(f"{path}: no band named {missing}; bands: {', '.join(names)}")
            idx = [names.index(b) + 1 for b in bands]
        arr = ds.read(idx)
        if masked_nan and np.issubdtype(arr.dtype, np.floating) and ds.nodata is not None and not np.isnan(ds.nodata):
            arr = np.where(arr == ds.nodata, np.nan, arr)
        band_tags = [ds.tags(i) for i in idx]
        units = [
            t.get("units") or (ds.units[i - 1] if ds.units and ds.units[i - 1] else "") for t, i in zip(band_tags, idx)
        ]
        return RasterData(
            array=arr,
            transform=ds.transform,
            crs=crs,
            names=[names[i - 1] for i in idx],
            units=units,
            nodata=ds.nodata,
            tags=ds.tags(),
            band_tags=band_tags,
            path=path,
        )
