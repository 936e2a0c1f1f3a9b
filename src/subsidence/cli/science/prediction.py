"""``subsidence predict | invert | stability | damage``: the science core from the command line.

Thin: argument parsing and output only; the work is in :mod:`subsidence.prediction.service`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import emit_json, fail, working


def _parse_date(value: Optional[str], option: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: use an ISO date, e.g. 2025-06-30")
    return None


def _panels(panels: str, to_crs: Optional[str], layer: Optional[str]):
    from subsidence.prediction.service import load_panels_db, load_panels_file

    if panels == "db":
        from subsidence.cli._common import ready_engine
        from subsidence.db.session import make_sessionmaker

        with make_sessionmaker(ready_engine())() as s:
            return load_panels_db(s)
    return load_panels_file(panels, layer=layer, to_crs=to_crs)


def predict_cmd(
    panels: str = typer.Argument(
        ...,
        help="Vector file of panels (.gpkg/.shp/.geojson) or `db` for the database "
        "panels. Attributes: thickness_m, depth_m (or depth_dip_m + depth_rise_m), "
        "dip_deg, dip_azimuth_deg [, start_date, end_date, advance_m_per_day].",
    ),
    params: Path = typer.Option(
        ...,
        "--params",
        help="PARAMS.json: q, tan_beta, b, theta0_deg, s_m [, s1_m..s4_m, tan_beta_dip, tan_beta_rise, time_function].",
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output multi-band GeoTIFF (one band per component, unit in the name)."
    ),
    at: Optional[str] = typer.Option(
        None,
        "--at",
        help="Date of a dynamic prediction (face advance + time function); default: the final static basin.",
    ),
    spacing: float = typer.Option(10.0, "--spacing", help="Grid spacing in metres."),
    points: Optional[Path] = typer.Option(None, "--points", help="CSV with x, y columns (panels' CRS) to predict at."),
    points_out: Optional[Path] = typer.Option(None, "--points-out", help="CSV written with the components per point."),
    azimuth: list[float] = typer.Option(
        [],
        "--azimuth",
        help="Also give directional components (grid bands and points) "
        "along this azimuth (degrees from north); repeatable.",
    ),
    component: list[str] = typer.Option(
        [], "--component", help="Only these components (repeatable), e.g. subsidence_mm."
    ),
    to_crs: Optional[str] = typer.Option(None, "--to-crs", help="Reproject the panels first (e.g. EPSG:4546)."),
    layer: Optional[str] = typer.Option(None, "--layer", help="Layer of a multi-layer file."),
    memory_mb: Optional[float] = typer.Option(None, "--memory-mb", help="Memory budget for the grid (MiB)."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Predict surface movement (probability integral method) on a grid and optionally at points.

    Units: subsidence mm (positive down), tilt mm/m, curvature 1e-3/m, displacement mm, strain mm/m.
    """
    from subsidence.errors import ServiceError
    from subsidence.prediction.service import load_params, predict_points_csv, predict_to_geotiff

    when = _parse_date(at, "--at")
    if (points is None) != (points_out is None):
        fail("--points and --points-out go together")
    try:
        pset = _panels(panels, to_crs, layer)
        prm, tf = load_params(params)
        with working("PIM prediction 概率积分法预计"):
            summary = predict_to_geotiff(
                pset,
                prm,
                out,
                spacing=spacing,
                at=when,
                time_function=tf,
                components=component or None,
                memory_budget_mb=memory_mb,
                azimuths=azimuth,
            )
        if points is not None:
            summary["points"] = predict_points_csv(
                pset, prm, points, points_out, at=when, time_function=tf, components=component or None, azimuths=azimuth
            )
            summary["points_out"] = str(points_out)
    except ServiceError as exc:
        fail(exc.message)
    if json_out:
        emit_json(summary)
        return
    typer.echo(
        f"{summary['out']}: {summary['width']} x {summary['height']} cells at {spacing:g} m, "
        f"{summary['panels']} panels; max subsidence {summary['max'].get('subsidence_mm', float('nan')):.0f} mm"
    )
    if points is not None:
        typer.echo(f"{points_out}: {summary['points']} points")


