"""Warning feed, acknowledgement, warning levels on the map and sensor series with alarm lines, per scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.web.conftest import auth

models = pytest.importorskip("subsidence.monitoring.models", reason="monitoring models not installed")


@pytest.fixture
def alarms(engine, world):
    """An open orange alarm on HA's sensor and an open red one on HB's (as the alarm engine leaves them)."""
    from subsidence.monitoring.models import Sensor

    t0 = datetime(2024, 11, 14, 8, 0, tzinfo=UTC)
    with Session(engine) as s:
        s.info["actor"] = "test"
        out = {}
        for code, hp, level in (("S-HA-1", "ha", 3), ("S-HB-1", "hb", 4)):
            sensor = s.query(Sensor).filter_by(code=code).one()
            a = models.Alarm(
                open_key=f"{sensor.id}:threshold",
                sensor_id=sensor.id,
                hazard_point_id=world.ids[hp],
                kind="threshold",
                data_quality=False,
                level=level,
                max_level=level,
                state="open",
                opened_at=t0,
                level_since=t0,
                message=f"{code} 累计位移超限",
                escalation_stage=0,
            )
            s.add(a)
            for k in range(24):
                s.add(models.Observation(sensor_id=sensor.id, time=t0 - timedelta(hours=23 - k), value=1.5 * k))
            s.flush()
            out[hp] = a.id
        s.commit()
    return out


def test_feed_is_scoped_and_ack_recorded(client, engine, world, alarms):
    feed = client.get("/api/alarms", headers=auth(world, "office")).json()["items"]
    assert {a["id"] for a in feed} == set(alarms.values())
    mine = client.get("/api/alarms", headers=auth(world, "enterprise_b")).json()["items"]
    assert [a["id"] for a in mine] == [alarms["hb"]]
    # the monitor may acknowledge HA's alarm but not HB's (outside its points: 404, nothing changes)
    assert client.post(f"/api/alarms/{alarms['hb']}/ack", headers=auth(world, "monitor")).status_code == 404
    r = client.post(f"/api/alarms/{alarms['ha']}/ack", headers=auth(world, "monitor"))
    assert r.status_code == 200, r.text
    with Session(engine) as s:
        assert s.get(models.Alarm, alarms["ha"]).acknowledged_by == "monitor:monitor"
        assert s.get(models.Alarm, alarms["hb"]).acknowledged_by is None
    assert client.post(f"/api/alarms/{alarms['ha']}/ack", headers=auth(world, "office")).status_code == 409
    assert client.post("/api/alarms/999999/ack", headers=auth(world, "office")).status_code == 404


def test_levels_on_the_map_and_series(client, world, alarms):
    fc = client.get("/api/layers/hazard_points", headers=auth(world, "office")).json()
    levels = {f["properties"]["code"]: f["properties"]["warning_level"] for f in fc["features"]}
    assert levels == {"HA": "orange", "HB": "red"}
    d = client.get(f"/api/hazard-points/{world.ids['ha']}", headers=auth(world, "monitor")).json()
    assert d["warning_level"] == "orange" and d["can_observe"] is True
    series = d["series"][0]
    assert series["sensor"] == "S-HA-1" and len(series["points"]) == 24
    assert series["points"][-1]["v"] == pytest.approx(34.5)
    assert isinstance(series["thresholds"], list)


def test_bucket_aggregates_bad_input(client, world, alarms):
    h = auth(world, "office")
    sid = client.get(f"/api/hazard-points/{world.ids['ha']}", headers=h).json()["sensors"][0]["id"]
    r = client.get(
        f"/api/sensors/{sid}/buckets?start=2024-11-13T00:00:00%2B00:00&end=2024-11-15T00:00:00%2B00:00", headers=h
    )
    assert r.status_code == 200 and sum(b.get("n", b.get("count", 1)) for b in r.json()["buckets"]) >= 1
    r = client.get(f"/api/sensors/{sid}/buckets?start=2024-01-01T00:00:00", headers=h)
    assert r.status_code == 422 and "time zone" in r.json()["message"]
    assert client.get("/api/sensors/99999999999999999999/buckets", headers=h).status_code == 422
    # another tenant's sensor does not exist for this caller
    assert client.get(f"/api/sensors/{sid}/buckets", headers=auth(world, "enterprise_b")).status_code == 404


def test_batch_ingest_respects_scope(client, world):
    row = {"sensor": "S-HB-1", "time": "2024-11-15T08:00:00+08:00", "value": 1.0}
    r = client.post("/api/observations/batch", headers=auth(world, "monitor"), json={"rows": [row], "strict": True})
    assert r.status_code == 403 and "S-HB-1" in r.json()["message"]  # not the monitor's point: nothing stored
    own = {"sensor": "S-HA-1", "time": "2024-11-15T08:00:00+08:00", "value": 1.0}
    r = client.post("/api/observations/batch", headers=auth(world, "monitor"), json={"rows": [own]})
    assert r.status_code == 200 and r.json()["accepted"] == 1
