"""The licence gate's rules: one explicit list (task 1 of the plan).

Each entry is a domain function ``(session, mine, application, today) -> list[GateReason]`` that reports
the facts of its ledger (the deadline, what set it, what is pending, what must be entered); the gate
(:func:`subsidence.gate.service.evaluate_gate`) turns them into refusals, warnings and "cannot be
evaluated". A ledger that adds a rule adds one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.ledger.gate_rules import ledger_problems
from subsidence.plans.service import gate_annual_plan, gate_plan
from subsidence.tasks.buildings import gate_buildings
from subsidence.tasks.fund import gate_fund
from subsidence.tasks.minehazards import gate_minehazards
from subsidence.tasks.water import gate_water
from subsidence.vocabulary import ApplicationType, GateReason

GateRule = Callable[[Session, Mine, ApplicationType, date], list[GateReason]]

#: (name, function): evaluated in this order
RULES: tuple[tuple[str, GateRule], ...] = (
    ("ledger_problems", ledger_problems),  # 台账问题：逾期未整改、整改不到位、待验收
    ("reclamation_plan", gate_plan),  # 矿山地质环境保护与土地复垦方案
    ("annual_plan", gate_annual_plan),  # 年度治理复垦计划完成情况
    ("fund", gate_fund),  # 治理恢复基金计提与使用
    ("water", gate_water),  # 保水开采方案
    ("mine_hazards", gate_minehazards),  # 隐蔽致灾因素一患一方案
    ("buildings", gate_buildings),  # 已补偿建筑物拆除
)


def rule_names() -> list[str]:
    return [name for name, _ in RULES]
