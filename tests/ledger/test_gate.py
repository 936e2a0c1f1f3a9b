"""Licence gate: refuses only for a passed deadline set by a notice, extension, rule or plan; everything else is
a warning or "cannot be evaluated". Each kind of finding before and after its deadline, the logged query, the
numbered 不予受理告知书. (The old tests refused in-deadline and unnotified findings; these replace them.)"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from subsidence.core.models import AuditEvent
from subsidence.errors import Conflict, ValidationFailed
from subsidence.gate.service import (
    evaluate_gate,
    issue_refusal_notice,
    refusal_document_data,
)
from subsidence.ledger.evidence import record_acceptance
from subsidence.ledger.extensions import decide_extension, request_extension
from subsidence.ledger.lifecycle import transition
from subsidence.ledger.models import GateQuery
from subsidence.ledger.notices import issue_notice
from subsidence.vocabulary import ApplicationType
from tests.ledger.conftest import at, proof

LEDGER = ["ledger_problems"]


def _noticed(session, county, title, deadline=date(2024, 10, 31), mine=None, issued=date(2024, 9, 20)):
    p = county.problem(session, title=title, mine=mine)
    issue_notice(session, p, county.office, issued_date=at(session, issued), deadline=deadline)
    return p


def _by_rule(findings):
    return sorted((f.rule, f.record) for f in findings)


def test_clean_mine_allowed_and_logged(session, county):
    d = evaluate_gate(session, county.mine2, "extension", date(2024, 11, 1), actor=county.office, only=LEDGER)
    session.commit()
    assert d.allowed and d.outcome == "allowed" and d.reasons == d.warnings == []
    assert d.application == ApplicationType.EXTENSION
    row = session.get(GateQuery, d.query_id)
    assert row.allowed and row.outcome == "allowed" and row.application == "extension"
    assert row.actor == "office:office1" and row.as_of == date(2024, 11, 1) and row.warnings == []
    audit = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "gate_query"))
    assert audit == 1


def test_noticed_problem_before_and_after_its_deadline(session, county):
    p = _noticed(session, county, "逾期问题")
    on_day = evaluate_gate(session, county.mine1, "new_licence", date(2024, 10, 31), only=LEDGER)
    assert on_day.allowed, "on the deadline day it is not yet overdue"
    assert _by_rule(on_day.warnings) == [("rectification_problem", p.code)] and "未到" in on_day.warnings[0].message
    d = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 4), only=LEDGER)
    assert d.outcome == "refused" and _by_rule(d.reasons) == [("rectification_problem", p.code)] and d.warnings == []
    r = d.reasons[0]
    assert r.severity == "refusal" and r.deadline == date(2024, 10, 31) and r.deadline < d.today
    assert r.deadline_set_by.kind == "notice" and r.deadline_set_by.code == "伊自然资整改〔2024〕1号"
    assert r.deadline_set_by.date == date(2024, 9, 20) and r.record == p.code and r.problem == p.code
    assert "土地复垦条例" in r.legal_basis and "第二十条" in r.legal_basis and "矿山地质环境保护规定" in r.legal_basis
    assert "验收" in r.remedy and "延期" in r.remedy
    assert r.details["workdays_overdue"] == 2 and r.details["days_overdue"] == 4  # Nov 1 (Fri), Nov 4 (Mon)
    assert p.code in r.message and "2024-10-31" in r.message and "〔2024〕1号" in r.message
    j = d.as_dict()["reasons"][0]
    assert j["deadline"] == "2024-10-31" and j["deadline_set_by"]["kind"] == "notice" and j["severity"] == "refusal"
    assert evaluate_gate(session, county.mine2, "new_licence", date(2024, 11, 4), only=LEDGER).allowed


def test_finding_without_a_notified_deadline_is_a_warning(session, county):
    found = county.problem(session, title="刚发现")
    typed = county.problem(session, title="台账期限未告知", deadline=date(2024, 10, 1))
    d = evaluate_gate(session, county.mine1, "new_licence", date(2025, 3, 1), only=LEDGER)
    assert d.allowed and d.reasons == []
    w = {f.record: f for f in d.warnings}
    assert w[found.code].deadline is None and "通知书" in w[found.code].remedy
    assert w[typed.code].deadline == date(2024, 10, 1) and w[typed.code].deadline_set_by is None
    assert "未经限期整改通知书告知" in w[typed.code].message


def test_returned_before_and_after_the_deadline(session, county):
    p = _noticed(session, county, "退回问题", deadline=date(2024, 12, 31))
    transition(session, p, county.ent1, "start", on=at(session, date(2024, 9, 23)))
    proof(session, p, county.ent1)
    transition(session, p, county.ent1, "submit", on=at(session, date(2024, 10, 15)))
    record_acceptance(
        session,
        p,
        county.office,
        passed=False,
        inspectors=["甲", "乙"],
        reasons="整改不到位",
        decided_date=at(session, date(2024, 10, 20)),
    )
    d = evaluate_gate(session, county.mine1, "change", date(2024, 10, 21), only=LEDGER)
    assert d.allowed and _by_rule(d.warnings) == [("returned_problem", p.code)]
    d2 = evaluate_gate(session, county.mine1, "change", date(2025, 1, 6), only=LEDGER)
    assert _by_rule(d2.reasons) == [("returned_problem", p.code)]
    assert (
        d2.reasons[0].details["return_reasons"] == "整改不到位"
        and d2.reasons[0].details["returned_date"] == "2024-10-20"
    )


def test_submitted_in_time_waits_for_the_office_late_submission_refused(session, county):
    in_time = _noticed(session, county, "按期申请验收")
    late = _noticed(session, county, "逾期申请验收")
    for p in (in_time, late):
        transition(session, p, county.ent1, "start", on=at(session, date(2024, 9, 23)))
        proof(session, p, county.ent1)
    transition(session, in_time, county.ent1, "submit", on=at(session, date(2024, 10, 25)))
    transition(session, late, county.ent1, "submit", on=at(session, date(2024, 11, 5)))
    d = evaluate_gate(session, county.mine1, "cancellation", date(2024, 11, 6), only=LEDGER)
    assert _by_rule(d.reasons) == [("awaiting_acceptance", late.code)]
    assert d.reasons[0].details["submitted_in_time"] is False
    waiting = next(w for w in d.warnings if w.record == in_time.code)
    assert waiting.pending == "acceptance" and waiting.details["acceptance_due"] == in_time.acceptance_due.isoformat()
    assert "待办公室验收" in waiting.message
    record_acceptance(
        session, late, county.office, passed=True, inspectors=["甲", "乙"], decided_date=at(session, date(2024, 11, 8))
    )
    assert evaluate_gate(session, county.mine1, "cancellation", date(2024, 11, 8), only=LEDGER).allowed


def test_extension_moves_the_deadline_the_gate_uses(session, county):
    p = _noticed(session, county, "申请延期", deadline=date(2024, 10, 31))
    at(session, date(2024, 10, 28))
    x = request_extension(session, p, county.ent1, requested_deadline=date(2024, 11, 29), reason="雨季无法施工")
    at(session, date(2024, 11, 4))
    pending = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 4), only=LEDGER)
    assert pending.allowed and pending.warnings[0].pending == "extension"
    decide_extension(session, x, county.nrb, approve=True, reason="情况属实", granted_deadline=date(2024, 11, 22))
    assert p.deadline == date(2024, 11, 22)
    mid = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 4), only=LEDGER)
    assert mid.allowed and mid.warnings[0].deadline == date(2024, 11, 22)
    after = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 25), only=LEDGER)
    r = after.reasons[0]
    assert r.deadline == date(2024, 11, 22) and r.deadline_set_by.kind == "extension"
    assert r.deadline_set_by.code == f"{p.code}-延期1" and r.deadline_set_by.date == date(2024, 11, 4)


def test_plan_missing_is_not_evaluable_expired_is_refused(session, county):
    from subsidence.plans.models import ReclamationPlan

    d = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1), only=["reclamation_plan"])
    assert d.outcome == "not_evaluable" and not d.allowed and d.reasons == []
    assert d.not_evaluated[0].rule == "missing_plan" and "录入" in d.not_evaluated[0].enter
    assert d.as_dict()["not_evaluable"][0]["severity"] == "not_evaluable"
    session.add(
        ReclamationPlan(
            code="FA-1-r1",
            doc_no="伊自然资复〔2019〕3号",
            mine_id=county.mine1.id,
            approval_date=date(2019, 5, 1),
            valid_from=date(2019, 5, 1),
            valid_to=date(2024, 12, 31),
        )
    )
    session.flush()
    ok = evaluate_gate(session, county.mine1, "new_licence", date(2024, 6, 1), only=["reclamation_plan"])
    assert ok.allowed and ok.warnings == []
    soon = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1), only=["reclamation_plan"])
    assert soon.allowed and soon.warnings[0].deadline == date(2024, 12, 31)
    late = evaluate_gate(session, county.mine1, "new_licence", date(2025, 1, 2), only=["reclamation_plan"])
    assert late.outcome == "refused" and late.reasons[0].deadline_set_by.code == "伊自然资复〔2019〕3号"
    # a refusal outweighs a rule that cannot judge
    both = evaluate_gate(session, county.mine1, "new_licence", date(2025, 1, 2), only=["reclamation_plan", "fund"])
    assert both.outcome == "refused" and [f.rule for f in both.not_evaluated] == ["fund_account_missing"]


def test_refusal_notice_numbered_per_authority_and_year(session, county):
    _noticed(session, county, "逾期一")
    at(session, date(2024, 11, 4))
    allowed = evaluate_gate(session, county.mine2, "new_licence", date(2024, 11, 4), only=LEDGER)
    with pytest.raises(Conflict, match="only a refused"):
        issue_refusal_notice(session, allowed.query_id, county.office)
    d1 = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 4), only=LEDGER)
    d2 = evaluate_gate(session, county.mine1, "construction_land", date(2024, 11, 4), only=LEDGER)
    with pytest.raises(Conflict, match="no 不予受理告知书 yet"):
        refusal_document_data(session, d1.query_id)
    n1 = issue_refusal_notice(session, d1.query_id, county.office)
    assert issue_refusal_notice(session, d1.query_id, county.office) is n1  # once per query
    n2 = issue_refusal_notice(session, d2.query_id, county.office)
    n3 = issue_refusal_notice(
        session,
        evaluate_gate(session, county.mine1, "change", date(2024, 11, 4), only=LEDGER).query_id,
        county.office,
        authority="EMB",
    )
    session.commit()
    assert (n1.code, n2.code) == ("伊自然资不予受理〔2024〕1号", "伊自然资不予受理〔2024〕2号")
    assert n3.code == "EMB不予受理〔2024〕1号"  # another authority counts on its own
    data = refusal_document_data(session, d1.query_id)
    assert data["code"] == n1.code and data["applicant"] == "示例一号煤业有限公司" and data["mine"] == "示例一号煤矿"
    assert data["application_label"].startswith("新立采矿权申请") and data["query_date"] == "2024-11-04"
    r = data["reasons"][0]
    assert r["deadline"] == "2024-10-31" and r["deadline_set_by"]["code"] == "伊自然资整改〔2024〕1号"
    assert r["legal_basis"] and r["remedy"] and data["remedy_summary"]
    assert "行政复议" in data["review_rights"] and "行政诉讼" in data["review_rights"]
    with pytest.raises(ValidationFailed, match="between the query date"):
        issue_refusal_notice(
            session,
            evaluate_gate(session, county.mine1, "extension", date(2024, 11, 4), only=LEDGER).query_id,
            county.office,
            issued_date=date(2024, 11, 5),
        )


def test_every_rule_runs(session, county):
    from subsidence.gate.rules import rule_names

    d = evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1))
    assert d.rules_checked == rule_names()
    assert {"ledger_problems", "reclamation_plan", "annual_plan", "fund", "water", "mine_hazards", "buildings"} == set(
        d.rules_checked
    )
    # a mine with no data at all cannot be evaluated (plan, fund account) - never "allowed"
    assert d.outcome == "not_evaluable" and {f.rule for f in d.not_evaluated} == {
        "missing_plan",
        "fund_account_missing",
    }


def test_bad_application_and_rule(session, county):
    with pytest.raises(ValidationFailed, match="unknown application type"):
        evaluate_gate(session, county.mine1, "demolition", date(2024, 11, 1))
    with pytest.raises(ValidationFailed, match="unknown gate rule"):
        evaluate_gate(session, county.mine1, "new_licence", date(2024, 11, 1), only=["nope"])
    assert session.scalar(select(func.count()).select_from(GateQuery)) == 0
