"""Subsidence areas (沉陷区) as mapped polygons with their measured attributes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subsidence.db.base import Base, Timestamped
from subsidence.models._cols import enum_col, geom
from subsidence.models.enums import MovementStage, ReviewState, SubsidenceSource


class SubsidenceArea(Timestamped, Base):
    """A subsidence area: area ha, subsidence mm (positive down), volume m³, rate mm/yr."""

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
