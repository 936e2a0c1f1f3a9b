"""Mine hidden disaster-causing factors (task 7, 隐蔽致灾因素普查): census, one plan per problem, EMB review.

Each factor the census flags as a problem opens one category-7 problem in the ledger and must get one
rectification plan (一患一方案) approved by the mine-safety supervisor — the Emergency Management Bureau (EMB)
— by its ``plan_due`` date. The review result is recorded (approved, or returned with the reason). A factor
whose plan is not approved by its due date, or an approved plan whose rectification deadline passed without
completion, is a licence-gate reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine, Unit
from subsidence.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subsidence.tasks.models import HiddenFactor, RectificationPlan
from subsidence.vocabulary import (
    ApplicationType,
    GateReason,
    HiddenFactorType,
    PlanReviewState,
    ProblemCategory,
    ProblemSource,
)

log = logging.getLogger(__name__)

#: the unit that reviews and approves plans (矿山安全监管): the Emergency Management Bureau
SUPERVISOR_UNIT = "EMB"
#: working default: a plan must be approved within this many days of the census finding [office practice]
DEFAULT_PLAN_DAYS = 30
LEGAL_BASIS = (
    "《煤矿安全规程》；《煤矿地质工作规定》（隐蔽致灾地质因素普查）；伊政办发〔2024〕79号 任务七"
    "（一患一方案，监管部门审查批准）"
)
DONE_STATES = (PlanReviewState.APPROVED, PlanReviewState.COMPLETED)


def get_factor(session: Session, code: str) -> HiddenFactor:
    f = session.scalar(select(HiddenFactor).where(HiddenFactor.code == code))
    if f is None:
        raise NotFound(f"hidden factor {code!r} not found")
    return f


def get_plan(session: Session, code: str) -> RectificationPlan:
    p = session.scalar(select(RectificationPlan).where(RectificationPlan.code == code))
    if p is None:
        raise NotFound(f"rectification plan {code!r} not found")
    return p


def register_factor(
    session: Session,
    mine: Mine,
    code: str,
    factor_type: HiddenFactorType | str,
    *,
    census_year: int,
    surveyed: date,
    location: str | None = None,
    description: str | None = None,
    risk_level: str | None = None,
    is_problem: bool = True,
    plan_due: date | None = None,
) -> HiddenFactor:
    """Record a census finding; a problem opens one category-7 ledger problem (keyed by the factor code)."""
    from subsidence.ledger.problems import open_problem

    ftype = factor_type if isinstance(factor_type, HiddenFactorType) else HiddenFactorType.parse(factor_type)
    if session.scalar(select(HiddenFactor.id).where(HiddenFactor.code == code)) is not None:
        raise Conflict(f"hidden factor {code} already recorded")
    if plan_due is not None and plan_due < surveyed:
        raise ValidationFailed(f"plan_due {plan_due} is before the survey date {surveyed}")
    f = HiddenFactor(
        code=code,
        mine_id=mine.id,
        factor_type=ftype,
        census_year=census_year,
        surveyed_date=surveyed,
        location=location,
        description=description,
        risk_level=risk_level,
        is_problem=is_problem,
        plan_due=(plan_due or surveyed + timedelta(days=DEFAULT_PLAN_DAYS)) if is_problem else None,
    )
    session.add(f)
    session.flush()
    if is_problem:
        title = f"{mine.name_zh}隐蔽致灾因素：{ftype.label()}（{code}）"
        problem, _ = open_problem(
            session,
            category=ProblemCategory.MINE_HAZARDS,
            title=title,
            source=ProblemSource.SELF_CHECK,
            found_date=surveyed,
            origin_key=f"minehazard:{code}",
            mine=mine,
            description=description or location,
            requirement="制定“一患一方案”报应急管理局审查批准，按方案整改",
        )
        f.problem_id = problem.id
        session.flush()
    return f


def submit_plan(
    session: Session,
    factor_code: str,
    plan_code: str,
    *,
    measures: str,
    submitted: date,
    rectify_deadline: date | None = None,
    responsible_role: str | None = None,
) -> RectificationPlan:
    """Submit (or resubmit after return) the factor's one plan."""
    f = get_factor(session, factor_code)
    if not f.is_problem:
        raise ValidationFailed(f"factor {factor_code} is not flagged as a problem; it needs no plan")
    if not (measures or "").strip():
        raise ValidationFailed("a plan needs its measures (整改措施)")
    if rectify_deadline is not None and rectify_deadline < submitted:
        raise ValidationFailed("rectification deadline before the submission date")
    plan = f.plan
    if plan is not None:
        if plan.code != plan_code:
            raise ValidationFailed(
                f"factor {factor_code} already has plan {plan.code}; resubmit that plan (one plan per problem)"
            )
        if plan.state in DONE_STATES:
            raise Conflict(f"factor {factor_code} already has an approved plan ({plan.code}); one plan per problem")
        if plan.state == PlanReviewState.SUBMITTED:
            raise Conflict(f"plan {plan.code} is already under review")
    else:
        if session.scalar(select(RectificationPlan.id).where(RectificationPlan.code == plan_code)) is not None:
            raise Conflict(f"plan code {plan_code} is used by another factor")
        plan = RectificationPlan(code=plan_code, factor_id=f.id, measures=measures)
        session.add(plan)
    plan.measures, plan.submitted_date, plan.state = measures.strip(), submitted, PlanReviewState.SUBMITTED
    plan.rectify_deadline, plan.responsible_role = rectify_deadline, responsible_role
    session.flush()
    session.refresh(f)
    return plan


