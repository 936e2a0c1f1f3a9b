"""Every task-ledger table: export from the demo county, re-import unchanged, and a bad row changes nothing."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from subsidence.db.migrate import upgrade
from subsidence.db.session import make_engine, make_sessionmaker
from subsidence.demo.county import build_demo
from subsidence.core.models import AuditEvent
from subsidence.tasks import excel as tasks_io
from subsidence.errors import ValidationFailed


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('tasks-demo') / 'demo.sqlite'}")
    upgrade(eng)
    with make_sessionmaker(eng)() as s:
        build_demo(s, today=date(2026, 11, 30))
        s.commit()
    yield eng
    eng.dispose()


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
