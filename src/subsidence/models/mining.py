"""Enterprises, mines (mining rights) and longwall panels (working faces)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.base import Base, Timestamped
from subsidence.models._cols import enum_col, geom
from subsidence.models.admin import AdminArea
from subsidence.models.enums import MineStatus, MiningMethod


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

    mines: Mapped[list["Mine"]] = relationship(back_populates="enterprise")


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
    panels: Mapped[list["Panel"]] = relationship(back_populates="mine")


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
