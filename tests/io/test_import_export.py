"""Successful imports: idempotence, updates with audit, dry run, encodings, round trips through every format."""

from __future__ import annotations

import json
import zipfile
from datetime import date

import pytest
import shapely
from sqlalchemy import select

from subsidence.core.models import AdminArea, AuditEvent, Mine, Panel
from subsidence.db.session import make_sessionmaker
from subsidence.interchange.exports import export_kind, write_template
from subsidence.interchange.imports import import_file
from subsidence.ledger.models import Problem
from subsidence.monitoring.models import GroundwaterWell
from subsidence.vocabulary import AreaLevel, ProblemCategory, ProblemState
from tests.io.iokit import DATA, LICENCE, OTHER_LICENCE, panel_rows, snapshot, write_xlsx


def test_idempotent_reimport_and_update_with_audit(county, tmp_path):
    eng = county["engine"]
    p = write_xlsx(tmp_path / "panels.xlsx", panel_rows())
    first = import_file(eng, "panels", p, actor="test")
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    after_first = snapshot(eng)
    second = import_file(eng, "panels", p, actor="test")
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert snapshot(eng) == after_first  # no new rows, no audit rows
    rows = panel_rows()
    rows[1][3] = 4.8  # thickness of the first panel
    p2 = write_xlsx(tmp_path / "panels-v2.xlsx", rows)
    third = import_file(eng, "panels", p2, actor="office:NRB")
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert third.changes[0].fields == {"thickness_m": [4.5, 4.8]}
    with make_sessionmaker(eng)() as s:
        panel = s.scalar(select(Panel).where(Panel.code == f"{LICENCE}-22301"))
        assert panel.thickness_m == 4.8 and panel.start_date == date(2021, 3, 1) and panel.end_date == date(2022, 6, 30)
        assert s.scalar(select(Panel).where(Panel.code == f"{OTHER_LICENCE}-12201")).mine.name_zh == "示例上湾煤矿"
        ev = s.scalars(select(AuditEvent).where(AuditEvent.entity == "panel", AuditEvent.action == "update")).all()
        assert len(ev) == 1
        assert ev[0].before == {"thickness_m": 4.5} and ev[0].after == {"thickness_m": 4.8}
        assert ev[0].actor == "office:NRB" and ev[0].reason == "import panels-v2.xlsx"
        assert ev[0].entity_key == f"{LICENCE}-22301"


def test_dry_run_changes_nothing(county, tmp_path):
    eng = county["engine"]
    before = snapshot(eng)
    rep = import_file(eng, "panels", write_xlsx(tmp_path / "panels.xlsx", panel_rows()), dry_run=True)
    assert rep.dry_run and rep.created == 3 and "would be created" in rep.summary()
    assert snapshot(eng) == before


def test_gbk_towns_and_villages_with_parents_in_same_file(county, tmp_path):
    eng = county["engine"]
    rep = import_file(eng, "towns", DATA / "towns_gbk_nocpg.shp")
    assert rep.encoding.startswith("gb18030") and (rep.created, rep.updated) == (2, 1)
    rows = [
        ["行政区划代码", "名称", "级别", "上级区划"],
        ["150627102001", "示例村", "村", "150627102"],
        ["150627102", "纳林陶亥镇", "镇", "伊金霍洛旗"],
        ["150627999", "新镇", "镇", "150627"],
        ["150627999001", "新村", "村", "150627999"],
    ]  # parent created by this same file
    rep2 = import_file(eng, "towns", write_xlsx(tmp_path / "villages.xlsx", rows))
    assert (rep2.created, rep2.updated, rep2.unchanged) == (3, 1, 0)
    with make_sessionmaker(eng)() as s:
        v = s.scalar(select(AdminArea).where(AdminArea.code == "150627999001"))
        assert v.level == AreaLevel.VILLAGE and v.parent.name_zh == "新镇" and v.parent.parent.code == "150627"
        assert s.scalar(select(AdminArea).where(AdminArea.code == "150627103")).name_zh == "札萨克镇"
    rep3 = import_file(eng, "towns", write_xlsx(tmp_path / "villages.xlsx", rows))
    assert (rep3.created, rep3.updated, rep3.unchanged) == (0, 0, 4)


def test_cgcs2000_geojson_mines_reprojected(county, tmp_path):
    eng = county["engine"]
    rep = import_file(eng, "mines", DATA / "mines_cgcs2000.geojson")
    assert rep.crs == "EPSG:4490" and (rep.created, rep.updated) == (0, 2)
    with make_sessionmaker(eng)() as s:
        m = s.scalar(select(Mine).where(Mine.licence_no == LICENCE))
        assert m.capacity_mt_per_yr == 20.0 and m.licence_valid_to == date(2039, 12, 31)
        assert m.town.name_zh == "乌兰木伦镇"
        c = m.geometry.centroid
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True).transform(110.04, 39.44)
        assert c.x == pytest.approx(x, abs=0.5) and c.y == pytest.approx(y, abs=0.5)
        # 0.02 x 0.02 degrees at 39.44N: about 1.72 km x 2.22 km
        assert m.geometry.area / 1e4 == pytest.approx(1.7198 * 2.2209 * 100, rel=3e-3)


