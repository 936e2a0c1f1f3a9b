"""The report upward (工作上报) on the demo county: a 上行文 with the plan's core numbers (checked against the
tables directly), what changed, the overdue list by responsible unit, charts; PDF, DOCX (via LibreOffice) and
the xlsx behind it; its number gap-free per office and year."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO_TODAY
from tests.reports import doctools as dt

pytestmark = pytest.mark.slow
START, END = date(2026, 10, 1), DEMO_TODAY


@pytest.fixture
def report(demo_session):
    from subsidence.reports import upward

    return upward.build(demo_session, START, END)


def test_numbers_match_the_tables(demo_session, report):
    from subsidence.ledger.models import AcceptanceRecord, Problem, RectificationNotice
    from subsidence.tasks.models import CompensatedBuilding, FundEntry

    N = RectificationNotice
    assert report.metric("notices").period == demo_session.scalar(
        select(func.count()).select_from(N).where(N.issued_date.between(START, END))
    )
    assert report.metric("notices").cumulative == demo_session.scalar(select(func.count()).select_from(N))
    assert report.metric("problems_found").period == demo_session.scalar(
        select(func.count()).select_from(Problem).where(Problem.found_date.between(START, END))
    )
    assert report.metric("acceptances").cumulative == demo_session.scalar(
        select(func.count()).select_from(AcceptanceRecord).where(AcceptanceRecord.decided_date <= END)
    )
    B = CompensatedBuilding
    assert report.metric("buildings_demolished").cumulative == demo_session.scalar(
        select(func.count()).select_from(B).where(B.compensated.is_(True), B.demolished_date <= END)
    )
    # fund: deposits minus reversed deposits, in yuan
    entries = demo_session.scalars(select(FundEntry).where(FundEntry.entry_date <= END)).all()
    by_id = {e.id: e for e in entries}
    dep = sum(e.amount_fen for e in entries if e.kind.value == "deposit") - sum(
        e.amount_fen
        for e in entries
        if e.kind.value == "reversal" and e.reverses_id in by_id and by_id[e.reverses_id].kind.value == "deposit"
    )
    assert report.metric("fund_accrued").cumulative == pytest.approx(dep / 100)
    area = report.metric("area_confirmed")
    assert area.extra["cumulative_mu"] == pytest.approx(area.cumulative * 15, abs=0.1), "1 ha = 15 亩"


def test_pdf_is_an_upward_official_document(report, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from subsidence.render.gongwen import date_cn
    from subsidence.reports import upward

    pdf = tmp_path / "upward.pdf"
    upward.render_pdf(report, pdf)
    shutil.copy(pdf, artifacts_dir / "doc_upward.pdf")
    dt.png(pdf, artifacts_dir / "doc_upward_p1.png")
    _, ws = dt.words(pdf, 1)
    assert not dt.in_type_area(ws)
    flat = dt.flat(pdf)
    m = report.metric
    for needle in [
        "关于采煤沉陷区综合治理工作进展情况的报告",
        "伊金霍洛旗人民政府：",
        "签发人：",
        "伊采沉办〔2026〕",
        f"下达限期整改通知书{m('notices').period}份",
        f"已补偿建（构）筑物{m('buildings_demolished').extra['total']}处",
        "表1",
        "图1分任务问题整改情况",
        "逾期未整改问题清单（按责任单位）",
        "特此报告。",
        date_cn(END) + "印发",
        "附件：1．核心指标统计表",
    ]:
        assert needle in flat, needle
    assert "本期无状态变化" not in flat
    latin = re.findall(r"(?<![A-Za-z0-9-])[A-Za-z]{3,}(?![A-Za-z0-9-])", flat)
    assert not latin, f"Chinese only: {latin[:5]}"
    assert report.changes, "the demo's period has changes (new findings, newly overdue problems)"
    assert "与上期报告" in flat and report.changes[0].code in flat
    n = dt.pages(pdf)
    all_words = {w.text for p in range(1, n + 1) for w in dt.words(pdf, p)[1]}
    for o in report.progress.overdue:
        assert o.code in all_words, f"overdue {o.code} listed (on one line)"
    units = {o.lead_unit for o in report.progress.overdue}
    assert all(u in flat for u in units), "grouped by responsible unit"
    wide = [p for p in range(1, n + 1) if dt.words(pdf, p)[0][0] > 800]
    assert wide, "the long tables sit on landscape pages"
    for p in wide:
        (w, h), ws = dt.words(pdf, p)
        assert all(x.x1 <= w - 20 for x in ws), f"page {p}: the table fits the landscape page"


def test_docx_opens_in_libreoffice(report, tmp_path, artifacts_dir):
    from subsidence.reports import upward

    upward.render_docx(report, tmp_path / "upward.docx")
    assert upward.render_docx(report) == (tmp_path / "upward.docx").read_bytes(), "byte-identical"
    from docx import Document

    from subsidence.render.gongwen import schema_order_problems

    assert not schema_order_problems(Document(tmp_path / "upward.docx").element), "Word opens it"
    pdf = dt.libreoffice_pdf(tmp_path / "upward.docx", tmp_path)
    flat = dt.flat(pdf)
    assert "关于采煤沉陷区综合治理工作进展情况的报告" in flat and "签发人" in flat and "特此报告" in flat
    dt.png(pdf, artifacts_dir / "doc_upward_docx_libreoffice_p1.png")
    assert dt.pages(pdf) >= 3


def test_xlsx_tables_with_print_setup(report, tmp_path):
    from openpyxl import load_workbook

    from subsidence.reports import upward

    path = upward.render_xlsx(report, tmp_path / "upward.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["核心指标", "分任务", "逾期清单", "本期变化", "计划完成（矿山）", "计划完成（镇）"]
    for ws in wb:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$1:$2" and ws.freeze_panes == "A3"
    core = {r[0]: r for r in wb["核心指标"].iter_rows(min_row=3, values_only=True)}
    assert core["下达限期整改通知书"][2:] == (report.metric("notices").period, report.metric("notices").cumulative)
    assert wb["逾期清单"].max_row - 2 == len(report.progress.overdue)


def test_report_number_gap_free(demo_engine):
    from subsidence.db.session import make_sessionmaker
    from subsidence.reports import upward

    S = make_sessionmaker(demo_engine)
    with S() as s:
        first = upward.issue_number(s, 2026)
        s.commit()
    with S() as s:
        upward.issue_number(s, 2026)
        s.rollback()  # a failed issue gives its number back
    with S() as s:
        second = upward.issue_number(s, 2026)
        other_year = upward.issue_number(s, 2027)
        s.commit()
    assert (first, second, other_year) == ("伊采沉办〔2026〕1号", "伊采沉办〔2026〕2号", "伊采沉办〔2027〕1号")


def test_progress_report_names_what_changed(demo_session, tmp_path):
    """The working progress report (工作进展情况报告) lists the demo period's changes: the recorded transitions, or
    where none were recorded (imported problems) what differs between the two dates."""
    pytest.importorskip("weasyprint")
    from subsidence.reports.progress import build_report, progress_pdf

    rep = build_report(demo_session, START, END)
    assert rep.changes or rep.diffs, "the ledger changed in the period"
    pdf = tmp_path / "progress.pdf"
    progress_pdf(rep, pdf)
    flat = dt.flat(pdf)
    assert "无变化" not in flat and "本期无状态变化" not in flat
    first = rep.changes[0]["problem"] if rep.changes else rep.diffs[0].code
    assert first in {w.text for p in range(1, dt.pages(pdf) + 1) for w in dt.words(pdf, p)[1]}
    assert "illustrative" not in flat
