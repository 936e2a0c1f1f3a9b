"""Task ledgers (docs/domain.md §3 tasks 2, 4, 5, 7 and goal 2): restoration fund, water-preserving mining plans,
hidden disaster-causing factors with their rectification plans, double-random inspections, annual assessment.

Money is stored as integer fen (1 yuan = 100 fen), never as float. Tables whose rows must never change
after insertion (fund entries, draw publications, seeds and results) are written once by the services; a
correction is a new row that references the old one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.core.models import Mine, Unit
from subsidence.db import append_only
from subsidence.db.base import Base, Timestamped, utcnow
from subsidence.db.columns import enum_col, geom
from subsidence.db.types import UTCDateTime
from subsidence.ledger.models import Problem
from subsidence.monitoring.models import GroundwaterWell
from subsidence.vocabulary import (
    DemolitionStatus,
    FundEntryKind,
    HiddenFactorType,
    InspectionOutcome,
    MovementStage,
    PlanReviewState,
    RiskGrade,
    WaterPlanState,
)

# --------------------------------------------------------------------------------------- fund (task 2)


class FundAccount(Timestamped, Base):
    """The restoration-fund account (矿山地质环境治理恢复基金账户) of one mine, with the keys of its coefficients."""

    __tablename__ = "fund_account"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, doc="account code (stable key)")
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), unique=True)
    bank_account: Mapped[str | None] = mapped_column(String(80), doc="bank account reference")
    opened: Mapped[date | None] = mapped_column(Date)
    method_key: Mapped[str | None] = mapped_column(
        String(60), doc="mining-method coefficient key; default from the mine's mining method"
    )
    land_type: Mapped[str] = mapped_column(String(40), default="other", doc="land-type coefficient key")
    region_key: Mapped[str] = mapped_column(String(40), default="default", doc="regional coefficient key")
    notes: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine] = relationship()


class FundObligation(Timestamped, Base):
    """The required accrual of one account for one year: the formula, the plan's requirement and the larger."""

    __tablename__ = "fund_obligation"
    __audited__ = True
    __table_args__ = (UniqueConstraint("account_id", "year", name="uq_fund_obligation_account_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("fund_account.id"))
    year: Mapped[int] = mapped_column(Integer, doc="accrual year; the output is that of year - 1")
    output_kg: Mapped[int] = mapped_column(BigInteger, doc="last year's raw-coal output, kg (exact; shown in t)")
    price_key: Mapped[str] = mapped_column(String(40), default="default")
    coefficients: Mapped[dict[str, Any]] = mapped_column(JSON, doc="factor -> {key, value, source} used")
    formula_fen: Mapped[int] = mapped_column(BigInteger)
    plan_required_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    required_fen: Mapped[int] = mapped_column(BigInteger, doc="max(formula, plan)")

    account: Mapped[FundAccount] = relationship()

    @property
    def output_t(self) -> Decimal:
        return Decimal(self.output_kg) / 1000


class FundEntry(Base):
    """One movement on a fund account (insert-only; a mistake is corrected by a reversal entry)."""

    __tablename__ = "fund_entry"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, doc="voucher number (stable key)")
    account_id: Mapped[int] = mapped_column(ForeignKey("fund_account.id"))
    kind: Mapped[FundEntryKind] = mapped_column(enum_col(FundEntryKind))
    amount_fen: Mapped[int] = mapped_column(BigInteger, doc="positive; the kind gives the sign")
    entry_date: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer, doc="the accrual year a deposit counts for / the year spent")
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))
    works: Mapped[str | None] = mapped_column(String(300), doc="works the money paid for")
    reference: Mapped[str | None] = mapped_column(String(200), doc="voucher / approval document")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("fund_entry.id"), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    account: Mapped[FundAccount] = relationship()
    problem: Mapped[Problem | None] = relationship()


# ---------------------------------------------------------------------------------------- water (task 5)

water_plan_well = Table(
    "water_plan_well",
    Base.metadata,
    Column("plan_id", ForeignKey("water_plan.id", ondelete="CASCADE"), primary_key=True),
    Column("well_id", ForeignKey("groundwater_well.id"), primary_key=True),
)


