"""Monitoring data and the warning system's records: observations, ingest batches, households and their
cards, alarms with their append-only history, and the notification outbox.

Observations are the one big table (years of 1-minute data from hundreds of sensors): its primary key is
``(sensor_id, time)`` — the unique constraint that makes re-ingest idempotent is also the clustered lookup
path for every per-sensor time-range query. It has no surrogate id, no audit hook and no ORM relationship;
it is written with Core batches (``services.ingest``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.core.models import AdminArea, Mine
from subsidence.db import append_only
from subsidence.db.base import Base, Timestamped, utcnow
from subsidence.db.columns import enum_col, geom
from subsidence.db.types import UTCDateTime
from subsidence.vocabulary import HazardType, SensorKind

#: BIGINT on PostgreSQL, INTEGER (the rowid alias, auto-increment) on SQLite
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Observation(Base):
    """One accepted sample: ``value`` in the sensor's canonical ``unit`` at ``time`` (UTC)."""

    __tablename__ = "observation"

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor.id", ondelete="CASCADE"), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(Integer, doc="ingest_batch.id that stored it (no FK: bulk path)")


class IngestBatch(Base):
    """One ingest call (a CSV file or an HTTP batch) with its counts and the rejected rows (row, reason)."""

    __tablename__ = "ingest_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(300), doc="file name or 'http:<client>'")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(120))
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    n_accepted: Mapped[int] = mapped_column(Integer, default=0)
    n_duplicate: Mapped[int] = mapped_column(Integer, default=0, doc="already stored with the same value")
    n_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[list[Any] | None] = mapped_column(JSON, doc="[[row, sensor, reason], ...] (first 1000)")
    warnings: Mapped[list[Any] | None] = mapped_column(JSON, doc="gaps etc.: accepted, but worth knowing")


