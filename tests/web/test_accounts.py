"""Passwords, cookie sessions with CSRF, expiry, bearer tokens, demo accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from subsidence.access import accounts
from subsidence.access.models import ApiToken, User, WebSession
from subsidence.core.models import AuditEvent
from subsidence.db.base import utcnow
from subsidence.demo.accounts import ensure_demo_accounts
from subsidence.errors import ValidationFailed
from subsidence.ledger.models import Problem
from tests.web.conftest import PASSWORD, auth


def test_argon2id_hash_and_verify(password_hash):
    assert password_hash.startswith("$argon2id$")
    prod = accounts.PRODUCTION_HASHER
    # OWASP Password Storage Cheat Sheet minimum for Argon2id (m=19 MiB, t=2, p=1), bounded by HASH_SLOTS
    assert (prod.time_cost, prod.memory_cost, prod.parallelism) == (2, 19456, 1)
    assert accounts.verify_password(password_hash, PASSWORD)
    assert not accounts.verify_password(password_hash, PASSWORD + "x")
    assert not accounts.verify_password(None, PASSWORD)
    with pytest.raises(ValidationFailed, match="too short"):
        accounts.hash_password("short")


def login(client, username="office", password=PASSWORD):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_login_sets_httponly_lax_cookie_and_csrf(client, world):
    r = login(client)
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    sess = next(c for c in cookies if c.startswith("subsidence_session="))
    csrf = next(c for c in cookies if c.startswith("subsidence_csrf="))
    assert "HttpOnly" in sess and "samesite=lax" in sess.lower()
    assert "HttpOnly" not in csrf
    assert r.json()["user"]["role"] == "office" and r.json()["csrf_token"]
    assert client.get("/api/auth/me").json()["user"]["username"] == "office"


def test_wrong_password_and_unknown_user_same_answer(client, world):
    a, b = login(client, password="wrong-password"), login(client, username="nobody")
    assert a.status_code == b.status_code == 401
    assert a.json()["message"] == b.json()["message"]
    assert "subsidence_session" not in client.cookies


def test_csrf_required_for_unsafe_methods_on_cookie_sessions(client, engine, world):
    token = login(client).json()["csrf_token"]
    pid = world.ids["pa"]
    r = client.post(f"/api/problems/{pid}/transitions", json={"name": "fix_at_once"})
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    r = client.post(f"/api/problems/{pid}/transitions", json={"name": "fix_at_once"}, headers={"X-CSRF-Token": "bad"})
    assert r.status_code == 403
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        assert s.get(Problem, pid).state.value == "found"
    r = client.post(f"/api/problems/{pid}/transitions", json={"name": "fix_at_once"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["state"] == "fixed_at_once"


def test_expired_session_is_refused(client, engine, world):
    login(client)
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        s.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    r = client.get("/api/auth/me")
    assert r.status_code == 401 and "过期" in r.json()["message"]
    page = client.get("/map", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_logout_ends_the_session(client, engine, world):
    token = login(client).json()["csrf_token"]
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": token}).status_code == 200
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "user_account")))
    assert {"login", "logout"} <= actions
    assert client.get("/api/auth/me").status_code == 401


def test_bearer_tokens(client, engine, world):
    r = client.post("/api/auth/token", json={"username": "town", "password": PASSWORD, "name": "qgis", "days": 7})
    assert r.status_code == 200
    tok = r.json()["token"]
    assert tok.startswith("sbt_")
    h = {"Authorization": f"Bearer {tok}"}
    assert client.get("/api/auth/me", headers=h).json()["user"]["role"] == "town"
    # bearer requests need no CSRF token
    assert (
        client.post(
            f"/api/problems/{world.ids['pa']}/transitions", headers=auth(world, "office"), json={"name": "fix_at_once"}
        ).status_code
        == 200
    )
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.id == r.json()["id"]))
        assert tok not in (stored.secret_sha256, stored.prefix)  # only a digest is stored
    assert client.delete(f"/api/auth/token/{r.json()['id']}", headers=h).status_code == 200
    assert client.get("/api/auth/me", headers=h).status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer sbt_forged"}).status_code == 401


def test_expired_token_refused(client, engine, world):
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    r = client.get("/api/problems", headers=auth(world, "office"))
    assert r.status_code == 401 and "expired" in r.json()["message"]


def test_disabled_account_refused(client, engine, world):
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        s.execute(update(User).where(User.username == "town").values(active=False))
        s.commit()
    assert login(client, "town").status_code == 401
    assert client.get("/api/problems", headers=auth(world, "town")).status_code == 401


def test_ensure_demo_accounts_idempotent(session, world):
    first = ensure_demo_accounts(session)
    session.commit()
    second = ensure_demo_accounts(session)
    assert [a.username for a in first] == [a.username for a in second]
    roles = {a.role.value for a in first}
    assert roles == {"office", "department", "town", "enterprise", "monitor", "public"}
    office = session.scalar(select(User).where(User.username == "office"))
    assert accounts.verify_password(office.password_hash, PASSWORD)  # the existing account was kept
    ent = [a for a in first if a.role.value == "enterprise"]
    assert len(ent) == 2
    for a in first:
        u = session.scalar(select(User).where(User.username == a.username))
        assert u.password_hash.startswith("$argon2id$")


def test_sign_in_slowed_after_repeated_failures(client, world):
    for _ in range(accounts.FREE_FAILURES):
        assert login(client, "town", "wrong-password").status_code == 401
    r = login(client, "town")  # inside the backoff even the right password waits (not looked at)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert login(client, "office").status_code == 200  # other accounts are unaffected
