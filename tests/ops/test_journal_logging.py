"""Under systemd (JOURNAL_STREAM set) the services log one plain line per record with the syslog priority prefix
journald reads, instead of Rich's wrapped columns."""

from __future__ import annotations

import os
import subprocess
import sys


def _run(env_extra: dict[str, str]) -> str:
    code = (
        "import logging; from subsidence.logs import configure_logging; configure_logging('INFO'); "
        "logging.getLogger('subsidence.ops.health').error('OPS ALARM sweep: ' + 'x' * 150); "
        "logging.getLogger('subsidence.web').info('two\\nlines')"
    )
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"} | env_extra
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stderr


def test_journal_lines_carry_the_priority_and_are_not_wrapped():
    lines = _run({"JOURNAL_STREAM": "8:12345"}).splitlines()
    assert lines == ["<3>subsidence.ops.health: OPS ALARM sweep: " + "x" * 150, "<6>subsidence.web: two", "<6>lines"]


def test_a_terminal_keeps_the_rich_handler():
    out = _run({"COLUMNS": "80"})
    assert "<3>" not in out and "OPS ALARM" in out
