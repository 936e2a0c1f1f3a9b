from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from sqlalchemy import select

from subsidence.errors import ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.monitoring.models import GroundwaterWell, Sensor
from subsidence.tasks import water
from subsidence.vocabulary import ProblemCategory, SensorKind, WaterPlanState


def _series(rate_m_per_month: float, months: int = 24, base: float = 1.5, seed: int = 1):
    rng = np.random.default_rng(seed)
    t = np.array([np.datetime64("2024-01-15") + np.timedelta64(int(30.4375 * i), "D") for i in range(months)])
    season = 0.15 * np.sin(2 * np.pi * (np.arange(months) % 12) / 12)
    depth = base + season + rate_m_per_month * np.arange(months) + rng.normal(0, 0.02, months)
    return t, depth, base + 0.15 * np.sin(2 * np.pi * np.arange(12) / 12)


def test_decline_detected_and_stable_not():
    t, d, seasonal = _series(0.1)
    r = water.evaluate_decline(t, d, seasonal)
    assert r.declining and abs(r.rate_m_per_month - 0.1) < 0.02 and r.drawdown_m > 1.5
    t, d, seasonal = _series(0.0)
    r = water.evaluate_decline(t, d, seasonal)
    assert not r.declining and abs(r.rate_m_per_month) < 0.02
    # seasonal swing alone is not a decline even with a scalar baseline
    assert not water.evaluate_decline(t, d, 1.5).declining


def test_decline_bad_input():
    t, d, _ = _series(0.1)
    with pytest.raises(ValidationFailed, match="backwards"):
        water.evaluate_decline(t[::-1], d, 1.5)
    r = water.evaluate_decline(t[:3], d[:3], 1.5)
    assert not r.declining and "needed" in r.note


def _wells(session, mine, n=2):
    wells = [
        GroundwaterWell(code=f"GW-{mine.licence_no[-3:]}-{i}", mine_id=mine.id, baseline_depth_to_water_m=1.5)
        for i in range(n)
    ]
    session.add_all(wells)
    session.flush()
    return wells


def test_declining_without_plan_problem_once_and_gate(session, county, gate_rules_hit):
    mine = county.mines[0]
    w0, w1 = _wells(session, mine)
    t, d, seasonal = _series(0.12)
    water.assess_well(session, w0, date(2026, 1, 10), times=t, depths=d, baseline=seasonal)
    t2, d2, s2 = _series(0.0, seed=2)
    water.assess_well(session, w1, date(2026, 1, 10), times=t2, depths=d2, baseline=s2)
    today = date(2026, 1, 10)
    kinds = [f.kind for f in water.water_findings(session, mine, today)]
    assert kinds == ["declining_no_plan"]
    assert "water_plan_missing" in gate_rules_hit(session, mine, today, "warning")  # no notified deadline yet
    water.sync_water_problems(session, today)
    water.sync_water_problems(session, today)
    probs = session.scalars(select(Problem).where(Problem.category == ProblemCategory.GROUNDWATER)).all()
    assert len(probs) == 1 and probs[0].mine_id == mine.id
    plan = water.current_plan(session, mine)
    assert plan.state == WaterPlanState.REQUIRED and plan.problem_id == probs[0].id
    # the plan goes through its states; approval lifts the gate reason
    with pytest.raises(ValidationFailed, match="cannot become"):
        water.record_implemented(session, plan.code, date(2026, 2, 1))
    water.submit_plan(session, plan.code, date(2026, 2, 1))
    water.link_wells(session, plan.code, [w0.code, w1.code])
    with pytest.raises(ValidationFailed, match="document number"):
        water.review_plan(session, plan.code, approve=True, reviewed=date(2026, 2, 20))
    water.review_plan(session, plan.code, approve=True, reviewed=date(2026, 2, 20), approval_no="伊农水发〔2026〕12号")
    assert "water_plan_missing" not in gate_rules_hit(session, mine, date(2026, 3, 1), "warning")
    status = water.water_status(session, mine, date(2026, 3, 1))
    assert status["plan"]["state"] == "approved" and status["plan"]["wells"] == [w0.code, w1.code]


def test_required_plan_overdue_is_gate_reason(session, county, gate_rules_hit):
    mine = county.mines[1]
    water.require_plan(session, mine, reason="位于保水开采重点区", due=date(2026, 3, 31))
    assert "water_plan_overdue" not in gate_rules_hit(session, mine, date(2026, 3, 31))
    assert "water_plan_overdue" in gate_rules_hit(session, mine, date(2026, 3, 31), "warning")  # due, not yet late
    assert "water_plan_overdue" in gate_rules_hit(session, mine, date(2026, 4, 1))


def test_series_from_monitoring_observations(session, county):
    from subsidence.monitoring.models import Observation

    mine = county.mines[2]
    (well,) = _wells(session, mine, 1)
    s = Sensor(code="S-GW-1", kind=SensorKind.GROUNDWATER_WELL, unit="m", well_id=well.id, mine_id=mine.id)
    session.add(s)
    session.flush()
    t, d, _ = _series(0.2, months=18)
    for ti, di in zip(t, d):
        session.add(
            Observation(sensor_id=s.id, time=datetime.fromisoformat(str(ti)).replace(tzinfo=UTC), value=float(di))
        )
    session.flush()
    a = water.assess_well(session, well, date(2025, 7, 1))
    assert a.declining and a.n_points >= 6


def test_series_csv(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("well,date,depth_m\nW1,2025-01-01,1.5\nW1,2025-02-01,1.6\n", encoding="utf-8")
    s = water.parse_series_csv(p)
    assert list(s) == ["W1"] and s["W1"][1].tolist() == [1.5, 1.6]
    p.write_text("well,date,depth_m\nW1,yesterday,1.5\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="line 2"):
        water.parse_series_csv(p)
