"""The ledger's reading side: filtered, actor-scoped problem lists, one problem's detail and its history.

Routes, web pages and exports call these; they never write. Scope comes from :mod:`subsidence.access.policy`
(the office sees all, a department its tasks, a town its territory, an enterprise its own mines).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from subsidence.access import policy as authz
from subsidence.core.history import audit_trail
from subsidence.core.models import AdminArea, Mine, Unit
from subsidence.errors import ValidationFailed
from subsidence.ledger import lifecycle, notices
from subsidence.ledger.lifecycle import WORKING_STATES, is_due_soon_on, is_overdue_on  # noqa: F401 (re-exported)
from subsidence.ledger.models import Evidence, Problem
from subsidence.vocabulary import ProblemCategory, ProblemSource, ProblemState

# ---------------------------------------------------------------- the one overdue / due-soon definition
#
# Overdue: still owed by the responsible party (WORKING_STATES: found, notice issued, rectifying, returned)
# and the deadline (as extended) is before today; the deadline day itself is not overdue. A submission
# waiting for acceptance is not overdue (the office's own window is ``acceptance_overdue``).
# Due soon: working, not overdue, deadline within DUE_SOON_WORKDAYS working days (working-day calendar).
# The summary, the dashboard, the progress report, ``calendar watch`` and the API all use these.


def overdue_clause(today: date, table: Any = None) -> Any:
    """SQL condition (on the problem table, or ``table``'s columns): overdue on ``today``."""
    c = (table if table is not None else Problem.__table__).c
    return and_(c.state.in_(sorted(WORKING_STATES, key=lambda s: s.value)), c.deadline < today)


def due_soon_until(today: date, cal: Any = None) -> date:
    """The last deadline that is "due soon" on ``today``: ``DUE_SOON_WORKDAYS`` working days ahead."""
    from subsidence.workdays import DUE_SOON_WORKDAYS, default_calendar

    return (cal or default_calendar()).add_workdays(today, DUE_SOON_WORKDAYS)


@lru_cache(maxsize=16)
def _until(today: date) -> date:
    """:func:`due_soon_until` on the default calendar, once per day (list rows call it per row)."""
    return due_soon_until(today)


def due_soon_clause(today: date, cal: Any = None, table: Any = None) -> Any:
    """SQL condition: working and the deadline falls in ``[today, due_soon_until(today)]``."""
    c = (table if table is not None else Problem.__table__).c
    return and_(
        c.state.in_(sorted(WORKING_STATES, key=lambda s: s.value)),
        c.deadline >= today,
        c.deadline <= due_soon_until(today, cal),
    )


def deadline_counts(session: Session, today: date, where: Any = None, cal: Any = None) -> dict[str, int]:
    """``{"overdue", "due_soon", "acceptance_overdue"}`` problem counts on ``today`` (optionally within
    ``where``, e.g. an actor's scope). Withdrawn/accepted problems never count; neither do problems found
    after ``today``."""
    p = Problem.__table__
    n = lambda cond: func.coalesce(func.sum(case((cond, 1), else_=0)), 0)
    acc = and_(p.c.state == ProblemState.SUBMITTED, p.c.acceptance_due < today)
    stmt = select(n(overdue_clause(today)), n(due_soon_clause(today, cal)), n(acc)).where(p.c.found_date <= today)
    if where is not None:
        stmt = stmt.where(where)
    od, ds, ao = session.execute(stmt).one()
    return {"overdue": int(od), "due_soon": int(ds), "acceptance_overdue": int(ao)}


def problem_filters(
    actor: authz.Actor,
    *,
    today: date,
    state: list[str] | None = None,
    category: str | None = None,
    mine_id: int | None = None,
    town_id: int | None = None,
    lead_unit_id: int | None = None,
    overdue: bool | None = None,
    due_within_days: int | None = None,
    q: str | None = None,
    due_soon: bool | None = None,
) -> list[Any]:
    """WHERE clauses on the problem table alone: the actor's scope plus the user's filters."""
    p = Problem.__table__
    where: list[Any] = [authz.scope_clause(actor, "problem")]
    if state:
        try:
            where.append(p.c.state.in_([ProblemState.parse(s) for s in state]))
        except ValueError as exc:
            raise ValidationFailed(f"state: {exc}") from None
    if category:
        try:
            where.append(p.c.category == ProblemCategory.parse(category))
        except ValueError as exc:
            raise ValidationFailed(f"category: {exc}") from None
    if mine_id is not None:
        where.append(p.c.mine_id == mine_id)
    if town_id is not None:
        where.append(p.c.town_id == town_id)
    if lead_unit_id is not None:
        where.append(p.c.lead_unit_id == lead_unit_id)
    working = sorted(WORKING_STATES, key=lambda s: s.value)
    if overdue is True:
        where.append(overdue_clause(today))
    elif overdue is False:  # a problem without a deadline is not overdue (NOT of NULL would drop it)
        where.append(or_(p.c.deadline.is_(None), ~overdue_clause(today)))
    if due_soon is True:
        where.append(due_soon_clause(today))
    if due_within_days is not None:
        where += [
            p.c.state.in_(working),
            p.c.deadline >= today,
            p.c.deadline <= today + timedelta(days=due_within_days),
        ]
    if q:
        text = q.strip()
        if any(ord(c) < 0x20 for c in text):  # NUL ends the string in PostgreSQL; no control characters
            raise ValidationFailed("q: control characters (e.g. NUL) are not allowed in the search text")
        # LIKE wildcards in the search text are plain characters: "%" finds titles containing "%"
        where.append(p.c.title.contains(text, autoescape=True) | (p.c.code == text))
    return where


def _columns_select():
    mine_t, town_t, unit_t = Mine.__table__, AdminArea.__table__, Unit.__table__
    p = Problem.__table__
    return select(
        p.c.id,
        p.c.code,
        p.c.category,
        p.c.title,
        p.c.state,
        p.c.source,
        p.c.found_date,
        p.c.deadline,
        p.c.mine_id,
        p.c.town_id,
        p.c.lead_unit_id,
        mine_t.c.name_zh.label("mine_name"),
        mine_t.c.licence_no.label("mine_licence"),
        town_t.c.name_zh.label("town_name"),
        unit_t.c.name_zh.label("lead_unit_name"),
    ).select_from(
        p.outerjoin(mine_t, mine_t.c.id == p.c.mine_id)
        .outerjoin(town_t, town_t.c.id == p.c.town_id)
        .outerjoin(unit_t, unit_t.c.id == p.c.lead_unit_id)
    )


def list_query(actor: authz.Actor, *, today: date, **filters):
    """The filtered, actor-scoped problem rows as a Core select of plain columns (fast to serialise)."""
    return _columns_select().where(*problem_filters(actor, today=today, **filters))


def row_dict(r: Any, today: date, lang: str) -> dict[str, Any]:
    """One list row as the API shows it; ``days_left`` in calendar days, negative when past the deadline."""
    cat, st, src = ProblemCategory(r.category), ProblemState(r.state), ProblemSource(r.source)
    working = st in WORKING_STATES
    until = _until(today)
    return {
        "id": r.id,
        "code": r.code,
        "category": cat.value,
        "category_label": cat.label(lang),
        "title": r.title,
        "state": st.value,
        "state_label": st.label(lang),
        "source": src.value,
        "source_label": src.label(lang),
        "found_date": r.found_date.isoformat(),
        "deadline": r.deadline.isoformat() if r.deadline else None,
        "mine_id": r.mine_id,
        "mine_name": r.mine_name,
        "mine_licence": r.mine_licence,
        "town_id": r.town_id,
        "town_name": r.town_name,
        "lead_unit_id": r.lead_unit_id,
        "lead_unit_name": r.lead_unit_name,
        "overdue": is_overdue_on(st, r.deadline, today),
        "due_soon": is_due_soon_on(st, r.deadline, today, until),
        "days_left": (r.deadline - today).days if (working and r.deadline is not None) else None,
    }


def list_problems(
    session: Session,
    actor: authz.Actor,
    *,
    today: date,
    lang: str,
    limit: int,
    offset: int,
    with_total: bool = True,
    order: str = "id",
    **filters,
) -> tuple[list[dict], int | None]:
    """One page of problems and the number matching. The count and the page's ids come from the problem
    table alone (indexed filters, no joins); only the page's rows are joined to mine, town and unit names."""
    p = Problem.__table__
    where = problem_filters(actor, today=today, **filters)
    total = session.scalar(select(func.count()).select_from(p).where(*where)) if with_total else None
    order_by = {"id": [p.c.id], "deadline": [p.c.deadline, p.c.id], "-id": [p.c.id.desc()]}[order]
    page_ids = select(p.c.id).where(*where).order_by(*order_by).offset(offset).limit(limit)
    if limit >= 10_000:  # exports: one pass with the joins
        stmt = _columns_select().where(*where).order_by(*order_by).offset(offset).limit(limit)
    else:
        stmt = _columns_select().where(p.c.id.in_(page_ids.scalar_subquery())).order_by(*order_by)
    rows = session.execute(stmt).all()
    return [row_dict(r, today, lang) for r in rows], total


def evidence_list(session: Session, problem: Problem) -> list[dict[str, Any]]:
    """The problem's evidence files, oldest first, each with its download URL."""
    rows = session.scalars(select(Evidence).where(Evidence.problem_id == problem.id).order_by(Evidence.id))
    return [
        {
            "id": e.id,
            "filename": e.filename,
            "kind": e.kind,
            "media_type": e.media_type,
            "size_bytes": e.size_bytes,
            "sha256": e.sha256,
            "uploaded_by": e.uploaded_by,
            "uploaded_at": e.created_at.isoformat() if e.created_at else None,
            "note": e.note,
            "url": f"/api/problems/{problem.id}/evidence/{e.id}",
        }
        for e in rows
    ]


def problem_detail(session: Session, actor: authz.Actor, problem: Problem, today: date, lang: str) -> dict[str, Any]:
    """One problem as its page shows it: the list row plus description, requirement, milestones, the actions
    the actor may take, notices, evidence and the audit history."""
    base = list_query(actor, today=today).where(Problem.__table__.c.id == problem.id)
    row = session.execute(base).one()
    out = row_dict(row, today, lang)
    out.update(
        description=problem.description,
        requirement=problem.requirement,
        closed_date=problem.closed_date.isoformat() if problem.closed_date else None,
        milestones=[
            {
                "seq": m.seq,
                "description": m.description,
                "due_date": m.due_date.isoformat(),
                "done_date": m.done_date.isoformat() if m.done_date else None,
            }
            for m in problem.milestones
        ],
        cooperating_units=[u.name_zh for u in problem.cooperating_units],
    )
    out["actions"] = [
        {
            "name": t.name,
            "label": t.label_zh if lang.startswith("zh") else t.label_en,
            "via": t.via,
            "reason_required": t.reason_required,
        }
        for t in lifecycle.allowed_transitions(problem, actor)
    ]
    out["can_upload_evidence"] = authz.can(session, actor, "upload_evidence", problem, "problem")
    out["notices"] = [notices.notice_summary(n) for n in notices.notices_of(session, problem)]
    out["evidence"] = evidence_list(session, problem)
    out["history"] = audit_trail(session, "problem", problem.id)
    from subsidence.ledger.narrative import guidance, in_words

    out["history_words"] = in_words(out["history"], lang)
    from subsidence.ledger import extensions as ext
    from subsidence.ledger.lifecycle import Party, parties_of

    parties = parties_of(problem, actor)
    pending = ext.pending_extension(session, problem)
    from subsidence.ledger.narrative import who

    out["extensions"] = [
        {
            **ext.extension_dict(x),
            "requested_by_words": who(x.requested_by or "", lang),
            "decided_by_words": who(x.decided_by or "", lang),
        }
        for x in ext.extensions_of(session, problem)
    ]
    out["can_request_extension"] = (
        bool(parties & {Party.ENTERPRISE, Party.OFFICE})
        and pending is None
        and problem.state in ext.EXTENDABLE_STATES
        and problem.deadline is not None
        and today <= problem.deadline
    )
    out["can_decide_extension"] = pending is not None and bool(parties & {Party.LEAD_UNIT, Party.OFFICE})
    out["guidance"] = guidance(out["category"], out["state"], lang)
    # an action the rules would refuse right now is shown with the reason, not as a button that always fails
    from subsidence.errors import ServiceError

    for a in out["actions"]:
        if a["name"] == "submit":
            try:
                lifecycle._check_submission(session, problem)
            except ServiceError as exc:
                zh_msg, _, en_msg = exc.message.partition(" / ")
                a["blocked"] = zh_msg if lang.startswith("zh") or not en_msg else en_msg
    from subsidence.ledger.milestones import MILESTONE_STATES

    out["can_complete_milestones"] = (
        bool(parties & {Party.OFFICE, Party.LEAD_UNIT, Party.ENTERPRISE}) and problem.state in MILESTONE_STATES
    )
    for m in out["milestones"]:
        m["overdue"] = m["done_date"] is None and m["due_date"] < today.isoformat()
    return out


def mine_rows(
    session: Session, actor: authz.Actor, lang: str, town_id: int | None = None, enterprise_id: int | None = None
) -> list[dict[str, Any]]:
    """The mines ``actor`` may see, by licence number, each with its number of problems not yet closed."""
    from subsidence.core.models import Enterprise
    from subsidence.vocabulary import CLOSED_STATES

    m, e, t, p = Mine.__table__, Enterprise.__table__, AdminArea.__table__, Problem.__table__
    open_count = (
        select(p.c.mine_id, func.count().label("n"))
        .where(p.c.state.not_in(sorted(CLOSED_STATES)))
        .group_by(p.c.mine_id)
        .subquery()
    )
    stmt = (
        select(Mine, e.c.name_zh.label("ent"), t.c.name_zh.label("town"), open_count.c.n)
        .select_from(
            m.outerjoin(e, e.c.id == m.c.enterprise_id)
            .outerjoin(t, t.c.id == m.c.town_id)
            .outerjoin(open_count, open_count.c.mine_id == m.c.id)
        )
        .where(authz.scope_clause(actor, "mine"))
        .order_by(m.c.licence_no)
    )
    if town_id is not None:
        stmt = stmt.where(m.c.town_id == town_id)
    if enterprise_id is not None:
        stmt = stmt.where(m.c.enterprise_id == enterprise_id)
    out = []
    for mine, ent, town, n in session.execute(stmt):
        out.append(
            {
                "id": mine.id,
                "licence_no": mine.licence_no,
                "name": mine.name_zh if lang.startswith("zh") else (mine.name_en or mine.name_zh),
                "enterprise_id": mine.enterprise_id,
                "enterprise_name": ent,
                "town_id": mine.town_id,
                "town_name": town,
                "status": mine.status.value,
                "status_label": mine.status.label(lang),
                "mining_method": mine.mining_method.value,
                "capacity_mt_per_yr": mine.capacity_mt_per_yr,
                "licence_valid_to": mine.licence_valid_to.isoformat() if mine.licence_valid_to else None,
                "open_problems": int(n or 0),
                "illustrative": mine.illustrative,
            }
        )
    return out


def filter_options(session: Session, actor: authz.Actor, lang: str) -> dict[str, list[tuple[Any, str]]]:
    """The choices of the ledger's filters for ``actor``: states, tasks, the towns and lead units that occur
    in its scope (value, label)."""
    p = Problem.__table__
    scope = authz.scope_clause(actor, "problem")
    zh = lang.startswith("zh")
    towns = session.execute(
        select(AdminArea.id, AdminArea.name_zh, AdminArea.name_en)
        .where(AdminArea.id.in_(select(p.c.town_id).where(scope)))
        .order_by(AdminArea.code)
    ).all()
    units = session.execute(
        select(Unit.id, Unit.name_zh, Unit.name_zh)
        .where(Unit.id.in_(select(p.c.lead_unit_id).where(scope)))
        .order_by(Unit.code)
    ).all()
    return {
        "state": [(s.value, s.label(lang)) for s in ProblemState],
        "category": [(c.value, f"{c.value} {c.label(lang)}") for c in ProblemCategory],
        "town_id": [(i, zh_name if zh or not en else en) for i, zh_name, en in towns],
        "lead_unit_id": [(i, zh_name if zh or not en else en) for i, zh_name, en in units],
    }


def work_list(
    session: Session, actor: authz.Actor, *, today: date, lang: str, limit: int = 500
) -> list[dict[str, Any]]:
    """The problems still open in ``actor``'s scope, most urgent first: overdue (longest overdue first), then
    by deadline (soonest first), then those without a deadline. Each with what to do next, the evidence its
    acceptance needs, and its open extension request, if any."""
    from subsidence.ledger.narrative import guidance
    from subsidence.vocabulary import CLOSED_STATES

    rows, _ = list_problems(
        session,
        actor,
        today=today,
        lang=lang,
        limit=limit,
        offset=0,
        with_total=False,
        order="deadline",
        state=[s.value for s in ProblemState if s not in CLOSED_STATES],
    )
    rows.sort(key=lambda r: (not r["overdue"], r["deadline"] is None, r["deadline"] or "", r["code"]))
    pend = {}
    if rows:
        from subsidence.ledger.models import DeadlineExtension

        pend = {
            pid: d
            for pid, d in session.execute(
                select(DeadlineExtension.problem_id, DeadlineExtension.requested_deadline).where(
                    DeadlineExtension.problem_id.in_([r["id"] for r in rows]), DeadlineExtension.state == "pending"
                )
            )
        }
    for r in rows:
        r["guidance"] = guidance(r["category"], r["state"], lang)
        r["extension_pending"] = pend[r["id"]].isoformat() if r["id"] in pend else None
    return rows
