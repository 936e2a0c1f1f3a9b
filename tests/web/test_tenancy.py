"""Every role against every resource, and every cross-tenant attempt: enterprise A reading or changing
enterprise B's records is refused (404: B's records do not exist for A) and nothing changes."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from subsidence.core.models import AuditEvent
from subsidence.ledger.models import Problem
from subsidence.vocabulary import ProblemState
from tests.web.conftest import auth

# role -> problems it sees (by world id key)
PROBLEM_SCOPE = {
    "office": {"pa", "pb", "pw"},
    "department": {"pw"},  # AWB leads task 5
    "town": {"pa"},  # T1
    "enterprise_a": {"pa"},
    "enterprise_b": {"pb", "pw"},
}
MINE_SCOPE = {
    "office": {"ma", "mb"},
    "department": {"ma", "mb"},
    "town": {"ma"},
    "enterprise_a": {"ma"},
    "enterprise_b": {"mb"},
}
HAZARD_SCOPE = {
    "office": {"ha", "hb"},
    "department": {"ha", "hb"},
    "town": {"ha"},
    "enterprise_a": {"ha"},
    "enterprise_b": {"hb"},
    "monitor": {"ha"},
}


@pytest.mark.parametrize("role", list(PROBLEM_SCOPE))
def test_problem_list_is_scoped(client, world, role):
    r = client.get("/api/problems", headers=auth(world, role))
    assert r.status_code == 200
    got = {i["id"] for i in r.json()["items"]}
    assert got == {world.ids[k] for k in PROBLEM_SCOPE[role]}
    assert r.json()["total"] == len(got)
    for key in {"pa", "pb", "pw"} - PROBLEM_SCOPE[role]:  # outside the scope: 404, not 403
        assert client.get(f"/api/problems/{world.ids[key]}", headers=auth(world, role)).status_code == 404


@pytest.mark.parametrize("role", ["monitor", "public"])
def test_roles_without_ledger_access(client, world, role):
    r = client.get("/api/problems", headers=auth(world, role))
    assert r.status_code == 403 and "problem" in r.json()["message"]
    assert client.get(f"/api/problems/{world.ids['pa']}", headers=auth(world, role)).status_code == 404
    assert client.get("/api/problems?format=csv", headers=auth(world, role)).status_code == 403


@pytest.mark.parametrize("role", list(MINE_SCOPE))
def test_mines_and_map_layers_are_scoped(client, world, role):
    r = client.get("/api/mines", headers=auth(world, role))
    assert {m["id"] for m in r.json()["items"]} == {world.ids[k] for k in MINE_SCOPE[role]}
    fc = client.get("/api/layers/mining_rights", headers=auth(world, role)).json()
    assert {f["id"] for f in fc["features"]} == {world.ids[k] for k in MINE_SCOPE[role]}
    ogc = client.get("/ogc/collections/mining_rights/items", headers=auth(world, role)).json()
    assert {f["id"] for f in ogc["features"]} == {world.ids[k] for k in MINE_SCOPE[role]}


@pytest.mark.parametrize("role", list(HAZARD_SCOPE))
def test_hazard_points_are_scoped(client, world, role):
    r = client.get("/api/hazard-points", headers=auth(world, role))
    assert {h["id"] for h in r.json()["items"]} == {world.ids[k] for k in HAZARD_SCOPE[role]}
    for key in {"ha", "hb"} - HAZARD_SCOPE[role]:
        assert client.get(f"/api/hazard-points/{world.ids[key]}", headers=auth(world, role)).status_code == 404


def test_public_sees_published_only(client, world):
    h = auth(world, "public")
    for path in (
        "/api/mines",
        "/api/hazard-points",
        "/api/subsidence-areas",
        "/api/dashboard/summary",
        "/api/dashboard/progress",
        "/api/alarms",
        "/api/users",
    ):
        assert client.get(path, headers=h).status_code == 403, path
    assert client.get("/api/layers", headers=h).json()["layers"] == []
    assert client.get("/api/layers/mining_rights", headers=h).json()["features"] == []
    assert client.get("/api/public/inspection-results", headers=h).status_code == 200
    assert client.get("/api/public/lists").status_code == 200  # also without signing in
    assert client.get("/api/problems").status_code == 401


def _count(engine, model, *where):
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _state(engine, pid):
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        return s.get(Problem, pid).state


CROSS = [("enterprise_a", "pb"), ("enterprise_a", "pw"), ("enterprise_b", "pa")]


@pytest.mark.parametrize("who,target", CROSS)
def test_cross_tenant_reads_refused(client, world, who, target):
    h, pid = auth(world, who), world.ids[target]
    other_mine = world.ids["mb" if who == "enterprise_a" else "ma"]
    other_hp = world.ids["hb" if who == "enterprise_a" else "ha"]
    for path in (
        f"/api/problems/{pid}",
        f"/api/problems/{pid}/history",
        f"/problems/{pid}",
        f"/api/mines/{other_mine}",
        f"/api/history/mine/{other_mine}",
        f"/api/history/problem/{pid}",
        f"/api/hazard-points/{other_hp}",
        f"/ogc/collections/mining_rights/items/{other_mine}",
        f"/api/gate?mine={other_mine}",
        f"/api/problems/{pid}/evidence/1",
    ):
        r = client.get(path, headers=h)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert client.get(f"/api/problems?mine_id={other_mine}", headers=h).json()["total"] == 0
    csv = client.get("/api/problems?format=csv", headers=h).text
    assert "乙一矿" not in csv if who == "enterprise_a" else "甲一矿" not in csv


@pytest.mark.parametrize("who,target", CROSS)
def test_cross_tenant_writes_refused_and_nothing_changes(client, engine, world, who, target):
    h, pid = auth(world, who), world.ids[target]
    before_state = _state(engine, pid)
    before_audit = _count(engine, AuditEvent)
    attempts = [
        ("post", f"/api/problems/{pid}/transitions", {"json": {"name": "fix_at_once"}}),
        ("post", f"/api/problems/{pid}/transitions", {"json": {"name": "withdraw", "reason": "x"}}),
        ("post", f"/api/problems/{pid}/notices", {"json": {"workdays": 20}}),
        ("post", f"/api/problems/{pid}/acceptance", {"json": {"passed": True, "inspectors": ["a", "b"]}}),
        (
            "post",
            f"/api/problems/{pid}/evidence",
            {"files": {"file": ("p.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64), "image/png")}},
        ),
    ]
    for method, path, kw in attempts:
        r = getattr(client, method)(path, headers=h, **kw)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert _state(engine, pid) == before_state
    assert _count(engine, AuditEvent) == before_audit


def test_enterprise_may_act_on_own_problem_only_within_rules(client, engine, world):
    h = auth(world, "enterprise_a")
    r = client.post(f"/api/problems/{world.ids['pa']}/transitions", headers=h, json={"name": "withdraw", "reason": "x"})
    assert r.status_code == 403  # readable, but only the office withdraws
    assert _state(engine, world.ids["pa"]) == ProblemState.FOUND
    r = client.post(f"/api/problems/{world.ids['pa']}/notices", headers=h, json={"workdays": 20})
    assert r.status_code == 403
    r = client.post(f"/api/problems/{world.ids['pa']}/transitions", headers=h, json={"name": "fix_at_once"})
    assert r.status_code == 200 and r.json()["state"] == "fixed_at_once"


def test_department_scope_by_task(client, world):
    h = auth(world, "department")
    assert client.get(f"/api/problems/{world.ids['pw']}", headers=h).status_code == 200
    assert client.get("/api/problems?category=1", headers=h).json()["total"] == 0


def test_monitor_observes_only_assigned_points(client, engine, world):
    h = auth(world, "monitor")
    ok = client.post(
        f"/api/hazard-points/{world.ids['ha']}/observations",
        headers=h,
        data={"note": "裂缝加宽", "lon": "109.5", "lat": "39.6"},
    )
    assert ok.status_code == 201, ok.text
    before = _count(engine, AuditEvent)
    r = client.post(f"/api/hazard-points/{world.ids['hb']}/observations", headers=h, data={"note": "x"})
    assert r.status_code == 404
    r = client.post(
        f"/api/hazard-points/{world.ids['ha']}/observations", headers=auth(world, "enterprise_a"), data={"note": "x"}
    )
    assert r.status_code == 403  # enterprises see their hazard points but do not file patrol records
    assert _count(engine, AuditEvent) == before


def test_office_only_administration(client, world):
    for role in ("department", "town", "enterprise_a", "monitor"):
        assert client.get("/api/users", headers=auth(world, role)).status_code == 403
        r = client.post(
            "/api/users",
            headers=auth(world, role),
            json={"username": "x1", "password": "long-enough-pw", "role": "office"},
        )
        assert r.status_code == 403
    assert len(client.get("/api/users", headers=auth(world, "office")).json()["items"]) == 7
