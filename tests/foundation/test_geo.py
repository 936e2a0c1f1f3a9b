"""Areas are computed in a projected metric CRS and agree with geodesic truth."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import Polygon, box

from subsidence.geo import CGCS2000, STORAGE_CRS, CRSError, area_ha, parse_crs, transform_geometry


def test_projected_square_is_100_ha():
    assert area_ha(box(500_000, 4_370_000, 501_000, 4_371_000)) == pytest.approx(100.0)


def test_area_after_reprojection_matches_geodesic_area():
    # a 0.05° x 0.05° cell near Wulanmulun, CGCS2000 lon/lat
    lonlat = Polygon([(110.00, 39.40), (110.05, 39.40), (110.05, 39.45), (110.00, 39.45)])
    geodesic_m2 = abs(Geod(ellps="GRS80").geometry_area_perimeter(lonlat)[0])
    projected = transform_geometry(lonlat, CGCS2000, STORAGE_CRS)
    # Gauss-Krueger scale error ~1.3° from the central meridian is ~1.5e-4 in length, ~3e-4 in area
    assert area_ha(projected) == pytest.approx(geodesic_m2 / 1e4, rel=5e-4)
    assert 2000 < area_ha(projected) < 2400  # ~4.3 km x 5.6 km


def test_gauss_krueger_coordinates_of_a_known_point():
    # on the central meridian (111°E) the GK easting is exactly the false easting 500 km
    p = transform_geometry(Polygon([(111.0, 39.0), (111.0, 39.1), (111.1, 39.0)]), CGCS2000, STORAGE_CRS)
    assert p.exterior.coords[0][0] == pytest.approx(500_000.0, abs=1e-3)
    assert p.exterior.coords[0][1] == pytest.approx(4_318_000, abs=2_000)


def test_area_refuses_degrees():
    with pytest.raises(CRSError, match="geographic"):
        area_ha(box(110, 39, 110.1, 39.1), crs=CGCS2000)


@pytest.mark.parametrize("value", [None, "", "EPSG:999999", "not a crs"])
def test_parse_crs_errors_name_the_source(value):
    with pytest.raises(CRSError, match="mines.shp"):
        parse_crs(value, source="mines.shp")
