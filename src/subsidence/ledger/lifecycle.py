"""The lifecycle of a ledger problem: explicit states, a transition table, and who may do each transition.

::

    found ──fix_at_once──▶ fixed_at_once ──accept──▶ accepted
      │                        │
      └──issue_notice──▶ notice_issued ◀──issue_notice──┘ (not really fixed)
                             │ start
                             ▼
                         rectifying ──submit──▶ submitted ──accept──▶ accepted (closed)
                             ▲                      │ return
                             └────── resume ──── returned
    any open state ──withdraw (reason required)──▶ withdrawn

The table (:data:`TRANSITIONS`) is data: for each transition the states it leaves, the state it reaches,
the *parties* who may perform it (the office, the problem's lead unit, the enterprise owning the
problem's mine) and whether a reason is required. :func:`allowed_transitions` answers "what may this
actor do to this problem now" for the CLI and the web UI (buttons, API authorization);
:func:`transition` enforces the same table. Three transitions carry a document and go through their own
service: ``issue_notice`` (:func:`subsidence.ledger.notices.issue_notice`), ``accept`` / ``return``
(:func:`subsidence.ledger.evidence.record_acceptance`).

Every transition writes a domain event (``action="transition"``: actor, reason, before/after state,
business date) with :func:`subsidence.db.audit.record_event`, besides the automatic row audit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor
from subsidence.core.models import AdminArea, Mine, Unit
from subsidence.db.audit import acting_as, record_event
from subsidence.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.vocabulary import (
    CLOSED_STATES,
    ProblemCategory,
    ProblemSource,
    ProblemState,
    Role,
)

log = logging.getLogger(__name__)

S = ProblemState


class Party(StrEnum):
    """Who, relative to a problem, an actor is."""

    OFFICE = "office"  #: the leading-group office (领导小组办公室)
    LEAD_UNIT = "lead_unit"  #: the problem's lead unit (牵头单位): a department or a town
    ENTERPRISE = "enterprise"  #: the enterprise owning the problem's mine (责任主体)


PARTY_LABELS = {
    Party.OFFICE: ("领导小组办公室", "office"),
    Party.LEAD_UNIT: ("牵头单位", "lead unit"),
    Party.ENTERPRISE: ("矿山企业", "enterprise"),
}

#: states in which a problem is still being worked on
OPEN_STATES = frozenset(set(S) - CLOSED_STATES)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[ProblemState]
    target: ProblemState
    parties: frozenset[Party]
    label_zh: str
    label_en: str
    reason_required: bool = False
    #: the service that must perform it (None: :func:`transition` does)
    via: str | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "from": sorted(s.value for s in self.sources),
            "to": self.target.value,
            "parties": sorted(p.value for p in self.parties),
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "reason_required": self.reason_required,
            "via": self.via,
        }


def _t(name, sources, target, parties, zh, en, **kw) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(parties), zh, en, **kw)


OFC, LEAD, ENT = Party.OFFICE, Party.LEAD_UNIT, Party.ENTERPRISE

#: the transition table (who may do what is data, not ``if``s)
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("fix_at_once", {S.FOUND}, S.FIXED_AT_ONCE, {OFC, LEAD, ENT}, "立行立改", "fixed at once"),
        _t(
            "issue_notice",
            {S.FOUND, S.FIXED_AT_ONCE},
            S.NOTICE_ISSUED,
            {OFC, LEAD},
            "下达限期整改通知书",
            "issue a deadline rectification notice",
            via="notice",
        ),
        _t("start", {S.NOTICE_ISSUED}, S.RECTIFYING, {OFC, LEAD, ENT}, "开始整改", "start rectifying"),
        _t("submit", {S.RECTIFYING}, S.SUBMITTED, {LEAD, ENT}, "申请验收", "submit for acceptance"),
        _t(
            "accept",
            {S.SUBMITTED, S.FIXED_AT_ONCE},
            S.ACCEPTED,
            {OFC},
            "验收通过、销号",
            "accept (close)",
            via="acceptance",
        ),
        _t(
            "return",
            {S.SUBMITTED},
            S.RETURNED,
            {OFC},
            "验收不通过、退回",
            "return (not accepted)",
            reason_required=True,
            via="acceptance",
        ),
        _t("resume", {S.RETURNED}, S.RECTIFYING, {OFC, LEAD, ENT}, "重新整改", "resume rectifying"),
        _t("withdraw", set(OPEN_STATES), S.WITHDRAWN, {OFC}, "撤销", "withdraw", reason_required=True),
    ]
}

#: states from which a deadline notice may be issued
NOTICE_STATES = TRANSITIONS["issue_notice"].sources


def parties_of(problem: Problem, actor: Actor) -> frozenset[Party]:
    """The parties ``actor`` is for ``problem`` (possibly none)."""
    out = set()
    if actor.role == Role.OFFICE:
        out.add(Party.OFFICE)
    if (
        actor.role in (Role.DEPARTMENT, Role.TOWN, Role.OFFICE)
        and actor.unit_id is not None
        and actor.unit_id == problem.lead_unit_id
    ):
        out.add(Party.LEAD_UNIT)
    if (
        actor.role == Role.ENTERPRISE
        and actor.enterprise_id is not None
        and problem.mine is not None
        and problem.mine.enterprise_id == actor.enterprise_id
    ):
        out.add(Party.ENTERPRISE)
    return frozenset(out)


def allowed_transitions(problem: Problem, actor: Actor, *, include_via: bool = True) -> list[Transition]:
    """The transitions ``actor`` may perform on ``problem`` in its current state (for UI buttons / API)."""
    mine = parties_of(problem, actor)
    return [
        t
        for t in TRANSITIONS.values()
        if problem.state in t.sources and t.parties & mine and (include_via or t.via is None)
    ]


def check_transition(problem: Problem, actor: Actor, name: str, reason: str | None = None) -> Transition:
    """Raise a clear :mod:`errors` exception unless ``actor`` may perform ``name`` on ``problem`` now."""
    t = TRANSITIONS.get(name)
    if t is None:
        raise ValidationFailed(f"未知的流转“{name}” / unknown transition {name!r}; one of: {', '.join(TRANSITIONS)}")
    if problem.state not in t.sources:
        allowed_here = [x.name for x in TRANSITIONS.values() if problem.state in x.sources]
        raise Conflict(
            f"问题 {problem.code} 当前状态为“{problem.state.label()}”，不能“{t.label_zh}” / problem {problem.code} is "
            f"{problem.state.value}; '{name}' needs one of: {', '.join(sorted(s.value for s in t.sources))}. "
            f"From {problem.state.value} the ledger allows: {', '.join(allowed_here) or 'nothing (closed)'}"
        )
    if not (t.parties & parties_of(problem, actor)):
        who = "、".join(PARTY_LABELS[p][0] for p in sorted(t.parties))
        raise Forbidden(
            f"“{t.label_zh}”只能由{who}办理 / '{name}' on {problem.code} may be done only by "
            f"{', '.join(sorted(p.value for p in t.parties))}; {actor.audit_name} is none of these for this problem"
        )
    if t.reason_required and not (reason and reason.strip()):
        raise ValidationFailed(f"“{t.label_zh}”必须写明理由 / '{name}' needs a reason (--reason)")
    return t


def apply_transition(
    session: Session,
    problem: Problem,
    actor: Actor,
    name: str,
    *,
    on: date,
    reason: str | None = None,
    extra: dict | None = None,
) -> Transition:
    """Perform a checked transition and record it (used by this module and by the notice/acceptance services)."""
    t = check_transition(problem, actor, name, reason)
    before = problem.state
    with acting_as(session, actor.audit_name, reason):
        problem.state = t.target
        if t.target in CLOSED_STATES:
            problem.closed_date = on
        session.flush()
        record_event(
            session,
            entity="problem",
            entity_id=problem.id,
            entity_key=problem.code,
            action="transition",
            before={"state": before.value},
            after={"state": t.target.value, "transition": name, "on": on.isoformat(), **(extra or {})},
            reason=reason,
            actor=actor.audit_name,
        )
    log.info("problem %s: %s -> %s (%s by %s)", problem.code, before.value, t.target.value, name, actor.audit_name)
    return t


def transition(
    session: Session,
    problem: Problem,
    actor: Actor,
    name: str,
    *,
    on: date | None = None,
    reason: str | None = None,
    date_reason: str | None = None,
) -> Problem:
    """Move ``problem`` by transition ``name`` (see :data:`TRANSITIONS`); nothing changes when refused.

    ``on`` is the business date: the server's date (:func:`server_today`) unless the office records an
    earlier one with ``date_reason`` (:func:`business_date`). ``submit`` needs evidence attached since the
    notice (or since the last return) and every milestone done, and opens the office's 60-working-day
    acceptance window (``problem.acceptance_due``).
    """
    t = TRANSITIONS.get(name)
    if t is not None and t.via is not None:
        check_transition(problem, actor, name, reason)  # the state/party error first, if any
        cmd = {
            "notice": "subsidence notice issue / notices.issue_notice",
            "acceptance": "subsidence problem accept|return / evidence.record_acceptance",
        }[t.via]
        raise ValidationFailed(f"“{t.label_zh}”须随文书办理 / '{name}' needs its document: use {cmd}")
    check_transition(problem, actor, name, reason)  # before touching anything
    on, correction = business_date(session, problem, actor, on, date_reason, what=t.label_zh)
    extra: dict = dict(correction)
    if name == "submit":
        from subsidence.workdays import default_calendar

        _check_submission(session, problem)
        problem.submitted_date = on
        problem.acceptance_due = default_calendar().acceptance_due(on)
        extra["acceptance_due"] = problem.acceptance_due.isoformat()
    apply_transition(session, problem, actor, name, on=on, reason=reason, extra=extra)
    return problem


def _check_submission(session: Session, problem: Problem) -> None:
    """A submission for acceptance shows the work: evidence attached since the notice (after a return: since
    the return) and every milestone completed."""
    from subsidence.ledger.models import AcceptanceRecord, Evidence, RectificationNotice

    since = session.scalar(
        select(AcceptanceRecord.created_at)
        .where(AcceptanceRecord.problem_id == problem.id)
        .order_by(AcceptanceRecord.id.desc())
        .limit(1)
    )
    if since is None:
        since = session.scalar(
            select(RectificationNotice.created_at)
            .where(RectificationNotice.problem_id == problem.id)
            .order_by(RectificationNotice.id.desc())
            .limit(1)
        )
    q = select(Evidence.id).where(Evidence.problem_id == problem.id)
    if since is not None:
        q = q.where(Evidence.created_at >= since)
    if session.scalar(q.limit(1)) is None:
        raise ValidationFailed(
            f"申请验收须附整改佐证材料（通知书下达或上次退回之后上传的照片或文件） / submitting {problem.code} for acceptance needs evidence "
            "uploaded since the notice (or since the last return): attach photos or documents first"
        )
    open_ms = [m for m in problem.milestones if m.done_date is None]
    if open_ms:
        raise ValidationFailed(
            f"时间节点未全部完成：{'、'.join(f'{m.seq}.{m.description}' for m in open_ms)} / milestones not completed: "
            f"{', '.join(str(m.seq) for m in open_ms)} (complete them with their evidence first)"
        )


def server_today(session: Session | None = None) -> date:
    """The server's business date: what counts as "today" for every date the law relies on. A test or the
    demo may pin it for a session (``session.info["server_today"]``), never a request's input."""
    if session is not None and session.info.get("server_today") is not None:
        return session.info["server_today"]
    return today_local()


