"""One regression test per finding of the security review; each failed on the code before.

The world is the two-tenant one of :mod:`tests.web.conftest`: town T1 (problem pa on mine A, hazard point HA),
town T2 (pb and the task-5 problem pw on mine B, hazard point HB); the department is the Agriculture/Water
Bureau (lead of task 5 only).
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import func, select

from subsidence.access import accounts
from subsidence.core.models import AdminArea, AuditEvent
from subsidence.db.audit import acting_as
from subsidence.db.base import utcnow
from subsidence.monitoring.models import Alarm, GroundwaterWell, Sensor
from subsidence.vocabulary import AreaLevel, SensorKind
from tests.web.conftest import PASSWORD, TODAY, X0, Y0, auth


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("word/document.xml").decode("utf-8")


# ------------------------------------------------------------------ reports scoped like their records


def test_progress_report_holds_only_the_callers_problems(client, world):
    """A town or department user read problems in the county-wide report it is refused everywhere else."""
    r = client.post(
        "/api/problems",
        headers=auth(world, "office"),
        json={
            "category": "1",
            "title": "乙一矿排土场裂缝逾期",
            "mine_id": world.ids["mb"],
            "found_date": (TODAY - timedelta(days=30)).isoformat(),
            "deadline": (TODAY - timedelta(days=2)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    office = _docx_text(client.get("/api/reports/progress?format=docx", headers=auth(world, "office")).content)
    assert "甲一矿地裂缝未充填" in office and "乙一矿排土场裂缝逾期" in office  # both overdue, county-wide
    r = client.get("/api/reports/progress?format=docx", headers=auth(world, "town"))
    assert r.status_code == 200
    town = _docx_text(r.content)
    assert "甲一矿地裂缝未充填" in town  # its own overdue problem
    assert "乙一矿" not in town  # nothing of town T2's mine B
    dept = _docx_text(client.get("/api/reports/progress?format=docx", headers=auth(world, "department")).content)
    assert "甲一矿" not in dept and "乙一矿排土场裂缝逾期" not in dept  # the bureau leads task 5 only
    for role, text in (("town", town), ("department", dept)):  # what the API refuses, the report does not show
        seen = {p["title"] for p in client.get("/api/problems?limit=100", headers=auth(world, role)).json()["items"]}
        for title in ("甲一矿地裂缝未充填", "乙一矿排土场裂缝逾期"):
            if title not in seen:
                assert title not in text, (role, title)


def test_identical_progress_pdfs_render_once(client, world, monkeypatch):
    """Six simultaneous progress PDFs took 12.6 s each: identical requests now share one rendering."""
    from subsidence.reports import progress as rp

    calls = []
    real = rp.progress_pdf

    def counting(rep, *a, **kw):
        calls.append(1)
        return real(rep, *a, **kw)

    monkeypatch.setattr(rp, "progress_pdf", counting)
    bodies: list[bytes] = []

    def fetch():
        bodies.append(client.get("/api/reports/progress", headers=auth(world, "office")).content)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(bodies) == 6 and all(b.startswith(b"%PDF") for b in bodies) and len(set(bodies)) == 1
    assert len(calls) == 1
    client.get("/api/reports/progress", headers=auth(world, "town"))  # another scope renders its own
    assert len(calls) == 2


# ------------------------------------------------------------------ open redirect


@pytest.mark.parametrize(
    "nxt",
    [
        "/\\evil.example/x",
        "//evil.example",
        "/\t/evil.example",
        "https://evil.example",
        "/\\/evil.example",
        "javascript:alert(1)",
        "/%5Cevil.example",
    ],
)
def test_login_next_never_leaves_the_site(client, nxt):
    from subsidence.web.pages import safe_next

    assert safe_next(nxt) in ("/", "/%5Cevil.example")  # an encoded backslash stays a path on this site
    r = client.get("/login", params={"next": nxt})
    assert r.status_code == 200
    assert 'data-next="/"' in r.text or 'data-next="/%5Cevil.example"' in r.text
    js = client.get("/static/js/login.js").text
    assert "sameSite(form.dataset.next)" in js  # the page script checks the target again


def test_login_next_keeps_a_local_path(client):
    r = client.get("/login", params={"next": "/problems/3?x=1"})
    assert 'data-next="/problems/3?x=1"' in r.text


# ------------------------------------------------------------------ formula injection


FORMULA = '=HYPERLINK("http://evil.example","点击")'


@pytest.fixture
def formula_problem(client, world):
    r = client.post(
        "/api/problems",
        headers=auth(world, "office"),
        json={
            "category": "1",
            "title": FORMULA,
            "found_date": (TODAY - timedelta(days=1)).isoformat(),
            "mine_id": world.ids["ma"],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


def test_exports_never_carry_a_live_formula(client, world, formula_problem):
    csv_text = client.get("/api/problems?format=csv", headers=auth(world, "office")).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text and '"=HYPERLINK' not in csv_text
    for url in ("/api/problems?format=xlsx", "/api/reports/ledger.xlsx"):
        data = client.get(url, headers=auth(world, "office")).content
        xml = _sheet_xml(data)
        assert "HYPERLINK" in xml, url  # the title is there, as text
        assert "<f>" not in xml and "<f " not in xml, url  # and no cell holds a formula
        from openpyxl import load_workbook

        ws = load_workbook(io.BytesIO(data)).active
        cells = [c for row in ws.iter_rows() for c in row if c.value == FORMULA]
        assert cells and all(c.data_type == "s" for c in cells), url


# ------------------------------------------------------------------ sign-in throttle


def _client_from(app, host: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(host, 50000))


def _login(c: TestClient, username: str, password: str):
    return c.post("/api/auth/login", json={"username": username, "password": password})


def test_wrong_passwords_elsewhere_never_lock_the_owner_out(app, world):
    attacker, owner = _client_from(app, "203.0.113.9"), _client_from(app, "198.51.100.7")
    for _ in range(12):
        assert _login(attacker, "office", "guess-guess-guess").status_code in (401, 429)
    r = _login(attacker, "office", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1  # the attacker waits
    assert _login(owner, "office", PASSWORD).status_code == 200  # the owner signs in at once


def test_backoff_grows_and_the_office_unlocks(app, world):
    c = _client_from(app, "203.0.113.10")
    for _ in range(accounts.FREE_FAILURES):
        assert _login(c, "town", "wrong-password!").status_code == 401
    first = accounts.sign_in_wait("town", "203.0.113.10")
    assert 0 < first <= accounts.BACKOFF_BASE_S
    # one more failure once the wait is over doubles it
    key = ("town", "203.0.113.10")
    n, last = accounts._failures[key]
    accounts._failures[key] = (n, last - first - 0.01)
    accounts._failures[("*", "203.0.113.10")] = (n, last - first - 0.01)
    assert _login(c, "town", "wrong-password!").status_code == 401
    assert accounts.sign_in_wait("town", "203.0.113.10") > 1.5 * first
    office = _client_from(app, "198.51.100.8")
    r = office.post(f"/api/users/{world.ids['user_town']}/unlock", headers=auth(world, "office"))
    assert r.status_code == 200 and r.json()["cleared"] >= 1
    accounts._failures.pop(("*", "203.0.113.10"), None)
    assert _login(c, "town", PASSWORD).status_code == 200
    r = office.post(f"/api/users/{world.ids['user_town']}/unlock", headers=auth(world, "town"))
    assert r.status_code == 403  # only the office unlocks


def test_password_spraying_is_slowed(app, world):
    c = _client_from(app, "203.0.113.11")
    names = [f"user{i}" for i in range(accounts.SPRAY_FREE_FAILURES)]
    for n in names:  # one guess per account: never the per-account limit
        assert _login(c, n, "Winter2024!!").status_code == 401
    r = _login(c, "office", "Winter2024!!")
    assert r.status_code == 429  # but this client is slowed down across accounts


def test_failed_sign_ins_hash_within_bounded_memory():
    """Each failed login cost ~64 MiB and 1.7 s with no bound on how many ran at once."""
    prod = accounts.PRODUCTION_HASHER
    assert prod.memory_cost <= 19456 and prod.time_cost <= 2  # OWASP minimum for Argon2id
    assert accounts.HASH_SLOTS * prod.memory_cost <= 64 * 1024  # all hashing at once: ≤ 64 MiB
    active = [0, 0]
    lock = threading.Lock()

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def verify(self, h, p):
            with lock:
                active[0] += 1
                active[1] = max(active[1], active[0])
            try:
                import time

                time.sleep(0.05)
                return self.inner.verify(h, p)
            finally:
                with lock:
                    active[0] -= 1

        def hash(self, p):
            return self.inner.hash(p)

    old = accounts._HASHER
    accounts._HASHER = Counting(old)
    try:
        stored = old.hash("correct-horse-battery")
        threads = [threading.Thread(target=accounts.verify_password, args=(stored, "nope-nope-nope")) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        accounts._HASHER = old
    assert 1 <= active[1] <= accounts.HASH_SLOTS


# ------------------------------------------------------------------ notice documents


def test_concurrent_notice_downloads_are_whole(client, world, tmp_path):
    from subsidence.settings import get_settings

    r = client.post(f"/api/problems/{world.ids['pa']}/notices", headers=auth(world, "office"), json={"workdays": 10})
    assert r.status_code == 201, r.text
    nid = r.json()["notice"]["id"]
    url = f"/api/problems/{world.ids['pa']}/notices/{nid}/document"
    bodies: list[tuple[int, bytes]] = []

    def fetch(fmt):
        resp = client.get(f"{url}?format={fmt}", headers=auth(world, "office"))
        bodies.append((resp.status_code, resp.content))

    threads = [threading.Thread(target=fetch, args=("pdf" if i % 2 else "docx",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code == 200 for code, _ in bodies)
    pdfs = {b for _, b in bodies if b.startswith(b"%PDF")}
    docx = {b for _, b in bodies if b.startswith(b"PK")}
    assert len(pdfs) == 1 and len(docx) == 1  # every download whole and identical
    assert pdfs.pop().rstrip().endswith(b"%%EOF")
    assert not (get_settings().data_dir / "outputs" / "notices").exists() or not any(
        (get_settings().data_dir / "outputs" / "notices").iterdir()
    )  # no shared file on disk


# ------------------------------------------------------------------ OGC items outside the collection


def test_ogc_towns_item_is_only_a_town(client, world, session):
    with acting_as(session, "test"):
        banner = AdminArea(
            code="B1",
            name_zh="伊金霍洛旗",
            name_en="Banner",
            level=AreaLevel.BANNER,
            geometry=MultiPolygon([box(X0, Y0, X0 + 40_000, Y0 + 20_000)]),
        )
        village = AdminArea(
            code="V1",
            name_zh="一号村",
            name_en="Village",
            level=AreaLevel.VILLAGE,
            geometry=MultiPolygon([box(X0, Y0, X0 + 2_000, Y0 + 2_000)]),
        )
        session.add_all([banner, village])
        session.commit()
    h = auth(world, "office")
    assert client.get(f"/ogc/collections/towns/items/{world.ids['t1']}", headers=h).status_code == 200
    for other in (banner.id, village.id):
        r = client.get(f"/ogc/collections/towns/items/{other}", headers=h)
        assert r.status_code == 404, r.text
    listed = {f["id"] for f in client.get("/ogc/collections/towns/items", headers=h).json()["features"]}
    assert banner.id not in listed and village.id not in listed


# ------------------------------------------------------------------ alarm acknowledgement


@pytest.fixture
def alarms(session, world):
    """An open alarm at each hazard point and one at a groundwater well of town T1 (no hazard point)."""
    now = utcnow()
    with acting_as(session, "test"):
        well = GroundwaterWell(
            code="W-T1",
            name="一号井",
            town_id=world.ids["t1"],
            mine_id=world.ids["ma"],
            geometry=Point(X0 + 4_000, Y0 + 4_000),
        )
        session.add(well)
        session.flush()
        ws = Sensor(code="S-W-T1", kind=SensorKind.GROUNDWATER_WELL, unit="m", well_id=well.id, mine_id=world.ids["ma"])
        session.add(ws)
        session.flush()
        sa = session.scalar(select(Sensor).where(Sensor.code == "S-HA-1"))
        sb = session.scalar(select(Sensor).where(Sensor.code == "S-HB-1"))
        out = {}
        for name, sensor, hp in (("ha", sa, world.ids["ha"]), ("hb", sb, world.ids["hb"]), ("well", ws, None)):
            a = Alarm(
                open_key=f"{sensor.id}:threshold",
                sensor_id=sensor.id,
                hazard_point_id=hp,
                kind="threshold",
                level=2,
                max_level=2,
                state="open",
                opened_at=now,
                level_since=now,
                message=f"test {name}",
            )
            session.add(a)
            session.flush()
            out[name] = a.id
        session.commit()
    return out


def test_ack_errors_do_not_tell_whose_alarm_it_is(client, world, alarms):
    h = auth(world, "town")  # town T1
    other = client.post(f"/api/alarms/{alarms['hb']}/ack", headers=h)
    missing = client.post("/api/alarms/99999/ack", headers=h)
    assert other.status_code == missing.status_code == 404
    assert other.json()["message"].replace(str(alarms["hb"]), "N") == missing.json()["message"].replace("99999", "N")
    hb_code = "HB"
    assert hb_code not in other.text and str(world.ids["hb"]) not in other.json()["message"].replace(
        str(alarms["hb"]), ""
    )
    ent = client.post(f"/api/alarms/{alarms['ha']}/ack", headers=auth(world, "enterprise_a"))
    assert ent.status_code == 404  # readable to the enterprise, not its to acknowledge: same answer


def test_well_alarms_can_be_acknowledged(client, world, alarms, session):
    feed = client.get("/api/alarms", headers=auth(world, "office")).json()["items"]
    well = next(a for a in feed if a["id"] == alarms["well"])
    assert well["can_ack"] is True
    r = client.post(f"/api/alarms/{alarms['well']}/ack", headers=auth(world, "town"))
    assert r.status_code == 200, r.text
    assert session.get(Alarm, alarms["well"]).state == "acknowledged"


def test_the_feed_offers_ack_only_where_it_works(client, world, alarms):
    ent = client.get("/api/alarms", headers=auth(world, "enterprise_a")).json()["items"]
    assert ent and all(a["can_ack"] is False for a in ent)  # an enterprise reads its alarms, acknowledges none
    town = {a["id"]: a for a in client.get("/api/alarms", headers=auth(world, "town")).json()["items"]}
    assert town[alarms["ha"]]["can_ack"] is True and alarms["hb"] not in town
    js = client.get("/static/js/dashboard.js").text
    assert "can_ack" in js  # the page draws the button from it
    for a in ent:  # and every button the page would draw works
        assert not a["can_ack"]


# ------------------------------------------------------------------ body limits


def test_a_documented_batch_of_20000_observations_is_accepted(client, world):
    rows = [
        {
            "sensor": "S-HA-1",
            "time": f"2024-11-{1 + i // 1440:02d}T{(i // 60) % 24:02d}:{i % 60:02d}:00+08:00",
            "value": 1.0 + i * 1e-4,
        }
        for i in range(14 * 1440)
    ][:20_000]
    body = json.dumps({"source": "logger-1", "rows": rows}).encode()
    assert len(body) > 1024 * 1024  # over the general JSON limit
    r = client.post(
        "/api/observations/batch", content=body, headers={**auth(world, "office"), "content-type": "application/json"}
    )
    assert r.status_code == 200, r.text[:300]
    assert r.json()["accepted"] == 20_000


def test_an_oversized_chunked_upload_is_413(client, world):
    from subsidence.api.app import MAX_UPLOAD_BYTES

    boundary = "XyZ"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def chunks():
        yield head
        block = b"\xff" * (1024 * 1024)
        for _ in range(MAX_UPLOAD_BYTES // len(block) + 2):
            yield block
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        f"/api/problems/{world.ids['pa']}/evidence",
        content=chunks(),
        headers={**auth(world, "enterprise_a"), "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413, r.text[:200]


# ------------------------------------------------------------------ search filter


@pytest.mark.parametrize("q", ["%", "_", "%%", "_%_"])
def test_like_wildcards_in_search_match_literally(client, world, q):
    r = client.get("/api/problems", params={"q": q}, headers=auth(world, "office"))
    assert r.status_code == 200 and r.json()["total"] == 0


def test_nul_in_search_is_refused(client, world):
    r = client.get("/api/problems", params={"q": "甲\x00"}, headers=auth(world, "office"))
    assert r.status_code == 422


def test_percent_in_a_title_is_found(client, world):
    r = client.post(
        "/api/problems",
        headers=auth(world, "office"),
        json={
            "category": "1",
            "title": "充填率仅 50% 的裂缝",
            "found_date": TODAY.isoformat(),
            "mine_id": world.ids["ma"],
        },
    )
    assert r.status_code == 201
    items = client.get("/api/problems", params={"q": "50%"}, headers=auth(world, "office")).json()["items"]
    assert [p["title"] for p in items] == ["充填率仅 50% 的裂缝"]


# ------------------------------------------------------------------ gate lookups and the read cache


def test_gate_lookups_do_not_empty_the_read_cache(client, world, session):
    h = auth(world, "office")
    assert client.get("/api/problems", headers=h).headers.get("x-cache") == "miss"
    assert client.get("/api/problems", headers=h).headers.get("x-cache") == "hit"
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    r = client.get(f"/api/gate?mine={world.ids['ma']}&application=extension", headers=h)
    assert r.status_code == 200
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) > before  # the lookup is logged
    assert client.get("/api/problems", headers=h).headers.get("x-cache") == "hit"  # and the cache survives


def test_not_overdue_filter_keeps_problems_without_a_deadline(client, world):
    """``overdue=false`` dropped every problem without a deadline (NOT of a NULL comparison)."""
    h = auth(world, "office")
    r = client.post(
        "/api/problems",
        headers=h,
        json={"category": "3", "title": "枯死树木未清理", "mine_id": world.ids["ma"], "found_date": TODAY.isoformat()},
    )
    assert r.status_code == 201 and r.json()["deadline"] is None
    total = client.get("/api/problems", headers=h).json()["total"]
    yes = client.get("/api/problems?overdue=true", headers=h).json()["total"]
    no = client.get("/api/problems?overdue=false", headers=h).json()["total"]
    assert yes + no == total


def test_every_domain_error_has_its_status_in_one_table():
    """The adapters map errors through one table (api.app.ERROR_STATUS); it agrees with each error's class."""
    import subsidence.census.service  # noqa: F401  (errors defined beside their services)
    import subsidence.interchange.imports  # noqa: F401
    from subsidence.api.app import status_of
    from subsidence.errors import ServiceError

    def subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)

    seen = list(subclasses(ServiceError))
    assert len(seen) >= 6
    for cls in seen:
        assert status_of(cls.__new__(cls)) == cls.http_status, cls
