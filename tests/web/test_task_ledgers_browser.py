"""The task ledgers, the publication sign-off and the basemap end to end in Debian chromium (Playwright) on the
demo county. Screenshots: ``test-artifacts/tasks-*.png`` (looked at by hand; the
closing note lists them). Every request the pages make is intercepted: anything not to 127.0.0.1 fails the test."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from tests.web.serving import serve_demo
from tests.web.test_browser import CHROMIUM, browser, login, new_page, tiny_png  # noqa: F401 (fixtures)
from tests.web.test_browser_roles import no_codes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed"),
]
BUILT, SERVED = date(2024, 11, 15), date(2024, 12, 2)
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory, _sqlite_template):
    with serve_demo(tmp_path_factory.mktemp("tasks-browser"), _sqlite_template, built=BUILT, served=SERVED) as srv:
        yield {"base": srv.base, "data_dir": srv.data_dir, "root": srv.root}


def guarded(browser, base, **ctx):  # noqa: F811
    """A page whose every request is intercepted: loopback goes through, anything else is aborted and recorded."""
    if ctx:  # a phone: its own viewport (new_page fixes a desktop one)
        page = browser.new_context(bypass_csp=True, locale="zh-CN", **ctx).new_page()
        page.outside = []  # type: ignore[attr-defined]
    else:
        page = new_page(browser, base)
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.context.route("**/*", route)
    page.blocked = blocked  # type: ignore[attr-defined]
    return page


def ready(page) -> None:
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_enterprise_reports_fund_use(server, browser, artifacts_dir):  # noqa: F811
    base = server["base"]
    page = guarded(browser, base)
    login(page, base, "enterprise-a")
    page.goto(f"{base}/tasks")
    ready(page)
    secs = page.get_attribute("[data-testid=tasks-page]", "data-sections").split(",")
    assert "fund" in secs and "publication" not in secs and "draws" not in secs
    form = page.locator("form[data-form=fund-entry]").first
    form.locator("select[name=kind]").select_option("deposit")
    form.locator("input[name=amount_yuan]").fill("123456.78")
    form.locator("input[name=reference]").fill("银行回单 2024-12")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=tasks-ok]:not([hidden])")
    assert "123,456.78" in page.inner_text("#sec-fund")
    assert "待核实" in page.inner_text("#sec-fund")
    # only its own mines' accounts
    own = {a["mine"] for a in page.request.get(f"{base}/api/fund/accounts").json()["accounts"]}
    mines = {m["licence_no"] for m in page.request.get(f"{base}/api/mines").json()["items"]}
    assert own and own <= mines
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "tasks-01-enterprise-fund.png"), full_page=True)
    assert page.blocked == [] and page.outside == []


def test_emb_reviews_a_hidden_factor_plan(server, browser, artifacts_dir):  # noqa: F811
    base = server["base"]
    page = guarded(browser, base)
    login(page, base, "department")  # the demo's department account is the Emergency Management Bureau
    page.goto(f"{base}/tasks")
    ready(page)
    factors = page.request.get(f"{base}/api/hidden-factors").json()["factors"]
    todo = [f for f in factors if f["can"]["review"]]
    assert todo, "the demo has submitted plans for the EMB"
    assert page.locator("form[data-form=fund-entry]").count() == 0  # the EMB does not enter fund entries
    f = todo[0]
    form = page.locator(f"form[data-form=plan-review][data-id='{f['plan']['id']}']")
    form.locator("input[name=result]").fill("措施可行，同意实施")
    form.locator("button[value='1']").click()
    page.wait_for_selector("[data-testid=tasks-ok]:not([hidden])")
    assert "已批准" in page.inner_text(f"[data-testid=plan-state-{f['id']}]") or "通过" in page.inner_text(
        f"[data-testid=plan-state-{f['id']}]"
    )
    page.locator(f"[data-factor='{f['id']}']").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "tasks-02-emb-plan-review.png"))
    assert page.blocked == []


def test_town_records_demolition_with_a_photo(server, browser, artifacts_dir, tmp_path):  # noqa: F811
    base = server["base"]
    page = guarded(browser, base)
    login(page, base, "town")
    page.goto(f"{base}/tasks")
    ready(page)
    rows = page.request.get(f"{base}/api/buildings").json()["buildings"]
    todo = [b for b in rows if b["can"]["record_demolition"]]
    assert todo, "the demo town has buildings to demolish"
    b = todo[0]
    photo = tmp_path / "after.png"
    photo.write_bytes(tiny_png())
    form = page.locator(f"form[data-form=demolition][data-id='{b['id']}']")
    form.locator("select[name=status]").select_option("demolished")
    form.locator("input[name=photos]").set_input_files(str(photo))
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=tasks-ok]:not([hidden])")
    assert page.inner_text(f"[data-testid=bld-state-{b['id']}]") == "已拆除"
    assert page.locator(f"[data-building='{b['id']}'] img").count() == 1
    page.wait_for_function(f"() => document.querySelector(\"[data-building='{b['id']}'] img\").naturalWidth > 0")
    page.screenshot(path=str(artifacts_dir / "tasks-03-town-demolition.png"), full_page=True)
    assert page.blocked == []


def test_office_reruns_assessment_public_waits_for_sign_off(server, browser, artifacts_dir):  # noqa: F811
    base = server["base"]
    page = guarded(browser, base)
    login(page, base, "office")
    before = page.request.get(f"{base}/api/public/lists").json()
    assert before["publication"]["version"] == 1  # the demo's sign-off
    page.goto(f"{base}/tasks")
    ready(page)
    page.locator("form[data-form=assess] button").click()
    page.wait_for_selector("[data-testid=tasks-ok]:not([hidden])")
    after = page.request.get(f"{base}/api/public/lists").json()
    assert after == before  # re-running changes nothing public
    st = page.request.get(f"{base}/api/publications/assessment_lists?year={SERVED.year - 1}").json()
    page.locator("[data-testid=sec-publication]").screenshot(
        path=str(artifacts_dir / "tasks-04-office-assessment-draft.png")
    )
    if not st["up_to_date"]:
        page.locator("form[data-form=sign-off][data-kind=assessment_lists] input[name=note]").fill("领导小组审定")
        with page.expect_response(lambda r: "/sign-off" in r.url) as resp:
            page.locator("form[data-form=sign-off][data-kind=assessment_lists] button").click()
        assert resp.value.status == 201, resp.value.text()
        page.wait_for_function("() => document.querySelector('[data-testid=tasks-ok]').textContent.includes('已签发')")
        now = page.request.get(f"{base}/api/public/lists").json()
        assert now["publication"]["version"] == 2 and now["publication"]["sha256"] == st["draft_sha256"]
        assert now["publication"]["signed_by"] == "office:office"
    assert "公众现在看到第" in page.inner_text("[data-testid=pub-status-assessment_lists]")
    no_codes(page)
    page.locator("[data-testid=sec-publication]").screenshot(path=str(artifacts_dir / "tasks-05-office-signed-off.png"))
    pub = guarded(browser, base)
    pub.goto(f"{base}/public")
    ready(pub)
    pub.screenshot(path=str(artifacts_dir / "tasks-06-public-after-sign-off.png"), full_page=True)
    assert page.blocked == [] and pub.blocked == []


def test_monitor_records_a_card_receipt_on_the_phone(server, browser, artifacts_dir):  # noqa: F811
    base = server["base"]
    town = guarded(browser, base)
    login(town, base, "town")
    over = town.request.get(f"{base}/api/cards").json()
    # the town issues a card where one is missing (so the monitor has a copy to sign for)
    hh = next((h for p in over["hazard_points"] for h in p["households"] if h["card"] is None), None)
    if hh is not None:
        assert (
            town.request.post(
                f"{base}/api/households/{hh['id']}/card",
                data="{}",
                headers={
                    "Content-Type": "application/json",
                    "X-CSRF-Token": town.context.cookies()
                    and next(c["value"] for c in town.context.cookies() if c["name"] == "subsidence_csrf"),
                },
            ).status
            == 201
        )
    page = guarded(browser, base, **PHONE)
    login(page, base, "monitor")
    page.goto(f"{base}/cards")
    ready(page)
    forms = page.locator("form.receipt")
    if forms.count():
        forms.first.locator("input[name=signed_by]").fill("户主")
        forms.first.locator("button").click()
        page.wait_for_selector("[data-testid=cards-ok]:not([hidden])")
        assert "签收已记录" in page.inner_text("[data-testid=cards-ok]")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "tasks-07-monitor-cards-phone.png"))
    assert page.blocked == [] and town.blocked == []


def _demo_geotiff(path) -> None:
    """An RGB 'topographic map' in EPSG:4326 over the demo county: bands of colour every 0.1° of longitude."""
    import rasterio
    from rasterio.transform import from_origin

    w, h = 600, 500
    x = np.arange(w)[None, :].repeat(h, 0)
    y = np.arange(h)[:, None].repeat(w, 1)
    data = np.stack([(x * 2) % 256, (y * 3) % 256, 160 + ((x // 60 + y // 50) % 2) * 60]).astype(np.uint8)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=3,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(109.2, 39.95, 0.002, 0.002),
    ) as dst:
        dst.write(data)


def test_map_with_no_basemap_then_the_office_geotiff(server, browser, artifacts_dir):  # noqa: F811
    from subsidence.mapping import basemap

    base = server["base"]
    basemap.clear(server["data_dir"])
    page = guarded(browser, base)
    login(page, base, "office")
    tiles: list[str] = []
    page.on("request", lambda r: tiles.append(r.url) if "/api/basemap/tiles/" in r.url else None)
    page.goto(f"{base}/map")
    page.wait_for_function("() => window.__layerCounts && Object.keys(window.__layerCounts).length > 3", timeout=60_000)
    assert page.evaluate("() => window.__basemap") is None and tiles == []
    page.screenshot(path=str(artifacts_dir / "tasks-08-map-no-basemap.png"))
    src = server["root"] / "topo.tif"
    _demo_geotiff(src)
    basemap.import_file(src, server["data_dir"], name="示例地形图")
    page.goto(f"{base}/map")
    page.wait_for_function(
        "() => window.__basemap && window.__layerCounts && Object.keys(window.__layerCounts).length > 3", timeout=60_000
    )
    page.wait_for_function("() => window.__map.areTilesLoaded()", timeout=60_000)
    assert tiles and all(t.startswith("http://127.0.0.1") for t in tiles)
    ok = [u for u in tiles if page.request.get(u).status == 200]
    assert ok
    page.screenshot(path=str(artifacts_dir / "tasks-09-map-office-basemap.png"))
    assert page.blocked == [], f"requests outside 127.0.0.1: {page.blocked[:5]}"