def last_step_date(session: Session, problem: Problem) -> date:
    """The business date of the problem's latest recorded step (transition), else its found date."""
    from subsidence.core.models import AuditEvent

    rows = session.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.entity == "problem", AuditEvent.entity_id == problem.id, AuditEvent.action == "transition")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).all()
    on = (rows[0] or {}).get("on") if rows else None
    return max(date.fromisoformat(on), problem.found_date) if on else problem.found_date


def business_date(
    session: Session,
    problem: Problem | None,
    actor: Actor,
    on: date | None,
    date_reason: str | None,
    *,
    what: str = "",
    previous: date | None = None,
) -> tuple[date, dict]:
    """The date to record for a step and, when it is not the server's date, the correction to show.

    Enterprises, lead units and towns get the server's date (:func:`server_today`); only the office may
    record an earlier date, with a reason, never in the future and never before the previous step
    (``previous``, default the problem's last step). Returns ``(date, extra)``; ``extra`` goes into the
    step's history event (``recorded_on`` always; ``date_corrected``/``date_reason`` for an earlier date).
    """
    server = server_today(session)
    if on is None or on == server:
        return server, {"recorded_on": server.isoformat()}
    if on > server:
        raise ValidationFailed(
            f"日期 {on} 晚于今天 {server} / {what or 'the'} date {on} is in the future (today is {server})"
        )
    if actor.role != Role.OFFICE:
        raise Forbidden(
            f"“{what}”的日期以服务器日期 {server} 为准，只有领导小组办公室可以补录更早的日期 / the date of "
            f"this step is the server's date {server}; only the office may record an earlier date"
        )
    if not (date_reason and date_reason.strip()):
        raise ValidationFailed(
            f"补录更早的日期 {on} 须写明理由 / recording the earlier date {on} needs a reason (--date-reason)"
        )
    prev = previous if previous is not None else (last_step_date(session, problem) if problem is not None else None)
    if prev is not None and on < prev:
        raise ValidationFailed(f"日期 {on} 早于上一步的日期 {prev} / {on} is before the previous step ({prev})")
    return on, {"recorded_on": server.isoformat(), "date_corrected": True, "date_reason": date_reason.strip()}


