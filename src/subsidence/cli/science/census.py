"""``subsidence census``, ``review``, ``census-change``, ``vegetation``, ``pv``: the remote-sensing census.

Thin adapters: files → :mod:`subsidence.census` kernels → :mod:`subsidence.census.service`. Errors in
the input end with a message naming the file and the fix (exit code 2) and leave no output file behind.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import emit_json, fail
from subsidence.geo import ha_to_mu

log = logging.getLogger("subsidence.cli.science.census")

review_app = typer.Typer(
    help="专家评审 Expert review of census candidates: list, confirm, reject, merge, split.", no_args_is_help=True
)

LAYER_HELP = "a vector file (GeoPackage/Shapefile/GeoJSON) or 'db' for the database"


def _input_errors():
    from subsidence.census.kernels.basins import CensusInputError
    from subsidence.census.kernels.vegetation import VegetationInputError
    from subsidence.errors import ServiceError
    from subsidence.geo import CRSError
    from subsidence.io.sniff import FormatError

    return (CensusInputError, VegetationInputError, CRSError, FormatError, ServiceError, OSError)


def _layers(mines: str | None, panels: str | None, towns: str | None):
    """Reference layers from files or the database (storage CRS)."""
    from subsidence.census.kernels.inputs import read_layer

    out = {"mines": [], "panels": [], "towns": []}
    db_needed = [k for k, v in (("mines", mines), ("panels", panels), ("towns", towns)) if v == "db"]
    if db_needed:
        from subsidence.census.service import reference_layers
        from subsidence.cli._common import ready_engine
        from subsidence.db.session import make_sessionmaker

        with make_sessionmaker(ready_engine())() as s:
            m, p, t = reference_layers(s)
        db = {"mines": m, "panels": p, "towns": t}
        for k in db_needed:
            out[k] = db[k]
    for k, v in (("mines", mines), ("panels", panels), ("towns", towns)):
        if v and v != "db":
            out[k] = read_layer(v, k)
    return out["mines"], out["panels"], out["towns"]


def _progress(label: str):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # on stderr, so that --json output on stdout stays machine-readable
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    )


def census_cmd(
    deformation: Path = typer.Argument(
        ..., help="Cumulative displacement or velocity GeoTIFF, MintPy timeseries.h5/velocity.h5 or LiCSBAS cum.h5."
    ),
    out: Path = typer.Option(..., "--out", help="Output GeoJSON of the areas (RFC 7946, lon/lat)."),
    mines: Optional[str] = typer.Option(None, "--mines", help=f"Mining rights: {LAYER_HELP}."),
    towns: Optional[str] = typer.Option(None, "--towns", help=f"Town boundaries: {LAYER_HELP}."),
    panels: Optional[str] = typer.Option(None, "--panels", help=f"Panels (goaf): {LAYER_HELP}."),
    threshold_mm: float = typer.Option(
        10.0, "--threshold-mm", help="Subsidence threshold, mm (code: movement starts at 10 mm)."
    ),
    threshold_rate: float = typer.Option(10.0, "--threshold-rate", help="Threshold for velocity input, mm/yr."),
    min_area_ha: float = typer.Option(1.0, "--min-area-ha", help="Minimum area, ha (at least 9 pixels anyway)."),
    quantity: Optional[str] = typer.Option(
        None,
        "--quantity",
        help="los (positive toward satellite; needs "
        "--incidence-deg), vertical (positive up) or subsidence (positive "
        "down). Default: the file's DIRECTION tag (los|up|down), else los "
        "when an incidence is given; a GeoTIFF stating neither is refused.",
    ),
    incidence_deg: Optional[float] = typer.Option(
        None, "--incidence-deg", help="Incidence angle, degrees (LOS input): subsidence = −d_LOS/cos(θ)."
    ),
    incidence_file: Optional[Path] = typer.Option(
        None, "--incidence", help="Per-pixel incidence angle GeoTIFF, degrees."
    ),
    kind: str = typer.Option("auto", "--kind", help="cumulative | rate | auto (from unit tag / file name)."),
    units: str = typer.Option(
        "auto",
        "--units",
        help="mm | cm | m | auto (from the file's UNIT tag; a file without one is refused unless --units is given).",
    ),
    coherence: Optional[Path] = typer.Option(None, "--coherence", help="Temporal coherence GeoTIFF (0–1)."),
    rate_file: Optional[Path] = typer.Option(
        None,
        "--rate",
        help="Velocity GeoTIFF on the same grid (same quantity "
        "and incidence), for the mean rate and the stage of a cumulative map.",
    ),
    min_coherence: float = typer.Option(0.7, "--min-coherence", help="Pixels below are no data."),
    margin_m: float = typer.Option(
        100.0, "--margin-m", help="Spill-over tolerated beyond a licence before 'beyond licence' is flagged, m."
    ),
    fill: bool = typer.Option(
        True,
        "--fill/--no-fill",
        help="Fill decorrelated centres with the PIM fitted on the "
        "edge pixels (needs panels with depth/thickness in the DB).",
    ),
    save: bool = typer.Option(
        False, "--save", help="Store the result as a census (review candidates) in the database."
    ),
    census_date: Optional[str] = typer.Option(
        None, "--date", help="Census date YYYY-MM-DD (default: last date of the data, else today)."
    ),
    actor: str = typer.Option("cli", "--actor", help="Who runs it (role/unit), for the audit trail."),
    area_interval: bool = typer.Option(
        True,
        "--area-interval/--no-area-interval",
        help="95 % area interval per area (area_ha_low/high) from the map's noise and its spatial correlation.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print a machine-readable summary."),
) -> None:
    """沉陷区普查 Detect subsidence areas, attribute them to mines/panels/towns, flag suspected beyond-licence mining."""
    from subsidence.census.kernels.attribution import AttributionParams
    from subsidence.census.kernels.basins import BasinParams
    from subsidence.census.kernels.inputs import load_deformation
    from subsidence.census.kernels.output import write_geojson
    from subsidence.census.kernels.pipeline import run_census

    try:
        params = BasinParams(
            threshold_mm=threshold_mm,
            threshold_rate_mm_per_yr=threshold_rate,
            min_area_ha=min_area_ha,
            min_coherence=min_coherence,
            area_interval=area_interval,
        )
        d = load_deformation(
            deformation,
            quantity=quantity,
            kind=kind,
            units=units,
            incidence_deg=incidence_deg,
            incidence_path=incidence_file,
            coherence_path=coherence,
        )
        if rate_file is not None:
            _attach_rate(
                d, rate_file, quantity=quantity, units=units, incidence_deg=incidence_deg, incidence_path=incidence_file
            )
        m, p, t = _layers(mines, panels, towns)
        filler = _filler(d, panels) if fill and panels else None
        with _progress("沉陷区统计 areas") as bar:
            task = bar.add_task("areas", total=None)
            census = run_census(
                d,
                mines=m,
                panels=p,
                towns=t,
                params=params,
                attribution_params=AttributionParams(margin_m=margin_m),
                filler=filler,
                progress=lambda i, n: bar.update(task, completed=i, total=n),
            )
        when = (
            _parse_date(census_date)
            if census_date
            else (d.observed[1] if d.observed and d.observed[1] else date.today())
        )
        items = [(a.geometry, {"index": i, **a.properties()}) for i, a in enumerate(census.areas, start=1)]
        run_code = None
        if save:
            run_code = _save(census, when, actor, items)
        write_geojson(
            out,
            items,
            name="subsidence_areas",
            metadata={
                "source": str(deformation),
                "census_date": when.isoformat(),
                "census": run_code,
                "measured_in_crs": d.grid.crs.to_string(),
                "parameters": census.parameters(),
                "notes": census.notes,
            },
        )
    except _input_errors() as exc:
        fail(str(exc))
    for n in census.notes:
        log.debug("%s", n)
    summary = {
        "areas": len(census.areas),
        "total_area_ha": round(sum(a.basin.area_ha for a in census.areas), 3),
        "outside_mining_right": sum(a.attribution.outside_mining_right for a in census.areas),
        "beyond_licence": sum(a.attribution.beyond_licence for a in census.areas),
        "filled": sum(a.basin.filled_fraction > 0 for a in census.areas),
        "census": run_code,
        "out": str(out),
        "notes": census.notes,
    }
    if json_out:
        emit_json(summary)
    else:
        typer.echo(
            f"{summary['areas']} 个沉陷区 areas, {summary['total_area_ha']} ha; "
            f"矿权外 outside mining rights: {summary['outside_mining_right']}; "
            f"疑似越界 beyond licence: {summary['beyond_licence']} → {out}"
            + (f"; saved as census {run_code}" if run_code else "")
        )


def _attach_rate(d, rate_file: Path, **kw) -> None:
    """A velocity map for a cumulative census (must share the grid)."""
    from subsidence.census.kernels.basins import CensusInputError
    from subsidence.census.kernels.inputs import load_geotiff_deformation

    if d.kind != "cumulative":
        raise CensusInputError("--rate goes with a cumulative deformation map")
    r = load_geotiff_deformation(rate_file, kind="rate", **kw)
    if r.grid.shape != d.grid.shape or not r.grid.transform.almost_equals(d.grid.transform) or r.grid.crs != d.grid.crs:
        raise CensusInputError(
            f"{rate_file}: not on the grid of the deformation map (shape {r.grid.shape} vs "
            f"{d.grid.shape}); resample it first (gdalwarp -tr/-te to match)"
        )
    d.rate_mm_per_yr = r.rate_mm_per_yr
    d.notes.append(f"rate from {rate_file}")


def _filler(d, panels_arg):
    """PIM fusion from the panels (database, or a file with thickness/depth fields) in the raster's CRS.

    None (centres left unfilled, maxima reported as lower bounds) when the panels lack what the PIM needs.
    """
    try:
        from subsidence.census.kernels.fusion import pim_filler
        from subsidence.science.pim import PanelGeometry  # noqa: F401
    except Exception as exc:
        log.info("centre filling unavailable (%s)", exc)
        return None
    if panels_arg != "db":
        from subsidence.prediction.service import load_panels_file

        try:
            pset = load_panels_file(panels_arg, to_crs=d.grid.crs)
        except Exception as exc:  # no thickness/depth in the file: detection still runs, centres stay unfilled
            log.info("decorrelated centres not filled: %s", exc)
            return None
        return pim_filler(pset.panels)
    from sqlalchemy import select

    from subsidence.cli._common import ready_engine
    from subsidence.core.models import Panel
    from subsidence.db.session import make_sessionmaker
    from subsidence.geo import transform_geometry
    from subsidence.science.pim import PanelGeometry

    geoms, outlines = [], []
    with make_sessionmaker(ready_engine())() as s:
        for pn in s.scalars(select(Panel).where(Panel.geometry.is_not(None))):
            o = transform_geometry(pn.geometry, "EPSG:4546", d.grid.crs)
            geoms.append(
                PanelGeometry(
                    outline=o,
                    thickness_m=pn.thickness_m,
                    depth_dip_m=pn.depth_dip_m,
                    depth_rise_m=pn.depth_rise_m,
                    dip_deg=pn.dip_deg or 0.0,
                    dip_azimuth_deg=pn.dip_azimuth_deg or 0.0,
                    name=pn.code,
                )
            )
            outlines.append(o)
    return pim_filler(geoms, outlines=outlines) if geoms else None


def _save(census, when: date, actor: str, items) -> str:
    from subsidence.census.service import save_census
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import transaction

    with transaction(ready_engine(), actor, "census") as s:
        run = save_census(s, census, census_date=when, actor=actor)
        codes = [a.code for a in run.areas] if run.areas else []
        code = run.code
    for (_, props), c in zip(items, codes):
        props["code"] = c
    return code


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"date {text!r}: use YYYY-MM-DD")
        raise


# ------------------------------------------------------------------------------------------ review
def _session():
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import transaction

    return transaction(ready_engine(), "cli", "review")


def _area_row(a) -> dict:
    return {
        "code": a.code,
        "state": a.review_state.value,
        "state_zh": a.review_state.label("zh"),
        "area_ha": a.area_ha,
        "max_subsidence_mm": a.max_subsidence_mm,
        "volume_m3": a.volume_m3,
        "stability": a.stability.value if a.stability else None,
        "outside_mining_right": a.outside_mining_right,
        "beyond_licence": a.beyond_licence,
        "filled_fraction": a.filled_fraction,
        "parents": a.parent_codes,
    }


@review_app.command("list")
def review_list(
    state: Optional[str] = typer.Option(
        None, "--state", help="candidate|confirmed|rejected|merged|split (or 待评审 ...)."
    ),
    census: Optional[str] = typer.Option(None, "--census", help="Census code, e.g. CEN-20241201-01."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List subsidence areas with their review state."""
    from subsidence.census.service import list_areas
    from subsidence.vocabulary import ReviewState

    try:
        st = ReviewState.parse(state) if state else None
        with _session() as s:
            rows = [_area_row(a) for a in list_areas(s, state=st, census=census)]
    except (ValueError, *_input_errors()) as exc:
        fail(str(exc))
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['code']}  {r['state_zh']}  {r['area_ha']:.2f} ha  max {r['max_subsidence_mm'] or 0:.0f} mm"
            + ("  矿权外" if r["outside_mining_right"] else "")
            + ("  疑似越界" if r["beyond_licence"] else "")
        )
    if not rows:
        typer.echo("no areas")


