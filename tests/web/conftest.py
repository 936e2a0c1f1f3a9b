"""Web fixtures: a small two-tenant world built in code, one account and bearer token per role, a client.

The world: towns T1 and T2; enterprise A owns mine MA in T1, enterprise B owns mine MB in T2; problems on
each mine (task 1, lead NRB) and a task-5 problem on MB (lead AWB); hazard points in each town; the monitor
watches only HA. Passwords share one precomputed Argon2id hash (hashing is deliberately slow).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from shapely.geometry import MultiPolygon, Point, box

from subsidence.access import accounts
from subsidence.access.models import MonitorAssignment
from subsidence.census.models import SubsidenceArea
from subsidence.db.audit import acting_as
from subsidence.ledger.problems import open_problem
from subsidence.vocabulary import (
    HazardType,
    MovementStage,
    ProblemCategory,
    ProblemSource,
    ReviewState,
    Role,
    SensorKind,
    SubsidenceSource,
    TaskRole,
    UnitKind,
)
from tests.builders import CountyBuilder

# FastAPI's TestClient still wraps httpx; the deprecation note is about a future replacement, not our code.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")

TODAY = date(2024, 11, 15)
PASSWORD = "correct-horse-battery"
ROLES = ["office", "department", "town", "enterprise_a", "enterprise_b", "monitor", "public"]

# storage CRS (EPSG:4546, GK CM111E) coordinates near Ejin Horo: x ≈ 437 km east of the false origin
X0, Y0 = 437_000.0, 4_383_000.0


@pytest.fixture(scope="session", autouse=True)
def _fast_argon2():
    """Argon2id with small parameters in tests (production: t=3, m=64 MiB; see test_accounts)."""
    from argon2 import PasswordHasher

    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    accounts.use_hasher(accounts.PRODUCTION_HASHER)


@pytest.fixture(autouse=True)
def _fresh_sign_in_throttle():
    accounts._failures.clear()
    yield
    accounts._failures.clear()


@pytest.fixture(scope="session")
def password_hash(_fast_argon2) -> str:
    return accounts.hash_password(PASSWORD)


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def build_world(session, password_hash: str) -> World:
    w = World()
    b = CountyBuilder(session)
    with acting_as(session, "test:setup"):
        t1 = b.town("T1", "一号镇", name_en="Town One", geometry=MultiPolygon([box(X0, Y0, X0 + 20_000, Y0 + 20_000)]))
        t2 = b.town(
            "T2", "二号镇", name_en="Town Two", geometry=MultiPolygon([box(X0 + 20_000, Y0, X0 + 40_000, Y0 + 20_000)])
        )
        ea = b.enterprise("91A", "甲煤业", name_en="Coal A")
        eb = b.enterprise("91B", "乙煤业", name_en="Coal B")
        lgo = b.office("LGO", "领导小组办公室")
        nrb = b.unit("NRB", "自然资源局")
        awb = b.unit("AWB", "农牧和水利局", tasks={5: TaskRole.LEAD})
        u1 = b.town_government("TOWN-T1", t1)
        b.town_government("TOWN-T2", t2)
        ua = b.unit("ENT-A", "甲煤业", UnitKind.ENTERPRISE, enterprise=ea)
        ub = b.unit("ENT-B", "乙煤业", UnitKind.ENTERPRISE, enterprise=eb)
        ma = b.mine(
            "C-A-001",
            "甲一矿",
            name_en="Mine A",
            enterprise=ea,
            town=t1,
            geometry=MultiPolygon([box(X0 + 2_000, Y0 + 2_000, X0 + 8_000, Y0 + 8_000)]),
        )
        mb = b.mine(
            "C-B-001",
            "乙一矿",
            name_en="Mine B",
            enterprise=eb,
            town=t2,
            geometry=MultiPolygon([box(X0 + 22_000, Y0 + 2_000, X0 + 28_000, Y0 + 8_000)]),
        )
        b.panel(
            "C-A-001-P1",
            ma,
            thickness_m=4,
            depth_dip_m=200,
            depth_rise_m=180,
            geometry=box(X0 + 3_000, Y0 + 3_000, X0 + 3_300, Y0 + 6_000),
        )
        b.panel(
            "C-B-001-P1",
            mb,
            thickness_m=4,
            depth_dip_m=200,
            depth_rise_m=180,
            geometry=box(X0 + 23_000, Y0 + 3_000, X0 + 23_300, Y0 + 6_000),
        )
        session.add_all(
            [
                SubsidenceArea(
                    code="SA-A",
                    source=SubsidenceSource.REMOTE_SENSING,
                    review_state=ReviewState.CONFIRMED,
                    stability=MovementStage.ACTIVE,
                    area_ha=80,
                    max_subsidence_mm=1500,
                    mine_id=ma.id,
                    town_id=t1.id,
                    geometry=MultiPolygon([box(X0 + 2_800, Y0 + 2_800, X0 + 3_600, Y0 + 6_200)]),
                ),
                SubsidenceArea(
                    code="SA-B",
                    source=SubsidenceSource.REMOTE_SENSING,
                    review_state=ReviewState.CANDIDATE,
                    stability=MovementStage.STABLE,
                    area_ha=60,
                    mine_id=mb.id,
                    town_id=t2.id,
                    geometry=MultiPolygon([box(X0 + 22_800, Y0 + 2_800, X0 + 23_600, Y0 + 6_200)]),
                ),
            ]
        )
        ha = b.hazard_point(
            "HA",
            "甲滑坡",
            HazardType.LANDSLIDE,
            town=t1,
            mine=ma,
            threatened_people=12,
            geometry=Point(X0 + 5_000, Y0 + 10_000),
        )
        hb = b.hazard_point(
            "HB",
            "乙崩塌",
            HazardType.COLLAPSE,
            town=t2,
            mine=mb,
            threatened_people=5,
            geometry=Point(X0 + 25_000, Y0 + 10_000),
        )
        b.sensor("S-HA-1", SensorKind.GNSS, unit="mm", hazard_point=ha, geometry=Point(X0 + 5_010, Y0 + 10_010))
        b.sensor("S-HB-1", SensorKind.CRACK_METER, unit="mm", hazard_point=hb)
        found = TODAY - timedelta(days=45)
        pa, _ = open_problem(
            session,
            category=ProblemCategory.SUBSIDENCE_CRACKS,
            title="甲一矿地裂缝未充填",
            source=ProblemSource.REMOTE_SENSING,
            found_date=found,
            mine=ma,
            deadline=TODAY - timedelta(days=5),
        )
        pb, _ = open_problem(
            session,
            category=ProblemCategory.SUBSIDENCE_CRACKS,
            title="乙一矿塌陷坑未治理",
            source=ProblemSource.DOUBLE_RANDOM,
            found_date=found,
            mine=mb,
            deadline=TODAY + timedelta(days=3),
        )
        pw, _ = open_problem(
            session,
            category=ProblemCategory.GROUNDWATER,
            title="乙一矿保水开采方案缺失",
            source=ProblemSource.FIELD_SURVEY,
            found_date=found,
            mine=mb,
            deadline=TODAY + timedelta(days=60),
        )
        users = {
            "office": b.user("office", Role.OFFICE, unit=lgo, password_hash=password_hash),
            "department": b.user("department", Role.DEPARTMENT, unit=awb, password_hash=password_hash),
            "town": b.user("town", Role.TOWN, unit=u1, password_hash=password_hash),
            "enterprise_a": b.user(
                "enterprise_a", Role.ENTERPRISE, unit=ua, enterprise=ea, password_hash=password_hash
            ),
            "enterprise_b": b.user(
                "enterprise_b", Role.ENTERPRISE, unit=ub, enterprise=eb, password_hash=password_hash
            ),
            "monitor": b.user("monitor", Role.MONITOR, unit=u1, password_hash=password_hash),
            "public": b.user("public", Role.PUBLIC, password_hash=password_hash),
        }
        session.flush()
        session.add(MonitorAssignment(user_id=users["monitor"].id, hazard_point_id=ha.id))
        for name, u in users.items():
            w.tokens[name], _ = accounts.issue_token(session, u, "test")
        session.flush()
    w.ids.update(
        t1=t1.id,
        t2=t2.id,
        ea=ea.id,
        eb=eb.id,
        ma=ma.id,
        mb=mb.id,
        pa=pa.id,
        pb=pb.id,
        pw=pw.id,
        ha=ha.id,
        hb=hb.id,
        nrb=nrb.id,
        awb=awb.id,
        u1=u1.id,
    )
    w.ids.update({f"user_{k}": u.id for k, u in users.items()})
    session.commit()
    return w


@pytest.fixture
def world(session, password_hash) -> World:
    return build_world(session, password_hash)


@pytest.fixture
def app(engine, tmp_path):
    from subsidence.api import create_app
    from subsidence.settings import get_settings

    return create_app(get_settings(), engine, today=TODAY)


@pytest.fixture
def client(app, world):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def auth(world: World, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")
