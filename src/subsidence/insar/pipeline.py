"""Run the SBAS/NSBAS inversion over a whole stack: reference point, Dask over row blocks, outputs written safely.

Flow: check the network -> choose or check the reference pixel -> invert row blocks in parallel (Dask threaded
scheduler by default, ``dask.distributed`` when a scheduler address is given) streaming each block into the output
HDF5 files -> mask, velocity GeoTIFFs, ``summary.json``. Everything is written into a temporary folder next to the
output folder and moved into place only at the end, so a failed run leaves nothing behind.

Radar-coordinate stacks (``stack.geometry`` set, ``stack.grid.crs`` None): the inversion runs on the radar grid into
``radar/`` (MintPy products without X_FIRST/Y_FIRST), then every product is geocoded with the lookup table
(:mod:`subsidence.insar.geocode`) into the output folder itself, with ``geometryGeo.h5`` (per-pixel incidence angle
for LOS -> vertical) beside it; the lookup is built before the inversion so a bad geometry file fails fast.

Atmosphere (:mod:`subsidence.insar.atmosphere`, docs/science/insar-atmosphere.md): after the inversion, optionally a
per-date ramp (``ramp_order``) and the atmospheric phase screen estimate (temporal high-pass, spatial low-pass; on by
default with at least ``MIN_DATES_FOR_APS`` dates) are subtracted from ``timeseries.h5`` in row blocks with a halo
(bounded memory, same result as on whole images); the removed correction is kept in ``atmosphere.h5`` (add it back
to undo), velocities are refitted, the reference pixel stays 0, and ``summary.json`` has an ``atmosphere`` block.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from subsidence.insar.atmosphere import (
    DEFAULT_SPACE_SIGMA_M,
    DEFAULT_TIME_SIGMA_DAYS,
    MIN_DATES_FOR_APS,
    RampAccumulator,
    decimation,
    estimate_aps,
    halo_rows,
    temporal_smoother,
)
from subsidence.insar.convention import phase_rad_to_los_m
from subsidence.insar.sbas import (
    DAYS_PER_YEAR,
    DEFAULT_BRIDGE_WEIGHT,
    GapMode,
    Network,
    ReferenceChoice,
    fisher_weights,
    invert_pixels,
    linear_fit,
    select_reference,
    valid_mask,
)
from subsidence.insar.stack import BlockSource, IfgramStack, InSARInputError, yyyymmdd
from subsidence.insar.writers import base_attrs, create_h5, write_geotiff

log = logging.getLogger(__name__)

OUTPUT_FILES = (
    "timeseries.h5",
    "atmosphere.h5",
    "velocity.h5",
    "temporalCoherence.h5",
    "numInvIfgram.h5",
    "maskTempCoh.h5",
    "bridged.h5",
    "velocity_los_m_per_yr.tif",
    "cumulative_los_m.tif",
    "temporal_coherence.tif",
    "bridged.tif",
    "summary.json",
)


class Progress(Protocol):
    def start(self, description: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class _NoProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass
class TimeseriesOptions:
    """Options of :func:`run_timeseries` (CLI flags of ``subsidence timeseries``)."""

    min_temporal_coherence: float = 0.7  # MintPy's default mask threshold
    chunk_rows: int | None = None  # rows per Dask block; default: ~32k pixels, >= one block per worker
    scheduler: str | None = None  # dask.distributed scheduler address; None = local threads
    workers: int | None = None  # local threads (default: CPU count)
    ref_yx: tuple[int, int] | str | None = None  # (row, col), "auto", or None = the file's REF_Y/REF_X else auto
    weighting: bool = True  # Fisher-information coherence weights
    gap_mode: GapMode = "nsbas"
    max_gap_fraction: float = 0.5  # refuse to bridge when gaps cover more of the time span than this
    bridge_weight: float = DEFAULT_BRIDGE_WEIGHT
    geotiff: bool = True
    batch_pixels: int = 16384
    #: radar-coordinate stacks: target CRS (None = local CGCS2000 GK / UTM zone), pixel size in metres (None = the
    #: radar cell's ground area), resampling of continuous products ("linear" or "nearest"; masks always nearest)
    geocode_crs: str | None = None
    geocode_spacing_m: float | None = None
    geocode_method: str = "linear"
    #: atmospheric phase screen filter: None = on when the stack has >= MIN_DATES_FOR_APS dates, True/False forces;
    #: Gaussian temporal window (s.d., days) of the local linear model and spatial low-pass (s.d., metres)
    aps_filter: bool | None = None
    aps_time_sigma_days: float = DEFAULT_TIME_SIGMA_DAYS
    aps_space_sigma_m: float = DEFAULT_SPACE_SIGMA_M
    #: per-date ramp removal before the APS filter: 0 = none, 1 = plane, 2 = quadratic surface
    ramp_order: int = 0


@dataclass
class BlockParams:
    net: Network
    ref_phase: np.ndarray  # (m,) rad
    ref_yx: tuple[int, int]
    wavelength_m: float
    looks: float
    weighting: bool
    gap_mode: str
    bridge_weight: float
    batch_pixels: int


def process_block(source: BlockSource, r0: int, r1: int, p: BlockParams) -> dict[str, Any]:
    """Invert rows [r0, r1): read, reference, weight, solve, convert to LOS metres, fit a velocity. Pure of I/O
    except the read, so it runs on any Dask worker that can open the source files."""
    bd = source.read_rows(r0, r1)
    m, rows, cols = bd.phase.shape
    ph = bd.phase.reshape(m, -1)
    valid = valid_mask(ph)
    coh = None
    if bd.coherence is not None:
        coh = bd.coherence.reshape(m, -1)
        valid &= np.isfinite(coh)
    # float32 block in, float64 only per pixel batch inside the solver: memory ~ 9 bytes x ifgs x pixels per block
    sol = invert_pixels(
        p.net,
        ph,
        None,
        valid,
        coherence=coh if p.weighting else None,
        looks=p.looks,
        phase_offset=p.ref_phase,
        gap_mode=p.gap_mode,
        bridge_weight=p.bridge_weight,
        batch_pixels=p.batch_pixels,
    )
    ts = phase_rad_to_los_m(sol.phase_ts, p.wavelength_m)
    ry, rx = p.ref_yx
    if r0 <= ry < r1:
        k = (ry - r0) * cols + rx
        ts[:, k] = 0.0
    fit = linear_fit(ts, p.net.t_years)
    shp = (rows, cols)
    return {
        "r0": r0,
        "r1": r1,
        "timeseries": ts.astype(np.float32).reshape(p.net.n_dates, rows, cols),
        "temporalCoherence": sol.temporal_coherence.reshape(shp),
        "numInvIfgram": sol.n_valid.astype(np.float32).reshape(shp),
        "bridged": sol.bridged.astype(np.uint8).reshape(shp),
        "numComponents": sol.n_components.reshape(shp),
        "velocity": fit.velocity.astype(np.float32).reshape(shp),
        "velocityStd": fit.velocity_std.astype(np.float32).reshape(shp),
        "intercept": fit.intercept.astype(np.float32).reshape(shp),
        "interceptStd": fit.intercept_std.astype(np.float32).reshape(shp),
        "residue": fit.residue.astype(np.float32).reshape(shp),
        "n_solved": int(np.isfinite(sol.temporal_coherence).sum()),
        "n_bridged": int(sol.bridged.sum()),
        "n_pixels": rows * cols,
    }


class _Sink:
    """Open output files; ``write`` puts one block's results in place (thread-safe)."""

    def __init__(
        self,
        folder: Path,
        stack: IfgramStack,
        net: Network,
        ref: ReferenceChoice,
        chunk_rows: int,
        options: TimeseriesOptions,
    ):
        L, W = stack.shape
        n = net.n_dates
        dates = [yyyymmdd(d) for d in net.dates]
        attrs = base_attrs(stack.grid, stack.attrs)
        x, y = _ref_xy(stack, ref.row, ref.col)
        geographic = stack.grid.crs is None or stack.grid.crs.is_geographic
        attrs.update(
            {
                "WAVELENGTH": repr(stack.wavelength_m),
                "REF_Y": str(ref.row),
                "REF_X": str(ref.col),
                ("REF_LAT" if geographic else "REF_NORTHING"): repr(y),
                ("REF_LON" if geographic else "REF_EASTING"): repr(x),
                "PROCESSOR": stack.attrs.get("PROCESSOR", stack.kind or "unknown"),
                "subsidence.networkInversion.weightFunc": "fim" if options.weighting else "no",
                "subsidence.networkInversion.gapMode": options.gap_mode,
                "subsidence.networkInversion.bridgeWeight": repr(options.bridge_weight),
                "subsidence.networkInversion.numLooks": repr(stack.looks),
                "subsidence.networkInversion.reference": ref.method,
                "subsidence.signConvention": "LOS positive toward the satellite; d = -WAVELENGTH/(4 pi) * phase",
            }
        )
        self.lock = threading.Lock()
        self.n_solved = self.n_bridged = 0
        bperp = _bperp_per_date(stack, net)
        self.files = {}
        ts_attrs = {
            **attrs,
            "FILE_TYPE": "timeseries",
            "UNIT": "m",
            "REF_DATE": dates[0],
            "START_DATE": dates[0],
            "END_DATE": dates[-1],
        }
        self.files["timeseries"] = create_h5(
            folder / "timeseries.h5",
            {
                "date": (np.dtype("S8"), (n,), np.array(dates, dtype="S8")),
                "bperp": (np.float32, (n,), bperp),
                "timeseries": (np.float32, (n, L, W), None),
            },
            ts_attrs,
            chunk_rows=chunk_rows,
        )
        self.files["temporalCoherence"] = create_h5(
            folder / "temporalCoherence.h5",
            {"temporalCoherence": (np.float32, (L, W), None)},
            {**attrs, "FILE_TYPE": "temporalCoherence", "UNIT": "1"},
            chunk_rows=chunk_rows,
        )
        self.files["numInvIfgram"] = create_h5(
            folder / "numInvIfgram.h5",
            {"mask": (np.float32, (L, W), None)},
            {**attrs, "FILE_TYPE": "mask", "UNIT": "1"},
            chunk_rows=chunk_rows,
        )
        self.files["bridged"] = create_h5(
            folder / "bridged.h5",
            {"bridged": (np.uint8, (L, W), None, "1"), "numComponents": (np.int16, (L, W), None, "1")},
            {
                **attrs,
                "FILE_TYPE": "mask",
                "UNIT": "1",
                "DESCRIPTION": "1 where the NSBAS velocity-model bridge supplied the motion across a network gap",
            },
            chunk_rows=chunk_rows,
        )
        self.files["velocity"] = create_h5(
            folder / "velocity.h5",
            {
                "velocity": (np.float32, (L, W), None, "m/year"),
                "velocityStd": (np.float32, (L, W), None, "m/year"),
                "intercept": (np.float32, (L, W), None, "m"),
                "interceptStd": (np.float32, (L, W), None, "m"),
                "residue": (np.float32, (L, W), None, "m"),
            },
            {
                **attrs,
                "FILE_TYPE": "velocity",
                "UNIT": "m/year",
                "REF_DATE": dates[0],
                "START_DATE": dates[0],
                "END_DATE": dates[-1],
                "DATE12": f"{dates[0]}_{dates[-1]}",
            },
            chunk_rows=chunk_rows,
        )
        self._route = {
            "timeseries": ("timeseries", "timeseries"),
            "temporalCoherence": ("temporalCoherence", "temporalCoherence"),
            "numInvIfgram": ("numInvIfgram", "mask"),
            "bridged": ("bridged", "bridged"),
            "numComponents": ("bridged", "numComponents"),
            "velocity": ("velocity", "velocity"),
            "velocityStd": ("velocity", "velocityStd"),
            "intercept": ("velocity", "intercept"),
            "interceptStd": ("velocity", "interceptStd"),
            "residue": ("velocity", "residue"),
        }

    def write(self, res: dict[str, Any]) -> None:
        r0, r1 = res["r0"], res["r1"]
        with self.lock:
            for key, (fname, dsname) in self._route.items():
                ds = self.files[fname][dsname]
                if ds.ndim == 3:
                    ds[:, r0:r1, :] = res[key]
                else:
                    ds[r0:r1, :] = res[key]
            self.n_solved += res["n_solved"]
            self.n_bridged += res["n_bridged"]

    def close(self) -> None:
        for f in self.files.values():
            try:
                f.close()
            except Exception as exc:  # noqa: BLE001 - pragma: no cover; closing after an error must not mask it
                log.debug("closing %s after an error: %s", getattr(f, "filename", "?"), exc)


