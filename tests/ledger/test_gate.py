"""Licence gate: each ledger rule's reason, legal basis, logging, and the CLI's JSON."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from subsidence.core.models import AuditEvent
from subsidence.ledger.models import GateQuery
from subsidence.errors import ValidationFailed
from subsidence.ledger.evidence import record_acceptance
from subsidence.vocabulary import ApplicationType
from subsidence.gate.service import evaluate_gate
from subsidence.ledger.lifecycle import transition
from subsidence.ledger.notices import issue_notice

MINE_RULES = ["overdue_problem", "returned_problem", "unaccepted_past_deadline", "missing_plan"]


@pytest.fixture(autouse=True)
def _no_plan_ledger(request, monkeypatch):
    """These tests judge the rectification rules alone: the plan ledger's lookup (if loaded) is set aside."""
    from subsidence.ledger import gate_rules
    from subsidence.gate.service import load_rules

    load_rules()  # let every ledger register first, so restoring the list afterwards keeps them
    if "every_registered_rule" not in request.node.name:
        monkeypatch.setattr(gate_rules, "_PLAN_LOOKUPS", [])


def _noticed(session, county, title, deadline=date(2024, 10, 31), mine=None):
    p = county.problem(session, title=title, mine=mine)
    issue_notice(session, p, county.office, issued_date=date(2024, 9, 20), deadline=deadline)
    return p


def _rules(decision):
    return sorted({(r.rule, r.record) for r in decision.reasons})


def test_clean_mine_allowed_and_logged(session, county):
    d = evaluate_gate(session, county.mine2, "extension", date(2024, 11, 1), actor=county.office, only=MINE_RULES)
    session.commit()
    assert d.allowed and d.reasons == [] and d.application == ApplicationType.EXTENSION
    row = session.get(GateQuery, d.query_id)
    assert row.allowed and row.application == "extension" and row.actor == "office:office1"
    assert row.as_of == date(2024, 11, 1)
    audit = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "gate_query"))
    assert audit == 1


def test_overdue_rule(session, county):
    p = _noticed(session, county, "逾期问题")
    before = evaluate_gate(session, county.mine1, "new_licence", date(2024, 10, 31), only=MINE_RULES)
    assert before.allowed, "on the deadline day it is not yet overdue"
    d = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 4), only=MINE_RULES)
    assert not d.allowed and _rules(d) == [("overdue_problem", p.code)]
    r = d.reasons[0]
    assert "土地复垦条例" in r.legal_basis and "第二十条" in r.legal_basis and "矿山地质环境保护规定" in r.legal_basis
    assert r.details["workdays_overdue"] == 2 and r.details["days_overdue"] == 4  # Nov 1 (Fri), Nov 4 (Mon)
    assert p.code in r.message
    # other mine unaffected
    assert evaluate_gate(session, county.mine2, "new_licence", date(2024, 11, 4), only=MINE_RULES).allowed


def test_returned_rule(session, county):
    p = _noticed(session, county, "退回问题", deadline=date(2024, 12, 31))
    transition(session, p, county.ent1, "start", on=date(2024, 9, 23))
    transition(session, p, county.ent1, "submit", on=date(2024, 10, 15))
    record_acceptance(session, p, county.office, passed=False, inspectors=["甲", "乙"], reasons="整改不到位",
                      decided_date=date(2024, 10, 20))
    d = evaluate_gate(session, county.mine1, "change", date(2024, 10, 21), only=MINE_RULES)
    assert _rules(d) == [("returned_problem", p.code)]
    # returned AND past the deadline: the returned reason stands (not counted twice as overdue)
    d2 = evaluate_gate(session, county.mine1, "change", date(2025, 1, 6), only=MINE_RULES)
    assert _rules(d2) == [("returned_problem", p.code)]


def test_unaccepted_past_deadline_rule(session, county):
    p = _noticed(session, county, "待验收问题")
    transition(session, p, county.ent1, "start", on=date(2024, 9, 23))
    transition(session, p, county.ent1, "submit", on=date(2024, 10, 25))
    assert evaluate_gate(session, county.mine1, "cancellation", date(2024, 10, 30), only=MINE_RULES).allowed
    d = evaluate_gate(session, county.mine1, "cancellation", date(2024, 11, 1), only=MINE_RULES)
    assert _rules(d) == [("unaccepted_past_deadline", p.code)]
    record_acceptance(session, p, county.office, passed=True, inspectors=["甲", "乙"], decided_date=date(2024, 11, 5))
    assert evaluate_gate(session, county.mine1, "cancellation", date(2024, 11, 6), only=MINE_RULES).allowed


def test_missing_plan_hook(session, county):
    from subsidence.ledger import gate_rules

    def lookup(session_, mine, today):
        if mine.id == county.mine1.id:
            return gate_rules.PlanStatus(present=False, note="未编制方案")
        return gate_rules.PlanStatus(present=True, record="FA-2", valid_to=date(2024, 6, 30))

    assert "missing_plan" in evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1),
                                           only=MINE_RULES).not_evaluated
    gate_rules.register_plan_lookup(lookup)
    d1 = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1), only=MINE_RULES)
    d2 = evaluate_gate(session, county.mine2, "construction_land", date(2024, 11, 1), only=MINE_RULES)
    assert d1.not_evaluated == []
    assert [r.rule for r in d1.reasons] == ["missing_plan"] and "方案" in d1.reasons[0].message
    assert [r.rule for r in d2.reasons] == ["missing_plan"] and d2.reasons[0].record == "FA-2"
    assert "土地复垦方案" in d1.reasons[0].legal_basis


def test_several_reasons_all_listed_sorted(session, county):
    a = _noticed(session, county, "甲")
    b = _noticed(session, county, "乙")
    d = evaluate_gate(session, county.mine1, "new_licence", date(2024, 12, 2), only=MINE_RULES)
    assert [r.record for r in d.reasons] == sorted([a.code, b.code])
    assert d.as_dict()["allowed"] is False and len(d.as_dict()["reasons"]) == 2


def test_every_registered_rule_runs(session, county):
    """All ledgers' rules (RULE_MODULES) evaluate without error on a small county."""
    d = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1))
    assert {"overdue_problem", "returned_problem", "unaccepted_past_deadline", "missing_plan"} <= set(d.rules_checked)


def test_bad_application_and_rule(session, county):
    with pytest.raises(ValidationFailed, match="unknown application type"):
        evaluate_gate(session, county.mine1, "demolition", date(2024, 11, 1))
    with pytest.raises(ValidationFailed, match="unknown gate rule"):
        evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1), only=["nope"])
    assert session.scalar(select(func.count()).select_from(GateQuery)) == 0
