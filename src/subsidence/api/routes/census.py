"""Subsidence areas (沉陷区): list/filter/export, and one area with its record, history and series."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, IdQuery, Lang, SessionDep
from subsidence.api.exports import Column, table_response
from subsidence.census.models import SubsidenceArea
from subsidence.core.history import audit_trail
from subsidence.errors import ValidationFailed
from subsidence.prediction.queries import area_series
from subsidence.vocabulary import MovementStage, ReviewState

router = APIRouter(prefix="/api/subsidence-areas", tags=["census"])

AREA_COLUMNS = [
    Column("code", "编号", "code"),
    Column("source_label", "来源", "source"),
    Column("review_state_label", "评审状态", "review"),
    Column("stability_label", "稳定性", "stability"),
    Column("area_ha", "面积（公顷）", "area ha"),
    Column("max_subsidence_mm", "最大下沉（mm）", "max subsidence mm"),
    Column("mean_rate_mm_per_yr", "平均速率（mm/年）", "mean rate mm/yr"),
    Column("treated", "已治理", "treated"),
    Column("first_seen", "首次发现", "first seen"),
    Column("last_seen", "最近监测", "last seen"),
]


def area_dict(a: SubsidenceArea, lang: str) -> dict[str, Any]:
    lbl = lambda v: v.label(lang) if v is not None else None
    return {
        "id": a.id,
        "code": a.code,
        "source": a.source.value,
        "source_label": lbl(a.source),
        "review_state": a.review_state.value,
        "review_state_label": lbl(a.review_state),
        "stability": a.stability.value if a.stability else None,
        "stability_label": lbl(a.stability),
        "area_ha": a.area_ha,
        "max_subsidence_mm": a.max_subsidence_mm,
        "mean_subsidence_mm": a.mean_subsidence_mm,
        "volume_m3": a.volume_m3,
        "mean_rate_mm_per_yr": a.mean_rate_mm_per_yr,
        "treated": a.treated,
        "mine_id": a.mine_id,
        "town_id": a.town_id,
        "first_seen": a.first_seen.isoformat() if a.first_seen else None,
        "last_seen": a.last_seen.isoformat() if a.last_seen else None,
        "notes": a.notes,
        "illustrative": a.illustrative,
    }


@router.get("", summary="沉陷区列表 / subsidence areas (filter, export)")
def list_areas(
    session: SessionDep,
    actor: CurrentUser,
    lang: Lang,
    review_state: Annotated[str | None, Query(max_length=40)] = None,
    stability: Annotated[str | None, Query(max_length=40)] = None,
    town_id: IdQuery = None,
    mine_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
) -> Response:
    authz.authorize_action(actor, "read", "subsidence_area")
    stmt = authz.visible(actor, "subsidence_area").order_by(SubsidenceArea.id)
    try:
        if review_state:
            stmt = stmt.where(SubsidenceArea.review_state == ReviewState.parse(review_state))
        if stability:
            stmt = stmt.where(SubsidenceArea.stability == MovementStage.parse(stability))
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    if town_id is not None:
        stmt = stmt.where(SubsidenceArea.town_id == town_id)
    if mine_id is not None:
        stmt = stmt.where(SubsidenceArea.mine_id == mine_id)
    rows = [area_dict(a, lang) for a in session.scalars(stmt.offset(offset).limit(limit))]
    return table_response(rows, AREA_COLUMNS, fmt, "subsidence-areas", lang, envelope={"count": len(rows)})


@router.get("/{area_id}", summary="沉陷区详情（记录、历史、时序）/ one area with record, history, series")
def get_area(area_id: IdPath, session: SessionDep, actor: CurrentUser, lang: Lang) -> dict:
    area = authz.get_visible(session, actor, "subsidence_area", area_id)
    out = area_dict(area, lang)
    out["history"] = audit_trail(session, "subsidence_area", area.id)
    out["series"] = area_series(session, area)
    return out