class Household(Timestamped, Base):
    """A household threatened by a hazard point (受威胁户), by code, never by personal name."""

    __tablename__ = "household"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    hazard_point_id: Mapped[int] = mapped_column(ForeignKey("hazard_point.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    village: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    head_role: Mapped[str | None] = mapped_column(String(100), doc="户主, described by role/code only")
    people: Mapped[int] = mapped_column(Integer, default=0)
    property_10k_yuan: Mapped[float | None] = mapped_column(Float)
    house_type: Mapped[str | None] = mapped_column(String(60), doc="砖混, 土木, 窑洞 ...")
    phone: Mapped[str | None] = mapped_column(String(40))
    to_relocate: Mapped[bool] = mapped_column(Boolean, default=False)
    geometry = mapped_column(geom("POINT"), nullable=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class Card(Timestamped, Base):
    """An issued card: 工作明白卡 (kind ``work``, per hazard point) or 避险明白卡 (kind ``household``).

    A re-issue (changed route, new contact) supersedes the previous card of the same subject."""

    __tablename__ = "card"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, doc="card number, e.g. BX-<hazard>-<household>-v2")
    kind: Mapped[str] = mapped_column(String(20), doc="work | household")
    hazard_point_id: Mapped[int] = mapped_column(ForeignKey("hazard_point.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    issued_date: Mapped[date] = mapped_column(Date)
    issuing_unit: Mapped[str] = mapped_column(String(200))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_path: Mapped[str | None] = mapped_column(String(500))
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)

    copies: Mapped[list[CardCopy]] = relationship(
        back_populates="card", cascade="all, delete-orphan", order_by="CardCopy.id"
    )


class CardCopy(Timestamped, Base):
    """One of the three copies of a household card (household, village, issuing unit) and its signed receipt."""

    __tablename__ = "card_copy"
    __audited__ = True
    __table_args__ = (UniqueConstraint("card_id", "holder", name="uq_card_copy_card_holder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(20), doc="household | village | issuer")
    receipt_signed_by: Mapped[str | None] = mapped_column(String(200), doc="signer by role")
    receipt_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt_reference: Mapped[str | None] = mapped_column(String(300), doc="scan / photo of the signed receipt")

    card: Mapped[Card] = relationship(back_populates="copies")


class AlarmTrack(Base):
    """State of the alarm state machine for one (sensor, rule): consecutive counts, active level, timers.

    Kept apart from :class:`Alarm` because a rule has state even when no alarm is open (samples counting up
    towards confirmation)."""

    __tablename__ = "alarm_track"
    __table_args__ = (UniqueConstraint("sensor_id", "kind", name="uq_alarm_track_sensor_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    evaluated_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), doc="last sample time evaluated")
    raw_level: Mapped[int] = mapped_column(SmallInteger, default=0, doc="latest unconfirmed level (corroboration)")


class Alarm(Timestamped, Base):
    """An alarm: raised when a level is confirmed, changed by up/downgrades, acknowledged, escalated, cleared.

    ``open_key`` is ``"<sensor>:<kind>"`` while the alarm is open and NULL once cleared: its unique
    constraint guarantees at most one open alarm per sensor and rule on both databases."""

    __tablename__ = "alarm"
    __audited__ = True
    __table_args__ = (Index("ix_alarm_state_level", "state", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    sensor_id: Mapped[int | None] = mapped_column(ForeignKey("sensor.id"), index=True)
    hazard_point_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_point.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), doc="subsidence.monitoring.warning.levels.AlarmKind")
    data_quality: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[int] = mapped_column(SmallInteger, doc="Level: 1 blue .. 4 red (data quality: 1)")
    max_level: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[str] = mapped_column(String(20), doc="open | acknowledged | cleared")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    level_since: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalation_stage: Mapped[int] = mapped_column(SmallInteger, default=0, doc="0 responsible, 1 town, 2 bureau")
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    events: Mapped[list[AlarmEvent]] = relationship(order_by="AlarmEvent.id", viewonly=True)


class AlarmEvent(Base):
    """Append-only history of an alarm (raised, upgraded, downgraded, acknowledged, escalated, cleared ...)."""

    __tablename__ = "alarm_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(30))
    level: Mapped[int] = mapped_column(SmallInteger)
    actor: Mapped[str] = mapped_column(String(120))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxMessage(Base):
    """A notification written in the same transaction as the alarm change it reports (transactional outbox).

    The dispatcher claims due rows, delivers them with ``idempotency_key`` (gateways and the log channel
    drop a key they have seen), then marks them sent. A crash between delivery and marking leaves the row
    pending; the retry carries the same key, so nothing is lost. Log and SMS deliveries are exactly-once by
    key; e-mail is at-least-once (SMTP has no idempotency key: after a crash between send and mark a mail may
    arrive twice)."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20), doc="log | email | sms")
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, doc="delivery order: alarm level, red first")
    recipient: Mapped[str] = mapped_column(String(200))
    recipient_role: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default="pending", doc="pending | sent | dead")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), doc="lease of the dispatcher on it")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


#: alarm history is never changed or deleted (triggers in the migrations; the ORM refuses it too)
append_only.guard(AlarmEvent)


class HazardPoint(Timestamped, Base):
    """A located geological hazard with what it threatens (people, households, property in 10⁴ yuan)."""

    __tablename__ = "hazard_point"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    hazard_type: Mapped[HazardType] = mapped_column(enum_col(HazardType))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"))
    village: Mapped[str | None] = mapped_column(String(100))
    scale: Mapped[str | None] = mapped_column(String(20), doc="small / medium / large / giant")
    volume_m3: Mapped[float | None] = mapped_column(Float)
    triggers: Mapped[str | None] = mapped_column(String(200))
    stability: Mapped[str | None] = mapped_column(String(40))
    threatened_households: Mapped[int] = mapped_column(Integer, default=0)
    threatened_people: Mapped[int] = mapped_column(Integer, default=0)
    threatened_property_10k_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    monitoring_method: Mapped[str | None] = mapped_column(String(200))
    monitoring_frequency: Mapped[str | None] = mapped_column(String(100))
    responsible_role: Mapped[str | None] = mapped_column(String(200), doc="群测群防责任人, by role")
    monitor_role: Mapped[str | None] = mapped_column(String(200))
    warning_signal: Mapped[str | None] = mapped_column(String(200))
    warning_giver_role: Mapped[str | None] = mapped_column(String(200))
    rescue_unit: Mapped[str | None] = mapped_column(String(200))
    geometry = mapped_column(geom("POINT"), nullable=True)
    extent = mapped_column(geom("POLYGON"), nullable=True)
    evacuation_route = mapped_column(geom("LINESTRING"), nullable=True)
    shelter = mapped_column(geom("POINT"), nullable=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- danger grade (险情等级) and what the cards print ---
    people_to_relocate: Mapped[int | None] = mapped_column(Integer, doc="需搬迁/转移人数; None = threatened_people")
    danger_grade: Mapped[str | None] = mapped_column(
        String(4),
        doc="I..IV, computed by subsidence.monitoring.warning.levels.danger_grade (services.hazards keeps it)",
    )
    location_text: Mapped[str | None] = mapped_column(String(300), doc="地理位置, as the card prints it")
    evacuation_route_text: Mapped[str | None] = mapped_column(String(300), doc="撤离路线 in words")
    shelter_name: Mapped[str | None] = mapped_column(String(200), doc="避险场所")
    rescue_unit_phone: Mapped[str | None] = mapped_column(String(40))
    warning_level: Mapped[str | None] = mapped_column(String(10), doc="current highest open alarm level")
    notes: Mapped[str | None] = mapped_column(Text)

    town: Mapped[AdminArea | None] = relationship()
    mine: Mapped[Mine | None] = relationship()
    contacts: Mapped[list[HazardContact]] = relationship(
        back_populates="hazard_point", cascade="all, delete-orphan", order_by="HazardContact.id"
    )


class HazardContact(Timestamped, Base):
    """Who to call about a hazard point, by role (never a personal name): the mass-monitoring responsible
    person, the monitor, the warning giver, the town, the bureau, the rescue unit. Used by the cards and by
    alarm escalation (stage 0 = responsible/monitor, 1 = town, 2 = bureau)."""

    __tablename__ = "hazard_contact"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_point_id: Mapped[int] = mapped_column(ForeignKey("hazard_point.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), doc="responsible | monitor | warning | town | bureau | rescue")
    title: Mapped[str] = mapped_column(String(200), doc="role and unit, e.g. 村委会主任（群测群防责任人）")
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))

    hazard_point: Mapped[HazardPoint] = relationship(back_populates="contacts")


class GroundwaterWell(Timestamped, Base):
    """A groundwater observation well; depths to water in metres below ground (positive down)."""

    __tablename__ = "groundwater_well"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"))
    aquifer: Mapped[str | None] = mapped_column(String(100))
    well_depth_m: Mapped[float | None] = mapped_column(Float)
    baseline_depth_to_water_m: Mapped[float | None] = mapped_column(Float, doc="pre-mining, m below ground")
    geometry = mapped_column(geom("POINT"), nullable=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class Sensor(Timestamped, Base):
    """A monitoring sensor tied to a hazard point or a mine; ``unit`` is the unit of its values."""

    __tablename__ = "sensor"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[SensorKind] = mapped_column(enum_col(SensorKind))
    unit: Mapped[str] = mapped_column(String(20), doc="mm, m, mm/d, deg ...")
    hazard_point_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_point.id"))
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"))
    well_id: Mapped[int | None] = mapped_column(ForeignKey("groundwater_well.id"))
    installed: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    geometry = mapped_column(geom("POINT"), nullable=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- acquisition and alarm configuration ---
    name: Mapped[str | None] = mapped_column(String(200))
    expected_interval_s: Mapped[int | None] = mapped_column(Integer, doc="nominal sampling interval, seconds")
    valid_min: Mapped[float | None] = mapped_column(Float, doc="physically possible range (sensor fault outside)")
    valid_max: Mapped[float | None] = mapped_column(Float)
    resolution: Mapped[float | None] = mapped_column(Float, doc="smallest meaningful change, in ``unit``")
    config: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="alarm rules and thresholds; see subsidence.monitoring.evaluation.SensorRules"
    )

    hazard_point: Mapped[HazardPoint | None] = relationship()
    mine: Mapped[Mine | None] = relationship()


#: read path of the town scope of hazard points
Index("ix_web_hazard_point_town", HazardPoint.__table__.c.town_id)
