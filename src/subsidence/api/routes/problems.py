"""The problem ledger over HTTP: list/filter/export, detail with history, add, transitions, notices, evidence.

Every handler goes through :mod:`subsidence.access.policy` (scope of the list, 404 outside it, 403 for
a forbidden action) and the ledger's services (lifecycle, notices, evidence) for the rules.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from subsidence.access import policy as authz
from subsidence.api.cache import cached_response, store_response
from subsidence.api.deps import (
    MAX_ID,
    CurrentUser,
    IdPath,
    IdQuery,
    Lang,
    SessionDep,
    Today,
)
from subsidence.api.exports import Column, table_response
from subsidence.core.history import audit_trail
from subsidence.errors import NotFound, ValidationFailed
from subsidence.ledger import evidence, lifecycle, notices
from subsidence.ledger.models import Evidence, RectificationNotice
from subsidence.ledger.queries import list_problems, problem_detail
from subsidence.reports import notice as notice_render
from subsidence.vocabulary import ProblemCategory, ProblemSource

router = APIRouter(prefix="/api/problems", tags=["problems"])

MAX_PAGE = 1000

PROBLEM_COLUMNS = [
    Column("code", "台账编号", "ledger no."),
    Column("category", "任务", "task"),
    Column("category_label", "问题类别", "category"),
    Column("title", "问题", "problem"),
    Column("mine_name", "矿山", "mine"),
    Column("town_name", "镇", "town"),
    Column("lead_unit_name", "牵头单位", "lead unit"),
    Column("source_label", "发现方式", "found by"),
    Column("found_date", "发现日期", "found"),
    Column("deadline", "整改期限", "deadline"),
    Column("state_label", "状态", "state"),
    Column("overdue", "是否逾期", "overdue"),
    Column("days_left", "剩余天数", "days left"),
]


Fmt = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format", description="json, csv or xlsx")]


@router.get("", summary="问题台账列表（可筛选、导出）/ list, filter and export problems")
def get_problems(
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    lang: Lang,
    state: Annotated[list[str] | None, Query(description="state code or label; repeatable")] = None,
    category: Annotated[str | None, Query(max_length=40, description="task 1–7")] = None,
    mine_id: IdQuery = None,
    town_id: IdQuery = None,
    lead_unit_id: IdQuery = None,
    overdue: bool | None = None,
    due_within_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    order: Literal["id", "-id", "deadline"] = "id",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    fmt: Fmt = "json",
) -> Response:
    """Only the problems the caller may see (the office: all; a department: its tasks; a town: its
    territory; an enterprise: its own mines). ``format=csv|xlsx`` exports every matching row."""
    authz.authorize_action(actor, "read", "problem")
    filters = {
        "state": state,
        "category": category,
        "mine_id": mine_id,
        "town_id": town_id,
        "lead_unit_id": lead_unit_id,
        "overdue": overdue,
        "due_within_days": due_within_days,
        "q": q,
    }
    if fmt != "json":
        authz.authorize_action(actor, "export", "problem")
        rows, _ = list_problems(
            session, actor, today=today, lang=lang, limit=200_000, offset=0, with_total=False, order=order, **filters
        )
        return table_response(rows, PROBLEM_COLUMNS, fmt, "problems", lang)
    if (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    rows, total = list_problems(
        session, actor, today=today, lang=lang, limit=limit, offset=offset, order=order, **filters
    )
    return store_response(
        request,
        session,
        actor,
        lang,
        today,
        table_response(
            rows, PROBLEM_COLUMNS, "json", "problems", lang, envelope={"total": total, "limit": limit, "offset": offset}
        ),
    )


class MilestoneIn(BaseModel):
    description: Annotated[str, Field(min_length=1, max_length=300)]
    due_date: date | None = None
    workdays_before: Annotated[int | None, Field(ge=0, le=1000)] = None


class ProblemIn(BaseModel):
    category: Annotated[str, Field(min_length=1, max_length=40, description="1–7 or its label")]
    title: Annotated[str, Field(min_length=1, max_length=300)]
    found_date: date
    source: Annotated[str, Field(max_length=40)] = "field_survey"
    mine_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    town_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    deadline: date | None = None
    description: Annotated[str | None, Field(max_length=5000)] = None
    requirement: Annotated[str | None, Field(max_length=5000)] = None


class TransitionIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=40, description="start, submit, resume, withdraw ...")]
    reason: Annotated[str | None, Field(max_length=2000)] = None
    on: date | None = None
    #: why the office records an earlier date than today's (only the office may; it shows in the history)
    date_reason: Annotated[str | None, Field(max_length=2000)] = None


class NoticeIn(BaseModel):
    deadline: date | None = None
    workdays: Annotated[int | None, Field(ge=1, le=1000)] = None
    requirement: Annotated[str | None, Field(max_length=5000)] = None
    legal_basis: Annotated[str | None, Field(max_length=2000)] = None
    issued_date: date | None = None
    milestones: Annotated[list[MilestoneIn], Field(max_length=20)] = []


class AcceptanceIn(BaseModel):
    passed: bool
    reasons: Annotated[str | None, Field(max_length=5000)] = None
    inspectors: Annotated[list[Annotated[str, Field(max_length=120)]], Field(max_length=20)] = []
    decided_date: date | None = None
    #: why the office records an earlier decision date than today's
    date_reason: Annotated[str | None, Field(max_length=2000)] = None
    #: the inspector's note when passing a problem whose photo evidence is flagged (EXIF place or time)
    flag_note: Annotated[str | None, Field(max_length=2000)] = None
    site_visit: bool = True


@router.get("/{problem_id}", summary="问题详情与全过程记录 / a problem with its record and history")
def get_problem(problem_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id)
    return problem_detail(session, actor, problem, today, lang)


@router.post("", status_code=201, summary="登记问题 / add a problem to the ledger")
def create_problem(body: ProblemIn, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang) -> dict:
    authz.authorize_action(actor, "create", "problem")
    mine = authz.get_visible(session, actor, "mine", body.mine_id) if body.mine_id is not None else None
    if body.town_id is not None:
        authz.get_visible(session, actor, "town", body.town_id)
    if body.found_date > today:
        raise ValidationFailed(f"found_date {body.found_date} is in the future (today is {today})")
    try:
        category = ProblemCategory.parse(body.category)
        source = ProblemSource.parse(body.source)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    problem = lifecycle.add_problem(
        session,
        actor,
        category=category,
        title=body.title,
        found_date=body.found_date,
        source=source,
        mine=mine,
        town_id=body.town_id,
        deadline=body.deadline,
        description=body.description,
        requirement=body.requirement,
    )
    if not authz.can(session, actor, "read", problem, "problem"):
        raise ValidationFailed("the new problem would fall outside your own scope (pick a mine or town of yours)")
    return problem_detail(session, actor, problem, today, lang)


@router.post("/{problem_id}/transitions", summary="状态流转 / move a problem (start, submit, resume, withdraw ...)")
def post_transition(
    problem_id: IdPath, body: TransitionIn, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang
) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id, action="transition")
    lifecycle.transition(
        session, problem, actor, body.name, on=body.on or today, reason=body.reason, date_reason=body.date_reason
    )
    return problem_detail(session, actor, problem, today, lang)


@router.post("/{problem_id}/notices", status_code=201, summary="下达限期整改通知书 / issue a deadline notice")
def post_notice(
    problem_id: IdPath, body: NoticeIn, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang
) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id, action="issue_notice")
    ms = [notices.MilestoneInput(m.description, m.due_date, m.workdays_before) for m in body.milestones]
    notice = notices.issue_notice(
        session,
        problem,
        actor,
        issued_date=body.issued_date or today,
        deadline=body.deadline,
        workdays=body.workdays,
        requirement=body.requirement,
        legal_basis=body.legal_basis,
        milestones=ms,
    )
    return {"notice": notices.notice_summary(notice), "problem": problem_detail(session, actor, problem, today, lang)}


@router.get("/{problem_id}/notices/{notice_id}/document", summary="通知书文档（PDF/DOCX）/ notice document")
def get_notice_document(
    problem_id: IdPath,
    notice_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    fmt: Annotated[Literal["pdf", "docx"], Query(alias="format")] = "pdf",
) -> Response:
    """The notice rendered in memory and sent as bytes: concurrent downloads never share a file on disk."""
    problem = authz.get_visible(session, actor, "problem", problem_id)
    notice = session.get(RectificationNotice, notice_id)
    if notice is None or notice.problem_id != problem.id:
        raise NotFound(f"通知书 {notice_id} 不存在 / notice {notice_id} not found for problem {problem.code}")
    data = notice_render.notice_pdf(notice) if fmt == "pdf" else notice_render.notice_docx(notice)
    media = (
        "application/pdf" if fmt == "pdf" else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    return Response(data, media_type=media, headers=_attachment(f"{notice.code}.{fmt}"))


def _attachment(filename: str) -> dict[str, str]:
    """A Content-Disposition header for a (possibly Chinese) file name (RFC 6266 / RFC 5987)."""
    from urllib.parse import quote

    return {"Content-Disposition": f"attachment; filename*=utf-8''{quote(filename)}"}


@router.post("/{problem_id}/acceptance", summary="验收（通过/退回）/ record the acceptance decision")
def post_acceptance(
    problem_id: IdPath, body: AcceptanceIn, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang
) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id, action="accept")
    evidence.record_acceptance(
        session,
        problem,
        actor,
        passed=body.passed,
        reasons=body.reasons,
        inspectors=body.inspectors,
        decided_date=body.decided_date or today,
        date_reason=body.date_reason,
        flag_note=body.flag_note,
        site_visit=body.site_visit,
    )
    return problem_detail(session, actor, problem, today, lang)


@router.post("/{problem_id}/evidence", status_code=201, summary="上传整改佐证材料 / upload evidence")
async def post_evidence(
    problem_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    lang: Lang,
    file: Annotated[UploadFile, File(description="photo (JPEG/PNG) or document (PDF), ≤ 20 MiB")],
    note: Annotated[str | None, Form(max_length=2000)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    taken_at: Annotated[datetime | None, Form()] = None,
) -> dict:
    """The file's type is sniffed from its content and checked; files are stored content-addressed and
    never overwritten (the ledger's evidence service)."""
    problem = authz.get_visible(session, actor, "problem", problem_id, action="upload_evidence")
    data = await file.read()
    if not data:
        raise ValidationFailed(f"file {file.filename!r} is empty: choose the photo or document again")
    if taken_at is not None and taken_at.tzinfo is None:
        raise ValidationFailed("taken_at needs a time zone, e.g. 2024-10-01T09:30:00+08:00")
    if (lon is None) != (lat is None):
        raise ValidationFailed("give both lon and lat, or neither")
    ev = evidence.attach_evidence(
        session,
        problem,
        actor,
        data=data,
        filename=file.filename or "upload",
        note=note,
        lon=lon,
        lat=lat,
        taken_at=taken_at,
    )
    return {
        "evidence": {
            "id": ev.id,
            "sha256": ev.sha256,
            "media_type": ev.media_type,
            "kind": ev.kind,
            "size_bytes": ev.size_bytes,
            "filename": ev.filename,
        },
        "problem": problem_detail(session, actor, problem, today, lang),
    }


@router.get("/{problem_id}/evidence/{evidence_id}", summary="下载佐证材料 / download evidence")
def get_evidence(problem_id: IdPath, evidence_id: IdPath, session: SessionDep, actor: CurrentUser) -> FileResponse:
    problem = authz.get_visible(session, actor, "problem", problem_id)
    ev = session.get(Evidence, evidence_id)
    if ev is None or ev.problem_id != problem.id:
        raise NotFound(f"佐证材料 {evidence_id} 不存在 / evidence {evidence_id} not found for {problem.code}")
    path = (evidence.evidence_root().parent / ev.storage_path).resolve()  # where the evidence service stores
    if not path.is_file():
        raise NotFound(f"evidence file missing on disk for {ev.sha256[:12]}")
    return FileResponse(path, media_type=ev.media_type, filename=ev.filename)


@router.get("/{problem_id}/history", summary="审计记录 / audit trail of the problem")
def get_problem_history(problem_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id)
    return {"code": problem.code, "items": audit_trail(session, "problem", problem.id)}
