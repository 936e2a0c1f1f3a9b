"""Documents of the task ledgers: the fund's 31 December annual report per mine (PDF + xlsx) and the annual
assessment's ranking with the praise and exposure lists (表扬/曝光) ready to publish (PDF + DOCX + xlsx).

Inputs are the plain dicts of the services (``fund.year_summary``, ``assessment.ranking``), so the documents
regenerate identically from the same data.
"""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path
from typing import Any

ISSUER = "伊金霍洛旗采煤沉陷区专项整治领导小组办公室"


def _yuan(fen: int | None) -> str:
    from subsidence.tasks.fund import format_yuan

    return "—" if fen is None else format_yuan(fen)


def date_cn(d: date | str | None) -> str:
    from subsidence.render.gongwen import date_cn as _cn

    return _cn(d)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


#: the fund coefficients' table keys in Chinese (the tables are keyed in English in tasks.fund)
_KEY_ZH = {"coal": "煤炭", "default": "默认值", "non_coal": "非煤矿山"}


def _coeff_key_zh(factor: str, key: str) -> str:
    from subsidence.vocabulary import LandType, MiningMethod

    enum = {"mining_method": MiningMethod, "land_type": LandType}.get(factor)
    if enum is not None:
        try:
            return enum(key).label()
        except ValueError:
            pass
    return _KEY_ZH.get(key, key)


def _source_zh(source: str) -> str:
    """The basis of a coefficient as printed: never the developers' notes (file paths, "[verify]")."""
    text = str(source or "")
    if "placeholder" in text:
        return "暂按1.0计（待录入公布值）"
    if "Ordos" in text:
        return "鄂尔多斯市矿山地质环境治理恢复基金计提规定（2025年）" + ("（取值待核实）" if "verify" in text else "")
    return text.split(" / ")[0] if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "按方案核定"


STYLE = """<style>
@page wide { size: A4 landscape; margin: 15mm 15mm 15mm 15mm; }
.wide { page: wide; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
table.tight th, table.tight td { font-size: 8pt; padding: 0.8mm 1mm; }
td.nowrap, th.nowrap { white-space: nowrap; }
</style>"""


