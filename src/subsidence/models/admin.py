"""Administrative areas, units (bureaus, towns, centre, enterprises) and their task roles."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.base import Base, Timestamped
from subsidence.models._cols import enum_col, geom
from subsidence.models.enums import AreaLevel, TaskRole, UnitKind


class AdminArea(Timestamped, Base):
    """Banner, town or village with its boundary (MultiPolygon in the storage CRS)."""

    __tablename__ = "admin_area"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, doc="stable key, e.g. administrative division code")
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[AreaLevel] = mapped_column(enum_col(AreaLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    geometry = mapped_column(geom("MULTIPOLYGON"), nullable=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped["AdminArea | None"] = relationship(remote_side="AdminArea.id")


class Unit(Timestamped, Base):
    """A unit that acts in the plan: the office, a bureau, a town government, the service centre, an enterprise."""

    __tablename__ = "unit"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[UnitKind] = mapped_column(enum_col(UnitKind))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"), doc="for town governments")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), doc="for enterprises")

    town: Mapped[AdminArea | None] = relationship()
    task_roles: Mapped[list["TaskAssignment"]] = relationship(back_populates="unit", cascade="all, delete-orphan")


class TaskAssignment(Base):
    """Which unit leads or cooperates on which of the seven key tasks (DOMAIN.md §3)."""

    __tablename__ = "task_assignment"
    __table_args__ = (UniqueConstraint("unit_id", "task_no", name="uq_task_assignment_unit_task"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    task_no: Mapped[int] = mapped_column(Integer)
    role: Mapped[TaskRole] = mapped_column(enum_col(TaskRole))

    unit: Mapped[Unit] = relationship(back_populates="task_roles")
