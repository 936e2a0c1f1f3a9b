"""The problem ledger over HTTP: list/filter/export, detail with history, add, transitions, notices, evidence.

Every handler goes through :mod:`subsidence.access.policy` (scope of the list, 404 outside it, 403 for
a forbidden action) and the ledger's services (lifecycle, notices, evidence) for the rules.
"""

from __future__ import annotations

import importlib
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from subsidence.api.deps import MAX_ID, CurrentUser, IdPath, IdQuery, Lang, SessionDep, SettingsDep, Today
from subsidence.api.cache import cached_response, store_response
from subsidence.api.exports import Column, table_response
from subsidence.core.models import AdminArea, AuditEvent, Mine, Unit
from subsidence.ledger.models import Problem
from subsidence.vocabulary import CLOSED_STATES, ProblemCategory, ProblemSource, ProblemState
from subsidence.access import policy as authz
from subsidence.errors import NotFound, ValidationFailed

router = APIRouter(prefix="/api/problems", tags=["problems"])

#: states in which a passed deadline makes a problem overdue (the ledger's definition when installed)
try:
    from subsidence.ledger.lifecycle import WORKING_STATES
except ImportError:  # pragma: no cover - ledger not installed
    WORKING_STATES = frozenset(set(ProblemState) - CLOSED_STATES - {ProblemState.SUBMITTED})

MAX_PAGE = 1000

PROBLEM_COLUMNS = [
    Column("code", "台账编号", "ledger no."), Column("category", "任务", "task"),
    Column("category_label", "问题类别", "category"), Column("title", "问题", "problem"),
    Column("mine_name", "矿山", "mine"), Column("town_name", "镇", "town"),
    Column("lead_unit_name", "牵头单位", "lead unit"), Column("source_label", "发现方式", "found by"),
    Column("found_date", "发现日期", "found"), Column("deadline", "整改期限", "deadline"),
    Column("state_label", "状态", "state"), Column("overdue", "是否逾期", "overdue"),
    Column("days_left", "剩余天数", "days left"),
]


def _service(name: str):
    """A ledger service module when installed (the web grows as the other parts land)."""
    try:
        return importlib.import_module(f"subsidence.ledger.{name}")
    except ImportError:
        return None


def problem_filters(actor: authz.Actor, *, today: date, state: list[str] | None = None, category: str | None = None,
                    mine_id: int | None = None, town_id: int | None = None, lead_unit_id: int | None = None,
                    overdue: bool | None = None, due_within_days: int | None = None,
                    q: str | None = None) -> list[Any]:
    """WHERE clauses on the problem table alone: the actor's scope plus the user's filters."""
    p = Problem.__table__
    where: list[Any] = [authz.scope_clause(actor, "problem")]
    if state:
        try:
            where.append(p.c.state.in_([ProblemState.parse(s) for s in state]))
        except ValueError as exc:
            raise ValidationFailed(f"state: {exc}") from None
    if category:
        try:
            where.append(p.c.category == ProblemCategory.parse(category))
        except ValueError as exc:
            raise ValidationFailed(f"category: {exc}") from None
    if mine_id is not None:
        where.append(p.c.mine_id == mine_id)
    if town_id is not None:
        where.append(p.c.town_id == town_id)
    if lead_unit_id is not None:
        where.append(p.c.lead_unit_id == lead_unit_id)
    working = sorted(WORKING_STATES, key=lambda s: s.value)
    if overdue is True:
        where += [p.c.state.in_(working), p.c.deadline < today]
    elif overdue is False:
        where.append(~and_(p.c.state.in_(working), p.c.deadline < today))
    if due_within_days is not None:
        where += [p.c.state.in_(working), p.c.deadline >= today,
                  p.c.deadline <= today + timedelta(days=due_within_days)]
    if q:
        where.append(p.c.title.contains(q.strip()) | (p.c.code == q.strip()))
    return where


def _columns_select():
    mine_t, town_t, unit_t = Mine.__table__, AdminArea.__table__, Unit.__table__
    p = Problem.__table__
    return (
        select(p.c.id, p.c.code, p.c.category, p.c.title, p.c.state, p.c.source, p.c.found_date, p.c.deadline,
               p.c.mine_id, p.c.town_id, p.c.lead_unit_id, mine_t.c.name_zh.label("mine_name"),
               mine_t.c.licence_no.label("mine_licence"), town_t.c.name_zh.label("town_name"),
               unit_t.c.name_zh.label("lead_unit_name"))
        .select_from(p.outerjoin(mine_t, mine_t.c.id == p.c.mine_id)
                     .outerjoin(town_t, town_t.c.id == p.c.town_id)
                     .outerjoin(unit_t, unit_t.c.id == p.c.lead_unit_id))
    )


