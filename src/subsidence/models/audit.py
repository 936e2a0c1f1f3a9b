"""The append-only audit trail: every change to an audited record, with who, when, before and after.

Rows are written by the flush hook in :mod:`subsidence.db.audit`; database triggers (created by the
migrations) refuse UPDATE and DELETE on this table on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

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
