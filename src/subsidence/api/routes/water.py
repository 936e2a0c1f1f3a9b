"""Water-preserving mining plans in the web (task 5): the enterprise submits its plan, the lead unit of task 5
(农牧和水利局) approves or returns it, the enterprise reports it carried out. Thin adapter over tasks.water."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep, Today
from subsidence.core.models import Unit
from subsidence.tasks import queries as tq
from subsidence.tasks import water
from subsidence.tasks.models import WaterPlan

router = APIRouter(tags=["tasks"])


class WaterReviewIn(BaseModel):
    approve: bool
    approval_no: Annotated[str | None, Field(max_length=100, description="批复文号 (needed to approve)")] = None
    note: Annotated[str | None, Field(max_length=2000, description="审查意见 (needed to return)")] = None


@router.get("/api/water-plans", summary="保水开采方案 / water-preserving plans in your scope")
def list_plans(session: SessionDep, actor: CurrentUser) -> dict:
    plans = session.scalars(authz.visible(actor, "water_plan").order_by(WaterPlan.code)).all()
    return {"plans": [tq.water_plan_row(session, actor, p) for p in plans]}


@router.post("/api/water-plans/{plan_id}/submit", summary="报送保水开采方案 / submit the plan")
def submit(plan_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    plan = authz.get_visible(session, actor, "water_plan", plan_id, action="submit")
    water.submit_plan(session, plan.code, today)
    return {"plan": tq.water_plan_row(session, actor, plan)}


@router.post("/api/water-plans/{plan_id}/review", summary="审查保水开采方案 / approve or return the plan")
def review(plan_id: IdPath, body: WaterReviewIn, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    plan = authz.get_visible(session, actor, "water_plan", plan_id, action="review")
    unit = session.get(Unit, actor.unit_id) if actor.unit_id else None
    water.review_plan(
        session,
        plan.code,
        approve=body.approve,
        reviewed=today,
        unit_code=unit.code if unit is not None and actor.role.value == "department" else "AWB",
        approval_no=body.approval_no,
        note=body.note,
        actor=actor,
    )
    return {"plan": tq.water_plan_row(session, actor, plan)}


@router.post("/api/water-plans/{plan_id}/implemented", summary="方案已实施 / report the plan carried out")
def implemented(plan_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    plan = authz.get_visible(session, actor, "water_plan", plan_id, action="implemented")
    water.record_implemented(session, plan.code, today)
    return {"plan": tq.water_plan_row(session, actor, plan)}