def list_query(actor: authz.Actor, *, today: date, **filters):
    """The filtered, actor-scoped problem rows as a Core select of plain columns (fast to serialise)."""
    return _columns_select().where(*problem_filters(actor, today=today, **filters))


def row_dict(r: Any, today: date, lang: str) -> dict[str, Any]:
    cat, st, src = ProblemCategory(r.category), ProblemState(r.state), ProblemSource(r.source)
    working = st in WORKING_STATES
    return {
        "id": r.id, "code": r.code, "category": cat.value, "category_label": cat.label(lang), "title": r.title,
        "state": st.value, "state_label": st.label(lang), "source": src.value, "source_label": src.label(lang),
        "found_date": r.found_date.isoformat(), "deadline": r.deadline.isoformat() if r.deadline else None,
        "mine_id": r.mine_id, "mine_name": r.mine_name, "mine_licence": r.mine_licence, "town_id": r.town_id,
        "town_name": r.town_name, "lead_unit_id": r.lead_unit_id, "lead_unit_name": r.lead_unit_name,
        "overdue": bool(working and r.deadline is not None and r.deadline < today),
        "days_left": (r.deadline - today).days if (working and r.deadline is not None) else None,
    }


def list_problems(session: Session, actor: authz.Actor, *, today: date, lang: str, limit: int, offset: int,
                  with_total: bool = True, order: str = "id", **filters) -> tuple[list[dict], int | None]:
    """One page of problems and the number matching. The count and the page's ids come from the problem
    table alone (indexed filters, no joins); only the page's rows are joined to mine, town and unit names."""
    p = Problem.__table__
    where = problem_filters(actor, today=today, **filters)
    total = session.scalar(select(func.count()).select_from(p).where(*where)) if with_total else None
    order_by = {"id": [p.c.id], "deadline": [p.c.deadline, p.c.id], "-id": [p.c.id.desc()]}[order]
    page_ids = select(p.c.id).where(*where).order_by(*order_by).offset(offset).limit(limit)
    if limit >= 10_000:  # exports: one pass with the joins
        stmt = _columns_select().where(*where).order_by(*order_by).offset(offset).limit(limit)
    else:
        stmt = _columns_select().where(p.c.id.in_(page_ids.scalar_subquery())).order_by(*order_by)
    rows = session.execute(stmt).all()
    return [row_dict(r, today, lang) for r in rows], total


Fmt = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format", description="json, csv or xlsx")]


