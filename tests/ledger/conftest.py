"""A tiny county for the ledger tests: one town, the office, three bureaus, two enterprises with a mine each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from subsidence.core.models import AdminArea, Enterprise, Mine, Unit
from subsidence.vocabulary import AreaLevel, ProblemCategory, Role, UnitKind
from subsidence.access.policy import Actor
from subsidence.ledger.lifecycle import add_problem


@dataclass
class County:
    town: AdminArea
    units: dict[str, Unit]
    mine1: Mine
    mine2: Mine
    office: Actor
    nrb: Actor
    awb: Actor
    town_actor: Actor
    ent1: Actor
    ent2: Actor

    def problem(self, session, *, category=ProblemCategory.SUBSIDENCE_CRACKS, found=date(2024, 9, 12), mine=None,
                title="塌陷坑未治理", deadline=None):
        return add_problem(session, self.office, category=category, title=title, found_date=found,
                           mine=self.mine1 if mine is None else mine, deadline=deadline)


def build_county(session) -> County:
    town = AdminArea(code="T-TEST", name_zh="测试镇", name_en="Test town", level=AreaLevel.TOWN)
    session.add(town)
    session.flush()
    e1 = Enterprise(credit_code="91150600TEST00001X", name_zh="示例一号煤业有限公司", name_en="Example Coal 1")
    e2 = Enterprise(credit_code="91150600TEST00002X", name_zh="示例二号煤业有限公司", name_en="Example Coal 2")
    session.add_all([e1, e2])
    session.flush()
    units = {}
    for code, zh, kind, extra in [
        ("LGO", "采煤沉陷区专项整治行动领导小组办公室", UnitKind.OFFICE, {}),
        ("NRB", "旗自然资源局", UnitKind.BUREAU, {}),
        ("AWB", "旗农牧和水利局", UnitKind.BUREAU, {}),
        ("EMB", "旗应急管理局", UnitKind.BUREAU, {}),
        ("U-T-TEST", "测试镇人民政府", UnitKind.TOWN, {"town_id": town.id}),
        ("E-1", e1.name_zh, UnitKind.ENTERPRISE, {"enterprise_id": e1.id}),
        ("E-2", e2.name_zh, UnitKind.ENTERPRISE, {"enterprise_id": e2.id}),
    ]:
        units[code] = Unit(code=code, name_zh=zh, name_en=code, kind=kind, **extra)
        session.add(units[code])
    m1 = Mine(licence_no="C1500002009031120000001", name_zh="示例一号煤矿", name_en="Example mine 1",
              enterprise_id=e1.id, town_id=town.id)
    m2 = Mine(licence_no="C1500002009031120000002", name_zh="示例二号煤矿", name_en="Example mine 2",
              enterprise_id=e2.id, town_id=town.id)
    session.add_all([m1, m2])
    session.flush()
    session.commit()
    u = units
    return County(
        town=town, units=units, mine1=m1, mine2=m2,
        office=Actor("office1", Role.OFFICE, unit_id=u["LGO"].id),
        nrb=Actor("nrb1", Role.DEPARTMENT, unit_id=u["NRB"].id, task_nos=frozenset({1, 2, 6})),
        awb=Actor("awb1", Role.DEPARTMENT, unit_id=u["AWB"].id, task_nos=frozenset({5})),
        town_actor=Actor("town1", Role.TOWN, unit_id=u["U-T-TEST"].id, town_id=town.id),
        ent1=Actor("ent1", Role.ENTERPRISE, unit_id=u["E-1"].id, enterprise_id=e1.id),
        ent2=Actor("ent2", Role.ENTERPRISE, unit_id=u["E-2"].id, enterprise_id=e2.id),
    )


@pytest.fixture
def county(session) -> County:
    return build_county(session)
