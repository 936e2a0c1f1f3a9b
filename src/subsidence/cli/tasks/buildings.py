"""``subsidence buildings``: the compensated buildings ledger (已补偿搬迁建筑物, task 4).

Every command prints a short human line, or the full result with ``--json``; a refused operation exits
non-zero with the reason and changes nothing (the rules live in :mod:`subsidence.tasks`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import emit_json
from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import JSON
from subsidence.cli.options import parse_date as _date
from subsidence.cli.options import say as _out
from subsidence.cli.options import today_or as _today

CODE = typer.Argument(..., help="Code of the record (entry, building, plan, inspector, item or draw).")


def _mine(s, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


buildings_app = typer.Typer(help="Compensated buildings ledger (已补偿搬迁建筑物, task 4).", no_args_is_help=True)


# ------------------------------------------------------------------------------------------ buildings


@buildings_app.command("demolish")
def b_demolish(
    code: str = CODE,
    status: str = typer.Option("demolished", "--status", help="not_started|in_progress|demolished"),
    on: str = typer.Option(..., "--date"),
    as_json: bool = JSON,
) -> None:
    """Record demolition progress of a building."""
    from subsidence.tasks import buildings as bl

    with _session("拆除进度") as s:
        b = bl.record_demolition(s, code, status, on=_date(on, "--date"), today=_today(None))
        _out({"code": b.code, "status": b.demolition_status.value}, as_json, f"{b.code}: {b.demolition_status.label()}")


@buildings_app.command("reoccupy")
def b_reoccupy(
    code: str = CODE,
    on: str = typer.Option(..., "--date"),
    left: bool = typer.Option(False, "--left", help="Residents left again."),
    note: Optional[str] = typer.Option(None, "--note"),
    as_json: bool = JSON,
) -> None:
    """Record re-occupation by returned residents (opens a category-4 problem once)."""
    from subsidence.tasks import buildings as bl

    with _session("回流居住") as s:
        b = bl.record_reoccupation(s, code, reoccupied=not left, observed=_date(on, "--date"), note=note)
        _out({"code": b.code, "reoccupied": b.reoccupied}, as_json, f"{b.code}: reoccupied={b.reoccupied}")


@buildings_app.command("progress")
def b_progress(
    year: Optional[int] = typer.Option(None, "--year"),
    today: Optional[str] = typer.Option(None, "--today"),
    as_json: bool = JSON,
) -> None:
    """Demolition progress per town against the year-end deadline."""
    from subsidence.tasks import buildings as bl

    with _session() as s:
        rows = bl.progress_by_town(s, _today(today), year)
    _out(
        rows,
        as_json,
        "\n".join(
            f"{r['town_name']}: {r['demolished']}/{r['total']} ({r['percent_demolished']}%), "
            f"re-occupied {r['reoccupied_standing']}, {r['days_left']} days left"
            for r in rows
        )
        or "no buildings",
    )


@buildings_app.command("reoccupied")
def b_reoccupied(as_json: bool = JSON) -> None:
    """Buildings re-occupied and not demolished."""
    from subsidence.tasks import buildings as bl

    with _session() as s:
        rows = bl.reoccupied_standing(s)
    _out(
        rows,
        as_json,
        "\n".join(f"{r['code']} {r['town_name']} {r['village'] or ''} {r['status_zh']}" for r in rows) or "none",
    )


@buildings_app.command("geojson")
def b_geojson(
    town: Optional[str] = typer.Option(None, "--town"), out: Optional[Path] = typer.Option(None, "--out")
) -> None:
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


def register(app: typer.Typer) -> None:
    app.add_typer(buildings_app, name="buildings")
