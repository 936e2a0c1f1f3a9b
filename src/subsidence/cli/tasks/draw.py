"""``subsidence draw``: double random, one public (双随机、一公开) — verifiable draws and results.

Every command prints a short human line, or the full result with ``--json``; a refused operation exits
non-zero with the reason and changes nothing (the rules live in :mod:`subsidence.tasks`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import emit_json, fail
from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import JSON, MINE
from subsidence.cli.options import parse_date as _date
from subsidence.cli.options import parse_datetime as _when
from subsidence.cli.options import say as _out
from subsidence.cli.options import today_or as _today

CODE = typer.Argument(..., help="Code of the record (entry, building, plan, inspector, item or draw).")


def _mine(s, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


draw_app = typer.Typer(
    help="Double random, one public (双随机、一公开): verifiable draws and results.", no_args_is_help=True
)


# ------------------------------------------------------------------------------------------ draw


@draw_app.command("object")
def d_object(
    mine: str = MINE,
    grade: str = typer.Option(..., "--grade", help="high|medium|low"),
    inactive: bool = typer.Option(False, "--inactive"),
    as_json: bool = JSON,
) -> None:
    """Add a mine to the object directory (or change its risk grade)."""
    from subsidence.tasks.inspections import service as svc

    with _session("检查对象名录") as s:
        o = svc.set_object(s, _mine(s, mine), grade, active=not inactive)
        _out(
            {"mine": o.mine.licence_no, "grade": o.risk_grade.value},
            as_json,
            f"{o.mine.licence_no}: {o.risk_grade.label()}",
        )


@draw_app.command("inspector")
def d_inspector(
    code: str = CODE,
    unit: str = typer.Option(..., "--unit"),
    role: Optional[str] = typer.Option(None, "--role"),
    inactive: bool = typer.Option(False, "--inactive"),
    as_json: bool = JSON,
) -> None:
    """Add an inspector to the directory."""
    from subsidence.tasks.inspections import service as svc

    with _session("检查人员名录") as s:
        i = svc.add_inspector(s, code, unit, role_title=role, active=not inactive)
        _out({"inspector": i.code}, as_json, f"inspector {i.code}")


@draw_app.command("conflict")
def d_conflict(
    inspector: str = typer.Argument(..., help="Inspector code."),
    mine: str = MINE,
    reason: str = typer.Option(..., "--reason"),
    on: str = typer.Option(..., "--date"),
    as_json: bool = JSON,
) -> None:
    """Record an inspector's declared conflict with a mine (recusal in every later draw)."""
    from subsidence.tasks.inspections import service as svc

    with _session(reason) as s:
        c = svc.declare_conflict(s, inspector, _mine(s, mine), reason, _date(on, "--date"))
        _out(
            {"inspector": inspector, "mine": c.mine.licence_no},
            as_json,
            f"{inspector} recused from {c.mine.licence_no}",
        )


@draw_app.command("item")
def d_item(
    code: str = CODE,
    name: str = typer.Option(..., "--name"),
    high: int = typer.Option(100, "--high"),
    medium: int = typer.Option(70, "--medium"),
    low: int = typer.Option(50, "--low"),
    per_year: int = typer.Option(1, "--per-year"),
    inspectors: int = typer.Option(2, "--inspectors"),
    lead: Optional[str] = typer.Option(None, "--lead"),
    as_json: bool = JSON,
) -> None:
    """Create an inspection item with its ratios (%) per risk grade and frequency."""
    from subsidence.tasks.inspections import service as svc

    with _session("抽查事项") as s:
        i = svc.add_item(
            s,
            code,
            name,
            ratio_high_pct=high,
            ratio_medium_pct=medium,
            ratio_low_pct=low,
            per_year=per_year,
            inspectors_per_object=inspectors,
            lead_unit_code=lead,
        )
        _out({"item": i.code}, as_json, f"item {i.code}")


@draw_app.command("publish")
def d_publish(
    item: str,
    seed_source: str = typer.Option(..., "--seed-source", help="The announced public source."),
    seed_not_before: str = typer.Option(..., "--seed-not-before", help="Earliest time of the seed value."),
    supersedes: Optional[str] = typer.Option(None, "--supersedes", help="Draw this one redoes."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why the redo."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the record JSON here."),
    as_json: bool = JSON,
) -> None:
    """Freeze the candidate pool and publish its SHA-256 (before the draw)."""
    from subsidence.tasks.inspections import service as svc

    with _session(reason or "公布抽取名单") as s:
        r = svc.publish_draw(
            s,
            item,
            seed_source=seed_source,
            seed_not_before=_when(seed_not_before, "--seed-not-before"),
            supersedes=supersedes,
            redo_reason=reason,
        )
        rec = svc.export_record(s, r.code)
    if out:
        out.write_text(json.dumps(rec, ensure_ascii=False, indent=2), encoding="utf-8")
    _out(
        {"draw": rec["code"], "pool_sha256": rec["pool_sha256"], "published_at": rec["published_at"]},
        as_json,
        f"{rec['code']} published: pool SHA-256 {rec['pool_sha256']}",
    )


@draw_app.command("seed")
def d_seed(
    code: str = CODE,
    source: str = typer.Option(..., "--source"),
    value: str = typer.Option(..., "--value"),
    source_time: str = typer.Option(..., "--source-time", help="When the source produced the value."),
    as_json: bool = JSON,
) -> None:
    """Enter the public seed (only after the pool was published)."""
    from subsidence.tasks.inspections import service as svc

    with _session("录入随机种子") as s:
        seed = svc.enter_seed(s, code, source=source, value=value, source_time=_when(source_time, "--source-time"))
        _out(
            {"draw": code, "seed": seed.value, "entered_at": seed.entered_at.isoformat()},
            as_json,
            f"{code}: seed entered",
        )


