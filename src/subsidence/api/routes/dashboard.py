"""Dashboards: progress by task/town/department, overdue and due-soon lists, the phase timeline, summary."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select

from subsidence.access import policy as authz
from subsidence.api.cache import cached_response, store_response
from subsidence.api.deps import CurrentUser, Lang, SessionDep, Today
from subsidence.api.exports import Column, table_response
from subsidence.api.routes.problems import PROBLEM_COLUMNS
from subsidence.ledger.models import Problem
from subsidence.ledger.progress import PHASES
from subsidence.ledger.queries import deadline_counts, list_problems, problem_filters
from subsidence.vocabulary import ProblemCategory, ProblemState

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])

PROGRESS_COLUMNS = [
    Column("key", "编号", "key"),
    Column("label", "名称", "name"),
    Column("found", "发现", "found"),
    Column("noticed", "已下达通知", "noticed"),
    Column("rectifying", "整改中", "rectifying"),
    Column("submitted", "待验收", "submitted"),
    Column("accepted", "已销号", "accepted"),
    Column("overdue", "逾期", "overdue"),
    Column("on_time", "按期完成", "on time"),
    Column("late", "逾期完成", "late"),
    Column("accepted_pct", "销号率%", "accepted %"),
]

Fmt = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")]


def timeline(today: date, lang: str) -> dict:
    """The plan's phases (:data:`subsidence.ledger.progress.PHASES`) with today's place among them."""
    out = []
    for p in PHASES:
        state = "past" if p.end is not None and today > p.end else ("current" if today >= p.start else "future")
        out.append(
            {
                "no": p.no,
                "name": p.name_zh if lang.startswith("zh") else p.name_en,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "start": p.start.isoformat(),
                "end": p.end.isoformat() if p.end else None,
                "state": state,
            }
        )
    return {"today": today.isoformat(), "phases": out}


@router.get("/timeline", summary="阶段时间轴 / the plan's phases with today")
def get_timeline(actor: CurrentUser, today: Today, lang: Lang) -> dict:
    return timeline(today, lang)


@router.get("/summary", summary="总览数字 / headline numbers within your scope")
def summary(request: Request, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang) -> Response:
    authz.authorize_action(actor, "read", "problem")
    if (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    p = Problem.__table__
    where = problem_filters(actor, today=today)
    groups = session.execute(
        select(p.c.state, p.c.category, func.count()).where(*where).group_by(p.c.state, p.c.category)
    ).all()
    by_state: dict = {}
    by_cat: dict = {}
    for st, cat, cnt in groups:
        by_state[st] = by_state.get(st, 0) + cnt
        by_cat[cat] = by_cat.get(cat, 0) + cnt
    counts = deadline_counts(session, today, where=authz.scope_clause(actor, "problem"))
    overdue, soon = counts["overdue"], counts["due_soon"]
    return store_response(
        request,
        session,
        actor,
        lang,
        today,
        JSONResponse(
            {
                "today": today.isoformat(),
                "problems": sum(by_state.values()),
                "overdue": overdue,
                "due_soon": soon,
                "by_state": [
                    {"state": ProblemState(s).value, "label": ProblemState(s).label(lang), "count": n}
                    for s, n in sorted(by_state.items(), key=lambda kv: str(kv[0]))
                ],
                "by_category": [
                    {"category": ProblemCategory(c).value, "label": ProblemCategory(c).label(lang), "count": n}
                    for c, n in sorted(by_cat.items(), key=lambda kv: str(kv[0]))
                ],
                "timeline": timeline(today, lang),
            }
        ),
    )


@router.get("/progress", summary="进度（按任务、镇、部门）/ progress by task, town and department")
def progress(
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    lang: Lang,
    by: Literal["task", "town", "department"] = "task",
    fmt: Fmt = "json",
) -> Response:
    """Counts as of today from the ledger's progress service (found, noticed, rectifying, accepted,
    overdue; on time vs late). County-wide aggregates: for the office, departments and towns."""
    authz.authorize_action(actor, "read", "dashboard")
    from subsidence.ledger.today import progress_today

    if fmt == "json" and (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    prog = progress_today(session, today)
    key = {"task": "by_task", "town": "by_town", "department": "by_department"}[by]
    rows = [{**r, "label": r["label_zh"] if lang.startswith("zh") else r["label_en"]} for r in prog[key]]
    tl = timeline(today, lang)
    phase = next((p for p in tl["phases"] if p["state"] == "current"), None)
    resp = table_response(
        rows,
        PROGRESS_COLUMNS,
        fmt,
        f"progress-by-{by}",
        lang,
        envelope={"as_of": today.isoformat(), "by": by, "total": prog["total"], "phase": phase},
    )
    return store_response(request, session, actor, lang, today, resp) if fmt == "json" else resp


@router.get("/overdue", summary="逾期问题清单 / overdue problems (exportable)")
def overdue(
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    lang: Lang,
    fmt: Fmt = "json",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    authz.authorize_action(actor, "read", "problem")
    if fmt == "json" and (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    rows, total = list_problems(
        session,
        actor,
        today=today,
        lang=lang,
        limit=limit if fmt == "json" else 200_000,
        offset=0,
        overdue=True,
        order="deadline",
    )
    resp = table_response(rows, PROBLEM_COLUMNS, fmt, "overdue", lang, envelope={"total": total})
    return store_response(request, session, actor, lang, today, resp) if fmt == "json" else resp


@router.get("/due-soon", summary="即将到期问题清单 / problems due soon (exportable)")
def due_soon(
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    lang: Lang,
    fmt: Fmt = "json",
    days: Annotated[int | None, Query(ge=0, le=365)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    authz.authorize_action(actor, "read", "problem")
    if fmt == "json" and (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    window = {"due_within_days": days} if days is not None else {"due_soon": True}  # working days by default
    rows, total = list_problems(
        session,
        actor,
        today=today,
        lang=lang,
        limit=limit if fmt == "json" else 200_000,
        offset=0,
        order="deadline",
        **window,
    )
    resp = table_response(rows, PROBLEM_COLUMNS, fmt, "due-soon", lang, envelope={"total": total})
    return store_response(request, session, actor, lang, today, resp) if fmt == "json" else resp
