"""Official documents (公文) in the format of GB/T 9704-2012《党政机关公文格式》, as PDF (WeasyPrint) and DOCX.

A document is plain data (:class:`OfficialDocument`: issuing authority, number, title, addressee, body blocks,
attachments, signature and date, 版记) rendered by :func:`render_html` / :func:`render_pdf` and
:func:`render_docx`. Every ordering or refusing document of the product (限期整改通知书, 不予受理告知书, 督办通知)
and the report upward (工作上报) is built on it, so they all share one layout:

* §5.2.1 paper A4 (210 mm × 297 mm); §5.2.2 天头 (top margin) 37 mm, 订口 (binding margin, left on odd pages)
  28 mm, 版心 (type area) 156 mm × 225 mm — hence right margin 26 mm and bottom margin 35 mm;
* §6.2 body in 3号仿宋 (16 pt) with 22 lines of 28 characters per page: line pitch 225 mm / 22 = 10.23 mm
  (28.99 pt), character pitch 156 mm / 28 = 5.57 mm (15.79 pt: 16 pt glyphs, -0.2 pt tracking);
* §7.2.2 发文机关标志 centred, red, in 小标宋, its top 35 mm below the top of the type area;
* §7.2.4 发文字号 机关代字〔年份〕序号 two lines below it (上行文: left, with 签发人 on the right, §7.2.5);
  §7.2.6 a red separator as wide as the type area 4 mm below the number;
* §7.3.1 title in 2号小标宋 two lines below the separator; §7.3.2 主送机关 one line below the title, flush left,
  ending in a full-width colon; §7.3.3 body, headings 一、(黑体) （一）(楷体) 1.（仿宋）;
  §7.3.4 附件说明 one line below the body, two characters in; §7.3.5 署名, 成文日期 in Arabic numerals
  (2024年10月8日) four characters from the right, the seal pressing both; §7.3.7 附注 in brackets;
* §7.4 版记: 抄送 and 印发机关 + 印发日期 in 4号仿宋 between full-width rules (first and last 0.35 mm, middle
  0.25 mm), at the foot of the last page of the document (a second layout pass pushes it down; the DOCX
  leaves it after the text, where a clerk adds blank lines);
* §7.5 页码 in 4号 Arabic numerals between one-character dashes ("— 1 —"), 7 mm below the type area, odd pages
  right and even pages left, one character in.

Fonts: see :mod:`subsidence.render.fonts` (the PDF embeds free faces; the DOCX names the standard faces and
sets ``w:eastAsia`` so WPS picks them). Left out (listed in the issue note): 份号/密级/紧急程度 (no classified
documents), putting the 版记 page on an even page (封四) for double-sided printing, 信函格式.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------------------ geometry (mm / pt)

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN_TOP, MARGIN_LEFT = 37.0, 28.0  # GB/T 9704-2012 §5.2.2
TYPE_W, TYPE_H = 156.0, 225.0
MARGIN_RIGHT = PAGE_W - MARGIN_LEFT - TYPE_W  # 26 mm
MARGIN_BOTTOM = PAGE_H - MARGIN_TOP - TYPE_H  # 35 mm
LINES, CHARS = 22, 28
LINE_PT = TYPE_H / LINES / 25.4 * 72  # 28.99 pt
BODY_PT = 16.0  # 3号
TRACKING_PT = round(TYPE_W / CHARS / 25.4 * 72 - BODY_PT, 2)  # -0.21 pt
TITLE_PT = 22.0  # 2号
BANJI_PT = 14.0  # 4号
RED = "#E60012"  # 发文机关标志 and separator: red (§7.2.2, §7.2.6); the usual print red
MARK_OFFSET_MM = 35.0  # §7.2.2 top of the 发文机关标志 below the top of the type area

DOCX_NAMES = {"title": "方正小标宋简体", "body": "仿宋_GB2312", "hei": "黑体", "kai": "楷体_GB2312", "page": "宋体"}


def date_cn(d: date | str | None) -> str:
    """成文日期 as GB/T 9704-2012 §7.3.5 writes it: Arabic numerals, full year, no padding — 2024年10月8日."""
    if d is None or d == "":
        return ""
    if isinstance(d, str):
        d = date.fromisoformat(d[:10])
    return f"{d.year}年{d.month}月{d.day}日"


_EN_TAIL = re.compile(r"\s*/\s*[A-Za-z][A-Za-z0-9 ,.%'()\-:;]*")


def zh_text(text: str | None) -> str:
    """Text with the " / English" glosses of bilingual data dropped ("基金闲置 / fund unused" → "基金闲置"):
    Chinese documents print Chinese only."""
    return _EN_TAIL.sub("", text or "").strip()


def doc_number(code: str, year: int, seq: int) -> str:
    """发文字号 per §7.2.4: 机关代字〔年份〕序号 — six-corner brackets, no leading zeros, no 第: 伊自然资发〔2024〕7号."""
    return f"{code}〔{year}〕{int(seq)}号"


# ------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Para:
    """A body paragraph (two characters indented). ``label`` is bold-face lead text (e.g. "（一）…。")."""

    text: str
    indent: bool = True
    align: str = "justify"  #: justify | left | center | right
    label: str = ""
    label_face: str = "kai"


@dataclass(frozen=True)
class Heading:
    """A numbered heading: level 1 "一、" (黑体), 2 "（一）" (楷体), 3 "1." (仿宋), §7.3.3."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    widths: Sequence[float] | None = None  #: relative column widths
    caption: str = ""
    font_pt: float = 10.5  #: 5号
    numeric: Sequence[int] = ()  #: right-aligned columns
    total_row: bool = False  #: the last row is a 合计 row (bold)
    nowrap: Sequence[int] = ()  #: columns never broken across lines (codes, dates)


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str = ""
    width_mm: float = 150.0
    svg: str = ""  #: vector version for the PDF (else the PNG is embedded)


