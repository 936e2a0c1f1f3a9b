"""Excel import/export of the task ledgers: templates, validation, atomicity, idempotency."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func, select

from subsidence.errors import ValidationFailed
from subsidence.interchange import task_ledgers as tasks_io
from subsidence.tasks import fund
from subsidence.tasks.models import FundEntry, HiddenFactor, Inspector, WaterPlan


def _fill(template, path, rows):
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_fund_entries_import_atomic_idempotent(session, county, tmp_path):
    mine = county.mines[0]
    fund.open_account(session, mine)
    tpl = tasks_io.write_template("fund-entries", tmp_path / "tpl.xlsx")
    ws = openpyxl.load_workbook(tpl).worksheets[0]
    assert ws.cell(row=2, column=1).value == "凭证号" and ws.cell(row=2, column=4).value == "金额(元)"
    lic = mine.licence_no
    good = _fill(
        tpl,
        tmp_path / "good.xlsx",
        [
            ["FE-1", lic, "计提存入", "1,000,000.00", "2025-01-10", 2025, None, None, "银行回单 001", None],
            ["FE-2", lic, "治理支出", "250000", "2025-03-01", None, None, "裂缝充填", None, None],
        ],
    )
    res = tasks_io.import_table(session, "fund-entries", good)
    assert (res.created, res.unchanged) == (2, 0)
    assert fund.balance_fen(session, mine) == 750_000_00
    again = tasks_io.import_table(session, "fund-entries", good)
    assert (again.created, again.unchanged) == (0, 2)
    bad = _fill(
        tpl,
        tmp_path / "bad.xlsx",
        [
            ["FE-3", lic, "计提存入", "100", "2025-04-01", None, None, None, None, None],
            ["FE-4", lic, "其他支取", "9999999", "2025-04-02", None, None, None, None, None],
            ["FE-5", lic, "计提存入", "-5", "2025-04-03", None, None, None, None, None],
            ["FE-6", lic, "计提存入", "5", "昨天", None, None, None, None, None],
        ],
    )
    n = session.scalar(select(func.count(FundEntry.id)))
    with pytest.raises(ValidationFailed) as ei:
        tasks_io.import_table(session, "fund-entries", bad)
    msg = ei.value.message
    assert "row 4" in msg and "exceeds the fund balance" in msg and "row 5" in msg and "positive" in msg
    assert "row 6" in msg and "日期" in msg
    assert session.scalar(select(func.count(FundEntry.id))) == n  # FE-3 was valid but nothing was kept
    out = tmp_path / "export.xlsx"
    assert tasks_io.export_table(session, "fund-entries", out) == 2
    again = tasks_io.import_table(session, "fund-entries", out)  # the export re-imports as unchanged
    assert again.unchanged == 2


def test_directories_and_factors(session, county, tmp_path):
    lic = county.mines[0].licence_no
    tpl = tasks_io.write_template("inspectors", tmp_path / "i.xlsx")
    f = _fill(tpl, tmp_path / "i1.xlsx", [["NRB-01", "NRB", "执法人员", "是"], ["EMB-01", "EMB", None, "是"]])
    assert tasks_io.import_table(session, "inspectors", f).created == 2
    assert tasks_io.import_table(session, "inspectors", f).unchanged == 2
    bad = _fill(tpl, tmp_path / "i2.xlsx", [["X-01", "NOPE", None, "是"]])
    with pytest.raises(ValidationFailed, match="unit 'NOPE' not found"):
        tasks_io.import_table(session, "inspectors", bad)
    assert session.scalar(select(func.count(Inspector.id))) == 2
    tpl = tasks_io.write_template("hidden-factors", tmp_path / "h.xlsx")
    row = [
        "HF-9",
        lic,
        "采空区积水",
        2024,
        "2024-10-01",
        "12401",
        None,
        "major",
        "是",
        "2024-11-01",
        "RP-9",
        "探放水",
        "审查通过",
        "2024-10-10",
        "2024-10-20",
        "同意",
        "2025-03-31",
        None,
    ]
    f = _fill(tpl, tmp_path / "h1.xlsx", [row])
    assert tasks_io.import_table(session, "hidden-factors", f).created == 1
    assert tasks_io.import_table(session, "hidden-factors", f).unchanged == 1
    assert session.scalar(select(HiddenFactor)).plan.review_result == "同意"
    tpl = tasks_io.write_template("water-plans", tmp_path / "w.xlsx")
    f = _fill(
        tpl,
        tmp_path / "w1.xlsx",
        [["WP-1", lic, "已批复", "水位下降", None, "2025-01-01", "2025-02-01", None, None, None]],
    )
    with pytest.raises(ValidationFailed, match="批复文号"):
        tasks_io.import_table(session, "water-plans", f)
    assert session.scalar(select(func.count(WaterPlan.id))) == 0
