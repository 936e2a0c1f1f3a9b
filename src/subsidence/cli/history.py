"""``subsidence history``: show any record's change history from the audit trail."""

from __future__ import annotations

import typer

from subsidence.cli._common import emit_json, ready_engine


def history(
    entity: str = typer.Argument(..., help="Table name: mine, panel, problem, admin_area, hazard_point ..."),
    key: str = typer.Argument(..., help="Business key (licence number, code) or numeric id."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print who changed the record, when, and the values before and after."""
    from subsidence.core.history import record_history
    from subsidence.db.session import make_sessionmaker
    from subsidence.settings import get_settings

    tz = get_settings().tz
    with make_sessionmaker(ready_engine())() as session:
        events = record_history(session, entity, key)
    rows = [
        {
            "at": e.at.astimezone(tz).isoformat(),
            "actor": e.actor,
            "action": e.action,
            "before": e.before,
            "after": e.after,
            "reason": e.reason,
        }
        for e in events
    ]
    if json_out:
        emit_json(rows)
        return
    if not rows:
        typer.echo(f"no history for {entity} {key}")
    for r in rows:
        typer.echo(f"{r['at']}  {r['actor']}  {r['action']}  {r['reason'] or ''}")
        for k in sorted(set(r["before"] or {}) | set(r["after"] or {})):
            typer.echo(f"    {k}: {(r['before'] or {}).get(k)!r} -> {(r['after'] or {}).get(k)!r}")


def register(app: typer.Typer) -> None:
    app.command("history")(history)
