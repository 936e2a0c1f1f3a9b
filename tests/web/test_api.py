"""The ledger over HTTP (lists, filters, exports, notices, evidence, gate) and bad input."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.core.models import AuditEvent
from subsidence.ledger.models import Evidence, Problem, RectificationNotice
from tests.web.conftest import TODAY, auth

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200


def _count(engine, model):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_problem_list_filters_and_overdue(client, world):
    h = auth(world, "office")
    items = client.get("/api/problems?overdue=true", headers=h).json()["items"]
    assert [i["code"] for i in items] == [client.get(f"/api/problems/{world.ids['pa']}", headers=h).json()["code"]]
    assert items[0]["overdue"] is True and items[0]["days_left"] == -5
    soon = client.get("/api/dashboard/due-soon", headers=h).json()["items"]
    assert [i["id"] for i in soon] == [world.ids["pb"]]
    assert client.get("/api/problems?category=5", headers=h).json()["total"] == 1
    assert client.get("/api/problems?category=地下水位下降、水污染", headers=h).json()["total"] == 1
    assert client.get(f"/api/problems?mine_id={world.ids['mb']}", headers=h).json()["total"] == 2
    assert client.get("/api/problems?state=found&state=accepted", headers=h).json()["total"] == 3
    assert client.get("/api/problems?q=保水", headers=h).json()["total"] == 1
    page = client.get("/api/problems?limit=2&offset=2", headers=h).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    r = client.get("/api/problems?state=nonsense", headers=h)
    assert r.status_code == 422 and "nonsense" in r.json()["message"]


def test_exports_csv_and_xlsx(client, world):
    h = auth(world, "enterprise_b")
    r = client.get("/api/problems?format=csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["台账编号", "任务"] and len(rows) == 3
    r = client.get("/api/problems?format=xlsx&lang=en", headers=h)
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.cell(1, 1).value == "ledger no." and ws.max_row == 3
    for path in (
        "/api/mines",
        "/api/hazard-points",
        "/api/subsidence-areas",
        "/api/dashboard/overdue",
        "/api/dashboard/progress?by=town",
        "/api/enterprises",
        "/api/alarms",
    ):
        r = client.get(path + ("&" if "?" in path else "?") + "format=xlsx", headers=auth(world, "office"))
        assert r.status_code == 200, path
        assert load_workbook(io.BytesIO(r.content)).active.max_row >= 1


def test_problem_detail_has_history_and_actions(client, world):
    d = client.get(f"/api/problems/{world.ids['pa']}", headers=auth(world, "office")).json()
    assert d["mine_name"] == "甲一矿" and d["town_name"] == "一号镇"
    assert any(h["action"] == "insert" for h in d["history"])
    names = {a["name"] for a in d["actions"]}
    assert {"issue_notice", "withdraw", "fix_at_once"} <= names


def test_office_issues_notice(client, engine, world):
    pid = world.ids["pa"]
    r = client.post(
        f"/api/problems/{pid}/notices",
        headers=auth(world, "office"),
        json={
            "deadline": (TODAY + timedelta(days=30)).isoformat(),
            "requirement": "充填裂缝并复垦",
            "milestones": [{"description": "完成充填", "workdays_before": 10}],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["problem"]["state"] == "notice_issued"
    assert r.json()["notice"]["code"]
    # the enterprise sees its notice and deadline, and moves on
    d = client.get(f"/api/problems/{pid}", headers=auth(world, "enterprise_a")).json()
    assert d["notices"][0]["deadline"] == (TODAY + timedelta(days=30)).isoformat()
    r = client.post(f"/api/problems/{pid}/transitions", headers=auth(world, "enterprise_a"), json={"name": "start"})
    assert r.status_code == 200 and r.json()["state"] == "rectifying"
    # a second notice on the same problem is refused, nothing changes
    n = _count(engine, RectificationNotice)
    r = client.post(f"/api/problems/{pid}/notices", headers=auth(world, "office"), json={"workdays": 10})
    assert r.status_code == 409 and _count(engine, RectificationNotice) == n


def test_enterprise_uploads_evidence(client, engine, world):
    pid = world.ids["pa"]
    h = auth(world, "enterprise_a")
    r = client.post(
        f"/api/problems/{pid}/evidence",
        headers=h,
        files={"file": ("现场.png", io.BytesIO(PNG), "image/png")},
        data={"note": "已充填", "lon": "109.6", "lat": "39.5", "taken_at": "2024-11-10T10:00:00+08:00"},
    )
    assert r.status_code == 201, r.text
    ev = r.json()["evidence"]
    assert ev["media_type"] == "image/png" and len(ev["sha256"]) == 64
    got = client.get(f"/api/problems/{pid}/evidence/{ev['id']}", headers=h)
    assert got.status_code == 200 and got.content == PNG
    # the other tenant cannot download it
    assert (
        client.get(f"/api/problems/{pid}/evidence/{ev['id']}", headers=auth(world, "enterprise_b")).status_code == 404
    )


def test_bad_uploads_refused_nothing_stored(client, engine, world):
    pid = world.ids["pa"]
    h = auth(world, "enterprise_a")
    before = _count(engine, Evidence), _count(engine, AuditEvent)
    # wrong type: text claiming to be a PNG
    r = client.post(
        f"/api/problems/{pid}/evidence",
        headers=h,
        files={"file": ("photo.png", io.BytesIO(b"hello, not an image"), "image/png")},
    )
    assert r.status_code == 422 and "photo.png" in r.json()["message"]
    # empty file
    r = client.post(f"/api/problems/{pid}/evidence", headers=h, files={"file": ("e.png", io.BytesIO(b""), "image/png")})
    assert r.status_code == 422
    # oversized (over the 20 MiB request limit): 413 before the handler runs
    big = PNG + b"\x00" * (21 * 1024 * 1024)
    r = client.post(
        f"/api/problems/{pid}/evidence", headers=h, files={"file": ("big.png", io.BytesIO(big), "image/png")}
    )
    assert r.status_code == 413 and "limit" in r.json()["message"]
    # missing file field
    r = client.post(f"/api/problems/{pid}/evidence", headers=h, data={"note": "x"})
    assert r.status_code == 422
    # half a location
    r = client.post(
        f"/api/problems/{pid}/evidence",
        headers=h,
        files={"file": ("a.png", io.BytesIO(PNG), "image/png")},
        data={"lon": "109.6"},
    )
    assert r.status_code == 422 and "lat" in r.json()["message"]
    assert (_count(engine, Evidence), _count(engine, AuditEvent)) == before


def test_malformed_json_unknown_ids_and_oversized_json(client, engine, world):
    h = {**auth(world, "office"), "Content-Type": "application/json"}
    before = _count(engine, AuditEvent)
    r = client.post(f"/api/problems/{world.ids['pa']}/transitions", headers=h, content=b'{"name": "start",')
    assert r.status_code == 400 and r.json()["error"] == "MalformedJSON"
    r = client.post(f"/api/problems/{world.ids['pa']}/transitions", headers=h, content=b'{"name": 5}')
    assert r.status_code == 422 and "name" in r.json()["message"]
    r = client.post(f"/api/problems/{world.ids['pa']}/transitions", headers=h, content=b'{"name": "fly"}')
    assert r.status_code == 422 and "fly" in r.json()["message"]
    r = client.post("/api/problems/999999/transitions", headers=h, json={"name": "start"})
    assert r.status_code == 404 and "999999" in r.json()["message"]
    assert client.get("/api/problems/999999", headers=h).status_code == 404
    assert client.get("/api/problems/abc", headers=h).status_code == 422
    r = client.post(
        f"/api/problems/{world.ids['pa']}/transitions",
        headers=h,
        content=b'{"name": "start", "reason": "' + b"x" * (2 * 1024 * 1024) + b'"}',
    )
    assert r.status_code == 413
    assert _count(engine, AuditEvent) == before


def test_illegal_transition_conflict(client, engine, world):
    r = client.post(
        f"/api/problems/{world.ids['pa']}/transitions", headers=auth(world, "enterprise_a"), json={"name": "submit"}
    )
    assert r.status_code == 409 and "submit" in r.json()["message"]
    with Session(engine) as s:
        assert s.get(Problem, world.ids["pa"]).state.value == "found"


def test_create_problem(client, world):
    r = client.post(
        "/api/problems",
        headers=auth(world, "town"),
        json={
            "category": "3",
            "title": "采空区枯死树未清理",
            "found_date": "2024-11-01",
            "town_id": world.ids["t1"],
            "deadline": "2024-12-20",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["town_name"] == "一号镇"
    r = client.post(
        "/api/problems",
        headers=auth(world, "town"),
        json={"category": "3", "title": "x", "found_date": "2024-11-01", "town_id": world.ids["t2"]},
    )
    assert r.status_code == 404  # not its territory
    r = client.post(
        "/api/problems",
        headers=auth(world, "enterprise_a"),
        json={"category": "1", "title": "x", "found_date": "2024-11-01", "mine_id": world.ids["ma"]},
    )
    assert r.status_code == 403
    r = client.post(
        "/api/problems",
        headers=auth(world, "office"),
        json={"category": "1", "title": "x", "found_date": "2024-11-01", "deadline": "2024-10-01"},
    )
    assert r.status_code == 422 and "deadline" in r.json()["message"]


def test_gate_lookup(client, world):
    r = client.get(f"/api/gate?mine={world.ids['ma']}&application=extension", headers=auth(world, "office"))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["mine"] == "C-A-001" and d["allowed"] is False  # pa is past its (never notified) ledger deadline
    # an un-notified deadline is named, as a warning, not as a ground to refuse (the gate's rule)
    named = d["reasons"] + d["warnings"]
    assert any("TZ-" in (x.get("record") or "") or "TZ-" in x["message"] for x in named)
    assert client.get("/api/gate?mine=C-A-001", headers=auth(world, "enterprise_a")).status_code == 200
    assert client.get("/api/gate?mine=nope", headers=auth(world, "office")).status_code == 404
    r = client.get("/api/gate?mine=C-A-001&application=teleport", headers=auth(world, "office"))
    assert r.status_code == 422


def test_dashboard(client, world):
    h = auth(world, "office")
    s = client.get("/api/dashboard/summary", headers=h).json()
    assert s["problems"] == 3 and s["overdue"] == 1 and s["due_soon"] == 1
    phases = s["timeline"]["phases"]
    assert [p["state"] for p in phases] == ["past", "current", "future"]  # 2024-11-15: investigation phase
    p = client.get("/api/dashboard/progress?by=task", headers=h).json()
    assert p["total"]["found"] == 3 and p["total"]["overdue"] == 1
    assert client.get("/api/dashboard/progress?by=department", headers=auth(world, "enterprise_a")).status_code == 403
    # an enterprise's summary counts only its own problems
    assert client.get("/api/dashboard/summary", headers=auth(world, "enterprise_b")).json()["problems"] == 2


def test_openapi_documented(client):
    spec = client.get("/openapi.json").json()
    assert "/api/problems" in spec["paths"] and "/ogc/collections/{collection_id}/items" in spec["paths"]
    assert all(op.get("summary") for path in spec["paths"].values() for op in path.values())


def test_report_downloads(client, world):
    r = client.get("/api/reports/progress?format=pdf", headers=auth(world, "office"))
    assert r.status_code == 200 and r.content[:4] == b"%PDF"
    r = client.get("/api/reports/progress?format=docx", headers=auth(world, "town"))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert client.get("/api/reports/progress", headers=auth(world, "enterprise_a")).status_code == 403
    r = client.get("/api/reports/ledger.xlsx", headers=auth(world, "office"))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert client.get("/api/reports/ledger.xlsx", headers=auth(world, "department")).status_code == 403
    r = client.get("/api/reports/progress?start=2024-12-01&end=2024-11-01", headers=auth(world, "office"))
    assert r.status_code == 422


def test_read_cache_hits_and_invalidation(client, world):
    h = auth(world, "office")
    first = client.get("/api/problems?limit=5", headers=h)
    again = client.get("/api/problems?limit=5", headers=h)
    assert first.headers["x-cache"] == "miss" and again.headers["x-cache"] == "hit"
    assert first.json() == again.json()
    # another actor never gets the office's cached page
    other = client.get("/api/problems?limit=5", headers=auth(world, "enterprise_a"))
    assert other.headers["x-cache"] == "miss" and other.json()["total"] == 1
    # any audited write moves the data version: the next read is fresh
    r = client.post(f"/api/problems/{world.ids['pb']}/transitions", headers=h, json={"name": "fix_at_once"})
    assert r.status_code == 200
    after = client.get("/api/problems?limit=5", headers=h)
    assert after.headers["x-cache"] == "miss"
    assert {i["id"]: i["state"] for i in after.json()["items"]}[world.ids["pb"]] == "fixed_at_once"
    summary = client.get("/api/dashboard/summary", headers=h).json()
    assert any(s["state"] == "fixed_at_once" for s in summary["by_state"])


def test_cached_hits_keep_security_and_expiry(client, engine, world):
    from datetime import timedelta as td

    from subsidence.access.models import ApiToken
    from subsidence.db.base import utcnow

    h = auth(world, "office")
    client.get("/api/problems?limit=3", headers=h)
    hit = client.get("/api/problems?limit=3", headers=h)
    assert hit.headers["x-cache"] == "hit" and "content-security-policy" in hit.headers
    # a token whose lifetime ends is refused even though its answer is cached (expiry checked on every hit)
    import time

    from subsidence.access import accounts
    from subsidence.access.models import User

    with Session(engine) as s:
        user = s.query(User).filter_by(username="office").one()
        short, _ = accounts.issue_token(s, user, "short", ttl=td(seconds=1.5))
        s.commit()
    hs = {"Authorization": f"Bearer {short}"}
    client.get("/api/problems?limit=2", headers=hs)
    assert client.get("/api/problems?limit=2", headers=hs).headers["x-cache"] == "hit"
    time.sleep(1.6)
    assert client.get("/api/problems?limit=2", headers=hs).status_code == 401
    # an audited change to a token (here: its expiry) moves the data version, so the cache is bypassed
    with Session(engine) as s:
        s.info["actor"] = "test"
        for tok in s.query(ApiToken).all():
            tok.expires_at = utcnow() - td(seconds=1)
        s.commit()
    assert client.get("/api/problems?limit=3", headers=h).status_code == 401


def test_area_record_has_its_predicted_profile(client, world, session):
    """The area page's chart data come from the prediction queries (PIM over the mine's panels)."""
    from subsidence.census.models import SubsidenceArea

    sa = session.scalar(select(SubsidenceArea).where(SubsidenceArea.code == "SA-A"))
    d = client.get(f"/api/subsidence-areas/{sa.id}", headers=auth(world, "office")).json()
    assert d["series"]["kind"] == "pim_prediction" and len(d["series"]["profile"]) == 121
    assert max(p["v"] for p in d["series"]["profile"]) > 0  # subsidence positive down over the panel
