"""Census tables: subsidence areas (沉陷区) as mapped polygons with their measured attributes, the census runs that
found them, their overlaps with mines, towns and panels, expert-review decisions and vegetation-change polygons."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subsidence.db.base import Base, Timestamped, utcnow
from subsidence.db.columns import enum_col, geom
from subsidence.db.types import UTCDateTime
from subsidence.vocabulary import MovementStage, ReviewAction, ReviewState, SubsidenceSource, VegetationChangeKind


class SubsidenceArea(Timestamped, Base):
    """A subsidence area: area ha, subsidence mm (positive down), volume m³, rate mm/yr.

    Areas found by a census (:class:`~subsidence.census.models.CensusRun`) start as review candidates
    (待评审); expert review confirms, rejects, merges or splits them. Confirmed areas form the baseline.
    ``filled_fraction`` is the share of the area whose values were predicted by the PIM fitted on the
    reliable edge pixels (decorrelated centre), ``filled_geometry`` that part. ``outside_mining_right`` and
    ``beyond_licence`` are the attribution flags (suspected mining beyond the licence, 疑似越界开采).
    """

    __tablename__ = "subsidence_area"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    source: Mapped[SubsidenceSource] = mapped_column(enum_col(SubsidenceSource))
    review_state: Mapped[ReviewState] = mapped_column(enum_col(ReviewState), default=ReviewState.CANDIDATE)
    stability: Mapped[MovementStage | None] = mapped_column(enum_col(MovementStage))
    area_ha: Mapped[float | None] = mapped_column(Float)
    max_subsidence_mm: Mapped[float | None] = mapped_column(Float)
    mean_subsidence_mm: Mapped[float | None] = mapped_column(Float)
    volume_m3: Mapped[float | None] = mapped_column(Float)
    mean_rate_mm_per_yr: Mapped[float | None] = mapped_column(Float)
    first_seen: Mapped[date | None] = mapped_column(Date)
    last_seen: Mapped[date | None] = mapped_column(Date)
    treated: Mapped[bool] = mapped_column(Boolean, default=False)
    mine_id: Mapped[int | None] = mapped_column(ForeignKey("mine.id"), doc="principal mine (attribution)")
    town_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"))
    geometry = mapped_column(geom("MULTIPOLYGON"), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    census_id: Mapped[int | None] = mapped_column(ForeignKey("census_run.id"), doc="the census that found it")
    source_detail: Mapped[str | None] = mapped_column(String(300), doc="file or product it was derived from")
    n_pixels: Mapped[int | None] = mapped_column(Integer)
    max_is_lower_bound: Mapped[bool] = mapped_column(Boolean, default=False, doc="decorrelated centre not filled")
    decorrelated_ha: Mapped[float | None] = mapped_column(Float)
    filled_fraction: Mapped[float | None] = mapped_column(Float, doc="share predicted by PIM fusion, 0..1")
    filled_geometry = mapped_column(geom("MULTIPOLYGON"), nullable=True)
    outside_mining_right: Mapped[bool] = mapped_column(Boolean, default=False)
    outside_mining_right_ha: Mapped[float | None] = mapped_column(Float)
    beyond_licence: Mapped[bool] = mapped_column(Boolean, default=False, doc="suspected mining beyond the licence")
    beyond_licence_ha: Mapped[float | None] = mapped_column(Float)
    parent_codes: Mapped[list | None] = mapped_column(JSON, doc="areas this one was merged/split from")
    attributes: Mapped[dict | None] = mapped_column(JSON, doc="further census attributes (stage fractions ...)")


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

    areas: Mapped[list[SubsidenceArea]] = relationship(
        primaryjoin="CensusRun.id == SubsidenceArea.census_id",
        foreign_keys="SubsidenceArea.census_id",
        order_by="SubsidenceArea.code",
    )


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
