"""The shared tables every domain refers to: administrative areas (banner, towns, villages), units (bureaus,
towns, the service centre, enterprises) with their task roles, enterprises, mines (mining rights) and longwall
panels (working faces). The audit table lives with its hook in :mod:`subsidence.db.audit`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.audit import AuditEvent  # noqa: F401  (the audit table lives with its hook in db.audit)
from subsidence.db.base import Base, Timestamped
from subsidence.db.columns import enum_col, geom
from subsidence.vocabulary import AreaLevel, MineStatus, MiningMethod, TaskRole, UnitKind


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

    parent: Mapped[AdminArea | None] = relationship(remote_side="AdminArea.id")


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
    task_roles: Mapped[list[TaskAssignment]] = relationship(back_populates="unit", cascade="all, delete-orphan")


class TaskAssignment(Base):
    """Which unit leads or cooperates on which of the seven key tasks (docs/domain.md §3)."""

    __tablename__ = "task_assignment"
    __table_args__ = (UniqueConstraint("unit_id", "task_no", name="uq_task_assignment_unit_task"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    task_no: Mapped[int] = mapped_column(Integer)
    role: Mapped[TaskRole] = mapped_column(enum_col(TaskRole))

    unit: Mapped[Unit] = relationship(back_populates="task_roles")


class Enterprise(Timestamped, Base):
    """A mining enterprise, the responsible party (主体责任) for the subsidence it causes."""

    __tablename__ = "enterprise"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(40), unique=True, doc="unified social credit code (stable key)")
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    contact_role: Mapped[str | None] = mapped_column(String(100), doc="contact by role, never a personal name")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mines: Mapped[list[Mine]] = relationship(back_populates="enterprise")


class Mine(Timestamped, Base):
    """A coal mine and its mining right (采矿权): the licensed polygon and licence validity."""

    __tablename__ = "mine"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_no: Mapped[str] = mapped_column(String(60), unique=True, doc="mining licence number (stable key)")
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    licence_valid_from: Mapped[date | None] = mapped_column(Date)
    licence_valid_to: Mapped[date | None] = mapped_column(Date)
    capacity_mt_per_yr: Mapped[float | None] = mapped_column(Float, doc="approved capacity, Mt/yr")
    mining_method: Mapped[MiningMethod] = mapped_column(
        enum_col(MiningMethod), default=MiningMethod.UNDERGROUND_SUBSIDENCE
    )
    status: Mapped[MineStatus] = mapped_column(enum_col(MineStatus), default=MineStatus.PRODUCING)
    geometry = mapped_column(geom("MULTIPOLYGON"), nullable=True, doc="mining-right polygon")
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)

    enterprise: Mapped[Enterprise | None] = relationship(back_populates="mines")
    town: Mapped[AdminArea | None] = relationship()
    panels: Mapped[list[Panel]] = relationship(back_populates="mine")


class Panel(Timestamped, Base):
    """A longwall panel / working face (工作面): the unit of mining and of subsidence prediction.

    Depths in metres below surface on the down-dip (``depth_dip_m``) and up-dip (``depth_rise_m``)
    sides; dip in degrees; dip azimuth in degrees clockwise from grid north; advance in m/day.
    """

    __tablename__ = "panel"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, doc="stable key: mine licence + panel number")
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    name: Mapped[str | None] = mapped_column(String(100))
    seam: Mapped[str | None] = mapped_column(String(40))
    thickness_m: Mapped[float] = mapped_column(Float, doc="mining height / seam thickness, m")
    depth_dip_m: Mapped[float] = mapped_column(Float, doc="depth on the down-dip side, m")
    depth_rise_m: Mapped[float] = mapped_column(Float, doc="depth on the up-dip side, m")
    dip_deg: Mapped[float] = mapped_column(Float, default=0.0)
    dip_azimuth_deg: Mapped[float] = mapped_column(Float, default=0.0)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    advance_m_per_day: Mapped[float | None] = mapped_column(Float)
    geometry = mapped_column(geom("POLYGON"), nullable=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine] = relationship(back_populates="panels")


#: read path of the enterprise's own-mines scope (every enterprise query filters on it)
Index("ix_web_mine_enterprise", Mine.__table__.c.enterprise_id)
