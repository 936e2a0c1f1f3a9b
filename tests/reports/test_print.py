"""Every other output fit to print and to hand over: the ledger workbook's print setup (landscape, fit to width,
repeated headers, frozen panes — and how many pages LibreOffice actually prints), the fund report in Chinese
only, the assessment lists inside the page, the household card in plain words without internal codes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.reports import doctools as dt

pytestmark = pytest.mark.slow
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z]{3,}(?![A-Za-z0-9-])")


def test_ledger_workbook_prints_as_a_table(demo_session, tmp_path):
    from openpyxl import load_workbook

    from subsidence.interchange.exports import write_ledger
    from subsidence.ledger.progress import ledger_problems

    problems = ledger_problems(demo_session, date(2026, 11, 30))
    path = write_ledger(problems, tmp_path / "ledger.xlsx", as_of=date(2026, 11, 30))
    ws = load_workbook(path)["问题台账"]
    ps = ws.page_setup
    assert ps.orientation == "landscape" and int(ps.paperSize) == int(ws.PAPERSIZE_A3), "18 columns: landscape A3"
    assert ps.fitToWidth == 1 and ps.fitToHeight > len(problems) // 8 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$3", "title, subtitle and header repeat on every page"
    assert ws.freeze_panes == "A4"
    pdf = dt.libreoffice_pdf(path, tmp_path)
    (w, h), _ = dt.words(pdf, 1)
    n = dt.pages(pdf)
    assert w > h, "printed landscape"
    assert n <= max(2, len(problems) // 8), f"{len(problems)} problems print on {n} pages (was 18 portrait pages)"
    first = dt.flat(pdf) if n == 1 else "".join(w.text for w in dt.words(pdf, 1)[1])
    for header in ("序号", "问题编号", "牵头单位", "时间节点", "整改状态", "销号日期", "备注"):
        assert header in first, f"column {header} on the first page: all columns on one page width"


def test_fund_report_chinese_only(demo_session, tmp_path):
    pytest.importorskip("weasyprint")
    from subsidence.core.models import Mine
    from subsidence.reports.tasks import fund_report_pdf
    from subsidence.tasks.fund import year_summary

    mine = demo_session.scalars(select(Mine).order_by(Mine.licence_no)).first()
    pdf = tmp_path / "fund.pdf"
    fund_report_pdf(year_summary(demo_session, mine, 2025), pdf, date(2026, 1, 15))
    flat = dt.flat(pdf)
    assert "基金收支概况" in flat and "年末余额" in flat and "2026年1月15日" in flat
    assert not LATIN_WORD.findall(flat), f"English on a Chinese document: {LATIN_WORD.findall(flat)[:8]}"
    assert "verify" not in flat and "docs/" not in flat and "placeholder" not in flat, "no developer notes"
    for p in range(1, dt.pages(pdf) + 1):
        (w, _), ws = dt.words(pdf, p)
        assert all(x.x1 <= w - 30 for x in ws), f"page {p}: table inside the page"


def test_assessment_lists_fit_the_page(demo_session, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from subsidence.reports.tasks import assessment_pdf
    from subsidence.tasks.assessment import ranking

    pdf = tmp_path / "assessment.pdf"
    assessment_pdf(2025, ranking(demo_session, 2025), pdf, date(2026, 1, 20))
    dt.png(pdf, artifacts_dir / "doc_assessment_p1.png")
    sizes = []
    for p in range(1, dt.pages(pdf) + 1):
        (w, h), ws = dt.words(pdf, p)
        sizes.append(w > h)
        assert all(x.x1 <= w - 20 and x.x0 >= 20 for x in ws), f"page {p}: nothing runs off the page"
    assert any(sizes), "the wide score table is on a landscape page"
    flat = dt.flat(pdf)
    assert "表扬名单" in flat and "曝光名单" in flat and not LATIN_WORD.findall(flat)


def test_household_card_plain_words_no_codes(demo_session, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from subsidence.monitoring.cards import issue_household_card
    from subsidence.monitoring.models import HazardPoint, Household

    h = demo_session.scalars(select(Household).order_by(Household.code)).first()
    hp = demo_session.get(HazardPoint, h.hazard_point_id)
    card = issue_household_card(
        demo_session, h.code, issuing_unit="伊金霍洛旗自然资源局", out_dir=tmp_path, issued=date(2026, 11, 30)
    )
    pdf = Path(card.pdf_path)
    dt.png(pdf, artifacts_dir / "doc_household_card_p1.png")
    flat = dt.flat(pdf)
    for needle in [
        "户主姓名",
        "您家面临的危险",
        "可能发生",
        "听到预警怎么办",
        "往哪里撤",
        "撤离路线",
        "2026年11月30日",
    ]:
        assert needle in flat, needle
    assert h.code not in flat and hp.code not in flat and card.code not in flat, "no internal codes"
    assert not LATIN_WORD.findall(flat)
    if hp.evacuation_route_text:
        assert hp.evacuation_route_text.replace(" ", "") in flat
    from subsidence.render.cards import household_card_html

    named = household_card_html(
        {
            "hp": hp,
            "h": h,
            "address": "某村",
            "contacts": [],
            "householder": "张三",
            "issued": "2026-11-30",
            "issuing_unit": "某镇",
        }
    )
    assert "张三" in named and "发卡时填写" not in named, "the householder's name when the office has it"