# ---------------------------------------------------------------------------------------------- helpers


def today_local() -> date:
    """Today in the configured time zone (the office's business day)."""
    from subsidence.settings import get_settings

    return datetime.now(get_settings().tz).date()


def find_problem(session: Session, key: str | int) -> Problem:
    """A problem by ledger code (TZ-2024-0001) or numeric id."""
    text = str(key).strip()
    problem = session.scalar(select(Problem).where(Problem.code == text))
    if problem is None and text.isdigit():
        problem = session.get(Problem, int(text))
    if problem is None:
        raise NotFound(f"问题 {text} 不存在 / no problem with code or id {text!r} (list them: subsidence problem list)")
    return problem


def find_mine(session: Session, key: str) -> Mine:
    """A mine by licence number or by its Chinese / English name (exact, then unique partial match)."""
    text = str(key).strip()
    mine = session.scalar(select(Mine).where(or_(Mine.licence_no == text, Mine.name_zh == text, Mine.name_en == text)))
    if mine is not None:
        return mine
    like = session.scalars(
        select(Mine)
        .where(or_(Mine.name_zh.contains(text), Mine.licence_no.contains(text)))
        .order_by(Mine.licence_no)
        .limit(6)
    ).all()
    if len(like) == 1:
        return like[0]
    hint = f"; did you mean: {', '.join(f'{m.licence_no} {m.name_zh}' for m in like[:5])}" if like else ""
    raise NotFound(f"矿山“{text}”不存在 / unknown mine {text!r} (give the licence number or the exact name){hint}")


