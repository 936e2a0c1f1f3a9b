"""The GB/T 9704-2012 layout itself, on a document built from plain data: page, type area, line and character
grid, red mark and separator, fonts, DOCX structure, and the DOCX opened and printed by LibreOffice."""

from __future__ import annotations

import io
import shutil
import statistics
from collections import defaultdict
from datetime import date

import pytest

from subsidence.render import gongwen as gw
from subsidence.render.fonts import official_faces
from tests.reports import doctools as dt

FILLER = "采煤沉陷区综合治理是一项长期任务需要各部门共同推进落实" * 12  # 28 × 12 characters, no punctuation


def sample(**kw) -> gw.OfficialDocument:
    body = [
        gw.Para(FILLER),
        gw.Heading("一、整改要求"),
        gw.Para("按照方案对塌陷坑、地裂缝进行充填和复垦治理。"),
        gw.Heading("（一）时间节点", 2),
        gw.Table(
            ["序号", "节点内容", "完成时限"],
            [[1, "完成充填", "2024年10月30日前"], [2, "完成复垦", "2024年11月30日前"]],
            widths=[10, 60, 30],
        ),
        gw.Para(gw.review_rights("通知书")),
    ]
    args = dict(
        authority="伊金霍洛旗自然资源局",
        number=gw.doc_number("伊自然资发", 2024, 7),
        title="限期整改通知书",
        recipient="示例煤炭公司",
        body=body,
        issued=date(2024, 10, 8),
        attachment_names=["现场照片"],
        cc=["伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室"],
        printer="伊金霍洛旗自然资源局办公室",
        receipt=gw.Receipt("伊金霍洛旗自然资源局", "限期整改通知书（伊自然资发〔2024〕7号）", "示例煤炭公司"),
    )
    args.update(kw)
    return gw.OfficialDocument(**args)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    pytest.importorskip("weasyprint")
    out = tmp_path_factory.mktemp("gw") / "sample.pdf"
    gw.render_pdf(sample(), out)
    return out


def test_number_and_date_forms():
    assert gw.doc_number("伊自然资发", 2024, 7) == "伊自然资发〔2024〕7号"  # §7.2.4: no 第, no leading zero
    assert gw.date_cn(date(2024, 10, 8)) == "2024年10月8日"  # §7.3.5: Arabic, no padding
    assert gw.MARGIN_RIGHT == pytest.approx(26) and gw.MARGIN_BOTTOM == pytest.approx(35)
    text = gw.review_rights("告知书")
    assert "六十日内" in text and "六个月内" in text and "第四十六条" in text and "行政复议法" in text


def test_page_and_type_area(pdf, artifacts_dir):
    (w, h), ws = dt.words(pdf, 1)
    assert (w, h) == pytest.approx((595.28, 841.89), abs=0.5)  # A4
    outside = dt.in_type_area(ws)
    assert not outside, f"text outside the 156×225 mm type area: {outside[:5]}"
    xs0, xs1 = min(x.x0 for x in ws) / dt.MM, max(x.x1 for x in ws) / dt.MM
    assert xs0 == pytest.approx(28, abs=1.0), "body starts at the 28 mm binding margin"
    assert xs1 == pytest.approx(184, abs=1.5), "justified lines end at the right edge of the type area"
    mark = min(ws, key=lambda x: x.y0)
    assert mark.y0 / dt.MM == pytest.approx(37 + 35, abs=3), "发文机关标志 35 mm below the top of the type area"
    number = [x for x in ws if x.text.startswith("— ") or x.text in ("—",)]
    page_no = [x for x in ws if x.text == "1" and x.y0 / dt.MM > 262]
    assert page_no, "the page number sits below the type area"
    assert page_no[0].y0 / dt.MM == pytest.approx(262 + 7, abs=3)
    assert page_no[0].x1 / dt.MM > 150, "odd page: number on the right"
    del number
    shutil.copy(pdf, artifacts_dir / "gongwen_sample.pdf")


