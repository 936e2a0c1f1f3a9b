"""``subsidence plan``: protection-and-reclamation plans, annual plans, reported parcels, verification, gap."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from subsidence.cli._common import emit_json, fail, resolve_actor, unit_of_work

AS_HELP = "Who acts: office | department:UNIT | enterprise:E-... (authorization applies)."

plan_app = typer.Typer(
    help="Mine treatment plans (矿山地质环境保护与土地复垦方案) and their achievement.", no_args_is_help=True
)

#: Excel columns of the annual-plan sheet: (header, field, kind)
ANNUAL_COLUMNS = [
    ("采矿许可证号", "licence_no", "str"),
    ("年度", "year", "int"),
    ("治理面积(公顷)", "target_treat_ha", "float"),
    ("复垦面积(公顷)", "target_reclaim_ha", "float"),
    ("耕地(公顷)", "cropland", "float"),
    ("林地(公顷)", "forest", "float"),
    ("草地(公顷)", "grassland", "float"),
    ("其他(公顷)", "other", "float"),
    ("治理工程", "works", "str"),
    ("预算(元)", "budget_yuan", "int"),
    ("应计提基金(元)", "required_fund_accrual_yuan", "int"),
]
PARCEL_FIELDS = {
    "code": ("code", "编号", "地块编号"),
    "purpose": ("purpose", "类型", "用途"),
    "land_type": ("land_type", "地类"),
    "planned_year": ("planned_year", "计划年度", "year"),
    "works": ("works", "治理工程"),
    "spending_yuan": ("spending_yuan", "投入(元)", "spending"),
}


def _parcels(path: Path, crs: str | None, *, default_purpose: str = "reclaim"):
    """ParcelInputs from a GIS file, reprojected to the storage CRS (CRS from the file or --crs)."""
    from subsidence.geo import STORAGE_CRS, parse_crs, transform_geometry
    from subsidence.io.vector import read_vector
    from subsidence.plans.service import ParcelInput

    table = read_vector(path)
    src = parse_crs(crs, source=str(path)) if crs else table.crs
    if src is None:
        fail(f"{path}: no CRS (.prj); pass --crs EPSG:xxxx")
    out, errors = [], []
    for i, (rec, g) in enumerate(zip(table.records, table.geometries), start=1):

        def get(name, default=None, rec=rec):
            for alias in PARCEL_FIELDS[name]:
                if alias in rec and rec[alias] not in (None, ""):
                    return rec[alias]
            return default

        if g is None:
            errors.append(f"{path} feature {i}: no geometry ({table.geometry_errors.get(i - 1, 'empty')})")
            continue
        code = get("code")
        if code is None:
            errors.append(f"{path} feature {i}: field code/编号 is empty")
            continue
        year = get("planned_year")
        out.append(
            ParcelInput(
                code=str(code),
                land_type=str(get("land_type", "other")),
                geometry=transform_geometry(g, src, STORAGE_CRS),
                purpose=str(get("purpose", default_purpose)),
                planned_year=int(year) if year is not None else None,
                works=get("works"),
                spending_yuan=int(float(get("spending_yuan", 0) or 0)),
            )
        )
    if errors:
        fail("; ".join(errors))
    return out


def _run(fn):
    """Run ``fn(session)`` in one unit of work (shared CLI error handling: nothing committed on failure)."""
    with unit_of_work() as session:
        return fn(session)


@plan_app.command("register")
def register_cmd(
    mine: str = typer.Argument(..., help="Mine licence number or name."),
    parcels: Path = typer.Argument(
        ..., exists=True, help="GIS file of plan parcels (code, purpose, land_type, planned_year)."
    ),
    doc_no: str = typer.Option(..., help="Approval document number."),
    approval_date: str = typer.Option(..., help="ISO date."),
    valid_from: str = typer.Option(None, help="ISO date (default: approval date)."),
    valid_to: str = typer.Option(..., help="ISO date."),
    cost_yuan: int = typer.Option(0, help="Cost estimate, yuan."),
    works: str = typer.Option(None, help="Works description."),
    revision_reason: str = typer.Option(None, help="Required when the mine already has a plan."),
    crs: str = typer.Option(None, help="CRS of the parcels when the file has none."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Register a plan (or a revision: the previous revision is kept)."""
    from subsidence.ledger.lifecycle import find_mine
    from subsidence.plans.service import register_plan

    items = _parcels(parcels, crs)

    def go(session):
        p = register_plan(
            session,
            find_mine(session, mine),
            doc_no=doc_no,
            approval_date=date.fromisoformat(approval_date),
            valid_from=date.fromisoformat(valid_from or approval_date),
            valid_to=date.fromisoformat(valid_to),
            parcels=items,
            works=works,
            cost_estimate_yuan=cost_yuan,
            revision_reason=revision_reason,
            actor=resolve_actor(session, as_, "cli"),
        )
        return {
            "plan": p.code,
            "revision": p.revision,
            "parcels": len(p.parcels),
            "area_ha": round(sum(x.area_ha for x in p.parcels), 2),
        }

    out = _run(go)
    emit_json(out) if json_out else typer.echo(f"registered {out['plan']} ({out['parcels']} parcels)")


