"""A tiny county for the ledger tests: one town, the office, three bureaus, two enterprises with a mine each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from subsidence.access.policy import Actor
from subsidence.core.models import AdminArea, Mine, Unit
from subsidence.ledger.lifecycle import add_problem
from subsidence.vocabulary import ProblemCategory, Role, UnitKind
from tests.builders import CountyBuilder


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

    def problem(
        self,
        session,
        *,
        category=ProblemCategory.SUBSIDENCE_CRACKS,
        found=date(2024, 9, 12),
        mine=None,
        title="塌陷坑未治理",
        deadline=None,
    ):
        return add_problem(
            session,
            self.office,
            category=category,
            title=title,
            found_date=found,
            mine=self.mine1 if mine is None else mine,
            deadline=deadline,
        )


def build_county(session) -> County:
    b = CountyBuilder(session)
    town = b.town("T-TEST", "测试镇", name_en="Test town")
    e1 = b.enterprise("91150600TEST00001X", "示例一号煤业有限公司", name_en="Example Coal 1")
    e2 = b.enterprise("91150600TEST00002X", "示例二号煤业有限公司", name_en="Example Coal 2")
    b.office()
    b.bureaus("NRB", "AWB", "EMB")
    b.town_government("U-T-TEST", town)
    b.unit("E-1", e1.name_zh, UnitKind.ENTERPRISE, enterprise=e1)
    b.unit("E-2", e2.name_zh, UnitKind.ENTERPRISE, enterprise=e2)
    m1 = b.mine("C1500002009031120000001", "示例一号煤矿", name_en="Example mine 1", enterprise=e1, town=town)
    m2 = b.mine("C1500002009031120000002", "示例二号煤矿", name_en="Example mine 2", enterprise=e2, town=town)
    session.commit()
    u = b.units
    return County(
        town=town,
        units=u,
        mine1=m1,
        mine2=m2,
        office=b.actor("office1", Role.OFFICE, u["LGO"]),
        nrb=b.actor("nrb1", Role.DEPARTMENT, u["NRB"], tasks={1, 2, 6}),
        awb=b.actor("awb1", Role.DEPARTMENT, u["AWB"], tasks={5}),
        town_actor=b.actor("town1", Role.TOWN, u["U-T-TEST"], town=town),
        ent1=b.actor("ent1", Role.ENTERPRISE, u["E-1"], enterprise=e1),
        ent2=b.actor("ent2", Role.ENTERPRISE, u["E-2"], enterprise=e2),
    )


@pytest.fixture
def county(session) -> County:
    return build_county(session)


def at(session, day: date) -> date:
    """Pin the server's date for ``session`` to ``day`` (the services date every step with it) and return it."""
    session.info["server_today"] = day
    return day


_N = iter(range(1, 10**6))


def proof(session, problem, actor, name: str = "整改佐证.pdf"):
    """Attach a small, unique PDF as evidence (a submission for acceptance needs evidence)."""
    from subsidence.ledger.evidence import attach_evidence

    data = b"%PDF-1.4\n% evidence " + str(next(_N)).encode() + b"\n%%EOF\n"
    return attach_evidence(session, problem, actor, data=data, filename=name)
