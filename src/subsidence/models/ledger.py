"""The problem ledger (台账): problems of the seven categories, milestones, cooperating units."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.base import Base, Timestamped
from subsidence.models._cols import enum_col, geom
from subsidence.models.admin import AdminArea, Unit
from subsidence.models.enums import ProblemCategory, ProblemSource, ProblemState
from subsidence.models.mining import Mine

problem_cooperating_unit = Table(
    "problem_cooperating_unit",
    Base.metadata,
    Column("problem_id", ForeignKey("problem.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id"), primary_key=True),
)


class Problem(Timestamped, Base):
    """One problem in the ledger, tracked until accepted (or withdrawn with a reason)."""

    __tablename__ = "problem"
    __audited__ = True
    __table_args__ = (CheckConstraint("deadline IS NULL OR deadline >= found_date", name="deadline_after_found"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, doc="ledger number (stable key)")
    category: Mapped[ProblemCategory] = mapped_column(enum_col(ProblemCategory))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    requirement: Mapped[str | None] = mapped_column(Text, doc="what must be done (整改要求)")
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    source: Mapped[ProblemSource] = mapped_column(enum_col(ProblemSource))
    found_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    state: Mapped[ProblemState] = mapped_column(enum_col(ProblemState), default=ProblemState.FOUND)
    closed_date: Mapped[date | None] = mapped_column(Date)
    geometry = mapped_column(geom("GEOMETRY"), nullable=True)
    subsidence_area_id: Mapped[int | None] = mapped_column(ForeignKey("subsidence_area.id"))
    origin_key: Mapped[str | None] = mapped_column(
        String(120), unique=True, doc="what opened it automatically (e.g. 'census-area:SA-12'); never twice"
    )
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine | None] = relationship()
    town: Mapped[AdminArea | None] = relationship()
    lead_unit: Mapped[Unit | None] = relationship()
    cooperating_units: Mapped[list[Unit]] = relationship(secondary=problem_cooperating_unit)
    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="problem", cascade="all, delete-orphan", order_by="Milestone.seq"
    )


class Milestone(Base):
    """A dated milestone (时间节点) of a problem's rectification."""

    __tablename__ = "milestone"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date] = mapped_column(Date)
    done_date: Mapped[date | None] = mapped_column(Date)

    problem: Mapped[Problem] = relationship(back_populates="milestones")
