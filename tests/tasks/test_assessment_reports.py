"""Annual assessment (scores, contributions, ranking, lists) and the task documents (PDF, DOCX, xlsx)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date

import pytest

from subsidence.errors import ValidationFailed
from subsidence.ledger.problems import open_problem
from subsidence.reports import tasks as rep
from subsidence.tasks import assessment as a
from subsidence.tasks import fund
from subsidence.tasks import minehazards as mh
from subsidence.vocabulary import ProblemCategory, ProblemSource, ProblemState


def _setup(session, county):
    good, bad, mid = county.mines
    for m in county.mines:
        fund.open_account(session, m, land_type="grassland")
        fund.compute_obligation(session, m, 2025, 1_000_000)
    req = 1_000_000 * 5.5
    fund.add_entry(session, good, "deposit", int(req * 1.2 * 100), date(2025, 2, 1), year=2025)
    fund.add_entry(session, good, "spending", int(req * 0.7 * 100), date(2025, 6, 1), works="裂缝治理")
    p, _ = open_problem(
        session,
        category=ProblemCategory.SUBSIDENCE_CRACKS,
        title="塌陷坑",
        found_date=date(2025, 1, 5),
        source=ProblemSource.REMOTE_SENSING,
        mine=good,
        deadline=date(2025, 6, 30),
    )
    p.state, p.closed_date = ProblemState.ACCEPTED, date(2025, 6, 1)
    q, _ = open_problem(
        session,
        category=ProblemCategory.VEGETATION,
        title="植被",
        found_date=date(2025, 1, 5),
        source=ProblemSource.REMOTE_SENSING,
        mine=bad,
        deadline=date(2025, 6, 30),
    )
    mh.register_factor(
        session, bad, "HF-B1", "gas", census_year=2025, surveyed=date(2025, 3, 1), plan_due=date(2025, 4, 1)
    )
    fund.add_entry(session, mid, "deposit", int(req * 0.5 * 100), date(2025, 2, 1), year=2025)
    session.flush()
    return good, bad, mid


def test_scores_contributions_ranking(session, county):
    good, bad, mid = _setup(session, county)
    rows = a.run_assessment(session, 2025, date(2026, 1, 15))
    assert len(rows) == 3  # one score per mine
    rank = a.ranking(session, 2025)
    assert [r["mine"] for r in rank][0] == good.licence_no and rank[-1]["mine"] == bad.licence_no
    for r in rank:
        assert r["score"] == pytest.approx(sum(i["contribution"] for i in r["indicators"]), abs=0.05)
        assert 0 <= r["score"] <= 100
    top = rank[0]
    assert top["score"] == 100.0 and top["listing"] == "praise"
    assert rank[-1]["listing"] == "exposure"
    ind = {i["key"]: i for i in rank[-1]["indicators"]}
    assert ind["problems_on_time"]["sub_score"] == 0.0 and ind["hazards"]["sub_score"] == 0.0
    assert ind["inspections"]["sub_score"] is None and ind["inspections"]["contribution"] == 0.0
    # re-running replaces, never duplicates
    a.run_assessment(session, 2025, date(2026, 1, 15))
    assert len(a.ranking(session, 2025)) == 3


def test_config_file(tmp_path):
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps({"weights": {"inspections": 0}, "praise_min": 95}), encoding="utf-8")
    cfg = a.AssessmentConfig.load(p)
    assert cfg.weights["inspections"] == 0 and cfg.praise_min == 95
    p.write_text(json.dumps({"weights": {"beauty": 5}}), encoding="utf-8")
    with pytest.raises(ValidationFailed, match="unknown indicator"):
        a.AssessmentConfig.load(p)


@pytest.mark.slow
def test_documents(session, county, tmp_path, artifacts_dir):
    good, bad, mid = _setup(session, county)
    a.run_assessment(session, 2025, date(2026, 1, 15))
    rank = a.ranking(session, 2025)
    pdf = tmp_path / "lists.pdf"
    rep.assessment_pdf(2025, rank, pdf, date(2026, 1, 20))
    rep.assessment_docx(2025, rank, tmp_path / "lists.docx", date(2026, 1, 20))
    rep.assessment_xlsx(2025, rank, tmp_path / "lists.xlsx")
    summ = fund.year_summary(session, good, 2025)
    fpdf = tmp_path / "fund.pdf"
    rep.fund_report_pdf(summ, fpdf, date(2025, 12, 31))
    rep.fund_report_xlsx(summ, tmp_path / "fund.xlsx")
    shutil.copy(pdf, artifacts_dir / "tasks-assessment-lists.pdf")
    shutil.copy(fpdf, artifacts_dir / "tasks-fund-report.pdf")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed: cannot check the PDF text")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "表扬名单" in text and "曝光名单" in text and bad.name_zh in text
    ftext = subprocess.run(["pdftotext", str(fpdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "治理恢复基金" in ftext and "6,600,000.00" in ftext  # 1 Mt × 5.5 × 1.2 × 1.0 accrual, 120 % deposited
    import docx
    import openpyxl

    d = docx.Document(str(tmp_path / "lists.docx"))
    assert any("曝光名单" in p.text for p in d.paragraphs)
    ws = openpyxl.load_workbook(tmp_path / "lists.xlsx").active
    assert ws.cell(row=1, column=1).value.startswith("2025年度")


def test_published_lists(session, county):
    good, bad, mid = _setup(session, county)
    assert a.published_lists(session, date(2026, 1, 1)) == {"year": None, "praise": [], "exposure": []}
    a.run_assessment(session, 2025, date(2026, 1, 15))
    lists = a.published_lists(session, date(2026, 2, 1))
    assert lists["year"] == 2025
    assert [r["mine"] for r in lists["praise"]] == [good.licence_no]
    assert [r["mine"] for r in lists["exposure"]] == [bad.licence_no]
    assert "indicators" not in lists["praise"][0]
