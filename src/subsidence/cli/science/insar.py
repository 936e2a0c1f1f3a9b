"""``subsidence timeseries``: InSAR small-baseline time-series inversion (our SBAS/NSBAS solver)."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from subsidence.cli._common import emit_json, fail

log = logging.getLogger("subsidence.cli.science.insar")


class _RichProgress:
    """Adapter from the pipeline's progress protocol to one rich progress bar per stage."""

    def __init__(self, progress):
        self.p = progress
        self.task = None
        self.total = 0

    def start(self, description: str, total: int) -> None:
        if self.task is not None:
            self.p.update(self.task, completed=self.total)
        self.task = self.p.add_task(description, total=total)
        self.total = total

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.p.advance(self.task, n)


def _parse_ref(value: str | None):
    if value is None:
        return None
    if value.strip().lower() == "auto":
        return "auto"
    try:
        r, c = (int(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter("use ROW,COL (e.g. 120,85) or 'auto'") from None
    return (r, c)


def timeseries_cmd(
    input: Path = typer.Argument(
        ...,
        help="MintPy ifgramStack.h5 (map or radar coordinates), a LiCSBAS GEOC folder, "
        "a folder of ASF HyP3 GAMMA InSAR products, or a folder of "
        "YYYYMMDD_YYYYMMDD unw/cc GeoTIFF pairs.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created; existing outputs replaced)."),
    min_temporal_coherence: float = typer.Option(
        0.7, help="Mask pixels below this temporal coherence in the GeoTIFFs and maskTempCoh.h5 (MintPy default 0.7)."
    ),
    scheduler: str = typer.Option(
        None, "--scheduler", help="dask.distributed scheduler address (tcp://host:8786); default: local threads."
    ),
    chunk_rows: int = typer.Option(
        None,
        "--chunk-rows",
        min=1,
        help="Rows per block (memory ~ rows x width x interferograms x 8 bytes per worker).",
    ),
    workers: int = typer.Option(None, "--workers", min=1, help="Local threads (default: CPU count)."),
    ref_yx: str = typer.Option(
        None,
        "--ref-yx",
        help="Reference pixel ROW,COL, or 'auto'. Default: the file's REF_Y/REF_X if any, else automatic.",
    ),
    wavelength: float = typer.Option(
        None, "--wavelength", help="Radar wavelength in metres if the input lacks it (Sentinel-1: 0.05546576)."
    ),
    looks: float = typer.Option(None, "--looks", help="Independent looks of the coherence estimate (weights only)."),
    weights: bool = typer.Option(True, "--weights/--no-weights", help="Coherence (Fisher information) weighting."),
    gap: str = typer.Option(
        "nsbas",
        "--gap",
        help="Network gaps: nsbas (bridge with a velocity model and flag), "
        "min-norm (MintPy: motion across the gap set to zero), none.",
    ),
    max_gap_fraction: float = typer.Option(0.5, help="Refuse to bridge gaps longer than this share of the span."),
    geotiff: bool = typer.Option(True, "--geotiff/--no-geotiff", help="Also write GeoTIFFs."),
    geometry: Path = typer.Option(
        None,
        "--geometry",
        help="MintPy geometryRadar.h5 (lookup table) of a radar-"
        "coordinate stack; default: found beside the stack "
        "(same folder, inputs/ or ../inputs/).",
    ),
    geocode_spacing: float = typer.Option(
        None,
        "--geocode-spacing",
        min=0.1,
        help="Radar stacks: output pixel size in metres (default: the radar cell's ground area).",
    ),
    geocode_crs: str = typer.Option(
        None,
        "--geocode-crs",
        help="Radar stacks: output CRS (default: local CGCS2000 3-degree Gauss-Krueger zone, else UTM).",
    ),
    resample: str = typer.Option("linear", "--resample", help="Radar stacks: linear or nearest (masks: nearest)."),
    aps: bool = typer.Option(
        None,
        "--aps/--no-aps",
        help="Atmospheric phase screen filter (temporal high-pass, "
        "spatial low-pass; docs/science/insar-atmosphere.md). "
        "Default: on with at least 12 dates.",
    ),
    aps_time_days: float = typer.Option(
        60.0, "--aps-time-days", min=1.0, help="APS filter: s.d. of the Gaussian temporal window (days)."
    ),
    aps_space_m: float = typer.Option(
        120.0, "--aps-space-m", min=1.0, help="APS filter: s.d. of the Gaussian spatial low-pass (metres)."
    ),
    ramp: int = typer.Option(
        0,
        "--ramp",
        min=0,
        max=2,
        help="Remove a ramp per date first: 0 none, 1 plane, 2 quadratic (scenes much larger than the basins).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Invert an unwrapped interferogram stack into a LOS displacement time series (时序InSAR反演).

    Writes MintPy-compatible timeseries.h5, velocity.h5, temporalCoherence.h5 (LOS positive toward the satellite,
    metres), numInvIfgram.h5, maskTempCoh.h5, bridged.h5 (pixels where an NSBAS bridge was used), GeoTIFFs and
    summary.json (reference point and why). Nothing is left in --out if the run fails.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
    from subsidence.insar.sources import open_ifgram_stack
    from subsidence.insar.stack import InSARInputError

    if gap not in ("nsbas", "min-norm", "none"):
        fail(f"--gap must be nsbas, min-norm or none, not {gap!r}")
    if resample not in ("linear", "nearest"):
        fail(f"--resample must be linear or nearest, not {resample!r}")
    options = TimeseriesOptions(
        min_temporal_coherence=min_temporal_coherence,
        chunk_rows=chunk_rows,
        scheduler=scheduler,
        workers=workers,
        ref_yx=_parse_ref(ref_yx),
        weighting=weights,
        gap_mode=gap,
        max_gap_fraction=max_gap_fraction,
        geotiff=geotiff,
        geocode_crs=geocode_crs,
        geocode_spacing_m=geocode_spacing,
        geocode_method=resample,
        aps_filter=aps,
        aps_time_sigma_days=aps_time_days,
        aps_space_sigma_m=aps_space_m,
        ramp_order=ramp,
    )
    try:
        stack = open_ifgram_stack(input, wavelength_m=wavelength, looks=looks, geometry=geometry)
        log.info(
            "%s: %d interferograms, %d dates, %d x %d pixels, wavelength %.5f m",
            stack.origin,
            len(stack.pairs),
            len(stack.dates),
            stack.shape[0],
            stack.shape[1],
            stack.wavelength_m,
        )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=json_out,
            console=Console(stderr=True),
        ) as bar:  # stdout stays clean for --json
            summary = run_timeseries(stack, out, options, progress=_RichProgress(bar))
    except InSARInputError as exc:
        fail(str(exc))
    if json_out:
        emit_json(summary)
        return
    ref = summary["reference"]
    typer.echo(
        f"time series / 时间序列: {len(summary['dates'])} dates {summary['dates'][0]}..{summary['dates'][-1]}, "
        f"{summary['network']['n_ifgs']} interferograms -> {out}"
    )
    typer.echo(f"reference point / 参考点: row {ref['row']}, col {ref['col']} ({ref['method']}): {ref['reason']}")
    typer.echo(
        f"pixels solved / 已解算像元: {summary['pixels_solved']} of {summary['pixels']}; "
        f"temporal coherence >= {summary['min_temporal_coherence']}: {summary['pixels_kept_temporal_coherence']}; "
        f"bridged across gaps / 跨间隙桥接: {summary['pixels_bridged']}"
    )
    if "geocoding" in summary:
        g = summary["geocoding"]
        typer.echo(
            f"geocoded / 地理编码: {g['radar_shape'][0]} x {g['radar_shape'][1]} radar pixels -> "
            f"{g['shape'][0]} x {g['shape'][1]} pixels of {g['spacing_m']:g} m in {g['crs']} ({g['method']}; "
            f"lookup {g['lookup']})"
        )
    atm = summary.get("atmosphere") or {}
    if atm.get("aps_filter") or atm.get("ramp_order"):
        typer.echo(
            f"atmosphere / 大气校正: {'APS filter' if atm.get('aps_filter') else 'no APS filter'}"
            + (f" ({atm['time_sigma_days']:g} d, {atm['space_sigma_m']:g} m)" if atm.get("aps_filter") else "")
            + (f", ramp order {atm['ramp_order']}" if atm.get("ramp_order") else "")
            + f"; removed RMS at the last date {atm['rms_removed_last_date_mm']:.1f} mm (atmosphere.h5)"
        )
    else:
        typer.echo(f"atmosphere / 大气校正: {atm.get('reason', 'off')}")
    typer.echo(f"time / 用时: {summary['seconds_total']:.1f} s ({summary['scheduler']})")


def register(app: typer.Typer) -> None:
    app.command("timeseries")(timeseries_cmd)