def test_line_and_character_grid(pdf):
    _, ws = dt.words(pdf, 1)
    lines: dict[int, list[dt.Word]] = defaultdict(list)
    for x in ws:
        lines[round(x.y0)].append(x)
    ys = sorted(lines)
    body = [
        y
        for y in ys
        if "".join(x.text for x in lines[y]).strip("　") and set("".join(x.text for x in lines[y])) <= set(FILLER)
    ]
    assert len(body) >= 5, "the filler paragraph spans several lines"
    pitches = [b - a for a, b in zip(body, body[1:]) if b - a < 40]
    assert statistics.median(pitches) == pytest.approx(gw.LINE_PT, abs=0.4), "22 lines: 10.23 mm line pitch"
    full = [len("".join(x.text for x in lines[y])) for y in body[1:-1]]  # not the indented first / short last line
    assert full and all(n == 28 for n in full), f"28 characters per full line, got {full}"


def test_red_mark_and_separator(pdf, tmp_path, artifacts_dir):
    page = dt.png(pdf, tmp_path / "p1.png", dpi=72)
    shutil.copy(page, artifacts_dir / "gongwen_sample_p1.png")
    runs = dt.red_rows(page)
    rules = [r for r in runs if r[2] - r[1] > 150]
    assert rules, "a red separator as wide as the type area"
    y, x0, x1 = rules[0]
    assert x0 == pytest.approx(28, abs=1.5) and x1 == pytest.approx(184, abs=1.5)
    assert dt.red_pixels(page, 37, y - 10) > 300, "red 发文机关标志 above the separator"
    assert dt.red_pixels(page, y + 3, 262) == 0, "nothing else is red"
    _, ws = dt.words(pdf, 1)
    number = next(x for x in ws if "〔2024〕7号" in x.text or x.text.startswith("伊自然资发"))
    assert y - number.y1 / dt.MM == pytest.approx(4, abs=2.5), "separator 4 mm under the 发文字号"


def test_required_elements_and_fonts(pdf):
    flat = dt.flat(pdf)
    for needle in [
        "伊金霍洛旗自然资源局",
        "伊自然资发〔2024〕7号",
        "限期整改通知书",
        "示例煤炭公司：",
        "附件：现场照片",
        "2024年10月8日",
        "（印章）",
        "抄送：伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室。",
        "2024年10月8日印发",
        "送达回证",
        "受送达人签名或盖章",
        "六十日内",
    ]:
        assert needle in flat, needle
    names = dt.fonts(pdf)
    assert names and all(emb for _, emb in names), f"every font embedded: {names}"
    faces = official_faces()
    for role in ("body", "title", "hei"):
        face = faces[role]
        if face is None:
            pytest.skip(f"no free face for {role} installed (see .ci/run)")
        assert any(face.family.replace(" ", "-") in n or face.family.replace(" ", "") in n for n, _ in names), (
            role,
            face.family,
            names,
        )


def _docx(tmp_path):
    from docx import Document

    data = gw.render_docx(sample(), tmp_path / "sample.docx")
    return data, Document(io.BytesIO(data))


