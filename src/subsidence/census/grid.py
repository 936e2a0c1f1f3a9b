"""The georeferencing of a raster used by the census kernels: affine transform + projected CRS.

Areas, volumes and distances are computed in metres, so a :class:`Grid` refuses a geographic CRS
(degrees). Reprojecting a lon/lat raster is an I/O concern (:mod:`subsidence.census.inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

from subsidence.geo import CRSError, SQM_PER_HA, parse_crs


@dataclass(frozen=True)
class Grid:
    """Pixel grid: ``transform`` maps (col, row) of pixel corners to (x, y) in ``crs`` (metres)."""

    transform: Affine
    crs: CRS
    shape: tuple[int, int]

    @classmethod
    def make(cls, transform: Affine, crs: CRS | str | int, shape: tuple[int, int], *, source: str = "raster") -> "Grid":
        """Build a grid, checking that the CRS is projected in metres and the transform is not degenerate."""
        c = parse_crs(crs, source=source)
        if not c.is_projected:
            raise CRSError(
                f"{source}: CRS {c.name!r} is geographic (degrees); areas and volumes need a projected metric CRS. "
                "Reproject the raster (e.g. gdalwarp -t_srs EPSG:4546) or let the census loader reproject it."
            )
        unit = (c.axis_info[0].unit_name or "").lower() if c.axis_info else "metre"
        if unit not in ("metre", "meter", "m"):
            raise CRSError(f"{source}: CRS {c.name!r} has axis unit {unit!r}; a metric CRS is required")
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
