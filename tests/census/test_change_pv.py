"""Change between censuses and the PV-land rule."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import box

from subsidence.census.kernels.attribution import PanelFootprint, Town
from subsidence.census.kernels.change import AreaSnapshot, ChangeKind, compare
from subsidence.census.kernels.pv import PVParams, StableArea, pv_candidates
from subsidence.vocabulary import MovementStage as S


def snap(key, geom, mx, stage=S.ACTIVE):
    return AreaSnapshot(key, geom, geom.area / 1e4, mx, stage)


def test_compare_new_grown_stable_vanished_merged():
    before = [
        snap("a1", box(0, 0, 1000, 500), 800),
        snap("a2", box(3000, 0, 3500, 500), 400, S.DECLINING),
        snap("a3", box(6000, 0, 6300, 300), 50),
        snap("a4", box(9000, 0, 9400, 400), 200),
        snap("a5", box(9500, 0, 9900, 400), 200),
        snap("a6", box(12000, 0, 12400, 400), 300, S.STABLE),
    ]
    after = [
        snap("b1", box(0, 0, 1400, 500), 950),  # grown (area and max)
        snap("b2", box(3000, 0, 3500, 500), 410, S.STABLE),  # became stable
        snap("b4", box(8990, 0, 9910, 400), 260),  # a4 + a5 merged, grown by max
        snap("b6", box(12000, 0, 12400, 400), 305, S.STABLE),  # unchanged
        snap("b7", box(15000, 0, 15500, 500), 120),
    ]  # new
    ch = {tuple(c.after) or tuple(c.before): c for c in compare(before, after)}
    assert ch[("b1",)].kinds == [ChangeKind.GROWN]
    assert ch[("b1",)].area_growth_ha == pytest.approx(20.0) and ch[("b1",)].max_growth_mm == pytest.approx(150)
    assert ch[("b1",)].new_ground_ha == pytest.approx(20.0)
    assert ch[("b2",)].kinds == [ChangeKind.BECAME_STABLE]
    assert ch[("b4",)].before == ["a4", "a5"] and ChangeKind.MERGED in ch[("b4",)].kinds
    assert ChangeKind.GROWN in ch[("b4",)].kinds
    assert ch[("b6",)].kinds == [ChangeKind.UNCHANGED]
    assert ch[("b7",)].kinds == [ChangeKind.NEW] and ch[("b7",)].new_ground_ha == pytest.approx(25.0)
    assert ch[("a3",)].kinds == [ChangeKind.VANISHED]


def test_pv_rule_stable_and_a_year_past_mining():
    as_of = date(2025, 6, 30)
    stable = StableArea("old", box(0, 0, 1000, 1000), S.STABLE)
    active = StableArea("act", box(5000, 0, 6000, 1000), S.ACTIVE)
    near_recent = StableArea("rec", box(10000, 0, 11000, 1000), S.STABLE)
    panels = [
        PanelFootprint("P-old", "M1", box(200, 200, 800, 800), date(2020, 1, 1), date(2023, 1, 1)),
        # ended 8 months ago: blocks 300 m around it
        PanelFootprint("P-rec", "M1", box(10400, 0, 10600, 1000), date(2023, 1, 1), date(2024, 11, 1)),
        # planned: blocks too
        PanelFootprint("P-plan", "M1", box(-2000, 0, -1500, 1000), date(2026, 1, 1), None),
    ]
    towns = [Town("T1", "一镇", box(-5000, -5000, 500, 5000)), Town("T2", "二镇", box(500, -5000, 20000, 5000))]
    res = pv_candidates([stable, active, near_recent], panels, towns, as_of, PVParams(buffer_m=300))
    by = {c.area_key: c for c in res.candidates}
    assert by["old"].area_ha == pytest.approx(100.0)  # panel ended 2.5 years ago: the whole stable area
    blocked = box(10400, 0, 10600, 1000).buffer(300)
    assert by["rec"].area_ha == pytest.approx(box(10000, 0, 11000, 1000).difference(blocked).area / 1e4)
    assert "act" in res.excluded_unstable and "act" not in by
    assert res.blocking_panels == ["P-rec"]
    assert res.per_town_ha["T1"] == pytest.approx(50.0)
    assert res.per_town_ha["T2"] == pytest.approx(50.0 + by["rec"].area_ha)
    # a year later the recent panel no longer blocks
    later = pv_candidates([near_recent], panels, towns, date(2026, 1, 2), PVParams(buffer_m=300))
    assert later.total_ha == pytest.approx(100.0)