def _table(
    header: list[str],
    rows: list[list[Any]],
    *,
    cls: str = "",
    nowrap: tuple[int, ...] = (),
    widths: tuple[float, ...] = (),
) -> str:
    def cell(tag: str, j: int, v: Any) -> str:
        c = ' class="nowrap"' if j in nowrap else ""
        return f"<{tag}{c}>{escape('' if v is None else str(v))}</{tag}>"

    head = "".join(cell("th", j, h) for j, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", j, v) for j, v in enumerate(r)) + "</tr>" for r in rows)
    cols = ("<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>") if widths else ""
    fixed = ' style="table-layout: fixed"' if widths else ""
    return f'<table class="{cls}"{fixed}>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ------------------------------------------------------------------------------------------ fund report


def fund_report_html(s: dict[str, Any], issued: date) -> str:
    ob = s.get("obligation") or {}
    coeffs = ob.get("coefficients") or {}
    from subsidence.tasks.fund import FACTOR_LABELS

    coeff_rows = [
        [FACTOR_LABELS[f][0], _coeff_key_zh(f, c["key"]), c["value"], _source_zh(c["source"])]
        for f, c in coeffs.items()
    ]
    entries = [
        [
            e["date"],
            e["code"],
            e["kind_zh"],
            _yuan(e["amount_fen"]),
            e["problem"] or "",
            e["works"] or "",
            e["reference"] or "",
        ]
        for e in s["entries"]
    ]
    summary = [
        ["年初余额", _yuan(s["opening_fen"])],
        ["本年计提存入", _yuan(s["deposits_fen"])],
        ["其中：计入本年度的计提", _yuan(s["deposits_counted_for_year_fen"])],
        ["本年治理支出", _yuan(s["spending_fen"])],
        ["其他支取", _yuan(s["withdrawals_fen"])],
        ["年末余额", _yuan(s["closing_fen"])],
        ["本年应计提", _yuan(s["required_fen"])],
        ["计提完成率", _pct(s["accrual_ratio"])],
        ["基金使用率", _pct(s["utilisation"])],
    ]
    by_problem = [[k, _yuan(v)] for k, v in sorted(s["spending_by_problem_fen"].items())]
    cn = date_cn(issued)
    entries = [[date_cn(e[0]), *e[1:]] for e in entries]
    output = ob.get("output_t")
    try:
        output_text = f"{float(output):,.0f}"
    except (TypeError, ValueError):
        output_text = "—"
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{s["year"]}年度矿山地质环境治理恢复基金计提使用情况报告</title>{STYLE}</head><body>
<h1>{escape(s["mine_name"])}<br>{s["year"]}年度矿山地质环境治理恢复基金计提使用情况报告</h1>
<p class="doc-no">采矿许可证号：{escape(s["mine"])}　基金账户：{escape(s["account"])}　报告日期：{cn}</p>
<h2>一、基金收支概况（单位：元）</h2>{_table(["项目", "金额"], summary, nowrap=(1,))}
<h2>二、应计提额核定</h2>
<p>本年应计提额按上年度原煤产量和各项系数核定，且不低于矿山地质环境保护与土地复垦方案的要求：上年度原煤产量{escape(output_text)}吨，
按系数计算{_yuan(ob.get("formula_fen"))}元，方案要求{_yuan(ob.get("plan_required_fen"))}元。</p>
{_table(["系数", "档位", "取值", "依据"], coeff_rows, nowrap=(0, 2)) if coeff_rows else "<p>本年度尚未核定应计提额。</p>"}
<h2>三、治理支出去向（单位：元）</h2>
{_table(["问题编号或治理工程", "金额"], by_problem, nowrap=(1,)) if by_problem else "<p>本年度无治理支出。</p>"}
<h2>四、收支明细</h2>
{_table(["日期", "凭证号", "类型", "金额（元）", "问题编号", "治理工程", "凭证或批文"], entries, cls="tight", nowrap=(0, 3)) if entries else "<p>本年度无收支。</p>"}
<p class="sign">{ISSUER}<br>{cn}</p>
</body></html>"""


def fund_report_pdf(s: dict[str, Any], out: Path | str, issued: date) -> bytes:
    from subsidence.render.pdf import html_to_pdf

    return html_to_pdf(fund_report_html(s, issued), Path(out))


def fund_report_xlsx(s: dict[str, Any], out: Path | str) -> Path:
    from subsidence.io.excel import Column, write_table

    cols = [
        Column("日期", 12, "date"),
        Column("凭证号", 22),
        Column("类型", 10),
        Column("金额(元)", 16),
        Column("计入年度", 10),
        Column("问题编号", 16),
        Column("治理工程", 28, wrap=True),
        Column("凭证/批文", 20),
        Column("备注", 20, wrap=True),
    ]
    rows = [
        [
            date.fromisoformat(e["date"]),
            e["code"],
            e["kind_zh"],
            float(e["signed_fen"]) / 100,
            e["year"],
            e["problem"],
            e["works"],
            e["reference"],
            e["note"],
        ]
        for e in s["entries"]
    ]
    subtitle = (
        f"年初余额 {_yuan(s['opening_fen'])} 元；存入 {_yuan(s['deposits_fen'])} 元；支出 {_yuan(s['spending_fen'])} 元；"
        f"支取 {_yuan(s['withdrawals_fen'])} 元；年末余额 {_yuan(s['closing_fen'])} 元；应计提 {_yuan(s['required_fen'])} 元"
    )
    return write_table(
        out,
        cols,
        rows,
        sheet_title="基金收支明细",
        title=f"{s['mine_name']}（{s['mine']}）{s['year']}年度治理恢复基金收支明细",
        subtitle=subtitle,
    )


# ------------------------------------------------------------------------------------------ assessment


def _listing_rows(rank: list[dict[str, Any]], listing: str) -> list[list[Any]]:
    return [
        [
            r["rank"],
            r["mine_name"],
            r["mine"],
            r["enterprise"] or "",
            f"{r['score']:.2f}",
            "；".join(
                f"{i['zh']}：{i['basis']}"
                for i in r["indicators"]
                if i["sub_score"] is not None and (i["sub_score"] < 1 if listing == "exposure" else True)
            ),
        ]
        for r in rank
        if r["listing"] == listing
    ]


#: column widths (%) of the praise / exposure lists: the situation text gets the room
LIST_WIDTHS = (5.0, 14.0, 22.0, 14.0, 7.0, 38.0)


def assessment_html(year: int, rank: list[dict[str, Any]], issued: date) -> str:
    header = ["名次", "矿山", "采矿许可证号", "企业", "得分", "主要情况"]
    praise, expose = _listing_rows(rank, "praise"), _listing_rows(rank, "exposure")
    keys = [(i["key"], i["zh"]) for i in (rank[0]["indicators"] if rank else [])]
    full = [
        [r["rank"], r["mine_name"], f"{r['score']:.2f}"]
        + [
            next(
                (f"{i['contribution']:.1f}" if i["sub_score"] is not None else "不适用")
                for i in r["indicators"]
                if i["key"] == k
            )
            for k, _ in keys
        ]
        for r in rank
    ]
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{year}年度评估</title>{STYLE}</head><body>
<h1>{year}年度矿山地质环境治理评估结果<br>表扬和曝光名单</h1>
<p class="doc-no">{ISSUER}　{date_cn(issued)}</p>
<h2>一、表扬名单（治理成效突出）</h2>
{_table(header, praise, nowrap=(0, 4), widths=LIST_WIDTHS, cls="tight") if praise else "<p>本年度无。</p>"}
<h2>二、曝光名单（治理不到位）</h2>
{_table(header, expose, nowrap=(0, 4), widths=LIST_WIDTHS, cls="tight") if expose else "<p>本年度无。</p>"}
<div class="wide">
<h2>三、评估得分及各项指标贡献</h2>
{_table(["名次", "矿山", "总分"] + [zh for _, zh in keys], full, cls="tight", nowrap=(0, 2))}
<p>评分方法：各项指标得分（0–1）按权重加权，不适用的指标不计入，其权重由其余指标分摊；总分 100 分。</p>
</div>
</body></html>"""


def assessment_pdf(year: int, rank: list[dict[str, Any]], out: Path | str, issued: date) -> bytes:
    from subsidence.render.pdf import html_to_pdf

    return html_to_pdf(assessment_html(year, rank, issued), Path(out))


def assessment_docx(year: int, rank: list[dict[str, Any]], out: Path | str, issued: date) -> bytes:
    from subsidence.reports.notice import cjk_paragraph, cjk_table, new_docx, save_docx

    doc = new_docx(f"{year}年度矿山地质环境治理评估 表扬和曝光名单", author=ISSUER, when=issued)
    cjk_paragraph(doc, f"{year}年度矿山地质环境治理评估结果", bold=True, size=18, align="center")
    cjk_paragraph(doc, "表扬和曝光名单", bold=True, size=16, align="center")
    header = ["名次", "矿山", "采矿许可证号", "企业", "得分", "主要情况"]
    for title, listing in (("一、表扬名单", "praise"), ("二、曝光名单", "exposure")):
        cjk_paragraph(doc, title, bold=True, size=14)
        rows = _listing_rows(rank, listing)
        if rows:
            cjk_table(doc, header, rows, widths_mm=[12, 30, 30, 30, 14, 60])
        else:
            cjk_paragraph(doc, "本年度无。")
    cjk_paragraph(doc, f"{ISSUER}　{date_cn(issued)}", align="right")
    return save_docx(doc, Path(out))


def assessment_xlsx(year: int, rank: list[dict[str, Any]], out: Path | str) -> Path:
    from subsidence.io.excel import Column, write_table

    keys = [(i["key"], i["zh"]) for i in (rank[0]["indicators"] if rank else [])]
    cols = [Column("名次", 6), Column("矿山", 22), Column("采矿许可证号", 22), Column("得分", 8), Column("名单", 8)]
    cols += [Column(f"{zh}（贡献分）", 14) for _, zh in keys] + [Column("依据", 60, wrap=True)]
    label = {"praise": "表扬", "exposure": "曝光", None: ""}
    rows = []
    for r in rank:
        contrib = [
            next((i["contribution"] if i["sub_score"] is not None else None) for i in r["indicators"] if i["key"] == k)
            for k, _ in keys
        ]
        rows.append(
            [
                r["rank"],
                r["mine_name"],
                r["mine"],
                r["score"],
                label[r["listing"]],
                *contrib,
                "；".join(f"{i['zh']}：{i['basis']}" for i in r["indicators"]),
            ]
        )
    return write_table(out, cols, rows, sheet_title=f"{year}年度评估", title=f"{year}年度矿山地质环境治理评估得分")