@plan_app.command("template")
def template_cmd(out: Path = typer.Argument(..., help="Where to write the annual-plan template (.xlsx).")) -> None:
    """Write the Excel template of annual plans (年度治理与复垦计划) with Chinese headers."""
    from subsidence.io.excel import Column, write_table

    write_table(
        out,
        [Column(h, required=f in ("licence_no", "year"), kind=k) for h, f, k in ANNUAL_COLUMNS],
        [],
        sheet_title="年度计划",
        title="矿山年度治理与复垦计划表",
        instructions=[
            ["列", "说明"],
            ["采矿许可证号", "与采矿许可证一致"],
            ["面积", "单位：公顷，不得为负"],
            ["金额", "单位：元"],
        ],
    )
    typer.echo(f"wrote {out}")


@plan_app.command("annual")
def annual_cmd(
    file: Path = typer.Argument(..., exists=True, help="Excel file of annual plans (see `plan template`)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Import annual plans from Excel: all rows or nothing; re-importing updates (key: licence + year)."""
    import difflib

    from subsidence.io.excel import normalize_header, read_sheet
    from subsidence.ledger.lifecycle import find_mine
    from subsidence.plans.service import set_annual_plan

    table = read_sheet(file, known_headers=[h for h, _, _ in ANNUAL_COLUMNS])
    index = {normalize_header(h): j for j, h in enumerate(table.headers)}
    missing = [h for h, f, _ in ANNUAL_COLUMNS if normalize_header(h) not in index and f in ("licence_no", "year")]
    if missing:
        hint = {m: difflib.get_close_matches(normalize_header(m), list(index), n=1) for m in missing}
        fail(
            f"{file}: missing column(s) "
            + ", ".join(f"{m}" + (f" (found {hint[m][0]!r}: misspelt?)" if hint[m] else "") for m in missing)
        )
    rows, errors = [], []
    for excel_row, values in table.rows:
        rec = {}
        for h, f, kind in ANNUAL_COLUMNS:
            j = index.get(normalize_header(h))
            v = values[j] if j is not None and j < len(values) else None
            if v in (None, ""):
                continue
            try:
                rec[f] = int(float(v)) if kind == "int" else float(v) if kind == "float" else str(v).strip()
            except (TypeError, ValueError):
                errors.append(f"{file} row {excel_row} column {h}: {v!r} is not a number")
        rows.append((excel_row, rec))
    if errors:
        fail("; ".join(errors))

    def go(session):
        done = []
        problems = []
        actor = resolve_actor(session, as_, "cli")
        for excel_row, rec in rows:
            try:
                m = find_mine(session, rec["licence_no"])
                by_type = {k: rec[k] for k in ("cropland", "forest", "grassland", "other") if k in rec}
                ap = set_annual_plan(
                    session,
                    m,
                    rec["year"],
                    target_treat_ha=rec.get("target_treat_ha", 0.0),
                    target_reclaim_ha=rec.get("target_reclaim_ha", 0.0),
                    targets_by_land_type=by_type or None,
                    works=rec.get("works"),
                    budget_yuan=rec.get("budget_yuan", 0),
                    required_fund_accrual_yuan=rec.get("required_fund_accrual_yuan", 0),
                    actor=actor,
                )
                done.append({"mine": m.licence_no, "year": ap.year})
            except Exception as exc:  # collect every row's problem, then refuse the whole file
                problems.append(f"{file} row {excel_row}: {getattr(exc, 'message', exc)}")
        if problems:
            from subsidence.errors import ValidationFailed

            raise ValidationFailed("; ".join(problems))
        return done

    out = _run(go)
    emit_json(out) if json_out else typer.echo(f"imported {len(out)} annual plans")


@plan_app.command("report")
def report_cmd(
    mine: str = typer.Argument(..., help="Mine licence number or name."),
    year: int = typer.Argument(..., help="Plan year."),
    parcels: Path = typer.Argument(
        ..., exists=True, help="GIS file of treated parcels (code, land_type, spending_yuan, works)."
    ),
    reported_date: str = typer.Option(None, help="ISO date (default today)."),
    crs: str = typer.Option(None, help="CRS of the parcels when the file has none."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """The enterprise reports treated/reclaimed parcels for a year (attribute purpose: treat/治理 or reclaim/复垦)."""
    from subsidence.ledger.lifecycle import find_mine, today_local
    from subsidence.plans.service import report_treated

    items = _parcels(parcels, crs)
    on = date.fromisoformat(reported_date) if reported_date else today_local()
    out = _run(
        lambda s: [
            {"parcel": t.code, "area_ha": t.area_ha}
            for t in report_treated(
                s, find_mine(s, mine), year, items, reported_date=on, actor=resolve_actor(s, as_, "cli")
            )
        ]
    )
    emit_json(out) if json_out else typer.echo(f"reported {len(out)} parcels")


@plan_app.command("verify")
def verify_cmd(
    year: int = typer.Argument(..., help="Plan year whose reported parcels are checked."),
    ndvi_before: Path = typer.Option(..., exists=True, help="NDVI GeoTIFF before treatment (projected CRS)."),
    ndvi_after: Path = typer.Option(..., exists=True, help="NDVI GeoTIFF after treatment, same grid."),
    on: str = typer.Option(None, help="Verification date (default today)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Check every reported parcel of YEAR against NDVI recovery and ground stability (from the census)."""
    import numpy as np
    from sqlalchemy import select

    from subsidence.census.kernels.grid import Grid
    from subsidence.io.raster import read_geotiff
    from subsidence.ledger.lifecycle import today_local
    from subsidence.plans.models import TreatedParcel
    from subsidence.plans.service import verify_by_remote_sensing
    from subsidence.vocabulary import ParcelState

    b = read_geotiff(ndvi_before, require_metric=True)
    a = read_geotiff(ndvi_after, require_metric=True)
    if b.shape != a.shape or tuple(b.transform) != tuple(a.transform) or b.crs != a.crs:
        fail(f"{ndvi_before} and {ndvi_after} are not on the same grid (shape, transform and CRS must match)")
    grid = Grid.make(b.transform, b.crs, b.shape, source=str(ndvi_before))
    day = date.fromisoformat(on) if on else today_local()

    def go(session):
        parcels = list(
            session.scalars(
                select(TreatedParcel).where(TreatedParcel.year == year, TreatedParcel.state == ParcelState.REPORTED)
            )
        )
        return verify_by_remote_sensing(
            session,
            parcels,
            ndvi_before=np.asarray(b.array[0], float),
            ndvi_after=np.asarray(a.array[0], float),
            grid=grid,
            on=day,
            actor=resolve_actor(session, as_, "cli"),
        )

    out = _run(go)
    if json_out:
        emit_json(out)
    else:
        for r in out:
            typer.echo(f"{r['parcel']}: {r['state']}" + (f" — {'; '.join(r['reasons'])}" if r["reasons"] else ""))


def _field_acceptance(
    parcel: str, passed: bool, inspector: list[str], reason: str | None, on: str | None, as_: str, json_out: bool
) -> None:
    from subsidence.ledger.lifecycle import today_local
    from subsidence.plans.service import field_acceptance, find_parcel

    day = date.fromisoformat(on) if on else today_local()
    out = _run(
        lambda s: (
            field_acceptance(
                s,
                find_parcel(s, parcel),
                passed=passed,
                on=day,
                reason=reason,
                inspectors=inspector,
                actor=resolve_actor(s, as_, "cli"),
            ).state.value
        )
    )
    emit_json({"parcel": parcel, "state": out}) if json_out else typer.echo(f"{parcel}: {out}")


@plan_app.command("accept")
def accept_cmd(
    parcel: str = typer.Argument(..., help="Treated parcel code (already verified by remote sensing)."),
    inspector: list[str] = typer.Option(..., "--inspector", help="Inspector present (repeat; at least two)."),
    reason: str = typer.Option(None, help="Note."),
    on: str = typer.Option(None, help="Acceptance date (default today)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Field acceptance (现场验收) passed for a parcel verified by remote sensing."""
    _field_acceptance(parcel, True, inspector, reason, on, as_, json_out)


@plan_app.command("reject")
def reject_cmd(
    parcel: str = typer.Argument(..., help="Treated parcel code (already verified by remote sensing)."),
    reason: str = typer.Option(..., help="Why it fails (required)."),
    inspector: list[str] = typer.Option(..., "--inspector", help="Inspector present (repeat; at least two)."),
    on: str = typer.Option(None, help="Date (default today)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Field acceptance failed: the parcel is rejected with the reason."""
    _field_acceptance(parcel, False, inspector, reason, on, as_, json_out)


@plan_app.command("gap")
def gap_cmd(
    year: int = typer.Argument(..., help="Plan year."),
    by: str = typer.Option("mine", help="Group by mine or town."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Planned against achieved (verified or accepted) hectares and money, on time or late."""
    from subsidence.plans.service import plan_gap

    rows = _run(lambda s: [r.as_dict() for r in plan_gap(s, year, by=by)])
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['key']} {r['name']}: planned {r['planned_ha']} ha, achieved {r['achieved_ha']} ha, "
            f"gap {r['gap_ha']} ha, budget {r['budget_yuan']} yuan, spent {r['spent_yuan']} yuan"
        )


@plan_app.command("shortfalls")
def shortfalls_cmd(
    year: int = typer.Argument(..., help="Plan year (must be over)."),
    today: str = typer.Option(None, help="ISO date (default today)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Open a category-1 problem (once) for each mine that fell short of its annual plan."""
    from subsidence.ledger.lifecycle import today_local
    from subsidence.plans.service import open_shortfall_problems

    day = date.fromisoformat(today) if today else today_local()
    opened = _run(lambda s: open_shortfall_problems(s, year, day))
    emit_json({"opened": opened}) if json_out else typer.echo(f"opened {len(opened)} problems: {', '.join(opened)}")


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
