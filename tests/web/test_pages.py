"""Server-rendered pages: per role, zh-CN first with an English switch, nothing loaded from outside."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD

STATIC = Path(__file__).resolve().parents[2] / "src" / "subsidence" / "web" / "static"
PAGES = {
    "office": ["/map", "/dashboard", "/problems", "/gate", "/public"],
    "enterprise_a": ["/map", "/portal", "/problems", "/gate"],
    "monitor": ["/map", "/field"],
    "public": ["/public"],
}


def login(client, user):
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200
    return r.json()["csrf_token"]


@pytest.mark.parametrize("user", list(PAGES))
def test_pages_render_for_role(client, world, user):
    login(client, user)
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303
    for path in PAGES[user]:
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        html = r.text
        assert '<html lang="zh-CN">' in html
        assert not re.search(r"""(src|href)=["']https?://""", html), path  # no CDN, nothing external
        assert "content-security-policy" in r.headers
        assert "default-src 'self'" in r.headers["content-security-policy"]


def test_navigation_follows_policy(client, world):
    login(client, "enterprise_a")
    html = client.get("/problems").text
    assert 'href="/portal"' in html and 'href="/dashboard"' not in html and 'href="/field"' not in html
    login(client, "monitor")
    html = client.get("/field").text
    assert 'href="/field"' in html and 'href="/problems"' not in html
    assert "HA" in html and "HB" not in html  # only the assigned hazard point in the form


def test_english_switch_and_cookie(client, world):
    login(client, "office")
    r = client.get("/dashboard?lang=en")
    assert '<html lang="en">' in r.text and "Overdue" in r.text
    assert "lang=en" in r.headers.get("set-cookie", "")
    assert '<html lang="en">' in client.get("/map").text  # remembered by cookie
    assert "逾期问题" in client.get("/dashboard?lang=zh-CN").text


def test_problem_page_shows_record_history_and_forms(client, world):
    login(client, "office")
    html = client.get(f"/problems/{world.ids['pa']}").text
    assert "甲一矿地裂缝未充填" in html and 'data-testid="history"' in html
    assert 'id="notice-form"' in html and 'id="evidence-form"' in html
    login(client, "enterprise_b")
    r = client.get(f"/problems/{world.ids['pa']}")
    assert r.status_code == 404


def test_login_page_and_redirects(client, world):
    r = client.get("/map", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/map"
    r = client.get("/login?next=//evil.example")
    assert 'data-next="/"' in r.text


def test_vendored_maplibre_served_with_licence():
    js = STATIC / "vendor" / "maplibre" / "maplibre-gl.js"
    assert js.stat().st_size > 500_000
    assert (
        "BSD" in (STATIC / "vendor" / "maplibre" / "LICENSE.txt").read_text()
        or "Redistribution" in (STATIC / "vendor" / "maplibre" / "LICENSE.txt").read_text()
    )
    for f in (STATIC / "js").glob("*.js"):
        assert not re.search(r"https?://(?!www\.w3\.org)", f.read_text()), f.name


def test_static_files(client):
    assert client.get("/static/vendor/maplibre/maplibre-gl.js").status_code == 200
    assert (
        client.get("/static/js/map.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )


def test_portal_shows_only_own_notices(client, world):
    login(client, "office")
    token = client.post("/api/auth/login", json={"username": "office", "password": PASSWORD}).json()["csrf_token"]
    for key in ("pa", "pb"):
        r = client.post(
            f"/api/problems/{world.ids[key]}/notices", headers={"X-CSRF-Token": token}, json={"deadline": "2024-12-20"}
        )
        assert r.status_code == 201, r.text
    codes = {k: client.get(f"/api/problems/{world.ids[k]}").json()["notices"][0]["code"] for k in ("pa", "pb")}
    login(client, "enterprise_a")
    html = client.get("/portal").text
    assert codes["pa"] in html and codes["pb"] not in html


def test_api_docs_served_locally(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "/api/problems" in r.text and "openapi.json" in r.text
    assert not re.search(r"""(src|href)=["']https?://""", r.text)  # no Swagger UI from a CDN
    assert client.get("/redoc").status_code == 404
