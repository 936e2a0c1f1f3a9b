"""Rectification workflow and licence-gate documents: deadline extensions, milestones done with
evidence, escalations (督办通知), acceptance records (销号), the numbered 不予受理告知书, and the one
overdue / due-soon count. Thin: parse, authorize, call the ledger or gate service, shape the answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep, Today
from subsidence.errors import NotFound
from subsidence.gate import service as gate
from subsidence.ledger import escalation, evidence, extensions, milestones, queries
from subsidence.ledger.models import AcceptanceRecord, Escalation, GateQuery

router = APIRouter(tags=["workflow"])

DocFormat = Annotated[Literal["pdf", "docx"], Query(alias="format", description="pdf or docx")]
MEDIA = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


async def _document(render_module: str, data: dict, fmt: str, name: str) -> Response:
    """Render a document of ``reports.<render_module>`` from ``data`` off the event loop (bytes, no shared file)."""
    import importlib
    from urllib.parse import quote

    renderer = getattr(importlib.import_module(f"subsidence.reports.{render_module}"), f"render_{fmt}")
    body = await run_in_threadpool(renderer, data)
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.{fmt}"},
    )


class ExtensionIn(BaseModel):
    requested_deadline: date
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class DecisionIn(BaseModel):
    approve: bool
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    granted_deadline: date | None = None


class MilestoneDoneIn(BaseModel):
    evidence_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=50)]
    done_date: date | None = None
    date_reason: Annotated[str | None, Field(max_length=2000)] = None


class RefusalIn(BaseModel):
    authority: Annotated[str | None, Field(max_length=40, description="issuing unit code (default NRB)")] = None


@router.get("/api/problems/{problem_id}/extensions", summary="延期申请记录 / deadline extension requests")
def list_extensions(problem_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id)
    return {
        "problem": problem.code,
        "deadline": problem.deadline.isoformat() if problem.deadline else None,
        "extensions": [extensions.extension_dict(x) for x in extensions.extensions_of(session, problem)],
    }


@router.post("/api/problems/{problem_id}/extensions", status_code=201, summary="申请延期 / request an extension")
def post_extension(problem_id: IdPath, body: ExtensionIn, session: SessionDep, actor: CurrentUser) -> dict:
    """The mine asks, before the deadline, with a reason (dated by the server)."""
    problem = authz.get_visible(session, actor, "problem", problem_id, action="request_extension")
    x = extensions.request_extension(
        session, problem, actor, requested_deadline=body.requested_deadline, reason=body.reason
    )
    return {"extension": extensions.extension_dict(x)}


@router.post("/api/problems/{problem_id}/extensions/decision", summary="延期审批 / decide the open extension request")
def post_extension_decision(problem_id: IdPath, body: DecisionIn, session: SessionDep, actor: CurrentUser) -> dict:
    """The lead unit or the office decides; approval moves the deadline the gate and the overdue count use."""
    problem = authz.get_visible(session, actor, "problem", problem_id, action="decide_extension")
    x = extensions.decide_extension(
        session,
        extensions.find_extension(session, problem),
        actor,
        approve=body.approve,
        reason=body.reason,
        granted_deadline=body.granted_deadline,
    )
    return {"extension": extensions.extension_dict(x)}


@router.post("/api/problems/{problem_id}/milestones/{seq}/done", summary="完成时间节点 / complete a milestone")
def post_milestone_done(
    problem_id: IdPath, seq: IdPath, body: MilestoneDoneIn, session: SessionDep, actor: CurrentUser
) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id, action="complete_milestone")
    m = milestones.complete_milestone(
        session,
        problem,
        actor,
        seq,
        evidence_ids=body.evidence_ids,
        done_date=body.done_date,
        date_reason=body.date_reason,
    )
    return {
        "problem": problem.code,
        "seq": m.seq,
        "description": m.description,
        "due_date": m.due_date.isoformat(),
        "done_date": m.done_date.isoformat(),
        "evidence_ids": m.evidence_ids,
        "completed_by": m.completed_by,
    }


@router.get("/api/problems/{problem_id}/escalations", summary="督办记录 / escalations of a problem")
def list_escalations(problem_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    problem = authz.get_visible(session, actor, "problem", problem_id)
    rows = session.scalars(select(Escalation).where(Escalation.problem_id == problem.id).order_by(Escalation.id))
    return {
        "problem": problem.code,
        "escalations": [{"id": e.id, **escalation.supervision_data(session, e.id)} for e in rows],
    }


@router.get("/api/escalations/{escalation_id}", summary="督办通知内容 / the 督办通知 of an escalation")
def get_escalation(escalation_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise NotFound(f"escalation {escalation_id} not found")
    authz.get_visible(session, actor, "problem", esc.problem_id)
    return escalation.supervision_data(session, esc.id)


@router.get("/api/acceptances/{record_id}", summary="验收（销号）记录 / an acceptance record")
def get_acceptance(record_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    rec = session.get(AcceptanceRecord, record_id)
    if rec is None:
        raise NotFound(f"acceptance record {record_id} not found")
    authz.get_visible(session, actor, "problem", rec.problem_id)
    return evidence.acceptance_data(session, rec.id)


def _query(session, actor, query_id: int) -> GateQuery:
    q = session.get(GateQuery, query_id)
    if q is None:
        raise NotFound(f"gate query {query_id} not found")
    authz.get_visible(session, actor, "mine", q.mine_id)
    return q


@router.post(
    "/api/gate/{query_id}/refusal",
    status_code=201,
    summary="出具不予受理告知书 / issue the numbered refusal notice of a refused query",
)
def post_refusal(query_id: IdPath, body: RefusalIn, session: SessionDep, actor: CurrentUser) -> dict:
    q = _query(session, actor, query_id)
    return dict(gate.issue_refusal_notice(session, q.id, actor, authority=body.authority).snapshot)


@router.get("/api/gate/{query_id}/refusal", summary="不予受理告知书内容 / the refusal notice's content")
def get_refusal(query_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    q = _query(session, actor, query_id)
    return gate.refusal_document_data(session, q.id)


@router.get("/api/deadlines", summary="逾期、临期、验收超时数 / overdue, due-soon and acceptance-overdue counts")
def get_deadlines(session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    """The ledger's one definition (:func:`subsidence.ledger.queries.deadline_counts`) within your scope."""
    authz.authorize_action(actor, "read", "problem")
    counts = queries.deadline_counts(session, today, where=authz.scope_clause(actor, "problem"))
    return {"today": today.isoformat(), "due_soon_until": queries.due_soon_until(today).isoformat(), **counts}


@router.get("/api/escalations/{escalation_id}/document", summary="督办通知（PDF/DOCX）/ the 督办通知 as a document")
async def get_escalation_document(
    escalation_id: IdPath, session: SessionDep, actor: CurrentUser, fmt: DocFormat = "pdf"
) -> Response:
    data = get_escalation(escalation_id, session, actor)
    return await _document("supervision", data, fmt, f"督办通知-{escalation_id}")


@router.get("/api/acceptances/{record_id}/document", summary="整改验收意见书（PDF/DOCX）/ the acceptance record")
async def get_acceptance_document(
    record_id: IdPath, session: SessionDep, actor: CurrentUser, fmt: DocFormat = "pdf"
) -> Response:
    data = get_acceptance(record_id, session, actor)
    return await _document("acceptance", data, fmt, f"整改验收意见书-{record_id}")


@router.get("/api/gate/{query_id}/refusal/document", summary="不予受理告知书（PDF/DOCX）/ the refusal notice")
async def get_refusal_document(
    query_id: IdPath, session: SessionDep, actor: CurrentUser, fmt: DocFormat = "pdf"
) -> Response:
    data = get_refusal(query_id, session, actor)
    return await _document("refusal", data, fmt, f"不予受理告知书-{query_id}")
