"""Phase plan, progress by task/town/department, as-of reconstruction, escalation, reports."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from subsidence.ledger.evidence import record_acceptance
from subsidence.ledger.lifecycle import transition
from subsidence.ledger.models import Escalation, Problem
from subsidence.ledger.notices import issue_notice
from subsidence.ledger.progress import PHASES, TASKS, compute_progress, escalate_overdue, phase_on, states_as_of
from subsidence.vocabulary import ProblemCategory, ProblemState
from tests.ledger.conftest import at, proof  # noqa: F401

S = ProblemState


def test_phases_and_tasks():
    assert [p.start for p in PHASES] == [date(2024, 8, 24), date(2024, 9, 10), date(2024, 12, 31)]
    assert PHASES[1].end == date(2024, 12, 30) and PHASES[2].end is None
    assert phase_on(date(2024, 9, 1)).no == 1 and phase_on(date(2024, 12, 30)).no == 2
    assert phase_on(date(2026, 1, 1)).no == 3 and phase_on(date(2024, 8, 1)) is None
    assert [t.no for t in TASKS] == list(range(1, 8))
    assert TASKS[0].lead == ("NRB",) and "EMB" in TASKS[0].cooperating
    assert TASKS[6].lead == ("EMB",) and TASKS[4].lead == ("AWB", "EEB")


@pytest.fixture
def ledger(session, county):
    """Six problems in various states (dates in autumn 2024)."""
    P = {}
    P["accepted_on_time"] = county.problem(session, title="按期销号")
    issue_notice(
        session,
        P["accepted_on_time"],
        county.office,
        issued_date=at(session, date(2024, 9, 20)),
        deadline=date(2024, 10, 31),
    )
    transition(session, P["accepted_on_time"], county.ent1, "start", on=at(session, date(2024, 9, 23)))
    proof(session, P["accepted_on_time"], county.ent1)
    transition(session, P["accepted_on_time"], county.ent1, "submit", on=at(session, date(2024, 10, 20)))
    record_acceptance(
        session,
        P["accepted_on_time"],
        county.office,
        passed=True,
        inspectors=["甲", "乙"],
        decided_date=at(session, date(2024, 10, 25)),
    )
    P["overdue"] = county.problem(session, title="逾期未整改")
    issue_notice(
        session, P["overdue"], county.office, issued_date=at(session, date(2024, 9, 20)), deadline=date(2024, 10, 15)
    )
    P["found"] = county.problem(session, category=ProblemCategory.GROUNDWATER, title="地下水位下降", mine=county.mine2)
    P["withdrawn"] = county.problem(session, title="重复登记")
    transition(session, P["withdrawn"], county.office, "withdraw", on=at(session, date(2024, 9, 13)), reason="重复")
    P["fixed"] = county.problem(session, category=ProblemCategory.MINE_HAZARDS, title="立行立改")
    transition(session, P["fixed"], county.ent1, "fix_at_once", on=at(session, date(2024, 9, 14)))
    P["late"] = county.problem(session, title="超期销号")
    issue_notice(
        session, P["late"], county.office, issued_date=at(session, date(2024, 9, 20)), deadline=date(2024, 10, 10)
    )
    transition(session, P["late"], county.ent1, "start", on=at(session, date(2024, 9, 23)))
    proof(session, P["late"], county.ent1)
    transition(session, P["late"], county.ent1, "submit", on=at(session, date(2024, 10, 28)))
    record_acceptance(
        session,
        P["late"],
        county.office,
        passed=True,
        inspectors=["甲", "乙"],
        decided_date=at(session, date(2024, 11, 5)),
    )
    session.commit()
    return P


def test_progress_totals_equal_ledger(session, county, ledger):
    prog = compute_progress(session, date(2024, 11, 30))
    t = prog.total
    n_ledger = session.scalar(select(func.count()).select_from(Problem).where(Problem.state != S.WITHDRAWN))
    assert t.found == n_ledger == 5
    assert (t.accepted, t.on_time, t.late) == (2, 1, 1)
    assert t.noticed == 3 and t.rectifying == 1 and t.fixed_at_once == 1 and t.overdue == 1
    for rows in (prog.by_task, prog.by_town, prog.by_department):
        for key in ("found", "accepted", "overdue", "noticed", "rectifying", "fixed_at_once"):
            assert sum(getattr(r.counts, key) for r in rows) == getattr(t, key), key
    by_task = {r.key: r.counts for r in prog.by_task}
    assert by_task["1"].found == 3 and by_task["5"].found == 1 and by_task["7"].fixed_at_once == 1
    depts = {r.key: r.counts.found for r in prog.by_department}
    assert depts == {"NRB": 3, "AWB": 1, "EMB": 1}
    assert [o.code for o in prog.overdue] == [ledger["overdue"].code]
    assert prog.overdue[0].workdays_overdue == 12 + 21  # Oct 16-31, November 2024


def test_progress_as_of_past_date(session, county, ledger):
    """Rebuilt from the transitions: on Oct 1 nothing was accepted yet and nothing overdue."""
    prog = compute_progress(session, date(2024, 10, 1))
    assert prog.total.accepted == 0 and prog.total.overdue == 0 and prog.total.rectifying == 3
    states = states_as_of(session, [ledger["late"]], date(2024, 10, 30))
    assert states[ledger["late"].id] == S.SUBMITTED
    mid = compute_progress(session, date(2024, 10, 16))
    assert mid.total.overdue == 2  # "overdue" (Oct 15) and "late" (Oct 10, still rectifying)


def test_escalation_once_per_level(session, county, ledger):
    first = escalate_overdue(session, date(2024, 10, 16))
    # escalation runs on the current ledger: "late" is accepted by now, only "overdue" is still open
    assert [(e.problem.code, e.level.value) for e in first] == [(ledger["overdue"].code, "lead_unit")]
    assert all(e.unit_id == county.units["NRB"].id for e in first)
    assert escalate_overdue(session, date(2024, 10, 17)) == []
    later = escalate_overdue(session, date(2024, 11, 1))
    assert [(e.problem.code, e.level.value) for e in later] == [(ledger["overdue"].code, "office")]
    assert later[0].unit_id == county.units["LGO"].id and later[0].workdays_overdue == 13
    session.commit()
    assert session.scalar(select(func.count()).select_from(Escalation)) == 2


def test_deadline_watch_acceptance_window(session, county, ledger):
    from subsidence.ledger.progress import deadline_watch

    p = county.problem(session, title="待验收超时")
    issue_notice(session, p, county.office, issued_date=at(session, date(2024, 9, 20)), deadline=date(2024, 12, 31))
    transition(session, p, county.ent1, "start", on=at(session, date(2024, 9, 23)))
    proof(session, p, county.ent1)
    transition(session, p, county.ent1, "submit", on=at(session, date(2024, 9, 27)))
    assert p.acceptance_due == date(2024, 12, 25)  # 60 working days: Sep 29, 30, Oct 8-12 (Sat), ...
    assert deadline_watch(session, date(2024, 12, 25))["acceptance_overdue"] == []
    w = deadline_watch(session, date(2024, 12, 26))
    assert [a["code"] for a in w["acceptance_overdue"]] == [p.code]
    assert [o["code"] for o in w["overdue"]] == [ledger["overdue"].code]
    soon = deadline_watch(session, date(2024, 10, 9))
    # as of Oct 9 "late" (Oct 10) was still rectifying, and Oct 15 is 4 working days away
    assert [o["code"] for o in soon["due_soon"]] == [ledger["late"].code, ledger["overdue"].code]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_progress_report_pdf_docx(session, county, ledger, tmp_path, artifacts_dir):
    from docx import Document

    from subsidence.reports.progress import build_report, progress_docx, progress_pdf

    rep = build_report(session, date(2024, 10, 1), date(2024, 10, 31))
    assert rep.new_found == 0 and rep.notices_issued == 0 and rep.accepted_in_period == 1
    assert [(c["on"], c["to"]) for c in rep.changes] == [
        ("2024-10-20", "submitted"),
        ("2024-10-25", "accepted"),
        ("2024-10-28", "submitted"),
    ]
    pdf = progress_pdf(rep, tmp_path / "p.pdf")
    shutil.copy(tmp_path / "p.pdf", artifacts_dir / "ledger_progress.pdf")
    text = _pdf_text(pdf).replace(" ", "").replace("\n", "")
    for needle in [
        "采煤沉陷区综合治理工作进展情况报告",
        "分任务进展",
        "分镇进展",
        "分部门进展",
        "测试镇",
        "旗自然资源局",
        "逾期未整改问题清单",
        ledger["overdue"].code,
        "本期变化",
        "已申请验收→已验收销号".replace("已申请验收", "申请验收"),
    ]:
        assert needle in text, needle
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(tmp_path / "p.pdf")], capture_output=True, text=True).stdout
        assert any("CJK" in r or "Noto" in r for r in fonts.splitlines()[2:]), fonts
    # same data -> same text; DOCX byte-identical
    assert _pdf_text(progress_pdf(build_report(session, date(2024, 10, 1), date(2024, 10, 31)))) == _pdf_text(pdf)
    docx = progress_docx(rep, tmp_path / "p.docx")
    (artifacts_dir / "ledger_progress.docx").write_bytes(docx)
    assert progress_docx(build_report(session, date(2024, 10, 1), date(2024, 10, 31))) == docx
    doc = Document(io.BytesIO(docx))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "合计" in cells and ledger["overdue"].code in cells
    # report totals equal the ledger: the total row of the task table
    task_total = next(t for t in doc.tables if t.rows[0].cells[0].text == "重点任务" and len(t.columns) > 5)
    total_row = [c.text for c in task_total.rows[-1].cells]
    assert total_row[0] == "合计" and int(total_row[1]) == rep.progress.total.found == 5


def test_ledger_excel_deterministic(session, county, ledger, tmp_path):
    pytest.importorskip("openpyxl")
    from openpyxl import load_workbook

    from subsidence.reports.progress import ledger_xlsx

    a = ledger_xlsx(session, tmp_path / "a.xlsx", as_of=date(2024, 11, 30))
    b = ledger_xlsx(session, tmp_path / "b.xlsx", as_of=date(2024, 11, 30))
    assert a.read_bytes() == b.read_bytes()
    ws = load_workbook(a).active
    values = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(p.code in values for p in ledger.values())


def test_demo_story_through_the_services(session, county):
    """A demo story reaches its state through the services: every step in the history, milestones done with
    evidence before the submission, and progress rebuilt for a past date from those steps."""
    import numpy as np

    from subsidence.demo.ledger import tell_story
    from subsidence.ledger.lifecycle import history

    rng = np.random.default_rng(7)
    today = date(2025, 6, 30)
    reached = {}
    for target in (
        S.FOUND,
        S.FIXED_AT_ONCE,
        S.NOTICE_ISSUED,
        S.RECTIFYING,
        S.SUBMITTED,
        S.ACCEPTED,
        S.RETURNED,
        S.WITHDRAWN,
    ):
        p = county.problem(session, title=f"示例{target.value}", found=date(2024, 10, 8))
        reached[target] = (p, tell_story(session, p, target, rng, today, 60))
    session.flush()
    assert {t: r for t, (_, r) in reached.items()} == {t: t for t in reached}
    for target, (p, _) in reached.items():
        h = history(session, p)
        assert (h[-1]["to"] if h else "found") == target.value
        if target in (S.SUBMITTED, S.ACCEPTED, S.RETURNED):
            assert all(m.done_date and m.done_date <= p.submitted_date and m.evidence_ids for m in p.milestones)
    accepted = reached[S.ACCEPTED][0]
    assert compute_progress(session, accepted.closed_date - timedelta(days=1)).total.accepted == 0
    assert compute_progress(session, accepted.closed_date).total.accepted == 1
