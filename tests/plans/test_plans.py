"""Mine treatment plans: revisions, annual plans, reports, remote-sensing verification, gap, problem, gate."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, select

from subsidence.census.kernels.grid import Grid
from subsidence.census.models import SubsidenceArea
from subsidence.core.models import Mine
from subsidence.errors import Conflict, ValidationFailed
from subsidence.gate.service import evaluate_gate
from subsidence.ledger.models import Problem
from subsidence.plans.models import AnnualPlan, ReclamationPlan, TreatedParcel
from subsidence.plans.service import (
    ParcelInput,
    field_acceptance,
    open_shortfall_problems,
    plan_gap,
    plan_revisions,
    register_plan,
    report_treated,
    set_annual_plan,
    verify_by_remote_sensing,
)
from subsidence.vocabulary import MovementStage, ParcelState, ProblemCategory, SubsidenceSource

X0, Y0 = 600_000.0, 4_370_000.0  # lower-left of the mining right, EPSG:4546 metres


@pytest.fixture
def mine(session):
    m = Mine(licence_no="C-PLAN-1", name_zh="方案测试煤矿", geometry=MultiPolygon([box(X0, Y0, X0 + 2000, Y0 + 2000)]))
    other = Mine(
        licence_no="C-PLAN-2", name_zh="无方案煤矿", geometry=MultiPolygon([box(X0 + 5000, Y0, X0 + 7000, Y0 + 2000)])
    )
    session.add_all([m, other])
    session.commit()
    return m


def sq(x: float, y: float, size: float = 100.0):
    """A size x size m square, offset (x, y) m from the mining right's lower-left corner (1 ha at 100 m)."""
    return box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


def _plan(session, mine, **kw):
    args = dict(
        doc_no="伊自然资复垦〔2023〕12号",
        approval_date=date(2023, 3, 1),
        valid_from=date(2023, 3, 1),
        valid_to=date(2028, 3, 1),
        cost_estimate_yuan=12_000_000,
        schedule={"2024": {"treat_ha": 3, "reclaim_ha": 2, "cost_yuan": 2_000_000}},
        parcels=[
            ParcelInput("P1", "grassland", sq(0, 0, 500), purpose="reclaim", planned_year=2024),
            ParcelInput("D1", "grassland", sq(0, 0, 800), purpose="damaged"),
        ],
    )
    args.update(kw)
    return register_plan(session, mine, **args)


def test_plan_parcel_outside_licence_is_refused_and_nothing_changes(session, mine):
    with pytest.raises(ValidationFailed, match="outside the mining right of C-PLAN-1"):
        _plan(session, mine, parcels=[ParcelInput("P9", "forest", sq(1950, 0, 200))])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ReclamationPlan)) == 0


def test_revision_keeps_history(session, mine):
    first = _plan(session, mine)
    with pytest.raises(ValidationFailed, match="revision needs a reason"):
        _plan(session, mine, doc_no="伊自然资复垦〔2025〕3号")
    second = _plan(session, mine, doc_no="伊自然资复垦〔2025〕3号", revision_reason="开采接续调整")
    session.commit()
    revs = plan_revisions(session, mine)
    assert [r.revision for r in revs] == [1, 2]
    assert revs[0].id == first.id and not revs[0].current and revs[0].doc_no == "伊自然资复垦〔2023〕12号"
    assert revs[1].current and revs[1].supersedes_id == first.id and len(revs[0].parcels) == 2
    assert second.parcels[0].area_ha == pytest.approx(25.0)


def test_negative_targets_are_refused(session, mine):
    with pytest.raises(ValidationFailed, match="target_treat_ha = -1"):
        set_annual_plan(session, mine, 2024, target_treat_ha=-1, target_reclaim_ha=2)
    with pytest.raises(ValidationFailed, match="forest = -3"):
        set_annual_plan(session, mine, 2024, target_treat_ha=1, target_reclaim_ha=2, targets_by_land_type={"林地": -3})
    assert session.scalar(select(func.count()).select_from(AnnualPlan)) == 0


def test_report_needs_an_annual_plan_and_no_double_counting(session, mine):
    with pytest.raises(ValidationFailed, match="no annual plan for 2024"):
        report_treated(session, mine, 2024, [ParcelInput("T1", "grassland", sq(0, 0))], reported_date=date(2024, 11, 1))
    set_annual_plan(session, mine, 2024, target_treat_ha=2, target_reclaim_ha=1)
    with pytest.raises(ValidationFailed, match="counted twice"):
        report_treated(
            session,
            mine,
            2024,
            [ParcelInput("T1", "grassland", sq(0, 0)), ParcelInput("T2", "grassland", sq(50, 50))],
            reported_date=date(2024, 11, 1),
        )
    assert session.scalar(select(func.count()).select_from(TreatedParcel)) == 0
    report_treated(session, mine, 2024, [ParcelInput("T1", "grassland", sq(0, 0))], reported_date=date(2024, 11, 1))
    with pytest.raises(ValidationFailed, match="overlaps T1"):
        report_treated(
            session, mine, 2024, [ParcelInput("T3", "grassland", sq(10, 10))], reported_date=date(2024, 11, 2)
        )
    assert session.scalar(select(func.count()).select_from(TreatedParcel)) == 1


