"""Today's progress by task, town and department as one SQL aggregation, for the dashboard.

:func:`subsidence.ledger.progress.compute_progress` reconstructs any past date from the audit trail and
loads every problem: right for reports, too slow for a dashboard over 100,000 problems. For *today* the
current states are the states as of today, so the same counts (same definitions, see that module) come
from one ``GROUP BY`` over the problem table. ``tests/web/test_progress_today.py`` checks both agree.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from subsidence.core.models import AdminArea, Unit
from subsidence.ledger.models import Problem
from subsidence.ledger.queries import overdue_clause
from subsidence.vocabulary import ProblemCategory, ProblemState

S = ProblemState
KEYS = ("found", "noticed", "rectifying", "submitted", "fixed_at_once", "accepted", "overdue", "on_time", "late")


def _row(key: str, zh: str, en: str) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, **{k: 0 for k in KEYS}}


def _finish(r: dict[str, Any]) -> dict[str, Any]:
    r["accepted_pct"] = round(100.0 * r["accepted"] / r["found"], 1) if r["found"] else 0.0
    return r


def progress_today(session: Session, today: date) -> dict[str, Any]:
    """``{"total", "by_task", "by_town", "by_department"}`` rows with the ledger's count keys."""
    from subsidence.ledger.models import RectificationNotice

    p = Problem.__table__
    noticed = exists().where(RectificationNotice.problem_id == p.c.id, RectificationNotice.issued_date <= today)
    closed = func.coalesce(p.c.closed_date, today)
    accepted = p.c.state == S.ACCEPTED
    n = lambda cond: func.sum(case((cond, 1), else_=0))
    stmt = (
        select(
            p.c.category,
            p.c.town_id,
            p.c.lead_unit_id,
            func.count().label("found"),
            n(noticed).label("noticed"),
            n(p.c.state.in_([S.NOTICE_ISSUED, S.RECTIFYING, S.RETURNED])).label("rectifying"),
            n(p.c.state == S.SUBMITTED).label("submitted"),
            n(p.c.state == S.FIXED_AT_ONCE).label("fixed_at_once"),
            n(accepted).label("accepted"),
            n(overdue_clause(today, p)).label("overdue"),
            n(and_(accepted, or_(p.c.deadline.is_(None), closed <= p.c.deadline))).label("on_time"),
            n(and_(accepted, p.c.deadline.is_not(None), closed > p.c.deadline)).label("late"),
        )
        .where(p.c.found_date <= today, p.c.state != S.WITHDRAWN)
        .group_by(p.c.category, p.c.town_id, p.c.lead_unit_id)
    )
    groups = session.execute(stmt).all()
    towns = {
        t.id: t
        for t in session.scalars(
            select(AdminArea).where(AdminArea.id.in_({g.town_id for g in groups if g.town_id is not None}))
        )
    }
    units = {
        u.id: u
        for u in session.scalars(
            select(Unit).where(Unit.id.in_({g.lead_unit_id for g in groups if g.lead_unit_id is not None}))
        )
    }

    total = _row("total", "合计", "total")
    by_task = {c: _row(c.value, c.label("zh"), c.label("en")) for c in ProblemCategory}
    by_town: dict[str, dict[str, Any]] = {}
    by_dept: dict[str, dict[str, Any]] = {}
    for g in groups:
        t = towns.get(g.town_id)
        tk = t.code if t else "-"
        town_row = by_town.setdefault(
            tk, _row(tk, t.name_zh if t else "（未指定镇）", (t.name_en or t.code) if t else "(no town)")
        )
        u = units.get(g.lead_unit_id)
        dk = u.code if u else "-"
        dept_row = by_dept.setdefault(
            dk, _row(dk, u.name_zh if u else "（未指定）", (u.name_en or u.code) if u else "(none)")
        )
        for row in (total, by_task[ProblemCategory(g.category)], town_row, dept_row):
            for k in KEYS:
                row[k] += int(getattr(g, k) or 0)
    return {
        "total": _finish(total),
        "by_task": [_finish(r) for r in by_task.values()],
        "by_town": [_finish(r) for r in sorted(by_town.values(), key=lambda r: r["key"])],
        "by_department": [_finish(r) for r in sorted(by_dept.values(), key=lambda r: r["key"])],
    }
