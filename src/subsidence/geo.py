"""CRS handling and metric measurement.

Every geometry in the database is stored in :data:`STORAGE_CRS`, a projected metric CRS:
CGCS2000 / 3-degree Gauss-Krueger CM 111E (EPSG:4546), whose zone (109.5-112.5 E) covers
Ejin Horo Banner. Areas and lengths are always computed in a projected CRS, never in degrees.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

STORAGE_CRS = "EPSG:4546"
STORAGE_SRID = 4546
#: CGCS2000 geographic, the national datum in which Chinese offices exchange lon/lat.
CGCS2000 = "EPSG:4490"
WGS84 = "EPSG:4326"
SQM_PER_HA = 10_000.0
MU_PER_HA = 15.0  # 1 ha = 15 mu (亩), used in Chinese reports


class CRSError(ValueError):
    """A missing, unknown or unsuitable coordinate reference system."""


def parse_crs(value: str | int | CRS | None, *, source: str = "input") -> CRS:
    """Parse a CRS from EPSG code, WKT or authority string; raise :class:`CRSError` with the source named."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CRSError(
            f"{source}: no coordinate reference system; supply a .prj file or pass --crs EPSG:xxxx "
            "(e.g. EPSG:4490 for CGCS2000 lon/lat, EPSG:4546 for CGCS2000 GK CM 111E)"
        )
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError subclasses of its own
        raise CRSError(f"{source}: unknown coordinate reference system {str(value)[:80]!r}: {exc}") from exc


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def transform_geometry(geom: BaseGeometry, src: CRS | str, dst: CRS | str = STORAGE_CRS) -> BaseGeometry:
    """Reproject a shapely geometry (axis order x=east/lon, y=north/lat)."""
    src_crs, dst_crs = CRS.from_user_input(src), CRS.from_user_input(dst)
    if src_crs == dst_crs:
        return geom
    tr = _transformer(src_crs.to_wkt(), dst_crs.to_wkt())
    return shapely.transform(geom, lambda xy: _apply(tr, xy))


def _apply(tr: Transformer, xy: NDArray[np.float64]) -> NDArray[np.float64]:
    import numpy as np

    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def area_ha(geom: BaseGeometry | None, crs: CRS | str = STORAGE_CRS) -> float:
    """Area in hectares, computed in ``crs`` which must be projected (metres)."""
    if geom is None or geom.is_empty:
        return 0.0
    if not CRS.from_user_input(crs).is_projected:
        raise CRSError("area requested in a geographic CRS; reproject to a projected metric CRS first")
    return m2_to_ha(geom.area)


def m2_to_ha(m2: float) -> float:
    """Square metres to hectares."""
    return float(m2) / SQM_PER_HA


def ha_to_mu(ha: float) -> float:
    """Hectares to 亩 (1 ha = 15 亩, the statutory conversion Chinese reports use)."""
    return float(ha) * MU_PER_HA


def to_lonlat(geom: BaseGeometry, src: CRS | str = STORAGE_CRS) -> BaseGeometry:
    """Storage CRS to WGS84 lon/lat (for GeoJSON and the web map)."""
    return transform_geometry(geom, src, WGS84)
