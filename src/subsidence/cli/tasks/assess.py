"""``subsidence assess``: the annual assessment (年度评估) — scores, ranking, praise/exposure lists.

Every command prints a short human line, or the full result with ``--json``; a refused operation exits
non-zero with the reason and changes nothing (the rules live in :mod:`subsidence.tasks`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import fail
from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import JSON, YEAR
from subsidence.cli.options import parse_date as _date
from subsidence.cli.options import say as _out
from subsidence.cli.options import today_or as _today

CODE = typer.Argument(..., help="Code of the record (entry, building, plan, inspector, item or draw).")


def _mine(s, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


assess_app = typer.Typer(
    help="Annual assessment (年度评估): scores, ranking, praise/exposure lists.", no_args_is_help=True
)


# ------------------------------------------------------------------------------------------ assessment


@assess_app.command("run")
def a_run(
    year: int = YEAR,
    today: Optional[str] = typer.Option(None, "--today"),
    config: Optional[Path] = typer.Option(None, "--config", help="JSON weights/thresholds."),
    as_json: bool = JSON,
) -> None:
    """Score every mine for YEAR, rank and list (re-running replaces the year's scores)."""
    from subsidence.tasks import assessment as a

    with _session(f"{year}年度评估") as s:
        a.run_assessment(s, year, _today(today), a.AssessmentConfig.load(config))
        rows = a.ranking(s, year)
    _out(
        rows,
        as_json,
        "\n".join(f"{r['rank']:>3} {r['score']:6.2f} {r['mine_name']} {r['listing'] or ''}" for r in rows),
    )


@assess_app.command("show")
def a_show(year: int = YEAR, as_json: bool = JSON) -> None:
    """The stored ranking of YEAR with each indicator's contribution."""
    from subsidence.tasks import assessment as a

    with _session() as s:
        rows = a.ranking(s, year)
    _out(
        rows,
        as_json,
        "\n".join(
            f"{r['rank']:>3} {r['score']:6.2f} {r['mine_name']} "
            + " ".join(f"{i['zh']}={i['contribution']}" for i in r["indicators"])
            for r in rows
        )
        or f"no assessment for {year}; run `subsidence assess run {year}`",
    )


@assess_app.command("lists")
def a_lists(
    year: int = YEAR,
    out: Path = typer.Option(Path("."), "--out"),
    issued: Optional[str] = typer.Option(None, "--date"),
    as_json: bool = JSON,
) -> None:
    """The praise and exposure lists, ready to publish: PDF, DOCX and xlsx."""
    from subsidence.reports import tasks as rep
    from subsidence.tasks import assessment as a

    with _session() as s:
        rows = a.ranking(s, year)
    if not rows:
        fail(f"no assessment for {year}; run `subsidence assess run {year}` first")
    day = _date(issued, "--date") or _today(None)
    stem = out / f"assessment-{year}"
    rep.assessment_pdf(year, rows, stem.with_suffix(".pdf"), day)
    rep.assessment_docx(year, rows, stem.with_suffix(".docx"), day)
    rep.assessment_xlsx(year, rows, stem.with_suffix(".xlsx"))
    _out({k: str(stem.with_suffix("." + k)) for k in ("pdf", "docx", "xlsx")}, as_json, f"wrote {stem}.pdf/.docx/.xlsx")


def register(app: typer.Typer) -> None:
    app.add_typer(assess_app, name="assess")