@draw_app.command("run")
def d_run(
    code: str = CODE,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the full record JSON here."),
    as_json: bool = JSON,
) -> None:
    """Derive the picks from pool and seed, and store them."""
    from subsidence.tasks.inspections import service as svc

    with _session("抽取") as s:
        svc.run_draw(s, code)
        rec = svc.export_record(s, code)
    if out:
        out.write_text(json.dumps(rec, ensure_ascii=False, indent=2), encoding="utf-8")
    picks = [{"mine": o["key"], "inspectors": o["inspectors"]} for o in rec["result"]["objects"]]
    _out(
        {"draw": code, "picks": picks, "result_sha256": rec["result_sha256"]},
        as_json,
        "\n".join(f"{p['mine']}: {', '.join(p['inspectors'])}" for p in picks),
    )


@draw_app.command("export")
def d_export(code: str = CODE, out: Path = typer.Option(..., "--out")) -> None:
    """Write the draw record (pool, seed, result) as JSON for publication and verification."""
    from subsidence.tasks.inspections import service as svc

    with _session() as s:
        rec = svc.export_record(s, code)
    out.write_text(json.dumps(rec, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo(f"wrote {out}")


@draw_app.command("list")
def d_list(as_json: bool = JSON) -> None:
    """All draws (old ones stay; a redo names the one it supersedes)."""
    from subsidence.tasks.inspections import service as svc

    with _session() as s:
        rows = svc.list_draws(s)
    _out(
        rows,
        as_json,
        "\n".join(f"{r['code']} {r['item']} {r['state']} {r['pool_sha256'][:16]}…" for r in rows) or "no draws",
    )


@draw_app.command("verify")
def d_verify(
    record: Path = typer.Argument(..., help="RECORD.json exported by `draw run/export`."), as_json: bool = JSON
) -> None:
    """Re-derive the draw from the record alone; exit 1 naming the field if anything was changed."""
    from subsidence.tasks.inspections.draw import verify_record

    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"{record}: not a readable JSON record ({exc})")
    probs = verify_record(data)
    out = {"record": str(record), "code": data.get("code"), "ok": not probs, "problems": [p.as_dict() for p in probs]}
    if as_json:
        emit_json(out)
    elif probs:
        for p in probs:
            typer.echo(f"FAIL {p.field}: {p.message}", err=True)
    else:
        typer.echo(f"OK {data.get('code')}: pool, seed and result are consistent")
    if probs:
        raise typer.Exit(1)


@draw_app.command("result")
def d_result(
    code: str = typer.Argument(..., help="Draw code."),
    mine: str = MINE,
    on: str = typer.Option(..., "--date", help="Inspection date."),
    outcome: str = typer.Option(..., "--outcome", help="compliant|problems|not_inspected"),
    findings: Optional[str] = typer.Option(None, "--findings"),
    summary: Optional[str] = typer.Option(None, "--summary", help="Text the public sees."),
    category: Optional[str] = typer.Option(None, "--category", help="Problem category 1-7 if problems."),
    as_json: bool = JSON,
) -> None:
    """Enter the result of inspecting a drawn mine (deadline to publish: 20 working days)."""
    from subsidence.tasks.inspections import service as svc

    with _session("录入抽查结果") as s:
        r = svc.record_result(
            s,
            code,
            _mine(s, mine),
            inspected=_date(on, "--date"),
            outcome=outcome,
            findings=findings,
            public_summary=summary,
            problem_category=category,
        )
        _out(
            {
                "draw": code,
                "mine": r.mine.licence_no,
                "publish_deadline": r.publish_deadline.isoformat(),
                "problem_id": r.problem_id,
            },
            as_json,
            f"result recorded; publish by {r.publish_deadline}",
        )


@draw_app.command("announce")
def d_announce(
    code: str = typer.Argument(..., help="Draw code."),
    mine: str = MINE,
    on: str = typer.Option(..., "--date"),
    as_json: bool = JSON,
) -> None:
    """Publish a result (it becomes visible to the public)."""
    from subsidence.tasks.inspections import service as svc

    with _session("公开抽查结果") as s:
        r = svc.publish_result(s, code, _mine(s, mine), _date(on, "--date"))
        _out(
            {"draw": code, "mine": r.mine.licence_no, "published": r.published_date.isoformat()},
            as_json,
            f"published {r.published_date}",
        )


@draw_app.command("results")
def d_results(
    code: Optional[str] = typer.Argument(None),
    public: bool = typer.Option(False, "--public", help="Only what the public sees."),
    overdue: bool = typer.Option(False, "--overdue", help="Unpublished past the deadline."),
    today: Optional[str] = typer.Option(None, "--today"),
    as_json: bool = JSON,
) -> None:
    """Inspection results (all, public, or overdue for publication)."""
    from subsidence.tasks.inspections import service as svc

    with _session() as s:
        if public:
            rows = svc.public_results(s)
        elif overdue:
            rows = svc.overdue_publications(s, _today(today))
        else:
            rows = svc.results(s, _today(today), code)
    _out(
        rows,
        as_json,
        "\n".join(f"{r['draw']} {r['mine_name']} {r['outcome_zh']} published={r['published_date']}" for r in rows)
        or "none",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(draw_app, name="draw")
