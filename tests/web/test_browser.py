"""End to end in a real browser (Debian chromium driven by Playwright) against uvicorn on a loopback port,
on the demo county: the office sees the map layers drawn, opens a problem and issues a notice; an
enterprise uploads evidence; a monitor files a field record with the phone's location. Screenshots go
to the ``artifacts_dir``."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from pathlib import Path

import pytest

from tests.web.serving import serve_demo

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-unsafe-swiftshader",
]
TODAY = date(2024, 11, 15)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (Debian package chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e .[browser])")


def tiny_png() -> bytes:
    """A valid 2×2 PNG built in code."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xc8\x10\x2e" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, _sqlite_template):
    """uvicorn serving the demo county (built once for this module) in a background thread."""
    with serve_demo(tmp_path_factory.mktemp("browser"), _sqlite_template, built=TODAY, served=TODAY) as srv:
        yield srv.base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def new_page(browser, base, **ctx):
    # bypass_csp lets Playwright evaluate its own helper scripts; the app's CSP is tested in test_pages
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True, locale="zh-CN", **ctx)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
    page.outside = outside  # type: ignore[attr-defined]
    return page


def login(page, base, user):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", f"{user}-demo-2024")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_office_map_problem_notice(demo_server, browser, artifacts_dir):
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "office")
    page.goto(f"{base}/map")
    page.wait_for_function("() => window.__mapReady === true", timeout=60_000)
    counts = page.evaluate("() => window.__layerCounts")
    for layer in ("towns", "mining_rights", "panels", "hazard_points", "wells", "buildings"):
        assert counts.get(layer, 0) > 0, (layer, counts)
    drawn = page.evaluate("() => new Set(window.__map.queryRenderedFeatures().map(f => f.source)).size")
    assert drawn >= 4, "layers have data but were not drawn"
    page.screenshot(path=str(artifacts_dir / "web-01-office-map.png"))
    # click a hazard point: its record and history open in the side panel
    hp = page.evaluate("""() => { const f = window.__map.queryRenderedFeatures({layers: ['hazard_points-0']})[0];
        return window.__map.project(f.geometry.coordinates); }""")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + hp["x"], box["y"] + hp["y"])
    page.wait_for_selector("[data-testid=record-title]")
    assert "隐患" in page.inner_text("#record") or "YH" in page.inner_text("#record")
    page.screenshot(path=str(artifacts_dir / "web-02-hazard-record.png"))

    found = page.request.get(f"{base}/api/problems?state=found&limit=1").json()["items"]
    assert found, "the demo county should have a problem in state 'found'"
    pid = found[0]["id"]
    page.goto(f"{base}/problems")
    page.wait_for_selector("[data-testid=problem-list] table")
    page.goto(f"{base}/problems/{pid}")
    assert page.inner_text("[data-testid=state]") == "已发现"
    page.fill("#notice-form input[name=deadline]", "2024-12-20")
    page.click("[data-testid=issue-notice]")
    page.wait_for_function("() => document.querySelector('[data-testid=state]').innerText !== '已发现'")
    assert page.inner_text("[data-testid=state]") == "已下达整改通知"
    assert "整改" in page.inner_text("[data-testid=notices]")
    page.screenshot(path=str(artifacts_dir / "web-03-notice-issued.png"), full_page=True)
    page.goto(f"{base}/dashboard")
    page.wait_for_selector("body[data-ready='1']")
    assert "今天" in page.inner_text("[data-testid=timeline]")
    page.screenshot(path=str(artifacts_dir / "web-04-dashboard.png"), full_page=True)
    assert page.outside == [], f"requests left the server: {page.outside[:5]}"


def test_enterprise_uploads_evidence(demo_server, browser, artifacts_dir, tmp_path):
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "enterprise-a")
    page.goto(f"{base}/portal")
    page.screenshot(path=str(artifacts_dir / "web-05-enterprise-portal.png"), full_page=True)
    items = page.request.get(f"{base}/api/problems?limit=200").json()["items"]
    assert items, "enterprise A owns problems in the demo county"
    open_ = [p for p in items if p["state"] not in ("accepted", "withdrawn")]
    pid = open_[0]["id"]
    page.goto(f"{base}/problems/{pid}")
    photo = tmp_path / "整改现场.png"
    photo.write_bytes(tiny_png())
    page.set_input_files("#evidence-form input[name=file]", str(photo))
    page.fill("#evidence-form input[name=note]", "裂缝已充填 / cracks filled")
    page.click("[data-testid=upload]")
    page.wait_for_function("() => document.querySelector('[data-testid=evidence]').innerText.includes('整改现场.png')")
    page.screenshot(path=str(artifacts_dir / "web-06-evidence-uploaded.png"), full_page=True)
    # the other enterprise's problems are not reachable
    others = page.request.get(f"{base}/api/problems?limit=1000").json()["total"]
    assert others == len(items)


def test_monitor_field_form_mobile(demo_server, browser, artifacts_dir):
    base = demo_server
    page = new_page(browser, base, geolocation={"longitude": 110.05, "latitude": 39.45}, permissions=["geolocation"])
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, base, "monitor")
    page.goto(f"{base}/field")
    page.fill("textarea[name=note]", "坡脚新增裂缝约 2 cm")
    page.fill("input[name=crack_width_mm]", "20")
    page.click("#locate")
    page.wait_for_function("() => document.querySelector('[data-testid=position]').innerText.includes('110.05')")
    page.click("button[type=submit]")
    page.wait_for_selector(".ok:not([hidden])")
    page.screenshot(path=str(artifacts_dir / "web-07-field-form-mobile.png"), full_page=True)
