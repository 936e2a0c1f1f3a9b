"""``subsidence fund|buildings|water|minehazards|draw|assess``: the task ledgers, scriptable.

Every command prints a short human line, or the full result with ``--json``. Rules live in the services;
a refused operation exits non-zero with the reason and changes nothing.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import List, Optional

import typer

from subsidence.cli._common import emit_json, fail, unit_of_work as _session

JSON = typer.Option(False, "--json", help="Machine-readable output.")
MINE = typer.Argument(..., help="Mine: licence number (采矿许可证号) or name.")
YEAR = typer.Argument(..., help="Year, e.g. 2025.")
CODE = typer.Argument(..., help="Code of the record (entry, building, plan, inspector, item or draw).")

fund_app = typer.Typer(help="Restoration fund (矿山地质环境治理恢复基金, task 2).", no_args_is_help=True)
buildings_app = typer.Typer(help="Compensated buildings ledger (已补偿搬迁建筑物, task 4).", no_args_is_help=True)
water_app = typer.Typer(help="Water-preserving mining plans and declining wells (保水开采, task 5).",
                        no_args_is_help=True)
mh_app = typer.Typer(help="Mine hidden disaster-causing factors (隐蔽致灾因素, task 7).", no_args_is_help=True)
draw_app = typer.Typer(help="Double random, one public (双随机、一公开): verifiable draws and results.",
                       no_args_is_help=True)
assess_app = typer.Typer(help="Annual assessment (年度评估): scores, ranking, praise/exposure lists.",
                         no_args_is_help=True)


# ------------------------------------------------------------------------------------------ helpers


def _date(value: Optional[str], name: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: {value!r} is not a date; use YYYY-MM-DD")


def _today(value: Optional[str]) -> date:
    from subsidence.settings import get_settings

    return _date(value, "--today") or datetime.now(get_settings().tz).date()


def _when(value: Optional[str], name: str) -> Optional[datetime]:
    """ISO date-time; without a zone it is read in the configured zone (Asia/Shanghai)."""
    if value is None:
        return None
    from subsidence.settings import get_settings

    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{name}: {value!r} is not a date-time; use e.g. 2026-12-03T21:30+08:00")
    return t if t.tzinfo else t.replace(tzinfo=get_settings().tz)


def _out(obj, as_json: bool, line: str) -> None:
    if as_json:
        emit_json(obj)
    else:
        typer.echo(line)


def _mine(s, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


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
def fund_formula(output_t: str = typer.Option(..., "--output-t", help="Last year's output, tonnes."),
                 method: str = typer.Option("underground_subsidence", "--method", help="Mining-method key."),
                 land_type: str = typer.Option("other", "--land-type", help="cropland|forest|grassland|other"),
                 region: str = typer.Option("default", "--region"), price: str = typer.Option("default", "--price"),
                 plan_required: Optional[str] = typer.Option(None, "--plan-required", help="Yuan the plan requires."),
                 as_json: bool = JSON) -> None:
    """Compute the Ordos accrual without touching the database (e.g. 10 Mt → 66,000,000 yuan)."""
    from subsidence.tasks import fund
    from subsidence.errors import ServiceError

    try:
        t = fund.coefficient_table()
        factors = [t.get("category_base", "coal"), t.get("mining_method", method), t.get("land_type", land_type),
                   t.get("regional", region), t.get("coal_price", price)]
        plan = fund.parse_yuan(plan_required, field_name="--plan-required") if plan_required else 0
        acc = fund.annual_accrual(output_t, factors, plan)
    except ServiceError as exc:
        fail(exc.message)
    _out(acc.as_dict(), as_json, f"required accrual {fund.format_yuan(acc.required_fen)} yuan/yr "
                                 f"(formula {fund.format_yuan(acc.formula_fen)}{', plan governs' if acc.plan_governs else ''})")


@fund_app.command("open")
def fund_open(mine: str = typer.Argument(..., help="Licence number or name."),
              land_type: str = typer.Option("other", "--land-type"), region: str = typer.Option("default", "--region"),
              method_key: Optional[str] = typer.Option(None, "--method-key", help="Override, e.g. surface_high."),
              bank_account: Optional[str] = typer.Option(None, "--bank-account"),
              opened: Optional[str] = typer.Option(None, "--opened"), as_json: bool = JSON) -> None:
    """Open the mine's fund account."""
    from subsidence.tasks import fund

    with _session("开立基金账户") as s:
        a = fund.open_account(s, _mine(s, mine), land_type=land_type, region_key=region, method_key=method_key,
                              bank_account=bank_account, opened=_date(opened, "--opened"))
        _out({"account": a.code}, as_json, f"opened fund account {a.code}")


