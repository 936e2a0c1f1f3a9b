"""Who may read and change the task ledgers: compensated buildings, the fund, water plans, hidden factors,
inspections and the assessment (one policy per resource; see :mod:`subsidence.access.policy`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, false, select, true

from subsidence.access.policy import ALL, Policy, R, mine_scoped, register_policy, town_scoped
from subsidence.core.models import Mine, Unit
from subsidence.tasks.minehazards import SUPERVISOR_UNIT
from subsidence.tasks.models import (
    AssessmentScore,
    CompensatedBuilding,
    DrawRecord,
    FundAccount,
    FundEntry,
    HiddenFactor,
    InspectionResult,
    RectificationPlan,
    WaterPlan,
)

_county = {R.OFFICE: ALL, R.DEPARTMENT: ALL}

register_policy(Policy("building", CompensatedBuilding, label_zh="已补偿建筑物", rules={
    "read": {**_county, R.TOWN: town_scoped(CompensatedBuilding.town_id),
             R.ENTERPRISE: mine_scoped(CompensatedBuilding.mine_id)},
}))

# the fund ledger

enterprise_own = mine_scoped(select(FundAccount.mine_id).where(FundAccount.id == FundEntry.account_id)
                             .scalar_subquery())
register_policy(Policy("fund_account", FundAccount, label_zh="治理恢复基金账户", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(FundAccount.mine_id)},
    "open": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
    "accrue": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
    "enter": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(FundAccount.mine_id)},
    "report": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(FundAccount.mine_id)},
}))
register_policy(Policy("fund_entry", FundEntry, label_zh="基金收支", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: enterprise_own},
    "reverse": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
}))

# x

own = mine_scoped(WaterPlan.mine_id)
in_town = town_scoped(select(Mine.town_id).where(Mine.id == WaterPlan.mine_id).scalar_subquery())
register_policy(Policy("water_plan", WaterPlan, label_zh="保水开采方案", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: in_town, R.ENTERPRISE: own},
    "require": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
    "submit": {R.OFFICE: ALL, R.ENTERPRISE: own},
    "review": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
    "implemented": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: own},
}))

# Plans are reviewed only by the mine-safety supervisor's staff (department role of unit EMB) or the office.



def supervisor(actor) -> Any:
    if actor.unit_id is None:
        return false()
    return exists().where(Unit.id == actor.unit_id, Unit.code == SUPERVISOR_UNIT)

factor_mine = select(HiddenFactor.mine_id).where(HiddenFactor.id == RectificationPlan.factor_id).scalar_subquery()
register_policy(Policy("hidden_factor", HiddenFactor, label_zh="隐蔽致灾因素", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(HiddenFactor.mine_id)},
    "register": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(HiddenFactor.mine_id)},
}))
register_policy(Policy("rectification_plan", RectificationPlan, label_zh="一患一方案", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(factor_mine)},
    "submit": {R.OFFICE: ALL, R.ENTERPRISE: mine_scoped(factor_mine)},
    "review": {R.DEPARTMENT: supervisor},
    "complete": {R.OFFICE: ALL, R.DEPARTMENT: supervisor, R.ENTERPRISE: mine_scoped(factor_mine)},
}))

# Government roles see draws and results; the public sees published results only.


register_policy(Policy("draw", DrawRecord, label_zh="双随机抽取", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: ALL, R.PUBLIC: lambda a: true(), R.ENTERPRISE: ALL},
    "publish": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
    "seed": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
    "run": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
}))
published = lambda a: InspectionResult.published_date.is_not(None)  # noqa: E731
register_policy(Policy("inspection_result", InspectionResult, label_zh="抽查结果", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: published, R.PUBLIC: published,
             R.ENTERPRISE: mine_scoped(InspectionResult.mine_id)},
    "record": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
    "publish": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
}))

# Scores are internal; the praise and exposure lists are public.

listed = lambda a: AssessmentScore.listing.is_not(None)  # noqa: E731
register_policy(Policy("assessment", AssessmentScore, label_zh="年度评估", rules={
    "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: ALL, R.PUBLIC: listed,
             R.ENTERPRISE: mine_scoped(AssessmentScore.mine_id)},
    "run": {R.OFFICE: ALL},
}))
