"""``subsidence minehazards``: mine hidden disaster-causing factors (隐蔽致灾因素, task 7).

Every command prints a short human line, or the full result with ``--json``; a refused operation exits
non-zero with the reason and changes nothing (the rules live in :mod:`subsidence.tasks`).
"""

from __future__ import annotations

from typing import Optional

import typer

from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import JSON, MINE
from subsidence.cli.options import parse_date as _date
from subsidence.cli.options import say as _out
from subsidence.cli.options import today_or as _today

CODE = typer.Argument(..., help="Code of the record (entry, building, plan, inspector, item or draw).")


def _mine(s, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


mh_app = typer.Typer(help="Mine hidden disaster-causing factors (隐蔽致灾因素, task 7).", no_args_is_help=True)


# ------------------------------------------------------------------------------------------ mine hazards


@mh_app.command("add")
def mh_add(
    mine: str = MINE,
    code: str = typer.Argument(..., help="Factor code."),
    factor_type: str = typer.Option(
        ...,
        "--type",
        help="goaf_water, gas, fire_zone, fault, "
        "old_workings, collapse_column, aquifer, unsealed_borehole, "
        "other — or the Chinese label (采空区积水 …)",
    ),
    year: int = typer.Option(..., "--year", help="Census year."),
    surveyed: str = typer.Option(..., "--surveyed"),
    location: Optional[str] = typer.Option(None, "--location"),
    description: Optional[str] = typer.Option(None, "--description"),
    risk: Optional[str] = typer.Option(None, "--risk"),
    not_problem: bool = typer.Option(False, "--not-problem", help="Recorded, needs no plan."),
    plan_due: Optional[str] = typer.Option(None, "--plan-due"),
    as_json: bool = JSON,
) -> None:
    """Record a hidden factor from the census (a problem opens a category-7 ledger problem)."""
    from subsidence.tasks import minehazards as mh

    with _session("隐蔽致灾因素普查") as s:
        f = mh.register_factor(
            s,
            _mine(s, mine),
            code,
            factor_type,
            census_year=year,
            surveyed=_date(surveyed, "--surveyed"),
            location=location,
            description=description,
            risk_level=risk,
            is_problem=not not_problem,
            plan_due=_date(plan_due, "--plan-due"),
        )
        _out(
            {"factor": f.code, "problem_id": f.problem_id, "plan_due": str(f.plan_due)},
            as_json,
            f"{f.code}: {f.factor_type.label()}, plan due {f.plan_due}",
        )


@mh_app.command("plan")
def mh_plan(
    factor: str = typer.Argument(..., help="Factor code."),
    plan: str = typer.Argument(..., help="Plan code."),
    measures: str = typer.Option(..., "--measures"),
    on: str = typer.Option(..., "--date"),
    deadline: Optional[str] = typer.Option(None, "--deadline"),
    responsible: Optional[str] = typer.Option(None, "--responsible"),
    as_json: bool = JSON,
) -> None:
    """Submit (or resubmit) the one rectification plan of FACTOR."""
    from subsidence.tasks import minehazards as mh

    with _session("报审整改方案") as s:
        p = mh.submit_plan(
            s,
            factor,
            plan,
            measures=measures,
            submitted=_date(on, "--date"),
            rectify_deadline=_date(deadline, "--deadline"),
            responsible_role=responsible,
        )
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@mh_app.command("review")
def mh_review(
    plan: str = typer.Argument(..., help="Plan code."),
    unit: str = typer.Option("EMB", "--unit"),
    approve: bool = typer.Option(True, "--approve/--return"),
    result: str = typer.Option(..., "--result"),
    on: str = typer.Option(..., "--date"),
    as_json: bool = JSON,
) -> None:
    """Review by the mine-safety supervisor (EMB), with the result recorded."""
    from subsidence.tasks import minehazards as mh

    with _session("审查整改方案") as s:
        p = mh.review_plan(s, plan, reviewer_unit=unit, approve=approve, result=result, reviewed=_date(on, "--date"))
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@mh_app.command("complete")
def mh_complete(
    plan: str = typer.Argument(..., help="Plan code."), on: str = typer.Option(..., "--date"), as_json: bool = JSON
) -> None:
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


def register(app: typer.Typer) -> None:
    app.add_typer(mh_app, name="minehazards")
