"""Each kind of bad input is refused with a message naming file, row/feature and field, and changes nothing."""

from __future__ import annotations

import shutil

import pytest

from subsidence.interchange.imports import ImportFailed, import_file
from tests.io.iokit import (
    DATA,
    LICENCE,
    PANEL_HEADERS,
    lonlat_polygon,
    panel_rows,
    snapshot,
    write_geojson,
    write_xlsx,
)


def refused(engine, kind, path, **kw) -> list[str]:
    before = snapshot(engine)
    with pytest.raises(ImportFailed) as exc:
        import_file(engine, kind, path, actor="test", **kw)
    assert snapshot(engine) == before, "a refused import changed the database"
    report = exc.value.report
    assert not report.ok and report.created == report.updated == 0
    texts = [str(e) for e in report.errors]
    assert all(t.startswith(str(path)) for t in texts)
    assert str(path) in exc.value.message
    return texts


def test_missing_crs(county, tmp_path):
    for f in DATA.glob("towns_gbk_cpg.*"):
        if f.suffix != ".prj":
            shutil.copy(f, tmp_path / f.name)
    shp = tmp_path / "towns_gbk_cpg.shp"
    [msg] = refused(county["engine"], "towns", shp)
    assert "field geometry" in msg and "no coordinate reference system" in msg and "no .prj" in msg
    assert "--crs EPSG:" in msg
    # with --crs it goes through
    rep = import_file(county["engine"], "towns", shp, crs="EPSG:4546")
    assert (rep.created, rep.updated) == (2, 1)  # 乌兰木伦镇 (150627101) exists: its geometry is updated


def test_unknown_crs(county, tmp_path):
    for f in DATA.glob("towns_gbk_cpg.*"):
        shutil.copy(f, tmp_path / f.name)
    [msg] = refused(county["engine"], "towns", tmp_path / "towns_gbk_cpg.shp", crs="EPSG:999999")
    assert "unknown coordinate reference system" in msg and "EPSG:999999" in msg


def test_projected_coordinates_declared_as_lonlat(county, tmp_path):
    p = write_geojson(
        tmp_path / "mines.geojson",
        [
            ({"采矿许可证号": "C-1", "矿山名称": "甲"}, lonlat_polygon(450000, 4366000, 451000, 4367000)),
        ],
    )
    [msg] = refused(county["engine"], "mines", p)
    assert "feature 1, field geometry" in msg and "not degrees" in msg and "--crs" in msg


def test_self_intersecting_geometry(county, tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[110.0, 39.4], [110.01, 39.41], [110.01, 39.4], [110.0, 39.41], [110.0, 39.4]]],
    }
    p = write_geojson(
        tmp_path / "mines.geojson",
        [
            ({"采矿许可证号": "C-OK", "矿山名称": "好"}, lonlat_polygon(110.0, 39.4, 110.01, 39.41)),
            ({"采矿许可证号": "C-BAD", "矿山名称": "坏"}, bowtie),
        ],
        crs="urn:ogc:def:crs:EPSG::4490",
    )
    [msg] = refused(county["engine"], "mines", p)
    assert "feature 2, field geometry" in msg and "Self-intersection" in msg and "EPSG:4490" in msg
    assert "x=110.005" in msg and "never repairs" in msg


def test_mine_outside_banner(county, tmp_path):
    p = write_geojson(
        tmp_path / "mines.geojson",
        [
            ({"采矿许可证号": "C-IN", "矿山名称": "旗内"}, lonlat_polygon(110.0, 39.4, 110.01, 39.41)),
            # straddles the eastern banner boundary (110.6E)
            ({"采矿许可证号": "C-OUT", "矿山名称": "旗外"}, lonlat_polygon(110.59, 39.4, 110.62, 39.41)),
        ],
    )
    [msg] = refused(county["engine"], "mines", p)
    assert "feature 2, field geometry" in msg and "outside the banner boundary" in msg and "ha" in msg


def test_mine_inside_tolerance_of_banner_accepted(county, tmp_path):
    # 20 m beyond the boundary (110.6E) is within the 50 m tolerance
    p = write_geojson(
        tmp_path / "mines.geojson",
        [
            ({"采矿许可证号": "C-EDGE", "矿山名称": "边界"}, lonlat_polygon(110.59, 39.4, 110.6002, 39.41)),
        ],
    )
    assert import_file(county["engine"], "mines", p).created == 1


def test_excel_missing_and_misspelt_columns(county, tmp_path):
    rows = panel_rows()
    header = list(rows[0])
    header[header.index("下山采深(m)")] = "下山埋深(m)"  # misspelt required column
    header[header.index("开采结束日期")] = "开采结東日期"  # misspelt optional column (traditional 東)
    del_idx = header.index("采厚(m)")
    rows = [[c for j, c in enumerate(r) if j != del_idx] for r in [header] + rows[1:]]
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    msgs = refused(county["engine"], "panels", p)
    joined = "\n".join(msgs)
    assert "field 采厚(m) (thickness_m): required column 采厚(m) (thickness_m) is missing" in joined
    assert "field 下山采深(m) (depth_dip_m): required column" in joined
    assert "'下山埋深(m)' looks like a misspelling of it: rename it to 下山采深(m)" in joined
    assert "column G: unknown column '开采结東日期'; did you mean 开采结束日期 (end_date)?" in joined
    assert "row 1, column G" in joined


