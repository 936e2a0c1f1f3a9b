"""Which deadline binds a finding, and what set it: the facts the licence gate judges by.

A ledger problem's deadline binds the responsible party only when it was notified: by a deadline
rectification notice (限期整改通知书) or an approved extension of it (申请延期). A deadline typed into the
ledger without a notice is shown, but it is not a ground to refuse (a refusal that cannot name the notice
that set the passed deadline invites administrative review, 《行政复议法》/《行政诉讼法》).

Task ledgers whose findings open a problem (fund, water, annual plan) use :func:`tracked_finding`: the
problem opened for the finding (by its ``origin_key``) carries the notice and the deadline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.ledger.models import (
    AcceptanceRecord,
    DeadlineExtension,
    Problem,
    RectificationNotice,
)
from subsidence.vocabulary import DeadlineSource, GateReason, ProblemState

S = ProblemState

#: states that owe nothing any more (the gate ignores them)
SETTLED_STATES = frozenset({S.ACCEPTED, S.WITHDRAWN})

REMEDY_NOTICE = (
    "由牵头单位或办公室下达限期整改通知书设定整改期限；期限届满未整改的方可不予受理 / issue a deadline "
    "rectification notice: only a notified deadline that has passed is a ground to refuse"
)
REMEDY_RECTIFY = (
    "完成整改并提交佐证材料申请验收，经办公室验收通过（销号）后解除；确有困难的可在期限届满前申请延期 / rectify, "
    "submit with evidence and pass the office's acceptance; an extension may be requested before the deadline"
)
REMEDY_ACCEPT = (
    "待办公室在验收期限内完成验收：通过即销号解除，退回则按退回意见继续整改 / the office decides the acceptance "
    "within its window: passed lifts it, returned means rectify again"
)


def deadline_source(session: Session, problem: Problem) -> DeadlineSource | None:
    """What set ``problem.deadline``: the approved extension that moved it there, else the notice that set
    it; None when the deadline was never notified (or there is none)."""
    if problem.deadline is None:
        return None
    ext = session.scalar(
        select(DeadlineExtension)
        .where(
            DeadlineExtension.problem_id == problem.id,
            DeadlineExtension.state == "approved",
            DeadlineExtension.granted_deadline == problem.deadline,
        )
        .order_by(DeadlineExtension.seq.desc())
        .limit(1)
    )
    if ext is not None:
        return DeadlineSource(
            "extension",
            f"{problem.code}-延期{ext.seq}",
            ext.decided_date,
            f"延期申请批准（原期限 {ext.previous_deadline}）",
        )
    notice = session.scalar(
        select(RectificationNotice)
        .where(RectificationNotice.problem_id == problem.id, RectificationNotice.deadline == problem.deadline)
        .order_by(RectificationNotice.id.desc())
        .limit(1)
    )
    if notice is not None:
        return DeadlineSource("notice", notice.code, notice.issued_date, "限期整改通知书")
    return None


def problem_facts(session: Session, problem: Problem, finding: GateReason) -> GateReason | None:
    """``finding`` completed with the problem's deadline, what set it, and whether acceptance is pending;
    None when the problem is settled (accepted or withdrawn)."""
    if problem.state in SETTLED_STATES:
        return None
    src = deadline_source(session, problem)
    details = {
        **finding.details,
        "problem": problem.code,
        "state": problem.state.value,
        "state_zh": problem.state.label(),
    }
    pending = None
    remedy = REMEDY_RECTIFY if src is not None else REMEDY_NOTICE
    if problem.state == S.SUBMITTED:
        details |= {
            "submitted_date": problem.submitted_date.isoformat() if problem.submitted_date else None,
            "acceptance_due": problem.acceptance_due.isoformat() if problem.acceptance_due else None,
        }
        in_time = problem.deadline is None or (
            problem.submitted_date is not None and problem.submitted_date <= problem.deadline
        )
        details["submitted_in_time"] = in_time
        if in_time:
            pending, remedy = "acceptance", REMEDY_ACCEPT
        else:
            remedy = (
                "已逾期提交验收申请，经办公室验收通过后解除 / submitted after the deadline: lifted when the "
                "office accepts it"
            )
    elif problem.state == S.FIXED_AT_ONCE:
        pending, remedy = "acceptance", REMEDY_ACCEPT
    elif (
        ext := session.scalar(
            select(DeadlineExtension).where(
                DeadlineExtension.problem_id == problem.id, DeadlineExtension.state == "pending"
            )
        )
    ) is not None:
        details |= {
            "extension_requested": ext.requested_date.isoformat(),
            "requested_deadline": ext.requested_deadline.isoformat(),
        }
        pending, remedy = (
            "extension",
            ("待牵头单位或办公室对延期申请作出决定 / the lead unit or office decides the extension request"),
        )
    if problem.state == S.RETURNED:
        last = session.scalar(
            select(AcceptanceRecord)
            .where(AcceptanceRecord.problem_id == problem.id)
            .order_by(AcceptanceRecord.id.desc())
            .limit(1)
        )
        if last is not None:
            details |= {"returned_date": last.decided_date.isoformat(), "return_reasons": last.reasons}
    return replace(
        finding,
        problem=problem.code,
        deadline=problem.deadline,
        deadline_set_by=src,
        pending=pending,
        remedy=finding.remedy or remedy,
        details=details,
        record=finding.record or problem.code,
        record_kind=finding.record_kind or "problem",
    )


def tracked_finding(session: Session, origin_key: str, finding: GateReason) -> GateReason | None:
    """A task finding judged by the problem opened for it (``origin_key``). No problem yet: a warning
    finding whose remedy is to register it and issue the notice. Settled problem: None."""
    problem = session.scalar(select(Problem).where(Problem.origin_key == origin_key))
    if problem is None:
        return replace(
            finding,
            remedy=("登记为台账问题并下达限期整改通知书 / register it as a ledger problem and issue a deadline notice"),
        )
    return problem_facts(session, problem, finding)


def workdays_late(deadline: date, today: date) -> int:
    from subsidence.workdays import default_calendar

    return default_calendar().workdays_between(deadline, today) if today > deadline else 0