def _run_review(fn, *args, **kw) -> None:
    try:
        with _session() as s:
            res = fn(s, *args, **kw)
            out = {
                "decision": res.decision.action.value,
                "areas": [_area_row(a) for a in res.areas],
                "problem": res.problem.code if res.problem is not None else None,
                "problem_created": res.problem_created,
                "problem_linked": getattr(res, "problem_linked", False),
            }
    except _input_errors() as exc:
        fail(str(exc))
    emit_json(out)


REVIEWER = typer.Option(..., "--reviewer", help="Reviewer by role and unit (e.g. '自然资源局 专家组').")
REASON = typer.Option(..., "--reason", help="Reason for the decision (评审意见), required.")
MEETING = typer.Option(None, "--meeting", help="Review meeting / minutes reference.")


@review_app.command("confirm")
def review_confirm(
    code: str = typer.Argument(..., help="Area code."),
    reviewer: str = REVIEWER,
    reason: str = REASON,
    meeting: Optional[str] = MEETING,
    today: Optional[str] = typer.Option(None, "--date", help="Decision date (default today)."),
    merge: bool = typer.Option(
        False, "--merge", help="If it overlaps confirmed areas, confirm the union as one new area (else refused)."
    ),
) -> None:
    """Confirm a candidate: it joins the baseline; if untreated, a category-1 problem opens for its mine."""
    from subsidence.census.service import confirm

    _run_review(
        confirm,
        code,
        reviewer=reviewer,
        reason=reason,
        meeting=meeting,
        today=_parse_date(today) if today else date.today(),
        merge_overlapping=merge,
    )


