"""The problem ledger (台账): problems of the seven categories, milestones, cooperating units, and the
rectification records around them: deadline notices (with their per-year counter and deliveries),
evidence, acceptance decisions, escalations and licence-gate queries.

The lifecycle rules (who may move a problem from which state to which) live in
:mod:`subsidence.ledger.lifecycle`; these classes only hold the records.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.core.models import AdminArea, Mine, Unit
from subsidence.db.base import Base, Timestamped, utcnow
from subsidence.db.columns import enum_col, geom
from subsidence.db.types import UTCDateTime
from subsidence.vocabulary import (
    AcceptanceResult,
    DeliveryMethod,
    EscalationLevel,
    ProblemCategory,
    ProblemSource,
    ProblemState,
)

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
    submitted_date: Mapped[date | None] = mapped_column(Date, doc="last submission for acceptance (申请验收)")
    acceptance_due: Mapped[date | None] = mapped_column(
        Date, doc="end of the office's 60-working-day acceptance window for the last submission"
    )

    mine: Mapped[Mine | None] = relationship()
    town: Mapped[AdminArea | None] = relationship()
    lead_unit: Mapped[Unit | None] = relationship()
    cooperating_units: Mapped[list[Unit]] = relationship(secondary=problem_cooperating_unit)
    milestones: Mapped[list[Milestone]] = relationship(
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
    evidence_ids: Mapped[list[int] | None] = mapped_column(JSON, doc="evidence that shows it done")
    completed_by: Mapped[str | None] = mapped_column(String(120))

    problem: Mapped[Problem] = relationship(back_populates="milestones")


class NoticeCounter(Base):
    """Last notice number used per year; incremented in the issuing transaction (row-locked), so numbers
    never repeat and never skip (a rolled-back issue rolls the counter back too)."""

    __tablename__ = "notice_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class RectificationNotice(Timestamped, Base):
    """A deadline rectification notice (限期整改通知书). Its content is frozen in ``snapshot`` when issued,
    so the PDF/DOCX regenerate identically however the ledger changes afterwards."""

    __tablename__ = "rectification_notice"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_rectification_notice_year_seq"),
        CheckConstraint("deadline >= issued_date", name="deadline_after_issue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, doc="document number, e.g. 伊自然资整改〔2024〕7号")
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"))
    issuer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    issued_by: Mapped[str] = mapped_column(String(120), doc="actor who issued it (role:unit)")
    issued_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(200), doc="who must rectify (mine / enterprise / unit)")
    requirement: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, doc="everything printed on the document")

    problem: Mapped[Problem] = relationship()
    mine: Mapped[Mine | None] = relationship()
    issuer_unit: Mapped[Unit | None] = relationship()
    deliveries: Mapped[list[NoticeDelivery]] = relationship(
        back_populates="notice", order_by="NoticeDelivery.id", cascade="all, delete-orphan"
    )


class NoticeDelivery(Timestamped, Base):
    """Service of a notice (送达): when, how, and which role received it (never a personal name)."""

    __tablename__ = "notice_delivery"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("rectification_notice.id"))
    delivered_date: Mapped[date] = mapped_column(Date)
    method: Mapped[DeliveryMethod] = mapped_column(enum_col(DeliveryMethod))
    receiving_role: Mapped[str] = mapped_column(String(120), doc="e.g. 矿长 / mine manager, 安全科 / safety office")
    recorded_by: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)

    notice: Mapped[RectificationNotice] = relationship(back_populates="deliveries")


class Evidence(Timestamped, Base):
    """A photo or document attached to a problem, stored content-addressed (sha256) and never overwritten."""

    __tablename__ = "evidence"
    __audited__ = True
    __table_args__ = (UniqueConstraint("problem_id", "sha256", name="uq_evidence_problem_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(120), doc="sniffed from the content, not from the name")
    kind: Mapped[str] = mapped_column(String(20), doc="photo or document")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(255), doc="name as uploaded (display only)")
    storage_path: Mapped[str] = mapped_column(String(300), doc="relative to settings.data_dir")
    uploaded_by: Mapped[str] = mapped_column(String(120))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    location = mapped_column(geom("POINT"), nullable=True)
    note: Mapped[str | None] = mapped_column(Text)
    exif: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="time and GPS position read from the photo")
    flags: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON, doc="what the inspector must look at: position far from the problem, taken before it was found"
    )

    problem: Mapped[Problem] = relationship()


class AcceptanceRecord(Timestamped, Base):
    """The office's acceptance decision (验收): pass or return, with reasons and the inspectors present."""

    __tablename__ = "acceptance_record"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    decided_date: Mapped[date] = mapped_column(Date)
    result: Mapped[AcceptanceResult] = mapped_column(enum_col(AcceptanceResult))
    reasons: Mapped[str | None] = mapped_column(Text)
    inspectors: Mapped[list[str]] = mapped_column(JSON, doc="inspectors present, by role/number")
    site_visit: Mapped[bool] = mapped_column(Boolean, default=True)
    decided_by: Mapped[str] = mapped_column(String(120))
    within_window: Mapped[bool | None] = mapped_column(Boolean, doc="decided inside the 60-working-day window")
    flag_note: Mapped[str | None] = mapped_column(Text, doc="the inspector's note on flagged photo evidence")

    problem: Mapped[Problem] = relationship()