def review_plan(
    session: Session,
    plan_code: str,
    *,
    reviewer_unit: str,
    approve: bool,
    result: str,
    reviewed: date,
    actor: Any = None,
) -> RectificationPlan:
    """The mine-safety supervisor's review, recorded with its result. Only EMB may review.

    ``actor`` (a :class:`subsidence.access.policy.Actor`) is checked against the ``rectification_plan`` policy
    when given (the API passes it; the CLI acts as the office).
    """
    if reviewer_unit != SUPERVISOR_UNIT:
        raise Forbidden(
            f"plans are reviewed by the mine-safety supervisor ({SUPERVISOR_UNIT}, 应急管理局), not by {reviewer_unit}"
        )
    unit = session.scalar(select(Unit).where(Unit.code == reviewer_unit))
    if unit is None:
        raise NotFound(f"unit {reviewer_unit} not found")
    plan = get_plan(session, plan_code)
    if actor is not None:
        from subsidence.access.policy import authorize

        authorize(session, actor, "review", plan, "rectification_plan")
    if plan.state != PlanReviewState.SUBMITTED:
        raise ValidationFailed(f"plan {plan_code} is {plan.state.label()}; only a submitted plan can be reviewed")
    if not (result or "").strip():
        raise ValidationFailed("record the review result (审查意见)")
    if plan.submitted_date and reviewed < plan.submitted_date:
        raise ValidationFailed("review date before the submission date")
    plan.state = PlanReviewState.APPROVED if approve else PlanReviewState.RETURNED
    plan.reviewed_date, plan.reviewer_unit_id, plan.review_result = reviewed, unit.id, result.strip()
    session.flush()
    return plan


def complete_plan(session: Session, plan_code: str, completed: date) -> RectificationPlan:
    plan = get_plan(session, plan_code)
    if plan.state != PlanReviewState.APPROVED:
        raise ValidationFailed(f"plan {plan_code} is {plan.state.label()}; only an approved plan can be completed")
    plan.state, plan.completed_date = PlanReviewState.COMPLETED, completed
    session.flush()
    return plan


