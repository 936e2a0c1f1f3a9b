"""Hidden disaster-causing factors in the web (task 7): the enterprise records its census findings and submits
one rectification plan per problem (一患一方案); the Emergency Management Bureau reviews it; the enterprise
reports it completed. Thin adapter over tasks.minehazards."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep, Today
from subsidence.tasks import minehazards
from subsidence.tasks import queries as tq
from subsidence.tasks.models import HiddenFactor
from subsidence.vocabulary import HiddenFactorType

router = APIRouter(tags=["tasks"])
#: the census categories (HiddenFactorType values), checked before the service sees them
FactorType = Literal[tuple(t.value for t in HiddenFactorType)]  # type: ignore[valid-type]


class FactorIn(BaseModel):
    mine_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    factor_type: FactorType
    census_year: Annotated[int, Field(ge=2000, le=2100)]
    location: Annotated[str | None, Field(max_length=300)] = None
    description: Annotated[str | None, Field(max_length=4000)] = None
    risk_level: Annotated[str | None, Field(max_length=20)] = None
    is_problem: bool = True


class PlanIn(BaseModel):
    measures: Annotated[str, Field(min_length=1, max_length=8000)]
    rectify_deadline: date | None = None
    responsible_role: Annotated[str | None, Field(max_length=200)] = None


class PlanReviewIn(BaseModel):
    approve: bool
    result: Annotated[str, Field(min_length=1, max_length=4000, description="审查意见")]


@router.get("/api/hidden-factors", summary="隐蔽致灾因素普查 / hidden factors and their plans in your scope")
def list_factors(session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    rows = session.scalars(authz.visible(actor, "hidden_factor").order_by(HiddenFactor.code)).all()
    return {
        "factors": [tq.factor_row(session, actor, f, today) for f in rows],
        "types": [{"value": t.value, "label": t.label()} for t in HiddenFactorType],
    }


@router.post("/api/hidden-factors", status_code=201, summary="录入普查发现 / record a census finding")
def post_factor(body: FactorIn, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    authz.authorize_action(actor, "register", "hidden_factor")
    mine = authz.get_visible(session, actor, "mine", body.mine_id)
    n = session.scalar(select(func.count(HiddenFactor.id)).where(HiddenFactor.mine_id == mine.id)) or 0
    code = f"HF-{mine.licence_no}-{body.census_year}-{n + 1:03d}"
    f = minehazards.register_factor(
        session,
        mine,
        code,
        body.factor_type,
        census_year=body.census_year,
        surveyed=today,
        location=body.location,
        description=body.description,
        risk_level=body.risk_level,
        is_problem=body.is_problem,
    )
    authz.authorize(session, actor, "register", f, "hidden_factor")
    return {"factor": tq.factor_row(session, actor, f, today)}


@router.post("/api/hidden-factors/{factor_id}/plan", summary="报送一患一方案 / submit the rectification plan")
def post_plan(factor_id: IdPath, body: PlanIn, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    f = authz.get_visible(session, actor, "hidden_factor", factor_id)
    authz.authorize_action(actor, "submit", "rectification_plan")
    if f.plan is not None:  # a resubmission after return: the plan's own scope
        authz.authorize(session, actor, "submit", f.plan, "rectification_plan")
    code = f.plan.code if f.plan is not None else f"RP-{f.code.removeprefix('HF-')}"
    minehazards.submit_plan(
        session,
        f.code,
        code,
        measures=body.measures,
        submitted=today,
        rectify_deadline=body.rectify_deadline,
        responsible_role=body.responsible_role,
    )
    return {"factor": tq.factor_row(session, actor, f, today)}


@router.post("/api/rectification-plans/{plan_id}/review", summary="应急管理局审查方案 / the EMB reviews a plan")
def post_review(plan_id: IdPath, body: PlanReviewIn, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    plan = authz.get_visible(session, actor, "rectification_plan", plan_id, action="review")
    minehazards.review_plan(
        session,
        plan.code,
        reviewer_unit=minehazards.SUPERVISOR_UNIT,
        approve=body.approve,
        result=body.result,
        reviewed=today,
        actor=actor,
    )
    return {"factor": tq.factor_row(session, actor, plan.factor, today)}


@router.post("/api/rectification-plans/{plan_id}/complete", summary="整改完成 / report the rectification done")
def post_complete(plan_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    plan = authz.get_visible(session, actor, "rectification_plan", plan_id, action="complete")
    minehazards.complete_plan(session, plan.code, today)
    return {"factor": tq.factor_row(session, actor, plan.factor, today)}