def test_wrong_date_format(county, tmp_path):
    rows = panel_rows()
    rows[2][6] = "07/15/2022"
    rows[3][7] = "2023-02-30"
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    msgs = refused(county["engine"], "panels", p)
    assert any(
        "row 3, field 开采开始日期 (start_date): '07/15/2022' is not a date" in m and "2024/9/12" in m for m in msgs
    )
    assert any("row 4, field 开采结束日期 (end_date): '2023-02-30' is not a real date" in m for m in msgs)


def test_duplicate_key_in_file(county, tmp_path):
    rows = panel_rows()
    rows[3][0] = rows[1][0]
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    [msg] = refused(county["engine"], "panels", p)
    assert f"row 4, field 工作面编号 (code): duplicate key '{rows[1][0]}' in the file (first at row 2)" in msg


def test_unknown_reference(county, tmp_path):
    rows = panel_rows()
    rows[2][1] = "C9999999999999999999999"
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    [msg] = refused(county["engine"], "panels", p)
    assert "row 3, field 采矿许可证号 (mine): unknown mine 'C9999999999999999999999'" in msg


def test_text_renamed_as_xlsx(county, tmp_path):
    p = tmp_path / "panels.xlsx"
    p.write_text("\t".join(PANEL_HEADERS), encoding="utf-8")
    [msg] = refused(county["engine"], "panels", p)
    assert "not a valid Excel workbook" in msg and "plain text" in msg


def test_corrupt_geopackage(county, tmp_path):
    from subsidence.db.session import make_sessionmaker
    from subsidence.interchange.exports import export_kind

    p = tmp_path / "mines.gpkg"
    with make_sessionmaker(county["engine"])() as s:
        export_kind(s, "mines", p)
    p.write_bytes(p.read_bytes()[:5000])
    [msg] = refused(county["engine"], "mines", p)
    assert "GeoPackage" in msg


def test_all_errors_of_the_file_are_reported(county, tmp_path):
    rows = panel_rows()
    rows[1][3] = "厚"  # not a number
    rows[2][4] = -5  # below minimum
    rows[3][6] = "2024.13.01"  # not a date
    rows[3][7] = "2020-01-01"  # (would be) before start
    rows.append([f"{LICENCE}-9", LICENCE, "", None, 200, 200, None, None])  # required thickness empty
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    msgs = refused(county["engine"], "panels", p)
    assert any("row 2, field 采厚(m) (thickness_m): '厚' is not a number" in m for m in msgs)
    assert any("row 3, field 下山采深(m) (depth_dip_m): -5 is below the minimum 1 m" in m for m in msgs)
    assert any("row 4, field 开采开始日期 (start_date)" in m for m in msgs)
    assert any("row 5, field 采厚(m) (thickness_m): required, but the cell is empty" in m for m in msgs)
    assert len(msgs) == 4


def test_end_before_start_refused(county, tmp_path):
    rows = panel_rows()
    rows[1][7] = "2020-01-01"
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    [msg] = refused(county["engine"], "panels", p)
    assert "row 2, field 开采结束日期 (end_date): 2020-01-01 is before 2021-03-01" in msg


def test_prj_that_proj_does_not_understand(county, tmp_path):
    for f in DATA.glob("towns_gbk_cpg.*"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "towns_gbk_cpg.prj").write_text('PROJCS["CGCS2000 somewhere", NONSENSE]')
    [msg] = refused(county["engine"], "towns", tmp_path / "towns_gbk_cpg.shp")
    assert "unknown coordinate reference system" in msg and "towns_gbk_cpg.prj" in msg and "--crs" in msg
    assert import_file(county["engine"], "towns", tmp_path / "towns_gbk_cpg.shp", crs="EPSG:4546").created == 2


def test_geometry_of_the_wrong_type(county, tmp_path):
    p = write_geojson(
        tmp_path / "mines.geojson",
        [
            ({"采矿许可证号": "C-PT", "矿山名称": "点"}, {"type": "Point", "coordinates": [110.0, 39.4]}),
        ],
    )
    [msg] = refused(county["engine"], "mines", p)
    assert "feature 1, field geometry: expected a polygon, got a Point" in msg


def test_state_change_by_import_is_refused(county, tmp_path):
    from datetime import date

    rows = [
        ["问题编号", "问题类别", "问题描述", "发现方式", "发现日期", "整改状态"],
        ["TZ-2024-0001", "1", "裂缝未回填\n详见附件", "遥感监测", date(2024, 9, 12), "整改中"],
    ]
    rep = import_file(county["engine"], "problems", write_xlsx(tmp_path / "a.xlsx", rows))
    assert rep.created == 1 and rep.changes[0].fields["title"] == [None, "裂缝未回填"]
    rows[1][5] = "已验收销号"
    [msg] = refused(county["engine"], "problems", write_xlsx(tmp_path / "b.xlsx", rows))
    assert "row 2, field 整改状态 (state): the ledger says 'rectifying', the file 'accepted'" in msg
    assert "ledger workflow" in msg


def test_errors_are_capped_but_counted(county, tmp_path):
    from subsidence.interchange.imports import MAX_ERRORS

    rows = [PANEL_HEADERS] + [[f"P-{i}", LICENCE, "", 4, 200, 190, "bad", None] for i in range(MAX_ERRORS + 50)]
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    with pytest.raises(ImportFailed) as exc:
        import_file(county["engine"], "panels", p)
    rep = exc.value.report
    assert len(rep.errors) == MAX_ERRORS and rep.more_errors == 50
    assert "... and 50 more error(s)" in exc.value.message
    assert f"{MAX_ERRORS + 50} error(s)" in rep.summary()
