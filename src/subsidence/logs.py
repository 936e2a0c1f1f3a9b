"""Logging setup for the CLI and the server (library code only ever calls ``logging.getLogger``)."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h, RichHandler) for h in root.handlers):
        root.setLevel(level.upper())
        return
    # logs go to stderr so that --json output on stdout stays machine-readable
    handler = RichHandler(console=Console(stderr=True), rich_tracebacks=False, show_path=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("alembic", "fontTools", "weasyprint", "rasterio", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
