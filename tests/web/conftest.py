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

from subsidence.db.audit import acting_as
from subsidence.core.models import AdminArea, Enterprise, Mine, Panel, TaskAssignment, Unit
from subsidence.monitoring.models import HazardPoint, Sensor
from subsidence.access.models import MonitorAssignment, User
from subsidence.census.models import SubsidenceArea
from subsidence.vocabulary import AreaLevel, HazardType, MovementStage, ProblemCategory, ProblemSource, ReviewState, Role, SensorKind, SubsidenceSource, TaskRole, UnitKind
from subsidence.access import accounts
from subsidence.ledger.problems import open_problem

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
    with acting_as(session, "test:setup"):
        t1 = AdminArea(code="T1", name_zh="一号镇", name_en="Town One", level=AreaLevel.TOWN,
                       geometry=MultiPolygon([box(X0, Y0, X0 + 20_000, Y0 + 20_000)]))
        t2 = AdminArea(code="T2", name_zh="二号镇", name_en="Town Two", level=AreaLevel.TOWN,
                       geometry=MultiPolygon([box(X0 + 20_000, Y0, X0 + 40_000, Y0 + 20_000)]))
        ea = Enterprise(credit_code="91A", name_zh="甲煤业", name_en="Coal A")
        eb = Enterprise(credit_code="91B", name_zh="乙煤业", name_en="Coal B")
        session.add_all([t1, t2, ea, eb])
        session.flush()
        lgo = Unit(code="LGO", name_zh="领导小组办公室", kind=UnitKind.OFFICE)
        nrb = Unit(code="NRB", name_zh="自然资源局", kind=UnitKind.BUREAU)
        awb = Unit(code="AWB", name_zh="农牧和水利局", kind=UnitKind.BUREAU)
        u1 = Unit(code="TOWN-T1", name_zh="一号镇人民政府", kind=UnitKind.TOWN, town_id=t1.id)
        u2 = Unit(code="TOWN-T2", name_zh="二号镇人民政府", kind=UnitKind.TOWN, town_id=t2.id)
        ua = Unit(code="ENT-A", name_zh="甲煤业", kind=UnitKind.ENTERPRISE, enterprise_id=ea.id)
        ub = Unit(code="ENT-B", name_zh="乙煤业", kind=UnitKind.ENTERPRISE, enterprise_id=eb.id)
        session.add_all([lgo, nrb, awb, u1, u2, ua, ub])
        session.flush()
        session.add(TaskAssignment(unit_id=awb.id, task_no=5, role=TaskRole.LEAD))
        ma = Mine(licence_no="C-A-001", name_zh="甲一矿", name_en="Mine A", enterprise_id=ea.id, town_id=t1.id,
                  geometry=MultiPolygon([box(X0 + 2_000, Y0 + 2_000, X0 + 8_000, Y0 + 8_000)]))
        mb = Mine(licence_no="C-B-001", name_zh="乙一矿", name_en="Mine B", enterprise_id=eb.id, town_id=t2.id,
                  geometry=MultiPolygon([box(X0 + 22_000, Y0 + 2_000, X0 + 28_000, Y0 + 8_000)]))
        session.add_all([ma, mb])
        session.flush()
        session.add_all([
            Panel(code="C-A-001-P1", mine_id=ma.id, thickness_m=4, depth_dip_m=200, depth_rise_m=180,
                  geometry=box(X0 + 3_000, Y0 + 3_000, X0 + 3_300, Y0 + 6_000)),
            Panel(code="C-B-001-P1", mine_id=mb.id, thickness_m=4, depth_dip_m=200, depth_rise_m=180,
                  geometry=box(X0 + 23_000, Y0 + 3_000, X0 + 23_300, Y0 + 6_000)),
            SubsidenceArea(code="SA-A", source=SubsidenceSource.REMOTE_SENSING, review_state=ReviewState.CONFIRMED,
                           stability=MovementStage.ACTIVE, area_ha=80, max_subsidence_mm=1500, mine_id=ma.id,
                           town_id=t1.id, geometry=MultiPolygon([box(X0 + 2_800, Y0 + 2_800, X0 + 3_600, Y0 + 6_200)])),
            SubsidenceArea(code="SA-B", source=SubsidenceSource.REMOTE_SENSING, review_state=ReviewState.CANDIDATE,
                           stability=MovementStage.STABLE, area_ha=60, mine_id=mb.id, town_id=t2.id,
                           geometry=MultiPolygon([box(X0 + 22_800, Y0 + 2_800, X0 + 23_600, Y0 + 6_200)])),
        ])
        ha = HazardPoint(code="HA", name="甲滑坡", hazard_type=HazardType.LANDSLIDE, town_id=t1.id, mine_id=ma.id,
                         threatened_people=12, geometry=Point(X0 + 5_000, Y0 + 10_000))
        hb = HazardPoint(code="HB", name="乙崩塌", hazard_type=HazardType.COLLAPSE, town_id=t2.id, mine_id=mb.id,
                         threatened_people=5, geometry=Point(X0 + 25_000, Y0 + 10_000))
        session.add_all([ha, hb])
        session.flush()
        session.add_all([Sensor(code="S-HA-1", kind=SensorKind.GNSS, unit="mm", hazard_point_id=ha.id,
                                geometry=Point(X0 + 5_010, Y0 + 10_010)),
                         Sensor(code="S-HB-1", kind=SensorKind.CRACK_METER, unit="mm", hazard_point_id=hb.id)])
        found = TODAY - timedelta(days=45)
        pa, _ = open_problem(session, category=ProblemCategory.SUBSIDENCE_CRACKS, title="甲一矿地裂缝未充填",
                             source=ProblemSource.REMOTE_SENSING, found_date=found, mine=ma,
                             deadline=TODAY - timedelta(days=5))
        pb, _ = open_problem(session, category=ProblemCategory.SUBSIDENCE_CRACKS, title="乙一矿塌陷坑未治理",
                             source=ProblemSource.DOUBLE_RANDOM, found_date=found, mine=mb,
                             deadline=TODAY + timedelta(days=3))
        pw, _ = open_problem(session, category=ProblemCategory.GROUNDWATER, title="乙一矿保水开采方案缺失",
                             source=ProblemSource.FIELD_SURVEY, found_date=found, mine=mb,
                             deadline=TODAY + timedelta(days=60))
        users = {
            "office": User(username="office", role=Role.OFFICE, unit_id=lgo.id),
            "department": User(username="department", role=Role.DEPARTMENT, unit_id=awb.id),
            "town": User(username="town", role=Role.TOWN, unit_id=u1.id),
            "enterprise_a": User(username="enterprise_a", role=Role.ENTERPRISE, unit_id=ua.id, enterprise_id=ea.id),
            "enterprise_b": User(username="enterprise_b", role=Role.ENTERPRISE, unit_id=ub.id, enterprise_id=eb.id),
            "monitor": User(username="monitor", role=Role.MONITOR, unit_id=u1.id),
            "public": User(username="public", role=Role.PUBLIC),
        }
        for u in users.values():
            u.password_hash = password_hash
            u.active = True
            session.add(u)
        session.flush()
        session.add(MonitorAssignment(user_id=users["monitor"].id, hazard_point_id=ha.id))
        for name, u in users.items():
            w.tokens[name], _ = accounts.issue_token(session, u, "test")
        session.flush()
    w.ids.update(t1=t1.id, t2=t2.id, ea=ea.id, eb=eb.id, ma=ma.id, mb=mb.id, pa=pa.id, pb=pb.id, pw=pw.id,
                 ha=ha.id, hb=hb.id, nrb=nrb.id, awb=awb.id, u1=u1.id)
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
