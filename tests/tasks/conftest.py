"""A tiny synthetic county for the task-ledger tests: two towns, the bureaus, three mines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from subsidence.core.models import AdminArea, Enterprise, Mine, Unit
from subsidence.vocabulary import AreaLevel, MiningMethod, UnitKind


@dataclass
class County:
    towns: list[AdminArea]
    units: dict[str, Unit]
    mines: list[Mine]


@pytest.fixture
def county(session) -> County:
    towns = [AdminArea(code="T-ALTX", name_zh="阿勒腾席热镇", name_en="Altan Xire", level=AreaLevel.TOWN),
             AdminArea(code="T-WLML", name_zh="乌兰木伦镇", name_en="Wulanmulun", level=AreaLevel.TOWN)]
    session.add_all(towns)
    session.flush()
    units = {}
    for code, zh, kind in [("NRB", "自然资源局", UnitKind.BUREAU), ("AWB", "农牧和水利局", UnitKind.BUREAU),
                           ("EMB", "应急管理局", UnitKind.BUREAU), ("EEB", "生态环境分局", UnitKind.BUREAU),
                           ("FIN", "财政局", UnitKind.BUREAU)]:
        units[code] = Unit(code=code, name_zh=zh, kind=kind)
    units["TOWN-ALTX"] = Unit(code="TOWN-ALTX", name_zh="阿勒腾席热镇人民政府", kind=UnitKind.TOWN, town_id=towns[0].id)
    units["TOWN-WLML"] = Unit(code="TOWN-WLML", name_zh="乌兰木伦镇人民政府", kind=UnitKind.TOWN, town_id=towns[1].id)
    session.add_all(units.values())
    ent = Enterprise(credit_code="91150000TEST0001", name_zh="示例煤业有限公司")
    session.add(ent)
    session.flush()
    mines = [
        Mine(licence_no="C1500002010001", name_zh="示例一号煤矿", enterprise_id=ent.id, town_id=towns[1].id,
             mining_method=MiningMethod.UNDERGROUND_SUBSIDENCE, capacity_mt_per_yr=10.0,
             licence_valid_from=date(2010, 1, 1)),
        Mine(licence_no="C1500002010002", name_zh="示例二号煤矿", enterprise_id=ent.id, town_id=towns[1].id,
             mining_method=MiningMethod.UNDERGROUND_BACKFILL, capacity_mt_per_yr=3.0),
        Mine(licence_no="C1500002010003", name_zh="示例露天煤矿", enterprise_id=ent.id, town_id=towns[0].id,
             mining_method=MiningMethod.SURFACE, capacity_mt_per_yr=5.0),
    ]
    session.add_all(mines)
    session.flush()
    return County(towns, units, mines)


def _gate_reasons(session, mine, today: date) -> list:
    """The reasons the licence gate gives (through evaluate_gate when present, else the registered rules)."""
    from subsidence.gate import service as gate

    if hasattr(gate, "evaluate_gate"):
        return gate.evaluate_gate(session, mine, gate.ApplicationType.EXTENSION, today=today).reasons
    rules = gate.load_rules()
    out = []
    for name in sorted(rules):
        out.extend(rules[name](session, mine, gate.ApplicationType.EXTENSION, today))
    return out


@pytest.fixture
def gate_rules_hit():
    """``gate_rules_hit(session, mine, today)`` -> the set of rule names that refuse."""
    return lambda session, mine, today: {r.rule for r in _gate_reasons(session, mine, today)}
