"""Options and value parsers every command shares: ``--json``, ``--today``, ``--as``, dates and date-times.

One definition each, so that every command spells them, documents them and refuses bad values the same way
(exit 2 with the option's name and the expected form).
"""

from __future__ import annotations

from datetime import date, datetime

import typer

from subsidence.cli._common import emit_json, fail

JSON_HELP = "Machine-readable output (JSON on stdout; logs and progress go to stderr)."
AS_HELP = "Act as ROLE[:UNIT]: office, department:NRB, town:T-WLML, enterprise:E-SD, monitor, public."

JSON = typer.Option(False, "--json", help=JSON_HELP)
TODAY = typer.Option(
    None, "--today", help="Evaluate deadlines on this date, YYYY-MM-DD (default: today in the configured time zone)."
)
AS = typer.Option("office", "--as", help=AS_HELP)
MINE = typer.Argument(..., help="Mine: licence number (采矿许可证号) or name.")
YEAR = typer.Argument(..., help="Year, e.g. 2025.")


def parse_date(value: str | None, name: str) -> date | None:
    """An ISO date (YYYY-MM-DD) from option ``name``, ``None`` when not given; anything else exits 2."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: {value!r} is not a date; use YYYY-MM-DD")


def today_or(value: str | None, name: str = "--today") -> date:
    """The date given by ``--today``, else today in the configured time zone (Asia/Shanghai by default)."""
    from subsidence.settings import get_settings

    return parse_date(value, name) or datetime.now(get_settings().tz).date()


def parse_datetime(value: str | None, name: str) -> datetime | None:
    """An ISO date-time; without a zone it is read in the configured zone (Asia/Shanghai by default)."""
    if value is None or value == "":
        return None
    from subsidence.settings import get_settings

    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{name}: {value!r} is not a date-time; use e.g. 2026-12-03T21:30+08:00")
    return t if t.tzinfo else t.replace(tzinfo=get_settings().tz)


def say(obj, as_json: bool, line: str) -> None:
    """``obj`` as JSON with ``--json``, else the short human ``line``."""
    if as_json:
        emit_json(obj)
    else:
        typer.echo(line)