def test_docx_structure(tmp_path):
    from docx.shared import Mm

    data, doc = _docx(tmp_path)
    assert gw.render_docx(sample()) == data, "byte-identical regeneration"
    sec = doc.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(0.1) and abs(sec.page_height - Mm(297)) < Mm(0.1)
    assert abs(sec.top_margin - Mm(37)) < Mm(0.1) and abs(sec.left_margin - Mm(28)) < Mm(0.1)
    assert abs(sec.right_margin - Mm(26)) < Mm(0.1) and abs(sec.bottom_margin - Mm(35)) < Mm(0.1)
    xml = doc.element.xml
    mark = next(p for p in doc.paragraphs if p.text == "伊金霍洛旗自然资源局文件")
    run = mark.runs[0]
    assert str(run.font.color.rgb) == "E60012", "red 发文机关标志, not a black header"
    assert (
        run.element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
        == "方正小标宋简体"
    )
    number = next(p for p in doc.paragraphs if p.text == "伊自然资发〔2024〕7号")
    assert 'w:color="E60012"' in number._p.pPr.xml and "w:bottom" in number._p.pPr.xml, "red rule as a border"
    body = next(p for p in doc.paragraphs if p.text.startswith("采煤沉陷区"))
    fonts = body.runs[0].element.rPr.rFonts
    assert {
        fonts.get(f"{{http://schemas.openxmlformats.org/wordprocessingml/2006/main}}{a}")
        for a in ("ascii", "hAnsi", "eastAsia")
    } == {"仿宋_GB2312"}, "digits and Chinese in the same face"
    assert "w:tblHeader" in xml, "table header row repeats on each page"
    assert 'w:tblpYSpec="bottom"' in xml, "版记 anchored at the foot of the type area"
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for part in ("word/document.xml", "word/styles.xml", "word/footer1.xml", "word/footer2.xml"):
            assert not gw.schema_order_problems(etree.fromstring(z.read(part))), f"{part}: schema order (Word opens it)"
    assert doc.settings.odd_and_even_pages_header_footer
    assert "PAGE" in sec.footer.paragraphs[0]._p.xml and "PAGE" in sec.even_page_footer.paragraphs[0]._p.xml
    assert sec.footer.paragraphs[0].alignment == 2 and sec.even_page_footer.paragraphs[0].alignment == 0


@pytest.mark.slow
def test_docx_opened_and_printed_by_libreoffice(tmp_path, artifacts_dir):
    _docx(tmp_path)
    pdf = dt.libreoffice_pdf(tmp_path / "sample.docx", tmp_path)
    flat = dt.flat(pdf)
    for needle in ["伊金霍洛旗自然资源局文件", "伊自然资发〔2024〕7号", "限期整改通知书", "抄送：", "送达回证"]:
        assert needle in flat, needle
    names = [n for n, _ in dt.fonts(pdf)]
    if official_faces()["body"] is not None and official_faces()["body"].family == "FandolFang":
        assert any("FandolFang" in n for n in names), f"仿宋_GB2312 resolved to the free fang-song: {names}"
    (w, h), ws = dt.words(pdf, 1)
    assert (w, h) == pytest.approx((595.28, 841.89), abs=1)
    assert not dt.in_type_area(ws, tol=1.5), "LibreOffice keeps the type area"
    # LibreOffice 7.4 honours the floating table's bottom anchor only on some pages (Word and WPS always do):
    # check what it keeps — the 版记 after the 成文日期, on one page with the 署名 and the date together
    for p in range(1, dt.pages(pdf) + 1):
        ws = dt.words(pdf, p)[1]
        printed = [w for w in ws if w.text.endswith("印发")]
        if printed:
            signed = [w for w in ws if w.text == "伊金霍洛旗自然资源局" and w.x0 / dt.MM > 100]
            assert signed and signed[0].y1 < printed[0].y0, "署名 and 版记 on the same page, 版记 below"
            break
    else:
        pytest.fail("no 印发 line in the LibreOffice print")
    page = dt.png(pdf, tmp_path / "lo_p1.png")
    assert [r for r in dt.red_rows(page) if r[2] - r[1] > 150], "the red rule survives in LibreOffice"
    shutil.copy(pdf, artifacts_dir / "gongwen_sample_libreoffice.pdf")
    shutil.copy(page, artifacts_dir / "gongwen_sample_libreoffice_p1.png")


def test_banji_at_the_foot_of_its_page(pdf):
    """§7.4: the 版记's last element on the last line of the page (the second layout pass)."""
    for p in range(1, dt.pages(pdf) + 1):
        _, ws = dt.words(pdf, p)
        printed = [w for w in ws if w.text.endswith("印发")]
        if printed:
            assert printed[0].y1 / dt.MM == pytest.approx(37 + 225, abs=4), "版记 at the bottom of the type area"
            cc = next(w for w in ws if w.text.startswith("抄送："))
            assert cc.y0 < printed[0].y0, "抄送 above 印发机关和印发日期"
            return
    pytest.fail("no 印发 line")
