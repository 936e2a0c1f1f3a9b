"""Duplicate keys in the task ledgers' Excel imports (interchange/task_ledgers.py) are refused, naming both rows; nothing
changes. The mine in a key is compared as the mine, whether written by licence number or by name."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func, select

from subsidence.core.models import AuditEvent, Mine
from subsidence.db.session import make_sessionmaker
from subsidence.errors import ValidationFailed
from subsidence.interchange import task_ledgers as tasks_io
from subsidence.tasks import fund
from subsidence.tasks.models import FundEntry
from tests.io.iokit import LICENCE


def _fill(template, path, rows):
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_duplicate_voucher_refused_even_when_identical(county, tmp_path):
    eng = county["engine"]
    with make_sessionmaker(eng)() as s:
        s.info["actor"] = "test"
        mine = s.scalar(select(Mine).where(Mine.licence_no == LICENCE))
        fund.open_account(s, mine)
        s.commit()
        tpl = tasks_io.write_template("fund-entries", tmp_path / "tpl.xlsx")
        entries = before = s.scalar(select(func.count()).select_from(FundEntry))
        events = s.scalar(select(func.count()).select_from(AuditEvent))
        row = ["FE-1", LICENCE, "计提存入", "1000.00", "2025-01-10", 2025, None, None, None, None]
        for second in (list(row), ["FE-1", LICENCE, "计提存入", "2000.00", "2025-01-11", 2025, None, None, None, None]):
            bad = _fill(tpl, tmp_path / "dup.xlsx", [row, second])
            with pytest.raises(ValidationFailed) as exc:
                tasks_io.import_table(s, "fund-entries", bad)
            s.rollback()
            assert "row 4" in exc.value.message and "duplicate" in exc.value.message and "row 3" in exc.value.message
            assert s.scalar(select(func.count()).select_from(FundEntry)) == entries == before
            assert s.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_duplicate_mine_year_by_licence_and_by_name_refused(county, tmp_path):
    eng = county["engine"]
    with make_sessionmaker(eng)() as s:
        s.info["actor"] = "test"
        tpl = tasks_io.write_template("fund-obligations", tmp_path / "tpl.xlsx")
        headers = [c.value for c in openpyxl.load_workbook(tpl).worksheets[0][2]]

        def r(mine, out):
            vals = {"采矿许可证号": mine, "年度": 2025, "上年度原煤产量(吨)": out}
            return [vals.get(h) for h in headers]

        bad = _fill(tpl, tmp_path / "dup.xlsx", [r(LICENCE, 1_000_000), r("示例补连塔煤矿", 2_000_000)])
        with pytest.raises(ValidationFailed, match=r"row 4.*duplicate.*row 3"):
            tasks_io.import_table(s, "fund-obligations", bad)


def test_task_ledger_blank_cell_keeps_value_and_clear_mark_clears(county, tmp_path):
    """The task ledgers follow the same rule as the problem ledger: blank = leave unchanged, （清空） clears."""
    from subsidence.io.fields import CLEAR_MARK
    from subsidence.tasks.models import WaterPlan

    eng = county["engine"]
    with make_sessionmaker(eng)() as s:
        s.info["actor"] = "test"
        tpl = tasks_io.write_template("water-plans", tmp_path / "tpl.xlsx")
        headers = [c.value for c in openpyxl.load_workbook(tpl).worksheets[0][2]]

        def r(**kw):
            vals = {
                "方案编号": "BS-1",
                "采矿许可证号": LICENCE,
                "方案状态": "已批复",
                "应编制原因": "地下水位下降",
                "批复期限": "2025-06-30",
                "报送日期": "2025-03-01",
                "批复日期": "2025-04-01",
                "批复文号": "伊水批〔2025〕1号",
            }
            vals.update(kw)
            return [vals.get(h) for h in headers]

        full = _fill(tpl, tmp_path / "full.xlsx", [r()])
        assert tasks_io.import_table(s, "water-plans", full).created == 1
        s.commit()
        events = s.scalar(select(func.count()).select_from(AuditEvent))
        partial = _fill(tpl, tmp_path / "partial.xlsx", [r(**{"报送日期": None, "批复文号": None, "应编制原因": None})])
        res = tasks_io.import_table(s, "water-plans", partial)
        assert (res.updated, res.unchanged) == (0, 1)
        s.commit()
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == events
        plan = s.scalar(select(WaterPlan).where(WaterPlan.code == "BS-1"))
        assert plan.approval_no == "伊水批〔2025〕1号" and str(plan.submitted_date) == "2025-03-01"
        cleared = _fill(tpl, tmp_path / "cleared.xlsx", [r(**{"应编制原因": CLEAR_MARK})])
        assert tasks_io.import_table(s, "water-plans", cleared).updated == 1
        s.commit()
        assert s.scalar(select(WaterPlan.required_reason).where(WaterPlan.code == "BS-1")) is None
        bad = _fill(tpl, tmp_path / "bad.xlsx", [r(**{"方案状态": CLEAR_MARK})])
        with pytest.raises(ValidationFailed, match="cannot be cleared"):
            tasks_io.import_table(s, "water-plans", bad)
