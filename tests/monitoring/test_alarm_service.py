"""Alarm engine end to end on both databases: ingest → evaluate → alarms, history, outbox, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from subsidence.errors import Conflict
from subsidence.monitoring import evaluation as A
from subsidence.monitoring import ingest as I
from subsidence.monitoring import queries
from subsidence.monitoring.models import Alarm, AlarmEvent, OutboxMessage
from subsidence.monitoring.warning import methods as M
from subsidence.monitoring.warning.levels import Level

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def series_rows(code, days, *, fn, step_min=60, sigma=0.05, seed=0, start_day=0.0):
    rng = np.random.default_rng(seed)
    n = int((days - start_day) * 24 * 60 / step_min)
    td = start_day + np.arange(n) * step_min / 1440.0
    vals = fn(td) + rng.normal(0, sigma, n)
    return [
        {"sensor": code, "time": (T0 + timedelta(days=float(d))).isoformat(), "value": float(v)}
        for d, v in zip(td, vals)
    ], td


def feed(session, code, fn, days, *, sigma, step_min=60, chunk_days=1.0, seed=0, sensor_ids=None):
    """Ingest day by day and evaluate after each day, as the live system does. Returns transitions."""
    out = []
    d = 0.0
    rng_seed = seed
    while d < days - 1e-9:
        e = min(days, d + chunk_days)
        rows, _ = series_rows(code, e, fn=fn, step_min=step_min, sigma=sigma, seed=rng_seed, start_day=d)
        rng_seed += 1
        now = T0 + timedelta(days=e)
        I.ingest_batch(session, rows, f"day{d}", now=now)
        rep = A.evaluate(session, now=now, sensor_ids=sensor_ids)
        out.extend(rep.transitions)
        session.commit()
        d = e
    return out


TF, TON, V0 = 30.0, 18.0, 0.5


def voight(td):
    return M.voight_series(np.minimum(td, TF - 1e-3), t_failure=TF, t_onset=TON, v0=V0)


def test_accelerating_slope_raises_red_before_failure_with_forecast(session, sensors):
    code = "CRK-01"
    trans = feed(session, code, voight, 29.5, sigma=0.05, step_min=60, chunk_days=0.5, sensor_ids=[sensors["crack"].id])
    moving = [t for t in trans if t["kind"] in ("tangent_angle", "inverse_velocity")]
    first_red = next(t for t in moving if t["to"] == "red")
    t_red = datetime.fromisoformat(first_red["at"])
    lead = (T0 + timedelta(days=TF) - t_red).total_seconds() / 86400
    assert 0.4 < lead < 5, (lead, moving)  # red comes before failure, and not days too early
    # nothing above yellow before the onset of acceleration
    assert all(
        datetime.fromisoformat(t["at"]) > T0 + timedelta(days=TON) for t in moving if t["to"] in ("orange", "red")
    )
    tangent = session.scalar(select(Alarm).where(Alarm.kind == "tangent_angle", Alarm.open_key.is_not(None)))
    assert tangent.level >= Level.ORANGE
    alarm = session.scalar(select(Alarm).where(Alarm.kind == "inverse_velocity", Alarm.open_key.is_not(None)))
    assert alarm.level == Level.RED and alarm.state == "open"
    fc = alarm.details.get("forecast")
    assert fc and fc["ok"], alarm.details
    lo, hi = (datetime.fromisoformat(x) if x else None for x in fc["failure_window"])
    assert lo <= T0 + timedelta(days=TF + 0.5) and (hi is None or hi >= T0 + timedelta(days=TF - 0.5))
    # history and outbox rows are written with the alarm
    events = session.scalars(select(AlarmEvent.event).where(AlarmEvent.alarm_id == alarm.id)).all()
    assert events[0] == "raised" and "escalated" in events  # nobody acknowledged: escalated town, bureau
    t_events = session.scalars(select(AlarmEvent.event).where(AlarmEvent.alarm_id == tangent.id)).all()
    assert t_events[0] == "raised" and "upgraded" in t_events
    msgs = session.scalars(select(OutboxMessage).where(OutboxMessage.alarm_id == alarm.id)).all()
    assert {m.channel for m in msgs} >= {"sms", "log"}
    assert any("13800000001" == m.recipient for m in msgs)
    assert (
        alarm.hazard_point_id
        and session.get(type(sensors["crack"].hazard_point), alarm.hazard_point_id).warning_level == "red"
    )


def test_steady_noisy_series_never_red(session, sensors):
    trans = feed(
        session,
        "GNSS-02",
        lambda td: 0.8 * td,
        20.0,
        sigma=1.0,
        step_min=10,
        chunk_days=2.0,
        sensor_ids=[sensors["gnss2"].id],
    )
    assert not [t for t in trans if t.get("to") in ("orange", "red")], trans


def test_rain_step_with_rain_gauge_no_false_red(session, sensors):
    def creep_with_step(td):
        return 0.5 * td + 6.0 * np.clip(td - 12.0, 0, 1.0)  # 6 mm step over day 12 (heavy rain)

    def rain(td):
        return np.where((td >= 11.7) & (td < 12.5), 4.0, 0.0)  # ≈ 4 mm/h for 19 h ≈ 76 mm

    rng_rows, _ = series_rows("RAIN-01", 20.0, fn=rain, step_min=60, sigma=0.0)
    for r in rng_rows:
        r["value"] = max(0.0, r["value"])
    I.ingest_batch(session, rng_rows, "rain", now=T0 + timedelta(days=20))
    session.commit()
    trans = feed(session, "CRK-01", creep_with_step, 20.0, sigma=0.03, step_min=60, sensor_ids=[sensors["crack"].id])
    assert not [t for t in trans if t["kind"] == "tangent_angle" and t["to"] == "red"], trans


def test_acknowledge_escalate_and_history(session, sensors):
    sensors["gnss"].config = {"threshold": {"value": [10, 20, 30, 40]}}
    session.flush()
    rows = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(minutes=10 * i)).isoformat(), "value": 45.0 + i * 0.1}
        for i in range(4)
    ]
    I.ingest_batch(session, rows, "x", now=T0 + timedelta(hours=1))
    A.evaluate(session, now=T0 + timedelta(hours=1), sensor_ids=[sensors["gnss"].id])
    alarm = session.scalar(select(Alarm).where(Alarm.kind == "threshold"))
    assert alarm.level == Level.RED and alarm.escalation_stage == 0
    # not acknowledged: after 10 min the town, after 30 min the bureau
    told = T0 + timedelta(hours=1)  # escalation counts from when people were told, not the sample time
    assert alarm.next_escalation_at == told + timedelta(minutes=10)
    assert A.escalate_due(session, now=told + timedelta(minutes=9)) == 0
    assert A.escalate_due(session, now=told + timedelta(minutes=11)) == 1
    assert alarm.escalation_stage == 1
    town = session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.idempotency_key.like("%escalated:s1%"))
    ).all()
    assert "0477-0000001" in town
    assert A.escalate_due(session, now=told + timedelta(minutes=12)) == 0
    assert A.escalate_due(session, now=told + timedelta(minutes=40)) == 1
    assert any("nrb@example.org" == r for r in session.scalars(select(OutboxMessage.recipient)))
    A.acknowledge(session, alarm.id, actor="town:duty-officer", note="已电话通知撤离", now=T0 + timedelta(hours=2))
    with pytest.raises(Conflict):
        A.acknowledge(session, alarm.id, actor="x")
    assert alarm.state == "acknowledged" and alarm.next_escalation_at is None
    hist = queries.alarm_history(session, alarm.id)
    assert [h["event"] for h in hist] == ["raised", "escalated", "escalated", "acknowledged"]
    assert hist[-1]["actor"] == "town:duty-officer"
    listed = queries.list_alarms(session)
    assert listed[0]["id"] == alarm.id and listed[0]["level_zh"].startswith("红色")


def test_data_quality_alarms_no_data_and_flat_line(session, sensors):
    sid = sensors["gnss"].id
    rows = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(minutes=10 * i)).isoformat(), "value": 3.0} for i in range(70)
    ]
    I.ingest_batch(session, rows, "flat", now=T0 + timedelta(hours=12))
    rep = A.evaluate(session, now=T0 + timedelta(hours=12), sensor_ids=[sid])
    kinds = {(t["kind"], t["event"]) for t in rep.transitions}
    assert ("flat_line", "raised") in kinds
    rep = A.evaluate(session, now=T0 + timedelta(hours=20), sensor_ids=[sid])
    dq = session.scalars(select(Alarm).where(Alarm.data_quality.is_(True), Alarm.open_key.is_not(None))).all()
    assert {a.kind for a in dq} == {"flat_line", "no_data"}
    assert all(a.level == Level.BLUE and a.next_escalation_at is None for a in dq)
    # data comes back (and moves): both clear
    rows = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(hours=20, minutes=i)).isoformat(), "value": 3.0 + i}
        for i in range(61)
    ]
    I.ingest_batch(session, rows, "back", now=T0 + timedelta(hours=21, minutes=1))
    A.evaluate(session, now=T0 + timedelta(hours=21, minutes=1), sensor_ids=[sid])
    assert session.scalar(select(func.count()).select_from(Alarm).where(Alarm.open_key.is_not(None))) == 0


def test_web_adapters_feed_levels_thresholds_series(session, sensors):
    from subsidence.monitoring.queries import series

    sensors["gnss"].config = {"threshold": {"value": [10, 20, 30, 40]}}
    rows = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(minutes=10 * i)).isoformat(), "value": 25.0} for i in range(5)
    ]
    I.ingest_batch(session, rows, "x", now=T0 + timedelta(hours=1))
    A.evaluate(session, now=T0 + timedelta(hours=1), sensor_ids=[sensors["gnss"].id])
    hp_id = sensors["gnss"].hazard_point_id
    assert queries.current_levels(session, [hp_id]) == {hp_id: "yellow"}
    f = queries.feed(session)
    assert f[0]["level"] == "yellow" and f[0]["hazard_point_id"] == hp_id
    assert [t["value"] for t in queries.thresholds_for(session, sensors["gnss"])] == [10, 20, 30, 40]
    pts = series(session, sensors["gnss"])["points"]
    assert len(pts) == 5 and pts[0]["v"] == 25.0
    alarm = A.get_alarm(session, f[0]["id"])
    A.acknowledge(session, alarm, actor="monitor:a")  # the web passes the object
    assert alarm.acknowledged_by == "monitor:a"


def test_sensor_fault_alarm_from_out_of_range_values(session, sensors):
    sid = sensors["gnss"].id
    bad = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(minutes=10 * i)).isoformat(), "value": 99999.0} for i in range(3)
    ]
    rep = I.ingest_batch(session, bad, "bad", now=T0 + timedelta(hours=1))
    assert rep.faults == {sid: 3} and rep.accepted == 0
    A.evaluate(session, now=T0 + timedelta(hours=1), sensor_ids=[sid], faults=rep.faults)
    fault = session.scalar(select(Alarm).where(Alarm.kind == "sensor_fault", Alarm.open_key.is_not(None)))
    assert fault is not None and fault.data_quality and fault.next_escalation_at is None
    good = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(hours=1, minutes=10 * i)).isoformat(), "value": 1.0 + i}
        for i in range(3)
    ]
    rep = I.ingest_batch(session, good, "good", now=T0 + timedelta(hours=2))
    A.evaluate(session, now=T0 + timedelta(hours=2), sensor_ids=[sid], faults=rep.faults)
    assert fault.state == "cleared"


def test_groundwater_bands_only_for_the_phreatic_table(session, hazard):
    from subsidence.monitoring import hazards as H

    shallow = H.add_sensor(
        session, code="GW-S", kind="groundwater_well", hazard_point="HP-T-001", expected_interval_s=86400
    )
    deep = H.add_sensor(
        session, code="GW-D", kind="groundwater_well", hazard_point="HP-T-001", expected_interval_s=86400
    )
    rows = [
        {"sensor": c, "time": (T0 + timedelta(days=i)).isoformat(), "value": v}
        for c, v in (("GW-S", 2.5), ("GW-D", 35.0))
        for i in range(4)
    ]
    I.ingest_batch(session, rows, "gw", now=T0 + timedelta(days=4))
    A.evaluate(session, now=T0 + timedelta(days=4), sensor_ids=[shallow.id, deep.id])
    alarms = {a.sensor_id: a for a in session.scalars(select(Alarm).where(Alarm.kind == "groundwater"))}
    assert alarms[shallow.id].level == Level.ORANGE  # 2.06–4.0 m: vegetation degradation
    assert deep.id not in alarms  # a 35 m aquifer is not judged by the 4 m ecological limit
