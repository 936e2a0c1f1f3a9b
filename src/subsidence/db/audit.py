"""Flush hook that writes an :class:`AuditEvent` row for every insert, update and delete of audited models.

Actor and reason come from ``session.info`` (set them with :func:`acting_as`). The rows go through the
flush's own connection, so an audit row exists exactly when the change it describes is committed.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Iterator

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, Index, Integer, String, Text, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from subsidence.db.base import Base, utcnow
from subsidence.db.types import UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40), doc="insert, update, delete, or a domain verb (transition ...)")
    entity: Mapped[str] = mapped_column(String(60), doc="table name")
    entity_id: Mapped[int | None] = mapped_column(Integer)
    entity_key: Mapped[str | None] = mapped_column(String(120), doc="business key (code, licence number)")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


SYSTEM_ACTOR = "system"


@contextlib.contextmanager
def acting_as(session: Session, actor: str, reason: str | None = None) -> Iterator[Session]:
    """Attribute every change flushed inside the block to ``actor`` (with an optional reason)."""
    old = session.info.get("actor"), session.info.get("reason")
    session.info["actor"], session.info["reason"] = actor, reason
    try:
        yield session
    finally:
        session.info["actor"], session.info["reason"] = old


def jsonable(value: Any) -> Any:
    """A JSON-safe representation of a column value (geometry as WKT at centimetre precision)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, BaseGeometry):
        return shapely.to_wkt(value, rounding_precision=2)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return None
    return value


def _snapshot(obj: Any) -> dict[str, Any]:
    """All column values of ``obj`` as they are now."""
    state = inspect(obj)
    exclude = getattr(type(obj), "__audit_exclude__", frozenset())
    return {
        attr.key: jsonable(state.dict.get(attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in exclude and attr.key not in ("created_at", "updated_at")
    }


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the columns changed in this flush; equal old/new values are not changes."""
    state = inspect(obj)
    exclude = getattr(type(obj), "__audit_exclude__", frozenset())
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in exclude or key in ("created_at", "updated_at"):
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        old = jsonable(hist.deleted[0]) if hist.deleted else None
        new = jsonable(hist.added[0]) if hist.added else None
        if old != new:
            before[key], after[key] = old, new
    return before, after


def _key(obj: Any) -> str | None:
    for name in ("code", "licence_no", "credit_code", "username"):
        value = getattr(obj, name, None)
        if value:
            return str(value)
    return None


def _after_flush(session: Session, flush_context: Any) -> None:
    actor = session.info.get("actor") or SYSTEM_ACTOR
    reason = session.info.get("reason")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if getattr(type(obj), "__audited__", False):
            rows.append(
                dict(
                    at=now,
                    actor=actor,
                    action="insert",
                    entity=obj.__tablename__,
                    entity_id=obj.id,
                    entity_key=_key(obj),
                    before=None,
                    after=_snapshot(obj),
                    reason=reason,
                )
            )
    for obj in session.dirty:
        if not getattr(type(obj), "__audited__", False) or not session.is_modified(obj, include_collections=False):
            continue
        before, after = _changes(obj)
        if after:
            rows.append(
                dict(
                    at=now,
                    actor=actor,
                    action="update",
                    entity=obj.__tablename__,
                    entity_id=obj.id,
                    entity_key=_key(obj),
                    before=before,
                    after=after,
                    reason=reason,
                )
            )
    for obj in session.deleted:
        if getattr(type(obj), "__audited__", False):
            rows.append(
                dict(
                    at=now,
                    actor=actor,
                    action="delete",
                    entity=obj.__tablename__,
                    entity_id=obj.id,
                    entity_key=_key(obj),
                    before=_snapshot(obj),
                    after=None,
                    reason=reason,
                )
            )
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def record_event(
    session: Session,
    *,
    entity: str,
    entity_id: int | None,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    entity_key: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> None:
    """Append a domain event (e.g. a lifecycle transition, a gate query) to the audit trail."""
    session.connection().execute(
        insert(AuditEvent.__table__),
        [
            dict(
                at=utcnow(),
                actor=actor or session.info.get("actor") or SYSTEM_ACTOR,
                action=action,
                entity=entity,
                entity_id=entity_id,
                entity_key=entity_key,
                before=before,
                after=after,
                reason=reason if reason is not None else session.info.get("reason"),
            )
        ],
    )


def install_audit_hooks() -> None:
    """Register the flush hook once per process (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