@fund_app.command("accrue")
def fund_accrue(mine: str = MINE, year: int = YEAR,
                output_t: str = typer.Option(..., "--output-t", help="Year-1 output, t."),
                price: str = typer.Option("default", "--price"),
                plan_required: Optional[str] = typer.Option(None, "--plan-required", help="Yuan; default from plans."),
                as_json: bool = JSON) -> None:
    """Compute and store the required accrual of MINE for YEAR."""
    from subsidence.tasks import fund

    with _session(f"核定{year}年度应计提额") as s:
        plan = fund.parse_yuan(plan_required, field_name="--plan-required") if plan_required else None
        ob = fund.compute_obligation(s, _mine(s, mine), year, output_t, price_key=price, plan_required_fen=plan)
        out = {"year": year, "output_t": str(ob.output_t), "coefficients": ob.coefficients,
               "formula_fen": ob.formula_fen, "plan_required_fen": ob.plan_required_fen,
               "required_fen": ob.required_fen, "required_yuan": fund.format_yuan(ob.required_fen)}
        _out(out, as_json, f"{year}: required accrual {fund.format_yuan(ob.required_fen)} yuan")


def _entry_cmd(kind: str, help_text: str):
    def cmd(mine: str = MINE, amount: str = typer.Argument(..., help="Yuan, > 0, at most 2 decimals."),
            on: str = typer.Option(..., "--date", help="Entry date YYYY-MM-DD."),
            year: Optional[int] = typer.Option(None, "--year", help="Accrual year a deposit counts for."),
            problem: Optional[str] = typer.Option(None, "--problem", help="Ledger problem code (spending)."),
            works: Optional[str] = typer.Option(None, "--works", help="Works paid for."),
            reference: Optional[str] = typer.Option(None, "--reference", help="Voucher / approval."),
            note: Optional[str] = typer.Option(None, "--note"), as_json: bool = JSON) -> None:
        from sqlalchemy import select

        from subsidence.ledger.models import Problem
        from subsidence.tasks import fund
        from subsidence.errors import NotFound

        with _session(help_text) as s:
            p = None
            if problem:
                p = s.scalar(select(Problem).where(Problem.code == problem))
                if p is None:
                    raise NotFound(f"problem {problem!r} not found")
            m = _mine(s, mine)
            e = fund.add_entry(s, m, kind, fund.parse_yuan(amount), _date(on, "--date"), year=year, problem=p,
                               works=works, reference=reference, note=note)
            bal = fund.balance_fen(s, m)
            _out({"entry": e.code, "balance_fen": bal}, as_json,
                 f"{e.code}: {e.kind.label()} {fund.format_yuan(e.amount_fen)} yuan; balance {fund.format_yuan(bal)}")
    cmd.__doc__ = help_text
    return cmd


fund_app.command("deposit")(_entry_cmd("deposit", "Record a deposit (计提存入) into the fund."))
fund_app.command("spend")(_entry_cmd("spending", "Record treatment spending (治理支出) linked to a problem or works."))
fund_app.command("withdraw")(_entry_cmd("withdrawal", "Record another withdrawal (其他支取)."))


