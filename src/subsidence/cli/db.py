"""``subsidence db``: schema migrations and status."""

from __future__ import annotations

import typer

from subsidence.cli._common import emit_json, engine, fail

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_cmd(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the schema up to REVISION (default: newest)."""
    from subsidence.db.migrate import SchemaTooNew, current_revision, upgrade

    eng = engine()
    try:
        upgrade(eng, revision)
    except SchemaTooNew as exc:
        fail(str(exc))
    typer.echo(f"database {eng.url.render_as_string(hide_password=True)} at revision {current_revision(eng)}")


@db_app.command("downgrade")
def downgrade_cmd(revision: str = typer.Argument(..., help="Target revision, or 'base' for empty.")) -> None:
    """Migrate the schema down to REVISION."""
    from subsidence.db.migrate import downgrade

    downgrade(engine(), revision)


@db_app.command("status")
def status_cmd(json_out: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Show the database URL (password hidden) and its schema revision."""
    from subsidence.db.migrate import current_revision

    eng = engine()
    info = {
        "url": eng.url.render_as_string(hide_password=True),
        "dialect": eng.dialect.name,
        "revision": current_revision(eng),
    }
    if json_out:
        emit_json(info)
    else:
        for k, v in info.items():
            typer.echo(f"{k}: {v}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
