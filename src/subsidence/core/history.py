"""A record's history, read from the append-only audit trail."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from subsidence.core.models import AuditEvent


def record_history(session: Session, entity: str, key: str | int) -> list[AuditEvent]:
    """Every audit event of one record, oldest first. ``key`` is the numeric id or the business key."""
    cond = AuditEvent.entity_key == str(key)
    if isinstance(key, int) or str(key).isdigit():
        cond = or_(cond, AuditEvent.entity_id == int(key))
    return list(session.scalars(select(AuditEvent).where(AuditEvent.entity == entity, cond).order_by(AuditEvent.id)))


def audit_trail(session: Session, entity: str, entity_id: int, *, limit: int = 500) -> list[dict]:
    """One record's audit events as plain dicts, oldest first, times in the office's time zone (stored in UTC)."""
    from subsidence.settings import get_settings

    tz = get_settings().tz
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return [
        {
            "at": r.at.astimezone(tz).isoformat(),
            "actor": r.actor,
            "action": r.action,
            "before": r.before,
            "after": r.after,
            "reason": r.reason,
        }
        for r in rows
    ]