def find_unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise NotFound(f"单位 {code} 不存在 / unknown unit code {code!r}")
    return unit


def find_town(session: Session, key: str) -> AdminArea:
    town = session.scalar(
        select(AdminArea).where(or_(AdminArea.code == key, AdminArea.name_zh == key, AdminArea.name_en == key))
    )
    if town is None:
        raise NotFound(f"镇 {key} 不存在 / unknown town {key!r} (give its code, e.g. T-ALTX, or its name)")
    return town


def add_problem(
    session: Session,
    actor: Actor,
    *,
    category: ProblemCategory | str,
    title: str,
    found_date: date,
    source: ProblemSource | str = ProblemSource.FIELD_SURVEY,
    mine: Mine | None = None,
    town_id: int | None = None,
    deadline: date | None = None,
    description: str | None = None,
    requirement: str | None = None,
    origin_key: str | None = None,
    cooperating: Sequence[Unit] = (),
) -> Problem:
    """Enter a problem in the ledger (office, departments and towns may; enterprises report through them)."""
    from subsidence.ledger.problems import open_problem

    if actor.role not in (Role.OFFICE, Role.DEPARTMENT, Role.TOWN):
        raise Forbidden(f"角色“{actor.role.label()}”不能登记问题 / role {actor.role.value} may not add problems")
    try:
        category = category if isinstance(category, ProblemCategory) else ProblemCategory.parse(str(category))
        source = source if isinstance(source, ProblemSource) else ProblemSource.parse(str(source))
    except ValueError as exc:
        raise ValidationFailed(f"category/source: {exc}") from exc
    if not title or not title.strip():
        raise ValidationFailed("title is empty: give a short description of the problem (--title)")
    if deadline is not None and deadline < found_date:
        raise ValidationFailed(
            f"整改期限 {deadline} 早于发现日期 {found_date} / deadline {deadline} is before the "
            f"found date {found_date}: give a later deadline"
        )
    if found_date > server_today(session):
        raise ValidationFailed(f"found date {found_date} is in the future")
    with acting_as(session, actor.audit_name, "登记问题 / problem added"):
        problem, created = open_problem(
            session,
            category=category,
            title=title.strip(),
            source=source,
            found_date=found_date,
            origin_key=origin_key,
            mine=mine,
            town_id=town_id,
            description=description,
            requirement=requirement,
            deadline=deadline,
        )
        if created and cooperating:
            problem.cooperating_units.extend(cooperating)
            session.flush()
    if not created:
        raise Conflict(f"origin {origin_key!r} already opened problem {problem.code}")
    return problem


