"""Radar-coordinate MintPy stack (ISCE/topsStack layout): inverted in radar coordinates and geocoded with
geometryRadar.h5, against the same file declared geocoded (baseline, same run: same I/O and inversion).

  python benchmarks/bench_radar.py [--rows 400 --cols 320 --dates 30 --links 3] [--workers 2]

Writes ``inputs/ifgramStack.h5`` + ``inputs/geometryRadar.h5`` exactly as MintPy's load_data.py lays them out (the
writer of the tests), runs ``run_timeseries`` on it (lookup + inversion + geocoding) and on a copy with
X_FIRST/Y_FIRST/EPSG added (no lookup, no geocoding), and reports: sizes, times and their ratio; the geocoding error (the noise-free radar truth
geocoded with nearest and linear resampling against the truth evaluated on the map grid); the end-to-end error of
the geocoded subsidence against the map truth.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' MintPy writer

from subsidence.insar import read_deformation
from subsidence.insar.geocode import build_lookup
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.sources import open_ifgram_stack
from subsidence.insar.synthetic import RadarSceneSpec, SyntheticSpec
from tests.insar.radar_helpers import write_mintpy_radar_inputs


def _map_truth(scene: RadarSceneSpec, grid) -> np.ndarray:
    cols, rows = np.meshgrid(np.arange(grid.cols) + 0.5, np.arange(grid.rows) + 0.5)
    x, y = grid.transform @ (cols, rows)
    return scene.subsidence_mm(x, y)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--cols", type=int, default=320)
    ap.add_argument("--dates", type=int, default=30)
    ap.add_argument("--links", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    stack_spec = SyntheticSpec(
        rows=a.rows, cols=a.cols, n_dates=a.dates, links=a.links, nodata_fraction=0.03, seed=7, pixel_m=1.0
    )
    scene = RadarSceneSpec(stack=stack_spec, w0_mm=300.0, panel_m=(1500.0, 900.0), r_m=300.0, bowl_offset_m=(0.0, 0.0))
    with tempfile.TemporaryDirectory(prefix="bench_radar_") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        stack_path, _ = write_mintpy_radar_inputs(tmp / "mintpy", scene)
        t_write = time.perf_counter() - t
        size_mb = sum(p.stat().st_size for p in (tmp / "mintpy" / "inputs").iterdir()) / 1e6
        stack = open_ifgram_stack(stack_path)
        opts = TimeseriesOptions(workers=a.workers, geotiff=True)
        t = time.perf_counter()
        s = run_timeseries(stack, tmp / "radar_out", opts)
        t_radar = time.perf_counter() - t
        g = s["geocoding"]
        print(
            f"radar stack: {a.rows} x {a.cols} px (azimuth x range), {len(stack.dates)} dates, "
            f"{len(stack.pairs)} interferograms, inputs {size_mb:.0f} MB (written in {t_write:.1f} s)"
        )
        print(
            f"geocoded: {g['shape'][0]} x {g['shape'][1]} px of {g['spacing_m']:g} m in {g['crs']} "
            f"({g['method']}); radar spacing {g['radar_spacing_m'][0]} m azimuth x {g['radar_spacing_m'][1]} m "
            f"ground range; covered {g['covered_pixels']} px"
        )
        print(
            f"radar run: total {t_radar:.2f} s = lookup {g['seconds_lookup']:.2f} s + inversion "
            f"{s['seconds_inversion']:.2f} s + geocoding {g['seconds_geocoding']:.2f} s + rest"
        )
        # baseline: the very same file declared geocoded (X_FIRST/Y_FIRST/EPSG added): same I/O, same inversion,
        # no lookup and no geocoding; the ratio is the cost of radar coordinates
        geo_stack = tmp / "geocoded" / "ifgramStack.h5"
        geo_stack.parent.mkdir()
        shutil.copy(stack_path, geo_stack)
        with h5py.File(geo_stack, "a") as f:
            f.attrs.update(
                {
                    "X_FIRST": "412800.0",
                    "Y_FIRST": "4370440.0",
                    "X_STEP": "40.0",
                    "Y_STEP": "-40.0",
                    "X_UNIT": "meters",
                    "Y_UNIT": "meters",
                    "EPSG": "4546",
                }
            )
        t = time.perf_counter()
        base = run_timeseries(open_ifgram_stack(geo_stack), tmp / "map_out", opts)
        t_map = time.perf_counter() - t
        print(
            f"baseline (the same file declared geocoded): {t_map:.2f} s (inversion {base['seconds_inversion']:.2f} s)"
            f" -> radar/baseline = {t_radar / t_map:.2f}"
        )
        # geocoding error of the lookup alone: noise-free radar truth -> map grid vs the map truth
        geo = scene.geometry()
        w = scene.subsidence_mm(geo["x"], geo["y"])
        for method in ("nearest", "linear"):
            lk = build_lookup(geo["latitude"].astype(float), geo["longitude"].astype(float), method=method)
            out = lk.apply(w, method=method)
            truth = _map_truth(scene, lk.grid)
            ok = np.isfinite(out)
            e = out[ok] - truth[ok]
            print(
                f"geocoding error ({method}): RMS {np.sqrt(np.mean(e**2)):.3f} mm, max {np.abs(e).max():.2f} mm "
                f"on a {truth.max():.0f} mm bowl (max gradient "
                f"{np.nanmax(np.hypot(*np.gradient(truth, lk.grid.transform.a))):.2f} mm/m)"
            )
        d = read_deformation(tmp / "radar_out")
        ry, rx = s["reference"]["row"], s["reference"]["col"]
        ref_los = scene.subsidence_mm(geo["x"][ry, rx], geo["y"][ry, rx]) * np.cos(
            np.deg2rad(geo["incidenceAngle"][ry, rx])
        )
        truth = _map_truth(scene, d.grid) - ref_los / np.cos(np.deg2rad(d.incidence_map_deg))
        sub = d.subsidence_mm()
        ok = np.isfinite(sub)
        e = sub[ok] - truth[ok]
        print(
            f"end to end (inversion + geocoding, per-pixel incidence): RMS {np.sqrt(np.mean(e**2)):.2f} mm, "
            f"95th pct |err| {np.percentile(np.abs(e), 95):.2f} mm over {ok.sum()} px"
        )
        bowl = ok & (truth >= 10.0)
        eb = sub[bowl] - truth[bowl]
        print(
            f"  inside the bowl (truth >= 10 mm, {bowl.sum()} px): RMS {np.sqrt(np.mean(eb**2)):.2f} mm, "
            f"mean {eb.mean():+.2f} mm; peak: truth {truth[ok].max():.1f} mm, ours {np.nanmax(sub):.1f} mm"
        )


if __name__ == "__main__":
    main()
