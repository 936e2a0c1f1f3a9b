"""``subsidence health``: is the warning pipeline alive (database, disk, sweep, outbox, backup)?

Thin: the facts and the alarms are in :mod:`subsidence.ops.health`.
"""

from __future__ import annotations

import typer

from subsidence.cli._common import emit_json

#: exit codes: 0 ok, 1 degraded (something needs attention), 2 down (database unreachable)
EXIT = {"ok": 0, "degraded": 1, "down": 2}


def health(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    check: bool = typer.Option(
        False,
        "--check",
        help="Also queue operations alarms (outbox and log) for what is "
        "overdue, record the check's heartbeat, and deliver due "
        "notifications if the dispatcher is overdue (run it from a "
        "timer).",
    ),
) -> None:
    """Report the database, free disk, the last alarm sweep, the outbox backlog and its oldest message, the last
    backup. Exit 0 ok, 1 degraded, 2 down."""
    from subsidence.cli._common import engine
    from subsidence.ops import health as h
    from subsidence.settings import get_settings

    eng = engine()
    rep = h.check(get_settings(), eng) if check else h.report(get_settings(), eng)
    if json_out:
        emit_json(rep)
    else:
        _print(rep)
    raise typer.Exit(EXIT[rep["status"]])


def _print(rep: dict) -> None:
    from subsidence.ops.health import LABELS

    db = rep["database"]
    typer.echo(f"status: {rep['status']}  (checked {rep['checked_at']})")
    typer.echo(
        f"database: {'ok' if db['ok'] else 'DOWN'} {db['url']}"
        + (f" revision {db.get('revision')} (head {db.get('head')})" if db["ok"] else f" — {db['error']}")
    )
    for d in rep["disk"]:
        typer.echo(
            f"disk: {d['path']}: {d['free_bytes'] / 2**30:.1f} GiB free of {d['total_bytes'] / 2**30:.1f} GiB"
            + ("  LOW" if d["low"] else "")
        )
    for name in ("sweep", "dispatch", "backup", "health"):
        j = rep.get(name)
        if j is None:
            continue
        age = "never" if j["age_s"] is None else f"{j['age_s']:.0f} s ago"
        typer.echo(f"{name}: last ok {age} (every {j['every_s']} s){'  OVERDUE' if j['overdue'] else ''}")
    if "outbox" in rep:
        o = rep["outbox"]
        oldest = "" if o["oldest_pending_age_s"] is None else f", oldest {o['oldest_pending_age_s']:.0f} s"
        typer.echo(f"outbox: {o['pending']} pending{oldest}, {o['dead']} dead")
    for p in rep["problems"]:
        zh, en = LABELS[p["check"]]
        typer.echo(f"problem: {zh} / {en}: {p['message']}", err=True)
    for a in rep.get("alarms", []):
        typer.echo(f"queued: {a['kind']} {a['check']} → {a['channel']}")


def register(app: typer.Typer) -> None:
    app.command("health")(health)
