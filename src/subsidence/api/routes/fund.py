"""The restoration fund in the web (task 2): an enterprise reports accrual (计提) and use (使用) on its own mines'
accounts; the Natural Resources Bureau checks (核实) each entry. Thin: parse, authorize, call tasks.fund."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep, Today
from subsidence.errors import ValidationFailed
from subsidence.tasks import fund
from subsidence.tasks import queries as tq
from subsidence.tasks.models import FundAccount

router = APIRouter(tags=["tasks"])


class EntryIn(BaseModel):
    kind: Literal["deposit", "spending", "withdrawal"]
    amount_yuan: Annotated[str, Field(min_length=1, max_length=30, description="yuan, at most 2 decimals")]
    entry_date: date | None = None
    year: Annotated[int | None, Field(ge=2000, le=2100)] = None
    works: Annotated[str | None, Field(max_length=300)] = None
    reference: Annotated[str | None, Field(max_length=200)] = None
    note: Annotated[str | None, Field(max_length=2000)] = None
    problem_id: Annotated[int | None, Field(ge=1, le=2_147_483_647)] = None


class ReviewIn(BaseModel):
    confirmed: bool
    note: Annotated[str | None, Field(max_length=2000)] = None


@router.get("/api/fund/accounts", summary="治理恢复基金账户 / fund accounts in your scope")
def list_accounts(
    session: SessionDep, actor: CurrentUser, today: Today, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> dict:
    accts = session.scalars(authz.visible(actor, "fund_account").order_by(FundAccount.code)).all()
    return {
        "year": year or today.year,
        "accounts": [tq.fund_account_row(session, a, year or today.year, actor) for a in accts],
    }


@router.get("/api/fund/accounts/{account_id}", summary="基金账户年度收支 / one account's year")
def get_account(
    account_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict:
    acct = authz.get_visible(session, actor, "fund_account", account_id)
    return tq.fund_account_detail(session, acct, year or today.year, actor)


@router.post(
    "/api/fund/accounts/{account_id}/entries",
    status_code=201,
    summary="报送基金计提或使用 / report a deposit, spending or withdrawal",
)
def post_entry(account_id: IdPath, body: EntryIn, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    acct = authz.get_visible(session, actor, "fund_account", account_id, action="enter")
    on = body.entry_date or today
    if on > today:
        raise ValidationFailed(f"日期 {on} 晚于今天 / entry date {on} is in the future")
    problem = None
    if body.problem_id is not None:
        problem = authz.get_visible(session, actor, "problem", body.problem_id)
    entry = fund.add_entry(
        session,
        acct.mine,
        body.kind,
        fund.parse_yuan(body.amount_yuan, field_name="金额 amount"),
        on,
        year=body.year,
        problem=problem,
        works=body.works,
        reference=body.reference,
        note=body.note,
        actor=actor,
    )
    return {"entry": tq.fund_entry_row(session, entry, actor)}


@router.post("/api/fund/entries/{entry_id}/review", summary="核实基金收支 / the bureau checks an entry")
def post_review(entry_id: IdPath, body: ReviewIn, session: SessionDep, actor: CurrentUser) -> dict:
    entry = authz.get_visible(session, actor, "fund_entry", entry_id)
    fund.review_entry(session, entry, actor, confirmed=body.confirmed, note=body.note)
    return {"entry": tq.fund_entry_row(session, entry, actor)}
