"""The progress report (工作进展情况报告) as PDF and DOCX, and the ledger as Excel (问题台账).

The report covers a period ``[start, end]``: the ledger as it stood at the end of ``end`` (states rebuilt
from the audit trail), what happened in the period (new findings, notices, acceptances, every state
change), tables and bar charts by task, town and lead department, and the overdue list. The same data
give the same document: fixed metadata (dated ``end``), deterministic ordering, no wall-clock time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.ledger.models import Problem, RectificationNotice
from subsidence.ledger.notices import ISSUER_NAME, issuer_name
from subsidence.ledger.progress import (
    Progress,
    ProgressRow,
    changes_between,
    compute_progress,
)
from subsidence.render.gongwen import zh_text
from subsidence.reports.notice import (
    cjk_paragraph,
    cjk_table,
    date_zh,
    jinja_env,
    new_docx,
    save_docx,
)
from subsidence.vocabulary import ProblemState

PLAN_HEADERS = ["矿山", "计划面积(公顷)", "核查完成(公顷)", "差额(公顷)", "完成率", "预算(元)", "投入(元)", "是否按期"]
COUNT_HEADERS = ["发现", "已下达通知", "整改中", "待验收", "立行立改", "已验收销号", "逾期", "按期销号", "超期销号"]
COUNT_KEYS = ["found", "noticed", "rectifying", "submitted", "fixed_at_once", "accepted", "overdue", "on_time", "late"]
#: stacked-bar segments: (count key, label, colour)
SEGMENTS = [
    ("accepted", "已验收销号", "#2e7d32"),
    ("fixed_at_once", "立行立改", "#80cbc4"),
    ("submitted", "待验收", "#1565c0"),
    ("rectifying", "整改中", "#ef6c00"),
    ("untreated", "未处置", "#9e9e9e"),
]


@dataclass
class ProgressReport:
    start: date
    end: date
    progress: Progress
    changes: list[dict]
    new_found: int
    notices_issued: int
    accepted_in_period: int
    illustrative: bool
    issuer: str = ISSUER_NAME
    #: plan against achievement per mine for the year the period ends in; dicts of GapRow.as_dict()
    plan_year: int | None = None
    plan_rows: list[dict] = field(default_factory=list)
    #: what changed between the day before ``start`` and ``end`` when no transition was recorded in the period
    #: (imported or demo problems: new findings, deadlines passing); overview.queries.ProblemChange
    diffs: list = field(default_factory=list)

    @property
    def title(self) -> str:
        return "采煤沉陷区综合治理工作进展情况报告"

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            **self.progress.as_dict(),
            "period": {
                "new_found": self.new_found,
                "notices_issued": self.notices_issued,
                "accepted": self.accepted_in_period,
                "changes": len(self.changes),
            },
            "changes": self.changes,
            "plan_achievement": {"year": self.plan_year, "rows": self.plan_rows},
        }


def build_report(
    session: Session, start: date, end: date, *, scope: Any = None, mine_licences: set[str] | None = None
) -> ProgressReport:
    """Collect everything the report shows (no rendering).

    ``scope``: a clause on the problem table (the caller's scope); ``mine_licences``: the mines whose plan
    figures the caller may read. Both None: the whole county (the office's report).
    """
    if end < start:
        from subsidence.errors import ValidationFailed

        raise ValidationFailed(f"report period ends ({end}) before it starts ({start})")
    in_scope = [] if scope is None else [scope]
    prog = compute_progress(session, end, where=scope)
    ids = None if scope is None else set(session.scalars(select(Problem.id).where(scope)))
    changes = changes_between(session, start, end, ids)
    new_found = (
        session.scalar(
            select(func.count())
            .select_from(Problem)
            .where(Problem.found_date >= start, Problem.found_date <= end, *in_scope)
        )
        or 0
    )
    notices = (
        session.scalar(
            select(func.count())
            .select_from(RectificationNotice)
            .join(Problem, Problem.id == RectificationNotice.problem_id)
            .where(RectificationNotice.issued_date >= start, RectificationNotice.issued_date <= end, *in_scope)
        )
        or 0
    )
    accepted = sum(1 for c in changes if c["to"] == ProblemState.ACCEPTED.value)
    illustrative = bool(session.scalar(select(func.count()).select_from(Problem).where(Problem.illustrative)))
    from subsidence.plans.service import plan_gap

    plan_rows = [
        r.as_dict() for r in plan_gap(session, end.year, by="mine") if mine_licences is None or r.key in mine_licences
    ]
    diffs = []
    if not changes:
        from subsidence.overview.queries import changes_since

        codes = None if ids is None else set(session.scalars(select(Problem.code).where(scope)))
        diffs = [d for d in changes_since(session, start, end) if codes is None or d.code in codes]
    return ProgressReport(
        start,
        end,
        prog,
        changes,
        new_found,
        notices,
        accepted,
        illustrative,
        issuer_name(session),
        plan_year=end.year,
        plan_rows=plan_rows,
        diffs=diffs,
    )


def _untreated(row_counts) -> int:
    c = row_counts
    return max(c.found - c.accepted - c.fixed_at_once - c.submitted - c.rectifying, 0)


def svg_bars(
    rows: list[ProgressRow],
    *,
    width: float = 170,
    row_h: float = 6.5,
    label_w: float = 48,
    font_family: str = "sans-serif",
    label=lambda r: r.label_zh,
) -> str:
    """A horizontal stacked bar per row (accepted / fixed at once / submitted / rectifying / untreated), in mm."""
    if not rows:
        return ""
    top = max((r.counts.found for r in rows), default=0) or 1
    bar_w = width - label_w - 26  # room for the "N（逾期M）" note after the longest bar
    h = row_h * len(rows) + 2
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{h}mm" '
            f'viewBox="0 0 {width} {h}" font-family="{escape(font_family)}" font-size="3">'
        )
    ]
    for i, r in enumerate(rows):
        y = 1 + i * row_h
        text = label(r)
        text = text if len(text) <= 17 else text[:16] + "…"
        parts.append(f'<text x="{label_w - 1}" y="{y + row_h * 0.62:.2f}" text-anchor="end">{escape(text)}</text>')
        x = label_w
        values = {"untreated": _untreated(r.counts), **r.counts.as_dict()}
        for key, _label, colour in SEGMENTS:
            w = bar_w * values[key] / top
            if w > 0:
                parts.append(
                    f'<rect x="{x:.2f}" y="{y + 0.8:.2f}" width="{w:.2f}" height="{row_h - 1.6:.2f}" fill="{colour}"/>'
                )
                x += w
        note = f"{r.counts.found}" + (f"（逾期{r.counts.overdue}）" if r.counts.overdue else "")
        parts.append(f'<text x="{x + 1:.2f}" y="{y + row_h * 0.62:.2f}">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def row_label(r: ProgressRow) -> str:
    """Task rows are numbered ("1. 地面塌陷…"); towns and units show their name."""
    return f"{r.key}. {r.label_zh}" if r.key.isdigit() else r.label_zh


def _state_zh(value: str | None) -> str:
    return ProblemState(value).label() if value else ""


def _context(rep: ProgressReport) -> dict[str, Any]:
    from subsidence.render.fonts import cjk_font

    p = rep.progress
    t = p.total
    family = cjk_font().family
    kpis = [
        ("问题总数", t.found),
        ("本期新发现", rep.new_found),
        ("本期下达整改通知书", rep.notices_issued),
        ("本期验收销号", rep.accepted_in_period),
        ("整改中", t.rectifying),
        ("待验收", t.submitted),
        ("累计验收销号", t.accepted),
        ("逾期未整改", t.overdue),
    ]
    summary = (
        f"截至{date_zh(rep.end)}，台账共登记问题{t.found}个，已验收销号{t.accepted}个（销号率{t.accepted_pct}%），"
        f"立行立改待验收{t.fixed_at_once}个，正在整改{t.rectifying}个，已申请验收{t.submitted}个，"
        f"逾期未整改{t.overdue}个。本期（{date_zh(rep.start)}至{date_zh(rep.end)}）新发现问题{rep.new_found}个，"
        f"下达限期整改通知书{rep.notices_issued}份，验收销号{rep.accepted_in_period}个。"
    )

    def section(title: str, key_label: str, rows: list[ProgressRow]) -> dict:
        return {
            "title": title,
            "key_label": key_label,
            "svg": svg_bars(rows, font_family=family, label=row_label),
            "rows": [{"label": row_label(r), "cells": [getattr(r.counts, k) for k in COUNT_KEYS]} for r in rows],
        }

    task_rows = p.by_task
    return {
        "r": {
            "title": rep.title,
            "issuer": rep.issuer,
            "start_zh": date_zh(rep.start),
            "end_zh": date_zh(rep.end),
            "end": rep.end.isoformat(),
            "phase": p.phase.name_zh if p.phase else "",
            "illustrative": rep.illustrative,
            "kpis": [{"label": a, "value": b} for a, b in kpis],
            "summary_text": summary,
            "count_headers": COUNT_HEADERS,
            "total_values": [getattr(t, k) for k in COUNT_KEYS],
            "legend": [{"label": lbl, "color": c} for _, lbl, c in SEGMENTS],
            "sections": [
                section("二、分任务进展", "重点任务", task_rows),
                section("三、分镇进展", "镇", p.by_town),
                section("四、分部门进展（牵头单位）", "牵头单位", p.by_department),
            ],
            "overdue": [
                {
                    "code": o.code,
                    "title": zh_text(o.title),
                    "mine": o.mine,
                    "town": o.town,
                    "lead_unit": o.lead_unit,
                    "deadline": date_zh(o.deadline),
                    "workdays_overdue": o.workdays_overdue,
                }
                for o in p.overdue
            ],
            "changes": [
                {
                    "on": date_zh(c["on"]),
                    "problem": c["problem"],
                    "change": f"{_state_zh(c['from'])} → {_state_zh(c['to'])}",
                    "actor": c["actor"],
                    "note": " ".join(x for x in (c.get("notice") or "", c.get("reason") or "") if x),
                }
                for c in rep.changes
            ]
            or [
                {
                    "on": date_zh(d.on),
                    "problem": d.code,
                    "change": f"{d.what}：{d.before or '—'} → {d.after}",
                    "actor": "",
                    "note": zh_text(d.title),
                }
                for d in rep.diffs
            ],
            "plan_year": rep.plan_year,
            "plan_headers": PLAN_HEADERS,
            "plan_rows": [
                [
                    r["name"],
                    r["planned_ha"],
                    r["achieved_ha"],
                    r["gap_ha"],
                    "—" if r["ratio"] is None else f"{100 * r['ratio']:.0f}%",
                    r["budget_yuan"],
                    r["spent_yuan"],
                    "按期" if r["on_time"] else "滞后",
                ]
                for r in rep.plan_rows
            ],
        }
    }


def progress_html(rep: ProgressReport) -> str:
    return jinja_env().get_template("progress.html").render(**_context(rep))


def progress_pdf(rep: ProgressReport, out: Path | str | None = None) -> bytes:
    from subsidence.render.pdf import html_to_pdf

    return html_to_pdf(progress_html(rep), Path(out) if out is not None else None)


def progress_chart_png(rows: list[ProgressRow]) -> bytes:
    """The stacked bars of :func:`svg_bars` as a PNG for DOCX (same segments, colours and notes)."""
    from subsidence.render.charts import stacked_bars_png

    values = [{"untreated": _untreated(r.counts), **r.counts.as_dict()} for r in rows]
    return stacked_bars_png(
        [row_label(r) for r in rows],
        [(label, colour, [v[key] for v in values]) for key, label, colour in SEGMENTS],
        notes=[f"{r.counts.found}" + (f"（逾期{r.counts.overdue}）" if r.counts.overdue else "") for r in rows],
    )


def progress_docx(rep: ProgressReport, out: Path | str | None = None) -> bytes:
    """The same report as DOCX: tables and the same stacked-bar charts (PNG, byte-identical on regeneration)."""
    from docx.shared import Mm

    ctx = _context(rep)["r"]
    doc = new_docx(ctx["title"], author=rep.issuer, when=rep.end)
    cjk_paragraph(doc, ctx["title"], bold=True, size=18, align="center", font="黑体")
    cjk_paragraph(
        doc,
        f"统计期间：{ctx['start_zh']} 至 {ctx['end_zh']}" + (f"　当前阶段：{ctx['phase']}" if ctx["phase"] else ""),
        align="center",
    )
    if ctx["illustrative"]:
        cjk_paragraph(doc, "（含示例数据，仅供演示）", size=9, align="center")
    cjk_paragraph(doc, "一、总体情况", bold=True, font="黑体")
    cjk_table(doc, [k["label"] for k in ctx["kpis"][:4]], [[k["value"] for k in ctx["kpis"][:4]]])
    cjk_table(doc, [k["label"] for k in ctx["kpis"][4:]], [[k["value"] for k in ctx["kpis"][4:]]])
    cjk_paragraph(doc, ctx["summary_text"], indent=True, align="justify")
    for sec, rows in zip(ctx["sections"], (rep.progress.by_task, rep.progress.by_town, rep.progress.by_department)):
        cjk_paragraph(doc, sec["title"], bold=True, font="黑体")
        if rows:
            doc.add_picture(io.BytesIO(progress_chart_png(rows)), width=Mm(160))
        cjk_paragraph(doc)
        cjk_table(
            doc,
            [sec["key_label"], *COUNT_HEADERS],
            [[row["label"], *row["cells"]] for row in sec["rows"]] + [["合计", *ctx["total_values"]]],
        )
    cjk_paragraph(doc, "五、逾期未整改问题清单", bold=True, font="黑体")
    if ctx["overdue"]:
        cjk_table(
            doc,
            ["问题编号", "问题", "矿山", "镇", "牵头单位", "整改期限", "逾期（工作日）"],
            [
                [o["code"], o["title"], o["mine"], o["town"], o["lead_unit"], o["deadline"], o["workdays_overdue"]]
                for o in ctx["overdue"]
            ],
        )
    else:
        cjk_paragraph(doc, "无逾期问题。", indent=True)
    cjk_paragraph(doc, "六、本期变化", bold=True, font="黑体")
    if ctx["changes"]:
        cjk_table(
            doc,
            ["日期", "问题编号", "变化", "办理人", "说明"],
            [[c["on"], c["problem"], c["change"], c["actor"], c["note"]] for c in ctx["changes"]],
        )
    else:
        cjk_paragraph(doc, "与上期相比，问题的数量和状态均无变化。", indent=True)
    cjk_paragraph(doc, f"七、{ctx['plan_year']}年度治理与复垦计划完成情况", bold=True, font="黑体")
    if ctx["plan_rows"]:
        cjk_table(doc, ctx["plan_headers"], ctx["plan_rows"])
    else:
        cjk_paragraph(doc, "本年度未录入年度计划。", indent=True)
    cjk_paragraph(doc)
    cjk_paragraph(doc, rep.issuer, align="right")
    cjk_paragraph(doc, ctx["end_zh"], align="right")
    return save_docx(doc, out)


def ledger_xlsx(session: Session, out: Path | str, as_of: date | None = None) -> Path:
    """The ledger in the layout offices exchange (written by :func:`subsidence.interchange.exports.write_ledger`)."""
    from subsidence.interchange.exports import write_ledger
    from subsidence.ledger.progress import ledger_problems

    return write_ledger(ledger_problems(session, as_of), out, as_of=as_of)
