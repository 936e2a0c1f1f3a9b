"""Census service on both databases: save, expert review lifecycle, cat-1 problem once, merge/split, change,
vegetation problems, PV land."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from shapely.geometry import LineString, MultiPolygon, box
from sqlalchemy import func, select

from subsidence.census import service as svc
from subsidence.census.kernels.inputs import SubsidenceInput
from subsidence.census.kernels.pipeline import run_census
from subsidence.census.kernels.vegetation import vegetation_change
from subsidence.census.models import (
    ReviewDecision,
    SubsidenceAreaMine,
    SubsidenceAreaTown,
    VegetationChange,
)
from subsidence.core.models import AdminArea, AuditEvent, Mine, Panel, Unit
from subsidence.db.audit import acting_as
from subsidence.errors import Conflict, ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.vocabulary import (
    AreaLevel,
    MovementStage,
    ProblemCategory,
    ReviewState,
    UnitKind,
)
from tests.census.synth import X0, Y0, bowl, grid

TODAY = date(2024, 10, 15)


def _county(session):
    with acting_as(session, "setup"):
        west = AdminArea(
            code="T-WEST",
            name_zh="西镇",
            level=AreaLevel.TOWN,
            geometry=MultiPolygon([box(X0 - 1000, Y0 - 7000, X0 + 2000, Y0 + 1000)]),
        )
        east = AdminArea(
            code="T-EAST",
            name_zh="东镇",
            level=AreaLevel.TOWN,
            geometry=MultiPolygon([box(X0 + 2000, Y0 - 7000, X0 + 7000, Y0 + 1000)]),
        )
        session.add_all([west, east])
        session.flush()
        session.add_all(
            [
                Unit(code="NRB", name_zh="自然资源局", kind=UnitKind.BUREAU),
                Unit(code="TU-WEST", name_zh="西镇人民政府", kind=UnitKind.TOWN, town_id=west.id),
                Unit(code="TU-EAST", name_zh="东镇人民政府", kind=UnitKind.TOWN, town_id=east.id),
            ]
        )
        mine = Mine(
            licence_no="C150000-A",
            name_zh="甲煤矿（示意）",
            town_id=west.id,
            geometry=MultiPolygon([box(X0, Y0 - 6000, X0 + 3000, Y0)]),
        )
        session.add(mine)
        session.flush()
        session.add_all(
            [
                Panel(
                    code="C150000-A-101",
                    mine_id=mine.id,
                    thickness_m=4.0,
                    depth_dip_m=200,
                    depth_rise_m=200,
                    start_date=date(2021, 1, 1),
                    end_date=date(2022, 6, 1),
                    geometry=box(X0 + 600, Y0 - 2000, X0 + 1500, Y0 - 1600),
                ),
                Panel(
                    code="C150000-A-102",
                    mine_id=mine.id,
                    thickness_m=4.0,
                    depth_dip_m=200,
                    depth_rise_m=200,
                    start_date=date(2024, 1, 1),
                    end_date=None,
                    geometry=box(X0 + 2500, Y0 - 3300, X0 + 3400, Y0 - 2900),
                ),
            ]
        )
        session.flush()


def _deformation(w, g, observed=(date(2023, 10, 1), TODAY)):
    return SubsidenceInput(grid=g, kind="cumulative", subsidence_mm=w, source="synthetic.tif", observed=observed)


def _census(session, w=None, when=TODAY):
    g = grid(200)
    if w is None:
        w = (
            bowl(g, X0 + 600, Y0 - 2000, 900, 400, 1200, 100)  # under panel 101, inside the licence
            + bowl(g, X0 + 2500, Y0 - 3300, 900, 400, 1200, 100)  # under panel 102, crossing the licence
            + bowl(g, X0 + 4200, Y0 - 1500, 600, 400, 800, 100)
        )  # outside every right
    mines, panels, towns = svc.reference_layers(session)
    census = run_census(_deformation(w, g), mines=mines, panels=panels, towns=towns)
    return svc.save_census(session, census, census_date=when, actor="遥感中心")


def test_save_and_review_lifecycle_opens_problem_once(session):
    _county(session)
    run = _census(session)
    session.commit()
    assert run.code == "CEN-20241015-01" and run.n_areas == 3
    areas = svc.list_areas(session, census=run.code)
    assert all(a.review_state == ReviewState.CANDIDATE for a in areas)
    by_panel = {}
    for a in areas:
        panels = session.scalars(
            select(Panel.code)
            .join(svc.SubsidenceAreaPanel, svc.SubsidenceAreaPanel.panel_id == Panel.id)
            .where(svc.SubsidenceAreaPanel.area_id == a.id)
        ).all()
        by_panel[panels[0] if panels else None] = a
    inside, straddle, lone = by_panel["C150000-A-101"], by_panel["C150000-A-102"], by_panel[None]
    mine = session.scalar(select(Mine))
    assert inside.mine_id == mine.id and not inside.beyond_licence
    assert straddle.beyond_licence and straddle.beyond_licence_ha > 1.0
    assert lone.outside_mining_right and lone.mine_id is None
    overlaps = session.scalars(select(SubsidenceAreaMine).where(SubsidenceAreaMine.area_id == inside.id)).all()
    assert len(overlaps) == 1 and overlaps[0].causing
    assert overlaps[0].overlap_ha == pytest.approx(inside.geometry.intersection(mine.geometry).area / 1e4)
    t = session.scalars(select(SubsidenceAreaTown).where(SubsidenceAreaTown.area_id == lone.id)).all()
    assert len(t) == 1 and t[0].overlap_ha == pytest.approx(lone.area_ha)

    with pytest.raises(ValidationFailed):
        svc.confirm(session, inside.code, reviewer="专家组", reason=" ", today=TODAY)
    out = svc.confirm(session, inside.code, reviewer="自然资源局 专家组", reason="现场核实，沉陷明显", today=TODAY)
    session.commit()
    assert out.problem_created and out.problem.category == ProblemCategory.SUBSIDENCE_CRACKS
    assert out.problem.mine_id == mine.id and out.problem.origin_key == f"subsidence-area:{inside.code}"
    assert out.problem.lead_unit.code == "NRB" and out.problem.subsidence_area_id == inside.id
    # never twice: a second confirmation is refused, and re-opening the problem is a no-op
    with pytest.raises(Conflict):
        svc.confirm(session, inside.code, reviewer="专家组", reason="again", today=TODAY)
    again, created = svc.open_area_problem(session, inside, TODAY)
    assert not created and again.id == out.problem.id
    assert session.scalar(select(func.count()).select_from(Problem)) == 1

    # outside every right: a problem for the town, suspected beyond-licence mining
    out2 = svc.confirm(session, lone.code, reviewer="专家组", reason="核实", today=TODAY)
    assert out2.problem_created and out2.problem.mine_id is None and "越界" in out2.problem.title
    assert out2.problem.town_id == lone.town_id

    rej = svc.reject(session, straddle.code, reviewer="专家组", reason="大气延迟伪影", meeting="2024-10-15 评审会")
    session.commit()
    assert rej.areas[0].review_state == ReviewState.REJECTED
    assert [a.code for a in svc.baseline(session)] == sorted([inside.code, lone.code])

    decisions = session.scalars(select(ReviewDecision).order_by(ReviewDecision.id)).all()
    assert [d.action.value for d in decisions] == ["confirm", "confirm", "reject"]
    assert decisions[-1].reason == "大气延迟伪影" and decisions[-1].reviewer == "专家组"
    trail = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "subsidence_area", AuditEvent.entity_key == straddle.code)
    ).all()
    upd = [e for e in trail if e.action == "update"]
    assert upd and upd[-1].actor == "专家组" and upd[-1].reason == "大气延迟伪影"
    assert upd[-1].after["review_state"] == "rejected"
    assert any(e.action == "review.reject" for e in trail)


def test_treated_area_opens_no_problem(session):
    _county(session)
    run = _census(session)
    a = svc.list_areas(session, census=run.code)[0]
    svc.mark_treated(session, a.code, actor="自然资源局", reason="已验收")
    out = svc.confirm(session, a.code, reviewer="专家组", reason="核实", today=TODAY)
    assert out.problem is None and not out.problem_created


def test_merge_and_split(session):
    _county(session)
    g = grid(200)
    w = bowl(g, X0 + 600, Y0 - 2000, 900, 400, 1200, 100) + bowl(g, X0 + 600, Y0 - 2900, 900, 400, 1000, 100)
    run = _census(session, w)
    areas = svc.list_areas(session, census=run.code)
    assert len(areas) == 2
    with pytest.raises(ValidationFailed):
        svc.merge(session, [areas[0].code], reviewer="专家组", reason="同一采区")
    m = svc.merge(session, [a.code for a in areas], reviewer="专家组", reason="同一采区")
    new = m.areas[0]
    assert new.review_state == ReviewState.CANDIDATE and new.parent_codes == [a.code for a in areas]
    assert new.area_ha == pytest.approx(sum(a.area_ha for a in areas))
    assert new.volume_m3 == pytest.approx(sum(a.volume_m3 for a in areas))
    assert new.max_subsidence_mm == pytest.approx(max(a.max_subsidence_mm for a in areas))
    assert new.mine_id is not None
    assert all(a.review_state == ReviewState.MERGED for a in areas)
    # split the merged area back along the line between the two panels
    ymid = Y0 - 2250
    s = svc.split(
        session, new.code, [LineString([(X0, ymid), (X0 + 3000, ymid)])], reviewer="专家组", reason="两个工作面分别治理"
    )
    assert len(s.areas) == 2 and new.review_state == ReviewState.SPLIT
    assert sum(p.area_ha for p in s.areas) == pytest.approx(new.area_ha)
    assert sum(p.volume_m3 for p in s.areas) == pytest.approx(new.volume_m3)
    assert all(p.parent_codes == [new.code] for p in s.areas)
    with pytest.raises(ValidationFailed, match="cover"):
        x0, y0, x1, y1 = s.areas[0].geometry.bounds
        xm = (x0 + x1) / 2
        svc.split(
            session, s.areas[0].code, [box(x0, y0, xm, y1), box(xm, y0, xm + 30, y1)], reviewer="专家组", reason="x"
        )
    session.commit()


def test_change_between_two_saved_censuses(session):
    _county(session)
    g = grid(200)
    w1 = bowl(g, X0 + 600, Y0 - 2000, 900, 400, 600, 100)
    w2 = bowl(g, X0 + 600, Y0 - 2000, 1500, 400, 900, 100) + bowl(g, X0 + 4200, Y0 - 1500, 600, 400, 800, 100)
    r1 = _census(session, w1, date(2024, 1, 1))
    r2 = _census(session, w2, date(2024, 10, 1))
    ch = svc.compare_censuses(session, r1.code, r2.code)
    kinds = sorted(k.value for c in ch for k in c.kinds)
    assert kinds == ["grown", "new"]


def test_vegetation_loss_over_goaf_opens_town_problem_once(session):
    _county(session)
    g = grid(100, px=10.0)  # 1 km square at the NW corner of mine A, covering panel 101 partly? no: build our own
    session.add(
        Panel(
            code="C150000-A-050",
            mine_id=session.scalar(select(Mine.id)),
            thickness_m=3,
            depth_dip_m=150,
            depth_rise_m=150,
            geometry=box(X0 + 100, Y0 - 400, X0 + 300, Y0 - 200),
        )
    )
    session.flush()
    before = np.full(g.shape, 0.45)
    after = before.copy()
    after[20:40, 10:50] -= 0.25  # 8 ha, half over the goaf panel 050
    res = vegetation_change(before, after, g)
    out = svc.save_vegetation(
        session, res, date_before=date(2023, 8, 1), date_after=date(2024, 8, 1), actor="林草局", today=TODAY
    )
    assert len(out.rows) == 1 and out.rows[0].over_goaf_ha == pytest.approx(4.0)
    assert out.loss_over_goaf_by_town_ha == pytest.approx({"T-WEST": 4.0})
    assert len(out.problems) == 1 and out.problems[0].category == ProblemCategory.VEGETATION
    assert out.problems[0].lead_unit.code == "TU-WEST"
    with pytest.raises(Conflict):
        svc.save_vegetation(
            session, res, date_before=date(2023, 8, 1), date_after=date(2024, 8, 1), actor="林草局", today=TODAY
        )
    again = svc.save_vegetation(
        session,
        res,
        date_before=date(2023, 8, 1),
        date_after=date(2024, 8, 1),
        actor="林草局",
        today=TODAY,
        replace=True,
    )
    assert again.problems[0].id == out.problems[0].id and again.rows[0].problem_id == out.problems[0].id
    assert session.scalar(select(func.count()).select_from(Problem)) == 1
    assert session.scalar(select(func.count()).select_from(VegetationChange)) == 1
    session.commit()


def test_pv_land_from_confirmed_stable_baseline(session):
    _county(session)
    run = _census(session)
    for a in svc.list_areas(session, census=run.code):
        a.stability = MovementStage.STABLE
        svc.confirm(session, a.code, reviewer="专家组", reason="核实", today=TODAY)
    res = svc.pv_land(session, TODAY)
    keys = {c.area_key for c in res.candidates}
    # the area over panel 102 (still being mined) is blocked; the one over 101 (ended 2022-06) is a candidate
    blocked = box(X0 + 2500, Y0 - 3300, X0 + 3400, Y0 - 2900).buffer(300)
    for c in res.candidates:
        assert c.geometry.intersection(blocked).area < 1e-6
    assert len(keys) == 2 and res.blocking_panels == ["C150000-A-102"]
    assert res.total_ha == pytest.approx(sum(res.per_town_ha.values()))


def _by_mine(session, run):
    areas = svc.list_areas(session, census=run.code)
    return next(a for a in areas if a.mine_id is not None and not a.beyond_licence), next(
        a for a in areas if a.outside_mining_right
    )


def test_same_basin_in_two_censuses_opens_one_problem(session):
    """Area codes are per census: the same basin found again and confirmed links the open problem (never twice)."""
    from subsidence.vocabulary import ProblemState

    _county(session)
    run1 = _census(session, when=date(2024, 4, 1))
    a1, lone1 = _by_mine(session, run1)
    out1 = svc.confirm(session, a1.code, reviewer="专家组", reason="核实", today=date(2024, 4, 10))
    lone_out1 = svc.confirm(session, lone1.code, reviewer="专家组", reason="核实", today=date(2024, 4, 10))
    session.commit()
    assert out1.problem_created and lone_out1.problem_created
    # the next census: the basins have grown (deeper, wider), new codes
    g = grid(200)
    w = (
        bowl(g, X0 + 600, Y0 - 2000, 900, 400, 1800, 100)
        + bowl(g, X0 + 2500, Y0 - 3300, 900, 400, 1200, 100)
        + bowl(g, X0 + 4200, Y0 - 1500, 600, 400, 1200, 100)
    )
    run2 = _census(session, w=w, when=TODAY)
    a2, lone2 = _by_mine(session, run2)
    assert a2.code != a1.code and a2.geometry.intersection(a1.geometry).area > 0.3 * a1.geometry.area
    # the same ground is never counted twice: confirming it plainly is refused, merged it replaces the earlier area
    with pytest.raises(svc.OverlapRefused, match=a1.code):
        svc.confirm(session, a2.code, reviewer="专家组", reason="复核，沉陷扩大", today=TODAY)
    out2 = svc.confirm(
        session, a2.code, reviewer="专家组", reason="复核，沉陷扩大", today=TODAY, merge_overlapping=True
    )
    lone_out2 = svc.confirm(session, lone2.code, reviewer="专家组", reason="复核", today=TODAY, merge_overlapping=True)
    session.commit()
    a2, lone2 = out2.areas[0], lone_out2.areas[0]  # the merged confirmed areas
    assert not out2.problem_created and out2.problem_linked and out2.problem.id == out1.problem.id
    assert not lone_out2.problem_created and lone_out2.problem.id == lone_out1.problem.id
    cat1 = session.scalars(select(Problem).where(Problem.category == ProblemCategory.SUBSIDENCE_CRACKS)).all()
    assert len(cat1) == 2  # one for the mine's basin, one for the town's basin outside every right
    assert a2.attributes["problem_code"] == out1.problem.code and a2.attributes["problem_same_ground_overlap"] > 0.3
    linked = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "problem", AuditEvent.action == "problem.linked")
    ).all()
    assert {e.after["subsidence_area"] for e in linked} == {a2.code, lone2.code}
    confirm_events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "review.confirm.problem_linked", AuditEvent.entity_key == a2.code)
    ).all()
    assert len(confirm_events) == 1 and confirm_events[0].after["problem"] == out1.problem.code
    # once accepted (closed), the same ground found subsiding again is a new problem
    with acting_as(session, "自然资源局", "验收销号"):
        out1.problem.state = ProblemState.ACCEPTED
        session.flush()
    run3 = _census(session, w=w * 1.2, when=date(2025, 4, 1))
    a3, _ = _by_mine(session, run3)
    out3 = svc.confirm(
        session, a3.code, reviewer="专家组", reason="复核", today=date(2025, 4, 10), merge_overlapping=True
    )
    assert out3.problem_created and out3.problem.id != out1.problem.id
