"""``subsidence import``, ``subsidence export`` and ``subsidence template``: files in and out of the database."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from subsidence.cli._common import emit_json, fail, working

KIND_HELP = (
    "towns (admin areas incl. villages), units, enterprises, mines, panels, problems (= ledger), "
    "hazard-points, wells, buildings, subsidence-areas"
)


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def import_cmd(
    kind: str = typer.Argument(..., help=f"What the file holds: {KIND_HELP}."),
    file: Path = typer.Argument(..., help=".geojson, .gpkg, .shp (or zipped .zip) or .xlsx with Chinese headers."),
    crs: str = typer.Option(
        None,
        "--crs",
        help="CRS of the coordinates when the file has none (or to override it), "
        "e.g. EPSG:4490 (CGCS2000 lon/lat), EPSG:4546 (CGCS2000 GK CM 111E).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check everything and report what would change; change nothing."
    ),
    layer: str = typer.Option(None, "--layer", help="Layer of a multi-layer GeoPackage / zipped shapefiles."),
    sheet: str = typer.Option(None, "--sheet", help="Sheet of the workbook (default: the first data sheet)."),
    actor: str = typer.Option(None, "--actor", help="Who is importing, for the audit trail (default cli:USER)."),
    json_out: bool = typer.Option(False, "--json", help="Print the import report as JSON."),
) -> None:
    """Import KIND records from FILE; re-importing updates by stable key. A file with any error changes nothing."""
    from subsidence.cli._common import ready_engine
    from subsidence.interchange.fieldspecs import get_kind
    from subsidence.interchange.imports import ImportFailed, import_file

    try:
        spec = get_kind(kind)
    except ValueError as exc:
        fail(str(exc))
    try:
        with working(f"import {file.name}"):
            report = import_file(
                ready_engine(), spec, file, crs=crs, dry_run=dry_run, actor=_actor(actor), layer=layer, sheet=sheet
            )
    except ImportFailed as exc:
        if json_out:
            emit_json(exc.report.to_dict())
            raise typer.Exit(2) from None
        fail(exc.message)
    if json_out:
        emit_json(report.to_dict())
        return
    for w in report.warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(report.summary())
    if report.crs or report.encoding:
        typer.echo(
            f"  read {report.source}"
            + (f", CRS {report.crs}" if report.crs else "")
            + (f", encoding {report.encoding}" if report.encoding else "")
        )
    shown = [c for c in report.changes if c.action == "update"][:20]
    for c in shown:
        fields = ", ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in c.fields.items())
        typer.echo(f"  update {c.key} ({c.where}): {fields}")
    if report.updated > len(shown):
        typer.echo(f"  ... and {report.updated - len(shown)} more updates (use --json for all)")


def export_cmd(
    kind: str = typer.Argument(..., help=f"What to export: {KIND_HELP}."),
    file: Path = typer.Argument(
        ...,
        help="Output: .xlsx (Chinese headers; problems = the ledger layout), "
        ".geojson (RFC 7946 lon/lat), .gpkg or .shp (UTF-8, storage CRS).",
    ),
    crs: str = typer.Option(
        None, "--crs", help="Write coordinates in this CRS instead (e.g. EPSG:4546 keeps the storage CRS in GeoJSON)."
    ),
    field_names: str = typer.Option("en", "--field-names", help="Vector attribute names: en (default) or zh."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Export every KIND record to FILE (the format follows the extension); the file imports back as is."""
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import make_sessionmaker
    from subsidence.geo import CRSError
    from subsidence.interchange.exports import export_kind
    from subsidence.io.sniff import FormatError

    if field_names not in ("en", "zh"):
        fail("--field-names must be en or zh")
    try:
        with make_sessionmaker(ready_engine())() as session:
            report = export_kind(session, kind, file, crs=crs, field_names=field_names)
    except (ValueError, FormatError, CRSError) as exc:
        fail(str(exc))
    if json_out:
        emit_json(report.__dict__)
    else:
        typer.echo(report.summary())


def template_cmd(
    kind: str = typer.Argument(..., help=f"ledger (the problem ledger) or a KIND: {KIND_HELP}."),
    file: Path = typer.Argument(..., help="The .xlsx file to write."),
) -> None:
    """Write a blank Excel template for KIND: Chinese headers (required in red), dropdowns, instructions sheet."""
    from subsidence.interchange.exports import write_template

    if file.suffix.lower() != ".xlsx":
        fail(f"{file}: a template is an .xlsx workbook; name the file *.xlsx")
    try:
        out = write_template(kind, file)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(f"template written: {out}")


def register(app: typer.Typer) -> None:
    app.command("import", help="Import records from GeoJSON / GeoPackage / Shapefile / Excel (see --help).")(import_cmd)
    app.command("export", help="Export records to GeoJSON / GeoPackage / Shapefile / Excel.")(export_cmd)
    app.command("template", help="Write a blank Excel template (e.g. `subsidence template ledger 台账.xlsx`).")(
        template_cmd
    )