@review_app.command("baseline")
def review_baseline(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Only censuses up to this date."),
    json_out: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """The baseline (摸清底数): area found, confirmed, treated, by town and by mine (ha and 亩), per census."""
    from subsidence.census.queries import baseline_summary

    with _session() as s:
        b = baseline_summary(s, _parse_date(as_of) if as_of else None)
    if json_out:
        emit_json(b.as_dict())
        return
    t = b.total
    typer.echo(
        f"确认沉陷区 {t.confirmed_ha:.2f} 公顷（{t.confirmed_mu:.1f} 亩），已治理 {t.treated_ha:.2f} 公顷，"
        f"未治理 {t.untreated_ha:.2f} 公顷；普查发现 {t.found_ha:.2f} 公顷，待评审 {t.pending_ha:.2f} 公顷"
    )
    for title, rows in (("按镇", b.by_town), ("按矿山", b.by_mine)):
        typer.echo(title)
        for r in rows:
            typer.echo(
                f"  {r.name_zh:<16} {r.confirmed_ha:10.2f} ha {r.confirmed_mu:10.1f} 亩  治理 {r.treated_ha:.2f} ha"
            )
    for h in b.history:
        typer.echo(
            f"{h.code} {h.census_date}: 发现 {h.found_ha:.2f} ha，确认 {h.confirmed_ha:.2f} ha，"
            f"底数 {h.baseline_ha:.2f} ha"
        )


@review_app.command("reject")
def review_reject(
    code: str = typer.Argument(..., help="Area code."),
    reviewer: str = REVIEWER,
    reason: str = REASON,
    meeting: Optional[str] = MEETING,
) -> None:
    """Reject a candidate (artefact, not mining subsidence ...)."""
    from subsidence.census.service import reject

    _run_review(reject, code, reviewer=reviewer, reason=reason, meeting=meeting)


@review_app.command("merge")
def review_merge(
    codes: list[str] = typer.Argument(..., help="Two or more area codes."),
    reviewer: str = REVIEWER,
    reason: str = REASON,
    meeting: Optional[str] = MEETING,
) -> None:
    """Merge candidates into one new candidate."""
    from subsidence.census.service import merge

    _run_review(merge, codes, reviewer=reviewer, reason=reason, meeting=meeting)


@review_app.command("split")
def review_split(
    code: str = typer.Argument(..., help="Area code."),
    by: Path = typer.Option(..., "--by", help="Vector file with the part polygons, or one dividing line."),
    reviewer: str = REVIEWER,
    reason: str = REASON,
    meeting: Optional[str] = MEETING,
) -> None:
    """Split a candidate into new candidates along a line or by part polygons."""
    from subsidence.census.service import split
    from subsidence.geo import parse_crs
    from subsidence.io.vector import read_vector

    try:
        t = read_vector(by)
        crs = parse_crs(t.crs.to_wkt() if t.crs is not None else None, source=str(by))
        parts = [g for g in t.geometries if g is not None]
    except _input_errors() as exc:
        fail(str(exc))
    _run_review(split, code, parts, reviewer=reviewer, reason=reason, meeting=meeting, parts_crs=crs.to_wkt())


# ------------------------------------------------------------------------------------------ change
def census_change_cmd(
    before: str = typer.Argument(..., help="Earlier census code."),
    after: str = typer.Argument(..., help="Later census code."),
    out: Optional[Path] = typer.Option(None, "--out", help="GeoJSON of the changes."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """普查变化 Compare two saved censuses: new, grown, became stable, vanished areas."""
    from subsidence.census.kernels.output import write_geojson
    from subsidence.census.service import compare_censuses

    try:
        with _session() as s:
            changes = compare_censuses(s, before, after)
        if out:
            write_geojson(out, [(c.geometry, c.properties()) for c in changes], name="census_change")
    except _input_errors() as exc:
        fail(str(exc))
    rows = [c.properties() for c in changes]
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['change_zh']:<10} {','.join(r['before']) or '-'} → {','.join(r['after']) or '-'}  "
            f"{r['area_before_ha']:.2f} → {r['area_after_ha']:.2f} ha"
        )


# ------------------------------------------------------------------------------------------ vegetation
def vegetation_cmd(
    red1: Path = typer.Argument(..., help="Red band (B04) GeoTIFF, earlier date."),
    nir1: Path = typer.Argument(..., help="NIR band (B08) GeoTIFF, earlier date."),
    red2: Path = typer.Argument(..., help="Red band, later date."),
    nir2: Path = typer.Argument(..., help="NIR band, later date."),
    out: Path = typer.Option(..., "--out", help="GeoJSON of loss/recovery polygons."),
    mines: Optional[str] = typer.Option(None, "--mines", help=f"Mining rights: {LAYER_HELP}."),
    towns: Optional[str] = typer.Option(None, "--towns", help=f"Towns: {LAYER_HELP}."),
    panels: Optional[str] = typer.Option(None, "--panels", help=f"Panels (goaf): {LAYER_HELP}."),
    cloud1: Optional[Path] = typer.Option(None, "--cloud1", help="Cloud mask (non-zero = cloud), earlier date."),
    cloud2: Optional[Path] = typer.Option(None, "--cloud2", help="Cloud mask, later date."),
    mask_kind: str = typer.Option(
        "binary",
        "--mask-kind",
        help="binary (non-zero = cloud) or scl (Sentinel-2 scene classification: shadow, cloud, cirrus, snow masked).",
    ),
    loss_delta: float = typer.Option(-0.10, "--loss-delta", help="NDVI change at or below = loss."),
    recovery_delta: float = typer.Option(0.10, "--recovery-delta", help="NDVI change at or above = recovery."),
    min_area_ha: float = typer.Option(0.5, "--min-area-ha", help="Minimum polygon area, ha."),
    scale: Optional[float] = typer.Option(None, "--scale", help="Reflectance scale (default from tags / 1e-4)."),
    offset: Optional[float] = typer.Option(None, "--offset", help="DN offset (Sentinel-2 baseline ≥ 04.00: -1000)."),
    goaf_only: bool = typer.Option(False, "--goaf-only", help="Only report change over the panels (goaf)."),
    date1: Optional[str] = typer.Option(None, "--date1", help="Earlier date (default: from the file name)."),
    date2: Optional[str] = typer.Option(None, "--date2", help="Later date (default: from the file name)."),
    save: bool = typer.Option(False, "--save", help="Store polygons; loss over goaf opens category-3 problems."),
    replace: bool = typer.Option(
        False, "--replace", help="With --save: replace polygons saved before for the same two dates."
    ),
    actor: str = typer.Option("cli", "--actor", help="Who runs it (role/unit)."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """植被变化 NDVI change between two dates: polygons of vegetation loss and recovery, area per town and mine."""
    import numpy as np
    import shapely

    from subsidence.census.kernels.attribution import overlap_table
    from subsidence.census.kernels.inputs import _dates_from_name, load_reflectance
    from subsidence.census.kernels.output import write_geojson
    from subsidence.census.kernels.vegetation import VegetationParams, cloud_mask, ndvi, vegetation_change
    from subsidence.geo import STORAGE_CRS, transform_geometry

    try:
        notes: list[str] = []  # e.g. a possibly missing Sentinel-2 BOA_ADD_OFFSET
        r1, grid = load_reflectance(red1, scale=scale, offset=offset, notes=notes)
        n1, _ = load_reflectance(nir1, target=grid, scale=scale, offset=offset, notes=notes)
        r2, _ = load_reflectance(red2, target=grid, scale=scale, offset=offset, notes=notes)
        n2, _ = load_reflectance(nir2, target=grid, scale=scale, offset=offset, notes=notes)
        c1 = cloud_mask(_nearest(cloud1, grid), kind=mask_kind) if cloud1 else None
        c2 = cloud_mask(_nearest(cloud2, grid), kind=mask_kind) if cloud2 else None
        d1 = _parse_date(date1) if date1 else _dates_from_name(red1)[1]
        d2 = _parse_date(date2) if date2 else _dates_from_name(red2)[1]
        if d1 is None or d2 is None:
            fail("dates not found in the file names; pass --date1 and --date2 (YYYY-MM-DD)")
        if d2 <= d1:
            fail(f"the later date {d2} is not after the earlier {d1}: give RED1 NIR1 of the earlier image first")
        m, p, t = _layers(mines, panels, towns)
        goaf = shapely.union_all([x.geometry for x in p]) if p else None
        within = transform_geometry(goaf, STORAGE_CRS, grid.crs) if goaf is not None and goaf_only else None
        params = VegetationParams(loss_delta=loss_delta, recovery_delta=recovery_delta, min_area_ha=min_area_ha)
        res = vegetation_change(ndvi(r1, n1, c1), ndvi(r2, n2, c2), grid, params=params, within=within, notes=notes)
        items = []
        for i, patch in enumerate(res.patches, start=1):
            g = transform_geometry(patch.geometry, grid.crs, STORAGE_CRS)
            over = shapely.intersection(g, goaf).area / 10_000 if goaf is not None else None
            props = {
                "index": i,
                **patch.properties(),
                "over_goaf_ha": None if over is None else round(over, 4),
                "towns_ha": {k: round(v, 4) for k, v in overlap_table([g], t).items()},
                "mines_ha": {k: round(v, 4) for k, v in overlap_table([g], m).items()},
                "date_before": d1.isoformat(),
                "date_after": d2.isoformat(),
            }
            items.append((g, props))
        problems = []
        if save:
            from subsidence.census.service import save_vegetation
            from subsidence.cli._common import ready_engine
            from subsidence.db.session import transaction

            with transaction(ready_engine(), actor, "vegetation") as s:
                o = save_vegetation(
                    s,
                    res,
                    date_before=d1,
                    date_after=d2,
                    actor=actor,
                    today=date.today(),
                    sources=[str(red1), str(nir1), str(red2), str(nir2)],
                    replace=replace,
                )
                problems = [pr.code for pr in o.problems]
        write_geojson(
            out,
            items,
            name="vegetation_change",
            metadata={
                "date_before": d1.isoformat(),
                "date_after": d2.isoformat(),
                "valid_fraction": round(res.valid_fraction, 4),
                "problems": problems,
                "notes": res.notes,
            },
        )
    except _input_errors() as exc:
        fail(str(exc))
    per_town: dict[str, dict[str, float]] = {}
    per_mine: dict[str, dict[str, float]] = {}
    for _, pr in items:
        for k, v in pr["towns_ha"].items():
            per_town.setdefault(k, {"loss": 0.0, "recovery": 0.0})[pr["kind"]] += v
        for k, v in pr["mines_ha"].items():
            per_mine.setdefault(k, {"loss": 0.0, "recovery": 0.0})[pr["kind"]] += v
    summary = {
        "loss_ha": round(sum(x.area_ha for x in res.of_kind("loss")), 4),
        "recovery_ha": round(sum(x.area_ha for x in res.of_kind("recovery")), 4),
        "loss_polygons": len(res.of_kind("loss")),
        "recovery_polygons": len(res.of_kind("recovery")),
        "per_town_ha": per_town,
        "per_mine_ha": per_mine,
        "problems": problems,
        "out": str(out),
        "notes": res.notes,
        "mean_delta_ndvi": float(np.nanmean(res.delta)) if np.isfinite(res.delta).any() else None,
    }
    if json_out:
        emit_json(summary)
    else:
        typer.echo(
            f"植被退化 loss {summary['loss_ha']} ha ({summary['loss_polygons']}), 植被恢复 recovery "
            f"{summary['recovery_ha']} ha ({summary['recovery_polygons']}) → {out}"
        )


def _nearest(path: Path, grid):
    """A class/mask band on ``grid`` by nearest-neighbour resampling (never interpolate class codes)."""
    import numpy as np
    from rasterio.warp import Resampling, reproject

    from subsidence.census.kernels.basins import CensusInputError
    from subsidence.census.kernels.inputs import _open_raster

    with _open_raster(Path(path)) as ds:
        if ds.crs is None:
            raise CensusInputError(f"{path}: the mask has no CRS; give a georeferenced mask (e.g. the L2A SCL band)")
        src = ds.read(1).astype("float64")
        out = np.full(grid.shape, np.nan)
        reproject(
            src,
            out,
            src_transform=ds.transform,
            src_crs=ds.crs,
            dst_transform=grid.transform,
            dst_crs=grid.crs.to_wkt(),
            resampling=Resampling.nearest,
            dst_nodata=np.nan,
        )
    return out


# ------------------------------------------------------------------------------------------ PV land
def pv_cmd(
    out: Path = typer.Option(..., "--out", help="GeoJSON layer of candidate PV land."),
    table: Optional[Path] = typer.Option(None, "--table", help="CSV table of area per town."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Reference date (default today)."),
    buffer_m: float = typer.Option(300.0, "--buffer-m", help="Distance to panels that blocks PV land, m."),
    min_years: float = typer.Option(1.0, "--min-years", help="Years since the end of mining nearby."),
    min_area_ha: float = typer.Option(1.0, "--min-area-ha", help="Smallest candidate parcel, ha."),
    all_areas: bool = typer.Option(False, "--all-areas", help="Use candidates too, not only the confirmed baseline."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """光伏用地 Solar PV candidate land: stable subsidence land ≥ 1 year past mining nearby, per town."""
    from subsidence.census.kernels.output import write_csv, write_geojson
    from subsidence.census.kernels.pv import PVParams
    from subsidence.census.service import pv_land

    when = _parse_date(as_of) if as_of else date.today()
    try:
        with _session() as s:
            res = pv_land(
                s,
                when,
                PVParams(buffer_m=buffer_m, min_years_since_mining=min_years, min_area_ha=min_area_ha),
                confirmed_only=not all_areas,
            )
        write_geojson(
            out,
            [(c.geometry, c.properties()) for c in res.candidates],
            name="pv_candidate_land",
            metadata={"as_of": when.isoformat(), "buffer_m": buffer_m, "min_years_since_mining": min_years},
        )
        if table:
            write_csv(
                table,
                ["镇 town", "面积(公顷) area_ha", "面积(亩) area_mu"],
                [(k, round(v, 4), round(ha_to_mu(v), 2)) for k, v in res.per_town_ha.items()],
            )
    except _input_errors() as exc:
        fail(str(exc))
    summary = {
        "candidates": len(res.candidates),
        "total_ha": round(res.total_ha, 4),
        "per_town_ha": {k: round(v, 4) for k, v in res.per_town_ha.items()},
        "excluded_not_stable": res.excluded_unstable,
        "blocking_panels": res.blocking_panels,
    }
    if json_out:
        emit_json(summary)
    else:
        typer.echo(
            f"光伏候选用地 PV candidate land: {summary['total_ha']} ha in {summary['candidates']} parcels → {out}"
        )


def register(app: typer.Typer) -> None:
    app.command("census")(census_cmd)
    app.command("census-change")(census_change_cmd)
    app.command("vegetation")(vegetation_cmd)
    app.command("pv")(pv_cmd)
    app.add_typer(review_app, name="review")