Block = Para | Heading | Table | Figure


@dataclass(frozen=True)
class Attachment:
    """An attachment printed after the body on a new page (§8: 附件另面编排, before the 版记)."""

    title: str
    blocks: Sequence[Block] = ()
    landscape: bool = False


@dataclass(frozen=True)
class Receipt:
    """送达回证: service record of an ordering/refusing document, its own page after the document."""

    issuer: str
    document: str  #: 送达文书名称及文号
    recipient: str
    address: str = ""
    method: str = ""
    delivered: str = ""  #: 送达日期 (as printed)
    receiver: str = ""
    note: str = ""


@dataclass
class OfficialDocument:
    authority: str  #: full name of the issuing authority, printed in the 发文机关标志 and the 署名
    number: str  #: 发文字号, printed as given
    title: str
    recipient: str  #: 主送机关 (without the colon)
    body: list[Block]
    issued: date  #: 成文日期
    mark: str | None = None  #: 发文机关标志 text (default: authority + "文件")
    attachments: list[Attachment] = field(default_factory=list)
    attachment_names: list[str] = field(default_factory=list)  #: attachments listed but not printed here
    signer: str | None = None  #: 签发人 (上行文, §7.2.5): prints the number left and 签发人 right
    note: str = ""  #: 附注 (§7.3.7), printed in brackets, e.g. 联系人及电话
    cc: list[str] = field(default_factory=list)  #: 抄送机关
    printer: str | None = None  #: 印发机关 (default: the authority's office)
    print_date: date | None = None  #: 印发日期 (default: issued)
    seal: bool = True  #: leave the seal area (a faint circle where the seal goes)
    receipt: Receipt | None = None
    illustrative: bool = False  #: demo data: a faint 示例 watermark on every page
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def mark_text(self) -> str:
        return self.mark if self.mark is not None else f"{self.authority}文件"

    @property
    def attachment_list(self) -> list[str]:
        return [a.title for a in self.attachments] + list(self.attachment_names)


# ------------------------------------------------------------------------------------------ HTML / PDF


def _mark_size_pt(text: str) -> float:
    """发文机关标志 size: as large as 36 pt, never wider than the type area (long names shrink)."""
    return round(min(36.0, TYPE_W * 0.96 / max(len(text), 1) / 25.4 * 72), 1)


