"""The task ledgers in the web, one policy each: an enterprise reports its own fund entries,
water plan, hidden factors and plans; the lead bureau reviews (NRB the fund, AWB task 5, EMB task 7); a town
records demolition with photos and re-occupation; the office runs draws and the assessment; cards are issued and
receipts recorded. For every resource enterprise B is refused A's record with 404 and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from subsidence.access import accounts
from subsidence.core.models import Mine
from subsidence.db.audit import acting_as
from subsidence.monitoring.models import Household
from subsidence.tasks import buildings, fund, minehazards, water
from subsidence.tasks.inspections import service as inspections
from subsidence.tasks.models import (
    BuildingPhoto,
    CompensatedBuilding,
    FundEntry,
    FundEntryReview,
    HiddenFactor,
    InspectionResult,
    RectificationPlan,
    WaterPlan,
)
from subsidence.vocabulary import Role, TaskRole
from tests.builders import CountyBuilder
from tests.web.conftest import TODAY, X0, Y0, auth
from tests.web.test_browser import tiny_png


@dataclass
class Ledgers:
    ids: dict
    tokens: dict


@pytest.fixture
def ledgers(session, world, password_hash) -> Ledgers:
    b = CountyBuilder(session)
    ids, tokens = {}, {}
    with acting_as(session, "test:setup"):
        emb = b.unit("EMB", "应急管理局", tasks={7: TaskRole.LEAD})
        nrb = session.get(type(emb), world.ids["nrb"])
        for name, unit in (("emb", emb), ("nrb", nrb)):
            u = b.user(name, Role.DEPARTMENT, unit=unit, password_hash=password_hash)
            tokens[name], _ = accounts.issue_token(session, u, "test")
        ma, mb = session.get(Mine, world.ids["ma"]), session.get(Mine, world.ids["mb"])
        for m in (ma, mb):
            acct = fund.open_account(session, m)
            fund.add_entry(session, m, "deposit", 5_000_000, TODAY - timedelta(days=30))
            ids[f"acct_{m.licence_no}"] = acct.id
            wp = water.require_plan(
                session, m, reason="监测井水位持续下降", due=TODAY + timedelta(days=30), code=f"WP-{m.licence_no}"
            )
            ids[f"wp_{m.licence_no}"] = wp.id
            f = minehazards.register_factor(
                session,
                m,
                f"HF-{m.licence_no}",
                "goaf_water",
                census_year=2024,
                surveyed=TODAY - timedelta(days=10),
                location="3-1煤层采空区",
            )
            ids[f"hf_{m.licence_no}"] = f.id
        from subsidence.core.models import AdminArea

        t1, t2 = session.get(AdminArea, world.ids["t1"]), session.get(AdminArea, world.ids["t2"])
        for code, town, mine in (("BLD-A", t1, ma), ("BLD-B", t2, mb)):
            bl = buildings.register_building(
                session,
                code,
                kind="house",
                town=town,
                mine=mine,
                village="一村",
                household_code=f"H-{code}",
                compensation_record="补偿协议",
                geometry=Point(X0 + 4_000, Y0 + 4_000),
            )
            ids[code] = bl.id
        for code, hp in (("HH-A1", "ha"), ("HH-B1", "hb")):
            h = Household(
                code=code,
                hazard_point_id=world.ids[hp],
                town_id=world.ids["t1" if hp == "ha" else "t2"],
                village="一村",
                people=3,
            )
            session.add(h)
            session.flush()
            ids[code] = h.id
    session.commit()
    return Ledgers(ids, tokens)


def bearer(t: str) -> dict:
    return {"Authorization": f"Bearer {t}"}


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_fund_enterprise_reports_nrb_checks(client, world, ledgers, session):
    a_acct, b_acct = ledgers.ids["acct_C-A-001"], ledgers.ids["acct_C-B-001"]
    ent_a, ent_b = auth(world, "enterprise_a"), auth(world, "enterprise_b")
    listed = client.get("/api/fund/accounts", headers=ent_a).json()["accounts"]
    assert [a["mine"] for a in listed] == ["C-A-001"] and listed[0]["can"]["enter"] is True
    # B cannot see or post on A's account: 404, nothing written
    n = count(session, FundEntry)
    assert client.get(f"/api/fund/accounts/{a_acct}", headers=ent_b).status_code == 404
    r = client.post(
        f"/api/fund/accounts/{a_acct}/entries", headers=ent_b, json={"kind": "deposit", "amount_yuan": "100.00"}
    )
    assert r.status_code == 404 and count(session, FundEntry) == n
    # a bureau other than the fund's (AWB) does not enter fund entries either
    r = client.post(
        f"/api/fund/accounts/{a_acct}/entries",
        headers=auth(world, "department"),
        json={"kind": "deposit", "amount_yuan": "100.00"},
    )
    assert r.status_code == 403 and count(session, FundEntry) == n
    r = client.post(
        f"/api/fund/accounts/{a_acct}/entries",
        headers=ent_a,
        json={"kind": "spending", "amount_yuan": "12,000.50", "works": "地裂缝充填一期"},
    )
    assert r.status_code == 201, r.text
    e = r.json()["entry"]
    assert e["amount_fen"] == 1_200_050 and e["review_zh"] == "待核实" and e["date"] == TODAY.isoformat()
    # overdraft refused, nothing written
    r = client.post(
        f"/api/fund/accounts/{a_acct}/entries",
        headers=ent_a,
        json={"kind": "spending", "amount_yuan": "999999999", "works": "x"},
    )
    assert r.status_code == 422 and count(session, FundEntry) == n + 1
    # the enterprise cannot review its own entry; AWB (not the fund's bureau) cannot either; B sees nothing
    for who, status in ((ent_a, 403), (auth(world, "department"), 403), (ent_b, 404)):
        assert (
            client.post(f"/api/fund/entries/{e['id']}/review", headers=who, json={"confirmed": True}).status_code
            == status
        )
    assert count(session, FundEntryReview) == 0
    nrb = bearer(ledgers.tokens["nrb"])
    assert client.post(f"/api/fund/entries/{e['id']}/review", headers=nrb, json={"confirmed": False}).status_code == 422
    r = client.post(f"/api/fund/entries/{e['id']}/review", headers=nrb, json={"confirmed": True, "note": "凭证齐全"})
    assert r.status_code == 200 and r.json()["entry"]["review_zh"] == "已核实"
    assert client.post(f"/api/fund/entries/{e['id']}/review", headers=nrb, json={"confirmed": True}).status_code == 409
    detail = client.get(f"/api/fund/accounts/{a_acct}?year={TODAY.year}", headers=nrb).json()
    assert [x["review_zh"] for x in detail["entries"]] == ["待核实", "已核实"]
    assert client.get(f"/api/fund/accounts/{b_acct}", headers=ent_a).status_code == 404


def test_water_plan_submit_and_awb_review(client, world, ledgers, session):
    wa, wb = ledgers.ids["wp_C-A-001"], ledgers.ids["wp_C-B-001"]
    ent_a, ent_b, awb = auth(world, "enterprise_a"), auth(world, "enterprise_b"), auth(world, "department")
    assert [p["code"] for p in client.get("/api/water-plans", headers=ent_b).json()["plans"]] == ["WP-C-B-001"]
    assert client.post(f"/api/water-plans/{wa}/submit", headers=ent_b).status_code == 404
    session.expire_all()
    assert session.get(WaterPlan, wa).state.value == "required"
    r = client.post(f"/api/water-plans/{wa}/submit", headers=ent_a)
    assert r.status_code == 200 and r.json()["plan"]["state"] == "submitted"
    # the enterprise does not approve; EMB (not task 5's lead) does not either
    assert (
        client.post(
            f"/api/water-plans/{wa}/review", headers=ent_a, json={"approve": True, "approval_no": "x"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/water-plans/{wa}/review",
            headers=bearer(ledgers.tokens["emb"]),
            json={"approve": True, "approval_no": "x"},
        ).status_code
        == 403
    )
    assert client.post(f"/api/water-plans/{wa}/review", headers=awb, json={"approve": True}).status_code == 422
    r = client.post(
        f"/api/water-plans/{wa}/review", headers=awb, json={"approve": True, "approval_no": "伊农水发〔2024〕12号"}
    )
    assert r.status_code == 200 and r.json()["plan"]["state"] == "approved"
    assert r.json()["plan"]["approval_no"] == "伊农水发〔2024〕12号"
    assert client.post(f"/api/water-plans/{wa}/implemented", headers=ent_b).status_code == 404
    r = client.post(f"/api/water-plans/{wa}/implemented", headers=ent_a)
    assert r.json()["plan"]["state"] == "implemented"
    session.expire_all()
    assert session.get(WaterPlan, wb).state.value == "required"


def test_hidden_factors_plans_and_emb_review(client, world, ledgers, session):
    fa = ledgers.ids["hf_C-A-001"]
    ent_a, ent_b, emb = auth(world, "enterprise_a"), auth(world, "enterprise_b"), bearer(ledgers.tokens["emb"])
    assert [f["code"] for f in client.get("/api/hidden-factors", headers=ent_a).json()["factors"]] == ["HF-C-A-001"]
    # B cannot register a factor on A's mine, nor submit A's plan
    n = count(session, HiddenFactor)
    r = client.post(
        "/api/hidden-factors",
        headers=ent_b,
        json={"mine_id": world.ids["ma"], "factor_type": "fault", "census_year": 2024},
    )
    assert r.status_code == 404 and count(session, HiddenFactor) == n
    assert client.post(f"/api/hidden-factors/{fa}/plan", headers=ent_b, json={"measures": "x"}).status_code == 404
    assert count(session, RectificationPlan) == 0
    r = client.post(
        "/api/hidden-factors",
        headers=ent_a,
        json={"mine_id": world.ids["ma"], "factor_type": "fault", "census_year": 2024, "location": "F3 断层"},
    )
    assert r.status_code == 201 and r.json()["factor"]["type_zh"]
    r = client.post(
        f"/api/hidden-factors/{fa}/plan",
        headers=ent_a,
        json={"measures": "探放水，留设防水煤柱", "rectify_deadline": (TODAY + timedelta(days=60)).isoformat()},
    )
    assert r.status_code == 200 and r.json()["factor"]["plan"]["state"] == "submitted"
    plan_id = r.json()["factor"]["plan"]["id"]
    # only the EMB reviews (not the enterprise, not AWB); B cannot even see the plan
    assert (
        client.post(
            f"/api/rectification-plans/{plan_id}/review", headers=ent_b, json={"approve": True, "result": "x"}
        ).status_code
        == 404
    )
    for who in (ent_a, auth(world, "department")):
        assert (
            client.post(
                f"/api/rectification-plans/{plan_id}/review", headers=who, json={"approve": True, "result": "x"}
            ).status_code
            == 403
        )
    r = client.post(
        f"/api/rectification-plans/{plan_id}/review", headers=emb, json={"approve": True, "result": "方案可行，同意"}
    )
    assert r.status_code == 200 and r.json()["factor"]["plan"]["state"] == "approved"
    assert client.post(f"/api/rectification-plans/{plan_id}/complete", headers=ent_b).status_code == 404
    r = client.post(f"/api/rectification-plans/{plan_id}/complete", headers=ent_a)
    assert r.json()["factor"]["plan"]["state"] == "completed"


def test_town_records_demolition_with_photos(client, world, ledgers, session):
    ba, bb = ledgers.ids["BLD-A"], ledgers.ids["BLD-B"]
    town = auth(world, "town")  # town T1
    rows = client.get("/api/buildings", headers=town).json()
    assert [b["code"] for b in rows["buildings"]] == ["BLD-A"] and rows["buildings"][0]["can"]["record_demolition"]
    # the town cannot touch T2's building; an enterprise (even the mine's own) cannot record demolition
    png = tiny_png()
    r = client.post(
        f"/api/buildings/{bb}/demolition",
        headers=town,
        data={"status": "demolished"},
        files={"photos": ("a.png", png, "image/png")},
    )
    assert r.status_code == 404
    assert (
        client.post(
            f"/api/buildings/{bb}/demolition", headers=auth(world, "enterprise_a"), data={"status": "demolished"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/buildings/{ba}/demolition", headers=auth(world, "enterprise_a"), data={"status": "demolished"}
        ).status_code
        == 403
    )
    # demolished needs a photo; a non-photo is refused; nothing changes either time
    assert (
        client.post(f"/api/buildings/{ba}/demolition", headers=town, data={"status": "demolished"}).status_code == 422
    )
    r = client.post(
        f"/api/buildings/{ba}/demolition",
        headers=town,
        data={"status": "demolished"},
        files={"photos": ("a.png", b"%PDF-1.4 not a photo", "image/png")},
    )
    assert r.status_code == 422
    session.expire_all()
    assert session.get(CompensatedBuilding, ba).demolition_status.value == "not_started"
    assert count(session, BuildingPhoto) == 0
    # re-occupation first (opens a category-4 problem), then demolition with the photo
    r = client.post(
        f"/api/buildings/{ba}/reoccupation", headers=town, data={"reoccupied": "true", "note": "两户回流居住"}
    )
    assert r.status_code == 200 and r.json()["building"]["reoccupied"] is True
    r = client.post(
        f"/api/buildings/{ba}/demolition",
        headers=town,
        data={"status": "demolished"},
        files={"photos": ("after.png", png, "image/png")},
    )
    assert r.status_code == 200, r.text
    b = r.json()["building"]
    assert b["status"] == "demolished" and b["demolished_date"] == TODAY.isoformat() and not b["reoccupied"]
    assert len(b["photos"]) == 1 and not b["can"]["record_demolition"]
    got = client.get(b["photos"][0]["url"], headers=town)
    assert got.status_code == 200 and got.content == png and got.headers["content-type"] == "image/png"
    assert client.get(b["photos"][0]["url"], headers=auth(world, "enterprise_b")).status_code == 404
    session.expire_all()
    assert session.get(CompensatedBuilding, bb).demolition_status.value == "not_started"


def test_office_runs_draw_and_records_results(client, world, ledgers, session):
    office = auth(world, "office")
    with acting_as(session, "test:setup"):
        for key in ("ma", "mb"):
            inspections.set_object(session, session.get(Mine, world.ids[key]), "high")
        for i, unit in enumerate(("NRB", "AWB", "NRB", "AWB")):
            inspections.add_inspector(session, f"INS-{i}", unit)
        inspections.add_item(session, "DR-RECL", "土地复垦抽查", per_year=2)
    session.commit()
    soon = datetime.now(UTC) + timedelta(minutes=5)
    body = {"item": "DR-RECL", "seed_source": "福彩双色球", "seed_not_before": soon.isoformat()}
    assert client.post("/api/draws", headers=auth(world, "enterprise_a"), json=body).status_code == 403
    r = client.post("/api/draws", headers=office, json=body)
    assert r.status_code == 201, r.text
    code = r.json()["draw"]["code"]
    assert len(r.json()["draw"]["pool_sha256"]) == 64
    # a seed before the announced time is refused
    r = client.post(
        f"/api/draws/{code}/seed",
        headers=office,
        json={
            "source": "福彩双色球",
            "value": "01 02 03 04 05 06 + 07",
            "source_time": (soon - timedelta(minutes=10)).isoformat(),
        },
    )
    assert r.status_code == 422
    assert client.post(f"/api/draws/{code}/run", headers=office).status_code == 422  # no seed yet


def test_cards_issued_and_receipts(client, world, ledgers, session):
    town, monitor = auth(world, "town"), auth(world, "monitor")
    hh_a, hh_b = ledgers.ids["HH-A1"], ledgers.ids["HH-B1"]
    over = client.get("/api/cards", headers=town).json()
    assert [p["code"] for p in over["hazard_points"]] == ["HA"] and over["missing"] == 1 and over["can_issue"]
    assert client.post(f"/api/households/{hh_b}/card", headers=town, json={}).status_code == 404
    assert client.post(f"/api/households/{hh_a}/card", headers=monitor, json={}).status_code == 403
    r = client.post(f"/api/households/{hh_a}/card", headers=town, json={})
    assert r.status_code == 201, r.text
    card = r.json()["card"]
    assert card["kind"] == "household" and [c["holder"] for c in card["copies"]] == ["household", "village", "issuer"]
    pdf = client.get(card["pdf"], headers=town)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the monitor of HA records the household's receipt in the field; enterprise / other town cannot
    assert (
        client.post(
            f"/api/cards/{card['id']}/receipts",
            headers=auth(world, "enterprise_b"),
            json={"holder": "household", "signed_by": "户主"},
        ).status_code
        == 404
    )
    r = client.post(
        f"/api/cards/{card['id']}/receipts", headers=monitor, json={"holder": "household", "signed_by": "户主"}
    )
    assert r.status_code == 200 and r.json()["card"]["copies"][0]["signed_by"] == "户主"
    assert (
        client.post(
            f"/api/cards/{card['id']}/receipts", headers=monitor, json={"holder": "household", "signed_by": "户主"}
        ).status_code
        == 409
    )
    assert client.get("/api/cards", headers=town).json()["missing"] == 0


def test_inspection_results_scoped(client, world, ledgers, session):
    assert client.get("/api/inspection-results", headers=auth(world, "enterprise_a")).json() == {"results": []}
    assert count(session, InspectionResult) == 0


def test_office_records_marks_and_signs_off_a_result(client, world, ledgers, session):
    """A drawn mine's result: recorded by the office (not by the enterprise), marked for publication, public
    only after the sign-off; enterprise A sees its own result, B does not."""
    from subsidence.tasks.models import DrawRecord, DrawResult, InspectionItem

    with acting_as(session, "test:setup"):
        item = InspectionItem(code="IT", name="土地复垦抽查")
        session.add(item)
        session.flush()
        t0 = datetime(2024, 10, 1, tzinfo=UTC)
        rec = DrawRecord(
            code="DR-2024-0009",
            item_id=item.id,
            pool={"item": {"code": "IT", "name": "土地复垦抽查"}, "objects": [{"key": "C-A-001", "name": "甲一矿"}]},
            pool_sha256="0" * 64,
            published_at=t0,
        )
        session.add(rec)
        session.flush()
        session.add(
            DrawResult(
                draw_id=rec.id,
                result={"objects": [{"key": "C-A-001", "inspectors": []}]},
                result_sha256="1" * 64,
                drawn_at=t0,
            )
        )
    session.commit()
    office = auth(world, "office")
    d = next(x for x in client.get("/api/draws", headers=office).json()["draws"] if x["code"] == "DR-2024-0009")
    assert d["picks"] == [{"key": "C-A-001", "name": "甲一矿"}]
    body = {
        "mine": "C-A-001",
        "inspected": (TODAY - timedelta(days=3)).isoformat(),
        "outcome": "compliant",
        "public_summary": "未发现问题",
    }
    assert (
        client.post("/api/draws/DR-2024-0009/results", headers=auth(world, "enterprise_a"), json=body).status_code
        == 403
    )
    assert (
        client.post("/api/draws/DR-2024-0009/results", headers=office, json=body | {"mine": "C-B-001"}).status_code
        == 422
    )  # not drawn
    r = client.post("/api/draws/DR-2024-0009/results", headers=office, json=body)
    assert r.status_code == 201, r.text
    rid = r.json()["result"]["id"]
    assert [
        x["id"] for x in client.get("/api/inspection-results", headers=auth(world, "enterprise_a")).json()["results"]
    ] == [rid]
    assert client.get("/api/inspection-results", headers=auth(world, "enterprise_b")).json()["results"] == []
    assert client.post(f"/api/inspection-results/{rid}/publish", headers=auth(world, "enterprise_b")).status_code == 404
    assert client.post(f"/api/inspection-results/{rid}/publish", headers=office).status_code == 200
    assert client.get("/api/public/inspection-results").json()["count"] == 0  # marked, not yet signed off
    st = client.get("/api/publications/inspection_results", headers=office).json()
    assert (
        client.post(
            "/api/publications/inspection_results/sign-off",
            headers=office,
            json={"expected_sha256": st["draft_sha256"]},
        ).status_code
        == 201
    )
    assert client.get("/api/public/inspection-results").json()["items"][0]["summary"] == "未发现问题"
