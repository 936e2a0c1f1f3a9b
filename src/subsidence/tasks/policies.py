"""Who may read and change the task ledgers: compensated buildings, the fund, water plans, hidden factors,
inspections and the assessment (one policy per resource; see :mod:`subsidence.access.policy`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, false, select, true

from subsidence.access.policy import ALL, Policy, R, hazard_scoped, mine_scoped, register_policy, town_scoped
from subsidence.core.models import Mine, TaskAssignment, Unit
from subsidence.monitoring.models import Card, HazardPoint
from subsidence.tasks.minehazards import SUPERVISOR_UNIT
from subsidence.tasks.models import (
    AssessmentScore,
    BuildingPhoto,
    CompensatedBuilding,
    DrawRecord,
    FundAccount,
    FundEntry,
    HiddenFactor,
    InspectionResult,
    Publication,
    RectificationPlan,
    WaterPlan,
)
from subsidence.vocabulary import TaskRole

_county = {R.OFFICE: ALL, R.DEPARTMENT: ALL}


def leads_task(actor, task_no: int) -> Any:
    """The actor's unit leads task ``task_no`` (a TaskAssignment with role lead)."""
    if actor.unit_id is None:
        return false()
    return exists().where(
        TaskAssignment.unit_id == actor.unit_id, TaskAssignment.task_no == task_no, TaskAssignment.role == TaskRole.LEAD
    )


def unit_is(code: str):
    """Scope: the actor's unit has ``code`` (e.g. NRB, the fund's supervising bureau)."""

    def scope(actor) -> Any:
        if actor.unit_id is None:
            return false()
        return exists().where(Unit.id == actor.unit_id, Unit.code == code)

    return scope


register_policy(
    Policy(
        "building",
        CompensatedBuilding,
        label_zh="已补偿建筑物",
        rules={
            "read": {
                **_county,
                R.TOWN: town_scoped(CompensatedBuilding.town_id),
                R.ENTERPRISE: mine_scoped(CompensatedBuilding.mine_id),
            },
            # the town where the building stands records its demolition (with photos) and re-occupation
            "record_demolition": {R.OFFICE: ALL, R.TOWN: town_scoped(CompensatedBuilding.town_id)},
            "record_reoccupation": {R.OFFICE: ALL, R.TOWN: town_scoped(CompensatedBuilding.town_id)},
        },
    )
)
register_policy(
    Policy(
        "building_photo",
        BuildingPhoto,
        label_zh="建筑物照片",
        rules={
            "read": {
                **_county,
                R.TOWN: town_scoped(
                    select(CompensatedBuilding.town_id)
                    .where(CompensatedBuilding.id == BuildingPhoto.building_id)
                    .scalar_subquery()
                ),
            },
        },
    )
)

# the fund ledger

enterprise_own = mine_scoped(
    select(FundAccount.mine_id).where(FundAccount.id == FundEntry.account_id).scalar_subquery()
)
register_policy(
    Policy(
        "fund_account",
        FundAccount,
        label_zh="治理恢复基金账户",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(FundAccount.mine_id)},
            "open": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
            "accrue": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
            # entries: the mine itself, or the fund's supervising bureau (NRB) / the office on its behalf
            "enter": {R.OFFICE: ALL, R.DEPARTMENT: unit_is("NRB"), R.ENTERPRISE: mine_scoped(FundAccount.mine_id)},
            "report": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(FundAccount.mine_id)},
        },
    )
)
register_policy(
    Policy(
        "fund_entry",
        FundEntry,
        label_zh="基金收支",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: enterprise_own},
            "reverse": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
            # the Natural Resources Bureau checks (核实) what an enterprise reported (财建〔2017〕638号：自然资源部门监管)
            "review": {R.OFFICE: ALL, R.DEPARTMENT: unit_is("NRB")},
        },
    )
)

# x