@lru_cache(maxsize=1)
def _watermark_png() -> bytes:
    """A faint diagonal 示例数据 as a picture (a picture, not text: it must not mix into the document's text)."""
    from PIL import Image, ImageDraw, ImageFont

    from subsidence.render.fonts import cjk_font_file

    w, h = 1050, 1485  # 5 px per mm
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    font = ImageFont.truetype(str(cjk_font_file()), 150)
    text_img = Image.new("RGBA", (900, 220), (255, 255, 255, 0))
    ImageDraw.Draw(text_img).text((450, 110), "示例数据", font=font, fill=(0, 0, 0, 16), anchor="mm")
    rotated = text_img.rotate(35, expand=True)
    img.alpha_composite(rotated, ((w - rotated.width) // 2, (h - rotated.height) // 2))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _watermark_css() -> str:
    """The 示例数据 picture on every page (demo data), as a page background so it takes no room."""
    import base64

    uri = "data:image/png;base64," + base64.b64encode(_watermark_png()).decode()
    return f"@page {{ background: url('{uri}') no-repeat center; background-size: 210mm 297mm; }}\n"


def gongwen_css(*, illustrative: bool = False) -> str:
    from subsidence.render.fonts import font_stack, official_css

    fs = {r: font_stack(r) for r in ("title", "body", "hei", "kai")}
    return (
        official_css()
        + (_watermark_css() if illustrative else "")
        + f"""
@page {{ size: A4; margin: {MARGIN_TOP}mm {MARGIN_RIGHT}mm {MARGIN_BOTTOM}mm {MARGIN_LEFT}mm;
  @bottom-right {{ content: "— " counter(page) " —"; font-family: {fs["title"]}; font-weight: 400;
                   font-size: {BANJI_PT}pt; vertical-align: top; padding-top: 7mm; padding-right: 1em;
                   white-space: nowrap; width: 40mm; text-align: right; }}
  }}
@page :left {{ margin: {MARGIN_TOP}mm {MARGIN_LEFT}mm {MARGIN_BOTTOM}mm {MARGIN_RIGHT}mm;
  @bottom-right {{ content: none; }}
  @bottom-left {{ content: "— " counter(page) " —"; font-family: {fs["title"]}; font-size: {BANJI_PT}pt;
                  vertical-align: top; padding-top: 7mm; padding-left: 1em;
                  white-space: nowrap; width: 40mm; text-align: left; }} }}
@page wide {{ size: A4 landscape; margin: {MARGIN_LEFT}mm {MARGIN_TOP}mm {MARGIN_LEFT}mm {MARGIN_BOTTOM}mm; }}
@page receipt {{ @bottom-right {{ content: none; }} @bottom-left {{ content: none; }} }}
html {{ font-family: {fs["body"]}; font-size: {BODY_PT}pt; line-height: {LINE_PT:.2f}pt;
        letter-spacing: {TRACKING_PT}pt; color: #000; }}
body {{ margin: 0; }}
p {{ margin: 0; text-align: justify; }}
p.body {{ text-indent: 2em; }}
.hei {{ font-family: {fs["hei"]}; }}
.kai {{ font-family: {fs["kai"]}; }}
.mark {{ font-family: {fs["title"]}; font-weight: 700; color: {RED}; text-align: center;
         margin-top: {MARK_OFFSET_MM}mm; line-height: 1.2; letter-spacing: 0; white-space: nowrap; }}
.docno {{ text-align: center; margin-top: {2 * LINE_PT:.2f}pt; }}
.docno.up {{ display: flex; justify-content: space-between; padding: 0 1em; white-space: nowrap; }}
.rule {{ border-top: 0.8mm solid {RED}; margin-top: 4mm; height: 0; }}
h1.title {{ font-family: {fs["title"]}; font-weight: 700; font-size: {TITLE_PT}pt; line-height: {1.3 * TITLE_PT:.1f}pt;
            text-align: center; margin: {2 * LINE_PT:.2f}pt 0 {LINE_PT:.2f}pt 0; letter-spacing: 0; }}
h2.h1 {{ font-family: {fs["hei"]}; font-weight: 400; font-size: {BODY_PT}pt; text-indent: 2em; margin: 0; }}
h3.h2 {{ font-family: {fs["kai"]}; font-weight: 400; font-size: {BODY_PT}pt; text-indent: 2em; margin: 0; }}
h4.h3 {{ font-weight: 700; font-size: {BODY_PT}pt; text-indent: 2em; margin: 0; }}
.recipient {{ text-indent: 0; }}
.attach-list {{ margin-top: {LINE_PT:.2f}pt; padding-left: 2em; }}
.attach-list {{ border-collapse: collapse; width: calc(100% - 2em); }}
.attach-list td {{ vertical-align: top; padding: 0; border: none; font-size: {BODY_PT}pt; }}
.attach-list td:first-child {{ white-space: nowrap; width: 3em; }}
.sig {{ text-align: right; margin-top: {2 * LINE_PT:.2f}pt; }}
.sig-box {{ display: inline-block; text-align: center; position: relative; }}
.sig-box p {{ white-space: nowrap; text-align: center; }}
.seal {{ position: absolute; left: 50%; top: 50%; width: 42mm; height: 42mm; margin: -21mm 0 0 -21mm;
         border: 0.4pt dashed #bbb; border-radius: 50%; color: #bbb; font-size: 9pt; line-height: 42mm;
         text-align: center; letter-spacing: 0; }}
.note {{ text-indent: 2em; margin-top: 0; }}
table.grid {{ border-collapse: collapse; width: 100%; margin: 2mm 0; letter-spacing: 0; }}
table.grid th, table.grid td {{ border: 0.5pt solid #000; padding: 0.6mm 1.2mm; line-height: 1.35;
                               vertical-align: middle; }}
table.grid th {{ font-family: {fs["hei"]}; font-weight: 400; text-align: center; }}
table.grid td.n, table.grid th.n {{ text-align: right; white-space: nowrap; }}
table.grid td.nw, table.grid th.nw {{ white-space: nowrap; }}
table.grid tr.total td {{ font-family: {fs["hei"]}; }}
table.grid thead {{ display: table-header-group; }}
.caption {{ text-align: center; font-family: {fs["hei"]}; font-size: 12pt; line-height: 1.6; letter-spacing: 0;
             margin-bottom: 1mm; }}
.figure {{ text-align: center; margin: 1mm 0; page-break-inside: avoid; }}
.attachment {{ page-break-before: always; }}
.attachment.wide {{ page: wide; }}
.attachment .label {{ font-family: {fs["hei"]}; }}
.attachment h1.title {{ margin-top: {LINE_PT:.2f}pt; }}
.banji {{ margin-top: {2 * LINE_PT:.2f}pt; font-size: {BANJI_PT}pt; line-height: {1.6 * BANJI_PT:.1f}pt;
          letter-spacing: 0; page-break-inside: avoid; }}
.banji .cc {{ border-top: 0.35mm solid #000; border-bottom: 0.25mm solid #000; padding: 1mm 1em; }}
.banji .cc.only {{ border-bottom: 0.35mm solid #000; }}
.banji .print {{ border-bottom: 0.35mm solid #000; padding: 1mm 1em; display: flex; justify-content: space-between;
                 gap: 1em; }}
.banji .print span:last-child {{ white-space: nowrap; flex: none; }}
.banji .print.first {{ border-top: 0.35mm solid #000; }}
.receipt {{ page: receipt; page-break-before: always; letter-spacing: 0; }}
.receipt .issuer {{ text-align: center; font-family: {fs["title"]}; font-weight: 700; font-size: 18pt; }}
.receipt h1.title {{ margin-top: 4mm; }}
.receipt table.grid td, .receipt table.grid th {{ height: 15mm; font-size: 12pt; }}
.receipt table.grid th {{ width: 30%; }}
.receipt .small {{ font-size: 10.5pt; line-height: 1.5; margin-top: 3mm; }}
.illustrative {{ text-align: center; font-size: 10.5pt; color: #666; line-height: 1.5; letter-spacing: 0; }}
"""
    )


def _esc(v: Any) -> str:
    return escape("" if v is None else str(v))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    return "" if v is None else str(v)


def _table_html(t: Table) -> str:
    numeric = set(t.numeric) or {
        j
        for j in range(len(t.header))
        if t.rows
        and all(_is_number(r[j]) or r[j] in (None, "", "—") for r in t.rows)
        and any(_is_number(r[j]) for r in t.rows)
    }
    cols = ""
    if t.widths:
        total = sum(t.widths)
        cols = "<colgroup>" + "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in t.widths) + "</colgroup>"

    def cls(j: int) -> str:
        names = (["n"] if j in numeric else []) + (["nw"] if j in t.nowrap else [])
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f"<th{cls(j)}>{_esc(h)}</th>" for j, h in enumerate(t.header))
    body = []
    for i, r in enumerate(t.rows):
        tr = ' class="total"' if t.total_row and i == len(t.rows) - 1 else ""
        body.append(f"<tr{tr}>" + "".join(f"<td{cls(j)}>{_esc(_fmt(v))}</td>" for j, v in enumerate(r)) + "</tr>")
    cap = f'<p class="caption">{_esc(t.caption)}</p>' if t.caption else ""
    return (
        f'{cap}<table class="grid" style="font-size:{t.font_pt}pt">{cols}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _blocks_html(blocks: Sequence[Block]) -> str:
    import base64

    out = []
    for b in blocks:
        if isinstance(b, Heading):
            tag = {1: "h2", 2: "h3"}.get(b.level, "h4")
            out.append(f'<{tag} class="h{b.level}">{_esc(b.text)}</{tag}>')
        elif isinstance(b, Para):
            cls = "body" if b.indent else "flat"
            label = f'<span class="{b.label_face}">{_esc(b.label)}</span>' if b.label else ""
            out.append(f'<p class="{cls}" style="text-align:{b.align}">{label}{_esc(b.text)}</p>')
        elif isinstance(b, Table):
            out.append(_table_html(b))
        elif isinstance(b, Figure):
            img = b.svg or (
                f'<img src="data:image/png;base64,{base64.b64encode(b.png).decode()}" style="width:{b.width_mm}mm">'
            )
            cap = f'<p class="caption">{_esc(b.caption)}</p>' if b.caption else ""
            out.append(f'<div class="figure">{img}{cap}</div>')
        else:  # pragma: no cover - a programming error
            raise TypeError(f"not a document block: {b!r}")
    return "\n".join(out)


def _attach_list_html(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return f'<table class="attach-list"><tr><td>附件：</td><td>{_esc(names[0])}</td></tr></table>'
    rows = "".join(
        f"<tr><td>{'附件：' if i == 1 else ''}</td><td>{i}．{_esc(n)}</td></tr>" for i, n in enumerate(names, start=1)
    )
    return f'<table class="attach-list">{rows}</table>'


def _receipt_html(r: Receipt) -> str:
    rows = [
        ("送达文书名称及文号", r.document),
        ("受送达人", r.recipient),
        ("送达地点", r.address),
        ("送达方式", r.method),
        ("受送达人签名或盖章", (r.receiver + "　　" if r.receiver else "") + "　　　　年　　月　　日"),
        ("代收人及代收理由", ""),
        ("送达日期", r.delivered),
        ("送达人（签名）", ""),
        ("见证人（签名）", ""),
        ("备注", r.note),
    ]
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    return (
        f'<section class="receipt"><p class="issuer">{_esc(r.issuer)}</p><h1 class="title">送达回证</h1>'
        f'<table class="grid">{body}</table>'
        '<p class="small">说明：受送达人拒绝签收的，送达人应当在备注栏注明拒收事由和日期，由送达人、见证人签名，'
        "把文书留在受送达人的住所，即视为送达（参照《中华人民共和国民事诉讼法》第八十九条）。</p></section>"
    )


def render_html(doc: OfficialDocument) -> str:
    mark_pt = _mark_size_pt(doc.mark_text)
    meta = "".join(f'<meta name="{_esc(k)}" content="{_esc(v)}">' for k, v in doc.meta.items())
    if doc.signer is not None:
        docno = (
            f'<div class="docno up"><span>{_esc(doc.number)}</span><span>签发人：<span class="kai">'
            f"{_esc(doc.signer) or '　' * 4}</span></span></div>"
        )
    else:
        docno = f'<div class="docno">{_esc(doc.number)}</div>'
    wm = ""
    demo = '<p class="illustrative">（示例数据，仅供演示，不作为执法依据）</p>' if doc.illustrative else ""
    sig_right = "4em" if len(doc.authority) <= len(date_cn(doc.issued)) + 4 else "1em"
    seal = '<div class="seal">（印章）</div>' if doc.seal else ""
    note = f'<p class="note">（{_esc(doc.note)}）</p>' if doc.note else ""
    attachments = []
    for i, a in enumerate(doc.attachments, start=1):
        label = "附件" if len(doc.attachment_list) == 1 else f"附件{i}"
        attachments.append(
            f'<section class="attachment{" wide" if a.landscape else ""}"><p class="label">{label}</p>'
            f'<h1 class="title">{_esc(a.title)}</h1>{_blocks_html(a.blocks)}</section>'
        )
    printer = doc.printer or doc.authority
    cc = f'<p class="cc">抄送：{_esc("，".join(doc.cc))}。</p>' if doc.cc else ""
    banji = (
        f'<div class="banji">{cc}<p class="print{"" if doc.cc else " first"}"><span>{_esc(printer)}</span>'
        f"<span>{date_cn(doc.print_date or doc.issued)}印发</span></p></div>"
    )
    receipt = _receipt_html(doc.receipt) if doc.receipt else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{_esc(doc.title)}</title>
<meta name="author" content="{_esc(doc.authority)}"><meta name="generator" content="subsidence">
<meta name="dcterms.created" content="{doc.issued.isoformat()}"><meta name="dcterms.modified" content="{doc.issued.isoformat()}">
{meta}</head><body>{wm}
<div class="mark" style="font-size:{mark_pt}pt">{_esc(doc.mark_text)}</div>
{docno}<div class="rule"></div>
<h1 class="title">{_esc(doc.title)}</h1>{demo}
<p class="recipient">{_esc(doc.recipient)}：</p>
{_blocks_html(doc.body)}
{_attach_list_html(doc.attachment_list)}
<div class="sig"><div class="sig-box" style="margin-right:{sig_right}">{seal}<p>{_esc(doc.authority)}</p>
<p>{date_cn(doc.issued)}</p></div></div>
{note}
{"".join(attachments)}
{banji}
{receipt}
</body></html>"""


def _banji_gap(document) -> tuple[int, float] | None:
    """(page index, CSS px between the bottom of the 版记 and the bottom of the type area) of a rendered document."""
    for i, page in enumerate(document.pages):
        box = page._page_box
        bottom = box.content_box_y() + box.height
        for b in box.descendants():
            el = getattr(b, "element", None)
            if el is not None and getattr(b, "element_tag", "") == "div" and "banji" in (el.get("class") or ""):
                return i, bottom - (b.position_y + b.margin_height())
    return None


def render_pdf(doc: OfficialDocument, out: Path | str | None = None) -> bytes:
    """The document as PDF bytes (fonts embedded); written to ``out`` when given.

    Two passes: the first finds where the 版记 ends up; the second pushes it down to the foot of that page
    (§7.4: the 版记's last element sits on the page's last line) with padding (a margin would be dropped at the
    top of a page), kept only if it stays on the same page."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    def render(html: str):
        fc = FontConfiguration()  # @font-face rules of a user stylesheet need the same FontConfiguration
        return HTML(string=html, base_url=str(Path.cwd())).render(
            stylesheets=[CSS(string=gongwen_css(illustrative=doc.illustrative), font_config=fc)], font_config=fc
        )

    html = render_html(doc)
    document = render(html)
    first = _banji_gap(document)
    if first is not None and first[1] > 1:
        pushed = html.replace(
            '<div class="banji">', f'<div class="banji" style="padding-top: {first[1] - 0.5:.2f}px">', 1
        )
        again = render(pushed)
        second = _banji_gap(again)
        if (
            second is not None
            and second[0] == first[0]
            and abs(second[1]) < 2
            and len(again.pages) == len(document.pages)
        ):
            document = again
    pdf = document.write_pdf()
    if out is not None:
        p = Path(out)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(pdf)
    return pdf


# ------------------------------------------------------------------------------------------ DOCX

_TWIPS_PER_MM = 1440 / 25.4


#: child order of the OOXML property elements we write into (ECMA-376 Part 1 §17.3.1.26, §17.3.2.28, §17.4.60,
#: §17.4.82): Word refuses or "repairs" a file whose property children are out of schema order
_ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
    "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl "
    "cs em lang eastAsianLayout specVanish oMath",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
    "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription tblPrChange",
    "trPr": "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader tblCellSpacing jc hidden "
    "ins del trPrChange",
}
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _insert_ordered(parent, child) -> None:
    """Insert ``child`` into a pPr / rPr / tblPr / trPr in schema order (replacing an element of the same name)."""
    order = _ORDER[_local(parent.tag)].split()
    name = _local(child.tag)
    for old in parent.findall(f"{_W}{name}"):
        parent.remove(old)
    rank = order.index(name)
    for i, sibling in enumerate(parent):
        if _local(sibling.tag) in order and order.index(_local(sibling.tag)) > rank:
            parent.insert(i, child)
            return
    parent.append(child)


def schema_order_problems(xml_root) -> list[str]:
    """Property elements whose children are out of schema order or repeated (what Word rejects); for tests."""
    out = []
    for kind, seq in _ORDER.items():
        order = seq.split()
        for el in xml_root.iter(f"{_W}{kind}"):
            ranks = [order.index(_local(c.tag)) for c in el if _local(c.tag) in order]
            names = [_local(c.tag) for c in el]
            if ranks != sorted(ranks) or len(set(names)) != len(names):
                out.append(f"{kind}: {' '.join(names)}")
    return out


def _rfonts(run_or_style, face: str) -> None:
    """Name the standard face for every script (w:ascii, w:hAnsi, w:eastAsia, w:cs) with the East-Asian hint, so
    WPS and Word use it for Chinese and for digits alike."""
    from docx.oxml.ns import qn

    name = DOCX_NAMES[face]
    rpr = run_or_style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)
    rfonts.set(qn("w:hint"), "eastAsia")


def _run(
    p,
    text: str,
    *,
    face: str = "body",
    size: float = BODY_PT,
    bold: bool = False,
    color: str | None = None,
    spacing: bool = True,
):
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run = p.add_run(text)
    _rfonts(run, face)
    run.font.size = Pt(size)
    run.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color.lstrip("#").upper())
    if spacing and size == BODY_PT:
        rpr = run.element.get_or_add_rPr()
        sp = rpr.makeelement(qn("w:spacing"), {qn("w:val"): str(round(TRACKING_PT * 20))})
        _insert_ordered(rpr, sp)
    return run


