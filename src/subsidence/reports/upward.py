"""The report upward (工作上报): the leading-group office reports to the banner government, as a 公文
(上行文, GB/T 9704-2012 §7.2.5: number on the left, 签发人 on the right), with the plan's core numbers for
the period and cumulatively, what changed since the last report, the overdue list by responsible unit,
charts, and the tables behind it as xlsx.

``build(session, start, end)`` collects (read-only, :mod:`subsidence.overview.queries`); ``render_pdf``,
``render_docx`` and ``render_xlsx`` render; ``issue_number`` takes the document number (writes a counter row,
in the caller's transaction). The same data give the same document (dated ``end``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from subsidence.render.gongwen import (
    Attachment,
    Figure,
    Heading,
    OfficialDocument,
    Para,
    Table,
    date_cn,
    doc_number,
    zh_text,
)

TITLE = "关于采煤沉陷区综合治理工作进展情况的报告"
RECIPIENT = "伊金霍洛旗人民政府"
OFFICE = "伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室"
OFFICE_CODE = "伊采沉办"
SERIES = "report"
COUNT_HEADERS = ["重点任务", "问题数", "已下达通知", "整改中", "待验收", "立行立改", "已验收销号", "逾期"]
COUNT_KEYS = ["found", "noticed", "rectifying", "submitted", "fixed_at_once", "accepted", "overdue"]


@dataclass
class UpwardReport:
    start: date
    end: date
    issuer: str
    metrics: list[Any]  #: overview.queries.Metric
    progress: Any  #: ledger.progress.Progress at the end of ``end``
    changes: list[Any]  #: overview.queries.ProblemChange
    transitions: int  #: recorded transitions in the period
    plan_by_mine: list[dict]
    plan_by_town: list[dict]
    illustrative: bool
    number: str | None = None
    signer: str = ""
    cc: list[str] = field(default_factory=list)

    def metric(self, key: str):
        return next(m for m in self.metrics if m.key == key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "number": self.number,
            "metrics": [m.as_dict() for m in self.metrics],
            "progress": self.progress.as_dict(),
            "changes": [c.__dict__ for c in self.changes],
            "plan_by_mine": self.plan_by_mine,
            "plan_by_town": self.plan_by_town,
        }


def build(session: Session, start: date, end: date, *, number: str | None = None, signer: str = "") -> UpwardReport:
    """Collect the report for ``[start, end]`` (read-only). ``start`` is the day after the last report's end."""
    from sqlalchemy import func, select

    from subsidence.errors import ValidationFailed
    from subsidence.ledger.models import Problem
    from subsidence.ledger.notices import issuer_name
    from subsidence.overview import queries as q

    if end < start:
        raise ValidationFailed(f"report period ends ({end}) before it starts ({start})")
    prog = q.progress(session, end)
    illustrative = bool(session.scalar(select(func.count()).select_from(Problem).where(Problem.illustrative)))
    return UpwardReport(
        start,
        end,
        issuer_name(session),
        q.core_numbers(session, start, end),
        prog,
        q.changes_since(session, start, end),
        len(q.changes(session, start, end)),
        q.plan_achievement(session, end.year, "mine"),
        q.plan_achievement(session, end.year, "town"),
        illustrative,
        number=number,
        signer=signer,
        cc=["旗采煤沉陷区综合治理工作领导小组各成员单位"],
    )


def issue_number(session: Session, year: int, authority: str = "LGO") -> str:
    """Take the next 工作上报 number of the office for ``year`` (gap-free counter, caller's transaction)."""
    from subsidence.ledger import numbering

    numbering.SERIES.setdefault(SERIES, (OFFICE_CODE, "工作报告"))  # until the ledger registers the series
    seq = numbering.allocate_seq(session, SERIES, authority, year)
    return doc_number(numbering.SERIES[SERIES][0], year, seq)


# ------------------------------------------------------------------------------------------ text