def problem_summary(problem: Problem, today: date | None = None) -> dict:
    """A JSON-ready view of a problem with its deadline status."""
    from subsidence.workdays import deadline_status

    out = {
        "code": problem.code,
        "id": problem.id,
        "category": problem.category.value,
        "category_zh": problem.category.label(),
        "title": problem.title,
        "state": problem.state.value,
        "state_zh": problem.state.label(),
        "found_date": problem.found_date.isoformat(),
        "deadline": problem.deadline.isoformat() if problem.deadline else None,
        "closed_date": problem.closed_date.isoformat() if problem.closed_date else None,
        "mine": problem.mine.licence_no if problem.mine else None,
        "mine_zh": problem.mine.name_zh if problem.mine else None,
        "town": problem.town.code if problem.town else None,
        "lead_unit": problem.lead_unit.code if problem.lead_unit else None,
        "requirement": problem.requirement,
        "submitted_date": problem.submitted_date.isoformat() if problem.submitted_date else None,
        "acceptance_due": problem.acceptance_due.isoformat() if problem.acceptance_due else None,
        "milestones": [
            {
                "seq": m.seq,
                "description": m.description,
                "due_date": m.due_date.isoformat(),
                "done_date": m.done_date.isoformat() if m.done_date else None,
            }
            for m in problem.milestones
        ],
    }
    if today is not None:
        out["overdue"] = is_overdue(problem, today)
        if problem.deadline and problem.state in OPEN_STATES:
            out["deadline_status"] = deadline_status(problem.deadline, today).as_dict()
    return out


#: states in which the responsible party still owes work (a passed deadline makes the problem overdue)
WORKING_STATES = frozenset({S.FOUND, S.NOTICE_ISSUED, S.RECTIFYING, S.RETURNED})


def is_overdue_on(state: ProblemState, deadline: date | None, today: date) -> bool:
    """Overdue: still being worked on (:data:`WORKING_STATES`: not submitted, not closed) and the deadline (as
    extended) is before ``today``; the deadline day itself is not overdue. The SQL form is
    :func:`subsidence.ledger.queries.overdue_clause`."""
    return deadline is not None and state in WORKING_STATES and deadline < today


def is_due_soon_on(state: ProblemState, deadline: date | None, today: date, until: date) -> bool:
    """Due soon: working and the deadline falls in ``[today, until]`` (``until`` from
    :func:`subsidence.ledger.queries.due_soon_until`, working days ahead); SQL form ``due_soon_clause``."""
    return deadline is not None and state in WORKING_STATES and today <= deadline <= until


def is_overdue(problem: Problem, today: date) -> bool:
    """Whether ``problem`` is overdue on ``today`` (:func:`is_overdue_on`)."""
    return is_overdue_on(problem.state, problem.deadline, today)


def history(session: Session, problem: Problem) -> list[dict]:
    """The problem's transitions in order (from the audit trail)."""
    from subsidence.core.models import AuditEvent

    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "problem", AuditEvent.entity_id == problem.id, AuditEvent.action == "transition")
        .order_by(AuditEvent.id)
    ).all()
    return [
        {
            "at": r.at.isoformat(),
            "actor": r.actor,
            "from": (r.before or {}).get("state"),
            "to": (r.after or {}).get("state"),
            "transition": (r.after or {}).get("transition"),
            "on": (r.after or {}).get("on"),
            "reason": r.reason,
            "recorded_on": (r.after or {}).get("recorded_on"),
            "date_corrected": bool((r.after or {}).get("date_corrected")),
            "date_reason": (r.after or {}).get("date_reason"),
        }
        for r in rows
    ]


def table_rows() -> list[dict]:
    """The transition table as plain rows (documentation, CLI ``problem transitions``)."""
    return [t.as_dict() for t in TRANSITIONS.values()]
