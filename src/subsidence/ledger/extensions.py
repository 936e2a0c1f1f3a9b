"""Deadline extensions (申请延期): requested by the mine with a reason, decided by the lead unit or the office.

Rules (unverified defaults, listed in docs and the closing note; what would settle them: the office's
rectification rules or the county's 实施方案 detailed rules):

* the request is made **before** the deadline expires (a passed deadline is not extended, it is enforced);
* at most :data:`MAX_EXTENSIONS` approved extension per problem, by at most :data:`MAX_EXTENSION_WORKDAYS`
  working days beyond the current deadline (practice in Chinese administrative rectification: 延期一次，
  延长期限一般不超过原整改期限);
* one open request at a time; the decision is recorded with its reason; approval moves the problem's
  deadline (the gate, the overdue query and escalation all use it) and keeps the previous one.

While a timely request awaits its decision the gate does not refuse for that deadline (pending
"extension"); the lead unit or office decides within :data:`DECISION_WORKDAYS` working days, else the deadline
watch escalates the request (:mod:`subsidence.ledger.escalation`, kind ``extension``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor
from subsidence.db.audit import acting_as, record_event
from subsidence.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subsidence.ledger.lifecycle import Party, parties_of, server_today
from subsidence.ledger.models import DeadlineExtension, Problem
from subsidence.vocabulary import ProblemState

S = ProblemState
MAX_EXTENSIONS = 1
MAX_EXTENSION_WORKDAYS = 30
DECISION_WORKDAYS = 5
#: states in which a deadline runs and may be extended
EXTENDABLE_STATES = frozenset({S.NOTICE_ISSUED, S.RECTIFYING, S.RETURNED})


def extensions_of(session: Session, problem: Problem) -> list[DeadlineExtension]:
    return list(
        session.scalars(
            select(DeadlineExtension).where(DeadlineExtension.problem_id == problem.id).order_by(DeadlineExtension.seq)
        )
    )


def pending_extension(session: Session, problem: Problem) -> DeadlineExtension | None:
    return session.scalar(
        select(DeadlineExtension).where(
            DeadlineExtension.problem_id == problem.id, DeadlineExtension.state == "pending"
        )
    )


def extension_dict(x: DeadlineExtension) -> dict:
    iso = lambda d: d.isoformat() if d else None
    return {
        "id": x.id,
        "seq": x.seq,
        "state": x.state,
        "requested_date": iso(x.requested_date),
        "requested_by": x.requested_by,
        "reason": x.reason,
        "previous_deadline": iso(x.previous_deadline),
        "requested_deadline": iso(x.requested_deadline),
        "decided_date": iso(x.decided_date),
        "decided_by": x.decided_by,
        "decision_reason": x.decision_reason,
        "granted_deadline": iso(x.granted_deadline),
    }


def request_extension(
    session: Session, problem: Problem, actor: Actor, *, requested_deadline: date, reason: str
) -> DeadlineExtension:
    """The mine (its enterprise; the office may record it on the mine's behalf) asks for a later deadline.
    Dated with the server's date; refused (nothing changes) after the deadline, beyond the limits, or while
    another request is open."""
    from subsidence.ledger.enforcement import deadline_source
    from subsidence.workdays import default_calendar

    if not (parties_of(problem, actor) & {Party.ENTERPRISE, Party.OFFICE}):
        raise Forbidden(
            f"{actor.audit_name} may not request an extension for {problem.code} (its enterprise, or the "
            "office on its behalf)"
        )
    if problem.state not in EXTENDABLE_STATES or problem.deadline is None:
        raise Conflict(
            f"问题 {problem.code} 为“{problem.state.label()}”，没有正在计算的整改期限 / {problem.code} is "
            f"{problem.state.value}: no running deadline to extend"
        )
    if deadline_source(session, problem) is None:
        raise Conflict(f"{problem.code}'s deadline {problem.deadline} was never notified: issue the notice first")
    if not (reason and reason.strip()):
        raise ValidationFailed("申请延期须写明理由 / an extension request needs a reason (--reason)")
    today = server_today(session)
    if today > problem.deadline:
        raise Conflict(
            f"整改期限 {problem.deadline} 已过，不能再申请延期 / the deadline {problem.deadline} has passed: "
            "an extension must be requested before it expires"
        )
    if pending_extension(session, problem) is not None:
        raise Conflict(f"{problem.code} already has an open extension request; wait for its decision")
    granted = session.scalar(
        select(func.count())
        .select_from(DeadlineExtension)
        .where(DeadlineExtension.problem_id == problem.id, DeadlineExtension.state == "approved")
    )
    if granted >= MAX_EXTENSIONS:
        raise Conflict(
            f"{problem.code} 已延期 {granted} 次，最多 {MAX_EXTENSIONS} 次 / already extended {granted} "
            f"time(s); at most {MAX_EXTENSIONS}"
        )
    limit = default_calendar().add_workdays(problem.deadline, MAX_EXTENSION_WORKDAYS)
    if not (problem.deadline < requested_deadline <= limit):
        raise ValidationFailed(
            f"延期后的期限须晚于 {problem.deadline} 且不超过 {limit}（{MAX_EXTENSION_WORKDAYS} 个工作日） / "
            f"the new deadline must be after {problem.deadline} and by {limit}"
        )
    seq = 1 + (
        session.scalar(select(func.max(DeadlineExtension.seq)).where(DeadlineExtension.problem_id == problem.id)) or 0
    )
    with acting_as(session, actor.audit_name, f"申请延期：{reason.strip()}"):
        x = DeadlineExtension(
            problem_id=problem.id,
            seq=seq,
            state="pending",
            requested_date=today,
            requested_by=actor.audit_name,
            reason=reason.strip(),
            previous_deadline=problem.deadline,
            requested_deadline=requested_deadline,
        )
        session.add(x)
        session.flush()
        record_event(
            session,
            entity="problem",
            entity_id=problem.id,
            entity_key=problem.code,
            action="extension_requested",
            before={"deadline": problem.deadline.isoformat()},
            after={"requested_deadline": requested_deadline.isoformat(), "on": today.isoformat(), "extension": seq},
            reason=reason.strip(),
            actor=actor.audit_name,
        )
    return x


def decide_extension(
    session: Session,
    extension: DeadlineExtension,
    actor: Actor,
    *,
    approve: bool,
    reason: str,
    granted_deadline: date | None = None,
) -> DeadlineExtension:
    """The lead unit or the office decides (server date). Approval moves the problem's deadline to
    ``granted_deadline`` (default: the requested one; never later than requested)."""
    problem = extension.problem
    if not (parties_of(problem, actor) & {Party.LEAD_UNIT, Party.OFFICE}):
        raise Forbidden(f"{actor.audit_name} may not decide extensions of {problem.code} (its lead unit or the office)")
    if extension.state != "pending":
        raise Conflict(f"extension {extension.seq} of {problem.code} is already {extension.state}")
    if not (reason and reason.strip()):
        raise ValidationFailed("延期审批须写明理由 / the decision needs a reason (--reason)")
    today = server_today(session)
    granted = None
    if approve:
        granted = granted_deadline or extension.requested_deadline
        if not (extension.previous_deadline < granted <= extension.requested_deadline):
            raise ValidationFailed(
                f"granted deadline {granted} must be after {extension.previous_deadline} and not "
                f"later than the requested {extension.requested_deadline}"
            )
        if granted < today:
            raise ValidationFailed(f"granted deadline {granted} is already past (today is {today})")
    with acting_as(session, actor.audit_name, f"延期申请{'批准' if approve else '不予批准'}：{reason.strip()}"):
        extension.state = "approved" if approve else "rejected"
        extension.decided_date, extension.decided_by = today, actor.audit_name
        extension.decision_reason, extension.granted_deadline = reason.strip(), granted
        before = problem.deadline
        if approve:
            problem.deadline = granted
        session.flush()
        record_event(
            session,
            entity="problem",
            entity_id=problem.id,
            entity_key=problem.code,
            action="extension_decided",
            before={"deadline": before.isoformat() if before else None},
            after={
                "deadline": problem.deadline.isoformat() if problem.deadline else None,
                "on": today.isoformat(),
                "extension": extension.seq,
                "state": extension.state,
            },
            reason=reason.strip(),
            actor=actor.audit_name,
        )
    return extension


def find_extension(session: Session, problem: Problem, seq: int | None = None) -> DeadlineExtension:
    x = (
        pending_extension(session, problem)
        if seq is None
        else session.scalar(
            select(DeadlineExtension).where(DeadlineExtension.problem_id == problem.id, DeadlineExtension.seq == seq)
        )
    )
    if x is None:
        raise NotFound(
            f"{problem.code} has no {'open ' if seq is None else ''}extension request"
            f"{'' if seq is None else f' #{seq}'}"
        )
    return x
