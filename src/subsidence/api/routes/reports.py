"""Report downloads (工作上报): the progress report (PDF/DOCX) for a period and the ledger workbook (XLSX),
rendered by the ledger's report module."""

from __future__ import annotations

import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from subsidence.access import policy as authz
from subsidence.api.cache import LRU, data_version
from subsidence.api.deps import CurrentUser, SessionDep, Today
from subsidence.api.exports import _disposition
from subsidence.core.models import Mine
from subsidence.errors import ValidationFailed
from subsidence.reports import progress as rp

router = APIRouter(prefix="/api/reports", tags=["dashboard"])

MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


#: progress documents rendered at once (rendering is CPU-bound: more at once only makes each one slower)
RENDER_SLOTS = 2
_render_slots = threading.BoundedSemaphore(RENDER_SLOTS)
_key_locks: dict[tuple, threading.Lock] = {}
_key_locks_guard = threading.Lock()


def _rendered_cache(request: Request) -> LRU:
    cache = getattr(request.app.state, "report_cache", None)
    if cache is None:
        cache = request.app.state.report_cache = LRU(max_entries=64, max_bytes=256 * 2**20)
    return cache


def _scope_key(actor: authz.Actor) -> tuple:
    return (actor.role.value, actor.unit_id, actor.enterprise_id, actor.town_id, tuple(sorted(actor.task_nos)))


@router.get("/progress", summary="进度报告（PDF/DOCX）/ progress report for a period")
def progress_report(
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    fmt: Annotated[Literal["pdf", "docx"], Query(alias="format")] = "pdf",
    start: date | None = None,
    end: date | None = None,
) -> Response:
    """Period ``start``–``end`` (default: the investigation phase start, 2024-09-10, to today).

    The report holds only what the caller may read: the office the whole county; a department, a town or an
    enterprise the problems of its own scope and the plan figures of the mines it may see. A rendered
    document is kept per data version and scope, concurrent requests for the same one wait for a single
    rendering, and at most :data:`RENDER_SLOTS` documents render at once.
    """
    authz.authorize_action(actor, "read", "dashboard")
    end = end or today
    start = start or min(date(2024, 9, 10), end)
    if start > end:
        raise ValidationFailed(f"start {start} is after end {end}")
    county = authz.policy("report").allows_role(actor, "export_all")
    key = (data_version(session), None if county else _scope_key(actor), fmt, start, end)
    cache = _rendered_cache(request)
    with _key_locks_guard:
        lock = _key_locks.setdefault(key, threading.Lock())
        if len(_key_locks) > 256:
            for k in [k for k, v in _key_locks.items() if k != key and not v.locked()]:
                del _key_locks[k]
    with lock:
        data = cache.get(key)
        if data is None:
            scope = None if county else authz.scope_clause(actor, "problem")
            licences = (
                None
                if county
                else set(session.scalars(authz.visible(actor, "mine").with_only_columns(Mine.licence_no)))
            )
            rep = rp.build_report(session, start, end, scope=scope, mine_licences=licences)
            with _render_slots:
                data = rp.progress_pdf(rep) if fmt == "pdf" else rp.progress_docx(rep)
            cache.put(key, data, size=len(data), ttl=3600)
    return Response(data, media_type=MEDIA[fmt], headers=_disposition(f"进度报告-{start}-{end}.{fmt}"))


@router.get("/ledger.xlsx", summary="问题台账 Excel（办公室）/ the ledger workbook (office)")
def ledger_workbook(session: SessionDep, actor: CurrentUser, today: Today) -> Response:
    """The whole county's ledger in the layout offices exchange; others export their scope from
    ``/api/problems?format=xlsx``."""
    authz.authorize_action(actor, "export_all", "report")
    with tempfile.TemporaryDirectory() as d:
        path = rp.ledger_xlsx(session, Path(d) / "ledger.xlsx", as_of=today)
        data = Path(path).read_bytes()
    return Response(data, media_type=MEDIA["xlsx"], headers=_disposition(f"问题台账-{today}.xlsx"))
