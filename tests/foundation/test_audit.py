"""The append-only audit trail records who changed what, before and after."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from subsidence.core.history import record_history
from subsidence.core.models import AuditEvent, Mine
from subsidence.db.audit import acting_as


def _mine(session):
    with acting_as(session, "office:LGO", "initial registration"):
        mine = Mine(
            licence_no="C-TEST-1",
            name_zh="测试煤矿",
            capacity_mt_per_yr=2.0,
            geometry=MultiPolygon([box(0, 0, 1000, 2000)]),
        )
        session.add(mine)
        session.commit()
    return mine


def test_insert_update_delete_are_recorded(session):
    mine = _mine(session)
    with acting_as(session, "office:LGO", "capacity approved"):
        mine.capacity_mt_per_yr = 3.5
        session.commit()
    with acting_as(session, "office:LGO", "licence cancelled"):
        session.delete(mine)
        session.commit()
    events = record_history(session, "mine", "C-TEST-1")
    assert [e.action for e in events] == ["insert", "update", "delete"]
    ins, upd, dele = events
    assert ins.actor == "office:LGO" and ins.reason == "initial registration"
    assert ins.after["licence_no"] == "C-TEST-1" and ins.after["geometry"].startswith("MULTIPOLYGON")
    assert upd.before == {"capacity_mt_per_yr": 2.0} and upd.after == {"capacity_mt_per_yr": 3.5}
    assert upd.reason == "capacity approved"
    assert dele.before["name_zh"] == "测试煤矿" and dele.after is None
    assert ins.at <= upd.at <= dele.at and ins.at.tzinfo is not None


def test_unchanged_flush_writes_nothing(session):
    mine = _mine(session)
    n = len(record_history(session, "mine", mine.id))
    mine.capacity_mt_per_yr = 2.0  # same value
    session.commit()
    assert len(record_history(session, "mine", mine.id)) == n


def test_rollback_leaves_no_audit_row(session):
    mine = _mine(session)
    mine.name_zh = "改名"
    session.flush()
    session.rollback()
    assert [e.action for e in record_history(session, "mine", "C-TEST-1")] == ["insert"]


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'forger'", "DELETE FROM audit_event"])
def test_trail_is_append_only(session, statement):
    _mine(session)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
        session.flush()
    session.rollback()
    assert session.scalar(select(AuditEvent.actor)) == "office:LGO"
