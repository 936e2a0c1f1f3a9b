"""Demo data for monitoring and early warning (illustrative): contacts and threatened households of the demo
hazard points, sensor settings, three weeks of synthetic hourly series (one slope accelerating towards failure
about two days after ``today``, one rain event), then one alarm evaluation so the warning feed is populated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.monitoring.evaluation import evaluate
from subsidence.monitoring.hazards import refresh_hazard
from subsidence.monitoring.ingest import store_observations
from subsidence.monitoring.models import HazardContact, HazardPoint, Household, Sensor
from subsidence.monitoring.warning.methods import voight_series
from subsidence.vocabulary import SensorKind

DAYS = 21


def _contacts(session: Session, hp: HazardPoint, k: int) -> int:
    if session.scalar(select(HazardContact.id).where(HazardContact.hazard_point_id == hp.id)) is not None:
        return 0
    town = hp.town.name_zh if hp.town else "镇"
    rows = [
        ("responsible", f"{town}分管副镇长（群测群防责任人）", f"1380000{k:02d}01"),
        ("monitor", f"{hp.village or '村'}监测员", f"1380000{k:02d}02"),
        ("warning", f"{hp.village or '村'}村委会主任（预警信号发布人）", f"1380000{k:02d}03"),
        ("town", f"{town}人民政府值班室", f"0477-86{k:02d}000"),
        ("bureau", "旗自然资源局地质灾害防治股", "0477-8600100"),
        ("rescue", "旗应急管理局救援队", "0477-8600119"),
    ]
    for role, title, phone in rows:
        session.add(HazardContact(hazard_point_id=hp.id, role=role, title=title, phone=phone))
    return len(rows)


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    counts = {"hazard_contacts": 0, "households": 0, "observations": 0}
    hps = session.scalars(select(HazardPoint).order_by(HazardPoint.code)).all()
    # the series end at 16:00 Beijing time on ``today``, or at the last full hour when that is still ahead
    end = min(
        datetime.combine(today, time(8, 0), tzinfo=UTC), datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    )
    start = end - timedelta(days=DAYS)
    hours = np.arange(DAYS * 24)
    t_days = hours / 24.0
    times = [start + timedelta(hours=int(h)) for h in hours]
    for k, hp in enumerate(hps):
        counts["hazard_contacts"] += _contacts(session, hp, k)
        hp.location_text = hp.location_text or f"{hp.village or ''}（示例位置）"
        hp.evacuation_route_text = hp.evacuation_route_text or "沿村道撤离至村委会广场（见图示路线）"
        hp.shelter_name = hp.shelter_name or f"{hp.village or '村'}村委会广场"
        hp.rescue_unit_phone = hp.rescue_unit_phone or "0477-8600119"
        n_house = min(hp.threatened_households or 0, 40)
        people_left = hp.threatened_people or 0
        if session.scalar(select(Household.id).where(Household.hazard_point_id == hp.id)) is None:
            for j in range(n_house):
                people = int(max(1, min(people_left, rng.integers(2, 6)))) if j < n_house - 1 else max(1, people_left)
                people_left = max(0, people_left - people)
                session.add(
                    Household(
                        code=f"{hp.code}-H{j + 1:03d}",
                        hazard_point_id=hp.id,
                        town_id=hp.town_id,
                        village=hp.village,
                        head_role="户主",
                        people=people,
                        house_type=["砖混", "土木", "窑洞"][j % 3],
                        property_10k_yuan=round(float(rng.uniform(8, 40)), 1),
                        illustrative=True,
                    )
                )
                counts["households"] += 1
        session.flush()
        refresh_hazard(session, hp)
    session.flush()
    sensors = session.scalars(select(Sensor).where(Sensor.hazard_point_id.is_not(None)).order_by(Sensor.code)).all()
    rain_by_hp: dict[int, np.ndarray] = {}
    accelerating = sensors[0].hazard_point_id if sensors else None
    for s in sensors:
        s.expected_interval_s = 3600
        s.name = s.name or f"{s.kind.label()}（示例）"
        if s.kind == SensorKind.RAIN_GAUGE:
            s.valid_min, s.valid_max = 0.0, 150.0
            rain = np.zeros(hours.size)
            event = int(rng.integers(5, 12)) * 24 + 14
            rain[event : event + 10] = rng.uniform(1.5, 3.5, 10)  # ~25 mm in an afternoon
            rain_by_hp[s.hazard_point_id] = rain
            vals = rain
        elif s.kind in (SensorKind.GNSS, SensorKind.CRACK_METER):
            s.valid_min, s.valid_max = -2000.0, 2000.0
            v0 = float(rng.uniform(0.2, 0.8))
            noise = 0.6 if s.kind == SensorKind.GNSS else 0.05
            if s.hazard_point_id == accelerating and s.kind == SensorKind.CRACK_METER:
                vals = voight_series(t_days, t_failure=DAYS + 2.0, t_onset=DAYS - 9.0, v0=v0)
            else:
                vals = v0 * t_days
            vals = vals + rng.normal(0, noise, hours.size)
        else:
            continue
        rows = [{"sensor_id": s.id, "time": tt, "value": float(v)} for tt, v in zip(times, vals)]
        counts["observations"] += store_observations(session, rows)
    # groundwater wells: daily depth to water, slowly falling at the mine-side wells
    for s in session.scalars(select(Sensor).where(Sensor.kind == SensorKind.GROUNDWATER_WELL)):
        s.expected_interval_s = 86400
        base = 1.0 + float(rng.uniform(0.0, 2.5))
        days = np.arange(DAYS)
        vals = base + 0.01 * days + rng.normal(0, 0.02, DAYS)
        rows = [
            {"sensor_id": s.id, "time": start + timedelta(days=int(d)), "value": float(v)} for d, v in zip(days, vals)
        ]
        counts["observations"] += store_observations(session, rows)
    session.flush()
    rep = evaluate(session, now=end + timedelta(minutes=1), actor="demo")
    counts["alarm_transitions"] = len(rep.transitions)
    return counts