@fund_app.command("reverse")
def fund_reverse(code: str = CODE, reason: str = typer.Option(..., "--reason"),
                 on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
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
        _out(out, as_json, f"{out['mine_name']} {year}: closing {fund.format_yuan(out['closing_fen'])} yuan, "
                           f"accrual ratio {out['accrual_ratio']}, utilisation {out['utilisation']}")


@fund_app.command("check")
def fund_check(today: Optional[str] = typer.Option(None, "--today"),
               sync: bool = typer.Option(False, "--open-problems", help="Open the category-2 problems (once)."),
               as_json: bool = JSON) -> None:
    """Findings for every mine: under-accrued, unused against open problems."""
    from sqlalchemy import select

    from subsidence.core.models import Mine
    from subsidence.tasks import fund

    day = _today(today)
    with _session("基金检查") as s:
        found = [f.as_dict() for m in s.scalars(select(Mine).order_by(Mine.licence_no))
                 for f in fund.fund_findings(s, m, day)]
        opened = [(p.code, c) for p, c in fund.sync_fund_problems(s, day)] if sync else []
        _out({"today": day.isoformat(), "findings": found, "problems": [{"code": c, "created": n} for c, n in opened]},
             as_json, "\n".join(f["message"] for f in found) or "no findings")


@fund_app.command("report")
def fund_report(mine: str = MINE, year: int = YEAR, out: Path = typer.Option(Path("."), "--out", help="Output folder."),
                issued: Optional[str] = typer.Option(None, "--date"), as_json: bool = JSON) -> None:
    """The 31 December annual report of MINE for YEAR: PDF and xlsx."""
    from subsidence.reports.tasks import fund_report_pdf, fund_report_xlsx
    from subsidence.tasks import fund

    with _session() as s:
        summ = fund.year_summary(s, _mine(s, mine), year)
    day = _date(issued, "--date") or date(year, 12, 31)
    stem = out / f"fund-{summ['mine']}-{year}"
    fund_report_pdf(summ, stem.with_suffix(".pdf"), day)
    fund_report_xlsx(summ, stem.with_suffix(".xlsx"))
    _out({"pdf": str(stem.with_suffix(".pdf")), "xlsx": str(stem.with_suffix(".xlsx"))}, as_json,
         f"wrote {stem}.pdf and {stem}.xlsx")


# ------------------------------------------------------------------------------------------ buildings


@buildings_app.command("demolish")
def b_demolish(code: str = CODE,
               status: str = typer.Option("demolished", "--status", help="not_started|in_progress|demolished"),
               on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
    """Record demolition progress of a building."""
    from subsidence.tasks import buildings as bl

    with _session("拆除进度") as s:
        b = bl.record_demolition(s, code, status, on=_date(on, "--date"), today=_today(None))
        _out({"code": b.code, "status": b.demolition_status.value}, as_json, f"{b.code}: {b.demolition_status.label()}")


@buildings_app.command("reoccupy")
def b_reoccupy(code: str = CODE, on: str = typer.Option(..., "--date"),
               left: bool = typer.Option(False, "--left", help="Residents left again."),
               note: Optional[str] = typer.Option(None, "--note"), as_json: bool = JSON) -> None:
    """Record re-occupation by returned residents (opens a category-4 problem once)."""
    from subsidence.tasks import buildings as bl

    with _session("回流居住") as s:
        b = bl.record_reoccupation(s, code, reoccupied=not left, observed=_date(on, "--date"), note=note)
        _out({"code": b.code, "reoccupied": b.reoccupied}, as_json, f"{b.code}: reoccupied={b.reoccupied}")


@buildings_app.command("progress")
def b_progress(year: Optional[int] = typer.Option(None, "--year"), today: Optional[str] = typer.Option(None, "--today"),
               as_json: bool = JSON) -> None:
    """Demolition progress per town against the year-end deadline."""
    from subsidence.tasks import buildings as bl

    with _session() as s:
        rows = bl.progress_by_town(s, _today(today), year)
    _out(rows, as_json, "\n".join(f"{r['town_name']}: {r['demolished']}/{r['total']} ({r['percent_demolished']}%), "
                                  f"re-occupied {r['reoccupied_standing']}, {r['days_left']} days left"
                                  for r in rows) or "no buildings")


@buildings_app.command("reoccupied")
def b_reoccupied(as_json: bool = JSON) -> None:
    """Buildings re-occupied and not demolished."""
    from subsidence.tasks import buildings as bl

    with _session() as s:
        rows = bl.reoccupied_standing(s)
    _out(rows, as_json, "\n".join(f"{r['code']} {r['town_name']} {r['village'] or ''} {r['status_zh']}" for r in rows)
         or "none")


@buildings_app.command("geojson")
def b_geojson(town: Optional[str] = typer.Option(None, "--town"),
              out: Optional[Path] = typer.Option(None, "--out")) -> None:
    """The map layer (GeoJSON, WGS84)."""
    from subsidence.tasks import buildings as bl

    with _session() as s:
        fc = bl.geojson(s, town)
    if out:
        out.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
        typer.echo(f"wrote {out} ({len(fc['features'])} features)")
    else:
        emit_json(fc)


@buildings_app.command("check")
def b_check(today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """Open category-4 problems for towns past the deadline (once)."""
    from subsidence.tasks import buildings as bl

    with _session("拆除期限检查") as s:
        res = [{"problem": p.code, "created": c} for p, c in bl.sync_building_problems(s, _today(today))]
    _out(res, as_json, f"{sum(r['created'] for r in res)} problem(s) opened")


# ------------------------------------------------------------------------------------------ water


@water_app.command("require")
def w_require(mine: str = MINE, reason: str = typer.Option(..., "--reason"),
              due: Optional[str] = typer.Option(None, "--due"),
              as_json: bool = JSON) -> None:
    """Mark that MINE must write a water-preserving mining plan."""
    from subsidence.tasks import water

    with _session("应编制保水开采方案") as s:
        p = water.require_plan(s, _mine(s, mine), reason=reason, due=_date(due, "--due"))
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@water_app.command("submit")
def w_submit(code: str = CODE, on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
    """The enterprise submitted the plan."""
    from subsidence.tasks import water

    with _session("报送保水开采方案") as s:
        p = water.submit_plan(s, code, _date(on, "--date"))
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@water_app.command("review")
def w_review(code: str = CODE, on: str = typer.Option(..., "--date"),
             approve: bool = typer.Option(True, "--approve/--return"),
             approval_no: Optional[str] = typer.Option(None, "--approval-no"),
             note: Optional[str] = typer.Option(None, "--note"), unit: str = typer.Option("AWB", "--unit"),
             as_json: bool = JSON) -> None:
    """Approve (with the document number) or return (with the reason) a submitted plan."""
    from subsidence.tasks import water

    with _session("审查保水开采方案") as s:
        p = water.review_plan(s, code, approve=approve, reviewed=_date(on, "--date"), unit_code=unit,
                              approval_no=approval_no, note=note)
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@water_app.command("implemented")
def w_implemented(code: str = CODE, on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
    """The approved plan has been carried out."""
    from subsidence.tasks import water

    with _session("保水开采方案实施") as s:
        p = water.record_implemented(s, code, _date(on, "--date"))
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@water_app.command("link")
def w_link(code: str = CODE, wells: List[str] = typer.Argument(..., help="Well codes."), as_json: bool = JSON) -> None:
    """Link groundwater wells to a plan."""
    from subsidence.tasks import water

    with _session() as s:
        p = water.link_wells(s, code, wells)
        _out({"plan": p.code, "wells": [w.code for w in p.wells]}, as_json, f"{p.code}: {len(p.wells)} well(s)")


@water_app.command("assess")
def w_assess(well: Optional[str] = typer.Option(None, "--well", help="One well (default: all in the series file "
                                                                      "or all wells of --mine)."),
             mine: Optional[str] = typer.Option(None, "--mine"),
             series: Optional[Path] = typer.Option(None, "--series", help="CSV well,date,depth_m (m below ground)."),
             today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """Judge decline of wells (series from a CSV file, else from the monitoring observations)."""
    from sqlalchemy import select

    from subsidence.monitoring.models import GroundwaterWell
    from subsidence.tasks import water

    day = _today(today)
    with _session("地下水位评价") as s:
        data = water.parse_series_csv(series, well) if series else None
        if data is not None:
            codes = list(data)
        elif well:
            codes = [well]
        elif mine:
            codes = list(s.scalars(select(GroundwaterWell.code).where(GroundwaterWell.mine_id == _mine(s, mine).id)))
        else:
            codes = list(s.scalars(select(GroundwaterWell.code).order_by(GroundwaterWell.code)))
        out = []
        for c in codes:
            w = water.get_well(s, c)
            t, d = data[c] if data is not None else (None, None)
            a = water.assess_well(s, w, day, times=t, depths=d)
            out.append({"well": c, "declining": a.declining, "rate_m_per_month": a.rate_m_per_month,
                        "drawdown_m": a.drawdown_m, "n_points": a.n_points})
    _out(out, as_json, "\n".join(f"{r['well']}: {'DECLINING' if r['declining'] else 'ok'} rate {r['rate_m_per_month']} "
                                 f"m/month, drawdown {r['drawdown_m']} m" for r in out) or "no wells")


@water_app.command("status")
def w_status(mine: str = MINE, today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """Plan state, wells and findings of MINE."""
    from subsidence.tasks import water

    with _session() as s:
        st = water.water_status(s, _mine(s, mine), _today(today))
    _out(st, as_json, f"{st['mine_name']}: plan {st['plan']['state_zh'] if st['plan'] else 'none'}; "
                      f"{sum(w['declining'] for w in st['wells'])} declining well(s)")


@water_app.command("check")
def w_check(today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """Open category-5 problems (once) for mines with declining wells and no approved plan."""
    from subsidence.tasks import water

    with _session("保水开采检查") as s:
        res = [{"problem": p.code, "created": c} for p, c in water.sync_water_problems(s, _today(today))]
    _out(res, as_json, f"{sum(r['created'] for r in res)} problem(s) opened")


# ------------------------------------------------------------------------------------------ mine hazards


@mh_app.command("add")
def mh_add(mine: str = MINE, code: str = typer.Argument(..., help="Factor code."),
           factor_type: str = typer.Option(..., "--type", help="goaf_water, gas, fire_zone, fault, "
                                                               "old_workings, collapse_column, aquifer, unsealed_borehole, "
                                                               "other — or the Chinese label (采空区积水 …)"),
           year: int = typer.Option(..., "--year", help="Census year."),
           surveyed: str = typer.Option(..., "--surveyed"), location: Optional[str] = typer.Option(None, "--location"),
           description: Optional[str] = typer.Option(None, "--description"),
           risk: Optional[str] = typer.Option(None, "--risk"),
           not_problem: bool = typer.Option(False, "--not-problem", help="Recorded, needs no plan."),
           plan_due: Optional[str] = typer.Option(None, "--plan-due"), as_json: bool = JSON) -> None:
    """Record a hidden factor from the census (a problem opens a category-7 ledger problem)."""
    from subsidence.tasks import minehazards as mh

    with _session("隐蔽致灾因素普查") as s:
        f = mh.register_factor(s, _mine(s, mine), code, factor_type, census_year=year,
                               surveyed=_date(surveyed, "--surveyed"), location=location, description=description,
                               risk_level=risk, is_problem=not not_problem, plan_due=_date(plan_due, "--plan-due"))
        _out({"factor": f.code, "problem_id": f.problem_id, "plan_due": str(f.plan_due)}, as_json,
             f"{f.code}: {f.factor_type.label()}, plan due {f.plan_due}")


@mh_app.command("plan")
def mh_plan(factor: str = typer.Argument(..., help="Factor code."), plan: str = typer.Argument(..., help="Plan code."),
            measures: str = typer.Option(..., "--measures"),
            on: str = typer.Option(..., "--date"), deadline: Optional[str] = typer.Option(None, "--deadline"),
            responsible: Optional[str] = typer.Option(None, "--responsible"), as_json: bool = JSON) -> None:
    """Submit (or resubmit) the one rectification plan of FACTOR."""
    from subsidence.tasks import minehazards as mh

    with _session("报审整改方案") as s:
        p = mh.submit_plan(s, factor, plan, measures=measures, submitted=_date(on, "--date"),
                           rectify_deadline=_date(deadline, "--deadline"), responsible_role=responsible)
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@mh_app.command("review")
def mh_review(plan: str = typer.Argument(..., help="Plan code."), unit: str = typer.Option("EMB", "--unit"),
              approve: bool = typer.Option(True, "--approve/--return"), result: str = typer.Option(..., "--result"),
              on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
    """Review by the mine-safety supervisor (EMB), with the result recorded."""
    from subsidence.tasks import minehazards as mh

    with _session("审查整改方案") as s:
        p = mh.review_plan(s, plan, reviewer_unit=unit, approve=approve, result=result, reviewed=_date(on, "--date"))
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@mh_app.command("complete")
def mh_complete(plan: str = typer.Argument(..., help="Plan code."), on: str = typer.Option(..., "--date"),
                as_json: bool = JSON) -> None:
    """Rectification by the approved plan completed."""
    from subsidence.tasks import minehazards as mh

    with _session("整改完成") as s:
        p = mh.complete_plan(s, plan, _date(on, "--date"))
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@mh_app.command("census")
def mh_census(mine: str = MINE, today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """The mine's census: factors, plans and what is overdue."""
    from subsidence.tasks import minehazards as mh

    with _session() as s:
        c = mh.census(s, _mine(s, mine), _today(today))
    _out(c, as_json, f"{c['mine_name']}: {len(c['factors'])} factor(s); overdue: {', '.join(c['overdue']) or 'none'}")


# ------------------------------------------------------------------------------------------ draw


@draw_app.command("object")
def d_object(mine: str = MINE, grade: str = typer.Option(..., "--grade", help="high|medium|low"),
             inactive: bool = typer.Option(False, "--inactive"), as_json: bool = JSON) -> None:
    """Add a mine to the object directory (or change its risk grade)."""
    from subsidence.tasks import inspections as svc

    with _session("检查对象名录") as s:
        o = svc.set_object(s, _mine(s, mine), grade, active=not inactive)
        _out({"mine": o.mine.licence_no, "grade": o.risk_grade.value}, as_json,
             f"{o.mine.licence_no}: {o.risk_grade.label()}")


@draw_app.command("inspector")
def d_inspector(code: str = CODE, unit: str = typer.Option(..., "--unit"),
                role: Optional[str] = typer.Option(None, "--role"),
                inactive: bool = typer.Option(False, "--inactive"), as_json: bool = JSON) -> None:
    """Add an inspector to the directory."""
    from subsidence.tasks import inspections as svc

    with _session("检查人员名录") as s:
        i = svc.add_inspector(s, code, unit, role_title=role, active=not inactive)
        _out({"inspector": i.code}, as_json, f"inspector {i.code}")


@draw_app.command("conflict")
def d_conflict(inspector: str = typer.Argument(..., help="Inspector code."), mine: str = MINE,
               reason: str = typer.Option(..., "--reason"),
               on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
    """Record an inspector's declared conflict with a mine (recusal in every later draw)."""
    from subsidence.tasks import inspections as svc

    with _session(reason) as s:
        c = svc.declare_conflict(s, inspector, _mine(s, mine), reason, _date(on, "--date"))
        _out({"inspector": inspector, "mine": c.mine.licence_no}, as_json,
             f"{inspector} recused from {c.mine.licence_no}")


@draw_app.command("item")
def d_item(code: str = CODE, name: str = typer.Option(..., "--name"), high: int = typer.Option(100, "--high"),
           medium: int = typer.Option(70, "--medium"), low: int = typer.Option(50, "--low"),
           per_year: int = typer.Option(1, "--per-year"), inspectors: int = typer.Option(2, "--inspectors"),
           lead: Optional[str] = typer.Option(None, "--lead"), as_json: bool = JSON) -> None:
    """Create an inspection item with its ratios (%) per risk grade and frequency."""
    from subsidence.tasks import inspections as svc

    with _session("抽查事项") as s:
        i = svc.add_item(s, code, name, ratio_high_pct=high, ratio_medium_pct=medium, ratio_low_pct=low,
                         per_year=per_year, inspectors_per_object=inspectors, lead_unit_code=lead)
        _out({"item": i.code}, as_json, f"item {i.code}")


@draw_app.command("publish")
def d_publish(item: str, seed_source: str = typer.Option(..., "--seed-source", help="The announced public source."),
              seed_not_before: str = typer.Option(..., "--seed-not-before", help="Earliest time of the seed value."),
              supersedes: Optional[str] = typer.Option(None, "--supersedes", help="Draw this one redoes."),
              reason: Optional[str] = typer.Option(None, "--reason", help="Why the redo."),
              out: Optional[Path] = typer.Option(None, "--out", help="Write the record JSON here."),
              as_json: bool = JSON) -> None:
    """Freeze the candidate pool and publish its SHA-256 (before the draw)."""
    from subsidence.tasks import inspections as svc

    with _session(reason or "公布抽取名单") as s:
        r = svc.publish_draw(s, item, seed_source=seed_source,
                             seed_not_before=_when(seed_not_before, "--seed-not-before"),
                             supersedes=supersedes, redo_reason=reason)
        rec = svc.export_record(s, r.code)
    if out:
        out.write_text(json.dumps(rec, ensure_ascii=False, indent=2), encoding="utf-8")
    _out({"draw": rec["code"], "pool_sha256": rec["pool_sha256"], "published_at": rec["published_at"]}, as_json,
         f"{rec['code']} published: pool SHA-256 {rec['pool_sha256']}")


@draw_app.command("seed")
def d_seed(code: str = CODE, source: str = typer.Option(..., "--source"), value: str = typer.Option(..., "--value"),
           source_time: str = typer.Option(..., "--source-time", help="When the source produced the value."),
           as_json: bool = JSON) -> None:
    """Enter the public seed (only after the pool was published)."""
    from subsidence.tasks import inspections as svc

    with _session("录入随机种子") as s:
        seed = svc.enter_seed(s, code, source=source, value=value, source_time=_when(source_time, "--source-time"))
        _out({"draw": code, "seed": seed.value, "entered_at": seed.entered_at.isoformat()}, as_json,
             f"{code}: seed entered")


@draw_app.command("run")
def d_run(code: str = CODE, out: Optional[Path] = typer.Option(None, "--out", help="Write the full record JSON here."),
          as_json: bool = JSON) -> None:
    """Derive the picks from pool and seed, and store them."""
    from subsidence.tasks import inspections as svc

    with _session("抽取") as s:
        svc.run_draw(s, code)
        rec = svc.export_record(s, code)
    if out:
        out.write_text(json.dumps(rec, ensure_ascii=False, indent=2), encoding="utf-8")
    picks = [{"mine": o["key"], "inspectors": o["inspectors"]} for o in rec["result"]["objects"]]
    _out({"draw": code, "picks": picks, "result_sha256": rec["result_sha256"]}, as_json,
         "\n".join(f"{p['mine']}: {', '.join(p['inspectors'])}" for p in picks))


@draw_app.command("export")
def d_export(code: str = CODE, out: Path = typer.Option(..., "--out")) -> None:
    """Write the draw record (pool, seed, result) as JSON for publication and verification."""
    from subsidence.tasks import inspections as svc

    with _session() as s:
        rec = svc.export_record(s, code)
    out.write_text(json.dumps(rec, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo(f"wrote {out}")


@draw_app.command("list")
def d_list(as_json: bool = JSON) -> None:
    """All draws (old ones stay; a redo names the one it supersedes)."""
    from subsidence.tasks import inspections as svc

    with _session() as s:
        rows = svc.list_draws(s)
    _out(rows, as_json, "\n".join(f"{r['code']} {r['item']} {r['state']} {r['pool_sha256'][:16]}…" for r in rows)
         or "no draws")


@draw_app.command("verify")
def d_verify(record: Path = typer.Argument(..., help="RECORD.json exported by `draw run/export`."),
             as_json: bool = JSON) -> None:
    """Re-derive the draw from the record alone; exit 1 naming the field if anything was changed."""
    from subsidence.tasks.draw import verify_record

    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"{record}: not a readable JSON record ({exc})")
    probs = verify_record(data)
    out = {"record": str(record), "code": data.get("code"), "ok": not probs, "problems": [p.as_dict() for p in probs]}
    if as_json:
        emit_json(out)
    elif probs:
        for p in probs:
            typer.echo(f"FAIL {p.field}: {p.message}", err=True)
    else:
        typer.echo(f"OK {data.get('code')}: pool, seed and result are consistent")
    if probs:
        raise typer.Exit(1)


@draw_app.command("result")
def d_result(code: str = typer.Argument(..., help="Draw code."), mine: str = MINE,
             on: str = typer.Option(..., "--date", help="Inspection date."),
             outcome: str = typer.Option(..., "--outcome", help="compliant|problems|not_inspected"),
             findings: Optional[str] = typer.Option(None, "--findings"),
             summary: Optional[str] = typer.Option(None, "--summary", help="Text the public sees."),
             category: Optional[str] = typer.Option(None, "--category", help="Problem category 1-7 if problems."),
             as_json: bool = JSON) -> None:
    """Enter the result of inspecting a drawn mine (deadline to publish: 20 working days)."""
    from subsidence.tasks import inspections as svc

    with _session("录入抽查结果") as s:
        r = svc.record_result(s, code, _mine(s, mine), inspected=_date(on, "--date"), outcome=outcome,
                              findings=findings, public_summary=summary, problem_category=category)
        _out({"draw": code, "mine": r.mine.licence_no, "publish_deadline": r.publish_deadline.isoformat(),
              "problem_id": r.problem_id}, as_json, f"result recorded; publish by {r.publish_deadline}")


@draw_app.command("announce")
def d_announce(code: str = typer.Argument(..., help="Draw code."), mine: str = MINE,
               on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
    """Publish a result (it becomes visible to the public)."""
    from subsidence.tasks import inspections as svc

    with _session("公开抽查结果") as s:
        r = svc.publish_result(s, code, _mine(s, mine), _date(on, "--date"))
        _out({"draw": code, "mine": r.mine.licence_no, "published": r.published_date.isoformat()}, as_json,
             f"published {r.published_date}")


@draw_app.command("results")
def d_results(code: Optional[str] = typer.Argument(None), public: bool = typer.Option(False, "--public",
                                                                                    help="Only what the public sees."),
              overdue: bool = typer.Option(False, "--overdue", help="Unpublished past the deadline."),
              today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """Inspection results (all, public, or overdue for publication)."""
    from subsidence.tasks import inspections as svc

    with _session() as s:
        if public:
            rows = svc.public_results(s)
        elif overdue:
            rows = svc.overdue_publications(s, _today(today))
        else:
            rows = svc.results(s, _today(today), code)
    _out(rows, as_json, "\n".join(f"{r['draw']} {r['mine_name']} {r['outcome_zh']} published={r['published_date']}"
                                  for r in rows) or "none")


# ------------------------------------------------------------------------------------------ assessment


@assess_app.command("run")
def a_run(year: int = YEAR, today: Optional[str] = typer.Option(None, "--today"),
          config: Optional[Path] = typer.Option(None, "--config", help="JSON weights/thresholds."),
          as_json: bool = JSON) -> None:
    """Score every mine for YEAR, rank and list (re-running replaces the year's scores)."""
    from subsidence.tasks import assessment as a

    with _session(f"{year}年度评估") as s:
        a.run_assessment(s, year, _today(today), a.AssessmentConfig.load(config))
        rows = a.ranking(s, year)
    _out(rows, as_json,
         "\n".join(f"{r['rank']:>3} {r['score']:6.2f} {r['mine_name']} {r['listing'] or ''}" for r in rows))


@assess_app.command("show")
def a_show(year: int = YEAR, as_json: bool = JSON) -> None:
    """The stored ranking of YEAR with each indicator's contribution."""
    from subsidence.tasks import assessment as a

    with _session() as s:
        rows = a.ranking(s, year)
    _out(rows, as_json, "\n".join(f"{r['rank']:>3} {r['score']:6.2f} {r['mine_name']} " +
                                  " ".join(f"{i['zh']}={i['contribution']}" for i in r["indicators"]) for r in rows)
         or f"no assessment for {year}; run `subsidence assess run {year}`")


@assess_app.command("lists")
def a_lists(year: int = YEAR, out: Path = typer.Option(Path("."), "--out"),
            issued: Optional[str] = typer.Option(None, "--date"),
            as_json: bool = JSON) -> None:
    """The praise and exposure lists, ready to publish: PDF, DOCX and xlsx."""
    from subsidence.reports import tasks as rep
    from subsidence.tasks import assessment as a

    with _session() as s:
        rows = a.ranking(s, year)
    if not rows:
        fail(f"no assessment for {year}; run `subsidence assess run {year}` first")
    day = _date(issued, "--date") or _today(None)
    stem = out / f"assessment-{year}"
    rep.assessment_pdf(year, rows, stem.with_suffix(".pdf"), day)
    rep.assessment_docx(year, rows, stem.with_suffix(".docx"), day)
    rep.assessment_xlsx(year, rows, stem.with_suffix(".xlsx"))
    _out({k: str(stem.with_suffix("." + k)) for k in ("pdf", "docx", "xlsx")}, as_json, f"wrote {stem}.pdf/.docx/.xlsx")


# ------------------------------------------------------------------------------------------ Excel


tables_app = typer.Typer(help="Excel import/export/templates of the task ledgers (Chinese headers).",
                         no_args_is_help=True)


@tables_app.command("list")
def t_list(as_json: bool = JSON) -> None:
    """The tables: fund-entries, fund-obligations, water-plans, hidden-factors, inspectors, ... ."""
    from subsidence.tasks.excel import TABLES

    rows = [{"table": t.name, "zh": t.zh, "columns": [f.zh for f in t.fields]} for t in TABLES.values()]
    _out(rows, as_json, "\n".join(f"{r['table']:<20} {r['zh']}" for r in rows)
         + "\n(compensated buildings: `subsidence import buildings FILE`)")


@tables_app.command("template")
def t_template(table: str, out: Path) -> None:
    """Write a blank template for TABLE (headers, dropdowns, instructions)."""
    from subsidence.tasks.excel import write_template
    from subsidence.errors import ServiceError

    try:
        write_template(table, out)
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"wrote {out}")


@tables_app.command("export")
def t_export(table: str, out: Path, as_json: bool = JSON) -> None:
    """Export TABLE to an .xlsx file with Chinese headers."""
    from subsidence.tasks.excel import export_table

    with _session() as s:
        n = export_table(s, table, out)
    _out({"table": table, "file": str(out), "rows": n}, as_json, f"wrote {n} row(s) to {out}")


@tables_app.command("import")
def t_import(table: str, file: Path, dry_run: bool = typer.Option(False, "--dry-run", help="Validate only."),
             as_json: bool = JSON) -> None:
    """Import FILE into TABLE: all rows valid or nothing changes; re-importing changes nothing."""
    from subsidence.tasks.excel import import_table

    with _session(f"import {file.name}") as s:
        res = import_table(s, table, file)
        if dry_run:
            s.rollback()
    _out(res.as_dict() | {"dry_run": dry_run}, as_json,
         f"{res.rows} row(s): {res.created} created, {res.updated} updated, {res.unchanged} unchanged"
         + (" (dry run, nothing saved)" if dry_run else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(tables_app, name="tasks")
    app.add_typer(fund_app, name="fund")
    app.add_typer(buildings_app, name="buildings")
    app.add_typer(water_app, name="water")
    app.add_typer(mh_app, name="minehazards")
    app.add_typer(draw_app, name="draw")
    app.add_typer(assess_app, name="assess")
