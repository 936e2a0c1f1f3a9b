"""HTTP batch ingest (``POST /api/observations/batch``) through the real application and bearer tokens.

Reuses the web tests' world (users, tokens, hazard points HA/HB with sensors S-HA-1/S-HB-1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

web = pytest.importorskip("tests.web.conftest", reason="the web tests' fixtures are needed")
from tests.web.conftest import _fast_argon2, auth, build_world, password_hash  # noqa: E402,F401


@pytest.fixture
def client(engine, session, password_hash):  # noqa: F811
    from fastapi.testclient import TestClient

    from subsidence.api import create_app
    from subsidence.api.routes import observations
    from subsidence.settings import get_settings

    world = build_world(session, password_hash)
    app = create_app(get_settings(), engine, today=web.TODAY)
    if "/api/observations/batch" not in {getattr(r, "path", None) for r in app.routes}:
        app.include_router(observations.router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, world


def batch(code, n, start=None, value=lambda i: 0.1 * i):
    start = start or datetime.now(UTC) - timedelta(hours=2)
    return [
        {"sensor": code, "time": (start + timedelta(minutes=10 * i)).isoformat(), "value": value(i)} for i in range(n)
    ]


def test_batch_ingest_with_rejections_and_idempotency(client):
    c, world = client
    rows = batch("S-HA-1", 6) + [{"sensor": "NOPE", "time": datetime.now(UTC).isoformat(), "value": 1}]
    r = c.post("/api/observations/batch", json={"source": "logger-7", "rows": rows}, headers=auth(world, "office"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (
        out["accepted"] == 6
        and out["rejected_rows"][0]["row"] == 7
        and "unknown sensor" in out["rejected_rows"][0]["reason"]
    )
    again = c.post("/api/observations/batch", json={"rows": rows}, headers=auth(world, "office")).json()
    assert again["accepted"] == 0 and again["duplicates"] == 6
    strict = c.post("/api/observations/batch", json={"rows": rows, "strict": True}, headers=auth(world, "office"))
    assert strict.status_code == 422 and "nothing stored" in strict.text


def test_batch_ingest_is_scoped_to_the_monitor(client):
    c, world = client
    ok = c.post("/api/observations/batch", json={"rows": batch("S-HA-1", 3)}, headers=auth(world, "monitor"))
    assert ok.status_code == 200, ok.text
    denied = c.post("/api/observations/batch", json={"rows": batch("S-HB-1", 3)}, headers=auth(world, "monitor"))
    assert denied.status_code == 403
    public = c.post("/api/observations/batch", json={"rows": batch("S-HA-1", 3)}, headers=auth(world, "public"))
    assert public.status_code == 403
