"""The task ledgers' reading side for pages and the API (no writes)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.errors import NotFound
from subsidence.tasks import fund


def fund_summary(session: Session, mine: Mine, today: date) -> dict[str, Any] | None:
    """The mine's restoration-fund position on ``today`` (balance in fen and formatted yuan, this year's
    accrual and use); None when the mine has no fund account yet (a normal state, not an error)."""
    try:
        acct = fund.get_account(session, mine)
    except NotFound:
        return None
    bal = fund.balance_fen(session, mine, today)
    return {
        "account": getattr(acct, "code", None) or acct.id,
        "balance_fen": bal,
        "balance": fund.format_yuan(bal),
        "year": fund.year_summary(session, mine, today.year),
    }


# ------------------------------------------------------------------ rows for the task-ledger pages
# Each row says what the actor may do with it (``can``), asked of the same policies the writes check, so a
# page shows only the buttons that can succeed.


def _can(session: Session, actor: Any, resource: str, obj: Any, *actions: str) -> dict[str, bool]:
    from subsidence.access import policy as authz

    return {a: authz.can(session, actor, a, obj, resource) for a in actions}


def fund_entry_row(session: Session, e: Any, actor: Any = None) -> dict[str, Any]:
    from sqlalchemy import select

    from subsidence.tasks.models import FundEntryReview

    rev = session.scalar(select(FundEntryReview).where(FundEntryReview.entry_id == e.id))
    row = {
        "id": e.id,
        "code": e.code,
        "date": e.entry_date.isoformat(),
        "kind": e.kind.value,
        "kind_zh": e.kind.label(),
        "amount_fen": e.amount_fen,
        "amount": fund.format_yuan(e.amount_fen),
        "year": e.year,
        "works": e.works,
        "reference": e.reference,
        "note": e.note,
        "problem": e.problem.code if e.problem is not None else None,
        "review": None
        if rev is None
        else {"confirmed": rev.confirmed, "note": rev.note, "by": rev.reviewer, "at": rev.reviewed_at.isoformat()},
        "review_zh": "待核实" if rev is None else ("已核实" if rev.confirmed else "已退回"),
    }
    if actor is not None:
        row["can"] = _can(session, actor, "fund_entry", e, "review")
        row["can"]["review"] = row["can"]["review"] and rev is None and e.kind.value != "reversal"
    return row


def fund_account_row(session: Session, acct: Any, year: int, actor: Any = None) -> dict[str, Any]:
    mine = acct.mine
    s = fund.year_summary(session, mine, year)
    row = {
        "id": acct.id,
        "code": acct.code,
        "mine": mine.licence_no,
        "mine_name": mine.name_zh,
        "balance": fund.format_yuan(fund.balance_fen(session, mine)),
        "year": year,
        "deposits": fund.format_yuan(s["deposits_fen"]),
        "spending": fund.format_yuan(s["spending_fen"]),
        "required": fund.format_yuan(s["required_fen"]) if s["required_fen"] is not None else None,
        "accrual_ratio": s["accrual_ratio"],
        "utilisation": s["utilisation"],
    }
    if actor is not None:
        row["can"] = _can(session, actor, "fund_account", acct, "enter")
    return row


def fund_account_detail(session: Session, acct: Any, year: int, actor: Any = None) -> dict[str, Any]:
    from sqlalchemy import select

    from subsidence.tasks.models import FundEntry

    entries = session.scalars(
        select(FundEntry)
        .where(FundEntry.account_id == acct.id, FundEntry.year == year)
        .order_by(FundEntry.entry_date, FundEntry.id)
    ).all()
    return fund_account_row(session, acct, year, actor) | {
        "entries": [fund_entry_row(session, e, actor) for e in entries]
    }


def water_plan_row(session: Session, actor: Any, p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "code": p.code,
        "mine": p.mine.licence_no,
        "mine_name": p.mine.name_zh,
        "state": p.state.value,
        "state_zh": p.state.label(),
        "reason": p.required_reason,
        "due": p.due_date.isoformat() if p.due_date else None,
        "submitted": p.submitted_date.isoformat() if p.submitted_date else None,
        "approved": p.approved_date.isoformat() if p.approved_date else None,
        "approval_no": p.approval_no,
        "implemented": p.implemented_date.isoformat() if p.implemented_date else None,
        "review_note": p.review_note,
        "can": {
            k: v and _state_allows("water", p.state.value, k)
            for k, v in _can(session, actor, "water_plan", p, "submit", "review", "implemented").items()
        },
    }


_NEXT = {
    ("water", "submit"): {"required", "returned"},
    ("water", "review"): {"submitted"},
    ("water", "implemented"): {"approved"},
    ("plan", "submit"): {"draft", "returned", None},
    ("plan", "review"): {"submitted"},
    ("plan", "complete"): {"approved"},
}


def _state_allows(kind: str, state: str | None, action: str) -> bool:
    return state in _NEXT[(kind, action)]


def factor_row(session: Session, actor: Any, f: Any, today: date) -> dict[str, Any]:
    from subsidence.access import policy as authz

    plan = f.plan
    state = plan.state.value if plan is not None else None
    can_submit = (
        f.is_problem
        and authz.policy("rectification_plan").allows_role(actor, "submit")
        and (
            authz.can(session, actor, "submit", plan, "rectification_plan")
            if plan is not None
            else authz.can(session, actor, "register", f, "hidden_factor")
        )
    )
    row = {
        "id": f.id,
        "code": f.code,
        "mine": f.mine.licence_no,
        "mine_name": f.mine.name_zh,
        "type": f.factor_type.value,
        "type_zh": f.factor_type.label(),
        "location": f.location,
        "description": f.description,
        "risk_level": f.risk_level,
        "is_problem": f.is_problem,
        "census_year": f.census_year,
        "plan_due": f.plan_due.isoformat() if f.plan_due else None,
        "overdue": bool(f.is_problem and f.plan_due and today > f.plan_due and state not in ("approved", "completed")),
        "problem_id": f.problem_id,
        "plan": None
        if plan is None
        else {
            "id": plan.id,
            "code": plan.code,
            "measures": plan.measures,
            "state": state,
            "state_zh": plan.state.label(),
            "rectify_deadline": plan.rectify_deadline.isoformat() if plan.rectify_deadline else None,
            "review_result": plan.review_result,
            "reviewed": plan.reviewed_date.isoformat() if plan.reviewed_date else None,
        },
        "can": {"submit": bool(can_submit and _state_allows("plan", state, "submit"))},
    }
    if plan is not None:
        c = _can(session, actor, "rectification_plan", plan, "review", "complete")
        row["can"] |= {k: v and _state_allows("plan", state, k) for k, v in c.items()}
    else:
        row["can"] |= {"review": False, "complete": False}
    return row


def building_row(session: Session, actor: Any, b: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from subsidence.access import policy as authz
    from subsidence.tasks.buildings import _props
    from subsidence.tasks.models import BuildingPhoto

    photos = (
        session.scalars(
            authz.visible(actor, "building_photo").where(BuildingPhoto.building_id == b.id).order_by(BuildingPhoto.id)
        ).all()
        if authz.policy("building_photo").allows_role(actor, "read")
        else []
    )
    del select
    demolished = b.demolition_status.value == "demolished"
    c = _can(session, actor, "building", b, "record_demolition", "record_reoccupation")
    return _props(session, b) | {
        "id": b.id,
        "photos": [
            {
                "id": p.id,
                "url": f"/api/building-photos/{p.id}",
                "purpose": p.purpose,
                "taken_on": p.taken_on.isoformat() if p.taken_on else None,
            }
            for p in photos
        ],
        "can": {
            "record_demolition": c["record_demolition"] and not demolished,
            "record_reoccupation": c["record_reoccupation"] and not demolished,
        },
    }


def building_progress(session: Session, actor: Any, today: date) -> list[dict[str, Any]]:
    """The town progress rows the actor may see (a town its own; enterprises none: they see their buildings)."""
    from subsidence.access import policy as authz
    from subsidence.core.models import AdminArea
    from subsidence.tasks.buildings import progress_by_town

    if not authz.policy("town").allows_role(actor, "read") or actor.role.value == "enterprise":
        return []
    towns = {a.code for a in session.scalars(authz.visible(actor, "town"))} | {None}
    del AdminArea
    return [r for r in progress_by_town(session, today) if r["town"] in towns]


def inspection_result_row(res: Any, today: date) -> dict[str, Any]:
    from subsidence.tasks.inspections.service import _result_dict

    return _result_dict(res, today) | {"id": res.id, "mine_id": res.mine_id}
