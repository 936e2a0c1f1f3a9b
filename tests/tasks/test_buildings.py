from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from subsidence.errors import ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.tasks import buildings as bl
from subsidence.vocabulary import ProblemCategory


def _ledger(session, county):
    town = county.towns[1]
    mine = county.mines[0]
    for i in range(4):
        bl.register_building(
            session,
            f"B-{i}",
            kind="house",
            town=town,
            household_code=f"H-{i:03d}",
            village="补连村",
            mine=mine,
            compensation_date=date(2025, 3, 1),
            compensation_yuan=120000.0,
            compensation_record=f"补偿协议 2025-{i:03d}",
            geometry=Point(392_000 + i * 10, 4_385_000 + i * 10),
        )
    return town, mine


def test_progress_reoccupation_and_geojson(session, county):
    town, mine = _ledger(session, county)
    bl.record_demolition(session, "B-0", "demolished", on=date(2025, 5, 1))
    bl.record_demolition(session, "B-1", "in_progress", on=date(2025, 5, 1))
    bl.record_reoccupation(session, "B-2", reoccupied=True, observed=date(2025, 6, 1), note="原住户回流居住")
    bl.record_reoccupation(session, "B-2", reoccupied=True, observed=date(2025, 6, 2))
    assert session.scalar(select(func.count(Problem.id)).where(Problem.origin_key == "building-reoccupied:B-2")) == 1
    (row,) = bl.progress_by_town(session, date(2025, 7, 1), year=2025)
    assert (row["total"], row["demolished"], row["in_progress"], row["not_started"], row["reoccupied_standing"]) == (
        4,
        1,
        1,
        2,
        1,
    )
    assert row["percent_demolished"] == 25.0 and row["behind_schedule"] and not row["overdue"]
    assert [b["code"] for b in bl.reoccupied_standing(session)] == ["B-2"]
    fc = bl.geojson(session)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 4
    lon, lat = fc["features"][0]["geometry"]["coordinates"]
    assert 108 < lon < 112 and 38 < lat < 41
    with pytest.raises(ValidationFailed, match="demolished"):
        bl.record_reoccupation(session, "B-0", reoccupied=True, observed=date(2025, 7, 1))
    with pytest.raises(ValidationFailed, match="un-demolishing"):
        bl.record_demolition(session, "B-0", "not_started", on=date(2025, 7, 1))


def test_deadline_problem_and_gate(session, county, gate_rules_hit):
    town, mine = _ledger(session, county)
    for i in range(3):
        bl.record_demolition(session, f"B-{i}", "demolished", on=date(2025, 11, 1))
    assert "buildings_not_demolished" not in gate_rules_hit(session, mine, date(2025, 12, 31))
    assert "buildings_not_demolished" in gate_rules_hit(session, mine, date(2026, 1, 1))
    bl.sync_building_problems(session, date(2026, 1, 5))
    bl.sync_building_problems(session, date(2026, 1, 6))
    probs = session.scalars(select(Problem).where(Problem.category == ProblemCategory.BUILDINGS)).all()
    assert [p.origin_key for p in probs] == [f"buildings-deadline:{town.code}:2025"]
    bl.record_demolition(session, "B-3", "demolished", on=date(2026, 1, 7))
    assert "buildings_not_demolished" not in gate_rules_hit(session, mine, date(2026, 1, 8))
