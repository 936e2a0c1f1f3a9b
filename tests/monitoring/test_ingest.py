"""Ingest validation and storage (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.monitoring import hazards as H
from subsidence.monitoring import ingest as I
from subsidence.monitoring.models import IngestBatch, Observation, Sensor

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)


def rows(code, start, n, step_min=10, f=lambda i: 0.5 * i, unit=None):
    out = []
    for i in range(n):
        r = {"sensor": code, "time": (start + timedelta(minutes=step_min * i)).isoformat(), "value": f(i)}
        if unit:
            r["unit"] = unit
        out.append(r)
    return out


def count(session, code=None):
    q = select(func.count()).select_from(Observation)
    if code:
        q = q.join(Sensor, Sensor.id == Observation.sensor_id).where(Sensor.code == code)
    return session.scalar(q)


def test_accepts_and_reingest_is_idempotent(session, sensors):
    batch = rows("GNSS-01", NOW - timedelta(days=1), 50)
    r1 = I.ingest_batch(session, batch, "t1", now=NOW)
    assert (r1.accepted, r1.duplicates, r1.rejected) == (50, 0, [])
    r2 = I.ingest_batch(session, batch, "t2", now=NOW)
    assert (r2.accepted, r2.duplicates, len(r2.rejected)) == (0, 50, 0)
    session.commit()
    assert count(session) == 50
    assert session.scalar(select(func.count()).select_from(IngestBatch)) == 2


def test_validation_cases_reported_by_row(session, sensors):
    t0 = NOW - timedelta(hours=5)
    batch = [
        {"sensor": "GNSS-01", "time": t0.isoformat(), "value": 1.0},  # 1 ok
        {"sensor": "NOPE", "time": t0.isoformat(), "value": 1.0},  # 2 unknown sensor
        {"sensor": "GNSS-01", "time": "2025-07-10 08:00", "value": 1.0},  # 3 no time zone
        {"sensor": "GNSS-01", "time": (NOW + timedelta(hours=2)).isoformat(), "value": 1},  # 4 future
        {"sensor": "GNSS-01", "time": (t0 + timedelta(minutes=10)).isoformat(), "value": "x"},  # 5 not a number
        {"sensor": "GNSS-01", "time": (t0 + timedelta(minutes=20)).isoformat(), "value": 1, "unit": "deg"},  # 6
        {"sensor": "GNSS-01", "time": (t0 + timedelta(minutes=30)).isoformat(), "value": 9999},  # 7 range
        {"sensor": "GNSS-01", "time": t0.isoformat(), "value": 2.0},  # 8 conflicting dup
        {"sensor": "GNSS-01", "time": (t0 + timedelta(minutes=40)).isoformat(), "value": 0.0012, "unit": "m"},  # 9
        {"sensor": "", "time": t0.isoformat(), "value": 1.0},  # 10 no sensor
        {"sensor": "GNSS-01", "time": "yesterday", "value": 1.0},  # 11 bad time
    ]
    r = I.ingest_batch(session, batch, "bad.csv", now=NOW)
    reasons = {row: why for row, _, why in r.rejected}
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 8, 10, 11}
    assert "unknown sensor 'NOPE'" in reasons[2]
    assert "no time zone" in reasons[3]
    assert "future" in reasons[4]
    assert "not a number" in reasons[5]
    assert "cannot be converted" in reasons[6]
    assert "outside the sensor's range" in reasons[7]
    assert "second, different value" in reasons[8]
    assert "ISO 8601" in reasons[11]
    assert r.accepted == 2
    vals = sorted(session.scalars(select(Observation.value)).all())
    assert vals == pytest.approx([1.0, 1.2])  # 0.0012 m stored as 1.2 mm


def test_strict_mode_stores_nothing(session, sensors):
    batch = rows("GNSS-01", NOW - timedelta(hours=3), 5) + [{"sensor": "NOPE", "time": NOW.isoformat(), "value": 1}]
    with pytest.raises(ValidationFailed, match="nothing stored"):
        I.ingest_batch(session, batch, "strict.csv", now=NOW, strict=True)
    session.rollback()
    assert count(session) == 0


def test_conflict_with_stored_value_is_rejected_not_overwritten(session, sensors):
    I.ingest_batch(session, rows("GNSS-01", NOW - timedelta(hours=1), 3), "a", now=NOW)
    r = I.ingest_batch(session, rows("GNSS-01", NOW - timedelta(hours=1), 3, f=lambda i: 9.0), "b", now=NOW)
    assert len(r.rejected) == 3 and "never overwritten" in r.rejected[0][2]


def test_out_of_order_gaps_and_backfill(session, sensors):
    start = NOW - timedelta(days=1)
    batch = rows("GNSS-01", start, 20)
    batch = batch[10:] + batch[:10]
    r = I.ingest_batch(session, batch, "ooo", now=NOW)
    assert r.accepted == 20 and r.reordered == 20
    late = rows("GNSS-01", start - timedelta(hours=5), 3)
    r2 = I.ingest_batch(session, late, "late", now=NOW)
    assert r2.accepted == 3 and any("back-filled" in w for w in r2.warnings)
    gap = rows("GNSS-01", NOW - timedelta(hours=2), 2, step_min=60, f=lambda i: 10 + i)
    r3 = I.ingest_batch(session, gap, "gap", now=NOW)
    assert any("gap" in w for w in r3.warnings)


def test_isolated_spike_rejected_but_newest_sample_never(session, sensors):
    vals = [0.01 * i for i in range(40)]
    vals[20] = 50.0  # isolated spike
    vals[39] = 60.0  # newest sample jumps: might be real movement, kept
    batch = [
        {"sensor": "CRK-01", "time": (NOW - timedelta(minutes=40 - i)).isoformat(), "value": v}
        for i, v in enumerate(vals)
    ]
    r = I.ingest_batch(session, batch, "spk", now=NOW)
    assert [x[0] for x in r.rejected] == [21] and "spike" in r.rejected[0][2]
    assert r.accepted == 39


def test_csv_with_chinese_headers_and_bucketed_query(session, sensors, tmp_path):
    p = tmp_path / "obs.csv"
    lines = ["测点,时间,观测值,单位"]
    for i in range(6 * 24):
        lines.append(f"GNSS-01,{(NOW - timedelta(days=1) + timedelta(minutes=10 * i)).isoformat()},{i / 10},cm")
    p.write_text("\ufeff" + "\n".join(lines), encoding="utf-8")
    r = I.ingest_csv(session, p, now=NOW)
    assert r.accepted == 144 and not r.rejected
    sid = sensors["gnss"].id
    buckets = I.bucketed(session, sid, NOW - timedelta(days=2), NOW, 3600)
    assert len(buckets) == 24 and all(b["n"] == 6 for b in buckets)
    assert buckets[0]["min"] == 0.0 and buckets[0]["max"] == pytest.approx(5.0)  # cm → mm
    t, v = I.series(session, sid, limit=10)
    assert t.size == 10 and v[-1] == pytest.approx(143.0)
    assert I.latest_times(session, [sid])[sid] == NOW - timedelta(minutes=10)


def test_csv_missing_column_is_refused(tmp_path, session, sensors):
    p = tmp_path / "bad.csv"
    p.write_text("sensor,when,value\nGNSS-01,2025-01-01T00:00:00Z,1\n")
    with pytest.raises(ValidationFailed, match="no 'time' column"):
        I.ingest_csv(session, p, now=NOW)


def test_sensor_registry_errors(session, hazard):
    with pytest.raises(ValidationFailed, match="does not fit"):
        H.add_sensor(session, code="X", kind="gnss", unit="deg", hazard_point="HP-T-001")
    with pytest.raises(NotFound, match="HP-NONE"):
        H.add_sensor(session, code="X", kind="gnss", hazard_point="HP-NONE")
    with pytest.raises(ValidationFailed, match="tie it"):
        H.add_sensor(session, code="X", kind="gnss")
    H.add_sensor(session, code="X", kind="GNSS位移监测", hazard_point="HP-T-001")
    with pytest.raises(Conflict):
        H.add_sensor(session, code="X", kind="gnss", hazard_point="HP-T-001")
    with pytest.raises(ValidationFailed, match="row 3"):
        H.import_sensors(
            session,
            [
                {"code": "A1", "kind": "gnss", "hazard_point": "HP-T-001"},
                {"code": "A2", "kind": "bogus", "hazard_point": "HP-T-001"},
            ],
        )


def test_unit_conversion_table():
    assert I.conversion_factor("m", "mm") == 1000
    assert I.conversion_factor("cm", "mm") == 10
    assert I.conversion_factor("rad", "deg") == pytest.approx(57.2957795)
    with pytest.raises(ValueError, match="unknown unit"):
        I.conversion_factor("furlong", "mm")


def test_many_sensor_batch_uses_the_same_rules(session, hazard):
    """The bulk path (≥ 20 sensors, one tick each) applies the same checks as the per-sensor path."""
    for i in range(25):
        H.add_sensor(session, code=f"B{i:02d}", kind="crack_meter", hazard_point="HP-T-001", expected_interval_s=600)
    start = NOW - timedelta(hours=14)
    hist = [r for i in range(25) for r in rows(f"B{i:02d}", start, 40, f=lambda k: 0.01 * k)]
    assert I.ingest_batch(session, hist, "hist", now=NOW).accepted == 1000
    t_new = start + timedelta(minutes=400)
    tick = [{"sensor": f"B{i:02d}", "time": t_new.isoformat(), "value": 0.4} for i in range(4, 25)]
    tick.append({"sensor": "B00", "time": start.isoformat(), "value": 0.0})  # exact duplicate
    tick.append({"sensor": "B01", "time": start.isoformat(), "value": 9.0})  # conflicts with stored
    tick += [
        {"sensor": "B02", "time": (t_new + timedelta(minutes=10 * k)).isoformat(), "value": v}
        for k, v in enumerate([0.40, 25.0, 0.42])
    ]  # isolated spike
    tick.append({"sensor": "B03", "time": (t_new + timedelta(hours=5)).isoformat(), "value": 0.5})  # gap
    r = I.ingest_batch(session, tick, "tick", now=NOW)
    reasons = {s: why for _, s, why in r.rejected}
    assert r.duplicates == 1 and "never overwritten" in reasons["B01"] and "spike" in reasons["B02"]
    assert any(w.startswith("B03") and "gap" in w for w in r.warnings), (r.warnings, r.rejected)
    assert r.accepted == 21 + 2 + 1


def test_gbk_csv_and_xlsx_observations(session, sensors, tmp_path):
    import numpy as np
    import openpyxl

    p = tmp_path / "gbk.csv"
    p.write_bytes(("测点,时间,观测值\nGNSS-01,2025-05-31T10:00:00+08:00,1.5\n").encode("gb18030"))
    r = I.ingest_csv(session, p, now=NOW)
    assert r.accepted == 1 and not r.rejected
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["监测数据"])  # title row above the header
    ws.append(["测点", "时间", "观测值"])
    ws.append(["GNSS-01", datetime(2025, 5, 31, 11, 0), 2.0])  # naive Excel time
    ws.append(["GNSS-01", "2025-05-31T03:10:00Z", "x"])
    wb.save(tmp_path / "obs.xlsx")
    r = I.ingest_csv(session, tmp_path / "obs.xlsx", now=NOW, default_tz="UTC")
    assert r.accepted == 1 and r.rejected == [(4, "GNSS-01", "value 'x' is not a number")]
    t, _ = I.series(session, sensors["gnss"].id)
    assert t[-1] == np.datetime64("2025-05-31T11:00")  # the explicit zone (UTC) was used
    for name, content, message in (
        ("none.csv", None, "file not found"),
        ("obs.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
        ("obs.json", b"{}", "unsupported file type .json"),
    ):
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(ValidationFailed, match=message) as exc:
            I.ingest_csv(session, tmp_path / name, now=NOW)
        assert name in exc.value.message


def test_ingest_applies_the_sensor_observe_policy_to_an_actor(session, sensors, hazard):
    from subsidence.access.policy import Actor
    from subsidence.errors import Forbidden
    from subsidence.vocabulary import Role

    H.upsert_hazard(session, {"code": "HP-T-002", "name": "另一隐患点", "hazard_type": "collapse"})
    H.add_sensor(session, code="GNSS-99", kind="gnss", hazard_point="HP-T-002", expected_interval_s=600)
    session.flush()
    t = (NOW - timedelta(hours=1)).isoformat()
    mine = [{"sensor": "GNSS-01", "time": t, "value": 1.0}, {"sensor": "NOPE", "time": t, "value": 1.0}]
    monitor = Actor(username="m1", role=Role.MONITOR, hazard_point_ids=frozenset({hazard.id}))
    r = I.ingest_batch(session, mine, "m", now=NOW, actor=monitor)  # own hazard point: stored
    assert r.accepted == 1 and [x[1] for x in r.rejected] == ["NOPE"]  # unknown codes: rejected rows, as ever
    n = session.scalar(select(func.count()).select_from(Observation))
    mixed = [
        {"sensor": "GNSS-01", "time": (NOW - timedelta(minutes=30)).isoformat(), "value": 2.0},
        {"sensor": "GNSS-99", "time": t, "value": 1.0},
    ]
    with pytest.raises(Forbidden, match="GNSS-99") as exc:  # another point's sensor: the whole batch refused
        I.ingest_batch(session, mixed, "m", now=NOW, actor=monitor)
    assert exc.value.http_status == 403 and "GNSS-01" not in exc.value.message
    assert session.scalar(select(func.count()).select_from(Observation)) == n  # nothing stored
    with pytest.raises(Forbidden):  # a role without the observe action at all
        I.ingest_batch(session, mine, "p", now=NOW, actor=Actor(username="p", role=Role.PUBLIC))
    with pytest.raises(Forbidden):
        I.ingest_batch(session, [], "p", now=NOW, actor=Actor(username="p", role=Role.PUBLIC))
    office = Actor(username="o", role=Role.OFFICE)
    assert I.ingest_batch(session, mixed, "o", now=NOW, actor=office).accepted == 2
    assert (
        I.ingest_batch(session, [{"sensor": "GNSS-99", "time": NOW.isoformat(), "value": 3.0}], "cli", now=NOW).accepted
        == 1
    )  # no actor: the trusted operator (CLI)
