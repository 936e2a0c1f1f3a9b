"""Report downloads (工作上报): the progress report (PDF/DOCX) for a period and the ledger workbook (XLSX),
rendered by the ledger's report module."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, SessionDep, Today
from subsidence.api.exports import _disposition
from subsidence.errors import ValidationFailed

router = APIRouter(prefix="/api/reports", tags=["dashboard"])

MEDIA = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/progress", summary="进度报告（PDF/DOCX）/ progress report for a period")
def progress_report(session: SessionDep, actor: CurrentUser, today: Today,
                    fmt: Annotated[Literal["pdf", "docx"], Query(alias="format")] = "pdf",
                    start: date | None = None, end: date | None = None) -> Response:
    """Period ``start``–``end`` (default: the investigation phase start, 2024-09-10, to today)."""
    authz.authorize_action(actor, "read", "dashboard")
    from subsidence.reports import progress as rp

    end = end or today
    start = start or min(date(2024, 9, 10), end)
    if start > end:
        raise ValidationFailed(f"start {start} is after end {end}")
    rep = rp.build_report(session, start, end)
    data = rp.progress_pdf(rep) if fmt == "pdf" else rp.progress_docx(rep)
    return Response(data, media_type=MEDIA[fmt], headers=_disposition(f"进度报告-{start}-{end}.{fmt}"))


@router.get("/ledger.xlsx", summary="问题台账 Excel（办公室）/ the ledger workbook (office)")
def ledger_workbook(session: SessionDep, actor: CurrentUser, today: Today) -> Response:
    """The whole county's ledger in the layout offices exchange; others export their scope from
    ``/api/problems?format=xlsx``."""
    authz.authorize_action(actor, "export_all", "report")
    from subsidence.reports.progress import ledger_xlsx

    with tempfile.TemporaryDirectory() as d:
        path = ledger_xlsx(session, Path(d) / "ledger.xlsx", as_of=today)
        data = Path(path).read_bytes()
    return Response(data, media_type=MEDIA["xlsx"], headers=_disposition(f"问题台账-{today}.xlsx"))
