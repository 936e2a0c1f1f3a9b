"""Every task-ledger table: export from the demo county, re-import unchanged, and a bad row changes nothing.

The demo comes from the session-wide ``demo_engine`` fixture (built once per backend, copied per test)."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func, select

from subsidence.core.models import AuditEvent
from subsidence.db.session import make_sessionmaker
from subsidence.errors import ValidationFailed
from subsidence.interchange import task_ledgers as tasks_io


@pytest.mark.parametrize("table", sorted(tasks_io.TABLES))
def test_export_reimport_unchanged_and_bad_row_changes_nothing(demo_engine, table, tmp_path):
    with make_sessionmaker(demo_engine)() as s:
        out = tmp_path / f"{table}.xlsx"
        n = tasks_io.export_table(s, table, out)
        assert n > 0, f"the demo county has no {table} to export"
        res = tasks_io.import_table(s, table, out)
        assert (res.created, res.updated, res.unchanged) == (0, 0, n)
        audit_before = s.scalar(select(func.count()).select_from(AuditEvent))
        s.rollback()

        wb = openpyxl.load_workbook(out)
        ws = wb.worksheets[0]
        ws.append(["？？？"] * ws.max_column)  # a row nothing can parse
        bad = tmp_path / f"{table}-bad.xlsx"
        wb.save(bad)
        with pytest.raises(ValidationFailed):
            tasks_io.import_table(s, table, bad)
        s.rollback()
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audit_before