def _ndvi_grid():
    """10 m grid over the mining right; NDVI 0.10 before everywhere; after: recovered in the west half."""
    grid = Grid.make(from_origin(X0, Y0 + 2000, 10, 10), "EPSG:4546", (200, 200))
    before = np.full((200, 200), 0.10)
    after = np.full((200, 200), 0.11)
    after[:, :100] = 0.38  # columns 0..99 = x in [X0, X0+1000)
    rng = np.random.default_rng(7)
    return grid, before + rng.normal(0, 0.01, before.shape), after + rng.normal(0, 0.01, after.shape)


def test_remote_sensing_verifies_a_recovered_parcel_and_rejects_one_that_did_not(session, mine):
    set_annual_plan(session, mine, 2024, target_treat_ha=0, target_reclaim_ha=3)
    parcels = report_treated(
        session,
        mine,
        2024,
        [
            ParcelInput("OK", "grassland", sq(200, 200), spending_yuan=300_000),  # west: recovered
            ParcelInput("BARE", "grassland", sq(1500, 200), spending_yuan=250_000),  # east: did not recover
            ParcelInput("MOVING", "forest", sq(200, 1500), spending_yuan=280_000),  # recovered but on active ground
        ],
        reported_date=date(2024, 10, 20),
    )
    session.add(
        SubsidenceArea(
            code="SA-ACTIVE",
            source=SubsidenceSource.REMOTE_SENSING,
            stability=MovementStage.ACTIVE,
            geometry=MultiPolygon([sq(100, 1400, 400)]),
        )
    )
    session.flush()
    grid, before, after = _ndvi_grid()
    results = {
        r["parcel"]: r
        for r in verify_by_remote_sensing(
            session, parcels, ndvi_before=before, ndvi_after=after, grid=grid, on=date(2025, 1, 10)
        )
    }
    assert results["OK"]["state"] == "verified_rs" and results["OK"]["ndvi_after"] == pytest.approx(0.38, abs=0.01)
    assert results["BARE"]["state"] == "rejected"
    assert any("植被未恢复" in r for r in results["BARE"]["reasons"])
    assert results["MOVING"]["state"] == "rejected" and results["MOVING"]["stable_fraction"] == 0.0
    assert any("未稳定" in r for r in results["MOVING"]["reasons"])
    with pytest.raises(Conflict):
        verify_by_remote_sensing(
            session, parcels[:1], ndvi_before=before, ndvi_after=after, grid=grid, on=date(2025, 1, 11)
        )
    accepted = field_acceptance(session, parcels[0], passed=True, on=date(2025, 2, 1), inspectors=["NRB-1", "NRB-2"])
    assert accepted.state == ParcelState.ACCEPTED


def test_gap_opens_one_problem_and_a_gate_reason(session, mine):
    _plan(session, mine)
    set_annual_plan(
        session,
        mine,
        2024,
        target_treat_ha=2,
        target_reclaim_ha=2,
        budget_yuan=800_000,
        targets_by_land_type={"grassland": 4},
    )
    parcels = report_treated(
        session,
        mine,
        2024,
        [ParcelInput("G1", "grassland", sq(200, 200), spending_yuan=200_000)],
        reported_date=date(2024, 12, 1),
    )
    grid, before, after = _ndvi_grid()
    verify_by_remote_sensing(session, parcels, ndvi_before=before, ndvi_after=after, grid=grid, on=date(2025, 1, 5))
    (row,) = plan_gap(session, 2024)
    assert row.planned_ha == 4 and row.achieved_ha == pytest.approx(1.0) and row.gap_ha == pytest.approx(3.0)
    assert row.as_dict()["on_time"] and row.spent_yuan == 200_000
    assert row.by_land_type["grassland"] == {"planned_ha": 4.0, "achieved_ha": pytest.approx(1.0)}
    # judged from 1 April of the next year, after reporting (31 Dec) and the first quarter's verification
    assert open_shortfall_problems(session, 2024, date(2025, 3, 31)) == []
    assert "annual_plan_shortfall" not in {
        r.rule for r in evaluate_gate(session, mine, "extension", today=date(2025, 3, 1)).reasons
    }
    opened = open_shortfall_problems(session, 2024, date(2025, 4, 1))
    assert len(opened) == 1 and open_shortfall_problems(session, 2024, date(2025, 5, 1)) == []
    problem = session.scalar(select(Problem).where(Problem.code == opened[0]))
    assert problem.category == ProblemCategory.SUBSIDENCE_CRACKS and problem.mine_id == mine.id
    # the shortfall is a warning until a rectification notice sets its deadline, a refusal once that passed
    # (issue 13: the gate refuses only what is overdue)
    decision = evaluate_gate(session, mine, "extension", today=date(2025, 4, 2))
    assert "annual_plan_shortfall" in {r.rule for r in decision.warnings} and decision.reasons == []
    from subsidence.access.policy import Actor
    from subsidence.ledger.notices import issue_notice
    from subsidence.vocabulary import Role

    session.info["server_today"] = date(2025, 4, 2)
    issue_notice(
        session, problem, Actor("office", Role.OFFICE), issued_date=date(2025, 4, 2), deadline=date(2025, 6, 30)
    )
    late = evaluate_gate(session, mine, "extension", today=date(2025, 7, 1))
    (r,) = [r for r in late.reasons if r.rule == "annual_plan_shortfall"]
    assert r.deadline == date(2025, 6, 30) and r.deadline_set_by.kind == "notice" and r.problem == problem.code
    by_town = plan_gap(session, 2024, by="town")
    assert sum(r.planned_ha for r in by_town) == 4


