"""The ``subsidence`` command. Each module named in :data:`COMMAND_MODULES` adds its commands with ``register(app)``.

Command modules import heavy libraries (rasterio, scipy, weasyprint) inside the command functions so
that ``subsidence --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

from subsidence.logs import configure_logging
from subsidence.settings import get_settings

app = typer.Typer(
    name="subsidence",
    help="Coal-mining subsidence governance: census, prediction, ledger, warning, battle map.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    """Settings come from SUBSIDENCE_* environment variables or a .env file (see README)."""
    configure_logging("DEBUG" if verbose else get_settings().log_level)


#: the command modules, each with ``register(app)``; a new command group is one module and one line here
COMMAND_MODULES = (
    "backup",
    "basemap",
    "db",
    "demo",
    "documents",
    "health",
    "history",
    "io",
    "ledger",
    "monitoring",
    "plans",
    "positions",
    "publication",
    "web",
    # the science side (cli/science/)
    "science.census",
    "science.insar",
    "science.prediction",
    # the task ledgers (cli/tasks/)
    "tasks.assess",
    "tasks.buildings",
    "tasks.draw",
    "tasks.fund",
    "tasks.minehazards",
    "tasks.tables",
    "tasks.water",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"subsidence.cli.{name}").register(app)


_register_all()
