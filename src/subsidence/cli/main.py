"""The ``subsidence`` command. Each module in this package with a ``register(app)`` adds its commands.

Command modules import heavy libraries (rasterio, scipy, weasyprint) inside the command functions so
that ``subsidence --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

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


def _register_all() -> None:
    import subsidence.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in ("main",) or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"subsidence.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()
