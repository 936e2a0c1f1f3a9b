"""Census area accuracy under InSAR noise: the area of subsidence >= 10 mm against the truth.

  python benchmarks/bench_census_area.py [--seeds 6] [--size 100] [--atm 0,1,1.5,2,2.5]
  python benchmarks/bench_census_area.py --speed [--rows 400 --cols 400 --dates 30 --repeat 3]

Stacks: our SBAS inversion (subsidence.insar) of synthetic stacks, ``size`` x ``size`` px of 30 m, 30 dates,
84 interferograms, coherence 0.25-0.9 (decorrelation noise ~3 mm in the final map), a turbulent atmosphere per date
(power-law spectrum, beta = 8/3) of ``--atm`` mm RMS; PIM-like bowls of 77 mm and 257 mm at the centre
(LOS / cos 39 deg). Three censuses of the same seed, in the same run:

* before: the unfiltered products, ``BasinParams(relevel=False, noise_edge=False)`` (the behaviour before);
* levels: the unfiltered products, stable-ground zero level + noise-unbiased edge (subsidence.census.kernels.levels);
* APS: the products with the APS filter of the time series (subsidence.insar.atmosphere, the default), levels on.

It reports the mean and worst error over the seeds, the map noise (robust s.d. of the stable ground) without and
with the filter, and how often the 95 % area interval (area_ha_low..high) of the *unfiltered* map covers the truth
(the single-map case, where nothing can be filtered).

``--speed``: the SBAS pipeline with the APS filter off and on, alternating, best of ``--repeat`` (baseline: the
same run with ``aps_filter=False``).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from subsidence.census.kernels.basins import BasinParams, detect_basins
from subsidence.census.kernels.inputs import load_deformation
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.synthetic import SyntheticSpec, synthetic_stack, truth_los_m

INC = 39.0


def _no_stage(series, dates):
    return np.array(["not_started"] * series.shape[1], dtype=object)


def _census(out: Path, params: BasinParams):
    d = load_deformation(out, incidence_deg=INC)
    res = detect_basins(
        None, d.grid, series_mm=d.series_mm, dates=d.dates, coherence=d.coherence, params=params, stage_fn=_no_stage
    )
    return res, max(res.basins, key=lambda b: b.area_ha)


def accuracy(seeds: int, size: int, atms: list[float]) -> None:
    old = BasinParams(relevel=False, noise_edge=False)
    print(
        "| bowl | atm/date | map sigma raw / APS | before: mean / worst | levels: mean / worst | "
        "APS + levels: mean / worst | interval covers (raw) | interval half-width |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench_area_") as tmp:
        for max_los in (-0.06, -0.2):
            for atm in atms:
                before, levels, aps, s_raw, s_aps, cover, hw, n_none = [], [], [], [], [], 0, [], 0
                for seed in range(seeds):
                    spec = SyntheticSpec(
                        rows=size,
                        cols=size,
                        n_dates=30,
                        links=3,
                        nodata_fraction=0.05,
                        seed=seed,
                        atmosphere_m=atm / 1000,
                        coherence_range=(0.25, 0.9),
                        max_los_m=max_los,
                    )
                    truth = -truth_los_m(spec)[-1] * 1000.0 / np.cos(np.deg2rad(INC))
                    truth_ha = float((truth >= 10.0).sum()) * 0.09
                    raw_dir, aps_dir = Path(tmp) / "raw", Path(tmp) / "aps"
                    run_timeseries(
                        synthetic_stack(spec), raw_dir, TimeseriesOptions(workers=2, geotiff=False, aps_filter=False)
                    )
                    run_timeseries(synthetic_stack(spec), aps_dir, TimeseriesOptions(workers=2, geotiff=False))
                    _, b = _census(raw_dir, old)
                    before.append(b.area_ha / truth_ha - 1)
                    res, b = _census(raw_dir, BasinParams())
                    levels.append(b.area_ha / truth_ha - 1)
                    s_raw.append(res.level.sigma if res.level is not None else np.nan)
                    if b.area_sd_ha is None:  # too little stable ground: no noise estimate, no interval
                        n_none += 1
                    else:
                        cover += b.area_ha_low <= truth_ha <= b.area_ha_high
                        hw.append((b.area_ha_high - b.area_ha_low) / 2 / truth_ha)
                    res, b = _census(aps_dir, BasinParams())
                    aps.append(b.area_ha / truth_ha - 1)
                    s_aps.append(res.level.sigma)
                    shutil.rmtree(raw_dir)
                    shutil.rmtree(aps_dir)
                w0 = -max_los * 1000 / np.cos(np.deg2rad(INC))

                def mw(x):
                    return f"{np.mean(x):+.1%} / {np.max(np.abs(x)):.1%}"

                print(
                    f"| {w0:.0f} mm | {atm:.1f} mm | {np.nanmean(s_raw):.1f} / {np.nanmean(s_aps):.1f} mm | "
                    f"{mw(before)} | {mw(levels)} | {mw(aps)} | {cover}/{seeds - n_none}"
                    + (f" ({n_none} without)" if n_none else "")
                    + f" | {np.mean(hw) if hw else np.nan:.1%} |",
                    flush=True,
                )
                print(
                    f"<!-- seeds: before {np.round(np.array(before) * 100, 1).tolist()} levels "
                    f"{np.round(np.array(levels) * 100, 1).tolist()} aps {np.round(np.array(aps) * 100, 1).tolist()}"
                    " -->",
                    flush=True,
                )


def speed(rows: int, cols: int, dates: int, repeat: int) -> None:
    spec = SyntheticSpec(
        rows=rows, cols=cols, n_dates=dates, links=3, seed=0, coherence_range=(0.25, 0.9), atmosphere_m=0.002
    )
    res: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="bench_aps_speed_") as tmp:
        for _ in range(repeat):
            for aps in (False, True):
                out = Path(tmp) / "o"
                t = time.perf_counter()
                s = run_timeseries(synthetic_stack(spec), out, TimeseriesOptions(workers=2, aps_filter=aps))
                res[aps].append((time.perf_counter() - t, float(s["atmosphere"].get("seconds", 0.0))))
                shutil.rmtree(out)
    off = min(t for t, _ in res[False])
    on = min(t for t, _ in res[True])
    step = min(a for _, a in res[True])
    print(
        f"{rows}x{cols} px, {dates} dates, {len(spec.pairs)} ifgs: filter off {off:.2f} s, on {on:.2f} s "
        f"(ratio {on / off:.3f}); APS step alone {step:.2f} s ({step / off:.1%} of the run without it); "
        f"all runs off {[round(t, 2) for t, _ in res[False]]} on {[round(t, 2) for t, _ in res[True]]}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--atm", default="0,1,1.5,2,2.5", help="turbulent delay per date, mm RMS, comma-separated")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--cols", type=int, default=400)
    ap.add_argument("--dates", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if a.speed:
        speed(a.rows, a.cols, a.dates, a.repeat)
    else:
        accuracy(a.seeds, a.size, [float(x) for x in a.atm.split(",")])


if __name__ == "__main__":
    main()