def census(session: Session, mine: Mine, today: date) -> dict[str, Any]:
    """The mine's census: factors by type, plans by state, what is overdue."""
    factors = list(
        session.scalars(select(HiddenFactor).where(HiddenFactor.mine_id == mine.id).order_by(HiddenFactor.code))
    )
    return {
        "mine": mine.licence_no,
        "mine_name": mine.name_zh,
        "by_type": dict(Counter(f.factor_type.label() for f in factors)),
        "plans_by_state": dict(
            Counter((f.plan.state.label() if f.plan else "未报方案") for f in factors if f.is_problem)
        ),
        "factors": [
            {
                "code": f.code,
                "type": f.factor_type.value,
                "type_zh": f.factor_type.label(),
                "location": f.location,
                "risk_level": f.risk_level,
                "is_problem": f.is_problem,
                "plan_due": f.plan_due.isoformat() if f.plan_due else None,
                "plan": f.plan.code if f.plan else None,
                "plan_state": f.plan.state.value if f.plan else None,
                "review_result": f.plan.review_result if f.plan else None,
                "problem_id": f.problem_id,
            }
            for f in factors
        ],
        "overdue": [r.record for r in findings(session, mine, today)],
    }


def findings(session: Session, mine: Mine, today: date) -> list[GateReason]:
    """Hidden-factor plans due or past due (overdue ones only: what the status page lists)."""
    return [
        f
        for f in gate_minehazards(session, mine, ApplicationType.NEW_LICENCE, today)
        if f.deadline is not None and f.deadline < today
    ]


def gate_minehazards(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    """Licence-gate findings: a hidden-factor plan not yet approved (due ``plan_due``, set by the census
    rule), an approved plan not yet completed (due its ``rectify_deadline``, set by the approved plan)."""
    from subsidence.vocabulary import DeadlineSource

    out = []
    for f in session.scalars(
        select(HiddenFactor)
        .where(HiddenFactor.mine_id == mine.id, HiddenFactor.is_problem.is_(True))
        .order_by(HiddenFactor.code)
    ):
        plan = f.plan
        if (plan is None or plan.state not in DONE_STATES) and f.plan_due is not None:
            state = plan.state.label() if plan else "未报送方案"
            out.append(
                GateReason(
                    "minehazard_plan_unapproved",
                    f"{mine.name_zh}隐蔽致灾因素 {f.code}（{f.factor_type.label()}）整改方案应于 {f.plan_due} 前经应急管理局"
                    f"审查批准，现为“{state}” / hidden-factor plan due {f.plan_due}",
                    LEGAL_BASIS,
                    record=f.code,
                    record_kind="hidden_factor",
                    details={"plan": plan.code if plan else None, "due": f.plan_due.isoformat()},
                    deadline=f.plan_due,
                    deadline_set_by=DeadlineSource(
                        "rule",
                        f"隐蔽致灾因素普查 {f.census_year}",
                        f.surveyed_date,
                        "隐蔽致灾因素普查：一问题一方案，限期报审",
                    ),
                    remedy="报送整改方案并经应急管理局审查批准后解除 / lifted when the plan is approved",
                )
            )
        elif (
            plan is not None
            and plan.state == PlanReviewState.APPROVED
            and plan.rectify_deadline is not None
            and plan.completed_date is None
        ):
            out.append(
                GateReason(
                    "minehazard_rectification_overdue",
                    f"{mine.name_zh}隐蔽致灾因素 {f.code} 按方案 {plan.code} 应于 {plan.rectify_deadline} 前完成整改 / "
                    f"rectification due {plan.rectify_deadline}",
                    LEGAL_BASIS,
                    record=f.code,
                    record_kind="rectification_plan",
                    details={"plan": plan.code, "deadline": plan.rectify_deadline.isoformat()},
                    deadline=plan.rectify_deadline,
                    deadline_set_by=DeadlineSource(
                        "plan", plan.code, plan.reviewed_date, "经审查批准的隐蔽致灾因素整改方案"
                    ),
                    remedy="按方案完成整改并报完成情况后解除 / lifted when the plan is reported completed",
                )
            )
    return out
