"""Field reports are warning data (群测群防): a monitor's crack width and macro signs go through
the alarm engine as readings of the hazard point, and the report, its photo and the alarm are linked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from subsidence.errors import ValidationFailed
from subsidence.monitoring.field import CRACK_WIDTH_MM, FIELD_CLEAR_DELAY, SIGNS, record_report, sign_level
from subsidence.monitoring.models import Alarm, AlarmEvent, HazardPoint, OutboxMessage, Sensor
from tests.web.conftest import auth
from tests.web.test_browser import tiny_png


def report(client, world, role="monitor", hp="ha", **form):
    files = form.pop("files", None)
    data = {"note": form.pop("note", "巡查"), **form}
    return client.post(
        f"/api/hazard-points/{world.ids[hp]}/observations", data=data, files=files, headers=auth(world, role)
    )


def test_sign_levels():
    assert sign_level([]) == 0
    assert sign_level(["tilting"]) == 2 and sign_level(["bulging"]) == 3
    assert sign_level(["new_cracks", "tilting", "seepage"]) == 4  # three different signs together: one more
    with pytest.raises(ValidationFailed, match="unknown sign"):
        sign_level(["ufo"])
    assert set(SIGNS) == {"new_cracks", "bulging", "seepage", "sounds", "tilting"}


def test_a_35_mm_crack_raises_an_orange_warning(client, world, session):
    """Before: the report was an audit note and raised nothing."""
    r = report(
        client,
        world,
        crack_width_mm="35",
        note="坡脚裂缝宽约 3.5 厘米",
        files={"photo": ("crack.png", tiny_png(), "image/png")},
    )
    assert r.status_code == 201, r.text
    obs = r.json()["observation"]
    assert [a["level"] for a in obs["alarms"]] == [3] and obs["alarms"][0]["event"] == "raised"
    assert CRACK_WIDTH_MM[2] <= 35 < CRACK_WIDTH_MM[3]
    alarm = session.get(Alarm, obs["alarms"][0]["id"])
    assert alarm.hazard_point_id == world.ids["ha"] and alarm.state == "open" and alarm.level == 3
    assert alarm.details["field_report"]["photo"] == obs["photo"]["sha256"]  # the alarm points at the report
    assert alarm.next_escalation_at is not None  # escalation runs as for a sensor
    # notifications queued in the same transaction (outbox), like any alarm
    assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.alarm_id == alarm.id)) is not None
    # the hazard point's history holds the report, its photo and the alarm it raised
    hp = client.get(f"/api/hazard-points/{world.ids['ha']}", headers=auth(world, "office")).json()
    ev = [h for h in hp["history"] if h["action"] == "field_observation"][-1]
    assert ev["after"]["crack_width_mm"] == 35 and ev["after"]["photo"]["sha256"] == obs["photo"]["sha256"]
    assert ev["after"]["alarms"][0]["id"] == alarm.id
    assert hp["warning_level"] == "orange"
    # the warning feed shows it, and the town on duty may acknowledge it
    feed = {a["id"]: a for a in client.get("/api/alarms", headers=auth(world, "town")).json()["items"]}
    assert feed[alarm.id]["can_ack"] is True


def test_macro_signs_alone_raise_and_a_calm_report_clears(client, world, session):
    r = report(client, world, signs=["bulging", "seepage"])
    assert r.status_code == 201, r.text
    (a,) = r.json()["observation"]["alarms"]
    assert a["level"] == 3
    s = session.scalar(select(Sensor).where(Sensor.code == "HA-QCQF-S"))
    assert s.config["manual"] is True and s.hazard_point_id == world.ids["ha"]
    # a later patrol sees nothing: the alarm holds until the clear delay has passed
    hp = session.get(HazardPoint, world.ids["ha"])
    from subsidence.db.base import utcnow

    later = utcnow() + timedelta(hours=1)
    record_report(session, hp, actor="monitor:monitor", note="未见异常", now=later)
    assert session.get(Alarm, a["id"]).open_key is not None
    record_report(
        session, hp, actor="monitor:monitor", note="未见异常", now=later + FIELD_CLEAR_DELAY + timedelta(hours=1)
    )
    session.commit()
    assert session.get(Alarm, a["id"]).open_key is None  # cleared, as a sensor's alarm clears
    events = [e.event for e in session.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == a["id"]))]
    assert events[0] == "raised" and events[-1] in ("cleared", "downgraded")


def test_no_data_quality_alarms_for_manual_readings(client, world, session):
    assert report(client, world, crack_width_mm="5").status_code == 201
    from subsidence.db.base import utcnow
    from subsidence.monitoring.evaluation import evaluate

    evaluate(session, now=utcnow() + timedelta(days=30))  # a month without patrols
    session.commit()
    kinds = {
        a.kind
        for a in session.scalars(
            select(Alarm).join(Sensor, Sensor.id == Alarm.sensor_id).where(Sensor.code.like("HA-QCQF-%"))
        )
    }
    assert not kinds & {"no_data", "flat_line", "sensor_fault"}


def test_reports_refused_outside_the_monitors_points_and_photos_scoped(client, world):
    assert report(client, world, hp="hb", crack_width_mm="40").status_code == 404  # not its hazard point
    r = report(client, world, files={"photo": ("p.png", tiny_png(), "image/png")})
    sha = r.json()["observation"]["photo"]["sha256"]
    mine = client.get("/api/field-reports/mine", headers=auth(world, "monitor")).json()["items"]
    assert mine and mine[0]["photo"]["sha256"] == sha  # its own past reports, with the photo
    assert client.get(f"/api/field-photos/{sha}", headers=auth(world, "monitor")).content == tiny_png()
    assert client.get(f"/api/field-photos/{sha}", headers=auth(world, "office")).status_code == 200
    assert client.get(f"/api/field-photos/{sha}", headers=auth(world, "enterprise_b")).status_code == 404
    assert client.get(f"/api/field-photos/{'0' * 64}", headers=auth(world, "office")).status_code == 404
    bad = report(client, world, signs=["ufo"])
    assert bad.status_code == 422


def test_history_in_words_folds_the_row_changes_of_a_transition():
    from subsidence.ledger.narrative import in_words

    at = "2024-11-15T09:30:01+08:00"
    events = [
        {
            "at": "2024-11-01T08:00:00+08:00",
            "actor": "office:office",
            "action": "insert",
            "before": None,
            "after": {"title": "甲一矿地裂缝未充填", "deadline": None, "illustrative": False},
            "reason": None,
        },
        {
            "at": at,
            "actor": "department:nrb",
            "action": "update",
            "before": {"state": "found"},
            "after": {"state": "notice_issued"},
            "reason": None,
        },
        {
            "at": at,
            "actor": "department:nrb",
            "action": "transition",
            "before": {"state": "found"},
            "after": {"state": "notice_issued", "transition": "issue_notice", "deadline": "2024-12-20"},
            "reason": None,
        },
        {
            "at": at,
            "actor": "demo",
            "action": "update",
            "before": {"illustrative": True},
            "after": {"illustrative": False},
            "reason": None,
        },
    ]
    words = in_words(events, "zh-CN")
    assert len(words) == 2  # the mirrored update and the flag change are folded away
    assert words[0]["who"] == "部门 nrb" or words[0]["who"].endswith(" nrb")
    assert "已发现 → 已下达整改通知" in words[0]["text"] and "2024-12-20" in words[0]["text"]
    assert words[1]["text"].startswith("登记问题") and "甲一矿地裂缝未充填" in words[1]["text"]
    assert not any("_" in w["text"] for w in words)  # no codes
    en = in_words(events, "en")
    assert "found → notice issued" in en[0]["text"] or "found →" in en[0]["text"]