own = mine_scoped(WaterPlan.mine_id)
in_town = town_scoped(select(Mine.town_id).where(Mine.id == WaterPlan.mine_id).scalar_subquery())
register_policy(
    Policy(
        "water_plan",
        WaterPlan,
        label_zh="保水开采方案",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: in_town, R.ENTERPRISE: own},
            "require": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
            "submit": {R.OFFICE: ALL, R.ENTERPRISE: own},
            # the lead unit of task 5 (农牧和水利局) approves or returns a plan (伊政办发〔2024〕79号 任务五)
            "review": {R.OFFICE: ALL, R.DEPARTMENT: lambda a: leads_task(a, 5)},
            "implemented": {R.OFFICE: ALL, R.DEPARTMENT: lambda a: leads_task(a, 5), R.ENTERPRISE: own},
        },
    )
)

# Plans are reviewed only by the mine-safety supervisor's staff (department role of unit EMB) or the office.


def supervisor(actor) -> Any:
    if actor.unit_id is None:
        return false()
    return exists().where(Unit.id == actor.unit_id, Unit.code == SUPERVISOR_UNIT)


factor_mine = select(HiddenFactor.mine_id).where(HiddenFactor.id == RectificationPlan.factor_id).scalar_subquery()
register_policy(
    Policy(
        "hidden_factor",
        HiddenFactor,
        label_zh="隐蔽致灾因素",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(HiddenFactor.mine_id)},
            "register": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(HiddenFactor.mine_id)},
        },
    )
)
register_policy(
    Policy(
        "rectification_plan",
        RectificationPlan,
        label_zh="一患一方案",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(factor_mine)},
            "submit": {R.OFFICE: ALL, R.ENTERPRISE: mine_scoped(factor_mine)},
            "review": {R.DEPARTMENT: supervisor},
            "complete": {R.OFFICE: ALL, R.DEPARTMENT: supervisor, R.ENTERPRISE: mine_scoped(factor_mine)},
        },
    )
)

# Government roles see draws and results; the public sees published results only.


register_policy(
    Policy(
        "draw",
        DrawRecord,
        label_zh="双随机抽取",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: ALL, R.PUBLIC: lambda a: true(), R.ENTERPRISE: ALL},
            "publish": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
            "seed": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
            "run": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
        },
    )
)
published = lambda a: InspectionResult.published_date.is_not(None)  # noqa: E731
register_policy(
    Policy(
        "inspection_result",
        InspectionResult,
        label_zh="抽查结果",
        rules={
            "read": {
                R.OFFICE: ALL,
                R.DEPARTMENT: ALL,
                R.TOWN: published,
                R.PUBLIC: published,
                R.ENTERPRISE: mine_scoped(InspectionResult.mine_id),
            },
            "record": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
            "publish": {R.OFFICE: ALL, R.DEPARTMENT: ALL},
        },
    )
)

# Scores are internal; the praise and exposure lists are public.

listed = lambda a: AssessmentScore.listing.is_not(None)  # noqa: E731
register_policy(
    Policy(
        "assessment",
        AssessmentScore,
        label_zh="年度评估",
        rules={
            "read": {
                R.OFFICE: ALL,
                R.DEPARTMENT: ALL,
                R.TOWN: ALL,
                R.PUBLIC: listed,
                R.ENTERPRISE: mine_scoped(AssessmentScore.mine_id),
            },
            "run": {R.OFFICE: ALL},
        },
    )
)

# Publication: everyone reads what was signed off; only the office signs off.

register_policy(
    Policy(
        "publication",
        Publication,
        label_zh="公开签发",
        rules={
            "read": {r: ALL for r in R},
            "sign_off": {R.OFFICE: ALL},
        },
    )
)

# Cards (工作明白卡 / 避险明白卡): issued by the office or the hazard point's town; receipts recorded in the
# field by the town or the point's monitor (群测群防员).

card_town = town_scoped(select(HazardPoint.town_id).where(HazardPoint.id == Card.hazard_point_id).scalar_subquery())
register_policy(
    Policy(
        "card",
        Card,
        label_zh="明白卡",
        rules={
            "read": {**_county, R.TOWN: card_town, R.MONITOR: hazard_scoped(Card.hazard_point_id)},
            "issue": {R.OFFICE: ALL, R.TOWN: card_town},
            "receipt": {R.OFFICE: ALL, R.TOWN: card_town, R.MONITOR: hazard_scoped(Card.hazard_point_id)},
        },
    )
)
