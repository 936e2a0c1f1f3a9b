"""``subsidence tasks``: Excel import/export/templates of the task ledgers (Chinese headers).

Every command prints a short human line, or the full result with ``--json``; a refused operation exits
non-zero with the reason and changes nothing (the rules live in :mod:`subsidence.tasks`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from subsidence.cli._common import fail
from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import JSON
from subsidence.cli.options import say as _out

CODE = typer.Argument(..., help="Code of the record (entry, building, plan, inspector, item or draw).")


def _mine(s, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


# ------------------------------------------------------------------------------------------ Excel


tables_app = typer.Typer(
    help="Excel import/export/templates of the task ledgers (Chinese headers).", no_args_is_help=True
)


@tables_app.command("list")
def t_list(as_json: bool = JSON) -> None:
    """The tables: fund-entries, fund-obligations, water-plans, hidden-factors, inspectors, ... ."""
    from subsidence.interchange.task_ledgers import TABLES

    rows = [{"table": t.name, "zh": t.zh, "columns": [f.zh for f in t.fields]} for t in TABLES.values()]
    _out(
        rows,
        as_json,
        "\n".join(f"{r['table']:<20} {r['zh']}" for r in rows)
        + "\n(compensated buildings: `subsidence import buildings FILE`)",
    )


@tables_app.command("template")
def t_template(table: str, out: Path) -> None:
    """Write a blank template for TABLE (headers, dropdowns, instructions)."""
    from subsidence.errors import ServiceError
    from subsidence.interchange.task_ledgers import write_template

    try:
        write_template(table, out)
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"wrote {out}")


@tables_app.command("export")
def t_export(table: str, out: Path, as_json: bool = JSON) -> None:
    """Export TABLE to an .xlsx file with Chinese headers."""
    from subsidence.interchange.task_ledgers import export_table

    with _session() as s:
        n = export_table(s, table, out)
    _out({"table": table, "file": str(out), "rows": n}, as_json, f"wrote {n} row(s) to {out}")


@tables_app.command("import")
def t_import(
    table: str,
    file: Path,
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only."),
    as_json: bool = JSON,
) -> None:
    """Import FILE into TABLE: all rows valid or nothing changes; re-importing changes nothing."""
    from subsidence.interchange.task_ledgers import import_table

    with _session(f"import {file.name}") as s:
        res = import_table(s, table, file)
        if dry_run:
            s.rollback()
    _out(
        res.as_dict() | {"dry_run": dry_run},
        as_json,
        f"{res.rows} row(s): {res.created} created, {res.updated} updated, {res.unchanged} unchanged"
        + (" (dry run, nothing saved)" if dry_run else ""),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tables_app, name="tasks")