def _para(
    doc,
    *,
    align: str = "justify",
    indent_chars: float = 0,
    exact: float | None = LINE_PT,
    before: float = 0,
    after: float = 0,
    container=None,
):
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt

    p = (container or doc).add_paragraph()
    p.alignment = {
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    pf = p.paragraph_format
    if exact:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(exact)
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if indent_chars:
        pf.first_line_indent = Pt(BODY_PT * indent_chars)
    return p


def _border(p, side: str, *, size_eighths: int, color: str = "000000", space: int = 1) -> None:
    """A paragraph border (w:pBdr) — the red separator and the 版记 rules are paragraph borders so a clerk
    editing in WPS cannot leave them floating."""
    from docx.oxml.ns import qn

    ppr = p._p.get_or_add_pPr()
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = ppr.makeelement(qn("w:pBdr"), {})
        _insert_ordered(ppr, bdr)
    el = bdr.makeelement(
        qn(f"w:{side}"),
        {qn("w:val"): "single", qn("w:sz"): str(size_eighths), qn("w:space"): str(space), qn("w:color"): color},
    )
    bdr.append(el)


def _banji_table(d, doc_: OfficialDocument) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    printer = doc_.printer or doc_.authority
    rows = ([f"抄送：{'，'.join(doc_.cc)}。"] if doc_.cc else []) + [None]
    table = d.add_table(rows=len(rows), cols=1)
    tbl = table._tbl
    tblpr = tbl.tblPr
    pos = OxmlElement("w:tblpPr")
    for k, v in (
        ("leftFromText", "0"),
        ("rightFromText", "0"),
        ("topFromText", "0"),
        ("bottomFromText", "0"),
        ("vertAnchor", "margin"),
        ("horzAnchor", "margin"),
        ("tblpXSpec", "center"),
        ("tblpYSpec", "bottom"),
    ):
        pos.set(qn(f"w:{k}"), v)
    _insert_ordered(tblpr, pos)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(round(TYPE_W * _TWIPS_PER_MM)))
    width.set(qn("w:type"), "dxa")
    _insert_ordered(tblpr, width)
    borders = OxmlElement("w:tblBorders")
    for side, sz in (("top", 8), ("bottom", 8), ("insideH", 6), ("left", 0), ("right", 0), ("insideV", 0)):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single" if sz else "nil")
        if sz:
            el.set(qn("w:sz"), str(sz))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    _insert_ordered(tblpr, borders)
    table.columns[0].width = Mm(TYPE_W)
    for row, text in zip(table.rows, rows):
        cell = row.cells[0]
        cell.width = Mm(TYPE_W)
        p = cell.paragraphs[0]
        pf = p.paragraph_format
        pf.left_indent = Pt(BANJI_PT)
        pf.space_before = pf.space_after = Pt(2)
        if text is not None:
            pf.right_indent = Pt(BANJI_PT)
            _run(p, text, size=BANJI_PT, spacing=False)
        else:
            _tab_right(p)
            line = f"{printer}\t{date_cn(doc_.print_date or doc_.issued)}印发"
            # one line: a long 印发机关 name shrinks below 4号 rather than wrap (2 characters of indent and a gap)
            size = min(BANJI_PT, round(TYPE_W / 25.4 * 72 / (len(line) + 4) * 2) / 2)
            _run(p, line, size=size, spacing=False)
    _para(d, exact=None)  # a paragraph after the table (a document or section may not end in a table)


