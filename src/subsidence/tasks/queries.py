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
    return {"account": getattr(acct, "code", None) or acct.id, "balance_fen": bal,
            "balance": fund.format_yuan(bal), "year": fund.year_summary(session, mine, today.year)}
