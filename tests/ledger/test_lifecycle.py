"""The lifecycle table: every transition allowed and refused, and the recorded history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from subsidence.access.policy import Actor
from subsidence.core.models import AuditEvent, Mine
from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.ledger.lifecycle import (
    TRANSITIONS,
    Party,
    allowed_transitions,
    check_transition,
    history,
    parties_of,
    transition,
)
from subsidence.ledger.models import Problem
from subsidence.vocabulary import ProblemCategory, ProblemSource, ProblemState, Role
from tests.ledger.conftest import at, proof  # noqa: F401

S = ProblemState
LEAD_UNIT_ID, ENTERPRISE_ID = 11, 21

ACTORS = {
    "office": Actor("o", Role.OFFICE, unit_id=1),
    "lead_unit": Actor("l", Role.DEPARTMENT, unit_id=LEAD_UNIT_ID),
    "enterprise": Actor("e", Role.ENTERPRISE, unit_id=31, enterprise_id=ENTERPRISE_ID),
    "other_department": Actor("d", Role.DEPARTMENT, unit_id=12),
    "other_enterprise": Actor("x", Role.ENTERPRISE, unit_id=32, enterprise_id=22),
    "public": Actor("p", Role.PUBLIC),
}
PARTY_OF_ACTOR = {"office": Party.OFFICE, "lead_unit": Party.LEAD_UNIT, "enterprise": Party.ENTERPRISE}


def _problem(state: ProblemState) -> Problem:
    return Problem(
        code="TZ-2024-0001",
        state=state,
        lead_unit_id=LEAD_UNIT_ID,
        found_date=date(2024, 9, 12),
        category=ProblemCategory.SUBSIDENCE_CRACKS,
        source=ProblemSource.FIELD_SURVEY,
        mine=Mine(licence_no="C1", name_zh="矿", enterprise_id=ENTERPRISE_ID),
    )


CASES = [(t, s, a) for t in TRANSITIONS for s in ProblemState for a in ACTORS]


@pytest.mark.parametrize(("name", "state", "who"), CASES, ids=[f"{t}-{s.value}-{a}" for t, s, a in CASES])
def test_transition_table(name, state, who):
    """Each (transition, state, actor): allowed exactly when the table says so; else the right error."""
    t = TRANSITIONS[name]
    p = _problem(state)
    actor = ACTORS[who]
    reason = "理由" if t.reason_required else None
    expected = state in t.sources and PARTY_OF_ACTOR.get(who) in t.parties
    if expected:
        assert check_transition(p, actor, name, reason) is t
        assert t in allowed_transitions(p, actor)
    else:
        with pytest.raises(Conflict if state not in t.sources else Forbidden):
            check_transition(p, actor, name, reason)
        assert t not in allowed_transitions(p, actor)


def test_table_shape():
    assert TRANSITIONS["withdraw"].sources == frozenset(set(S) - {S.ACCEPTED, S.WITHDRAWN})
    assert not any(S.ACCEPTED in t.sources or S.WITHDRAWN in t.sources for t in TRANSITIONS.values())
    reach = {S.FOUND}
    for _ in range(6):
        reach |= {t.target for t in TRANSITIONS.values() if t.sources & reach}
    assert reach == set(S), "every state is reachable from found"


def test_reason_required():
    with pytest.raises(ValidationFailed, match="reason"):
        check_transition(_problem(S.RECTIFYING), ACTORS["office"], "withdraw", "  ")
    with pytest.raises(ValidationFailed, match="unknown transition"):
        check_transition(_problem(S.RECTIFYING), ACTORS["office"], "teleport")


def test_parties():
    p = _problem(S.FOUND)
    assert parties_of(p, ACTORS["office"]) == {Party.OFFICE}
    assert parties_of(p, ACTORS["lead_unit"]) == {Party.LEAD_UNIT}
    assert parties_of(p, ACTORS["other_enterprise"]) == frozenset()


def test_full_path_recorded(session, county):
    p = county.problem(session)
    assert p.lead_unit_id == county.units["NRB"].id
    from subsidence.ledger.evidence import record_acceptance
    from subsidence.ledger.notices import issue_notice

    issue_notice(session, p, county.nrb, issued_date=at(session, date(2024, 9, 20)), workdays=20)
    transition(session, p, county.ent1, "start", on=at(session, date(2024, 9, 23)))
    proof(session, p, county.ent1)
    transition(session, p, county.ent1, "submit", on=at(session, date(2024, 10, 15)))
    assert p.acceptance_due == date(2025, 1, 8)
    record_acceptance(
        session,
        p,
        county.office,
        passed=False,
        inspectors=["检查员甲", "检查员乙"],
        reasons="裂缝未充填完毕",
        decided_date=at(session, date(2024, 10, 20)),
    )
    transition(session, p, county.ent1, "resume", on=at(session, date(2024, 10, 21)))
    proof(session, p, county.ent1, "退回后再次整改.pdf")
    transition(session, p, county.ent1, "submit", on=at(session, date(2024, 10, 25)))
    record_acceptance(
        session,
        p,
        county.office,
        passed=True,
        inspectors=["检查员甲", "检查员丙"],
        decided_date=at(session, date(2024, 10, 30)),
    )
    session.commit()
    assert p.state == S.ACCEPTED and p.closed_date == date(2024, 10, 30)
    h = history(session, p)
    assert [x["to"] for x in h] == [
        "notice_issued",
        "rectifying",
        "submitted",
        "returned",
        "rectifying",
        "submitted",
        "accepted",
    ]
    assert h[3]["reason"] == "裂缝未充填完毕" and h[3]["actor"] == "office:office1"
    assert h[0]["actor"] == "department:nrb1"
    # the row audit saw the state changes too
    n = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity == "problem", AuditEvent.entity_id == p.id, AuditEvent.action == "update")
    )
    assert n >= 7


def test_refused_transition_changes_nothing(session, county):
    p = county.problem(session)
    session.commit()
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Conflict, match="TZ-2024-0001.*found"):
        transition(session, p, county.ent1, "submit", on=at(session, date(2024, 9, 20)))
    assert p.submitted_date is None and p.acceptance_due is None and not session.dirty
    with pytest.raises(Forbidden, match="only be done by|may be done only"):
        transition(session, p, county.ent2, "fix_at_once", on=at(session, date(2024, 9, 20)))
    with pytest.raises(ValidationFailed, match="needs its document"):
        transition(session, p, county.office, "issue_notice", on=at(session, date(2024, 9, 20)))
    at(session, date(2024, 9, 20))
    with pytest.raises(Forbidden, match="only the office may record an earlier date"):
        transition(session, p, county.ent1, "fix_at_once", on=date(2024, 9, 19))
    with pytest.raises(ValidationFailed, match="before the previous step"):
        transition(session, p, county.office, "fix_at_once", on=date(2024, 9, 1), date_reason="补录")
    session.rollback()
    assert session.get(Problem, p.id).state == S.FOUND
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_withdraw_with_reason(session, county):
    p = county.problem(session)
    transition(
        session,
        p,
        county.office,
        "withdraw",
        on=at(session, date(2024, 9, 13)),
        reason="重复登记，与TZ-2024-0002为同一问题",
    )
    session.commit()
    assert p.state == S.WITHDRAWN and p.closed_date == date(2024, 9, 13)
    assert history(session, p)[0]["reason"].startswith("重复登记")


def test_fix_at_once_then_accept(session, county):
    from subsidence.ledger.evidence import record_acceptance

    p = county.problem(session)
    transition(session, p, county.ent1, "fix_at_once", on=at(session, date(2024, 9, 13)))
    record_acceptance(
        session, p, county.office, passed=True, inspectors=["A", "B"], decided_date=at(session, date(2024, 9, 14))
    )
    assert p.state == S.ACCEPTED


def test_add_problem_bad_input(session, county):
    from subsidence.ledger.lifecycle import add_problem

    with pytest.raises(ValidationFailed, match="before the found date"):
        add_problem(
            session,
            county.office,
            category="1",
            title="x",
            found_date=date(2024, 9, 12),
            deadline=date(2024, 9, 1),
            mine=county.mine1,
        )
    with pytest.raises(Forbidden):
        add_problem(session, county.ent1, category="1", title="x", found_date=date(2024, 9, 12))
    with pytest.raises(ValidationFailed, match="is not one of"):
        add_problem(session, county.office, category="9", title="x", found_date=date(2024, 9, 12))
    assert session.scalar(select(func.count()).select_from(Problem)) == 0
