"""Attribution: overlap areas against shapely truth; outside-every-right and beyond-the-licence flags."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box

from subsidence.census.kernels.attribution import (
    AttributionParams,
    Attributor,
    MineRight,
    PanelFootprint,
    Town,
    overlap_table,
)
from subsidence.census.kernels.basins import detect_basins
from tests.census.synth import X0, Y0, bowl, grid

MINE_A = MineRight("C1500002010071120070001", "矿A（示意）", box(X0, Y0 - 6000, X0 + 3000, Y0))
MINE_B = MineRight("C1500002010071120070002", "矿B（示意）", box(X0 + 3000, Y0 - 6000, X0 + 6000, Y0 - 3000))
TOWN_W = Town("T-WEST", "西镇", box(X0 - 1000, Y0 - 7000, X0 + 2000, Y0 + 1000))
TOWN_E = Town("T-EAST", "东镇", box(X0 + 2000, Y0 - 7000, X0 + 7000, Y0 + 1000))


def test_overlaps_match_shapely_truth():
    area = box(X0 + 1500, Y0 - 4000, X0 + 3600, Y0 - 2500)
    panels = [PanelFootprint("A-101", MINE_A.key, box(X0 + 1700, Y0 - 3700, X0 + 2900, Y0 - 3300))]
    a = Attributor([MINE_A, MINE_B], panels, [TOWN_W, TOWN_E]).attribute(area)
    truth = {m.key: area.intersection(m.geometry).area / 1e4 for m in (MINE_A, MINE_B)}
    assert {o.key: o.overlap_ha for o in a.mines} == pytest.approx(truth)
    assert [o.key for o in a.mines] == [MINE_A.key, MINE_B.key]  # largest overlap first
    assert {o.key: o.overlap_ha for o in a.towns} == pytest.approx(
        {t.key: area.intersection(t.geometry).area / 1e4 for t in (TOWN_W, TOWN_E)}
    )
    assert a.panels[0].key == "A-101" and a.panels[0].overlap_ha == pytest.approx(1200 * 400 / 1e4)
    assert a.causing_mines == [MINE_A.key] and a.principal_mine == MINE_A.key
    outside_all = shapely.difference(area, shapely.union_all([MINE_A.geometry, MINE_B.geometry])).area / 1e4
    assert a.outside_all_rights_ha == pytest.approx(outside_all)
    # the area reaches 600 m into mine B's licence: outside its causing mine's licence beyond the 100 m margin
    assert a.outside_causing_licence
    assert a.outside_causing_licence_ha == pytest.approx(area.difference(MINE_A.geometry).area / 1e4)
    expected = area.difference(MINE_A.geometry.buffer(100.0)).area / 1e4
    assert a.outside_causing_licence_beyond_margin_ha == pytest.approx(expected)
    assert a.beyond_licence and a.beyond_licence_ha == pytest.approx(expected)


def test_bowl_inside_licence_not_flagged_straddling_flagged_outside_all_flagged():
    g = grid(200)
    # 1: well inside mine A; 2: panel of mine A at its eastern licence edge, basin spills 400 m into B's
    # licence... and north of B outside all rights; 3: a basin far outside every right (no panel known)
    w = (
        bowl(g, X0 + 600, Y0 - 2000, 900, 400, 1200, 100)
        + bowl(g, X0 + 2500, Y0 - 3300, 900, 400, 1200, 100)
        + bowl(g, X0 + 4200, Y0 - 1500, 600, 400, 800, 100)
    )
    res = detect_basins(w, g)
    assert len(res.basins) == 3
    panels = [
        PanelFootprint("A-1", MINE_A.key, box(X0 + 600, Y0 - 2000, X0 + 1500, Y0 - 1600)),
        PanelFootprint("A-2", MINE_A.key, box(X0 + 2500, Y0 - 3300, X0 + 3400, Y0 - 2900)),
    ]
    at = Attributor([MINE_A, MINE_B], panels, [TOWN_W, TOWN_E])
    by_panel = {}
    for b in res.basins:
        a = at.attribute(b.geometry)
        by_panel[a.panels[0].key if a.panels else None] = (b, a)
    inside = by_panel["A-1"][1]
    assert not inside.outside_mining_right and not inside.beyond_licence
    straddle_b, straddle = by_panel["A-2"]
    assert straddle.causing_mines == [MINE_A.key]
    assert straddle.outside_causing_licence and straddle.beyond_licence
    assert straddle.outside_causing_licence_ha == pytest.approx(
        straddle_b.geometry.difference(MINE_A.geometry).area / 1e4
    )
    assert straddle.panels_outside_own_licence == ["A-2"]  # the panel itself crosses the licence boundary
    lone_b, lone = by_panel[None]
    assert lone.mines == [] and lone.outside_mining_right and lone.beyond_licence
    assert lone.outside_all_rights_ha == pytest.approx(lone_b.area_ha)
    assert lone.principal_town == "T-EAST"


def test_margin_tolerates_spill_over():
    area = box(X0 + 2000, Y0 - 2000, X0 + 3080, Y0 - 1000)  # 80 m beyond mine A's eastern edge, 8 ha
    only_a = [MINE_A]
    panels = [PanelFootprint("A-9", MINE_A.key, box(X0 + 2200, Y0 - 1800, X0 + 2900, Y0 - 1200))]
    a = Attributor(only_a, panels).attribute(area)
    assert a.outside_all_rights_ha == pytest.approx(80 * 1000 / 1e4)
    assert not a.outside_mining_right and not a.beyond_licence
    strict = Attributor(only_a, panels, params=AttributionParams(margin_m=0.0)).attribute(area)
    assert strict.outside_mining_right and strict.beyond_licence_ha == pytest.approx(8.0)


def test_overlap_table_per_town():
    polys = [box(X0 + 1000, Y0 - 500, X0 + 3000, Y0 - 100)]
    t = overlap_table(polys, [TOWN_W, TOWN_E])
    assert t == pytest.approx({"T-WEST": 1000 * 400 / 1e4, "T-EAST": 1000 * 400 / 1e4})


def test_without_mining_rights_licence_flags_are_not_assessed():
    a = Attributor([], [], [TOWN_W]).attribute(box(X0, Y0 - 500, X0 + 500, Y0))
    assert not a.rights_checked and not a.outside_mining_right and not a.beyond_licence
    assert a.properties()["mining_rights_checked"] is False and a.towns[0].key == "T-WEST"
