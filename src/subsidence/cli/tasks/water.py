"""``subsidence water``: water-preserving mining plans and declining wells (保水开采, task 5).

Every command prints a short human line, or the full result with ``--json``; a refused operation exits
non-zero with the reason and changes nothing (the rules live in :mod:`subsidence.tasks`).
"""

from __future__ import annotations

from pathlib import Path
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


water_app = typer.Typer(
    help="Water-preserving mining plans and declining wells (保水开采, task 5).", no_args_is_help=True
)


# ------------------------------------------------------------------------------------------ water


@water_app.command("require")
def w_require(
    mine: str = MINE,
    reason: str = typer.Option(..., "--reason"),
    due: Optional[str] = typer.Option(None, "--due"),
    as_json: bool = JSON,
) -> None:
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
def w_review(
    code: str = CODE,
    on: str = typer.Option(..., "--date"),
    approve: bool = typer.Option(True, "--approve/--return"),
    approval_no: Optional[str] = typer.Option(None, "--approval-no"),
    note: Optional[str] = typer.Option(None, "--note"),
    unit: str = typer.Option("AWB", "--unit"),
    as_json: bool = JSON,
) -> None:
    """Approve (with the document number) or return (with the reason) a submitted plan."""
    from subsidence.tasks import water

    with _session("审查保水开采方案") as s:
        p = water.review_plan(
            s, code, approve=approve, reviewed=_date(on, "--date"), unit_code=unit, approval_no=approval_no, note=note
        )
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@water_app.command("implemented")
def w_implemented(code: str = CODE, on: str = typer.Option(..., "--date"), as_json: bool = JSON) -> None:
    """The approved plan has been carried out."""
    from subsidence.tasks import water

    with _session("保水开采方案实施") as s:
        p = water.record_implemented(s, code, _date(on, "--date"))
        _out({"plan": p.code, "state": p.state.value}, as_json, f"{p.code}: {p.state.label()}")


@water_app.command("link")
def w_link(code: str = CODE, wells: list[str] = typer.Argument(..., help="Well codes."), as_json: bool = JSON) -> None:
    """Link groundwater wells to a plan."""
    from subsidence.tasks import water

    with _session() as s:
        p = water.link_wells(s, code, wells)
        _out({"plan": p.code, "wells": [w.code for w in p.wells]}, as_json, f"{p.code}: {len(p.wells)} well(s)")


@water_app.command("assess")
def w_assess(
    well: Optional[str] = typer.Option(
        None, "--well", help="One well (default: all in the series file or all wells of --mine)."
    ),
    mine: Optional[str] = typer.Option(None, "--mine"),
    series: Optional[Path] = typer.Option(None, "--series", help="CSV well,date,depth_m (m below ground)."),
    today: Optional[str] = typer.Option(None, "--today"),
    as_json: bool = JSON,
) -> None:
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
            out.append(
                {
                    "well": c,
                    "declining": a.declining,
                    "rate_m_per_month": a.rate_m_per_month,
                    "drawdown_m": a.drawdown_m,
                    "n_points": a.n_points,
                }
            )
    _out(
        out,
        as_json,
        "\n".join(
            f"{r['well']}: {'DECLINING' if r['declining'] else 'ok'} rate {r['rate_m_per_month']} "
            f"m/month, drawdown {r['drawdown_m']} m"
            for r in out
        )
        or "no wells",
    )


@water_app.command("status")
def w_status(mine: str = MINE, today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """Plan state, wells and findings of MINE."""
    from subsidence.tasks import water

    with _session() as s:
        st = water.water_status(s, _mine(s, mine), _today(today))
    _out(
        st,
        as_json,
        f"{st['mine_name']}: plan {st['plan']['state_zh'] if st['plan'] else 'none'}; "
        f"{sum(w['declining'] for w in st['wells'])} declining well(s)",
    )


@water_app.command("check")
def w_check(today: Optional[str] = typer.Option(None, "--today"), as_json: bool = JSON) -> None:
    """Open category-5 problems (once) for mines with declining wells and no approved plan."""
    from subsidence.tasks import water

    with _session("保水开采检查") as s:
        res = [{"problem": p.code, "created": c} for p, c in water.sync_water_problems(s, _today(today))]
    _out(res, as_json, f"{sum(r['created'] for r in res)} problem(s) opened")


def register(app: typer.Typer) -> None:
    app.add_typer(water_app, name="water")
