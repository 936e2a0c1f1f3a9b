"""``subsidence backup``: create, verify and restore one archive of the database and the data directory.

Thin: the rules are in :mod:`subsidence.ops.backup`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from subsidence.cli._common import emit_json, fail

backup_app = typer.Typer(
    help="备份与恢复 / backup, verify and restore (database snapshot + data directory).", no_args_is_help=True
)


@backup_app.command("create")
def backup_create(
    path: str = typer.Argument(
        ...,
        help="Archive to write (.tar, .tar.gz, .tar.zst), or a folder: a time-stamped "
        "subsidence-YYYYMMDDTHHMMSSZ.tar.zst is written inside it.",
    ),
    keep: int = typer.Option(
        0, "--keep", min=0, help="With a folder: keep only the newest N archives in it (0 = keep all)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Write a consistent database snapshot (pg_dump custom format / SQLite online backup), every file of the data
    directory and a manifest (row counts, SHA-256 of every file). Safe while the platform runs."""
    from sqlalchemy.exc import SQLAlchemyError

    from subsidence.cli._common import engine
    from subsidence.ops.backup import BackupError, create_backup, prune
    from subsidence.ops.heartbeat import beat_now
    from subsidence.settings import get_settings

    eng = engine()
    folder = Path(path).is_dir() or path.endswith("/")
    try:
        result = create_backup(path + ("/" if folder and not path.endswith("/") else ""), get_settings(), eng)
    except BackupError as exc:
        _beat(beat_now, eng, ok=False, error=str(exc))
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(
            f"cannot read the database {eng.url.render_as_string(hide_password=True)}: "
            f"{str(exc.__cause__ or exc).splitlines()[0]}; is it running? (`subsidence health`)"
        )
    pruned = prune(result.path.parent, keep) if folder and keep else []
    out = result.to_dict() | {"pruned": [str(p) for p in pruned]}
    _beat(beat_now, eng, ok=True, detail=out)
    if json_out:
        emit_json(out)
    else:
        typer.echo(
            f"backup {out['path']}: {out['rows']} rows in {out['tables']} tables, {out['files']} files "
            f"({out['bytes']} bytes) in {out['seconds']:.1f} s"
        )


def _beat(beat_now, eng, **kw) -> None:
    """Record the backup's heartbeat; a database without the heartbeat table (older schema) is left as is."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    try:
        beat_now(eng, "backup", **kw)
    except SQLAlchemyError as exc:
        logging.getLogger("subsidence.ops").warning(
            "backup heartbeat not recorded (%s); run `subsidence db upgrade`", exc.__class__.__name__
        )


@backup_app.command("verify")
def backup_verify(
    path: Annotated[Path, typer.Argument(help="Archive written by `subsidence backup create`.")],
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Check every member against the manifest's SHA-256 and the database copy itself. Exit 1 when damaged."""
    from subsidence.ops.backup import verify_backup

    result = verify_backup(path)
    if json_out:
        emit_json(result.to_dict())
    else:
        totals = (result.manifest or {}).get("totals") or {}
        if result.ok:
            typer.echo(
                f"ok: {path} ({totals.get('rows')} rows, {totals.get('files')} files); " + "; ".join(result.checks)
            )
        for p in result.problems:
            typer.echo(f"problem: {p}", err=True)
    if not result.ok:
        raise typer.Exit(1)


@backup_app.command("restore")
def backup_restore(
    path: Annotated[Path, typer.Argument(help="Archive written by `subsidence backup create`.")],
    force: bool = typer.Option(
        False, "--force", help="Replace a database that holds rows and move the data directory's current files aside."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Restore into the configured (empty) database and data directory; stop the services first.

    Everything is checked before anything is changed; a failed restore changes nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    from subsidence.cli._common import engine
    from subsidence.ops.backup import BackupError, restore_backup
    from subsidence.settings import get_settings

    eng = engine()
    try:
        result = restore_backup(path, get_settings(), eng, force=force)
    except BackupError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(
            f"cannot reach the database {eng.url.render_as_string(hide_password=True)}: "
            f"{str(exc.__cause__ or exc).splitlines()[0]}; nothing was restored"
        )
    out = result.to_dict()
    if json_out:
        emit_json(out)
    else:
        typer.echo(
            f"restored {path}: {out['rows']} rows in {out['tables']} tables, {out['files']} files "
            f"in {out['seconds']:.1f} s"
        )
        for n in out["notes"]:
            typer.echo(f"note: {n}")


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
