"""Gap-free document numbers per series, issuing authority and year (督办通知, 不予受理告知书).

Same locking as the rectification-notice counter (:func:`subsidence.ledger.notices.allocate_notice_seq`):
PostgreSQL row lock through ``UPDATE .. RETURNING``, SQLite ``BEGIN IMMEDIATE``; a rolled-back transaction
rolls its number back, so numbers never repeat and never skip.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from subsidence.ledger.models import DocumentCounter
from subsidence.ledger.notices import _begin_immediate

#: document series: (prefix printed before 〔year〕, title)
SERIES = {
    "supervision": ("伊采沉办督", "督办通知"),
    "refusal": ("伊自然资不予受理", "不予受理告知书"),
    "report": ("伊采沉办", "工作报告"),
}


def allocate_seq(session: Session, series: str, authority: str, year: int) -> int:
    """The next number of ``series`` for ``authority`` in ``year``, inside the caller's transaction."""
    if series not in SERIES:
        raise ValueError(f"unknown document series {series!r}; one of {', '.join(SERIES)}")
    _begin_immediate(session)
    conn = session.connection()
    tbl = DocumentCounter.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(
        insert(tbl)
        .values(series=series, authority=authority, year=year, last_seq=0)
        .on_conflict_do_nothing(index_elements=["series", "authority", "year"])
    )
    key = (tbl.c.series == series) & (tbl.c.authority == authority) & (tbl.c.year == year)
    return int(
        conn.execute(update(tbl).where(key).values(last_seq=tbl.c.last_seq + 1).returning(tbl.c.last_seq)).scalar_one()
    )


#: the name the documents helper asked for (contract_16_docs.md)
allocate_document_seq = allocate_seq


def format_number(series: str, year: int, seq: int, prefix: str | None = None) -> str:
    """``机关代字〔年份〕序号``: GB/T 9704-2012 §7.2.4 (no 第, no leading zeros)."""
    return f"{prefix or SERIES[series][0]}〔{year}〕{seq}号"