def _bperp_per_date(stack: IfgramStack, net: Network) -> np.ndarray:
    if stack.bperp_m is None or len(stack.bperp_m) != net.n_ifgs:
        return np.zeros(net.n_dates, np.float32)
    x = np.linalg.lstsq(net.A, np.asarray(stack.bperp_m, float), rcond=None)[0]
    return np.concatenate([[0.0], np.cumsum(x)]).astype(np.float32)


def check_network(net: Network, options: TimeseriesOptions) -> dict[str, Any]:
    """Network-level checks: connected, or bridgeable under the options. Returns facts for the summary."""
    gaps = net.gap_intervals()
    ncomp = net.n_components()
    span = (net.dates[-1] - net.dates[0]).days
    gap_days = sum((b - a).days for a, b in gaps)
    info = {
        "n_dates": net.n_dates,
        "n_ifgs": net.n_ifgs,
        "n_components": ncomp,
        "gaps": [f"{yyyymmdd(a)}_{yyyymmdd(b)}" for a, b in gaps],
        "gap_days": gap_days,
        "span_days": span,
    }
    if ncomp > 1:
        where = ", ".join(info["gaps"][:5]) or "(components overlap in time)"
        if options.gap_mode == "none":
            raise InSARInputError(
                f"the interferogram network is disconnected ({ncomp} parts; gaps {where}) and bridging is off; "
                "add interferograms across the gap or allow NSBAS bridging (--gap nsbas)"
            )
        if options.gap_mode == "nsbas" and gap_days > options.max_gap_fraction * span:
            raise InSARInputError(
                f"the interferogram network is disconnected ({ncomp} parts) and the gaps ({where}) cover "
                f"{gap_days} of {span} days (> {options.max_gap_fraction:.0%}); a velocity model cannot bridge that "
                "much of the time series reliably. Add interferograms across the gaps, invert the parts separately, "
                "or raise --max-gap-fraction"
            )
        log.warning(
            "network has %d disconnected parts (gaps %s): %s",
            ncomp,
            where,
            "bridged with the NSBAS velocity model; bridged pixels are flagged in bridged.h5"
            if options.gap_mode == "nsbas"
            else "minimum-norm: motion across the gaps is set to zero",
        )
    return info


