"""Warning feed, acknowledgement, warning levels on the map and sensor series with alarm lines, per scope."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from tests.web.conftest import auth

models = pytest.importorskip("subsidence.models.monitoring", reason="monitoring models not installed")


@pytest.fixture
def alarms(engine, world):
    """An open orange alarm on HA's sensor and an open red one on HB's (as the alarm engine leaves them)."""
    from subsidence.models import Sensor

    t0 = datetime(2024, 11, 14, 8, 0, tzinfo=timezone.utc)
    with Session(engine) as s:
        s.info["actor"] = "test"
        out = {}
        for code, hp, level in (("S-HA-1", "ha", 3), ("S-HB-1", "hb", 4)):
            sensor = s.query(Sensor).filter_by(code=code).one()
            a = models.Alarm(open_key=f"{sensor.id}:threshold", sensor_id=sensor.id, hazard_point_id=world.ids[hp],
                             kind="threshold", data_quality=False, level=level, max_level=level, state="open",
                             opened_at=t0, level_since=t0, message=f"{code} 累计位移超限", escalation_stage=0)
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
