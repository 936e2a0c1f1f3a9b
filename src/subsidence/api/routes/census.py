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
from subsidence.vocabulary import MovementStage, ReviewState

router = APIRouter(prefix="/api/subsidence-areas", tags=["census"])

AREA_COLUMNS = [
    Column("code", "编号", "code"), Column("source_label", "来源", "source"),
    Column("review_state_label", "评审状态", "review"), Column("stability_label", "稳定性", "stability"),
    Column("area_ha", "面积（公顷）", "area ha"), Column("max_subsidence_mm", "最大下沉（mm）", "max subsidence mm"),
    Column("mean_rate_mm_per_yr", "平均速率（mm/年）", "mean rate mm/yr"), Column("treated", "已治理", "treated"),
    Column("first_seen", "首次发现", "first seen"), Column("last_seen", "最近监测", "last seen"),
]


def area_dict(a: SubsidenceArea, lang: str) -> dict[str, Any]:
    lbl = lambda v: v.label(lang) if v is not None else None
    return {"id": a.id, "code": a.code, "source": a.source.value, "source_label": lbl(a.source),
            "review_state": a.review_state.value, "review_state_label": lbl(a.review_state),
            "stability": a.stability.value if a.stability else None, "stability_label": lbl(a.stability),
            "area_ha": a.area_ha, "max_subsidence_mm": a.max_subsidence_mm,
            "mean_subsidence_mm": a.mean_subsidence_mm, "volume_m3": a.volume_m3,
            "mean_rate_mm_per_yr": a.mean_rate_mm_per_yr, "treated": a.treated, "mine_id": a.mine_id,
            "town_id": a.town_id, "first_seen": a.first_seen.isoformat() if a.first_seen else None,
            "last_seen": a.last_seen.isoformat() if a.last_seen else None, "notes": a.notes,
            "illustrative": a.illustrative}


@router.get("", summary="沉陷区列表 / subsidence areas (filter, export)")
def list_areas(session: SessionDep, actor: CurrentUser, lang: Lang,
               review_state: Annotated[str | None, Query(max_length=40)] = None,
               stability: Annotated[str | None, Query(max_length=40)] = None,
               town_id: IdQuery = None, mine_id: IdQuery = None,
               limit: Annotated[int, Query(ge=1, le=5000)] = 500,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
               fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json") -> Response:
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


#: PIM parameters for the illustrative predicted profile (Shendong practice, docs/science.md §1): q, tanβ
PROFILE_PARAMS = {"q": 0.65, "tan_beta": 2.2}


def area_series(session, area: SubsidenceArea) -> dict[str, Any] | None:
    """Series and profile of an area (see :func:`_area_series`); PIM's per-panel geometry notes are muted
    here (they are reported when panels are imported, not on every map click)."""
    import logging

    pim_log = logging.getLogger("subsidence.science.pim")
    quiet = pim_log.level
    pim_log.setLevel(logging.ERROR)
    try:
        return _area_series(session, area)
    finally:
        pim_log.setLevel(quiet)


def _area_series(session, area: SubsidenceArea) -> dict[str, Any] | None:
    """A predicted subsidence profile across the area (PIM from its mine's panels, mm, positive down) along
    the long axis through its peak, and the predicted subsidence at the peak over time, when panels exist."""
    if area.geometry is None or area.mine_id is None:
        return None
    try:
        import numpy as np
        import shapely

        from subsidence.prediction.service import load_panels_db
        from subsidence.science.pim import PIMParams, predict_points

        pset = load_panels_db(session, mine_id=area.mine_id)
    except Exception:  # noqa: BLE001 - no panels, no prediction: the record shows without charts
        return None
    rect = shapely.minimum_rotated_rectangle(area.geometry)
    xy = np.asarray(rect.exterior.coords)[:4]
    edges = [(xy[i], xy[(i + 1) % 4]) for i in range(4)]
    a, b = max(edges, key=lambda e: float(np.hypot(*(e[1] - e[0]))))
    axis = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
    peak = (area.attributes or {}).get("peak_xy_storage") if hasattr(area, "attributes") else None
    c = np.asarray(peak if peak else area.geometry.centroid.coords[0], dtype=float)
    half = float(np.hypot(*(b - a))) * 0.75
    d = np.linspace(-half, half, 121)
    px, py = c[0] + d * axis[0], c[1] + d * axis[1]
    params = PIMParams(**PROFILE_PARAMS)
    return _predict(pset, params, area, c, d, half, px, py, predict_points)


def _predict(pset, params, area, c, d, half, px, py, predict_points) -> dict[str, Any] | None:
    try:
        w = predict_points(pset.panels, params, px, py, components=["subsidence_mm"]).W
    except Exception:  # noqa: BLE001
        return None
    out: dict[str, Any] = {
        "kind": "pim_prediction", "unit": "mm", "params": PROFILE_PARAMS,
        "profile": [{"x": round(float(di + half), 1), "v": round(float(wi), 1)} for di, wi in zip(d, w)],
        "points": [],
    }
    starts = [p for p in (getattr(x, "start_date", None) for x in pset.panels) if p is not None]
    if starts:
        from datetime import timedelta

        t0 = min(starts)
        dates = [t0 + timedelta(days=30 * k) for k in range(0, 61, 5)]
        vals = []
        for day in dates:
            try:
                vals.append(float(predict_points(pset.panels, params, c[:1], c[1:2], at=day,
                                                 components=["subsidence_mm"]).W[0]))
            except Exception:  # noqa: BLE001 - static panels without advance data
                vals = []
                break
        out["points"] = [{"t": day.isoformat(), "v": round(v, 1)} for day, v in zip(dates, vals)]
    return out


@router.get("/{area_id}", summary="沉陷区详情（记录、历史、时序）/ one area with record, history, series")
def get_area(area_id: IdPath, session: SessionDep, actor: CurrentUser, lang: Lang) -> dict:
    area = authz.get_visible(session, actor, "subsidence_area", area_id)
    out = area_dict(area, lang)
    out["history"] = audit_trail(session, "subsidence_area", area.id)
    out["series"] = area_series(session, area)
    return out