def _read_pixel(stack: IfgramStack, row: int, col: int):
    bd = stack.source.read_rows(row, row + 1)
    ph = bd.phase[:, 0, col]
    coh = None if bd.coherence is None else bd.coherence[:, 0, col]
    return ph, coh


def choose_reference(
    stack: IfgramStack, net: Network, options: TimeseriesOptions, progress: Progress
) -> ReferenceChoice:
    """The reference pixel: the user's, else the file's REF_Y/REF_X, else automatic (see :func:`select_reference`)."""
    L, W = stack.shape
    want = options.ref_yx
    method = "user"
    if want is None and stack.ref_yx is not None:
        want, method = stack.ref_yx, "file"
    if want is not None and want != "auto":
        r, c = int(want[0]), int(want[1])
        origin = "--ref-yx" if method == "user" else f"{stack.origin} attributes REF_Y/REF_X"
        if not (0 <= r < L and 0 <= c < W):
            raise InSARInputError(f"reference pixel ({r}, {c}) from {origin} is outside the {L}x{W} grid")
        ph, coh = _read_pixel(stack, r, c)
        bad = ~valid_mask(ph)
        if coh is not None:
            bad |= ~np.isfinite(coh)
        if bad.any():
            names = stack.pair_names()
            first = [names[i] for i in np.flatnonzero(bad)[:3]]
            raise InSARInputError(
                f"reference pixel (row {r}, col {c}) from {origin} has no data in {int(bad.sum())} of {len(bad)} "
                f"interferograms (e.g. {', '.join(first)}); choose a pixel with data in all of them "
                "(--ref-yx ROW,COL) or let the program choose one (--ref-yx auto)"
            )
        x, y = _ref_xy(stack, r, c)
        return ReferenceChoice(
            r, c, method, f"given by {origin}; data in all {len(ph)} interferograms ({_fmt_xy(stack, x, y)})"
        )
    # automatic: invert a regular sample of pixels without a reference and pick a stable, coherent, complete one
    n_rows = min(L, 48)
    rows = np.unique(np.linspace(0, L - 1, n_rows).round().astype(int))
    cstep = max(1, W // 400)
    cols = np.arange(0, W, cstep)
    progress.start("choosing reference point / 选择参考点", len(rows))
    reader = getattr(stack.source, "read_sample", None)
    if reader is not None:
        bd = reader(rows)
        progress.advance(len(rows))
        ph = bd.phase[:, :, cols].reshape(bd.phase.shape[0], -1)
        coh = None if bd.coherence is None else bd.coherence[:, :, cols].reshape(ph.shape)
    else:
        phs, cohs = [], []
        for r in rows:
            bd = stack.source.read_rows(int(r), int(r) + 1)
            phs.append(bd.phase[:, 0, cols])
            if bd.coherence is not None:
                cohs.append(bd.coherence[:, 0, cols])
            progress.advance(1)
        ph = np.concatenate(phs, axis=1)
        coh = np.concatenate(cohs, axis=1) if cohs else None
    valid = valid_mask(ph)
    if coh is not None:
        valid &= np.isfinite(coh)
    if not valid.any():
        _raise_if_all_nodata(stack)
    full = valid.all(axis=0)
    # each interferogram carries its own arbitrary constant (unwrapping); remove a common one (the median over
    # the sampled pixels) so that temporal coherence and velocity of the sample are meaningful
    offs = np.nanmedian(np.where(valid, ph, np.nan), axis=1)
    offs = np.where(np.isfinite(offs), offs, 0.0)
    w = fisher_weights(coh, stack.looks) if (options.weighting and coh is not None) else None
    sol = invert_pixels(net, np.where(valid, ph - offs[:, None], 0.0), w, valid, gap_mode="nsbas")
    ts = phase_rad_to_los_m(sol.phase_ts, stack.wavelength_m)
    fit = linear_fit(ts, net.t_years)
    mean_coh = None if coh is None else np.nanmean(np.where(valid, coh, np.nan), axis=0)
    rr = np.repeat(rows, len(cols))
    cc = np.tile(cols, len(rows))
    choice = select_reference(rr, cc, sol.temporal_coherence, full, fit.velocity, mean_coh)
    x, y = _ref_xy(stack, choice.row, choice.col)
    choice.reason += f"; sampled {ph.shape[1]} pixels; {_fmt_xy(stack, x, y)}"
    return choice


def _ref_xy(stack: IfgramStack, row: int, col: int) -> tuple[float, float]:
    """Map x, y of a pixel centre; for a radar-coordinate stack lon, lat from its geometry file (NaN if none)."""
    if stack.grid.crs is not None:
        return stack.grid.xy(row, col)
    if stack.geometry is None:
        return float("nan"), float("nan")
    lat, lon = stack.geometry.lat_lon()
    return float(lon[row, col]), float(lat[row, col])


def _fmt_xy(stack: IfgramStack, x: float, y: float) -> str:
    crs = stack.grid.crs
    if crs is None:
        return f"radar coordinates, lon {x:.6f}, lat {y:.6f} (WGS84, from the lookup table)"
    name = crs.to_string()
    if crs.is_geographic:
        return f"lon {x:.6f}, lat {y:.6f} ({name})"
    return f"x {x:.1f} m, y {y:.1f} m ({name})"


def _raise_if_all_nodata(stack: IfgramStack) -> None:
    L = stack.shape[0]
    step = max(1, 131072 // max(stack.shape[1], 1))
    for r0 in range(0, L, step):
        bd = stack.source.read_rows(r0, min(L, r0 + step))
        if valid_mask(bd.phase).any():
            return
    raise InSARInputError(
        f"{stack.origin}: every unwrapped-phase value is no-data (NaN or 0) in every "
        "interferogram; nothing to invert (check the unwrapping step or the no-data value)"
    )


def default_chunk_rows(
    shape: tuple[int, int], workers: int, block_pixels: int = 32768, row_chunk: int | None = None
) -> int:
    """Rows per block: about ``block_pixels`` (amortises per-call overhead; sources that open one file per
    interferogram ask for more), but at least one block per worker; a multiple of the file's row chunk when that
    chunk is not much larger than the block (no chunk read twice)."""
    L, W = shape
    target = max(1, block_pixels // max(W, 1))
    rows = int(max(1, min(target, math.ceil(L / max(workers, 1)))))
    if row_chunk and 1 < row_chunk <= 4 * target:
        rows = max(row_chunk, rows // row_chunk * row_chunk)
    return rows


def _run_blocks_threaded(stack, blocks, params, sink, workers, progress):
    import dask

    def task(r0, r1):
        res = process_block(stack.source, r0, r1, params)
        sink.write(res)
        progress.advance(r1 - r0)
        return res["n_solved"]

    tasks = [dask.delayed(task, pure=False)(r0, r1) for r0, r1 in blocks]
    dask.compute(*tasks, scheduler="threads", num_workers=workers)


def _run_blocks_distributed(stack, blocks, params, sink, address, progress):
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise InSARInputError("--scheduler needs the 'distributed' package (pip install distributed)") from None
    try:
        client = Client(address, timeout="20s")
    except Exception as exc:  # noqa: BLE001 - distributed raises OSError, TimeoutError, ValueError ... for bad addresses
        raise InSARInputError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
    try:
        nthreads = max(1, sum(client.nthreads().values()))
        window = 2 * nthreads
        todo = list(blocks)
        ac = as_completed()
        for _ in range(min(window, len(todo))):
            r0, r1 = todo.pop(0)
            ac.add(client.submit(process_block, stack.source, r0, r1, params, pure=False))
        for fut in ac:
            res = fut.result()
            sink.write(res)
            progress.advance(res["r1"] - res["r0"])
            fut.release()
            if todo:
                r0, r1 = todo.pop(0)
                ac.add(client.submit(process_block, stack.source, r0, r1, params, pure=False))
    finally:
        client.close()


def run_timeseries(
    stack: IfgramStack, out_dir: str | Path, options: TimeseriesOptions | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Invert ``stack`` into MintPy-compatible products in ``out_dir``; return the run summary (also in summary.json)."""
    options = options or TimeseriesOptions()
    progress = progress or _NoProgress()
    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InSARInputError(f"{out_dir}: exists and is not a folder; choose another --out")
    net = Network.from_pairs(stack.pairs)
    net_info = check_network(net, options)
    aps_on = options.aps_filter if options.aps_filter is not None else net.n_dates >= MIN_DATES_FOR_APS
    if options.ramp_order not in (0, 1, 2):
        raise InSARInputError("--ramp must be 0 (none), 1 (plane) or 2 (quadratic)")
    if aps_on and not (options.aps_time_sigma_days > 0 and options.aps_space_sigma_m > 0):
        raise InSARInputError("the APS filter windows (--aps-time-days, --aps-space-m) must be positive")
    L, W = stack.shape
    if not stack.has_coherence and options.weighting:
        log.warning("%s: no coherence; inverting without weights", stack.origin)
    workers = options.workers or os.cpu_count() or 1
    chunk_rows = options.chunk_rows or default_chunk_rows(
        stack.shape,
        workers,
        getattr(stack.source, "preferred_block_pixels", 32768),
        getattr(stack.source, "row_chunk", None),
    )
    if chunk_rows < 1:
        raise InSARInputError("--chunk-rows must be at least 1")
    lookup = None
    t_lookup = 0.0
    if stack.grid.crs is None:
        if stack.geometry is None:
            raise InSARInputError(
                f"{stack.origin}: radar coordinates without a geometry file; give --geometry "
                "geometryRadar.h5 (MintPy mintpy/inputs/) to geocode the results"
            )
        from subsidence.insar.geocode import lookup_for

        t_lookup = time.perf_counter()
        lookup = lookup_for(
            stack.geometry, crs=options.geocode_crs, spacing_m=options.geocode_spacing_m, method=options.geocode_method
        )
        t_lookup = time.perf_counter() - t_lookup
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    work = tmp / "radar" if lookup is not None else tmp
    work.mkdir(exist_ok=True)
    sink = None
    try:
        ref = choose_reference(stack, net, options, progress)
        log.debug("reference pixel row %d col %d (%s): %s", ref.row, ref.col, ref.method, ref.reason)
        ref_phase, _ = _read_pixel(stack, ref.row, ref.col)
        params = BlockParams(
            net=net,
            ref_phase=np.asarray(ref_phase, np.float64),
            ref_yx=(ref.row, ref.col),
            wavelength_m=stack.wavelength_m,
            looks=stack.looks,
            weighting=options.weighting and stack.has_coherence,
            gap_mode=options.gap_mode,
            bridge_weight=options.bridge_weight,
            batch_pixels=options.batch_pixels,
        )
        sink = _Sink(work, stack, net, ref, chunk_rows, options)
        blocks = [(r0, min(L, r0 + chunk_rows)) for r0 in range(0, L, chunk_rows)]
        progress.start(f"SBAS inversion / 时序反演 ({len(blocks)} blocks of {chunk_rows} rows)", L)
        t_inv = time.perf_counter()
        if options.scheduler:
            _run_blocks_distributed(stack, blocks, params, sink, options.scheduler, progress)
        else:
            _run_blocks_threaded(stack, blocks, params, sink, workers, progress)
        t_inv = time.perf_counter() - t_inv
        n_solved, n_bridged = sink.n_solved, sink.n_bridged
        sink.close()
        if n_solved == 0:
            _raise_if_all_nodata(stack)
            raise InSARInputError(f"{stack.origin}: no pixel could be inverted (check the no-data masks)")
        atmosphere = None
        if aps_on or options.ramp_order:
            progress.start("atmospheric phase screen / 大气相位滤波", L)
            atmosphere = correct_atmosphere(
                work, net, (ref.row, ref.col), options, _pixel_size_m(stack, lookup), aps=aps_on, progress=progress
            )
        geocoding = None
        if lookup is not None:
            from subsidence.insar.geocode import geocode_products

            radar_summary = _finish(work, stack, net, ref, options, n_solved, n_bridged, geotiff=False)
            progress.start("geocoding / 地理编码", 1)
            t_geo = time.perf_counter()
            geocoding = geocode_products(work, tmp, lookup, stack.geometry, (ref.row, ref.col))
            geocoding["seconds_lookup"] = round(t_lookup, 3)
            geocoding["seconds_geocoding"] = round(time.perf_counter() - t_geo, 3)
            progress.advance(1)
        summary = _finish(
            tmp, stack, net, ref, options, n_solved, n_bridged, grid=lookup.grid if lookup is not None else None
        )
        if geocoding is not None:
            # pixel counts stay in radar pixels (like pixels/pixels_solved); the map grid's count is in geocoding
            geocoding["pixels_kept_temporal_coherence"] = summary["pixels_kept_temporal_coherence"]
            summary["pixels_kept_temporal_coherence"] = radar_summary["pixels_kept_temporal_coherence"]
            summary["geocoding"] = geocoding
            summary["outputs"] += ["geometryGeo.h5", "incidence_angle_deg.tif", "radar/"]
        elif stack.map_geometry:  # e.g. HyP3 lv_theta/lv_phi/dem on the stack's own grid
            from subsidence.insar.geocode import write_map_geometry

            write_map_geometry(tmp, stack.grid, stack.map_geometry, stack.attrs)
            summary["outputs"] += ["geometryGeo.h5"] + (
                ["incidence_angle_deg.tif"] if "incidenceAngle" in stack.map_geometry else []
            )
        summary["atmosphere"] = atmosphere or {
            "aps_filter": False,
            "ramp_order": 0,
            "reason": f"off ({net.n_dates} dates; on by default from {MIN_DATES_FOR_APS})"
            if options.aps_filter is None
            else "off (--no-aps)",
        }
        summary.update(
            {
                "input": stack.origin,
                "input_kind": stack.kind,
                "network": net_info,
                "shape": [L, W],
                "chunk_rows": chunk_rows,
                "blocks": len(blocks),
                "scheduler": options.scheduler or f"dask threads x{workers}",
                "seconds_inversion": round(t_inv, 3),
                "seconds_total": round(time.perf_counter() - t_start, 3),
                "options": {k: v for k, v in asdict(options).items()},
            }
        )
        (tmp / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
        _move_into_place(tmp, out_dir)
        return summary
    except BaseException:
        if sink is not None:
            sink.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _pixel_size_m(stack: IfgramStack, lookup=None) -> tuple[float, float]:
    """Ground spacing (along rows, along cols) in metres of the grid the inversion ran on."""
    g = stack.grid
    if g.crs is None:
        if lookup is not None and all(np.isfinite(lookup.radar_spacing_m)):
            return float(lookup.radar_spacing_m[0]), float(lookup.radar_spacing_m[1])
        raise InSARInputError("radar-coordinate stack without ground spacing; cannot size the APS filter")
    dx, dy = abs(g.transform.a), abs(g.transform.e)
    if g.crs.is_geographic:
        lat = g.xy(g.rows / 2, g.cols / 2)[1]
        return dy * 111_320.0, dx * 111_320.0 * math.cos(math.radians(lat))
    unit = g.crs.axis_info[0].unit_conversion_factor if g.crs.axis_info else 1.0
    return dy * unit, dx * unit


def _fit_line_f32(x: np.ndarray, t_years: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`~subsidence.insar.sbas.linear_fit` of (n, P) float32 with BLAS float32 products (the refit after the
    APS correction must not cost more than the correction): velocity, its std, intercept, its std, residue."""
    n = x.shape[0]
    t = np.asarray(t_years, dtype=np.float64)
    tm = t.mean()
    tc = t - tm
    stt = float(tc @ tc)
    ymean = x.mean(axis=0, dtype=np.float64)
    vel = (tc.astype(np.float32) @ x).astype(np.float64) / stt
    icp = ymean - vel * tm
    y2 = np.einsum("ip,ip->p", x, x, dtype=np.float64)
    e2 = np.maximum(y2 - n * ymean**2 - vel**2 * stt, 0.0)
    sigma2 = e2 / max(n - 2, 1)
    return {
        "velocity": vel,
        "velocityStd": np.sqrt(sigma2 / stt),
        "intercept": icp,
        "interceptStd": np.sqrt(sigma2 * (1.0 / n + tm * tm / stt)),
        "residue": np.sqrt(e2),
    }


def correct_atmosphere(
    folder: Path,
    net: Network,
    ref_yx: tuple[int, int],
    options: TimeseriesOptions,
    pixel_m: tuple[float, float],
    *,
    aps: bool = True,
    progress: Progress | None = None,
    block_values: int = 1 << 22,
) -> dict[str, Any]:
    """Subtract the per-date ramp (``options.ramp_order``) and/or the APS estimate from ``folder/timeseries.h5`` in
    place, write the removed correction (LOS metres, relative to the first date and to the reference pixel) to
    ``folder/atmosphere.h5`` and refit ``velocity.h5``.

    One pass over row blocks of about ``block_values`` values; each block's spatial filter sees a halo of rows
    (4 filter s.d. plus a coarse cell, :func:`~subsidence.insar.atmosphere.halo_rows`) of the *uncorrected* series,
    kept in memory from the previous block, so every row is read and written once and the answer equals the
    whole-image one. The correction at the reference pixel (subtracted so that the pixel stays 0) comes first from
    a strip of rows around it. A ramp needs one extra read pass (its least-squares sums). Reliable pixels (those
    the spatial filter and the ramp fit use): temporal coherence >= ``options.min_temporal_coherence``. Returns
    the facts for ``summary.json``."""
    import h5py

    progress = progress or _NoProgress()
    t0 = time.perf_counter()
    n = net.n_dates
    t_days = net.t_years * DAYS_PER_YEAR
    with h5py.File(folder / "temporalCoherence.h5", "r") as f:
        tcoh = f["temporalCoherence"][:]
    reliable = np.isfinite(tcoh) & (tcoh >= options.min_temporal_coherence)
    L, W = tcoh.shape
    sig_px = (options.aps_space_sigma_m / pixel_m[0], options.aps_space_sigma_m / pixel_m[1])
    halo = halo_rows(sig_px) if aps else 0
    fac = decimation(sig_px)[0] if aps else 1
    step = max(1, block_values // max(n * W, 1), 6 * halo)  # halo overhead at most (6 + 2) / 6 of the rows
    step = -(-step // fac) * fac  # blocks start on the coarse grid of the whole image
    blocks = [(r0, min(L, r0 + step)) for r0 in range(0, L, step)]
    H = temporal_smoother(t_days, options.aps_time_sigma_days) if aps else None
    ry, rx = ref_yx
    sq = np.zeros(n)
    with h5py.File(folder / "timeseries.h5", "r+") as fts:
        ds = fts["timeseries"]
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in fts.attrs.items()}
        acc = coef = None
        if options.ramp_order:
            acc = RampAccumulator(n, (L, W), options.ramp_order)
            for r0, r1 in blocks:
                acc.add(r0, ds[:, r0:r1], reliable[r0:r1])
            coef = acc.coefficients()

        def correction(raw: np.ndarray, a0: int, r0: int, r1: int) -> np.ndarray:
            """Correction of rows [r0, r1) from the uncorrected rows [a0, a0 + len) (float32)."""
            x = raw
            corr = np.zeros((n, r1 - r0, W), np.float32)
            if acc is not None:
                ramp = acc.ramp(coef, a0, a0 + raw.shape[1]).astype(np.float32)
                x = raw - ramp
                corr += ramp[:, r0 - a0 : r1 - a0]
            if aps:
                corr += estimate_aps(
                    x,
                    t_days,
                    reliable[a0 : a0 + raw.shape[1]],
                    time_sigma_days=options.aps_time_sigma_days,
                    space_sigma_px=sig_px,
                    smoother=H,
                )[:, r0 - a0 : r1 - a0]
            return corr

        s0 = max(0, (ry - halo) // fac * fac)
        s1 = min(L, ry + halo + 1)
        at_ref = correction(ds[:, s0:s1].astype(np.float32), s0, ry, ry + 1)[:, 0, rx].astype(np.float32)
        attrs.update(
            {
                "FILE_TYPE": "timeseries",
                "UNIT": "m",
                "DESCRIPTION": "correction subtracted from timeseries.h5 (ramp + APS estimate), LOS m; "
                "add it back to undo",
                "subsidence.atmosphere.apsFilter": str(bool(aps)),
                "subsidence.atmosphere.timeSigmaDays": repr(options.aps_time_sigma_days),
                "subsidence.atmosphere.spaceSigmaM": repr(options.aps_space_sigma_m),
                "subsidence.atmosphere.rampOrder": str(options.ramp_order),
            }
        )
        dates = fts["date"][:]
        fatm = create_h5(
            folder / "atmosphere.h5",
            {"date": (np.dtype("S8"), (n,), dates), "timeseries": (np.float32, (n, L, W), None)},
            attrs,
            chunk_rows=min(step, L),
        )
        try:
            out = fatm["timeseries"]
            cache = np.zeros((n, 0, W), np.float32)  # uncorrected rows [c0, c0 + cache rows)
            c0 = 0
            with h5py.File(folder / "velocity.h5", "r+") as fv:
                for r0, r1 in blocks:
                    a0, a1 = max(0, r0 - halo), min(L, r1 + halo)
                    keep = cache[:, a0 - c0 :] if cache.shape[1] else cache
                    have = c0 + cache.shape[1]
                    new = (
                        ds[:, max(have, a0) : a1].astype(np.float32)
                        if a1 > max(have, a0)
                        else np.zeros((n, 0, W), np.float32)
                    )
                    raw = np.concatenate([keep, new], axis=1) if keep.shape[1] else new
                    cache, c0 = raw, a0
                    corr = correction(raw, a0, r0, r1) - at_ref[:, None, None]
                    x = raw[:, r0 - a0 : r1 - a0] - corr
                    ds[:, r0:r1] = x
                    out[:, r0:r1] = corr
                    cz = np.nan_to_num(corr)
                    sq += np.einsum("nrw,nrw->n", cz, cz * reliable[r0:r1], dtype=np.float64)
                    fit = _fit_line_f32(x.reshape(n, -1), net.t_years)
                    for name, v in fit.items():
                        fv[name][r0:r1] = v.astype(np.float32).reshape(r1 - r0, W)
                    progress.advance(r1 - r0)
        finally:
            fatm.close()
    n_rel = max(int(reliable.sum()), 1)
    rms = np.sqrt(sq / n_rel) * 1000.0
    return {
        "aps_filter": bool(aps),
        "ramp_order": options.ramp_order,
        "method": (
            "temporal high-pass (Gaussian-weighted local linear model) then spatial low-pass (normalised "
            "Gaussian) of the residual, per date, relative to the first date"
            if aps
            else "ramp only"
        ),
        "time_sigma_days": options.aps_time_sigma_days if aps else None,
        "space_sigma_m": options.aps_space_sigma_m if aps else None,
        "space_sigma_px": [round(sig_px[0], 3), round(sig_px[1], 3)] if aps else None,
        "reliable_pixels": int(reliable.sum()),
        "rms_removed_mm": [round(float(v), 3) for v in rms],
        "rms_removed_last_date_mm": round(float(rms[-1]), 3),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _finish(
    tmp: Path,
    stack: IfgramStack,
    net: Network,
    ref: ReferenceChoice,
    options: TimeseriesOptions,
    n_solved: int,
    n_bridged: int,
    *,
    grid=None,
    geotiff: bool = True,
) -> dict[str, Any]:
    """Mask (maskTempCoh.h5) and GeoTIFFs of the products in ``tmp`` on ``grid`` (default: the stack's grid)."""
    import h5py

    grid = grid or stack.grid

    with h5py.File(tmp / "temporalCoherence.h5", "r") as f:
        tcoh = f["temporalCoherence"][:]
        attrs = dict(f.attrs)
    keep = np.isfinite(tcoh) & (tcoh >= options.min_temporal_coherence)
    mask_attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
    mask_attrs.update(
        {"FILE_TYPE": "mask", "UNIT": "1", "MIN_TEMPORAL_COHERENCE": repr(options.min_temporal_coherence)}
    )
    create_h5(tmp / "maskTempCoh.h5", {"mask": (np.bool_, keep.shape, keep)}, mask_attrs).close()
    dates = [yyyymmdd(d) for d in net.dates]
    if options.geotiff and geotiff and grid.crs is not None:
        g = grid
        with h5py.File(tmp / "velocity.h5", "r") as f:
            vel = f["velocity"][:]
        with h5py.File(tmp / "timeseries.h5", "r") as f:
            cum = f["timeseries"][-1]
        with h5py.File(tmp / "bridged.h5", "r") as f:
            br = f["bridged"][:]
        span = f"{dates[0]}_{dates[-1]}"
        write_geotiff(
            tmp / "velocity_los_m_per_yr.tif",
            np.where(keep, vel, np.nan),
            g,
            name="velocity_los_m_per_yr",
            unit="m/year",
            kind="velocity",
            direction="los",
            description=f"LOS velocity {span}, positive toward the satellite; masked temporal coherence < "
            f"{options.min_temporal_coherence}",
        )
        write_geotiff(
            tmp / "cumulative_los_m.tif",
            np.where(keep, cum, np.nan),
            g,
            name="cumulative_los_m",
            unit="m",
            kind="cumulative",
            direction="los",
            dates=[dates[0], dates[-1]],
            description=f"LOS displacement {span}, positive toward the satellite",
        )
        write_geotiff(
            tmp / "temporal_coherence.tif",
            tcoh,
            g,
            name="temporal_coherence",
            unit="1",
            kind="temporal_coherence",
            description="temporal coherence (Pepe & Lanari 2006)",
        )
        write_geotiff(
            tmp / "bridged.tif",
            br,
            g,
            name="bridged",
            unit="1",
            kind="flag",
            dtype="uint8",
            description="1 = NSBAS bridge used across a network gap",
        )
    return {
        "dates": dates,
        "wavelength_m": stack.wavelength_m,
        "looks": stack.looks,
        "reference": ref.as_dict(),
        "pixels": int(stack.shape[0] * stack.shape[1]),
        "pixels_solved": n_solved,
        "pixels_bridged": n_bridged,
        "pixels_kept_temporal_coherence": int(keep.sum()),
        "min_temporal_coherence": options.min_temporal_coherence,
        "sign_convention": "LOS displacement positive toward the satellite (MintPy); subsidence = -LOS/cos(inc)",
        "outputs": [name for name in OUTPUT_FILES if (tmp / name).exists() or name == "summary.json"],
    }


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    if not out_dir.is_dir():
        raise InSARInputError(f"{out_dir}: exists and is not a folder")
    for p in tmp.iterdir():
        dest = out_dir / p.name
        if p.is_dir() and dest.is_dir():  # radar/ of an earlier run: replaced as a whole
            shutil.rmtree(dest)
        os.replace(p, dest)
    tmp.rmdir()
