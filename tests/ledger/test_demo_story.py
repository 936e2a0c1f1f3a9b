"""The demo tells one consistent story: records built through the services have histories,
milestones / submitted date / state agree, every count of overdue and due-soon is the same number, and the gate's
answers differ between mines for reasons the data show."""

from __future__ import annotations

from sqlalchemy import func, select

from subsidence.core.models import AuditEvent, Mine
from subsidence.demo.county import is_compliant
from subsidence.gate.service import evaluate_gate
from subsidence.ledger.lifecycle import history
from subsidence.ledger.models import Escalation, Problem, RectificationNotice
from subsidence.ledger.progress import compute_progress, deadline_watch
from subsidence.ledger.queries import deadline_counts
from subsidence.ledger.summary import county_summary
from subsidence.ledger.today import progress_today
from subsidence.monitoring.models import OutboxMessage
from subsidence.vocabulary import ProblemState
from tests.conftest import DEMO_TODAY

S = ProblemState


def test_demo_problems_have_histories_that_agree(demo_session):
    s = demo_session
    noticed = set(s.scalars(select(RectificationNotice.problem_id)))
    assert len(noticed) >= 20
    for p in s.scalars(select(Problem).order_by(Problem.code)):
        h = history(s, p)
        if p.state != S.FOUND:
            assert h and h[-1]["to"] == p.state.value, p.code  # the state is where its history ends
        assert all(x["on"] <= DEMO_TODAY.isoformat() and not x["date_corrected"] for x in h), p.code
        if p.id in noticed:
            assert h[0]["transition"] == "issue_notice" and p.deadline is not None
        if p.state in (S.SUBMITTED, S.ACCEPTED):
            assert p.submitted_date is not None and p.acceptance_due is not None
            assert all(
                m.done_date is not None and m.done_date <= p.submitted_date and m.evidence_ids for m in p.milestones
            ), p.code
        if p.state == S.NOTICE_ISSUED:
            assert all(m.done_date is None for m in p.milestones)
        if p.state == S.ACCEPTED and p.id in noticed:
            assert p.closed_date is not None and p.closed_date >= p.submitted_date


def test_one_overdue_and_due_soon_number_everywhere(demo_session):
    s = demo_session
    counts = deadline_counts(s, DEMO_TODAY)
    summary = county_summary(s, DEMO_TODAY)
    prog = compute_progress(s, DEMO_TODAY)
    fast = progress_today(s, DEMO_TODAY)
    watch = deadline_watch(s, DEMO_TODAY)
    assert counts["overdue"] > 0
    assert (
        summary["overdue"]
        == prog.total.overdue
        == fast["total"]["overdue"]
        == len(watch["overdue"])
        == len(prog.overdue)
        == counts["overdue"]
    )
    assert summary["due_soon"] == len(watch["due_soon"]) == len(prog.due_soon) == counts["due_soon"]
    assert summary["acceptance_overdue"] == len(watch["acceptance_overdue"]) == counts["acceptance_overdue"]
    # a submitted problem is never counted overdue (the office's window is acceptance_overdue)
    submitted = {p.code for p in s.scalars(select(Problem).where(Problem.state == S.SUBMITTED))}
    assert not submitted & {o["code"] for o in watch["overdue"]}


def test_demo_watch_escalated_with_notices_and_notifications(demo_session):
    s = demo_session
    escalations = s.scalars(select(Escalation)).all()
    assert escalations and all(e.code and e.snapshot for e in escalations)
    assert {e.kind for e in escalations} >= {"deadline", "milestone", "acceptance"}
    keys = set(s.scalars(select(OutboxMessage.idempotency_key)))
    assert {e.outbox_key for e in escalations} <= keys
    assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "milestone_done")) > 10


def test_demo_gate_answers_differ_between_mines(demo_session):
    s = demo_session
    mines = list(s.scalars(select(Mine).order_by(Mine.licence_no)))
    outcomes = {}
    for m in mines:
        d = evaluate_gate(s, m, "extension", DEMO_TODAY)
        outcomes[m.licence_no] = d.outcome
        for r in d.reasons:  # every refusal names a passed deadline and what set it
            assert r.deadline < DEMO_TODAY and r.deadline_set_by is not None and r.legal_basis and r.remedy
        if is_compliant(m, mines):
            assert d.outcome in ("allowed", "not_evaluable"), (m.licence_no, [r.rule for r in d.reasons])
            assert d.outcome == "allowed" or {f.rule for f in d.not_evaluated} == {"missing_plan"}
        else:
            assert d.outcome == "refused", m.licence_no
    assert set(outcomes.values()) == {"allowed", "refused", "not_evaluable"}


def test_demo_has_a_numbered_refusal_notice(demo_session):
    from subsidence.gate.service import refusal_document_data
    from subsidence.ledger.models import RefusalNotice

    (n,) = demo_session.scalars(select(RefusalNotice)).all()
    data = refusal_document_data(demo_session, n.gate_query_id)
    assert data["code"] == f"伊自然资不予受理〔{DEMO_TODAY.year}〕1号" and data["illustrative"]
    assert data["reasons"] and all(r["deadline"] < DEMO_TODAY.isoformat() for r in data["reasons"])