def test_mine_without_plan_gets_a_gate_reason(session, mine):
    other = session.scalar(select(Mine).where(Mine.licence_no == "C-PLAN-2"))
    decision = evaluate_gate(session, other, "new_licence", today=date(2025, 3, 1))
    # no plan entered: the gate cannot judge the mine ("enter the plan"), distinct from refused and allowed
    assert "missing_plan" in {r.rule for r in decision.not_evaluated} and decision.outcome == "not_evaluable"
    _plan(session, mine)
    ok = evaluate_gate(session, mine, "new_licence", today=date(2025, 3, 1))
    assert "missing_plan" not in {r.rule for r in ok.reasons + ok.not_evaluated}


def test_unverified_parcels_count_as_pending_not_zero(session, mine):
    _plan(session, mine)
    set_annual_plan(session, mine, 2024, target_treat_ha=2, target_reclaim_ha=2)
    report_treated(
        session, mine, 2024, [ParcelInput("U1", "grassland", sq(200, 200, 200))], reported_date=date(2024, 12, 1)
    )  # 4 ha reported, not yet verified
    (row,) = plan_gap(session, 2024)
    assert row.achieved_ha == 0 and row.reported_ha == pytest.approx(4.0)
    d = evaluate_gate(session, mine, "extension", today=date(2025, 4, 2), only=["annual_plan"])
    (w,) = d.warnings
    assert d.reasons == [] and w.pending == "verification" and w.details["pending_ha"] == pytest.approx(4.0)
    assert "待核查" in w.message


def test_reimport_is_idempotent(session, mine):
    first = _plan(session, mine)
    assert _plan(session, mine) is first  # same document again: unchanged, no revision
    with pytest.raises(Conflict, match="already registered with other content"):
        _plan(session, mine, valid_to=date(2029, 1, 1))
    set_annual_plan(session, mine, 2024, target_treat_ha=1, target_reclaim_ha=1)
    set_annual_plan(session, mine, 2024, target_treat_ha=2, target_reclaim_ha=1)  # update, not a second row
    assert session.scalar(select(func.count()).select_from(AnnualPlan)) == 1
    items = [ParcelInput("T1", "grassland", sq(0, 0))]
    assert len(report_treated(session, mine, 2024, items, reported_date=date(2024, 11, 1))) == 1
    assert report_treated(session, mine, 2024, items, reported_date=date(2024, 11, 1)) == []
    with pytest.raises(ValidationFailed, match="already reported with other content"):
        report_treated(
            session, mine, 2024, [ParcelInput("T1", "grassland", sq(300, 0))], reported_date=date(2024, 11, 1)
        )
    assert session.scalar(select(func.count()).select_from(TreatedParcel)) == 1


def test_plan_gap_is_an_assessment_indicator(session, mine):
    from subsidence.tasks.assessment import AssessmentConfig, score_mine

    set_annual_plan(session, mine, 2024, target_treat_ha=2, target_reclaim_ha=2)
    parcels = report_treated(
        session, mine, 2024, [ParcelInput("A1", "grassland", sq(200, 200))], reported_date=date(2024, 12, 1)
    )
    grid, before, after = _ndvi_grid()
    verify_by_remote_sensing(session, parcels, ndvi_before=before, ndvi_after=after, grid=grid, on=date(2025, 1, 5))
    _, parts = score_mine(session, mine, 2024, date(2025, 2, 1), AssessmentConfig())
    (part,) = [p for p in parts if p["key"] == "plan_achievement"]
    assert part["sub_score"] == pytest.approx(0.25)


