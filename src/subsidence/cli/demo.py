"""``subsidence demo``: build the illustrative demo county and summarise it (then serve the web platform)."""

from __future__ import annotations

from datetime import date

import typer

from subsidence.cli._common import emit_json


def demo(
    no_serve: bool = typer.Option(False, "--no-serve", help="Build and summarise only; do not start the web server."),
    reset: bool = typer.Option(False, "--reset", help="Drop everything in the database and rebuild the demo."),
    seed: int = typer.Option(20240912, help="Random seed (the same seed gives the same county)."),
    today: str = typer.Option(
        None, help="Date the summary is computed for (ISO, default: today in the settings' zone)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build the illustrative Ejin Horo Banner demo (towns, mines, panels, problems, hazards) and print a summary.

    Honours SUBSIDENCE_DATA_DIR and SUBSIDENCE_DATABASE_URL. Re-running keeps an existing demo (use --reset).
    """
    import logging
    from datetime import datetime

    from subsidence.db.audit import acting_as
    from subsidence.db.migrate import downgrade, upgrade
    from subsidence.db.session import make_engine, make_sessionmaker
    from subsidence.demo.county import build_demo, is_built
    from subsidence.ledger.summary import county_summary
    from subsidence.settings import get_settings

    log = logging.getLogger("subsidence.demo")
    settings = get_settings()
    as_of = date.fromisoformat(today) if today else datetime.now(settings.tz).date()
    eng = make_engine()
    if reset:
        downgrade(eng, "base")
    upgrade(eng)
    with make_sessionmaker(eng)() as session:
        if is_built(session):
            log.info("demo county already in %s (use --reset to rebuild)", eng.url.render_as_string(hide_password=True))
        else:
            from rich.console import Console
            from rich.progress import Progress

            from subsidence.demo.county import DEMO_EXTENSIONS

            with (
                acting_as(session, "demo", "illustrative demo county"),
                Progress(console=Console(stderr=True), transient=True) as bar,
            ):
                task = bar.add_task("building the demo county", total=1 + len(DEMO_EXTENSIONS))
                counts = build_demo(
                    session,
                    seed=seed,
                    today=as_of,
                    on_step=lambda name: bar.update(task, advance=1, description=f"demo: {name}"),
                )
                session.commit()
            log.info("built demo county: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
        summary = county_summary(session, as_of)
    if json_out:
        emit_json(summary)
    else:
        _print_summary(summary)
    if not no_serve:
        _serve_if_available(eng)


def _print_summary(s: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from subsidence.vocabulary import ProblemCategory, ProblemState

    console = Console()
    console.print(
        f"[bold]伊金霍洛旗采煤沉陷区专项整治（示例数据） / Ejin Horo Banner demo (illustrative)[/] — as of {s['as_of']}"
    )
    console.print(
        f"mines 矿山: {s['mines']}   panels 工作面: {s['panels']}   problems 问题: {s['problems']}   "
        f"overdue 逾期: [red]{s['overdue']}[/]"
    )
    t = Table(title="问题按类别 / problems by category")
    t.add_column("#"), t.add_column("类别 category"), t.add_column("n", justify="right")
    for code, n in s["problems_by_category"].items():
        c = ProblemCategory(code)
        t.add_row(code, f"{c.label('zh-CN')} / {c.label('en')}", str(n))
    console.print(t)
    t = Table(title="问题按状态 / problems by state")
    t.add_column("状态 state"), t.add_column("n", justify="right")
    for code, n in s["problems_by_state"].items():
        st = ProblemState(code)
        t.add_row(f"{st.label('zh-CN')} / {st.label('en')}", str(n))
    console.print(t)
    t = Table(title="各镇采矿权面积 / mining-right area per town (ha)")
    t.add_column("镇 town"), t.add_column("采矿权 ha", justify="right"), t.add_column("镇域 ha", justify="right")
    for row in s["mining_right_area_by_town"].values():
        t.add_row(f"{row['name_zh']} {row['name_en']}", f"{row['mining_right_ha']:.1f}", f"{row['town_area_ha']:.1f}")
    console.print(t)


def _serve_if_available(eng) -> None:
    from subsidence.cli.web import serve_demo

    serve_demo(eng)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
