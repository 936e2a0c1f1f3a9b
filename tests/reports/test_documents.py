"""The documents that order or refuse, rendered from the demo county's real records: issued in the competent
authority's name, with legal basis, deadline, remedies and a 送达回证; Chinese only; inside the type area."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from sqlalchemy import select

from tests.reports import doctools as dt

pytestmark = pytest.mark.slow

#: Latin words a Chinese document may carry: none (codes are letters + digits/hyphens, never words)
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z]{3,}(?![A-Za-z0-9-])")


def _look(pdf, name, tmp_path, artifacts_dir):
    """Keep the PDF and its first page as PNG for a person to look at; return the first page's words."""
    shutil.copy(pdf, artifacts_dir / f"{name}.pdf")
    dt.png(pdf, artifacts_dir / f"{name}_p1.png")
    _, ws = dt.words(pdf, 1)
    assert not dt.in_type_area(ws), f"{name}: text outside the type area"
    return ws


def _docx_check(path, needles: list[str]) -> None:
    """The DOCX carries the same elements: red mark, the texts (paragraphs and tables), the standard faces."""
    from docx import Document

    doc = Document(path)
    texts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    flat = re.sub(r"\s+", "", "".join(texts))
    for needle in needles:
        assert re.sub(r"\s+", "", needle) in flat, needle
    mark = doc.paragraphs[0].runs[0]
    assert str(mark.font.color.rgb) == "E60012", "red 发文机关标志"
    assert 'w:eastAsia="仿宋_GB2312"' in doc.element.xml and 'w:eastAsia="方正小标宋简体"' in doc.element.xml
    from subsidence.render.gongwen import schema_order_problems

    assert not schema_order_problems(doc.element), "property elements in schema order (Word opens it)"


def _clean(flat: str, name: str) -> None:
    assert "。，" not in flat and "。。" not in flat and "，。" not in flat, f"{name}: punctuation glitch"
    assert not LATIN_WORD.findall(flat), f"{name}: English words {LATIN_WORD.findall(flat)[:5]}"


def test_rectification_notice(demo_session, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from docx import Document

    from subsidence.ledger.models import RectificationNotice
    from subsidence.render.gongwen import date_cn
    from subsidence.reports import notice as rn

    n = demo_session.scalars(select(RectificationNotice).order_by(RectificationNotice.id)).first()
    assert n is not None, "the demo county has notices"
    authority = rn.notice_authority(n)
    assert "领导小组" not in authority and authority.startswith("伊金霍洛旗"), authority
    pdf = tmp_path / "notice.pdf"
    rn.render_pdf(n, pdf)
    ws = _look(pdf, "doc_rectification_notice", tmp_path, artifacts_dir)
    first = min(ws, key=lambda w: w.y0)
    assert authority.startswith(first.text), "issued in the competent authority's name (the red mark)"
    flat = dt.flat(pdf)
    for needle in [
        n.code,
        "限期整改通知书",
        date_cn(n.deadline) + "前",
        "依据",
        "行政复议",
        "六十日内",
        "六个月内",
        "第四十六条",
        "法律依据",
        "送达回证",
        "抄送：",
    ]:
        assert needle in flat, needle
    _clean(flat, "notice")
    docx = rn.render_docx(n, tmp_path / "notice.docx")
    doc = Document(tmp_path / "notice.docx")
    assert docx and doc.paragraphs[0].text == authority
    _docx_check(tmp_path / "notice.docx", [n.code, "限期整改通知书", "行政复议", "第四十六条", "送达回证", "抄送："])


def test_supervision_notice(demo_session, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from subsidence.ledger.escalation import supervision_data
    from subsidence.ledger.models import Escalation
    from subsidence.reports import supervision

    esc = demo_session.scalars(select(Escalation).order_by(Escalation.id)).first()
    assert esc is not None
    data = supervision_data(demo_session, esc.id)
    pdf = tmp_path / "sup.pdf"
    supervision.render_pdf(data, pdf)
    _look(pdf, "doc_supervision", tmp_path, artifacts_dir)
    flat = dt.flat(pdf)
    for needle in ["督办通知", data["problem"], "已逾期", "依据", "送达回证"]:
        assert needle in flat, needle
    if data.get("recipient_unit"):
        assert "行政复议" not in flat, "an internal 督办 between organs carries no review rights"
    _clean(flat, "supervision")
    supervision.render_docx(data, tmp_path / "sup.docx")
    _docx_check(tmp_path / "sup.docx", ["督办通知", data["problem"], "已逾期", "送达回证"])


def test_acceptance_record(demo_session, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from subsidence.ledger.evidence import acceptance_data
    from subsidence.ledger.models import AcceptanceRecord
    from subsidence.reports import acceptance

    rec = demo_session.scalars(select(AcceptanceRecord).order_by(AcceptanceRecord.id)).first()
    data = acceptance_data(demo_session, rec.id)
    pdf = tmp_path / "acc.pdf"
    acceptance.render_pdf(data, pdf)
    _look(pdf, "doc_acceptance", tmp_path, artifacts_dir)
    flat = dt.flat(pdf)
    assert "整改验收意见书" in flat and data["problem"] in flat
    assert ("予以销号" if data["result"] == "passed" else "予以退回") in flat
    _clean(flat, "acceptance")
    acceptance.render_docx(data, tmp_path / "acc.docx")
    _docx_check(tmp_path / "acc.docx", ["整改验收意见书", data["problem"], data["code"]])


def test_refusal_notice(demo_session, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from subsidence.access.policy import Actor
    from subsidence.core.models import Mine
    from subsidence.gate.service import evaluate_gate, issue_refusal_notice, refusal_document_data
    from subsidence.reports import refusal
    from subsidence.vocabulary import Role

    refused = None
    for mine in demo_session.scalars(select(Mine).order_by(Mine.licence_no)):
        d = evaluate_gate(demo_session, mine, "new_licence", date(2026, 11, 30), actor="test")
        if d.as_dict()["outcome"] == "refused":
            refused = d.as_dict()
            break
    assert refused is not None, "the demo county has a mine the gate refuses"
    issue_refusal_notice(demo_session, refused["query_id"], Actor("office", Role.OFFICE))
    data = refusal_document_data(demo_session, refused["query_id"])
    pdf = tmp_path / "refusal.pdf"
    refusal.render_pdf(data, pdf)
    ws = _look(pdf, "doc_refusal", tmp_path, artifacts_dir)
    flat = dt.flat(pdf)
    assert min(ws, key=lambda w: w.y0).text.startswith("伊金霍洛旗自然资源局"[:5])
    for needle in [
        "不予受理告知书",
        data["code"],
        "伊金霍洛旗自然资源局",
        "不予受理",
        "六十日内",
        "第四十六条",
        "送达回证",
        str(len(data["reasons"])) + "项",
    ]:
        assert needle in flat, needle
    for r in data["reasons"]:
        assert refusal.zh(r["message"])[:12].replace(" ", "") in flat
    _clean(flat, "refusal")
    refusal.render_docx(data, tmp_path / "refusal.docx")
    _docx_check(tmp_path / "refusal.docx", ["不予受理告知书", data["code"], "六十日内", "第四十六条", "送达回证"])
