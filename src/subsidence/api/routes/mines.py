"""Mines (mining rights), enterprises and the licence gate lookup."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, IdQuery, Lang, SessionDep, Today
from subsidence.api.exports import Column, table_response
from subsidence.core.history import audit_trail
from subsidence.core.models import Enterprise, Mine
from subsidence.errors import NotFound, ValidationFailed
from subsidence.gate import service as gate
from subsidence.ledger.queries import list_problems, mine_rows
from subsidence.tasks.queries import fund_summary

router = APIRouter(tags=["mines"])

MINE_COLUMNS = [
    Column("licence_no", "采矿许可证号", "licence no."),
    Column("name", "矿山", "mine"),
    Column("enterprise_name", "企业", "enterprise"),
    Column("town_name", "镇", "town"),
    Column("status_label", "状态", "status"),
    Column("capacity_mt_per_yr", "产能（万吨/年→Mt/a）", "capacity Mt/yr"),
    Column("licence_valid_to", "许可证有效期至", "licence valid to"),
    Column("open_problems", "未销号问题", "open problems"),
]


@router.get("/api/mines", summary="矿山列表 / mines (mining rights) you may see")
def list_mines(
    session: SessionDep,
    actor: CurrentUser,
    lang: Lang,
    town_id: IdQuery = None,
    enterprise_id: IdQuery = None,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
) -> Response:
    authz.authorize_action(actor, "read", "mine")
    rows = mine_rows(session, actor, lang, town_id, enterprise_id)
    return table_response(rows, MINE_COLUMNS, fmt, "mines", lang, envelope={"total": len(rows)})


@router.get("/api/mines/{mine_id}", summary="矿山详情 / a mine with its problems and history")
def get_mine(mine_id: IdPath, session: SessionDep, actor: CurrentUser, lang: Lang, today: Today) -> dict:
    mine = authz.get_visible(session, actor, "mine", mine_id)
    rows = [r for r in mine_rows(session, actor, lang) if r["id"] == mine.id]
    problems, total = list_problems(session, actor, today=today, lang=lang, limit=200, offset=0, mine_id=mine.id)
    out = rows[0] if rows else {"id": mine.id, "licence_no": mine.licence_no, "name": mine.name_zh}
    out.update(
        problems=problems,
        problems_total=total,
        history=audit_trail(session, "mine", mine.id),
        fund=fund_summary(session, mine, today),
    )
    return out


@router.get("/api/enterprises", summary="企业列表 / enterprises you may see")
def list_enterprises(
    session: SessionDep,
    actor: CurrentUser,
    lang: Lang,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
) -> Response:
    authz.authorize_action(actor, "read", "enterprise")
    rows = [
        {
            "id": e.id,
            "credit_code": e.credit_code,
            "name": e.name_zh if lang.startswith("zh") else (e.name_en or e.name_zh),
            "mines": len(e.mines),
            "illustrative": e.illustrative,
        }
        for e in session.scalars(authz.visible(actor, "enterprise").order_by(Enterprise.credit_code))
    ]
    cols = [
        Column("credit_code", "统一社会信用代码", "credit code"),
        Column("name", "企业", "enterprise"),
        Column("mines", "矿山数", "mines"),
    ]
    return table_response(rows, cols, fmt, "enterprises", lang, envelope={"total": len(rows)})


@router.get("/api/gate", summary="采矿权审批闸门查询 / licence gate: may this application be accepted today?")
def gate_lookup(
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    mine: Annotated[str, Query(min_length=1, max_length=200, description="licence no., name or id")],
    application: Annotated[str, Query(max_length=60)] = "new_licence",
) -> dict:
    """Every query is logged by the gate service. Enterprises may ask only about their own mines."""
    authz.authorize_action(actor, "gate_query", "mine")
    key = mine.strip()
    target = None
    if key.isdigit() and len(key) <= 9:
        target = session.scalar(authz.visible(actor, "mine").where(Mine.id == int(key)))
    if target is None:
        target = session.scalar(
            authz.visible(actor, "mine").where((Mine.licence_no == key) | (Mine.name_zh == key) | (Mine.name_en == key))
        )
    if target is None:
        raise NotFound(f"矿山“{key}”不存在或不在您的权限范围内 / mine {key!r} not found")
    authz.authorize(session, actor, "gate_query", target, "mine")
    try:
        decision = gate.evaluate_gate(session, target, application, today, actor=actor)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    return decision.as_dict()
