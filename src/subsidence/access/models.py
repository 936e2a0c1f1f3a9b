"""Accounts and sign-in state: users, server-side browser sessions, bearer tokens for scripts and QGIS, and the
hazard points a field monitor is assigned to. Who may do what is in :mod:`subsidence.access.policy`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.core.models import Unit
from subsidence.db.base import Base, Timestamped, utcnow
from subsidence.db.columns import enum_col
from subsidence.db.types import UTCDateTime
from subsidence.vocabulary import Role


class User(Timestamped, Base):
    """An account, named by role and unit (never by personal name in demo data)."""

    __tablename__ = "user_account"
    __audited__ = True
    __audit_exclude__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(enum_col(Role))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit | None] = relationship()


class WebSession(Base):
    """A signed-in browser: cookie secret digest, CSRF token (double submit), expiry (UTC)."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token (``Authorization: Bearer sbt_...``) for scripts and QGIS."""

    __tablename__ = "api_token"
    __audited__ = True
    __audit_exclude__ = frozenset({"secret_sha256"})

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), doc="first characters, shown to tell tokens apart")
    name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class MonitorAssignment(Base):
    """Which hazard points a field monitor (监测员) account watches; scopes the monitor role."""

    __tablename__ = "monitor_assignment"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    hazard_point_id: Mapped[int] = mapped_column(ForeignKey("hazard_point.id", ondelete="CASCADE"))
