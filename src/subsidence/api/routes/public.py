"""What the public sees: published inspection results and the praise/exposure lists (nothing else)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from subsidence.access import policy as authz
from subsidence.api.deps import Lang, OptionalUser, SessionDep, Today
from subsidence.api.exports import Column, table_response
from subsidence.tasks import publication

router = APIRouter(prefix="/api/public", tags=["public"])

RESULT_COLUMNS = [
    Column("mine_name", "矿山", "mine"),
    Column("item", "检查事项", "inspection item"),
    Column("inspected_date", "检查日期", "inspected"),
    Column("outcome_zh", "检查结果", "outcome"),
    Column("summary", "结果摘要", "summary"),
    Column("published_date", "公开日期", "published"),
]


def published_results(session) -> list[dict[str, Any]]:
    """The double-random inspection results as last signed off (internal findings left out;)."""
    return publication.public_results(session)


def praise_exposure(session, today) -> dict[str, Any]:
    """The praise (表扬) and exposure (曝光) lists of the newest signed-off assessment year."""
    return publication.public_lists(session, today=today)


@router.get("/inspection-results", summary="双随机检查结果（已公开）/ published inspection results")
def inspection_results(
    session: SessionDep,
    actor: OptionalUser,
    lang: Lang,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
) -> Response:
    authz.authorize_action(actor, "read", "published")
    rows = published_results(session)
    return table_response(rows, RESULT_COLUMNS, fmt, "inspection-results", lang, envelope={"count": len(rows)})


@router.get("/lists", summary="表扬和曝光名单 / praise and exposure lists")
def lists(session: SessionDep, actor: OptionalUser, today: Today) -> dict:
    authz.authorize_action(actor, "read", "published")
    return praise_exposure(session, today)


@router.get("/map", summary="公开信息地图（已公开的评估和检查结果）/ the published results as map points")
def public_map(session: SessionDep, actor: OptionalUser, today: Today) -> Response:
    """One point (the mine's centroid, CRS84) per mine in the published lists or inspection results."""
    from fastapi.responses import JSONResponse

    from subsidence.mapping.public import public_features

    authz.authorize_action(actor, "read", "published")
    fc = public_features(session, praise_exposure(session, today), published_results(session))
    return JSONResponse(fc, media_type="application/geo+json")
