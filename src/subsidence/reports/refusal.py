"""不予受理告知书 (refusal of a licence or land application at the licence gate), GB/T 9704-2012 layout.

Rendered from the frozen data of :func:`subsidence.gate.service.refusal_document_data` (contract
/tmp/team/contract_13_16.md §2). Issued in the name of the deciding authority (the natural-resources bureau
for mining-licence and construction-land applications), with the findings, their legal basis and deadline,
how to remedy, the remedies against the decision and a 送达回证. The refusal itself rests on
《土地复垦条例》第二十条 (the approving organ shall not approve while the reclamation duty is unfulfilled) and
《中华人民共和国行政许可法》第三十八条第二款 (a refusal in writing, with reasons, stating the right to review or sue).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from subsidence.render.authority import full_name
from subsidence.render.gongwen import (
    Heading,
    OfficialDocument,
    Para,
    Receipt,
    Table,
    date_cn,
    review_rights,
)
from subsidence.render.gongwen import (
    render_docx as _docx,
)
from subsidence.render.gongwen import (
    render_pdf as _pdf,
)
from subsidence.reports.notice import cite_short, sentence

TITLE = "不予受理告知书"


def zh(text: Any) -> str:
    """The Chinese half of a "中文 / English" text (each "；"-separated part of it; parts without Chinese go)."""
    parts = []
    for part in str(text or "").split("；"):
        head = part.split(" / ")[0].strip()
        if head and any("\u4e00" <= ch <= "\u9fff" for ch in head):
            parts.append(head)
    return "；".join(parts)


def _deadline_text(r: dict) -> str:
    src = r.get("deadline_set_by") or {}
    what = f"{src.get('title', '')}（{src['code']}）" if src.get("code") else zh(src.get("title"))
    if not r.get("deadline"):
        return ""
    return f"整改期限{date_cn(r['deadline'])}" + (f"，由{what}确定" if what else "") + "，已逾期未完成"


def document(data: dict) -> OfficialDocument:
    authority = full_name(data.get("authority_name") or "旗自然资源局")
    app = zh(data.get("application_label")) or "申请"
    reasons = data.get("reasons") or []
    rows = [
        [
            i,
            zh(r.get("message")),
            r.get("record") or r.get("problem") or "—",
            _deadline_text(r) or "—",
            cite_short(r.get("legal_basis") or ""),
        ]
        for i, r in enumerate(reasons, start=1)
    ]
    licence = f"（采矿许可证号：{data['licence_no']}）" if data.get("licence_no") else ""
    body = [
        Para(
            f"你单位于{date_cn(data.get('query_date'))}就{data.get('mine') or ''}{licence}提出的{app}，经审查，"
            f"该矿山存在下列未依法履行矿山地质环境治理恢复和土地复垦义务的情形（共{len(reasons)}项）："
        ),
        Table(
            ["序号", "情形", "台账或记录编号", "期限", "依据"],
            rows,
            widths=[8, 42, 18, 20, 24],
            font_pt=10.5,
            numeric=(0,),
        ),
        Para(
            f"依据{cite_short(data.get('legal_basis') or '《土地复垦条例》第二十条')}的规定，本机关决定对你单位的上述申请"
            "不予受理。"
        ),
        Heading("一、整改和重新申请"),
        Para(sentence(zh(data.get("remedy_summary"))) + "上述情形消除并经验收通过后，你单位可以重新提出申请。"),
        Heading("二、权利告知"),
        Para(
            review_rights(
                "告知书",
                review_body=data.get("review_body") or "伊金霍洛旗人民政府",
                court=data.get("court") or "有管辖权的人民法院",
            )
        ),
        Heading("三、法律依据"),
        Para(sentence(zh(data.get("legal_basis")))),
    ]
    warnings = data.get("warnings") or []
    if warnings:
        body.insert(3, Para("另提示：" + "；".join(zh(w.get("message")) for w in warnings) + "。请一并按期整改。"))
    recipient = data.get("applicant") or data.get("mine") or ""
    return OfficialDocument(
        authority=authority,
        mark=authority,
        number=data.get("code") or "",
        title=TITLE,
        recipient=recipient,
        body=body,
        issued=date.fromisoformat(data["issued_date"]),
        cc=["伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室"],
        printer=f"{authority}办公室",
        receipt=Receipt(issuer=authority, document=f"{TITLE}（{data.get('code') or ''}）", recipient=recipient),
        illustrative=bool(data.get("illustrative")),
        meta={"subject": f"{data.get('mine')} {app} 不予受理"},
    )


def render_pdf(data: dict, path: Path | str | None = None) -> bytes:
    return _pdf(document(data), path)


def render_docx(data: dict, path: Path | str | None = None) -> bytes:
    return _docx(document(data), path)
