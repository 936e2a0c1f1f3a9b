"""整改验收意见 (acceptance decision, 销号 when passed), GB/T 9704-2012 layout, from
:func:`subsidence.ledger.evidence.acceptance_data` (contract §4). Issued by the leading-group office, which
organises acceptance; addressed to the enterprise (or the mine), with the evidence examined."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from subsidence.render.gongwen import (
    Heading,
    OfficialDocument,
    Para,
    Table,
    date_cn,
    zh_text,
)
from subsidence.render.gongwen import (
    render_docx as _docx,
)
from subsidence.render.gongwen import (
    render_pdf as _pdf,
)
from subsidence.reports.notice import sentence

TITLE = "整改验收意见书"
OFFICE = "伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室"


def document(data: dict, *, issuer: str = OFFICE) -> OfficialDocument:
    passed = data.get("result") == "passed"
    notice = data.get("notice") or {}
    licence = f"（采矿许可证号：{data['licence_no']}）" if data.get("licence_no") else ""
    intro = (
        f"你单位{data.get('mine') or ''}{licence}于{date_cn(data.get('submitted_date'))}就台账问题{data.get('problem')}"
        f"“{sentence(zh_text(data.get('problem_title'))).rstrip('。')}”申请验收"
        + (
            f"（限期整改通知书{notice['code']}，整改期限{date_cn(data.get('deadline') or notice.get('deadline'))}）"
            if notice.get("code")
            else ""
        )
        + "。"
    )
    how = (
        f"{date_cn(data.get('decided_date'))}，本办组织"
        + ("现场" if data.get("site_visit") else "书面")
        + f"验收（参加人员：{'、'.join(data.get('inspectors') or []) or '—'}）"
        + ("，在受理验收申请后六十个工作日内完成。" if data.get("within_window") else "。")
    )
    verdict = (
        "经验收，整改完成，符合要求，验收通过，予以销号"
        + (f"（销号日期：{date_cn(data['closed_date'])}）" if data.get("closed_date") else "")
        + "。"
        if passed
        else f"经验收，整改未达到要求，予以退回。主要问题：{sentence(data.get('reasons')) or '见附表'}"
        "请按要求继续整改，完成后重新申请验收；整改期限不因退回而顺延。"
    )
    ev = data.get("evidence") or []
    body = [Para(intro), Para(how), Para(verdict)]
    if data.get("milestones"):
        body += [
            Heading("一、时间节点完成情况"),
            Table(
                ["序号", "节点内容", "完成时限", "完成日期"],
                [
                    [m["seq"], m["description"], date_cn(m["due_date"]), date_cn(m.get("done_date")) or "未完成"]
                    for m in data["milestones"]
                ],
                widths=[8, 52, 20, 20],
                font_pt=10.5,
                numeric=(0,),
            ),
        ]
    if ev:
        body += [
            Heading(("二、" if data.get("milestones") else "一、") + "佐证材料"),
            Table(
                ["序号", "材料", "类型", "拍摄时间", "核验提示"],
                [
                    [
                        i,
                        Path(e["filename"]).stem,
                        "照片" if e["kind"] == "photo" else "文件",
                        (e.get("taken_at") or "")[:10],
                        "；".join(f["message"].split(" / ")[0] for f in e.get("flags") or []) or "—",
                    ]
                    for i, e in enumerate(ev, start=1)
                ],
                widths=[8, 40, 10, 18, 24],
                font_pt=10.5,
                numeric=(0,),
            ),
        ]
    recipient = data.get("enterprise") or data.get("mine") or ""
    return OfficialDocument(
        authority=issuer,
        mark=issuer,
        number=data.get("code") or "",
        title=TITLE,
        recipient=recipient,
        body=body,
        issued=date.fromisoformat(data["decided_date"]),
        printer=issuer,
        illustrative=bool(data.get("illustrative")),
        meta={"subject": f"{data.get('problem')} 验收"},
    )


def render_pdf(data: dict, path: Path | str | None = None) -> bytes:
    return _pdf(document(data), path)


def render_docx(data: dict, path: Path | str | None = None) -> bytes:
    return _docx(document(data), path)
