"""``subsidence positions``: the leading group and its office as positions — roster, handovers, history, export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from subsidence.cli._common import emit_json, fail, unit_of_work

positions_app = typer.Typer(
    help="组织机构: positions of the leading group and its office, holders, handovers.", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Machine-readable output.")
ACTOR = typer.Option("office", "--actor", help="Who records it (role:unit), for the audit trail.")


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{what}: {text!r} is not a date YYYY-MM-DD")
    return None


def _need(text: str, what: str) -> date:
    d = _date(text, what)
    if d is None:
        raise typer.Exit(2)
    return d


@positions_app.command("seed")
def seed_cmd(
    on: str = typer.Option("2024-09-12", "--on", help="Date the group was set up (the plan's date)."),
    actor: str = ACTOR,
    json_out: bool = JSON,
) -> None:
    """Create the plan's leading group and office (伊政办发〔2024〕79号 §2); existing positions are kept."""
    from subsidence.organisation.service import seed_plan_composition

    with unit_of_work("seed leading group") as s:
        out = [p.code for p in seed_plan_composition(s, actor=actor, on=_need(on, "--on"))]
    emit_json({"positions": out}) if json_out else typer.echo(f"{len(out)} positions")


@positions_app.command("roster")
def roster_cmd(on: str = typer.Option(None, "--on", help="Date (default today)."), json_out: bool = JSON) -> None:
    """The positions and their holders on a date."""
    from subsidence.organisation.queries import roster

    with unit_of_work() as s:
        rows = roster(s, _date(on, "--on"))
    if json_out:
        emit_json([r.as_dict() for r in rows])
        return
    for r in rows:
        tasks = f" 牵头{','.join(map(str, r.lead_tasks))}" if r.lead_tasks else ""
        typer.echo(f"{r.code:<22} {r.title_zh:<6} {r.ex_officio:<28} {r.holder or '（空缺）'}{tasks}")


@positions_app.command("handover")
def handover_cmd(
    code: str = typer.Argument(..., help="Position code, e.g. LG-M-ENB."),
    holder: str = typer.Argument(..., help="Incoming holder, by role."),
    on: str = typer.Option(..., "--on", help="First day of the incoming holder (not in the future)."),
    reason: str = typer.Option(..., "--reason", help="Why (e.g. 职务调整)."),
    document: str = typer.Option(None, "--document", help="Appointment document (文号)."),
    user: str = typer.Option(None, "--user", help="The incoming holder's account (username)."),
    actor: str = ACTOR,
    json_out: bool = JSON,
) -> None:
    """交接: the current holder's tenure ends the day before; every duty of the position passes to the successor."""
    from sqlalchemy import select

    from subsidence.access.models import User
    from subsidence.organisation.service import handover

    with unit_of_work(f"handover {code}") as s:
        uid = None
        if user:
            uid = s.scalar(select(User.id).where(User.username == user))
            if uid is None:
                fail(f"--user: no account {user!r}")
        h = handover(s, code, holder, on=_need(on, "--on"), actor=actor, reason=reason, user_id=uid, document=document)
        out = {
            "position": code,
            "outgoing": h.outgoing.holder,
            "until": str(h.outgoing.end_date),
            "incoming": h.incoming.holder,
            "from": h.incoming.start_date.isoformat(),
            "duties": [d.power.label() + (f"（任务{d.task_no}）" if d.task_no else "") for d in h.duties],
        }
    emit_json(out) if json_out else typer.echo(f"{code}: {out['outgoing']} → {out['incoming']} from {out['from']}")


@positions_app.command("history")
def history_cmd(code: str = typer.Argument(None, help="Position code (default: all)."), json_out: bool = JSON) -> None:
    """Every tenure: who held the position from when to when, with the document."""
    from subsidence.organisation.queries import tenure_history

    with unit_of_work() as s:
        rows = tenure_history(s, code)
    if json_out:
        emit_json([r.as_dict() for r in rows])
        return
    for r in rows:
        typer.echo(f"{r.position:<22} {r.holder:<30} {r.start_date} – {r.end_date or '至今'}  {r.document or ''}")


OUT = typer.Argument(..., help="Output .xlsx (sheets 组织机构 and 任职记录).")


@positions_app.command("export")
def export_cmd(out: Path = OUT, on: str = typer.Option(None, "--on", help="Roster date (default today).")) -> None:
    """The roster and its history as one Excel workbook."""
    from subsidence.organisation.queries import export_roster

    if out.suffix.lower() != ".xlsx":
        fail(f"{out}: write the roster to an .xlsx file")
    with unit_of_work() as s:
        p = export_roster(s, out, _date(on, "--on"))
    typer.echo(str(p))


def register(app: typer.Typer) -> None:
    app.add_typer(positions_app, name="positions")
