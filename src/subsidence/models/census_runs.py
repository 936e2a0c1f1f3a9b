"""Census runs, attribution overlaps, expert-review decisions and vegetation-change polygons."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.base import Base, Timestamped, utcnow
from subsidence.db.types import UTCDateTime
from subsidence.models._cols import enum_col, geom
from subsidence.models.census import SubsidenceArea
from subsidence.models.enums import Labelled


class ReviewAction(Labelled):
    CONFIRM = "confirm"
    REJECT = "reject"
    MERGE = "merge"
    SPLIT = "split"


ReviewAction._LABELS = {
    "confirm": ("确认", "confirm"),
    "reject": ("否定", "reject"),
    "merge": ("合并", "merge"),
    "split": ("拆分", "split"),
}


class VegetationChangeKind(Labelled):
    LOSS = "loss"
    RECOVERY = "recovery"


VegetationChangeKind._LABELS = {"loss": ("植被退化", "vegetation loss"), "recovery": ("植被恢复", "recovery")}


class CensusRun(Timestamped, Base):
    """One census: a deformation product turned into candidate subsidence areas with given parameters."""

    __tablename__ = "census_run"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, doc="CEN-YYYYMMDD-NN")
    census_date: Mapped[date] = mapped_column(Date, doc="date the deformation refers to (last acquisition)")
    period_start: Mapped[date | None] = mapped_column(Date)
    source_file: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), doc="cumulative | rate")
    raster_crs: Mapped[str | None] = mapped_column(String(80), doc="CRS the areas were measured in")
    pixel_size_m: Mapped[float | None] = mapped_column(Float)
    parameters: Mapped[dict] = mapped_column(JSON, doc="detection and attribution parameters")
    notes: Mapped[list | None] = mapped_column(JSON, doc="conversions applied (LOS→vertical, reprojection ...)")
    created_by: Mapped[str | None] = mapped_column(String(120))
    n_areas: Mapped[int] = mapped_column(Integer, default=0)

    areas: Mapped[list[SubsidenceArea]] = relationship(primaryjoin="CensusRun.id == SubsidenceArea.census_id",
                                                       foreign_keys="SubsidenceArea.census_id",
                                                       order_by="SubsidenceArea.code")


class SubsidenceAreaMine(Base):
    """Overlap (ha) of a subsidence area with a mining right; ``causing`` when the mine's panels lie under it."""

    __tablename__ = "subsidence_area_mine"
    __table_args__ = (UniqueConstraint("area_id", "mine_id", name="uq_subsidence_area_mine_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("subsidence_area.id", ondelete="CASCADE"))
    mine_id: Mapped[int] = mapped_column(ForeignKey("mine.id"))
    overlap_ha: Mapped[float] = mapped_column(Float)
    causing: Mapped[bool] = mapped_column(default=False)


class SubsidenceAreaTown(Base):
    """Overlap (ha) of a subsidence area with a town."""

    __tablename__ = "subsidence_area_town"
    __table_args__ = (UniqueConstraint("area_id", "town_id", name="uq_subsidence_area_town_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("subsidence_area.id", ondelete="CASCADE"))
    town_id: Mapped[int] = mapped_column(ForeignKey("admin_area.id"))
    overlap_ha: Mapped[float] = mapped_column(Float)


class SubsidenceAreaPanel(Base):
    """Overlap (ha) of a subsidence area with a panel (goaf)."""

    __tablename__ = "subsidence_area_panel"
    __table_args__ = (UniqueConstraint("area_id", "panel_id", name="uq_subsidence_area_panel_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("subsidence_area.id", ondelete="CASCADE"))
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id"))
    overlap_ha: Mapped[float] = mapped_column(Float)


class ReviewDecision(Base):
    """One expert-review decision (专家评审) on one or more areas, with reason and reviewer; never edited."""

    __tablename__ = "review_decision"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[ReviewAction] = mapped_column(enum_col(ReviewAction))
    area_codes: Mapped[list] = mapped_column(JSON, doc="areas decided on")
    result_codes: Mapped[list | None] = mapped_column(JSON, doc="areas created by a merge or split")
    reason: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(120), doc="reviewer by role/unit")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    meeting: Mapped[str | None] = mapped_column(String(200), doc="review meeting / minutes reference")


class VegetationChange(Timestamped, Base):
    """A polygon of vegetation loss or recovery between two dates (task 3), with where it lies."""

    __tablename__ = "vegetation_change"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[VegetationChangeKind] = mapped_column(enum_col(VegetationChangeKind))
    date_before: Mapped[date] = mapped_column(Date)
    date_after: Mapped[date] = mapped_column(Date)
    area_ha: Mapped[float] = mapped_column(Float)
    over_goaf_ha: Mapped[float] = mapped_column(Float, default=0.0)
    mean_delta_ndvi: Mapped[float] = mapped_column(Float)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"))
    source_files: Mapped[list | None] = mapped_column(JSON)
    parameters: Mapped[dict | None] = mapped_column(JSON)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id"))
    geometry = mapped_column(geom("MULTIPOLYGON"), nullable=True)
