"""The workflow endpoints: extension request and decision, milestone with evidence, the one
deadline count, gate answer with warnings, the numbered 不予受理告知书, escalation and acceptance records."""

from __future__ import annotations

from datetime import timedelta

from tests.web.conftest import TODAY, auth


def _pdf(n: int) -> bytes:
    return b"%PDF-1.4\n% workflow " + str(n).encode() + b"\n%%EOF\n"


def test_extension_milestone_and_counts(client, world):
    pa = world.ids["pa"]
    office, ent_a, ent_b = auth(world, "office"), auth(world, "enterprise_a"), auth(world, "enterprise_b")
    r = client.post(
        f"/api/problems/{pa}/notices",
        headers=office,
        json={
            "deadline": (TODAY + timedelta(days=10)).isoformat(),
            "milestones": [{"description": "完成充填", "due_date": (TODAY + timedelta(days=5)).isoformat()}],
        },
    )
    assert r.status_code == 201, r.text
    want = (TODAY + timedelta(days=20)).isoformat()
    assert (
        client.post(
            f"/api/problems/{pa}/extensions", headers=ent_b, json={"requested_deadline": want, "reason": "x"}
        ).status_code
        == 404
    )
    r = client.post(
        f"/api/problems/{pa}/extensions", headers=ent_a, json={"requested_deadline": want, "reason": "冬季冻土无法施工"}
    )
    assert r.status_code == 201, r.text
    x = r.json()["extension"]
    assert x["state"] == "pending" and x["requested_date"] == TODAY.isoformat()  # the server's date
    assert (
        client.post(
            f"/api/problems/{pa}/extensions/decision", headers=ent_a, json={"approve": True, "reason": "x"}
        ).status_code
        == 403
    )
    r = client.post(f"/api/problems/{pa}/extensions/decision", headers=office, json={"approve": True, "reason": "同意"})
    assert r.status_code == 200 and r.json()["extension"]["granted_deadline"] == want
    assert client.get(f"/api/problems/{pa}/extensions", headers=ent_a).json()["deadline"] == want
    up = client.post(
        f"/api/problems/{pa}/evidence", headers=ent_a, files={"file": ("方案.pdf", _pdf(1), "application/pdf")}
    )
    assert up.status_code in (200, 201), up.text
    ev = up.json()["evidence"]["id"]
    assert (
        client.post(f"/api/problems/{pa}/milestones/1/done", headers=ent_a, json={"evidence_ids": []}).status_code
        == 422
    )
    r = client.post(f"/api/problems/{pa}/milestones/1/done", headers=ent_a, json={"evidence_ids": [ev]})
    assert r.status_code == 200 and r.json()["done_date"] == TODAY.isoformat()
    # an enterprise may not backdate
    r = client.post(
        f"/api/problems/{pa}/milestones/1/done",
        headers=ent_a,
        json={"evidence_ids": [ev], "done_date": (TODAY - timedelta(days=1)).isoformat()},
    )
    assert r.status_code in (403, 409)
    counts = client.get("/api/deadlines", headers=office).json()
    # pb is due in 3 calendar days (due soon on the working-day calendar); nothing overdue after the extension
    assert counts["overdue"] == 0 and counts["due_soon"] == 1 and counts["today"] == TODAY.isoformat()


def test_gate_refusal_notice_and_records(client, world):
    office = auth(world, "office")
    pa = world.ids["pa"]
    # pa's deadline (5 days ago) was typed into the ledger, never notified: not a ground to refuse
    g = client.get("/api/gate", headers=office, params={"mine": "C-A-001", "application": "extension"}).json()
    assert g["reasons"] == [] and any(w["record"] and w["rule"] == "rectification_problem" for w in g["warnings"])
    assert g["outcome"] == "not_evaluable"  # no plan, no fund account: "enter X", never "allowed"
    assert client.post(f"/api/gate/{g['query_id']}/refusal", headers=office, json={}).status_code == 409
    r = client.get(f"/api/gate/{g['query_id']}/refusal", headers=office)
    assert r.status_code == 409
    assert client.get(f"/api/problems/{pa}/escalations", headers=office).json()["escalations"] == []
    assert client.get("/api/acceptances/999999", headers=office).status_code == 404
    assert client.get("/api/escalations/999999", headers=office).status_code == 404


def test_transition_dates_are_the_servers(client, world):
    """Through the API the date of a step is the server's (the app's pinned today); an enterprise cannot give an
    earlier one, the office can only with a reason."""
    pa = world.ids["pa"]
    office, ent_a = auth(world, "office"), auth(world, "enterprise_a")
    assert (
        client.post(
            f"/api/problems/{pa}/notices", headers=office, json={"deadline": (TODAY + timedelta(days=10)).isoformat()}
        ).status_code
        == 201
    )
    r = client.post(
        f"/api/problems/{pa}/transitions",
        headers=ent_a,
        json={"name": "start", "on": (TODAY - timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 403 and "only the office may record an earlier date" in r.json()["message"]
    r = client.post(
        f"/api/problems/{pa}/transitions",
        headers=office,
        json={"name": "start", "on": (TODAY + timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 422 and "future" in r.json()["message"]
    r = client.post(f"/api/problems/{pa}/transitions", headers=ent_a, json={"name": "start"})
    assert r.status_code == 200
    hist = [
        h
        for h in client.get(f"/api/problems/{pa}", headers=office).json()["history"]
        if (h.get("after") or {}).get("transition") == "start"
    ]
    assert hist and hist[0]["after"]["on"] == hist[0]["after"]["recorded_on"] == TODAY.isoformat()


def test_office_backdates_a_step_through_the_api_with_a_reason(client, world):
    """The API carries the office's reason for an earlier date to the ledger: without one the step is refused for
    the missing reason; with one the ledger goes on to check the date against the previous step."""
    pa = world.ids["pa"]
    office = auth(world, "office")
    assert (
        client.post(
            f"/api/problems/{pa}/notices", headers=office, json={"deadline": (TODAY + timedelta(days=10)).isoformat()}
        ).status_code
        == 201
    )
    earlier = (TODAY - timedelta(days=1)).isoformat()
    r = client.post(f"/api/problems/{pa}/transitions", headers=office, json={"name": "start", "on": earlier})
    assert r.status_code == 422 and "needs a reason" in r.json()["message"]
    r = client.post(
        f"/api/problems/{pa}/transitions",
        headers=office,
        json={"name": "start", "on": earlier, "date_reason": "补录纸质台账"},
    )
    assert r.status_code == 422 and "before the previous step" in r.json()["message"]
