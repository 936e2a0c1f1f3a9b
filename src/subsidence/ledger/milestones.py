"""Milestones (时间节点) completed with evidence.

A milestone is done when its party records it with at least one piece of evidence attached to the
problem (photos, documents); the date is the server's (the office may record an earlier one with a
reason). A submission for acceptance needs every milestone done
(:func:`subsidence.ledger.lifecycle.transition`); an overdue milestone is escalated to the lead unit
(:func:`subsidence.ledger.escalation.escalate_due`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor
from subsidence.db.audit import acting_as, record_event
from subsidence.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subsidence.ledger.lifecycle import Party, business_date, parties_of
from subsidence.ledger.models import Evidence, Milestone, Problem
from subsidence.vocabulary import ProblemState

S = ProblemState
#: states in which milestones are worked on
MILESTONE_STATES = frozenset({S.NOTICE_ISSUED, S.RECTIFYING, S.RETURNED})


def complete_milestone(
    session: Session,
    problem: Problem,
    actor: Actor,
    seq: int,
    *,
    evidence_ids: Sequence[int],
    done_date: date | None = None,
    date_reason: str | None = None,
) -> Milestone:
    """Record milestone ``seq`` of ``problem`` done, shown by ``evidence_ids`` (evidence of this problem)."""
    if not (parties_of(problem, actor) & {Party.OFFICE, Party.LEAD_UNIT, Party.ENTERPRISE}):
        raise Forbidden(f"{actor.audit_name} may not complete milestones of {problem.code}")
    if problem.state not in MILESTONE_STATES:
        raise Conflict(
            f"问题 {problem.code} 为“{problem.state.label()}”，不能完成时间节点 / {problem.code} is "
            f"{problem.state.value}: milestones are completed while it is being rectified"
        )
    m = next((m for m in problem.milestones if m.seq == seq), None)
    if m is None:
        raise NotFound(
            f"{problem.code} has no milestone {seq} (it has: "
            f"{', '.join(str(x.seq) for x in problem.milestones) or 'none'})"
        )
    if m.done_date is not None:
        raise Conflict(f"milestone {seq} of {problem.code} was already completed on {m.done_date}")
    ids = sorted({int(i) for i in evidence_ids})
    if not ids:
        raise ValidationFailed(
            f"完成时间节点须附佐证材料 / completing milestone {seq} needs evidence (--evidence ID; upload it first)"
        )
    found = set(session.scalars(select(Evidence.id).where(Evidence.problem_id == problem.id, Evidence.id.in_(ids))))
    if missing := [i for i in ids if i not in found]:
        raise ValidationFailed(f"evidence {', '.join(map(str, missing))} is not attached to {problem.code}")
    on, correction = business_date(session, problem, actor, done_date, date_reason, what="完成时间节点")
    with acting_as(session, actor.audit_name, f"完成时间节点 {seq}：{m.description}"):
        m.done_date, m.evidence_ids, m.completed_by = on, ids, actor.audit_name
        session.flush()
        record_event(
            session,
            entity="problem",
            entity_id=problem.id,
            entity_key=problem.code,
            action="milestone_done",
            before={"milestone": seq, "due_date": m.due_date.isoformat()},
            after={"milestone": seq, "on": on.isoformat(), "evidence": ids, **correction},
            reason=date_reason,
            actor=actor.audit_name,
        )
    return m


def overdue_milestones(session: Session, today: date) -> list[Milestone]:
    """Milestones past due and not done, of problems still being rectified (by problem code, then seq)."""
    q = (
        select(Milestone)
        .join(Problem)
        .where(Milestone.done_date.is_(None), Milestone.due_date < today, Problem.state.in_(sorted(MILESTONE_STATES)))
        .order_by(Problem.code, Milestone.seq)
    )
    return list(session.scalars(q))
