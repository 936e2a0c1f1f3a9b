"""Each role's page does its job, end to end in Debian chromium (Playwright) on the demo county.

Screenshots go to ``test-artifacts/web-roles-*.png``; they are looked at by hand (the closing note lists them).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.web.serving import serve_demo
from tests.web.test_browser import CHROMIUM, browser, login, new_page, tiny_png  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed"),
]

#: the demo county is built on 2024-11-15 and served some weeks later, when several deadlines have passed
BUILT, SERVED = date(2024, 11, 15), date(2025, 1, 20)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, _sqlite_template):
    """uvicorn serving the demo county (built once for this module) in a background thread, dated SERVED."""
    with serve_demo(tmp_path_factory.mktemp("browser-roles"), _sqlite_template, built=BUILT, served=SERVED) as srv:
        yield srv.base


#: an English code such as "notice_issued" or "field_observation" on a Chinese page
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def no_codes(page, selector="main") -> None:
    text = page.inner_text(selector)
    found = sorted(set(CODE.findall(text)))
    assert not found, f"English codes on a Chinese page: {found[:10]}"


def not_wider_than_screen(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"page {page.url} is {width[0]} px wide on a {width[1]} px screen"


def test_office_battle_map_has_a_problems_layer(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "office")
    page.goto(f"{base}/map")
    page.wait_for_function("() => window.__mapReady === true", timeout=60_000)
    counts = page.evaluate("() => window.__layerCounts")
    assert counts.get("problems", 0) > 20, counts
    drawn = page.evaluate("""() => window.__map.queryRenderedFeatures({layers: ['problems-0']})
        .map(f => [f.properties.state, f.properties.overdue])""")
    states = {s for s, _ in drawn}
    assert len(states) >= 3, states  # coloured by state
    colours = page.evaluate("""() => new Set(window.__map.queryRenderedFeatures({layers: ['problems-0']})
        .map(f => JSON.stringify(f.layer.paint['circle-color']))).size""")
    assert colours >= 1
    # the legend names the states and the overdue ring in words
    legend = page.inner_text("#legend")
    assert "问题：整改中" in legend and "逾期" in legend
    # click a problem: its record opens with a link to its page
    pt = page.evaluate("""() => { const f = window.__map.queryRenderedFeatures({layers: ['problems-0']})[0];
        return window.__map.project(f.geometry.coordinates); }""")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + pt["x"], box["y"] + pt["y"])
    page.wait_for_selector("[data-testid=record-link]")
    page.screenshot(path=str(artifacts_dir / "web-roles-01-office-map-problems.png"))
    assert page.outside == []


def test_office_dashboard_leads_with_departments_and_towns(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "office")
    page.goto(f"{base}/dashboard")
    page.wait_for_selector("body[data-ready='1']")
    order = page.evaluate("""() => [...document.querySelectorAll('main .grid > *')].map(e => e.dataset.testid ||
        (e.querySelector('[data-testid]') || {}).dataset?.testid)""")
    assert order.index("dept-town") < order.index("warnings-box") and order.index("dept-town") <= 1, order
    assert page.locator("[data-testid=by-department] table tbody tr").count() >= 3
    assert page.locator("[data-testid=by-town] table tbody tr").count() >= 3
    assert not page.evaluate("() => document.getElementById('warnings-box').open")  # the feed starts folded
    page.click("#warnings-box summary")
    assert page.evaluate("() => document.getElementById('warnings-box').open")
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-02-office-dashboard.png"), full_page=True)
    # the timeline stays readable on a narrow screen: the phases as a list, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("ol.phases").is_visible()
    assert "排查整治" in page.inner_text("ol.phases") and "今天" in page.inner_text("ol.phases")
    not_wider_than_screen(page)
    page.locator("[data-testid=timeline]").screenshot(path=str(artifacts_dir / "web-roles-03-timeline-390px.png"))


def test_office_ledger_filters(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "office")
    page.goto(f"{base}/problems")
    page.wait_for_selector("[data-testid=problem-list] table")
    total = int(page.inner_text("[data-testid=pageinfo]").split("/")[-1])
    n_not = page.request.get(f"{base}/api/problems?overdue=false&limit=1").json()["total"]
    assert n_not < total  # the demo county has overdue problems on its date
    page.select_option("[data-testid=filter-overdue]", "true")
    page.click("[data-testid=apply-filter]")
    page.wait_for_function(f"() => !document.querySelector('[data-testid=pageinfo]').innerText.endsWith('/ {total} ')")
    assert int(page.inner_text("[data-testid=pageinfo]").split("/")[-1]) == total - n_not
    overdue = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=problem-list] tbody tr')].map(r => r.innerText)"
    )
    assert overdue and all("逾期" in r for r in overdue)
    for sel in ("filter-state", "filter-town", "filter-unit", "filter-category"):
        assert page.locator(f"[data-testid={sel}] option").count() >= 2, sel
    page.select_option("[data-testid=filter-overdue]", "")
    page.select_option("[data-testid=filter-state]", "rectifying")
    page.select_option("[data-testid=filter-category]", "1")
    page.click("[data-testid=apply-filter]")
    page.wait_for_timeout(500)
    rows = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=problem-list] tbody tr')].map(r => r.innerText)"
    )
    assert rows and all("整改中" in r for r in rows)
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-04-ledger-filters.png"), full_page=True)


def test_problem_page_reads_in_words(demo_server, browser, artifacts_dir, tmp_path):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "office")
    items = page.request.get(f"{base}/api/problems?state=notice_issued&limit=5").json()["items"]
    pid = items[0]["id"]
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(tiny_png())
    r = page.request.post(
        f"{base}/api/problems/{pid}/evidence",
        multipart={
            "file": {"name": photo.name, "mimeType": "image/png", "buffer": photo.read_bytes()},
            "note": "整改前",
        },
        headers={"X-CSRF-Token": page.evaluate("() => document.cookie.match(/subsidence_csrf=([^;]+)/)[1]")},
    )
    assert r.status == 201, r.text()
    page.goto(f"{base}/problems/{pid}")
    for testid in ("description", "requirement", "milestones", "guidance", "history"):
        assert page.locator(f"[data-testid={testid}]").count() == 1, testid
    assert page.locator("[data-testid=evidence] img").count() >= 1  # thumbnails
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=evidence] img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    history = page.inner_text("[data-testid=history]")
    assert "下达限期整改通知书" in history or "登记问题" in history
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-05-problem-page.png"), full_page=True)


def test_enterprise_work_by_urgency_and_extension(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "enterprise-a")
    page.goto(f"{base}/portal")
    tasks = page.locator("[data-testid=task]")
    assert tasks.count() > 3
    classes = page.evaluate("() => [...document.querySelectorAll('[data-testid=task]')].map(e => e.className)")
    od = [("overdue" in c) for c in classes]
    assert od == sorted(od, reverse=True), "overdue work first"
    assert "需要的佐证材料" in page.inner_text("[data-testid=portal-problems]")
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-06-enterprise-work.png"), full_page=True)
    # the deadline-extension request on a problem whose notified deadline is still ahead
    items = page.request.get(f"{base}/api/problems?limit=200").json()["items"]
    target = next(
        p
        for p in items
        if p["state"] in ("notice_issued", "rectifying") and p["days_left"] is not None and p["days_left"] > 2
    )
    page.goto(f"{base}/problems/{target['id']}")
    if page.locator("[data-testid=extension-form]").count():
        new = (date.fromisoformat(target["deadline"]) + timedelta(days=14)).isoformat()
        page.fill("#extension-form input[name=requested_deadline]", new)
        page.fill("#extension-form textarea[name=reason]", "雨季施工受阻，需延期两周")
        page.click("[data-testid=request-extension]")
        page.wait_for_selector("[data-testid=extensions] .badge")
        assert "待审批" in page.inner_text("[data-testid=extensions]")
    else:  # the service refused it for this problem (e.g. never notified): the page must not offer it
        assert page.locator("[data-testid=request-extension]").count() == 0
    # an enterprise sees no button that always fails: no dashboard, no acknowledgement buttons anywhere
    assert page.locator("header nav a[href='/dashboard']").count() == 0
    page.screenshot(path=str(artifacts_dir / "web-roles-07-enterprise-extension.png"), full_page=True)


def test_monitor_phone_reports_raise_warnings(demo_server, browser, artifacts_dir, tmp_path):  # noqa: F811
    base = demo_server
    page = new_page(browser, base, geolocation={"longitude": 110.05, "latitude": 39.45}, permissions=["geolocation"])
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, base, "monitor")
    assert page.locator("header nav a[href='/map']").count() == 1  # the map is in the navigation
    page.goto(f"{base}/field")
    page.fill("textarea[name=note]", "坡脚新增裂缝，宽约 3.5 厘米，墙体开裂")
    page.fill("input[name=crack_width_mm]", "35")
    page.check("input[name=signs][value=new_cracks]")
    page.check("input[name=signs][value=tilting]")
    photo = tmp_path / "裂缝.png"
    photo.write_bytes(tiny_png())
    page.set_input_files("input[name=photo]", str(photo))
    page.click("#locate")
    page.wait_for_function("() => document.querySelector('[data-testid=position]').innerText.includes('110.05')")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=saved]:not([hidden])")
    assert "橙色预警" in page.inner_text("[data-testid=saved]")  # 35 mm raised a warning through the engine
    assert page.input_value("textarea[name=note]") == "" and page.input_value("input[name=crack_width_mm]") == ""
    assert not page.is_checked("input[name=signs][value=new_cracks]")
    first = page.locator("#reports li").first
    assert "坡脚新增裂缝" in first.inner_text() and first.locator("img").count() == 1
    not_wider_than_screen(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-08-monitor-report-390px.png"), full_page=True)
    page.reload()  # past reports with their photos come from the server
    assert page.locator("#reports li img").count() >= 1
    page.wait_for_function(
        "() => [...document.querySelectorAll('#reports img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    no_codes(page)
    page.goto(f"{base}/map")
    page.wait_for_function("() => window.__mapReady === true", timeout=60_000)
    assert page.evaluate("() => window.__layerCounts.hazard_points") >= 1
    not_wider_than_screen(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-09-monitor-map-390px.png"))


def test_office_sees_the_field_report_in_the_hazard_point_history(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "office")
    feed = page.request.get(f"{base}/api/alarms?limit=100").json()["items"]
    field = [a for a in feed if (a.get("sensor") or "").endswith(("-QCQF-W", "-QCQF-S"))]
    if not field:
        pytest.skip("run after the monitor's report (same module server)")
    hp = page.request.get(f"{base}/api/hazard-points/{field[0]['hazard_point_id']}").json()
    events = [h for h in hp["history"] if h["action"] == "field_observation"]
    assert events and events[-1]["after"]["alarms"] and events[-1]["after"]["photo"]
    page.goto(f"{base}/dashboard")
    page.wait_for_selector("body[data-ready='1']")
    page.click("#warnings-box summary")
    assert "QCQF" in page.inner_text("[data-testid=warnings]") or field[0]["hazard_point"] in page.inner_text(
        "[data-testid=warnings]"
    )
    page.screenshot(path=str(artifacts_dir / "web-roles-10-office-warnings-open.png"), full_page=True)


def test_public_results_on_the_map(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    page.goto(f"{base}/public")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    n = page.evaluate("() => window.__publicCount")
    lists = page.request.get(f"{base}/api/public/lists").json()
    results = page.request.get(f"{base}/api/public/inspection-results").json()["items"]
    if lists.get("praise") or lists.get("exposure") or results:
        assert n >= 1
        labels = page.inner_text("#public-map")
        if lists.get("year"):
            assert str(lists["year"]) in page.inner_text("main")
            assert str(lists["year"]) in labels  # year and score on the map itself
    no_codes(page)
    not_wider_than_screen(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-11-public-map.png"), full_page=True)
    assert page.outside == []


def test_error_pages_are_html_in_chinese(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "town")
    resp = page.goto(f"{base}/problems/99999999")
    assert resp.status == 404
    assert page.locator("[data-testid=error-page]").count() == 1
    msg = page.inner_text("[data-testid=error-message]")
    assert "不存在" in msg and "not found" not in msg
    page.screenshot(path=str(artifacts_dir / "web-roles-12-error-page.png"))


def test_gate_lookup_names_every_finding(demo_server, browser, artifacts_dir):  # noqa: F811
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "office")
    page.goto(f"{base}/gate")
    mine = page.request.get(f"{base}/api/mines").json()["items"][0]["licence_no"]
    page.fill("#gate-form [name=mine]", mine)
    page.click("#gate-form button[type=submit]")
    page.wait_for_selector("[data-testid=gate-verdict]")
    text = page.inner_text("#gate-result")
    d = page.request.get(f"{base}/api/gate?mine={mine}&application=new_licence").json()
    for r in d["reasons"] + d["not_evaluable"] + d["warnings"]:
        assert r["message"].split(" / ")[0] in text
    page.screenshot(path=str(artifacts_dir / "web-roles-13-gate.png"), full_page=True)


def test_town_dashboard_and_its_own_report(demo_server, browser, artifacts_dir):  # noqa: F811
    import io
    import zipfile

    base = demo_server
    page = new_page(browser, base)
    login(page, base, "town")
    page.goto(f"{base}/dashboard")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("[data-testid=by-town] table").count() == 1
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-14-town-dashboard.png"), full_page=True)
    mine_names = {p["mine_name"] for p in page.request.get(f"{base}/api/problems?limit=1000").json()["items"]}
    all_mines = {m["name"] for m in page.request.get(f"{base}/api/mines").json()["items"]}
    with page.expect_download() as dl:
        page.click("a[href='/api/reports/progress?format=docx']")
    with zipfile.ZipFile(io.BytesIO(open(dl.value.path(), "rb").read())) as z:
        doc = z.read("word/document.xml").decode()
    office = new_page(browser, base)
    login(office, base, "office")
    others = (
        {
            p["mine_name"]
            for p in office.request.get(f"{base}/api/problems?limit=1000").json()["items"]
            if p["mine_name"]
        }
        - mine_names
        - all_mines
    )
    assert others, "the demo county has mines outside the town"
    assert not [m for m in others if m in doc], "the town's report names other towns' mines"


def test_enterprise_completes_milestones_then_submits(demo_server, browser, artifacts_dir, tmp_path):  # noqa: F811
    """Submitting for acceptance needs evidence and every milestone done: until then the button says why and is
    disabled (not a button that always fails); after the milestones are done with evidence, it works."""
    base = demo_server
    page = new_page(browser, base)
    login(page, base, "enterprise-a")
    items = page.request.get(f"{base}/api/problems?state=rectifying&limit=200").json()["items"]
    target = None
    for p in items:
        d = page.request.get(f"{base}/api/problems/{p['id']}").json()
        if any(a["name"] == "submit" for a in d["actions"]) and any(m["done_date"] is None for m in d["milestones"]):
            target = d
            break
    assert target is not None, "the demo has a rectifying problem of enterprise A with open milestones"
    page.goto(f"{base}/problems/{target['id']}")
    assert page.locator("[data-testid=action-submit]").is_disabled()
    assert page.locator("[data-testid=blocked-submit]").count() == 1
    photo = tmp_path / "完工照片.png"
    photo.write_bytes(tiny_png())
    page.set_input_files("#evidence-form input[name=file]", str(photo))
    page.click("[data-testid=upload]")
    page.wait_for_load_state("load")
    page.wait_for_selector("form.milestone-done")
    while page.locator("form.milestone-done").count():
        f = page.locator("form.milestone-done").first
        f.locator("select option").first.click()
        f.locator("button[type=submit]").click()
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
    assert page.locator("[data-testid=action-submit]").is_enabled()
    page.click("[data-testid=action-submit]")
    page.wait_for_function("() => document.querySelector('[data-testid=state]').innerText === '申请验收'")
    no_codes(page)
    page.screenshot(path=str(artifacts_dir / "web-roles-15-enterprise-submitted.png"), full_page=True)