def _tab_right(p) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt

    p.paragraph_format.tab_stops.add_tab_stop(Mm(TYPE_W) - Pt(BANJI_PT), WD_TAB_ALIGNMENT.RIGHT)


def _page_number_footer(section, *, even: bool) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    footer = section.even_page_footer if even else section.footer
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.text = ""
    p.alignment = 0 if even else 2  # left / right
    pf = p.paragraph_format
    pf.left_indent = Pt(BANJI_PT) if even else None
    pf.right_indent = None if even else Pt(BANJI_PT)
    _run(p, "— ", face="page", size=BANJI_PT)
    run = _run(p, "", face="page", size=BANJI_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    _run(p, " —", face="page", size=BANJI_PT)


def _setup_section(section, *, landscape: bool = False) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm

    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(PAGE_H), Mm(PAGE_W)
        section.top_margin = section.bottom_margin = Mm(MARGIN_LEFT)
        section.left_margin, section.right_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
        section.top_margin, section.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
        section.left_margin, section.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    # §7.5: the page number's dashes sit 7 mm below the type area
    section.footer_distance = Mm(MARGIN_BOTTOM - 7 - 5)
    section.header_distance = Mm(15)
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = sect.makeelement(qn("w:docGrid"), {})
        sect.append(grid)
    # the 22-line grid comes from the body paragraphs' exact 28.99 pt line spacing; a document grid of type
    # "lines" would also snap table cells and the 版记 to 29 pt lines (LibreOffice and Word both snap)
    if grid.get(qn("w:type")) is not None:
        del grid.attrib[qn("w:type")]
    grid.set(qn("w:linePitch"), str(round(TYPE_H / LINES * _TWIPS_PER_MM)))


def _docx_table(doc, t: Table, *, width_mm: float = TYPE_W):
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    if t.caption:
        _run(_para(doc, align="center", exact=None), t.caption, face="hei", size=12)
    table = doc.add_table(rows=1, cols=len(t.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    numeric = set(t.numeric) or {
        j
        for j in range(len(t.header))
        if t.rows
        and all(_is_number(r[j]) or r[j] in (None, "", "—") for r in t.rows)
        and any(_is_number(r[j]) for r in t.rows)
    }
    hdr = table.rows[0]
    trpr = hdr._tr.get_or_add_trPr()
    th = OxmlElement("w:tblHeader")  # repeat the header row on every page
    th.set(qn("w:val"), "true")
    _insert_ordered(trpr, th)
    for cell, text in zip(hdr.cells, t.header):
        p = cell.paragraphs[0]
        p.alignment = 1
        _run(p, str(text), face="hei", size=t.font_pt, spacing=False)
    for i, row in enumerate(t.rows):
        cells = table.add_row().cells
        total = t.total_row and i == len(t.rows) - 1
        for j, (cell, v) in enumerate(zip(cells, row)):
            p = cell.paragraphs[0]
            if j in numeric:
                p.alignment = 2
            _run(p, _fmt(v), face="hei" if total else "body", size=t.font_pt, spacing=False)
    widths = t.widths or [1.0] * len(t.header)
    total_w = sum(widths)
    table.autofit = False  # fixed layout: the grid widths below, not the content, size the columns
    tblpr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    _insert_ordered(tblpr, layout)
    for col, w in zip(table.columns, widths):
        col.width = Mm(width_mm * w / total_w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Mm(width_mm * w / total_w)
    return table


def _docx_blocks(doc, blocks: Sequence[Block], *, width_mm: float = TYPE_W) -> None:
    from docx.shared import Mm

    for b in blocks:
        if isinstance(b, Heading):
            p = _para(doc, indent_chars=2, align="left")
            face = {1: "hei", 2: "kai"}.get(b.level, "body")
            _run(p, b.text, face=face, bold=b.level >= 3)
        elif isinstance(b, Para):
            p = _para(doc, align=b.align, indent_chars=2 if b.indent else 0)
            if b.label:
                _run(p, b.label, face=b.label_face)
            _run(p, b.text)
        elif isinstance(b, Table):
            _docx_table(doc, b, width_mm=width_mm)
            _para(doc, exact=None)
        elif isinstance(b, Figure):
            p = _para(doc, align="center", exact=None)
            p.add_run().add_picture(io.BytesIO(b.png), width=Mm(min(b.width_mm, width_mm)))
            if b.caption:
                _run(_para(doc, align="center", exact=None), b.caption, face="hei", size=12)
        else:  # pragma: no cover
            raise TypeError(f"not a document block: {b!r}")


def render_docx(doc_: OfficialDocument, out: Path | str | None = None) -> bytes:
    """The document as DOCX: the same layout with the standard face names (editable in WPS / LibreOffice)."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    from subsidence.render.docx_io import save_docx

    d = Document()
    normal = d.styles["Normal"]
    _rfonts(normal, "body")
    normal.font.size = Pt(BODY_PT)
    table_style = d.styles["Table Grid"]
    _rfonts(table_style, "body")
    d.settings.odd_and_even_pages_header_footer = True
    sec = d.sections[0]
    _setup_section(sec)
    _page_number_footer(sec, even=False)
    _page_number_footer(sec, even=True)
    stamp = datetime(doc_.issued.year, doc_.issued.month, doc_.issued.day, tzinfo=UTC)
    cp = d.core_properties
    cp.title, cp.author, cp.last_modified_by = doc_.title, doc_.authority, doc_.authority
    cp.created = cp.modified = cp.last_printed = stamp
    cp.revision, cp.language, cp.comments = 1, "zh-CN", ""
    # 版头: the mark 35 mm into the type area (space before), the number two lines below, the red rule 4 mm under
    body0 = d.paragraphs[0] if d.paragraphs else None
    p = body0 if body0 is not None else _para(d)
    p.alignment = 1
    p.paragraph_format.space_before = Pt(MARK_OFFSET_MM / 25.4 * 72)
    p.paragraph_format.line_spacing = None
    _run(p, doc_.mark_text, face="title", size=_mark_size_pt(doc_.mark_text), color=RED, spacing=False)
    _para(d)
    p = _para(d, align="center" if doc_.signer is None else "left", after=4 / 25.4 * 72)
    _border(p, "bottom", size_eighths=18, color=RED[1:], space=4)
    if doc_.signer is not None:
        _tab_right(p)
        p.paragraph_format.left_indent = Pt(BODY_PT)
        _run(p, doc_.number)
        _run(p, "\t签发人：")
        _run(p, doc_.signer or "　" * 4, face="kai")
    else:
        _run(p, doc_.number)
    _para(d)
    p = _para(d, align="center", exact=1.3 * TITLE_PT)
    _run(p, doc_.title, face="title", size=TITLE_PT, spacing=False)
    if doc_.illustrative:
        _run(_para(d, align="center", exact=None), "（示例数据，仅供演示，不作为执法依据）", size=10.5, color="#666666")
    _para(d)
    _run(_para(d, align="left"), f"{doc_.recipient}：")
    _docx_blocks(d, doc_.body)
    names = doc_.attachment_list
    if names:
        _para(d)
        for i, n in enumerate(names, start=1):
            p = _para(d, align="left", indent_chars=0)
            p.paragraph_format.left_indent = Pt(BODY_PT * (2 if i == 1 else 5))
            _run(p, ("附件：" if i == 1 else "") + (f"{i}．{n}" if len(names) > 1 else n))
    for _ in range(3):  # the seal area: the seal presses 署名 and 成文日期 (§7.3.5.1); kept with them
        _para(d).paragraph_format.keep_with_next = True
    p = _para(d, align="right")
    p.paragraph_format.keep_with_next = True
    pad = 4 if len(doc_.authority) <= len(date_cn(doc_.issued)) + 4 else 1
    extra = max((len(date_cn(doc_.issued)) - len(doc_.authority)) / 2, 0)
    p.paragraph_format.right_indent = Pt(BODY_PT * (pad + extra))
    _run(p, doc_.authority)
    p = _para(d, align="right")
    p.paragraph_format.right_indent = Pt(BODY_PT * pad)
    _run(p, date_cn(doc_.issued))
    if doc_.note:
        _run(_para(d, indent_chars=2, align="left"), f"（{doc_.note}）")
    for i, a in enumerate(doc_.attachments, start=1):
        new = d.add_section(WD_SECTION.NEW_PAGE)
        _setup_section(new, landscape=a.landscape)
        label = "附件" if len(names) == 1 else f"附件{i}"
        _run(_para(d, align="left"), label, face="hei")
        _run(
            _para(d, align="center", exact=1.3 * TITLE_PT, after=LINE_PT / 2),
            a.title,
            face="title",
            size=TITLE_PT,
            spacing=False,
        )
        _docx_blocks(d, a.blocks, width_mm=(PAGE_H - MARGIN_TOP - MARGIN_BOTTOM) if a.landscape else TYPE_W)
    # (after a landscape attachment the 版记 stays on its page, as in the PDF)
    # 版记 (§7.4): a borderless floating table anchored to the bottom of the type area; its row borders are
    # the rules (first and last 0.35 mm, between 0.25 mm), so WPS, Word and LibreOffice keep both the rules and
    # the place at the foot of the page
    _banji_table(d, doc_)
    if doc_.receipt:
        r = doc_.receipt
        br = _para(d, exact=None)
        br.add_run().add_break(WD_BREAK.PAGE)
        _run(_para(d, align="center", exact=None), r.issuer, face="title", size=18, spacing=False)
        _run(_para(d, align="center", exact=None, after=8), "送达回证", face="title", size=TITLE_PT, spacing=False)
        rows = [
            ["送达文书名称及文号", r.document],
            ["受送达人", r.recipient],
            ["送达地点", r.address],
            ["送达方式", r.method],
            ["受送达人签名或盖章", (r.receiver + "　　" if r.receiver else "") + "　　　　年　　月　　日"],
            ["代收人及代收理由", ""],
            ["送达日期", r.delivered],
            ["送达人（签名）", ""],
            ["见证人（签名）", ""],
            ["备注", r.note],
        ]
        tbl = _docx_table(d, Table(["项目", "内容"], rows, widths=[30, 70], font_pt=12))
        from docx.shared import Mm

        tbl._tbl.remove(tbl.rows[0]._tr)  # the receipt has no header row
        for row in tbl.rows:
            row.height = Mm(13)
        _run(
            _para(d, exact=None, before=6),
            "说明：受送达人拒绝签收的，送达人应当在备注栏注明拒收事由和日期，由送达人、见证人签名，"
            "把文书留在受送达人的住所，即视为送达（参照《中华人民共和国民事诉讼法》第八十九条）。",
            size=10.5,
            spacing=False,
        )
    return save_docx(d, out)


# ------------------------------------------------------------------------------------------ shared texts

#: 《中华人民共和国行政复议法》(2023年修订) 第二十条: sixty days from knowing of the act;
#: 第二十四条: the county-level people's government hears reviews of its departments' acts.
#: 《中华人民共和国行政诉讼法》第四十六条: six months from knowing of the act.
REVIEW_BODY = "伊金霍洛旗人民政府"
COURT = "有管辖权的人民法院"


def review_rights(document: str, *, review_body: str = REVIEW_BODY, court: str = COURT) -> str:
    """The statement of remedies printed on every ordering or refusing document."""
    return (
        f"如不服本{document}，可以自收到本{document}之日起六十日内依法向{review_body}申请行政复议"
        f"（《中华人民共和国行政复议法》第二十条），或者自收到本{document}之日起六个月内依法向{court}提起行政诉讼"
        f"（《中华人民共和国行政诉讼法》第四十六条）。行政复议和行政诉讼期间，本{document}不停止执行，法律另有规定的除外。"
    )
