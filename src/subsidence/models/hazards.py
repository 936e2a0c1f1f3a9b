"""Hazard points (隐患点), sensors, groundwater wells and compensated buildings."""

from __future__ import annotations

from datetime import date

from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.base import Base, Timestamped
from subsidence.models._cols import enum_col, geom
from subsidence.models.admin import AdminArea
from subsidence.models.enums import DemolitionStatus, HazardType, MovementStage, SensorKind
from subsidence.models.mining import Mine


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
    # --- danger grade (险情等级) and what the cards print (issue 7) ---
    people_to_relocate: Mapped[int | None] = mapped_column(Integer, doc="需搬迁/转移人数; None = threatened_people")
    danger_grade: Mapped[str | None] = mapped_column(
        String(4), doc="I..IV, computed by subsidence.monitoring.levels.danger_grade (services.hazards keeps it)"
    )
    location_text: Mapped[str | None] = mapped_column(String(300), doc="地理位置, as the card prints it")
    evacuation_route_text: Mapped[str | None] = mapped_column(String(300), doc="撤离路线 in words")
    shelter_name: Mapped[str | None] = mapped_column(String(200), doc="避险场所")
    rescue_unit_phone: Mapped[str | None] = mapped_column(String(40))
    warning_level: Mapped[str | None] = mapped_column(String(10), doc="current highest open alarm level")
    notes: Mapped[str | None] = mapped_column(Text)

    town: Mapped[AdminArea | None] = relationship()
    mine: Mapped[Mine | None] = relationship()
    contacts: Mapped[list["HazardContact"]] = relationship(
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
    # --- acquisition and alarm configuration (issue 7) ---
    name: Mapped[str | None] = mapped_column(String(200))
    expected_interval_s: Mapped[int | None] = mapped_column(Integer, doc="nominal sampling interval, seconds")
    valid_min: Mapped[float | None] = mapped_column(Float, doc="physically possible range (sensor fault outside)")
    valid_max: Mapped[float | None] = mapped_column(Float)
    resolution: Mapped[float | None] = mapped_column(Float, doc="smallest meaningful change, in ``unit``")
    config: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="alarm rules and thresholds; see subsidence.services.alarms.SensorRules"
    )

    hazard_point: Mapped[HazardPoint | None] = relationship()
    mine: Mapped[Mine | None] = relationship()


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
