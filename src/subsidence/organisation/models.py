"""Positions, not persons (组织机构): the leading group and its office as positions with holders and dates.

伊政办发〔2024〕79号 §2 sets up the leading group (领导小组: 组长 the deputy banner head, 副组长, 成员 by unit) and its
office (办公室, in the Natural Resources Bureau), and says: "今后领导小组组成人员如有变动，由接替其行政职务的人员承担相应
工作" — membership goes with the administrative post. So a :class:`Position` is the post (with the unit and the
ex-officio title that carries it); a :class:`PositionHolder` row is one holder's tenure (from, to); a change of holder
is a handover (one tenure ends, the next begins, both in the audit trail). Responsibilities and powers
(:class:`PositionDuty`) attach to the position, never to a holder, so they follow it from holder to holder.
Holders are written by role (and, where the office wishes, an account), never required to be personal names.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.core.models import Unit
from subsidence.db.base import Base, Timestamped
from subsidence.db.columns import enum_col
from subsidence.vocabulary import OrgBody, PositionPower, PositionRank


class Position(Timestamped, Base):
    """A post in the leading group or its office, e.g. 组长 (旗人民政府副旗长) or 成员 (旗能源局局长)."""

    __tablename__ = "org_position"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, doc="stable key, e.g. LG-LEADER, LG-M-ENB")
    body: Mapped[OrgBody] = mapped_column(enum_col(OrgBody))
    rank: Mapped[PositionRank] = mapped_column(enum_col(PositionRank))
    title_zh: Mapped[str] = mapped_column(String(60), doc="组长 / 副组长 / 成员 / 办公室主任")
    ex_officio: Mapped[str] = mapped_column(String(120), doc="the administrative post that carries it (职务)")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), doc="the unit the post represents")
    seq: Mapped[int] = mapped_column(Integer, default=0, doc="order in the roster (as in the plan)")
    basis: Mapped[str | None] = mapped_column(String(200), doc="document that set it up, e.g. 伊政办发〔2024〕79号")
    established: Mapped[date] = mapped_column(Date)
    abolished: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit | None] = relationship()
    holders: Mapped[list[PositionHolder]] = relationship(
        back_populates="position", order_by="PositionHolder.start_date"
    )
    duties: Mapped[list[PositionDuty]] = relationship(back_populates="position", order_by="PositionDuty.id")


class PositionHolder(Timestamped, Base):
    """One tenure of a position: who held it from ``start_date`` to ``end_date`` (inclusive; open = current)."""

    __tablename__ = "org_position_holder"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("org_position.id"))
    holder: Mapped[str] = mapped_column(String(120), doc="the holder, by role (e.g. '旗能源局局长（现任）')")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), doc="the holder's account, if any")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    document: Mapped[str | None] = mapped_column(String(200), doc="appointment / handover document (文号)")
    note: Mapped[str | None] = mapped_column(Text)

    position: Mapped[Position] = relationship(back_populates="holders")


class PositionDuty(Base):
    """A responsibility or power of a position: per task (1–7) or general (task ``None``)."""

    __tablename__ = "org_position_duty"
    __audited__ = True
    __table_args__ = (UniqueConstraint("position_id", "power", "task_no", name="uq_org_position_duty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("org_position.id"))
    power: Mapped[PositionPower] = mapped_column(enum_col(PositionPower))
    task_no: Mapped[int | None] = mapped_column(Integer, doc="key task 1–7; None = all tasks")
    note: Mapped[str | None] = mapped_column(String(200))

    position: Mapped[Position] = relationship(back_populates="duties")