def _n(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and not float(v).is_integer():
        return f"{v:,.{digits}f}"
    return f"{int(v):,}"


def _wan(yuan: float) -> str:
    """元 → 万元 with two decimals."""
    return f"{yuan / 10000:,.2f}"


def _summary(rep: UpwardReport) -> list[Para]:
    m = rep.metric
    t = rep.progress.total
    found, conf, treat = m("area_found"), m("area_confirmed"), m("area_treated")
    paras = [
        Para(
            f"截至{date_cn(rep.end)}，全旗累计发现采煤沉陷区{_n(found.cumulative)}公顷（{_n(found.extra['cumulative_mu'], 1)}亩），"
            f"经专家确认{_n(conf.cumulative)}公顷（{_n(conf.extra['cumulative_mu'], 1)}亩），已治理{_n(treat.cumulative)}公顷"
            f"（{_n(treat.extra['cumulative_mu'], 1)}亩）；本期新增确认{_n(conf.period)}公顷，新增治理{_n(treat.period)}公顷。",
            label="（一）沉陷区底数。",
        ),
        Para(
            f"问题台账累计登记问题{t.found}个，已验收销号{t.accepted}个（销号率{t.accepted_pct}%），正在整改{t.rectifying}个，"
            f"待验收{t.submitted}个，逾期未整改{t.overdue}个。本期新发现问题{m('problems_found').period}个，"
            f"下达限期整改通知书{m('notices').period}份（累计{m('notices').cumulative}份），组织验收{m('acceptances').period}次"
            f"（累计{m('acceptances').cumulative}次，通过{m('acceptances').extra.get('passed_cumulative', 0)}次），"
            f"逾期督办{m('escalations').period}次。",
            label="（二）问题整改。",
        ),
        Para(
            f"矿山地质环境治理恢复基金本期计提{_wan(m('fund_accrued').period)}万元、使用{_wan(m('fund_used').period)}万元，"
            f"累计计提{_wan(m('fund_accrued').cumulative)}万元、使用{_wan(m('fund_used').cumulative)}万元。"
            f"已补偿建（构）筑物{m('buildings_demolished').extra['total']}处，累计拆除{m('buildings_demolished').cumulative}处"
            f"（本期{m('buildings_demolished').period}处）。应编制保水开采方案{m('water_plans').extra['required']}个，"
            f"已批复{m('water_plans').cumulative}个。隐蔽致灾因素{m('hidden_factor_plans').extra['factors']}项，"
            f"整改方案审查通过{m('hidden_factor_plans').cumulative}个。",
            label="（三）重点任务。",
        ),
        Para(
            f"登记地质灾害隐患点{m('hazard_points').cumulative}处，威胁{m('hazard_points').extra['households']}户"
            f"{m('hazard_points').extra['people']}人；累计发放明白卡{m('cards').cumulative}张（本期{m('cards').period}张），"
            f"住户签收{m('cards').extra['received_cumulative']}份。本期监测预警{m('alarms').period}次，"
            f"期末尚未解除{m('alarms').extra['open_at_end']}次。",
            label="（四）监测预警。",
        ),
    ]
    return paras


def _changes_text(rep: UpwardReport) -> Para:
    if not rep.changes:
        return Para(
            f"与上期报告（截至{date_cn(rep.start.fromordinal(rep.start.toordinal() - 1))}）相比，"
            "台账问题的数量和状态均无变化。"
        )
    counts: dict[str, int] = defaultdict(int)
    for c in rep.changes:
        counts[c.what.split("（")[0]] += 1
    parts = "，".join(f"{k}{v}个" for k, v in counts.items())
    return Para(
        f"与上期报告（截至{date_cn(rep.start.fromordinal(rep.start.toordinal() - 1))}）相比，本期{parts}"
        f"（明细见附件3）。"
    )


def _overdue_by_unit(rep: UpwardReport) -> list[list[Any]]:
    rows: list[list[Any]] = []
    groups: dict[str, list[Any]] = defaultdict(list)
    for o in rep.progress.overdue:
        groups[o.lead_unit or "（未指定）"].append(o)
    for unit in sorted(groups, key=lambda u: (-len(groups[u]), u)):
        for o in groups[unit]:
            rows.append(
                [
                    unit,
                    o.code,
                    zh_text(o.title),
                    o.mine or "—",
                    o.town or "—",
                    date_cn(o.deadline) if o.deadline else "",
                    o.workdays_overdue,
                ]
            )
    return rows


def _metric_rows(rep: UpwardReport) -> list[list[Any]]:
    rows = []
    for m in rep.metrics:
        if m.unit == "公顷":
            rows.append(
                [
                    m.label,
                    "公顷（亩）",
                    f"{_n(m.period)}（{_n(m.extra['period_mu'], 1)}）",
                    f"{_n(m.cumulative)}（{_n(m.extra['cumulative_mu'], 1)}）",
                ]
            )
        elif m.unit == "元":
            rows.append([m.label, "万元", _wan(m.period), _wan(m.cumulative)])
        else:
            rows.append([m.label, m.unit, _n(m.period), _n(m.cumulative)])
    return rows


def _task_rows(rep: UpwardReport) -> list[list[Any]]:
    rows = [[f"{r.key}. {r.label_zh}", *[getattr(r.counts, k) for k in COUNT_KEYS]] for r in rep.progress.by_task]
    rows.append(["合计", *[getattr(rep.progress.total, k) for k in COUNT_KEYS]])
    return rows


def _plan_rows(rows: list[dict]) -> list[list[Any]]:
    out = [
        [
            r["name"],
            round(r["planned_ha"], 2),
            round(r["achieved_ha"], 2),
            round(r["gap_ha"], 2),
            "—" if r["ratio"] is None else f"{100 * r['ratio']:.0f}%",
            round(r["budget_yuan"] / 10000, 2),
            round(r["spent_yuan"] / 10000, 2),
            "按期" if r["on_time"] else "滞后",
        ]
        for r in rows
    ]
    if rows:
        planned = sum(r["planned_ha"] for r in rows)
        achieved = sum(r["achieved_ha"] for r in rows)
        out.append(
            [
                "合计",
                round(planned, 2),
                round(achieved, 2),
                round(planned - achieved, 2),
                f"{100 * achieved / planned:.0f}%" if planned else "—",
                round(sum(r["budget_yuan"] for r in rows) / 10000, 2),
                round(sum(r["spent_yuan"] for r in rows) / 10000, 2),
                "",
            ]
        )
    return out


PLAN_HEADERS = [
    "名称",
    "计划面积（公顷）",
    "完成面积（公顷）",
    "差额（公顷）",
    "完成率",
    "预算（万元）",
    "投入（万元）",
    "进度",
]
OVERDUE_HEADERS = ["责任单位", "问题编号", "问题", "矿山", "镇", "整改期限", "逾期（工作日）"]
CHANGE_HEADERS = ["问题编号", "问题", "牵头单位", "变化", "上期状态", "本期状态", "日期"]


def _charts(rep: UpwardReport) -> list[Figure]:
    from subsidence.render.charts import grouped_bars_png
    from subsidence.reports.progress import progress_chart_png

    figs = [Figure(progress_chart_png(rep.progress.by_task), "图1　分任务问题整改情况", 150)]
    if rep.plan_by_mine:
        figs.append(
            Figure(
                grouped_bars_png(
                    [r["name"] for r in rep.plan_by_mine],
                    [
                        ("计划面积", "#90a4ae", [r["planned_ha"] for r in rep.plan_by_mine]),
                        ("完成面积", "#2e7d32", [r["achieved_ha"] for r in rep.plan_by_mine]),
                    ],
                    unit="公顷",
                ),
                f"图2　{rep.end.year}年度治理计划完成情况（按矿山）",
                150,
            )
        )
    return figs


def document(rep: UpwardReport) -> OfficialDocument:
    """The report as an :class:`OfficialDocument` (上行文)."""
    figs = _charts(rep)
    overdue_rows = _overdue_by_unit(rep)
    units = sorted({r[0] for r in overdue_rows})
    body: list[Any] = [
        Para(f"现将{date_cn(rep.start)}至{date_cn(rep.end)}全旗采煤沉陷区综合治理工作进展情况报告如下："),
        Heading("一、总体进展"),
        *_summary(rep),
        Table(
            ["指标", "单位", "本期", "累计"],
            _metric_rows(rep),
            widths=[46, 18, 18, 18],
            font_pt=10.5,
            caption="表1　核心指标",
            numeric=(2, 3),
        ),
        Heading("二、分任务整改情况"),
        figs[0],
        Table(
            COUNT_HEADERS,
            _task_rows(rep),
            widths=[34, 9, 10, 9, 9, 9, 11, 9],
            font_pt=10.5,
            caption="表2　分任务问题整改情况",
            total_row=True,
        ),
        Heading("三、本期变化"),
        _changes_text(rep),
        Heading("四、逾期未整改问题"),
        Para(
            f"截至{date_cn(rep.end)}，逾期未整改问题{len(overdue_rows)}个，涉及{len(units)}个责任单位"
            + (f"：{'、'.join(units)}" if units else "")
            + "（清单见附件2）。领导小组办公室已按规定督办，"
            "请各责任单位于收到督办通知后按期报送整改进展。"
            if overdue_rows
            else "本期无逾期未整改问题。"
        ),
        Heading("五、年度计划完成情况"),
    ]
    if rep.plan_by_mine:
        planned = sum(r["planned_ha"] for r in rep.plan_by_mine)
        achieved = sum(r["achieved_ha"] for r in rep.plan_by_mine)
        late = [r["name"] for r in rep.plan_by_mine if not r["on_time"]]
        body.append(
            Para(
                f"{rep.end.year}年度计划治理和复垦{_n(round(planned, 2))}公顷，已完成{_n(round(achieved, 2))}公顷"
                f"（{(100 * achieved / planned) if planned else 0:.0f}%）"
                + (f"；进度滞后的矿山：{'、'.join(late)}" if late else "")
                + "（分矿山、分镇情况见附件4）。"
            )
        )
        if len(figs) > 1:
            body.append(figs[1])
    else:
        body.append(Para(f"{rep.end.year}年度尚未录入年度治理计划。"))
    body += [
        Heading("六、下一步工作"),
        Para(
            "督促逾期问题的责任单位和矿山企业加快整改，对逾期问题持续督办；按期组织验收销号；"
            "推进年度治理和复垦计划，落实治理恢复基金的计提和使用；做好汛期地质灾害监测预警和明白卡发放签收。"
        ),
        Para("特此报告。"),
    ]
    attachments = [
        Attachment(
            "核心指标统计表",
            [Table(["指标", "单位", "本期", "累计"], _metric_rows(rep), widths=[46, 18, 18, 18], numeric=(2, 3))],
        ),
        Attachment(
            "逾期未整改问题清单（按责任单位）",
            [Table(OVERDUE_HEADERS, overdue_rows, widths=[22, 20, 60, 24, 16, 22, 14], font_pt=10.5, nowrap=(1, 5))]
            if overdue_rows
            else [Para("无。")],
            landscape=True,
        ),
        Attachment(
            "本期变化明细",
            [
                Table(
                    CHANGE_HEADERS,
                    [
                        [c.code, zh_text(c.title), c.lead_unit, c.what, c.before or "—", c.after, date_cn(c.on)]
                        for c in rep.changes
                    ],
                    widths=[20, 62, 22, 16, 16, 16, 18],
                    font_pt=10.5,
                    nowrap=(0, 6),
                )
            ]
            if rep.changes
            else [Para("本期无变化。")],
            landscape=True,
        ),
        Attachment(
            f"{rep.end.year}年度治理计划完成情况",
            [
                Table(
                    PLAN_HEADERS,
                    _plan_rows(rep.plan_by_mine),
                    caption="（一）按矿山",
                    total_row=True,
                    widths=[30, 14, 14, 12, 10, 12, 12, 8],
                ),
                Table(
                    PLAN_HEADERS,
                    _plan_rows(rep.plan_by_town),
                    caption="（二）按镇",
                    total_row=True,
                    widths=[30, 14, 14, 12, 10, 12, 12, 8],
                ),
            ]
            if rep.plan_by_mine
            else [Para("未录入年度计划。")],
            landscape=True,
        ),
    ]
    office = rep.issuer or OFFICE
    return OfficialDocument(
        authority=office,
        number=rep.number or f"{OFFICE_CODE}〔{rep.end.year}〕　号",
        title=TITLE,
        recipient=RECIPIENT,
        body=body,
        issued=rep.end,
        attachments=attachments,
        signer=rep.signer,
        note="联系人：领导小组办公室综合组；联系电话：见通讯录",
        cc=rep.cc,
        printer=office,
        illustrative=rep.illustrative,
        meta={"subject": f"工作上报 {rep.start.isoformat()}—{rep.end.isoformat()}"},
    )


def render_pdf(rep: UpwardReport, path: Path | str | None = None) -> bytes:
    from subsidence.render.gongwen import render_pdf as pdf

    return pdf(document(rep), path)


def render_docx(rep: UpwardReport, path: Path | str | None = None) -> bytes:
    from subsidence.render.gongwen import render_docx as docx

    return docx(document(rep), path)


def _cell(v: float | None, unit: str) -> float | None:
    """A metric as the workbook stores it: 元 as 万元, every float to two decimals."""
    if v is None:
        return None
    v = v / 10000 if unit == "元" else v
    return round(float(v), 2) if isinstance(v, float) or unit == "元" else v


def render_xlsx(rep: UpwardReport, path: Path | str) -> Path:
    """The tables behind the report, one sheet each, with print setup (landscape, fit to width, header rows)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from subsidence.io.excel import print_setup, save_deterministic

    sheets = [
        (
            "核心指标",
            ["指标", "单位", "本期", "累计"],
            [30, 12, 22, 22],
            [
                [m.label, "万元" if m.unit == "元" else m.unit, _cell(m.period, m.unit), _cell(m.cumulative, m.unit)]
                for m in rep.metrics
            ]
            + [
                [m.label + "（亩）", "亩", m.extra["period_mu"], m.extra["cumulative_mu"]]
                for m in rep.metrics
                if m.unit == "公顷"
            ],
        ),
        ("分任务", COUNT_HEADERS, [34] + [11] * 7, _task_rows(rep)),
        ("逾期清单", OVERDUE_HEADERS, [24, 18, 50, 22, 14, 16, 14], _overdue_by_unit(rep)),
        (
            "本期变化",
            CHANGE_HEADERS,
            [18, 50, 22, 14, 12, 12, 14],
            [[c.code, zh_text(c.title), c.lead_unit, c.what, c.before, c.after, c.on] for c in rep.changes],
        ),
        ("计划完成（矿山）", PLAN_HEADERS, [28, 14, 14, 12, 10, 12, 12, 8], _plan_rows(rep.plan_by_mine)),
        ("计划完成（镇）", PLAN_HEADERS, [28, 14, 14, 12, 10, 12, 12, 8], _plan_rows(rep.plan_by_town)),
    ]
    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for name, header, widths, rows in sheets:
        ws = wb.create_sheet(name)
        ws.cell(row=1, column=1, value=f"{TITLE}（{date_cn(rep.start)}至{date_cn(rep.end)}）——{name}").font = Font(
            bold=True, size=13
        )
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        for j, (h, w) in enumerate(zip(header, widths), start=1):
            c = ws.cell(row=2, column=j, value=h)
            c.font, c.border = Font(bold=True), border
            c.fill = PatternFill("solid", fgColor="DDEBF7")
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            ws.column_dimensions[get_column_letter(j)].width = w
        for i, r in enumerate(rows, start=3):
            for j, v in enumerate(r, start=1):
                c = ws.cell(row=i, column=j, value=v)
                c.border = border
                if isinstance(v, float):
                    c.number_format = "#,##0.00"
                c.alignment = Alignment(vertical="top", wrap_text=isinstance(v, str) and len(v) > 12)
        ws.freeze_panes = "A3"
        print_setup(ws, header_row=2, ncol=len(header), nrows=len(rows), total_width=sum(widths))
    return save_deterministic(wb, path)
