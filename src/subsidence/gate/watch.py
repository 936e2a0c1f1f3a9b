"""The daily deadline watch: escalations (督办通知) and their notifications, in one transaction.

It sits here because it joins two ledgers that must not import each other: the rectification ledger
(:mod:`subsidence.ledger.escalation`, the 督办 records) and the monitoring outbox
(:class:`subsidence.monitoring.models.OutboxMessage`, the transactional notification queue the dispatcher
delivers with idempotency keys). A committed escalation is therefore always notified.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.ledger.escalation import escalate_due, notification
from subsidence.ledger.models import Escalation
from subsidence.monitoring.models import OutboxMessage
from subsidence.workdays import WorkCalendar

#: outbox priority of escalation notices (alarms use 0..9 by level; a 督办 is routine office mail)
PRIORITY = 1


def run_deadline_watch(
    session: Session, today: date, *, actor_name: str = "system:deadline-watch", cal: WorkCalendar | None = None
) -> dict:
    """Escalate what is due on ``today`` and queue one outbox message per new escalation; also report the
    one overdue / due-soon view (:func:`subsidence.ledger.progress.deadline_watch`). Idempotent."""
    from subsidence.ledger.progress import deadline_watch

    created = escalate_due(session, today, actor_name=actor_name, cal=cal)
    for esc in created:
        enqueue(session, esc)
    session.flush()
    out = deadline_watch(session, today, cal)
    out["escalated"] = [
        {
            "id": e.id,
            "code": e.code,
            "problem": e.problem.code,
            "kind": e.kind,
            "level": e.level.value,
            "unit": e.unit.code if e.unit else None,
            "deadline": e.deadline.isoformat(),
            "workdays_overdue": e.workdays_overdue,
            "reply_due": e.reply_due.isoformat() if e.reply_due else None,
            "outbox_key": e.outbox_key,
        }
        for e in created
    ]
    return out


def enqueue(session: Session, esc: Escalation) -> OutboxMessage:
    """Queue the escalation's notification (once: the idempotency key is the escalation's)."""
    msg = notification(esc)
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == msg["key"]))
    if existing is not None:
        return existing
    row = OutboxMessage(
        idempotency_key=msg["key"],
        channel="log",
        recipient=msg["recipient"][:200],
        recipient_role=msg["recipient_role"][:200],
        subject=msg["subject"][:300],
        body=msg["body"],
        priority=PRIORITY,
    )
    session.add(row)
    return row
