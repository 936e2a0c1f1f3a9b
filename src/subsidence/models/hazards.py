"""Hazard points (隐患点), sensors, groundwater wells and compensated buildings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text
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

    town: Mapped[AdminArea | None] = relationship()
    mine: Mapped[Mine | None] = relationship()


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

    hazard_point: Mapped[HazardPoint | None] = relationship()


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
