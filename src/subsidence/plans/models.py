"""Mine treatment plans: the protection-and-reclamation plan with its revisions, annual plans, and
the treated parcels enterprises report and the bureau verifies.

Money is in yuan as integers (no float money); areas in hectares computed from the geometry in the storage CRS.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.core.models import Mine
from subsidence.db.base import Base, Timestamped
from subsidence.db.columns import enum_col, geom
from subsidence.vocabulary import LandType, ParcelPurpose, ParcelState


class ReclamationPlan(Timestamped, Base):
    """矿山地质环境保护与土地复垦方案: one row per revision; a revision never overwrites its predecessor."""

    __tablename__ = "reclamation_plan"
    __audited__ = True
    __table_args__ = (UniqueConstraint("mine_id", "revision", name="uq_reclamation_plan_mine_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True, doc="document number + revision, stable key")
    doc_no: Mapped[str] = mapped_column(String(80), doc="approval document number")
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("reclamation_plan.id"))
    current: Mapped[bool] = mapped_column(Boolean, default=True, doc="False once a later revision exists")
    approval_date: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    works: Mapped[str | None] = mapped_column(Text, doc="治理工程 description")
    cost_estimate_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc='{"2025": {"treat_ha": .., "reclaim_ha": .., "cost_yuan": ..}, ...}'
    )
    revision_reason: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine] = relationship()
    parcels: Mapped[list[PlanParcel]] = relationship(back_populates="plan", cascade="all, delete-orphan")


class PlanParcel(Base):
    """A polygon of a plan: land to be damaged, treated or reclaimed, by land type."""

    __tablename__ = "plan_parcel"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("reclamation_plan.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[ParcelPurpose] = mapped_column(enum_col(ParcelPurpose))
    land_type: Mapped[LandType] = mapped_column(enum_col(LandType))
    planned_year: Mapped[int | None] = mapped_column(Integer)
    area_ha: Mapped[float] = mapped_column(Float)
    geometry = mapped_column(geom("MULTIPOLYGON"))

    plan: Mapped[ReclamationPlan] = relationship(back_populates="parcels")


class AnnualPlan(Timestamped, Base):
    """年度治理与复垦计划: targets of one mine for one year, and the fund accrual the plan requires."""

    __tablename__ = "annual_plan"
    __audited__ = True
    __table_args__ = (UniqueConstraint("mine_id", "year", name="uq_annual_plan_mine_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("reclamation_plan.id"))
    year: Mapped[int] = mapped_column(Integer)
    target_treat_ha: Mapped[float] = mapped_column(Float, default=0.0)
    target_reclaim_ha: Mapped[float] = mapped_column(Float, default=0.0)
    targets_by_land_type: Mapped[dict[str, float] | None] = mapped_column(JSON, doc="{land_type: ha}")
    works: Mapped[str | None] = mapped_column(Text)
    budget_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    required_fund_accrual_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine] = relationship()


class TreatedParcel(Timestamped, Base):
    """A parcel the enterprise reports as treated/reclaimed, and the bureau's verification of it."""

    __tablename__ = "treated_parcel"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    annual_plan_id: Mapped[int] = mapped_column(ForeignKey("annual_plan.id"))
    year: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[ParcelPurpose] = mapped_column(
        enum_col(ParcelPurpose),
        default=ParcelPurpose.RECLAIM,
        doc="treated (治理) or reclaimed (复垦): the same land may be both",
    )
    land_type: Mapped[LandType] = mapped_column(enum_col(LandType))
    works: Mapped[str | None] = mapped_column(Text)
    spending_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    reported_date: Mapped[date] = mapped_column(Date)
    area_ha: Mapped[float] = mapped_column(Float)
    state: Mapped[ParcelState] = mapped_column(enum_col(ParcelState), default=ParcelState.REPORTED)
    state_reason: Mapped[str | None] = mapped_column(Text)
    rs_ndvi_before: Mapped[float | None] = mapped_column(Float)
    rs_ndvi_after: Mapped[float | None] = mapped_column(Float)
    rs_stable_fraction: Mapped[float | None] = mapped_column(Float)
    verified_date: Mapped[date | None] = mapped_column(Date)
    accepted_date: Mapped[date | None] = mapped_column(Date)
    geometry = mapped_column(geom("MULTIPOLYGON"))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine] = relationship()
    annual_plan: Mapped[AnnualPlan] = relationship()