class Escalation(Timestamped, Base):
    """A missed date escalated (督办) to the responsible unit with a numbered 督办通知: a problem's deadline
    (to its lead unit, then the office), a milestone's due date (to the lead unit), or the office's own
    acceptance window (to the office). Once per problem, subject and level."""

    __tablename__ = "escalation"
    __audited__ = True
    __table_args__ = (UniqueConstraint("problem_id", "subject", "level", name="uq_escalation_problem_subject_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    level: Mapped[EscalationLevel] = mapped_column(enum_col(EscalationLevel))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    escalated_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date, doc="the date that was missed")
    workdays_overdue: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(
        String(20), default="deadline", server_default="deadline", doc="deadline | milestone | acceptance"
    )
    subject: Mapped[str] = mapped_column(
        String(40),
        default="deadline",
        server_default="deadline",
        doc="deadline | milestone:<seq> | acceptance (the uniqueness key)",
    )
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"))
    code: Mapped[str | None] = mapped_column(String(60), unique=True, doc="督办通知 number")
    year: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(Integer)
    reply_due: Mapped[date | None] = mapped_column(Date, doc="the unit reports back by this date")
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="everything printed on the 督办通知")
    outbox_key: Mapped[str | None] = mapped_column(String(120), doc="idempotency key of its outbox notification")

    problem: Mapped[Problem] = relationship()
    unit: Mapped[Unit | None] = relationship()


class DocumentCounter(Base):
    """Last number used per document series, issuing authority and year (督办通知, 不予受理告知书 ...);
    incremented in the issuing transaction like :class:`NoticeCounter`."""

    __tablename__ = "document_counter"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    authority: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class DeadlineExtension(Timestamped, Base):
    """A request to extend a rectification deadline (申请延期) and its decision. The gate, the overdue query
    and escalation use the problem's deadline, which an approved extension moves (``previous_deadline``
    keeps the one it replaced)."""

    __tablename__ = "deadline_extension"
    __audited__ = True
    __table_args__ = (UniqueConstraint("problem_id", "seq", name="uq_deadline_extension_problem_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="pending", doc="pending | approved | rejected")
    requested_date: Mapped[date] = mapped_column(Date, doc="server date of the request")
    requested_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    previous_deadline: Mapped[date] = mapped_column(Date)
    requested_deadline: Mapped[date] = mapped_column(Date)
    decided_date: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    granted_deadline: Mapped[date | None] = mapped_column(Date)

    problem: Mapped[Problem] = relationship()


class RefusalNotice(Timestamped, Base):
    """A numbered 不予受理告知书 for one refused gate query; its content frozen in ``snapshot``."""

    __tablename__ = "refusal_notice"
    __audited__ = True
    __table_args__ = (UniqueConstraint("authority", "year", "seq", name="uq_refusal_notice_authority_year_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    authority: Mapped[str] = mapped_column(String(40), doc="issuing unit code")
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    gate_query_id: Mapped[int] = mapped_column(ForeignKey("gate_query.id"), unique=True)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    issued_date: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(120))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class GateQuery(Base):
    """One licence-gate query and its answer (every query is kept; audited on insert)."""

    __tablename__ = "gate_query"
    __audited__ = True
    __table_args__ = (Index("ix_gate_query_mine", "mine_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    application: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[date] = mapped_column(Date, doc="the 'today' the rules were evaluated for")
    allowed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, doc="the refusals (each with a passed deadline)")
    actor: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str | None] = mapped_column(String(20), doc="allowed | refused | not_evaluable")
    warnings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    not_evaluable: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    mine: Mapped[Mine] = relationship()


# Read-path indexes for the web lists and filters (the API pages by id within a filter; see
# benchmarks/bench_api_load.py).
_p = Problem.__table__.c
Index("ix_web_problem_state_deadline", _p.state, _p.deadline)
Index("ix_web_problem_state_category", _p.state, _p.category, _p.deadline)
Index("ix_web_problem_mine", _p.mine_id, _p.id)
Index("ix_web_problem_town", _p.town_id, _p.id)
Index("ix_web_problem_category", _p.category, _p.id)
Index("ix_web_problem_lead_unit", _p.lead_unit_id, _p.id)
