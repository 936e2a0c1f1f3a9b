"""User accounts; authorization policies live in ``subsidence.services.authz``."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.base import Base, Timestamped
from subsidence.models._cols import enum_col
from subsidence.models.admin import Unit
from subsidence.models.enums import Role


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
