"""What the public sees: published inspection results and the praise/exposure lists (nothing else)."""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from subsidence.api.deps import Lang, OptionalUser, SessionDep, Today
from subsidence.api.exports import Column, table_response
from subsidence.api.routes.problems import _call_flex
from subsidence.access import policy as authz

router = APIRouter(prefix="/api/public", tags=["public"])

RESULT_COLUMNS = [
    Column("mine_name", "矿山", "mine"), Column("item", "检查事项", "inspection item"),
    Column("inspected_date", "检查日期", "inspected"), Column("outcome_zh", "检查结果", "outcome"),
    Column("summary", "结果摘要", "summary"), Column("published_date", "公开日期", "published"),
]


def published_results(session) -> list[dict[str, Any]]:
    try:
        mod = importlib.import_module("subsidence.tasks.inspections")
    except ImportError:
        return []
    return mod.public_results(session)


def praise_exposure(session, today) -> dict[str, list[dict[str, Any]]]:
    """The published praise (表扬) and exposure (曝光) lists of the annual assessment, when installed."""
    for name in ("subsidence.tasks.assessment", "subsidence.services.assessments"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        fn = getattr(mod, "published_lists", None) or getattr(mod, "public_lists", None)
        if fn is not None:
            return _call_flex(fn, session, today=today)
    return {"praise": [], "exposure": []}


@router.get("/inspection-results", summary="双随机检查结果（已公开）/ published inspection results")
def inspection_results(session: SessionDep, actor: OptionalUser, lang: Lang,
                       fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json") -> Response:
    authz.authorize_action(actor, "read", "published")
    rows = published_results(session)
    return table_response(rows, RESULT_COLUMNS, fmt, "inspection-results", lang, envelope={"count": len(rows)})


@router.get("/lists", summary="表扬和曝光名单 / praise and exposure lists")
def lists(session: SessionDep, actor: OptionalUser, today: Today) -> dict:
    authz.authorize_action(actor, "read", "published")
    return praise_exposure(session, today)
