"""督办通知 (supervision notice to the responsible unit of an overdue problem), GB/T 9704-2012 layout.

Rendered from :func:`subsidence.ledger.escalation.supervision_data` (contract §3). It is issued by the leading
group (or its office) to a member unit: an internal supervisory act between administrative organs, so it
states the legal basis, the missed deadline and the reply deadline, but no review or litigation rights —
those belong to citizens and organisations against external acts (《中华人民共和国行政复议法》第二条,
《中华人民共和国行政诉讼法》第二条). When the recipient is an enterprise (no unit) the rights are printed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from subsidence.render.authority import agency_code, full_name
from subsidence.render.gongwen import (
    OfficialDocument,
    Para,
    Receipt,
    date_cn,
    review_rights,
    zh_text,
)
from subsidence.render.gongwen import (
    render_docx as _docx,
)
from subsidence.render.gongwen import (
    render_pdf as _pdf,
)
from subsidence.reports.notice import cite_short, sentence
from subsidence.reports.refusal import zh

TITLE = "督办通知"


def document(data: dict) -> OfficialDocument:
    issuer = data.get("issuer") or "伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室"
    recipient = full_name(data.get("recipient_unit_name") or data.get("mine") or "")
    src = data.get("deadline_set_by") or {}
    set_by = f"{zh(src.get('title'))}（{src['code']}）" if src.get("code") else ""
    mine = f"（{data['mine']}）" if data.get("mine") else ""
    ms = data.get("milestone")
    what = {
        "deadline": f"整改期限为{date_cn(data.get('deadline'))}" + (f"（{set_by}确定）" if set_by else ""),
        "milestone": f"时间节点“{(ms or {}).get('description', '')}”应于{date_cn(data.get('deadline'))}完成",
        "acceptance": f"验收期限为{date_cn(data.get('deadline'))}",
        "extension": f"延期申请应于{date_cn(data.get('deadline'))}前作出审批决定",
    }.get(data.get("kind") or "deadline", f"期限为{date_cn(data.get('deadline'))}")
    body = [
        Para(
            f"经核查，台账问题{data.get('problem')}“{sentence(zh_text(data.get('problem_title'))).rstrip('。')}”{mine}"
            f"（问题类别：{data.get('category_zh')}），{what}，截至{date_cn(data.get('issued_date'))}已逾期"
            f"{data.get('workdays_overdue')}个工作日。"
        ),
        Para(
            f"依据{cite_short(data.get('legal_basis') or '')}的规定，现予{data.get('level_zh') or '督办'}。"
            f"{sentence(data.get('requirement'))}"
        ),
        Para(
            f"请于{date_cn(data.get('reply_due'))}前将整改进展书面报送{issuer}。"
            if data.get("reply_due")
            else f"请及时将整改进展书面报送{issuer}。"
        ),
    ]
    if not data.get("recipient_unit"):
        body.append(Para(review_rights("通知")))
    number = data.get("code") or f"{agency_code(issuer)}督〔{date.fromisoformat(data['issued_date']).year}〕　号"
    return OfficialDocument(
        authority=issuer,
        mark=issuer,
        number=number,
        title=TITLE,
        recipient=recipient,
        body=body,
        issued=date.fromisoformat(data["issued_date"]),
        cc=[],
        printer=issuer,
        receipt=Receipt(issuer=issuer, document=f"{TITLE}（{number}）", recipient=recipient),
        illustrative=bool(data.get("illustrative")),
        meta={"subject": f"{data.get('problem')} 督办"},
    )


def render_pdf(data: dict, path: Path | str | None = None) -> bytes:
    return _pdf(document(data), path)


def render_docx(data: dict, path: Path | str | None = None) -> bytes:
    return _docx(document(data), path)
