"""Subsidence areas (沉陷区) as mapped polygons with their measured attributes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subsidence.db.base import Base, Timestamped
from subsidence.models._cols import enum_col, geom
from subsidence.models.enums import MovementStage, ReviewState, SubsidenceSource


class SubsidenceArea(Timestamped, Base):
    """A subsidence area: area ha, subsidence mm (positive down), volume m³, rate mm/yr.

    Areas found by a census (:class:`~subsidence.models.census_runs.CensusRun`) start as review candidates
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
