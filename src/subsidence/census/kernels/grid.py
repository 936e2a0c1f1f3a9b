"""The georeferencing of a raster used by the census kernels: affine transform + projected CRS.

Areas, volumes and distances are computed in metres from the pixel size, which is only the ground size in a
local conformal projection: Transverse Mercator (Gauss–Krüger, UTM), whose scale error stays below ~1e-3
inside a 3°/6° zone. A :class:`Grid` therefore refuses a geographic CRS (degrees) and any other projection
(e.g. Web Mercator EPSG:3857, whose pixels at 39.5°N cover only 1/1.68 of their nominal area). Reprojecting
such rasters to the local Gauss–Krüger zone is an I/O concern (:mod:`subsidence.census.kernels.inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

from subsidence.geo import SQM_PER_HA, CRSError, parse_crs

#: coordinate operation method names (lower case) of projections in which pixel areas are ground areas
LOCAL_METHODS = ("transverse mercator", "gauss-kruger", "gauss-krüger", "gauss kruger", "gauss-schreiber")


def projection_method(crs: CRS) -> str:
    """Lower-case name of a projected CRS's map projection method ('' if it has none, e.g. geographic)."""
    c = crs
    if c.is_bound and c.source_crs is not None:
        c = c.source_crs
    if c.is_compound and c.sub_crs_list:
        c = c.sub_crs_list[0]
    op = c.coordinate_operation
    return (op.method_name or "").lower() if op is not None else ""


def is_local_metric(crs: CRS | str | int) -> bool:
    """True for a projected CRS in metres on a Transverse Mercator (Gauss–Krüger / UTM) projection."""
    c = crs if isinstance(crs, CRS) else CRS.from_user_input(crs)
    if not c.is_projected:
        return False
    unit = (c.axis_info[0].unit_name or "").lower() if c.axis_info else "metre"
    if unit not in ("metre", "meter", "m"):
        return False
    method = projection_method(c)
    return any(m in method for m in LOCAL_METHODS)


@dataclass(frozen=True)
class Grid:
    """Pixel grid: ``transform`` maps (col, row) of pixel corners to (x, y) in ``crs`` (metres)."""

    transform: Affine
    crs: CRS
    shape: tuple[int, int]

    @classmethod
    def make(cls, transform: Affine, crs: CRS | str | int, shape: tuple[int, int], *, source: str = "raster") -> Grid:
        """Build a grid, checking that the CRS is a local Transverse Mercator one in metres and the transform
        is not degenerate."""
        c = parse_crs(crs, source=source)
        if not c.is_projected:
            raise CRSError(
                f"{source}: CRS {c.name!r} is geographic (degrees); areas and volumes need a projected metric CRS. "
                "Reproject the raster (e.g. gdalwarp -t_srs EPSG:4546) or let the census loader reproject it."
            )
        unit = (c.axis_info[0].unit_name or "").lower() if c.axis_info else "metre"
        if unit not in ("metre", "meter", "m"):
            raise CRSError(f"{source}: CRS {c.name!r} has axis unit {unit!r}; a metric CRS is required")
        if not is_local_metric(c):
            raise CRSError(
                f"{source}: CRS {c.name!r} uses the {projection_method(c) or 'unknown'!r} projection, whose pixel "
                "areas are not ground areas; areas and volumes need a Transverse Mercator (Gauss–Krüger/UTM) CRS. "
                "Reproject the raster (e.g. gdalwarp -t_srs EPSG:4546) or let the census loader reproject it."
            )
        if abs(transform.a * transform.e - transform.b * transform.d) == 0:
            raise ValueError(f"{source}: degenerate geotransform {tuple(transform)[:6]}")
        return cls(transform=transform, crs=c, shape=(int(shape[0]), int(shape[1])))

    @property
    def pixel_area_m2(self) -> float:
        t = self.transform
        return float(abs(t.a * t.e - t.b * t.d))

    @property
    def pixel_area_ha(self) -> float:
        return self.pixel_area_m2 / SQM_PER_HA

    @property
    def pixel_size_m(self) -> float:
        """Nominal pixel size (square root of the pixel area), metres."""
        return float(np.sqrt(self.pixel_area_m2))

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates (metres) of pixel centres."""
        t = self.transform
        c = np.asarray(cols, dtype=float) + 0.5
        r = np.asarray(rows, dtype=float) + 0.5
        return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x, y of every pixel centre as two (rows, cols) arrays."""
        rows, cols = np.indices(self.shape)
        return self.xy(rows, cols)
