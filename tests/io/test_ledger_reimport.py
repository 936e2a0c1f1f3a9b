"""Ledger data that stay right: mines resolved or refused, blank cells, idempotent
re-import without history, duplicate keys, 矿山名称 importable. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from subsidence.core.models import AuditEvent
from subsidence.db.session import make_sessionmaker
from subsidence.interchange.exports import write_template
from subsidence.interchange.imports import CLEAR_MARK, ImportFailed, import_file
from subsidence.ledger.models import Problem
from tests.io.iokit import LICENCE, snapshot, write_xlsx

HEAD = [
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
]


def _rows(over=None):
    r1 = [
        "TZ-2024-0001",
        "1",
        "地裂缝未回填",
        "采空区上方裂缝",
        LICENCE,
        "乌兰木伦镇",
        "旗自然资源局",
        "旗应急管理局",
        "遥感监测",
        date(2024, 9, 12),
        "2024/12/30",
        "2024-10-15 完成治理方案\n2024-12-30 完成裂缝充填",
    ]
    # blank 牵头单位 (the task's lead unit is taken) and blank 问题名称 (from the description)
    r2 = [
        "TZ-2024-0002",
        "5",
        None,
        "水位下降\n详见监测报告",
        "示例上湾煤矿",
        "150627101",
        None,
        None,
        "年度评估",
        "2024年9月20日",
        None,
        None,
    ]
    rows = [HEAD, r1, r2]
    for (i, col), v in (over or {}).items():
        rows[i][HEAD.index(col)] = v
    return rows


def _audit_count(eng) -> int:
    with make_sessionmaker(eng)() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def _problem(eng, code):
    s = make_sessionmaker(eng)()
    return s, s.scalar(select(Problem).where(Problem.code == code))


def test_same_file_twice_adds_no_history_and_keeps_derived_values(county, tmp_path):
    eng = county["engine"]
    p = write_xlsx(tmp_path / "ledger.xlsx", _rows())
    first = import_file(eng, "problems", p, actor="office:NRB")
    assert first.created == 2
    before = snapshot(eng)
    events = _audit_count(eng)
    for _ in range(2):
        again = import_file(eng, "problems", p, actor="office:NRB")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2), again.changes
        assert snapshot(eng) == before and _audit_count(eng) == events
    s, p2 = _problem(eng, "TZ-2024-0002")
    with s:
        assert p2.lead_unit.code == "AWB"  # the lead unit of task 5, kept although the cell is blank
        assert p2.title == "水位下降"


def test_blank_cell_leaves_value_unchanged_and_the_clear_mark_clears(county, tmp_path):
    eng = county["engine"]
    import_file(eng, "problems", write_xlsx(tmp_path / "a.xlsx", _rows()))
    # a partial sheet: milestones, deadline and cooperating units blank
    partial = _rows({(1, "时间节点"): None, (1, "整改时限"): None, (1, "配合单位"): None})
    rep = import_file(eng, "problems", write_xlsx(tmp_path / "b.xlsx", partial))
    assert (rep.updated, rep.unchanged) == (0, 2)
    assert any("整改时限" in str(w) and CLEAR_MARK in str(w) for w in rep.warnings)
    s, p1 = _problem(eng, "TZ-2024-0001")
    with s:
        assert p1.deadline == date(2024, 12, 30) and len(p1.milestones) == 2
        assert [u.code for u in p1.cooperating_units] == ["EMB"]
    cleared = _rows({(1, "整改时限"): CLEAR_MARK, (1, "配合单位"): CLEAR_MARK})
    rep = import_file(eng, "problems", write_xlsx(tmp_path / "c.xlsx", cleared), actor="office:NRB")
    assert rep.updated == 1 and set(rep.changes[0].fields) == {"deadline", "cooperating_units"}
    s, p1 = _problem(eng, "TZ-2024-0001")
    with s:
        assert p1.deadline is None and p1.cooperating_units == [] and len(p1.milestones) == 2
    # clearing a required value is refused
    with pytest.raises(ImportFailed, match=r"row 2.*发现日期.*required"):
        import_file(eng, "problems", write_xlsx(tmp_path / "d.xlsx", _rows({(1, "发现日期"): CLEAR_MARK})))


def test_unknown_mine_refused_naming_row_and_value_nothing_changes(county, tmp_path):
    eng = county["engine"]
    import_file(eng, "problems", write_xlsx(tmp_path / "a.xlsx", _rows()))
    before, events = snapshot(eng), _audit_count(eng)
    rows = _rows({(1, "问题描述"): "改了描述", (2, "矿山/采矿许可证号"): "示例不存在煤矿"})
    with pytest.raises(ImportFailed) as exc:
        import_file(eng, "problems", write_xlsx(tmp_path / "b.xlsx", rows))
    msg = str(exc.value)
    assert "row 3" in msg and "'示例不存在煤矿'" in msg and "nothing was changed" in msg
    assert snapshot(eng) == before and _audit_count(eng) == events
    s, p1 = _problem(eng, "TZ-2024-0001")
    with s:
        assert p1.description == "采空区上方裂缝"


def test_mine_name_column_is_importable_and_must_agree_with_the_licence(county, tmp_path):
    eng = county["engine"]
    head = ["问题编号", "问题类别", "问题名称", "矿山名称", "发现方式", "发现日期"]
    rows = [head, ["TZ-2024-0009", "1", "裂缝", "示例补连塔煤矿", "遥感监测", "2024-09-12"]]
    import_file(eng, "problems", write_xlsx(tmp_path / "a.xlsx", rows))
    s, p = _problem(eng, "TZ-2024-0009")
    with s:
        assert p.mine.licence_no == LICENCE
    rows[1][3] = "示例上湾煤矿"
    rep = import_file(eng, "problems", write_xlsx(tmp_path / "b.xlsx", rows))
    assert rep.updated == 1 and rep.changes[0].fields["mine_name"] == ["示例补连塔煤矿", "示例上湾煤矿"]
    both = [head + ["矿山/采矿许可证号"], rows[1] + [LICENCE]]
    with pytest.raises(ImportFailed, match=r"row 2.*示例上湾煤矿.*C1500002009011120034567"):
        import_file(eng, "problems", write_xlsx(tmp_path / "c.xlsx", both))
    # exact names only: a near miss is refused with the suggestion
    rows[1][3] = "示例上湾矿"
    with pytest.raises(ImportFailed, match="did you mean '示例上湾煤矿'"):
        import_file(eng, "problems", write_xlsx(tmp_path / "d.xlsx", rows))


def test_duplicate_keys_refused_also_with_stray_spaces(county, tmp_path):
    eng = county["engine"]
    rows = _rows()
    rows.append(list(rows[1]))
    rows[3][0] = " TZ-2024-0001 "
    before = snapshot(eng)
    with pytest.raises(ImportFailed, match=r"row 4.*duplicate key 'TZ-2024-0001'.*row 2"):
        import_file(eng, "problems", write_xlsx(tmp_path / "dup.xlsx", rows))
    assert snapshot(eng) == before


def test_new_mine_with_the_name_of_another_is_refused(county, tmp_path):
    eng = county["engine"]
    rows = [["采矿许可证号", "矿山名称"], ["C1500002099011120099999", "示例补连塔煤矿"]]
    with pytest.raises(ImportFailed, match=r"row 2.*示例补连塔煤矿.*C1500002009011120034567"):
        import_file(eng, "mines", write_xlsx(tmp_path / "m.xlsx", rows))


def test_template_instructions_say_what_a_blank_cell_means(tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(write_template("problems", tmp_path / "t.xlsx"))
    text = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "空白单元格" in text and CLEAR_MARK in text
