from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.tasks import minehazards as mh
from subsidence.vocabulary import PlanReviewState, ProblemCategory


def test_factor_plan_review_and_gate(session, county, gate_rules_hit):
    mine = county.mines[0]
    f = mh.register_factor(
        session,
        mine,
        "HF-001",
        "采空区积水",
        census_year=2024,
        surveyed=date(2024, 10, 1),
        location="12401 工作面上方老空区",
        risk_level="major",
        plan_due=date(2024, 11, 1),
    )
    mh.register_factor(session, mine, "HF-002", "fault", census_year=2024, surveyed=date(2024, 10, 1), is_problem=False)
    with pytest.raises(Conflict):
        mh.register_factor(session, mine, "HF-001", "gas", census_year=2024, surveyed=date(2024, 10, 1))
    probs = session.scalars(select(Problem).where(Problem.category == ProblemCategory.MINE_HAZARDS)).all()
    assert [p.origin_key for p in probs] == ["minehazard:HF-001"] and f.problem_id == probs[0].id
    # past due without an approved plan -> gate reason
    assert "minehazard_plan_unapproved" in gate_rules_hit(session, mine, date(2024, 11, 2))
    assert "minehazard_plan_unapproved" not in gate_rules_hit(session, mine, date(2024, 10, 20))
    mh.submit_plan(
        session,
        "HF-001",
        "RP-001",
        measures="探放水，疏干积水后复采",
        submitted=date(2024, 10, 15),
        rectify_deadline=date(2025, 3, 31),
    )
    with pytest.raises(ValidationFailed, match="one plan per problem"):
        mh.submit_plan(session, "HF-001", "RP-XXX", measures="x", submitted=date(2024, 10, 16))
    with pytest.raises(Forbidden, match="EMB"):
        mh.review_plan(session, "RP-001", reviewer_unit="NRB", approve=True, result="同意", reviewed=date(2024, 10, 20))
    mh.review_plan(
        session,
        "RP-001",
        reviewer_unit="EMB",
        approve=False,
        result="探放水设计不足，补充钻孔布置",
        reviewed=date(2024, 10, 20),
    )
    assert "minehazard_plan_unapproved" in gate_rules_hit(session, mine, date(2024, 11, 2))
    mh.submit_plan(
        session,
        "HF-001",
        "RP-001",
        measures="探放水（补充钻孔 12 个）",
        submitted=date(2024, 10, 25),
        rectify_deadline=date(2025, 3, 31),
    )
    plan = mh.review_plan(
        session, "RP-001", reviewer_unit="EMB", approve=True, result="同意实施", reviewed=date(2024, 10, 28)
    )
    assert plan.state == PlanReviewState.APPROVED and plan.review_result == "同意实施"
    assert (
        gate_rules_hit(session, mine, date(2024, 11, 2))
        & {"minehazard_plan_unapproved", "minehazard_rectification_overdue"}
        == set()
    )
    assert "minehazard_rectification_overdue" in gate_rules_hit(session, mine, date(2025, 4, 1))
    mh.complete_plan(session, "RP-001", date(2025, 3, 20))
    c = mh.census(session, mine, date(2025, 4, 1))
    assert c["overdue"] == [] and c["by_type"] == {"采空区积水": 1, "断层": 1}


def test_review_policy(session, county):

    from subsidence.access.policy import Actor, visible
    from subsidence.vocabulary import Role

    mine = county.mines[0]
    mh.register_factor(session, mine, "HF-P", "fire_zone", census_year=2024, surveyed=date(2024, 10, 1))
    mh.submit_plan(session, "HF-P", "RP-P", measures="注浆灭火", submitted=date(2024, 10, 5))
    ent = Actor("ent", Role.ENTERPRISE, enterprise_id=mine.enterprise_id)
    nrb = Actor("nrb", Role.DEPARTMENT, unit_id=county.units["NRB"].id)
    emb = Actor("emb", Role.DEPARTMENT, unit_id=county.units["EMB"].id)
    for who in (ent, nrb):
        with pytest.raises(Forbidden):
            mh.review_plan(
                session, "RP-P", reviewer_unit="EMB", approve=True, result="同意", reviewed=date(2024, 10, 9), actor=who
            )
    mh.review_plan(
        session, "RP-P", reviewer_unit="EMB", approve=True, result="同意", reviewed=date(2024, 10, 9), actor=emb
    )
    other = Actor("other", Role.ENTERPRISE, enterprise_id=-1)
    assert (
        session.scalars(visible(ent, "hidden_factor")).all()
        and not session.scalars(visible(other, "hidden_factor")).all()
    )
