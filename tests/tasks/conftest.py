"""A tiny synthetic county for the task-ledger tests: two towns, the bureaus, three mines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from subsidence.core.models import AdminArea, Mine, Unit
from subsidence.vocabulary import MiningMethod
from tests.builders import CountyBuilder


@dataclass
class County:
    towns: list[AdminArea]
    units: dict[str, Unit]
    mines: list[Mine]


@pytest.fixture
def county(session) -> County:
    b = CountyBuilder(session)
    towns = [
        b.town("T-ALTX", "阿勒腾席热镇", name_en="Altan Xire"),
        b.town("T-WLML", "乌兰木伦镇", name_en="Wulanmulun"),
    ]
    for code, zh in [
        ("NRB", "自然资源局"),
        ("AWB", "农牧和水利局"),
        ("EMB", "应急管理局"),
        ("EEB", "生态环境分局"),
        ("FIN", "财政局"),
    ]:
        b.unit(code, zh)
    b.town_government("TOWN-ALTX", towns[0])
    b.town_government("TOWN-WLML", towns[1])
    ent = b.enterprise("91150000TEST0001", "示例煤业有限公司")
    mines = [
        b.mine(
            "C1500002010001",
            "示例一号煤矿",
            enterprise=ent,
            town=towns[1],
            mining_method=MiningMethod.UNDERGROUND_SUBSIDENCE,
            capacity_mt_per_yr=10.0,
            licence_valid_from=date(2010, 1, 1),
        ),
        b.mine(
            "C1500002010002",
            "示例二号煤矿",
            enterprise=ent,
            town=towns[1],
            mining_method=MiningMethod.UNDERGROUND_BACKFILL,
            capacity_mt_per_yr=3.0,
        ),
        b.mine(
            "C1500002010003",
            "示例露天煤矿",
            enterprise=ent,
            town=towns[0],
            mining_method=MiningMethod.SURFACE,
            capacity_mt_per_yr=5.0,
        ),
    ]
    return County(towns, b.units, mines)


def _gate_findings(session, mine, today: date, severity: str = "refusal") -> list:
    """The licence gate's findings of one severity (refusal | warning | not_evaluable) for an extension."""
    from subsidence.gate.service import evaluate_gate
    from subsidence.vocabulary import ApplicationType

    d = evaluate_gate(session, mine, ApplicationType.EXTENSION, today=today)
    return {"refusal": d.reasons, "warning": d.warnings, "not_evaluable": d.not_evaluated}[severity]


@pytest.fixture
def gate_rules_hit():
    """``gate_rules_hit(session, mine, today, severity="refusal")`` -> the set of rule names with a finding of
    that severity (the gate refuses only for a passed deadline; findings inside theirs are warnings)."""
    return lambda session, mine, today, severity="refusal": {
        r.rule for r in _gate_findings(session, mine, today, severity)
    }
