"""The deadline rectification notice (限期整改通知书) as PDF (WeasyPrint, CJK font embedded) and DOCX.

Both are rendered from the notice's frozen snapshot (plus its delivery record for the 送达回证 page),
with fixed metadata, so they regenerate byte-for-byte (DOCX) / text-for-text (PDF).

Also holds the small DOCX helpers the progress report shares: an A4 document with an East-Asian font
set on every style, and a deterministic save (fixed core properties and ZIP timestamps).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from subsidence.ledger.models import RectificationNotice
from subsidence.render.docx_io import deterministic_zip, save_docx  # noqa: F401  (re-exported)

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: fonts named in DOCX files: the GB/T 9704 faces (WPS on office PCs has them; reports.fonts.fontconfig_aliases
#: maps them onto free faces for LibreOffice); digits and Latin letters use the same face
DOCX_EAST_ASIAN_FONT = "仿宋_GB2312"
DOCX_TITLE_FONT = "黑体"
DOCX_LATIN_FONT = "仿宋_GB2312"


def date_zh(d: date | str | None) -> str:
    """2024-09-20 → 2024年9月20日."""
    if d is None or d == "":
        return ""
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return f"{d.year}年{d.month}月{d.day}日"


def jinja_env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def notice_context(notice: RectificationNotice) -> dict[str, Any]:
    """Template data: the snapshot with Chinese dates, and the deliveries."""
    n = dict(notice.snapshot)
    n["issued_date_zh"] = date_zh(n["issued_date"])
    n["deadline_zh"] = date_zh(n["deadline"])
    n["found_date_zh"] = date_zh(n["found_date"])
    n["milestones"] = [{**m, "due_date_zh": date_zh(m["due_date"])} for m in n.get("milestones", [])]
    deliveries = [
        {
            "date_zh": date_zh(d.delivered_date),
            "method_zh": d.method.label(),
            "receiving_role": d.receiving_role,
            "note": d.note,
        }
        for d in notice.deliveries
    ]
    return {"n": n, "deliveries": deliveries}


def notice_html(notice: RectificationNotice) -> str:
    """The notice as HTML (the 公文 layout of :mod:`subsidence.render.gongwen`)."""
    from subsidence.render.gongwen import render_html

    return render_html(notice_document(notice))


def notice_pdf(notice: RectificationNotice, out: Path | str | None = None) -> bytes:
    """The notice as PDF (GB/T 9704-2012 layout, fonts embedded); written to ``out`` when given."""
    from subsidence.render.gongwen import render_pdf

    return render_pdf(notice_document(notice), out)


def render_pdf(notice: RectificationNotice, path: Path | str | None = None) -> bytes:
    """Alias of :func:`notice_pdf` (the name the web layer uses)."""
    return notice_pdf(notice, path)


def render_docx(notice: RectificationNotice, path: Path | str | None = None) -> bytes:
    """Alias of :func:`notice_docx`."""
    return notice_docx(notice, path)


_LAW_REF = re.compile(r"《[^》]+》(?:第[一二三四五六七八九十百零]+条)?")


def cite_short(legal_basis: str) -> str:
    """The law titles and articles of a legal-basis text, for the body ("依据《土地复垦条例》第二十条的规定")."""
    seen: list[str] = []
    for m in _LAW_REF.findall(legal_basis or ""):
        if m not in seen:
            seen.append(m)
    return "".join(seen) if seen else "有关法律法规"  # no 顿号 between titles in 书名号 (GB/T 15834-2011 §5.3.3)


def sentence(text: str | None) -> str:
    """A text as one sentence: trimmed, ending in exactly one full stop (no "。。" or "。，")."""
    t = (text or "").strip().rstrip("。；;，,.")
    return t + "。" if t else ""


def notice_authority(notice: RectificationNotice) -> str:
    """The competent authority the notice is issued in the name of (frozen in the snapshot when the ledger
    records it, else the problem's lead unit / the task's lead unit — never the leading-group office)."""
    from subsidence.render.authority import competent_authority, full_name, is_office

    snap = notice.snapshot or {}
    if snap.get("authority_name") and not is_office(str(snap["authority_name"])):
        return full_name(str(snap["authority_name"]))
    problem = notice.problem
    unit = problem.lead_unit if problem is not None else None
    return competent_authority(
        snap.get("category"),
        unit.name_zh if unit is not None else None,
        unit.kind.value if unit is not None else None,
        problem.town.name_zh if problem is not None and problem.town is not None else None,
    )


def notice_document(notice: RectificationNotice):
    """The notice as an :class:`~subsidence.render.gongwen.OfficialDocument` (from its frozen snapshot)."""
    from subsidence.render.authority import full_name
    from subsidence.render.gongwen import (
        Heading,
        OfficialDocument,
        Para,
        Receipt,
        Table,
        review_rights,
        zh_text,
    )

    ctx = notice_context(notice)
    n = ctx["n"]
    authority = notice_authority(notice)
    recipient = n["recipient"] + (
        f"（{n['enterprise']}）" if n.get("enterprise") and n["enterprise"] != n["recipient"] else ""
    )
    licence = f"（采矿许可证号：{n['licence_no']}）" if n.get("licence_no") else ""
    found = (
        f"经{n['source_zh']}，{n['found_date_zh']}发现你单位{licence}存在以下问题（台账编号：{n['problem_code']}；"
        f"问题类别：{n['category_zh']}）：{sentence(zh_text(n['problem_title']))}"
        f"{sentence(zh_text(n.get('problem_description')))}"
    )
    order = (
        f"依据{cite_short(n['legal_basis'])}的规定，现责令你单位于{n['deadline_zh']}前（{n['workdays']}个工作日内）"
        "完成整改，具体要求如下："
    )
    body = [
        Para(found),
        Para(order),
        Heading("一、整改要求"),
        Para(sentence(n["requirement"])),
        Heading("二、时间节点"),
    ]
    if n["milestones"]:
        body.append(
            Table(
                ["序号", "节点内容", "完成时限"],
                [[m["seq"], m["description"], m["due_date_zh"] + "前"] for m in n["milestones"]],
                widths=[10, 62, 28],
                font_pt=12,
                numeric=(0,),
            )
        )
    else:
        body.append(Para(f"于{n['deadline_zh']}前全部完成。"))
    office = n.get("issuer") or "伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室"
    body += [
        Heading("三、有关要求"),
        Para(
            f"整改完成后，请向本机关提交整改报告及照片、影像等佐证材料，申请验收（验收由{office}组织）。"
            "逾期未完成整改或者整改不到位的，依照《土地复垦条例》第二十条，不予批准新的采矿许可证申请及采矿许可证延续、"
            "变更、注销申请，不予批准新的建设用地申请，并予以通报。"
        ),
        Heading("四、权利告知"),
        Para(review_rights("通知书")),
        Heading("五、法律依据"),
        Para(sentence(n["legal_basis"])),
    ]
    d = ctx["deliveries"][0] if ctx["deliveries"] else {}
    cc = [office] + ([full_name(n["town"]) + "人民政府"] if n.get("town") else [])
    return OfficialDocument(
        authority=authority,
        mark=authority,
        number=n["code"],
        title="限期整改通知书",
        recipient=recipient,
        body=body,
        issued=date.fromisoformat(n["issued_date"]),
        cc=cc,
        printer=f"{authority}办公室",
        receipt=Receipt(
            issuer=authority,
            document=f"限期整改通知书（{n['code']}）",
            recipient=recipient,
            method=d.get("method_zh", ""),
            delivered=d.get("date_zh", ""),
            receiver=d.get("receiving_role", ""),
            note=d.get("note") or "",
        ),
        illustrative=bool(n.get("illustrative")),
        meta={"subject": f"{n['problem_code']} 限期整改"},
    )


# ------------------------------------------------------------------------------------------ DOCX helpers


def _set_run_fonts(style_or_run, east_asian: str, latin: str = DOCX_LATIN_FONT) -> None:
    from docx.oxml.ns import qn

    font = style_or_run.font
    font.name = latin
    rpr = style_or_run.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi"):
        rfonts.set(qn(attr), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        from subsidence.render.gongwen import _insert_ordered

        lang = rpr.makeelement(qn("w:lang"), {})
        _insert_ordered(rpr, lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def new_docx(title: str, *, author: str, when: date):
    """An A4 document whose styles use the East-Asian font, with fixed core properties."""
    from docx import Document
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.left_margin = sec.right_margin = Mm(26)
    sec.top_margin, sec.bottom_margin = Mm(30), Mm(25)
    for name in ("Normal", "Table Grid", "Title", "Heading 1", "Heading 2", "Heading 3"):
        try:
            style = doc.styles[name]
        except KeyError:
            continue
        _set_run_fonts(style, DOCX_TITLE_FONT if name.startswith(("Heading", "Title")) else DOCX_EAST_ASIAN_FONT)
        if name.startswith(("Heading", "Title")):
            style.font.color.rgb = None
    doc.styles["Normal"].font.size = Pt(12)
    stamp = datetime(when.year, when.month, when.day, tzinfo=UTC)
    cp = doc.core_properties
    cp.title, cp.author, cp.last_modified_by = title, author, author
    cp.created = cp.modified = stamp
    cp.last_printed = stamp
    cp.revision = 1
    cp.language = "zh-CN"
    cp.comments = ""
    return doc


def cjk_paragraph(
    doc,
    text: str = "",
    *,
    bold: bool = False,
    size: float | None = None,
    align: str | None = None,
    indent: bool = False,
    font: str | None = None,
):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    if align:
        p.alignment = {
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
            "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
        }[align]
    if indent:
        p.paragraph_format.first_line_indent = Pt((size or 12) * 2)
    if text:
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        _set_run_fonts(run, font or DOCX_EAST_ASIAN_FONT)
    return p


def cjk_table(doc, header: list[str], rows: list[list[Any]], widths_mm: list[float] | None = None):
    from docx.shared import Mm, Pt

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(text))
        run.bold = True
        run.font.size = Pt(10)
        _set_run_fonts(run, DOCX_EAST_ASIAN_FONT)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            run = cell.paragraphs[0].add_run("" if value is None else str(value))
            run.font.size = Pt(10)
            _set_run_fonts(run, DOCX_EAST_ASIAN_FONT)
    if widths_mm:
        for row in table.rows:
            for cell, w in zip(row.cells, widths_mm):
                cell.width = Mm(w)
    return table


# ------------------------------------------------------------------------------------------ notice DOCX


def notice_docx(notice: RectificationNotice, out: Path | str | None = None) -> bytes:
    """The notice as DOCX (same content and layout as the PDF, standard face names); written to ``out``."""
    from subsidence.render.gongwen import render_docx as gw_docx

    return gw_docx(notice_document(notice), out)
