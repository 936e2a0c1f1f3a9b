"""``subsidence fund``: the restoration fund (矿山地质环境治理恢复基金, task 2) — accounts, entries, checks, report.

Every command prints a short human line, or the full result with ``--json``; a refused operation exits
non-zero with the reason and changes nothing (the rules live in :mod:`subsidence.tasks`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import emit_json, fail
from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import JSON, MINE, YEAR
from subsidence.cli.options import parse_date as _date
from subsidence.cli.options import say as _out
from subsidence.cli.options import today_or as _today

CODE = typer.Argument(..., help="Code of the record (entry, building, plan, inspector, item or draw).")


def _mine(s, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


fund_app = typer.Typer(help="Restoration fund (矿山地质环境治理恢复基金, task 2).", no_args_is_help=True)


# ------------------------------------------------------------------------------------------ fund


@fund_app.command("coefficients")
def fund_coefficients(as_json: bool = JSON) -> None:
    """List the coefficient table (subsidence/data/fund_coefficients.csv) with sources."""
    from subsidence.tasks.fund import coefficient_table

    t = coefficient_table()
    rows = [c.as_dict() for c in t.rows.values()]
    if as_json:
        emit_json({"file": t.path, "coefficients": rows})
        return
    for r in rows:
        typer.echo(f"{r['factor']:<14} {r['key']:<26} {r['value']:>5}  {r['label_zh']}  [{r['source']}]")


@fund_app.command("formula")
def fund_formula(
    output_t: str = typer.Option(..., "--output-t", help="Last year's output, tonnes."),
    method: str = typer.Option("underground_subsidence", "--method", help="Mining-method key."),
    land_type: str = typer.Option("other", "--land-type", help="cropland|forest|grassland|other"),
    region: str = typer.Option("default", "--region"),
    price: str = typer.Option("default", "--price"),
    plan_required: Optional[str] = typer.Option(None, "--plan-required", help="Yuan the plan requires."),
    as_json: bool = JSON,
) -> None:
    """Compute the Ordos accrual without touching the database (e.g. 10 Mt → 66,000,000 yuan)."""
    from subsidence.errors import ServiceError
    from subsidence.tasks import fund

    try:
        t = fund.coefficient_table()
        factors = [
            t.get("category_base", "coal"),
            t.get("mining_method", method),
            t.get("land_type", land_type),
            t.get("regional", region),
            t.get("coal_price", price),
        ]
        plan = fund.parse_yuan(plan_required, field_name="--plan-required") if plan_required else 0
        acc = fund.annual_accrual(output_t, factors, plan)
    except ServiceError as exc:
        fail(exc.message)
    _out(
        acc.as_dict(),
        as_json,
        f"required accrual {fund.format_yuan(acc.required_fen)} yuan/yr "
        f"(formula {fund.format_yuan(acc.formula_fen)}{', plan governs' if acc.plan_governs else ''})",
    )


@fund_app.command("open")
def fund_open(
    mine: str = typer.Argument(..., help="Licence number or name."),
    land_type: str = typer.Option("other", "--land-type"),
    region: str = typer.Option("default", "--region"),
    method_key: Optional[str] = typer.Option(None, "--method-key", help="Override, e.g. surface_high."),
    bank_account: Optional[str] = typer.Option(None, "--bank-account"),
    opened: Optional[str] = typer.Option(None, "--opened"),
    as_json: bool = JSON,
) -> None:
    """Open the mine's fund account."""
    from subsidence.tasks import fund

    with _session("开立基金账户") as s:
        a = fund.open_account(
            s,
            _mine(s, mine),
            land_type=land_type,
            region_key=region,
            method_key=method_key,
            bank_account=bank_account,
            opened=_date(opened, "--opened"),
        )
        _out({"account": a.code}, as_json, f"opened fund account {a.code}")


@fund_app.command("accrue")
def fund_accrue(
    mine: str = MINE,
    year: int = YEAR,
    output_t: str = typer.Option(..., "--output-t", help="Year-1 output, t."),
    price: str = typer.Option("default", "--price"),
    plan_required: Optional[str] = typer.Option(None, "--plan-required", help="Yuan; default from plans."),
    as_json: bool = JSON,
) -> None:
    """Compute and store the required accrual of MINE for YEAR."""
    from subsidence.tasks import fund

    with _session(f"核定{year}年度应计提额") as s:
        plan = fund.parse_yuan(plan_required, field_name="--plan-required") if plan_required else None
        ob = fund.compute_obligation(s, _mine(s, mine), year, output_t, price_key=price, plan_required_fen=plan)
        out = {
            "year": year,
            "output_t": str(ob.output_t),
            "coefficients": ob.coefficients,
            "formula_fen": ob.formula_fen,
            "plan_required_fen": ob.plan_required_fen,
            "required_fen": ob.required_fen,
            "required_yuan": fund.format_yuan(ob.required_fen),
        }
        _out(out, as_json, f"{year}: required accrual {fund.format_yuan(ob.required_fen)} yuan")


