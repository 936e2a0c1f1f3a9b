"""Shared CLI plumbing: engine from settings, JSON output, clean error exits."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

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
    from subsidence.db.session import make_engine

    return make_engine()


def ready_engine():
    """The engine, with the schema brought up to date first."""
    from subsidence.db.migrate import upgrade

    eng = engine()
    upgrade(eng)
    return eng