@router.get("", summary="问题台账列表（可筛选、导出）/ list, filter and export problems")
def get_problems(
    request: Request, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang,
    state: Annotated[list[str] | None, Query(description="state code or label; repeatable")] = None,
    category: Annotated[str | None, Query(max_length=40, description="task 1–7")] = None,
    mine_id: IdQuery = None, town_id: IdQuery = None, lead_unit_id: IdQuery = None,
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
    filters = dict(state=state, category=category, mine_id=mine_id, town_id=town_id, lead_unit_id=lead_unit_id,
                   overdue=overdue, due_within_days=due_within_days, q=q)
    if fmt != "json":
        authz.authorize_action(actor, "export", "problem")
        rows, _ = list_problems(session, actor, today=today, lang=lang, limit=200_000, offset=0,
                                with_total=False, order=order, **filters)
        return table_response(rows, PROBLEM_COLUMNS, fmt, "problems", lang)
    if (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    rows, total = list_problems(session, actor, today=today, lang=lang, limit=limit, offset=offset, order=order,
                                **filters)
    return store_response(request, session, actor, lang, today, table_response(
        rows, PROBLEM_COLUMNS, "json", "problems", lang, envelope={"total": total, "limit": limit, "offset": offset}))


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


def _detail(session: Session, actor: authz.Actor, problem: Problem, today: date, lang: str) -> dict[str, Any]:
    lifecycle = _service("lifecycle")
    base = list_query(actor, today=today).where(Problem.__table__.c.id == problem.id)
    row = session.execute(base).one()
    out = row_dict(row, today, lang)
    out.update(description=problem.description, requirement=problem.requirement,
               closed_date=problem.closed_date.isoformat() if problem.closed_date else None,
               milestones=[{"seq": m.seq, "description": m.description, "due_date": m.due_date.isoformat(),
                            "done_date": m.done_date.isoformat() if m.done_date else None}
                           for m in problem.milestones],
               cooperating_units=[u.name_zh for u in problem.cooperating_units])
    out["actions"] = []
    if lifecycle is not None:
        out["actions"] = [{"name": t.name, "label": t.label_zh if lang.startswith("zh") else t.label_en,
                           "via": t.via, "reason_required": t.reason_required}
                          for t in lifecycle.allowed_transitions(problem, actor)]
    out["can_upload_evidence"] = authz.can(session, actor, "upload_evidence", problem, "problem")
    notices = _service("notices")
    out["notices"] = [notices.notice_summary(n) for n in notices.notices_of(session, problem)] if notices else []
    out["evidence"] = _evidence_list(session, problem)
    out["history"] = _history(session, "problem", problem.id)
    return out


def _evidence_list(session: Session, problem: Problem) -> list[dict[str, Any]]:
    try:
        from subsidence.ledger.models import Evidence
    except ImportError:  # pragma: no cover
        return []
    rows = session.scalars(select(Evidence).where(Evidence.problem_id == problem.id).order_by(Evidence.id))
    return [{"id": e.id, "filename": e.filename, "kind": e.kind, "media_type": e.media_type,
             "size_bytes": e.size_bytes, "sha256": e.sha256, "uploaded_by": e.uploaded_by,
             "uploaded_at": e.created_at.isoformat() if e.created_at else None, "note": e.note,
             "url": f"/api/problems/{problem.id}/evidence/{e.id}"} for e in rows]


def _history(session: Session, entity: str, entity_id: int) -> list[dict[str, Any]]:
    from subsidence.settings import get_settings

    tz = get_settings().tz  # stored in UTC, shown in the office's time zone
    rows = session.scalars(select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
                           .order_by(AuditEvent.id).limit(500))
    return [{"at": r.at.astimezone(tz).isoformat(), "actor": r.actor, "action": r.action, "before": r.before, "after": r.after,
             "reason": r.reason} for r in rows]


@router.get("/{problem_id}", summary="问题详情与全过程记录 / a problem with its record and history")
def get_problem(problem_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id)
    return _detail(session, actor, problem, today, lang)


@router.post("", status_code=201, summary="登记问题 / add a problem to the ledger")
def create_problem(body: ProblemIn, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang) -> dict:
    authz.authorize_action(actor, "create", "problem")
    lifecycle = _service("lifecycle")
    if lifecycle is None:  # pragma: no cover
        raise NotFound("the ledger service is not installed")
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
    problem = lifecycle.add_problem(session, actor, category=category, title=body.title, found_date=body.found_date,
                                    source=source, mine=mine, town_id=body.town_id, deadline=body.deadline,
                                    description=body.description, requirement=body.requirement)
    if not authz.can(session, actor, "read", problem, "problem"):
        raise ValidationFailed("the new problem would fall outside your own scope (pick a mine or town of yours)")
    return _detail(session, actor, problem, today, lang)


@router.post("/{problem_id}/transitions", summary="状态流转 / move a problem (start, submit, resume, withdraw ...)")
def post_transition(problem_id: IdPath, body: TransitionIn, session: SessionDep, actor: CurrentUser, today: Today,
                    lang: Lang) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id, action="transition")
    lifecycle = _service("lifecycle")
    if lifecycle is None:  # pragma: no cover
        raise NotFound("the ledger service is not installed")
    lifecycle.transition(session, problem, actor, body.name, on=body.on or today, reason=body.reason)
    return _detail(session, actor, problem, today, lang)


@router.post("/{problem_id}/notices", status_code=201, summary="下达限期整改通知书 / issue a deadline notice")
def post_notice(problem_id: IdPath, body: NoticeIn, session: SessionDep, actor: CurrentUser, today: Today,
                lang: Lang) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id, action="issue_notice")
    notices = _service("notices")
    if notices is None:  # pragma: no cover
        raise NotFound("the notice service is not installed")
    ms = [notices.MilestoneInput(m.description, m.due_date, m.workdays_before) for m in body.milestones]
    notice = notices.issue_notice(session, problem, actor, issued_date=body.issued_date or today,
                                  deadline=body.deadline, workdays=body.workdays, requirement=body.requirement,
                                  legal_basis=body.legal_basis, milestones=ms)
    return {"notice": notices.notice_summary(notice), "problem": _detail(session, actor, problem, today, lang)}