def test_progress_report_has_the_plan_against_achievement_table(session, mine):
    from subsidence.reports.progress import build_report, progress_docx, progress_html

    set_annual_plan(session, mine, 2024, target_treat_ha=2, target_reclaim_ha=2, budget_yuan=900_000)
    report_treated(
        session,
        mine,
        2024,
        [ParcelInput("R1", "grassland", sq(200, 200), spending_yuan=120_000)],
        reported_date=date(2024, 12, 1),
    )
    rep = build_report(session, date(2024, 10, 1), date(2024, 12, 31))
    (row,) = rep.as_dict()["plan_achievement"]["rows"]
    assert row["key"] == "C-PLAN-1" and row["planned_ha"] == 4 and row["achieved_ha"] == 0  # reported, not verified
    html = progress_html(rep)
    assert "2024年度治理与复垦计划完成情况" in html and "方案测试煤矿" in html and "900000" in html
    import io

    from docx import Document

    data = progress_docx(rep)
    doc = Document(io.BytesIO(data))
    text = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "方案测试煤矿" in text
    assert len(doc.inline_shapes) >= 1  # the progress charts are pictures in the DOCX
    assert progress_docx(rep) == data  # regenerates byte-identically, charts included


def test_treated_then_reclaimed_land_counts_for_both_targets(session, mine):
    set_annual_plan(session, mine, 2024, target_treat_ha=1, target_reclaim_ha=1)
    parcels = report_treated(
        session,
        mine,
        2024,
        [
            ParcelInput("TR", "grassland", sq(200, 200), purpose="treat"),
            ParcelInput("RC", "grassland", sq(200, 200), purpose="reclaim"),
        ],
        reported_date=date(2024, 12, 1),
    )
    grid, before, after = _ndvi_grid()
    verify_by_remote_sensing(session, parcels, ndvi_before=before, ndvi_after=after, grid=grid, on=date(2025, 1, 5))
    (row,) = plan_gap(session, 2024)
    assert row.achieved_ha == pytest.approx(2.0) and row.gap_ha == pytest.approx(0.0)
    assert row.achieved_treat_ha == pytest.approx(1.0) and row.achieved_reclaim_ha == pytest.approx(1.0)
    assert open_shortfall_problems(session, 2024, date(2025, 4, 2)) == []


def test_enterprises_report_only_for_their_own_mines_and_cannot_accept(session, mine):
    from subsidence.access.policy import Actor
    from subsidence.core.models import Enterprise
    from subsidence.errors import Forbidden
    from subsidence.vocabulary import Role

    own, other = Enterprise(credit_code="E-OWN", name_zh="本企业"), Enterprise(credit_code="E-OTHER", name_zh="他企业")
    session.add_all([own, other])
    session.flush()
    mine.enterprise_id = own.id
    set_annual_plan(session, mine, 2024, target_treat_ha=1, target_reclaim_ha=1)
    outsider = Actor(username="other", role=Role.ENTERPRISE, enterprise_id=other.id)
    insider = Actor(username="own", role=Role.ENTERPRISE, enterprise_id=own.id)
    item = [ParcelInput("E1", "grassland", sq(0, 0))]
    with pytest.raises(Forbidden):
        report_treated(session, mine, 2024, item, reported_date=date(2024, 11, 1), actor=outsider)
    assert session.scalar(select(func.count()).select_from(TreatedParcel)) == 0
    (parcel,) = report_treated(session, mine, 2024, item, reported_date=date(2024, 11, 1), actor=insider)
    with pytest.raises(Forbidden):
        register_plan(
            session,
            mine,
            doc_no="X",
            approval_date=date(2024, 1, 1),
            valid_from=date(2024, 1, 1),
            valid_to=date(2029, 1, 1),
            parcels=[],
            actor=insider,
        )
    parcel.state = ParcelState.VERIFIED_RS
    with pytest.raises(Forbidden):
        field_acceptance(session, parcel, passed=True, on=date(2025, 2, 1), inspectors=["a", "b"], actor=insider)
    office = Actor(username="office", role=Role.OFFICE)
    with pytest.raises(ValidationFailed, match="two inspectors"):
        field_acceptance(session, parcel, passed=True, on=date(2025, 2, 1), inspectors=["a"], actor=office)
    assert (
        field_acceptance(session, parcel, passed=True, on=date(2025, 2, 1), inspectors=["a", "b"], actor=office).state
        == ParcelState.ACCEPTED
    )
