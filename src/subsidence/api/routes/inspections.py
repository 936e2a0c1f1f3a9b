"""Double-random inspections, the annual assessment and the publication sign-off in the web (goal 2points 2 and 3): the office publishes a draw's pool, enters the public seed, runs it, records and marks results;
runs the assessment; and signs off (签发) what the public sees. Thin adapter over tasks.inspections,
tasks.assessment and tasks.publication."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep, Today
from subsidence.core.models import Mine
from subsidence.errors import NotFound, ValidationFailed
from subsidence.tasks import assessment, publication
from subsidence.tasks import queries as tq
from subsidence.tasks.inspections import service as inspections
from subsidence.tasks.models import AssessmentScore, InspectionItem, InspectionResult

router = APIRouter(tags=["tasks"])
Kind = Literal["assessment_lists", "inspection_results"]


class DrawIn(BaseModel):
    item: Annotated[str, Field(min_length=1, max_length=60, description="inspection item code")]
    seed_source: Annotated[str, Field(min_length=1, max_length=300)]
    seed_not_before: datetime
    supersedes: Annotated[str | None, Field(max_length=60)] = None
    redo_reason: Annotated[str | None, Field(max_length=2000)] = None


class SeedIn(BaseModel):
    source: Annotated[str, Field(min_length=1, max_length=300)]
    value: Annotated[str, Field(min_length=1, max_length=500)]
    source_time: datetime


class ResultIn(BaseModel):
    mine_id: Annotated[int | None, Field(ge=1, le=2_147_483_647)] = None
    mine: Annotated[str | None, Field(max_length=60, description="licence number (instead of mine_id)")] = None
    inspected: date
    outcome: Literal["compliant", "problems", "not_inspected"]
    findings: Annotated[str | None, Field(max_length=8000)] = None
    public_summary: Annotated[str | None, Field(max_length=2000)] = None


class SignOffIn(BaseModel):
    year: Annotated[int | None, Field(ge=2000, le=2100)] = None
    expected_sha256: Annotated[
        str,
        Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$", description="the hash of the draft you reviewed"),
    ]
    note: Annotated[str | None, Field(max_length=2000)] = None


@router.get("/api/draws", summary="双随机抽取记录 / draws")
def list_draws(session: SessionDep, actor: CurrentUser) -> dict:
    authz.authorize_action(actor, "read", "draw")
    items = [
        {"code": i.code, "name": i.name} for i in session.scalars(select(InspectionItem).order_by(InspectionItem.code))
    ]
    rows = inspections.list_draws(session)
    for d in rows:  # the drawn mines, for the result form
        if d["state"] == "drawn":
            rec = inspections.get_draw(session, d["code"])
            names = {o["key"]: o.get("name") for o in rec.pool.get("objects", [])}
            d["picks"] = [{"key": o["key"], "name": names.get(o["key"])} for o in rec.result.result["objects"]]
    return {"draws": rows, "items": items}


@router.get("/api/draws/{code}", summary="抽取全记录（可验证）/ a draw's verifiable record")
def get_draw(code: Annotated[str, Field(max_length=60)], session: SessionDep, actor: CurrentUser) -> dict:
    authz.authorize_action(actor, "read", "draw")
    return inspections.export_record(session, code)


@router.post("/api/draws", status_code=201, summary="公布抽取池 / publish a draw's pool")
def post_draw(body: DrawIn, session: SessionDep, actor: CurrentUser) -> dict:
    rec = inspections.publish_draw(
        session,
        body.item,
        seed_source=body.seed_source,
        seed_not_before=body.seed_not_before,
        supersedes=body.supersedes,
        redo_reason=body.redo_reason,
        actor=actor,
    )
    return {"draw": inspections.export_record(session, rec.code)}


@router.post("/api/draws/{code}/seed", summary="录入公开随机种子 / enter the public seed")
def post_seed(
    code: Annotated[str, Field(max_length=60)], body: SeedIn, session: SessionDep, actor: CurrentUser
) -> dict:
    authz.authorize_action(actor, "seed", "draw")
    inspections.enter_seed(session, code, source=body.source, value=body.value, source_time=body.source_time)
    return {"draw": inspections.export_record(session, code)}


@router.post("/api/draws/{code}/run", summary="执行抽取 / run the draw")
def post_run(code: Annotated[str, Field(max_length=60)], session: SessionDep, actor: CurrentUser) -> dict:
    authz.authorize_action(actor, "run", "draw")
    inspections.run_draw(session, code)
    return {"draw": inspections.export_record(session, code)}


@router.get("/api/inspection-results", summary="抽查结果 / inspection results in your scope")
def list_results(session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    rows = session.scalars(authz.visible(actor, "inspection_result").order_by(InspectionResult.id)).all()
    return {"results": [tq.inspection_result_row(r, today) for r in rows]}


@router.post("/api/draws/{code}/results", status_code=201, summary="录入抽查结果 / record a result")
def post_result(
    code: Annotated[str, Field(max_length=60)], body: ResultIn, session: SessionDep, actor: CurrentUser, today: Today
) -> dict:
    authz.authorize_action(actor, "record", "inspection_result")
    if body.mine_id is None and not body.mine:
        raise ValidationFailed("请指定矿山 / give mine_id or mine (licence number)")
    mine_id = body.mine_id or session.scalar(select(Mine.id).where(Mine.licence_no == body.mine)) or 0
    mine = authz.get_visible(session, actor, "mine", mine_id) if mine_id else None
    if mine is None:
        raise NotFound(f"矿山 {body.mine} 不存在 / mine {body.mine!r} not found")
    res = inspections.record_result(
        session,
        code,
        mine,
        inspected=body.inspected,
        outcome=body.outcome,
        findings=body.findings,
        public_summary=body.public_summary,
    )
    return {"result": tq.inspection_result_row(res, today)}


@router.post(
    "/api/inspection-results/{result_id}/publish",
    summary="结果拟公开 / mark a result for publication (public after the sign-off)",
)
def post_publish(result_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    res = authz.get_visible(session, actor, "inspection_result", result_id, action="publish")
    inspections.publish_result(session, res.draw.code, res.mine, today)
    return {"result": tq.inspection_result_row(res, today)}


@router.post("/api/assessment/{year}/run", summary="运行年度评估 / run the annual assessment")
def post_assessment(
    year: Annotated[int, Field(ge=2000, le=2100)], session: SessionDep, actor: CurrentUser, today: Today
) -> dict:
    authz.authorize_action(actor, "run", "assessment")
    rows = assessment.run_assessment(session, year, today)
    return {"year": year, "scored": len(rows), "publication": publication.status(session, "assessment_lists", year)}


@router.get("/api/assessment/{year}", summary="年度评估排名 / assessment scores in your scope")
def get_assessment(year: Annotated[int, Field(ge=2000, le=2100)], session: SessionDep, actor: CurrentUser) -> dict:
    authz.authorize_action(actor, "read", "assessment")
    ids = set(
        session.scalars(
            authz.visible(actor, "assessment")
            .where(AssessmentScore.year == year)
            .with_only_columns(AssessmentScore.mine_id)
        )
    )
    return {
        "year": year,
        "ranking": [
            r
            for r in assessment.ranking(session, year)
            if session.scalar(select(Mine.id).where(Mine.licence_no == r["mine"])) in ids
        ],
    }


@router.get("/api/publications/{kind}", summary="待签发与已签发 / draft beside the signed-off version")
def get_publication(
    kind: Kind, session: SessionDep, actor: CurrentUser, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> dict:
    authz.authorize_action(actor, "sign_off", "publication")
    return publication.status(session, kind, year)


@router.post("/api/publications/{kind}/sign-off", status_code=201, summary="签发公开 / sign off what the public sees")
def post_sign_off(kind: Kind, body: SignOffIn, session: SessionDep, actor: CurrentUser) -> dict:
    pub = publication.sign_off(
        session, actor, kind, year=body.year, expected_sha256=body.expected_sha256, note=body.note
    )
    return {"publication": publication.record(pub)}