@router.get("/{problem_id}/notices/{notice_id}/document", summary="通知书文档（PDF/DOCX）/ notice document")
def get_notice_document(problem_id: IdPath, notice_id: IdPath, session: SessionDep, actor: CurrentUser,
                        settings: SettingsDep, fmt: Annotated[Literal["pdf", "docx"], Query(alias="format")] = "pdf"):
    problem = authz.get_visible(session, actor, "problem", problem_id)
    from subsidence.ledger.models import RectificationNotice

    notice = session.get(RectificationNotice, notice_id)
    if notice is None or notice.problem_id != problem.id:
        raise NotFound(f"通知书 {notice_id} 不存在 / notice {notice_id} not found for problem {problem.code}")
    try:
        render = importlib.import_module("subsidence.reports.notice")
    except ImportError:
        raise NotFound("notice rendering is not installed") from None
    out_dir = settings.data_dir / "outputs" / "notices"
    out_dir.mkdir(parents=True, exist_ok=True)
    fn = getattr(render, f"render_{fmt}", None) or getattr(render, f"notice_{fmt}", None)
    if fn is None:
        raise NotFound(f"no {fmt} renderer for notices")
    path = out_dir / f"notice-{notice.id}.{fmt}"
    result = fn(notice, path) if fn.__code__.co_argcount >= 2 else fn(notice)
    if isinstance(result, (bytes, bytearray)):
        path.write_bytes(result)
    media = "application/pdf" if fmt == "pdf" else \
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return FileResponse(path, media_type=media, filename=f"{notice.code}.{fmt}")


@router.post("/{problem_id}/acceptance", summary="验收（通过/退回）/ record the acceptance decision")
def post_acceptance(problem_id: IdPath, body: AcceptanceIn, session: SessionDep, actor: CurrentUser, today: Today,
                    lang: Lang) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id, action="accept")
    evidence = _service("evidence")
    if evidence is None or not hasattr(evidence, "record_acceptance"):
        raise NotFound("the acceptance service is not installed yet")
    _call_flex(evidence.record_acceptance, session, problem, actor, passed=body.passed, reasons=body.reasons,
               inspectors=body.inspectors, decided_date=body.decided_date or today)
    return _detail(session, actor, problem, today, lang)


def _call_flex(fn, *args, **kwargs):
    """Call a service with the keyword arguments it declares (the services evolve independently)."""
    import inspect

    params = inspect.signature(fn).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return fn(*args, **kwargs)
    return fn(*args, **{k: v for k, v in kwargs.items() if k in params})


@router.post("/{problem_id}/evidence", status_code=201, summary="上传整改佐证材料 / upload evidence")
async def post_evidence(
    problem_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today, lang: Lang,
    file: Annotated[UploadFile, File(description="photo (JPEG/PNG) or document (PDF), ≤ 20 MiB")],
    note: Annotated[str | None, Form(max_length=2000)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    taken_at: Annotated[datetime | None, Form()] = None,
) -> dict:
    """The file's type is sniffed from its content and checked; files are stored content-addressed and
    never overwritten (the ledger's evidence service)."""
    problem = authz.get_visible(session, actor, "problem", problem_id, action="upload_evidence")
    evidence = _service("evidence")
    if evidence is None or not hasattr(evidence, "attach_evidence"):
        raise NotFound("the evidence service is not installed yet")
    data = await file.read()
    if not data:
        raise ValidationFailed(f"file {file.filename!r} is empty: choose the photo or document again")
    if taken_at is not None and taken_at.tzinfo is None:
        raise ValidationFailed("taken_at needs a time zone, e.g. 2024-10-01T09:30:00+08:00")
    if (lon is None) != (lat is None):
        raise ValidationFailed("give both lon and lat, or neither")
    ev = _call_flex(evidence.attach_evidence, session, problem, actor, data=data,
                    filename=file.filename or "upload", note=note, lon=lon, lat=lat, taken_at=taken_at)
    return {"evidence": {"id": ev.id, "sha256": ev.sha256, "media_type": ev.media_type, "kind": ev.kind,
                         "size_bytes": ev.size_bytes, "filename": ev.filename},
            "problem": _detail(session, actor, problem, today, lang)}


@router.get("/{problem_id}/evidence/{evidence_id}", summary="下载佐证材料 / download evidence")
def get_evidence(problem_id: IdPath, evidence_id: IdPath, session: SessionDep, actor: CurrentUser, settings: SettingsDep):
    problem = authz.get_visible(session, actor, "problem", problem_id)
    from subsidence.ledger.models import Evidence

    ev = session.get(Evidence, evidence_id)
    if ev is None or ev.problem_id != problem.id:
        raise NotFound(f"佐证材料 {evidence_id} 不存在 / evidence {evidence_id} not found for {problem.code}")
    path = (settings.data_dir / ev.storage_path).resolve()
    if not path.is_file():
        raise NotFound(f"evidence file missing on disk for {ev.sha256[:12]}")
    return FileResponse(path, media_type=ev.media_type, filename=ev.filename)


@router.get("/{problem_id}/history", summary="审计记录 / audit trail of the problem")
def get_problem_history(problem_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id)
    return {"code": problem.code, "items": _history(session, "problem", problem.id)}