def _ledger_rows():
    return [
        ["伊金霍洛旗采煤沉陷区问题排查台账"],
        [
            "序号",
            "问题编号",
            "问题类别",
            "问题名称",
            "问题描述",
            "矿山/采矿许可证号",
            "所在镇",
            "牵头单位",
            "配合单位",
            "发现方式",
            "发现日期",
            "整改时限",
            "时间节点",
            "整改状态",
            "备注",
        ],
        [
            1,
            "TZ-2024-0001",
            "1",
            "地裂缝未回填",
            "采空区上方裂缝",
            LICENCE,
            "乌兰木伦镇",
            "旗自然资源局",
            "旗应急管理局、乌兰木伦镇人民政府",
            "遥感监测",
            date(2024, 9, 12),
            "2024/12/30",
            "2024-10-15 完成治理方案 [已完成 2024-10-12]\n2024-12-30 完成裂缝充填",
            "整改中",
            "备注被忽略",
        ],
        [
            2,
            "TZ-2024-0002",
            "地下水位下降、水污染",
            "水位下降",
            None,
            "示例上湾煤矿",
            "150627101",
            None,
            None,
            "年度评估",
            "2024年9月20日",
            None,
            None,
            None,
            None,
        ],
    ]


def test_ledger_import_round_trip_and_byte_identical_export(county, tmp_path):
    eng = county["engine"]
    rep = import_file(eng, "problems", write_xlsx(tmp_path / "in.xlsx", _ledger_rows()))
    assert rep.created == 2
    with make_sessionmaker(eng)() as s:
        p1 = s.scalar(select(Problem).where(Problem.code == "TZ-2024-0001"))
        assert p1.category == ProblemCategory.SUBSIDENCE_CRACKS and p1.state == ProblemState.RECTIFYING
        assert p1.lead_unit.code == "NRB" and sorted(u.code for u in p1.cooperating_units) == ["EMB", "T-WLML"]
        assert [(m.seq, m.due_date, m.description, m.done_date) for m in p1.milestones] == [
            (1, date(2024, 10, 15), "完成治理方案", date(2024, 10, 12)),
            (2, date(2024, 12, 30), "完成裂缝充填", None),
        ]
        links = s.scalars(select(AuditEvent).where(AuditEvent.entity == "problem", AuditEvent.action == "update")).all()
        assert [(e.entity_key, e.before, e.after) for e in links] == [
            ("TZ-2024-0001", {"cooperating_units": []}, {"cooperating_units": ["EMB", "T-WLML"]})
        ]
        p2 = s.scalar(select(Problem).where(Problem.code == "TZ-2024-0002"))
        assert p2.lead_unit.code == "AWB"  # default lead unit of task 5
        assert p2.mine.licence_no == OTHER_LICENCE and p2.found_date == date(2024, 9, 20)
        a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
        export_kind(s, "problems", a)
    with make_sessionmaker(eng)() as s:
        from subsidence.interchange.exports import write_ledger

        write_ledger(list(s.scalars(select(Problem))), b)
    assert a.read_bytes() == b.read_bytes()  # byte-identical for the same data
    with zipfile.ZipFile(a) as z:
        assert "2024-09-12T00:00:00Z" in z.read("docProps/core.xml").decode()
    again = import_file(eng, "problems", a)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    # the ledger columns offices exchange
    from openpyxl import load_workbook

    ws = load_workbook(a).active
    headers = [c.value for c in ws[2]]
    for h in (
        "序号",
        "问题编号",
        "问题类别",
        "问题描述",
        "矿山/采矿许可证号",
        "所在镇",
        "牵头单位",
        "配合单位",
        "发现方式",
        "发现日期",
        "整改时限",
        "时间节点",
        "整改状态",
        "备注",
    ):
        assert h in headers
    assert ws.cell(3, headers.index("问题类别") + 1).value == "地面塌陷、裂缝治理不到位"


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".xlsx"])
def test_export_import_round_trip(county, tmp_path, suffix):
    eng = county["engine"]
    import_file(eng, "mines", DATA / "mines_cgcs2000.geojson")
    out = tmp_path / f"mines{suffix}"
    with make_sessionmaker(eng)() as s:
        rep = export_kind(s, "mines", out)
        stored = {m.licence_no: m.geometry for m in s.scalars(select(Mine))}
    assert rep.count == 2
    if suffix == ".geojson":
        doc = json.loads(out.read_text(encoding="utf-8"))
        x, y = doc["features"][0]["geometry"]["coordinates"][0][0][0]
        assert 109 < x < 111 and 39 < y < 40 and "crs" not in doc  # RFC 7946 lon/lat
    if suffix == ".shp":
        assert out.with_suffix(".cpg").read_text().strip().upper() == "UTF-8"
    before = snapshot(eng)
    again = import_file(eng, "mines", out)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot(eng) == before
    with make_sessionmaker(eng)() as s:
        for m in s.scalars(select(Mine)):
            assert shapely.hausdorff_distance(m.geometry, stored[m.licence_no]) < 0.01


