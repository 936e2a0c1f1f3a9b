"""Shared CLI plumbing: engine from settings, JSON output, clean error exits."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from typing import Any, Iterator

import typer

log = logging.getLogger("subsidence.cli")


class UserError(Exception):
    """An error caused by the user's input; printed without a traceback, exit code 2."""


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def engine():
    """The engine for the configured database (migrations are not run here)."""
    import subsidence.schema  # noqa: F401  (every table and policy; imported here to keep --help fast)
    from subsidence.db.session import make_engine

    return make_engine()


def unreachable(eng, exc: Exception) -> None:
    """Exit 4 with the database named (password hidden) and what to check, instead of a driver traceback."""
    url = eng.url.render_as_string(hide_password=True)
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    fail(
        f"cannot reach the database {url}: {cause} — check SUBSIDENCE_DATABASE_URL and that the server is "
        "running and reachable (nothing was changed)",
        4,
    )


def ready_engine():
    """The engine, with the schema brought up to date first."""
    from sqlalchemy.exc import OperationalError

    from subsidence.db.migrate import SchemaTooNew, upgrade

    eng = engine()
    try:
        upgrade(eng)
    except SchemaTooNew as exc:
        fail(str(exc))
    except OperationalError as exc:
        unreachable(eng, exc)
    return eng


@contextlib.contextmanager
def unit_of_work(reason: str | None = None) -> Iterator:
    """One transaction on the configured database (schema migrated first). Service errors become clean exits
    with nothing committed: exit 3 for forbidden / not found / conflict, 2 for invalid input."""
    from sqlalchemy.exc import OperationalError

    from subsidence.db.session import transaction
    from subsidence.errors import ServiceError

    eng = ready_engine()
    try:
        with transaction(eng, actor="cli", reason=reason) as session:
            yield session
    except OperationalError as exc:
        unreachable(eng, exc)
    except ServiceError as exc:
        fail(exc.message, 3 if exc.http_status in (403, 404, 409) else 2)
    except ValueError as exc:
        fail(str(exc))


def resolve_actor(session, spec: str, name: str):
    """Build an :class:`Actor` from ``--as ROLE[:UNIT]`` (office, department:NRB, town:T-WLML, enterprise:E-SD ...)."""
    from sqlalchemy import or_, select

    from subsidence.access.policy import Actor
    from subsidence.core.models import AdminArea, Enterprise, TaskAssignment, Unit
    from subsidence.errors import NotFound, ValidationFailed
    from subsidence.vocabulary import Role, UnitKind

    role_text, _, unit_text = spec.partition(":")
    try:
        role = Role.parse(role_text)
    except ValueError as exc:
        raise ValidationFailed(f"--as {spec!r}: {exc}") from exc
    unit = None
    enterprise_id = None
    if unit_text:
        unit = session.scalar(select(Unit).where(Unit.code == unit_text))
        if unit is None and role == Role.TOWN:
            area = session.scalar(
                select(AdminArea).where(or_(AdminArea.code == unit_text, AdminArea.name_zh == unit_text))
            )
            if area is not None:
                unit = session.scalar(select(Unit).where(Unit.town_id == area.id, Unit.kind == UnitKind.TOWN))
        if unit is None and role == Role.ENTERPRISE:
            ent = session.scalar(select(Enterprise).where(Enterprise.credit_code == unit_text))
            if ent is not None:
                enterprise_id = ent.id
                unit = session.scalar(select(Unit).where(Unit.enterprise_id == ent.id))
        if unit is None and enterprise_id is None:
            raise NotFound(f"--as {spec!r}: no unit {unit_text!r} (units have codes like NRB, U-T-ALTX, E-...)")
    elif role == Role.OFFICE:
        unit = session.scalar(select(Unit).where(Unit.kind == UnitKind.OFFICE).order_by(Unit.code).limit(1))
    elif role != Role.PUBLIC:
        raise ValidationFailed(f"--as {spec!r}: name the unit, e.g. --as {role.value}:CODE")
    tasks = (
        frozenset(session.scalars(select(TaskAssignment.task_no).where(TaskAssignment.unit_id == unit.id)))
        if unit is not None
        else frozenset()
    )
    return Actor(
        username=name,
        role=role,
        unit_id=unit.id if unit else None,
        enterprise_id=enterprise_id or (unit.enterprise_id if unit else None),
        town_id=unit.town_id if unit else None,
        task_nos=tasks,
    )


@contextlib.contextmanager
def working(description: str) -> Iterator[None]:
    """A live progress line on stderr (spinner and elapsed time) while a long step runs; gone when it ends."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        bar.add_task(description, total=None)
        yield
