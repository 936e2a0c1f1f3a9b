"""Logging setup for the CLI and the server (library code only ever calls ``logging.getLogger``)."""

from __future__ import annotations

import logging
import os
import sys

from rich.console import Console
from rich.logging import RichHandler


class JournalFormatter(logging.Formatter):
    """One plain line per record for the systemd journal, with the syslog priority prefix (``<3>`` error, ``<4>``
    warning, ...) that journald reads from a service's stderr: ``journalctl -p warning`` then finds alarms."""

    PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}

    def format(self, record: logging.LogRecord) -> str:
        prio = self.PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        text = f"{record.name}: {super().format(record)}"
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines() or [""])


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h, RichHandler) or isinstance(h.formatter, JournalFormatter) for h in root.handlers):
        root.setLevel(level.upper())
        return
    # logs go to stderr so that --json output on stdout stays machine-readable
    if os.environ.get("JOURNAL_STREAM"):  # set by systemd when stderr is the journal: plain lines, no wrapping
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler = RichHandler(console=Console(stderr=True), rich_tracebacks=False, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("alembic", "fontTools", "weasyprint", "rasterio", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