def test_geojson_keeps_crs_when_asked(county, tmp_path):
    out = tmp_path / "mines.geojson"
    with make_sessionmaker(county["engine"])() as s:
        export_kind(s, "mines", out, crs="EPSG:4546")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert "4546" in json.dumps(doc["crs"])
    assert doc["features"][0]["geometry"]["coordinates"][0][0][0][0] > 1000
    assert import_file(county["engine"], "mines", out).unchanged == 2


def test_wells_from_excel_lonlat_round_trip(county, tmp_path):
    eng = county["engine"]
    rows = [
        ["监测井编号", "监测井名称", "所在镇", "井深(m)", "基准水位埋深(m)", "经度", "纬度"],
        ["W-001", "示例监测井1", "乌兰木伦镇", 120, 35.5, 110.05, 39.45],
        ["W-002", "示例监测井2", None, None, None, None, None],
    ]
    rep = import_file(eng, "wells", write_xlsx(tmp_path / "wells.xlsx", rows))
    assert rep.created == 2
    with make_sessionmaker(eng)() as s:
        w = s.scalar(select(GroundwaterWell).where(GroundwaterWell.code == "W-001"))
        assert w.geometry.geom_type == "Point" and 400_000 < w.geometry.x < 500_000
        export_kind(s, "wells", tmp_path / "out.xlsx")
    again = import_file(eng, "wells", tmp_path / "out.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_template_is_importable(county, tmp_path):
    from openpyxl import load_workbook

    t = write_template("ledger", tmp_path / "ledger.xlsx")
    assert write_template("ledger", tmp_path / "ledger2.xlsx").read_bytes() == t.read_bytes()
    wb = load_workbook(t)
    assert wb.sheetnames[:1] == ["问题台账"] and "填写说明" in wb.sheetnames
    empty = import_file(county["engine"], "problems", t)
    assert empty.rows == 0 and empty.warnings
    ws = wb["问题台账"]
    headers = [c.value for c in ws[2]]
    row = {
        "问题编号": "TZ-2024-0100",
        "问题类别": "植被恢复不到位",
        "问题名称": "枯树未清理",
        "发现方式": "排查",
        "发现日期": "2024-10-01",
        "所在镇": "乌兰木伦镇",
    }
    for h, v in row.items():
        ws.cell(3, headers.index(h) + 1, v)
    wb.save(t)
    rep = import_file(county["engine"], "problems", t)
    assert rep.created == 1
    with make_sessionmaker(county["engine"])() as s:
        assert s.scalar(select(Problem)).lead_unit.code == "T-WLML"  # task 3 is led by the town


@pytest.mark.parametrize(
    "kind",
    [
        "towns",
        "units",
        "enterprises",
        "mines",
        "panels",
        "problems",
        "hazard-points",
        "wells",
        "buildings",
        "subsidence-areas",
    ],
)
def test_every_kind_has_template_and_exports(county, tmp_path, kind):
    write_template(kind, tmp_path / f"{kind}.xlsx")
    assert import_file(county["engine"], kind, tmp_path / f"{kind}.xlsx").rows == 0
    with make_sessionmaker(county["engine"])() as s:
        rep = export_kind(s, kind, tmp_path / f"{kind}-out.xlsx")
    again = import_file(county["engine"], kind, tmp_path / f"{kind}-out.xlsx")
    assert again.created == 0 and again.updated == 0 and again.unchanged == rep.count


def test_layer_choice_in_multi_layer_geopackage(county, tmp_path):
    import pyogrio

    from subsidence.interchange.imports import ImportFailed

    out = tmp_path / "county.gpkg"
    with make_sessionmaker(county["engine"])() as s:
        export_kind(s, "mines", out)
        export_kind(s, "towns", tmp_path / "towns.gpkg")
    meta, _, wkb, cols = pyogrio.raw.read(str(tmp_path / "towns.gpkg"))
    pyogrio.raw.write(
        str(out),
        wkb,
        cols,
        meta["fields"],
        layer="towns",
        driver="GPKG",
        crs=meta["crs"],
        geometry_type="MultiPolygon",
        append=True,
    )
    assert import_file(county["engine"], "mines", out).unchanged == 2  # the layer named like the kind
    assert import_file(county["engine"], "towns", out).unchanged == 2
    with pytest.raises(ImportFailed, match="several layers"):
        import_file(county["engine"], "panels", out)
    assert import_file(county["engine"], "towns", out, layer="towns").unchanged == 2


def test_chinese_field_names_in_geojson(county, tmp_path):
    out = tmp_path / "mines_zh.geojson"
    with make_sessionmaker(county["engine"])() as s:
        export_kind(s, "mines", out, field_names="zh")
    props = json.loads(out.read_text(encoding="utf-8"))["features"][0]["properties"]
    assert props["采矿许可证号"] == LICENCE and props["所在镇"] == "乌兰木伦镇" and props["矿山状态"] == "生产"
    assert import_file(county["engine"], "mines", out).unchanged == 2