def invert_cmd(
    observed: Path = typer.Argument(
        ...,
        help="Points CSV (x, y and subsidence_mm / east_mm / north_mm / los_mm "
        "columns) or a LOS GeoTIFF (mm, positive toward the satellite).",
    ),
    panels: str = typer.Option(..., "--panels", help="Vector file of panels or `db`."),
    out: Path = typer.Option(..., "--out", help="PARAMS.json to write (parameters + uncertainties + warnings)."),
    initial: Optional[Path] = typer.Option(None, "--initial", help="PARAMS.json with start/fixed values."),
    fit: str = typer.Option("q,tan_beta,b,theta0_deg,s_m", "--fit", help="Comma-separated parameters to fit."),
    incidence_deg: Optional[float] = typer.Option(None, "--incidence-deg", help="LOS incidence angle (degrees)."),
    heading_deg: Optional[float] = typer.Option(None, "--heading-deg", help="Platform heading (deg from north)."),
    los_unit: list[Path] = typer.Option(
        [],
        "--los-unit",
        help="Three rasters E, N, U of the ground-to-satellite unit vector (instead of incidence/heading).",
    ),
    los_scale: float = typer.Option(
        1.0, "--los-scale", help="Multiply raster values by this to get mm (1000 for metres)."
    ),
    loss: str = typer.Option("soft_l1", "--loss", help="Robust loss: soft_l1 or huber."),
    starts: int = typer.Option(8, "--starts", help="Number of starts."),
    seed: int = typer.Option(0, "--seed", help="Seed of the multi-start draw."),
    to_crs: Optional[str] = typer.Option(None, "--to-crs", help="Reproject the panels first."),
    at: Optional[str] = typer.Option(
        None,
        "--at",
        help="Date the observations refer to while mining advances "
        "(dynamic model; time function from --initial); default: "
        "final static basin.",
    ),
    noise: str = typer.Option(
        "independent",
        "--noise",
        help="Observation errors: independent, or correlated "
        "(fitted spatial covariance, GLS; honest sd for "
        "levelling lines and InSAR).",
    ),
    series: Optional[Path] = typer.Option(
        None,
        "--series",
        help="Subsidence series CSV (point_id, x, y, date, "
        "subsidence_mm) to fit the time constant c and k "
        "into PARAMS.json's time_function.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Fit PIM parameters to observed displacement; b is fixed (and said so) when the data cannot resolve it."""
    from subsidence.errors import ServiceError
    from subsidence.prediction.service import (
        load_params,
        observations_from_csv,
        observations_from_los_raster,
        time_function_from_series,
    )
    from subsidence.science import inversion
    from subsidence.science.pim import ScienceInputError

    when = _parse_date(at, "--at")
    try:
        pset = _panels(panels, to_crs, None)
        init, tf = load_params(initial) if initial else (None, None)
        if observed.suffix.lower() in (".tif", ".tiff"):
            obs = [
                observations_from_los_raster(
                    observed,
                    crs=pset.crs,
                    incidence_deg=incidence_deg,
                    heading_deg=heading_deg,
                    unit_rasters=[str(p) for p in los_unit] or None,
                    scale_to_mm=los_scale,
                    seed=seed,
                )
            ]
        else:
            obs = observations_from_csv(observed, incidence_deg=incidence_deg, heading_deg=heading_deg)
        with working("PIM inversion 参数反演 (several starts)"):
            res = inversion.invert(
                pset.panels,
                obs,
                initial=init,
                fit=[f.strip() for f in fit.split(",") if f.strip()],
                loss=loss,
                n_starts=starts,
                seed=seed,
                at=when,
                time_function=tf,
                noise=noise,
            )
        tfit = None
        if series is not None:
            with working("time constant c from the series 时间函数拟合"):
                tfit = time_function_from_series(pset, res.params, series)
    except ServiceError as exc:
        fail(exc.message)
        return
    except ScienceInputError as exc:
        fail(str(exc))
        return
    data = res.to_json()
    if tfit is not None:
        data["time_function"] = tfit.to_dict()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if json_out:
        emit_json(data)
        return
    for k, v in res.params.to_dict().items():
        sd = res.std.get(k)
        note = f" +/- {sd:.3g}" if sd is not None else f"  (fixed: {res.fixed.get(k, 'not fitted')})"
        typer.echo(f"{k:12s} {v:.4g}{note}")
    typer.echo(f"RMS {res.rms_mm:.1f} mm over {res.n_obs} values -> {out}")
    for w in res.warnings:
        typer.echo(f"warning: {w}", err=True)


def stability_cmd(
    series: Path = typer.Argument(
        ...,
        help="CSV time series per point (long: point_id,date,subsidence_mm; or wide: "
        "point_id,x,y,<ISO date>...) or a GeoTIFF whose bands are dates.",
    ),
    out: Path = typer.Option(..., "--out", help="CSV (for a CSV input) or GeoTIFF (for a raster input)."),
    start_mm: float = typer.Option(10.0, "--start-mm", help="Movement starts at this subsidence (mm)."),
    active_rate: float = typer.Option(1.67, "--active-rate", help="Active while the rate exceeds this (mm/d)."),
    stable_mm: float = typer.Option(30.0, "--stable-mm", help="Stable when subsidence over the window <= this (mm)."),
    stable_days: float = typer.Option(183.0, "--stable-days", help="Stability window (days, 6 months)."),
    rate_days: float = typer.Option(30.0, "--rate-days", help="Window over which the rate is measured (days)."),
    scale: float = typer.Option(1.0, "--scale", help="Raster input: multiply by this to get mm."),
    upward_positive: bool = typer.Option(
        False,
        "--upward-positive",
        help="Raster input holds uplift-positive values (e.g. vertical displacement): flip sign.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print counts per stage as JSON."),
) -> None:
    """Movement stage (not started / initial / active / declining / stable) and the dates it changed."""
    from subsidence.errors import ServiceError
    from subsidence.prediction.service import stability_csv, stability_geotiff
    from subsidence.science.stability import StabilityCriteria

    try:
        crit = StabilityCriteria(
            start_mm=start_mm,
            active_rate_mm_per_day=active_rate,
            stable_max_mm=stable_mm,
            stable_window_days=stable_days,
            rate_window_days=rate_days,
        )
    except ValueError as exc:
        fail(str(exc))
        return
    try:
        if series.suffix.lower() in (".tif", ".tiff"):
            counts = stability_geotiff(series, out, crit, scale_to_mm=scale, sign=-1.0 if upward_positive else 1.0)
        else:
            counts = stability_csv(series, out, crit)
    except ServiceError as exc:
        fail(exc.message)
        return
    if json_out:
        emit_json(counts)
        return
    typer.echo(f"{out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def damage_cmd(
    buildings: Path = typer.Option(..., "--buildings", help="Building footprints (.gpkg/.shp/.geojson)."),
    prediction: Path = typer.Option(..., "--prediction", help="GeoTIFF from `subsidence predict` (default bands)."),
    out: Path = typer.Option(..., "--out", help=".csv or a vector file (.gpkg/.geojson/.shp) with grades."),
    layer: Optional[str] = typer.Option(None, "--layer", help="Layer of a multi-layer buildings file."),
    json_out: bool = typer.Option(False, "--json", help="Print counts per grade as JSON."),
) -> None:
    """Building damage grade I-IV (brick-concrete) from the maxima of tilt, curvature and strain over each footprint."""
    from subsidence.errors import ServiceError
    from subsidence.prediction.service import damage_assessment

    try:
        with working("building damage 建筑物损坏等级"):
            counts = damage_assessment(buildings, prediction, out, layer=layer)
    except ServiceError as exc:
        fail(exc.message)
        return
    if json_out:
        emit_json(counts)
        return
    typer.echo(f"{out}: " + ", ".join(f"grade {k}: {v}" for k, v in sorted(counts.items())))


def register(app: typer.Typer) -> None:
    app.command("predict", help="Predict subsidence, tilt, curvature, displacement, strain (PIM) to a GeoTIFF.")(
        predict_cmd
    )
    app.command("invert", help="Fit PIM parameters to levelling/GNSS points or InSAR LOS.")(invert_cmd)
    app.command("stability", help="Movement stage and change dates from displacement time series.")(stability_cmd)
    app.command("damage", help="Building damage grade I-IV from a prediction GeoTIFF.")(damage_cmd)