class WaterPlan(Timestamped, Base):
    """A mine's water-preserving mining plan (保水开采方案): required → submitted → approved → carried out."""

    __tablename__ = "water_plan"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    state: Mapped[WaterPlanState] = mapped_column(enum_col(WaterPlanState), default=WaterPlanState.REQUIRED)
    required_reason: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date, doc="date by which the plan must be approved")
    submitted_date: Mapped[date | None] = mapped_column(Date)
    approved_date: Mapped[date | None] = mapped_column(Date)
    approval_no: Mapped[str | None] = mapped_column(String(100))
    approving_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    implemented_date: Mapped[date | None] = mapped_column(Date)
    review_note: Mapped[str | None] = mapped_column(Text)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine] = relationship()
    wells: Mapped[list[GroundwaterWell]] = relationship(secondary=water_plan_well)
    approving_unit: Mapped[Unit | None] = relationship()


class WellAssessment(Base):
    """The decline evaluation of one well's series on one date (kept; the newest counts)."""

    __tablename__ = "well_assessment"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    well_id: Mapped[int] = mapped_column(ForeignKey("groundwater_well.id"))
    assessed_on: Mapped[date] = mapped_column(Date)
    declining: Mapped[bool] = mapped_column(Boolean)
    rate_m_per_month: Mapped[float | None] = mapped_column(Numeric(10, 4, asdecimal=False))
    drawdown_m: Mapped[float | None] = mapped_column(Numeric(10, 3, asdecimal=False))
    n_points: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    well: Mapped[GroundwaterWell] = relationship()


# ------------------------------------------------------------------------------- mine hazards (task 7)


class HiddenFactor(Timestamped, Base):
    """One hidden disaster-causing factor (隐蔽致灾因素) found by a mine's census."""

    __tablename__ = "hidden_factor"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    factor_type: Mapped[HiddenFactorType] = mapped_column(enum_col(HiddenFactorType))
    census_year: Mapped[int] = mapped_column(Integer)
    surveyed_date: Mapped[date] = mapped_column(Date)
    location: Mapped[str | None] = mapped_column(String(300), doc="panel, roadway, coordinates ...")
    description: Mapped[str | None] = mapped_column(Text)
    risk_level: Mapped[str | None] = mapped_column(String(20), doc="major / large / general")
    is_problem: Mapped[bool] = mapped_column(Boolean, default=True, doc="needs a rectification plan")
    plan_due: Mapped[date | None] = mapped_column(Date, doc="date by which its plan must be approved")
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    mine: Mapped[Mine] = relationship()
    problem: Mapped[Problem | None] = relationship()
    plan: Mapped[RectificationPlan | None] = relationship(back_populates="factor", uselist=False)


class RectificationPlan(Timestamped, Base):
    """The one rectification plan (一患一方案) of a hidden factor, reviewed by the mine-safety supervisor."""

    __tablename__ = "rectification_plan"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    factor_id: Mapped[int] = mapped_column(ForeignKey("hidden_factor.id"), unique=True)
    measures: Mapped[str] = mapped_column(Text)
    responsible_role: Mapped[str | None] = mapped_column(String(200))
    rectify_deadline: Mapped[date | None] = mapped_column(Date)
    state: Mapped[PlanReviewState] = mapped_column(enum_col(PlanReviewState), default=PlanReviewState.DRAFT)
    submitted_date: Mapped[date | None] = mapped_column(Date)
    reviewed_date: Mapped[date | None] = mapped_column(Date)
    reviewer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    review_result: Mapped[str | None] = mapped_column(Text)
    completed_date: Mapped[date | None] = mapped_column(Date)

    factor: Mapped[HiddenFactor] = relationship(back_populates="plan")
    reviewer_unit: Mapped[Unit | None] = relationship()


# -------------------------------------------------------------------------- double random (goal 2)


class InspectionObject(Timestamped, Base):
    """An entry of the inspection-object directory (检查对象名录): a mine with its risk grade."""

    __tablename__ = "inspection_object"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"), unique=True)
    risk_grade: Mapped[RiskGrade] = mapped_column(enum_col(RiskGrade), default=RiskGrade.MEDIUM)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    mine: Mapped[Mine] = relationship()