def _entry_cmd(kind: str, help_text: str):
    def cmd(
        mine: str = MINE,
        amount: str = typer.Argument(..., help="Yuan, > 0, at most 2 decimals."),
        on: str = typer.Option(..., "--date", help="Entry date YYYY-MM-DD."),
        year: Optional[int] = typer.Option(None, "--year", help="Accrual year a deposit counts for."),
        problem: Optional[str] = typer.Option(None, "--problem", help="Ledger problem code (spending)."),
        works: Optional[str] = typer.Option(None, "--works", help="Works paid for."),
        reference: Optional[str] = typer.Option(None, "--reference", help="Voucher / approval."),
        note: Optional[str] = typer.Option(None, "--note"),
        as_json: bool = JSON,
    ) -> None:
        from sqlalchemy import select

        from subsidence.errors import NotFound
        from subsidence.ledger.models import Problem
        from subsidence.tasks import fund

        with _session(help_text) as s:
            p = None
            if problem:
                p = s.scalar(select(Problem).where(Problem.code == problem))
                if p is None:
                    raise NotFound(f"problem {problem!r} not found")
            m = _mine(s, mine)
            e = fund.add_entry(
                s,
                m,
                kind,
                fund.parse_yuan(amount),
                _date(on, "--date"),
                year=year,
                problem=p,
                works=works,
                reference=reference,
                note=note,
            )
            bal = fund.balance_fen(s, m)
            _out(
                {"entry": e.code, "balance_fen": bal},
                as_json,
                f"{e.code}: {e.kind.label()} {fund.format_yuan(e.amount_fen)} yuan; balance {fund.format_yuan(bal)}",
            )

    cmd.__doc__ = help_text
    return cmd


fund_app.command("deposit")(_entry_cmd("deposit", "Record a deposit (计提存入) into the fund."))
fund_app.command("spend")(_entry_cmd("spending", "Record treatment spending (治理支出) linked to a problem or works."))
fund_app.command("withdraw")(_entry_cmd("withdrawal", "Record another withdrawal (其他支取)."))


@fund_app.command("reverse")
def fund_reverse(
    code: str = CODE,
    reason: str = typer.Option(..., "--reason"),
    on: str = typer.Option(..., "--date"),
    as_json: bool = JSON,
) -> None:
    """Reverse (冲正) an entry with a new entry; the original stays."""
    from subsidence.tasks import fund

    with _session(reason) as s:
        e = fund.reverse_entry(s, code, _date(on, "--date"), reason)
        _out({"entry": e.code, "reverses": code}, as_json, f"{e.code} reverses {code}")


@fund_app.command("summary")
def fund_summary(mine: str = MINE, year: int = YEAR, as_json: bool = JSON) -> None:
    """Balance, deposits, spending, required accrual, accrual ratio and utilisation for YEAR."""
    from subsidence.tasks import fund

    with _session() as s:
        out = fund.year_summary(s, _mine(s, mine), year)
        _out(
            out,
            as_json,
            f"{out['mine_name']} {year}: closing {fund.format_yuan(out['closing_fen'])} yuan, "
            f"accrual ratio {out['accrual_ratio']}, utilisation {out['utilisation']}",
        )


@fund_app.command("check")
def fund_check(
    today: Optional[str] = typer.Option(None, "--today"),
    sync: bool = typer.Option(False, "--open-problems", help="Open the category-2 problems (once)."),
    as_json: bool = JSON,
) -> None:
    """Findings for every mine: under-accrued, unused against open problems."""
    from sqlalchemy import select

    from subsidence.core.models import Mine
    from subsidence.tasks import fund

    day = _today(today)
    with _session("基金检查") as s:
        found = [
            f.as_dict()
            for m in s.scalars(select(Mine).order_by(Mine.licence_no))
            for f in fund.fund_findings(s, m, day)
        ]
        opened = [(p.code, c) for p, c in fund.sync_fund_problems(s, day)] if sync else []
        _out(
            {"today": day.isoformat(), "findings": found, "problems": [{"code": c, "created": n} for c, n in opened]},
            as_json,
            "\n".join(f["message"] for f in found) or "no findings",
        )


@fund_app.command("report")
def fund_report(
    mine: str = MINE,
    year: int = YEAR,
    out: Path = typer.Option(Path("."), "--out", help="Output folder."),
    issued: Optional[str] = typer.Option(None, "--date"),
    as_json: bool = JSON,
) -> None:
    """The 31 December annual report of MINE for YEAR: PDF and xlsx."""
    from subsidence.reports.tasks import fund_report_pdf, fund_report_xlsx
    from subsidence.tasks import fund

    with _session() as s:
        summ = fund.year_summary(s, _mine(s, mine), year)
    day = _date(issued, "--date") or date(year, 12, 31)
    stem = out / f"fund-{summ['mine']}-{year}"
    fund_report_pdf(summ, stem.with_suffix(".pdf"), day)
    fund_report_xlsx(summ, stem.with_suffix(".xlsx"))
    _out(
        {"pdf": str(stem.with_suffix(".pdf")), "xlsx": str(stem.with_suffix(".xlsx"))},
        as_json,
        f"wrote {stem}.pdf and {stem}.xlsx",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(fund_app, name="fund")
