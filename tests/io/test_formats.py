"""Format sniffing, shapefile encodings and reprojection (no database)."""

from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, box

from subsidence.geo import STORAGE_CRS, area_ha, transform_geometry
from subsidence.io.excel import Column, read_sheet, write_table
from subsidence.io.sniff import FormatError, sniff
from subsidence.io.vector import read_vector, shapefile_encoding
from tests.io.iokit import DATA

TOWN_NAMES = ["乌兰木伦镇", "纳林陶亥镇", "札萨克镇"]


def test_text_renamed_xlsx_is_refused(tmp_path):
    p = tmp_path / "台账.xlsx"
    p.write_text("序号,问题编号\n1,TZ-2024-0001\n", encoding="utf-8")
    with pytest.raises(FormatError) as exc:
        sniff(p)
    assert str(p) in str(exc.value) and "plain text" in str(exc.value)


def test_corrupt_geopackage_is_refused(tmp_path):
    p = tmp_path / "mines.gpkg"
    con = sqlite3.connect(p)
    con.execute("create table t(x)")
    con.commit()
    con.close()
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2 + 100])  # truncated mid-page
    with pytest.raises(FormatError, match="truncated"):
        sniff(p)
    p.write_bytes(b"<html>not a database</html>" * 50)
    with pytest.raises(FormatError, match="not a valid GeoPackage"):
        sniff(p)


def test_incomplete_or_truncated_shapefile(tmp_path):
    for f in DATA.glob("towns_gbk_cpg.*"):
        shutil.copy(f, tmp_path / f.name)
    shp = tmp_path / "towns_gbk_cpg.shp"
    assert sniff(shp) == "shp"
    (tmp_path / "towns_gbk_cpg.dbf").unlink()
    with pytest.raises(FormatError, match=r"\.dbf missing"):
        sniff(shp)
    shp.write_bytes(shp.read_bytes()[:-20])
    with pytest.raises(FormatError, match="truncated"):
        sniff(shp)


def test_json_that_is_not_geojson(tmp_path):
    p = tmp_path / "x.geojson"
    p.write_text('{"name": 1}')
    with pytest.raises(FormatError, match="FeatureCollection"):
        sniff(p)
    p.write_text("{broken")
    with pytest.raises(FormatError, match="line 1"):
        sniff(p)


def test_old_xls_and_unknown_extension(tmp_path):
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(FormatError, match="save as .xlsx"):
        sniff(tmp_path / "a.xls")
    (tmp_path / "a.csv").write_text("a,b")
    with pytest.raises(FormatError, match="unsupported"):
        sniff(tmp_path / "a.csv")


@pytest.mark.parametrize("name, how", [("towns_gbk_cpg.shp", ".cpg says GBK"), ("towns_gbk_nocpg.shp", "not UTF-8")])
def test_gbk_shapefile_read_with_and_without_cpg(name, how):
    enc, why = shapefile_encoding(DATA / name)
    assert enc == "gb18030" and how in why
    t = read_vector(DATA / name)
    assert [r["name_zh"] for r in t.records] == TOWN_NAMES
    assert t.crs.to_epsg() == 4546
    assert all(g.geom_type == "Polygon" for g in t.geometries)


def test_utf8_shapefile_without_cpg_detected(tmp_path):
    import pyogrio.raw

    wkb = np.array([shapely.to_wkb(Point(500000, 4370000))], dtype=object)
    pyogrio.raw.write(
        str(tmp_path / "u.shp"),
        wkb,
        [np.array(["红庆河镇"], dtype=object)],
        ["name"],
        driver="ESRI Shapefile",
        geometry_type="Point",
        crs="EPSG:4546",
        encoding="UTF-8",
    )
    (tmp_path / "u.cpg").unlink()
    assert shapefile_encoding(tmp_path / "u.shp")[0] == "utf-8"
    assert read_vector(tmp_path / "u.shp").records[0]["name"] == "红庆河镇"


def test_reprojection_4490_to_4546_matches_pyproj():
    lon, lat = 110.05, 39.45
    x, y = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True).transform(lon, lat)
    p = transform_geometry(Point(lon, lat), "EPSG:4490", STORAGE_CRS)
    assert p.x == pytest.approx(x, abs=1e-6) and p.y == pytest.approx(y, abs=1e-6)
    # near the central meridian 111E the easting is close to the false easting 500 km, west of it smaller
    assert 400_000 < p.x < 500_000 and 4_360_000 < p.y < 4_380_000


def test_area_of_known_square_after_reprojection():
    # a 0.01 x 0.01 degree cell at 39.45N: ellipsoidal (geodesic) area vs area in the GK projection
    cell = box(110.05, 39.45, 110.06, 39.46)
    dense = shapely.segmentize(cell, 0.0005)
    geodesic_m2 = abs(Geod(ellps="GRS80").geometry_area_perimeter(dense)[0])
    gk = transform_geometry(dense, "EPSG:4490", STORAGE_CRS)
    assert area_ha(gk) == pytest.approx(geodesic_m2 / 1e4, rel=2e-4)  # GK scale error ~1e-4 at 1 deg from CM
    # and a square built in metres keeps exactly 100 ha through lon/lat and back
    sq = box(480_000, 4_366_000, 481_000, 4_367_000)
    back = transform_geometry(transform_geometry(sq, STORAGE_CRS, "EPSG:4490"), "EPSG:4490", STORAGE_CRS)
    assert area_ha(back) == pytest.approx(100.0, abs=1e-6)


def test_excel_table_round_trip_and_header_row_detection(tmp_path):
    cols = [Column("问题编号"), Column("发现日期", kind="date")]
    from datetime import date

    p = write_table(
        tmp_path / "t.xlsx",
        cols,
        [["TZ-1", date(2024, 9, 12)]],
        sheet_title="问题台账",
        title="标题行",
        subtitle="截至 2024-09-30",
    )
    t = read_sheet(p, known_headers=["问题编号", "发现日期"])
    assert t.header_row == 3 and t.headers == ["问题编号", "发现日期"]
    assert t.rows[0][0] == 4 and t.rows[0][1][0] == "TZ-1" and t.rows[0][1][1].date() == date(2024, 9, 12)