class Inspector(Timestamped, Base):
    """An entry of the inspector directory (执法检查人员名录), named by code, role and unit."""

    __tablename__ = "inspector"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, doc="enforcement certificate number or code")
    role_title: Mapped[str | None] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit] = relationship()
    conflicts: Mapped[list[InspectorConflict]] = relationship(back_populates="inspector")


class InspectorConflict(Timestamped, Base):
    """A declared conflict of interest (回避事由) between an inspector and a mine."""

    __tablename__ = "inspector_conflict"
    __audited__ = True
    __table_args__ = (UniqueConstraint("inspector_id", "mine_id", name="uq_inspector_conflict_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    reason: Mapped[str] = mapped_column(String(300))
    declared_date: Mapped[date] = mapped_column(Date)

    inspector: Mapped[Inspector] = relationship(back_populates="conflicts")
    mine: Mapped[Mine] = relationship()


class InspectionItem(Timestamped, Base):
    """An inspection item (抽查事项) with its sampling ratio per risk grade and frequency per year."""

    __tablename__ = "inspection_item"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    ratio_high_pct: Mapped[int] = mapped_column(Integer, default=100)
    ratio_medium_pct: Mapped[int] = mapped_column(Integer, default=70)
    ratio_low_pct: Mapped[int] = mapped_column(Integer, default=50)
    per_year: Mapped[int] = mapped_column(Integer, default=1, doc="draws per year")
    inspectors_per_object: Mapped[int] = mapped_column(Integer, default=2)
    basis: Mapped[str | None] = mapped_column(String(300))

    lead_unit: Mapped[Unit | None] = relationship()


class DrawRecord(Base):
    """A published draw: the frozen, sorted candidate pool and its SHA-256 (insert-only).

    A redo is a new record with ``supersedes_id`` and a reason; the old one stays.
    """

    __tablename__ = "draw_record"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inspection_item.id"))
    pool: Mapped[dict[str, Any]] = mapped_column(JSON)
    pool_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("draw_record.id"))
    redo_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[InspectionItem] = relationship()
    seed: Mapped[DrawSeed | None] = relationship(back_populates="draw", uselist=False)
    result: Mapped[DrawResult | None] = relationship(back_populates="draw", uselist=False)


class DrawSeed(Base):
    """The public seed of a draw, entered after the pool was published (insert-only, one per draw)."""

    __tablename__ = "draw_seed"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw_record.id"), unique=True)
    source: Mapped[str] = mapped_column(String(300))
    value: Mapped[str] = mapped_column(String(500))
    source_time: Mapped[datetime] = mapped_column(UTCDateTime(), doc="when the public source produced the value")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())

    draw: Mapped[DrawRecord] = relationship(back_populates="seed")


class DrawResult(Base):
    """The derived picks of a draw (insert-only, one per draw)."""

    __tablename__ = "draw_result"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw_record.id"), unique=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    result_sha256: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())

    draw: Mapped[DrawRecord] = relationship(back_populates="result")


class InspectionResult(Timestamped, Base):
    """The result of inspecting one drawn mine; public once published (deadline: 20 working days)."""

    __tablename__ = "inspection_result"
    __audited__ = True
    __table_args__ = (UniqueConstraint("draw_id", "mine_id", name="uq_inspection_result_draw_mine"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw_record.id"))
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    inspected_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[InspectionOutcome] = mapped_column(enum_col(InspectionOutcome))
    findings: Mapped[str | None] = mapped_column(Text)
    public_summary: Mapped[str | None] = mapped_column(Text, doc="the text the public sees")
    publish_deadline: Mapped[date] = mapped_column(Date)
    published_date: Mapped[date | None] = mapped_column(Date)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))

    draw: Mapped[DrawRecord] = relationship()
    mine: Mapped[Mine] = relationship()


# ----------------------------------------------------------------------------- annual assessment


class AssessmentScore(Timestamped, Base):
    """The annual assessment (年度评估) score of one mine for one year, with each indicator's contribution."""

    __tablename__ = "assessment_score"
    __audited__ = True
    __table_args__ = (UniqueConstraint("year", "mine_id", name="uq_assessment_score_year_mine"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    score: Mapped[float] = mapped_column(Numeric(6, 2, asdecimal=False), doc="0-100")
    rank: Mapped[int] = mapped_column(Integer)
    listing: Mapped[str | None] = mapped_column(String(20), doc="praise / exposure / None")
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computed_on: Mapped[date] = mapped_column(Date)

    mine: Mapped[Mine] = relationship()


# ---------------------------------------------------------------------------------- insert-only guard

#: tables whose rows never change once written (a correction is a new row referencing the old one)
INSERT_ONLY = (FundEntry, DrawRecord, DrawSeed, DrawResult)


append_only.guard(*INSERT_ONLY)


class CompensatedBuilding(Timestamped, Base):
    """A building or facility over goaf that was compensated and resettled and must be demolished (task 4)."""

    __tablename__ = "compensated_building"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(40), doc="house, barn, road, school ...")
    household_code: Mapped[str | None] = mapped_column(String(60), doc="owner household by code, never by name")
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    village: Mapped[str | None] = mapped_column(String(100))
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"))
    compensated: Mapped[bool] = mapped_column(Boolean, default=True)
    compensation_date: Mapped[date | None] = mapped_column(Date)
    compensation_yuan: Mapped[float | None] = mapped_column(Float)
    compensation_record: Mapped[str | None] = mapped_column(String(200))
    resettled: Mapped[bool] = mapped_column(Boolean, default=True)
    reoccupied: Mapped[bool] = mapped_column(Boolean, default=False, doc="returned residents live there again")
    demolition_status: Mapped[DemolitionStatus] = mapped_column(
        enum_col(DemolitionStatus), default=DemolitionStatus.NOT_STARTED
    )
    demolished_date: Mapped[date | None] = mapped_column(Date)
    geometry = mapped_column(geom("GEOMETRY"), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    stability: Mapped[MovementStage | None] = mapped_column(enum_col(MovementStage))


# --------------------------------------------------------------------- review and publication


class FundEntryReview(Base):
    """The lead bureau's check (核实) of one fund entry an enterprise reported: confirmed, or returned with the
    reason (insert-only, one per entry; a returned entry is corrected by a reversal and a new entry)."""

    __tablename__ = "fund_entry_review"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("fund_entry.id"), unique=True)
    confirmed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(120), doc="role:username of the reviewer")
    reviewer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entry: Mapped[FundEntry] = relationship()


class Publication(Base):
    """A recorded sign-off (签发) of what the public sees: one version of one public list, frozen as the JSON
    snapshot that was signed, with its SHA-256 (of the canonical JSON), who signed and when (insert-only).

    The public pages and ``/api/public/*`` read the newest version of each list; recomputing the data behind a
    list (re-running the assessment, entering results) changes nothing public until it is signed off again.
    """

    __tablename__ = "publication"
    __audited__ = True
    __table_args__ = (UniqueConstraint("kind", "scope", "version", name="uq_publication_kind_scope_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), doc="assessment_lists | inspection_results")
    scope: Mapped[str] = mapped_column(String(40), doc="the assessment year, or 'all'")
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the snapshot's canonical JSON")
    signed_by: Mapped[str] = mapped_column(String(120), doc="role:username of the signer")
    signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class BuildingPhoto(Base):
    """A photo a town took of a compensated building: its demolition (拆除) or residents living there again
    (回流居住); stored content-addressed under the data dir like problem evidence (insert-only)."""

    __tablename__ = "building_photo"
    __audited__ = True
    __table_args__ = (UniqueConstraint("building_id", "sha256", name="uq_building_photo_building_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("compensated_building.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20), doc="demolition | reoccupation")
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(60), doc="sniffed from the content")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(255), doc="name as uploaded (display only)")
    storage_path: Mapped[str] = mapped_column(String(300), doc="relative to settings.data_dir")
    uploaded_by: Mapped[str] = mapped_column(String(120))
    taken_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    building: Mapped[CompensatedBuilding] = relationship()


append_only.guard(FundEntryReview, Publication, BuildingPhoto)
