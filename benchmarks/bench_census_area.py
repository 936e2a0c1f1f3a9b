"""Census area accuracy under InSAR noise (issue 15): the area of subsidence >= 10 mm against the truth, before and
after the stable-ground zero level and the noise-unbiased edge (subsidence.census.levels), same products.

  python benchmarks/bench_census_area.py [--seeds 6] [--size 100]

Stacks: our SBAS inversion (subsidence.insar) of synthetic stacks, ``size`` x ``size`` px of 30 m, 30 dates,
84 interferograms, coherence 0.25-0.9 (decorrelation noise ~3 mm in the final map), a turbulent atmosphere per date
(power-law spectrum, beta = 8/3) of 0-2 mm RMS; PIM-like bowls of 77 mm and 257 mm at the centre (LOS / cos 39 deg).
Baseline in the same run: the same census with ``BasinParams(relevel=False, noise_edge=False)`` (the behaviour
before issue 15). Reports the mean and worst |error| over the seeds and the measured map noise.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from subsidence.census.basins import BasinParams, detect_basins
from subsidence.census.inputs import load_deformation
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.synthetic import SyntheticSpec, synthetic_stack, truth_los_m

INC = 39.0


def _no_stage(series, dates):
    return np.array(["not_started"] * series.shape[1], dtype=object)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--size", type=int, default=100)
    a = ap.parse_args()
    old = BasinParams(relevel=False, noise_edge=False)
    print("| bowl | atmosphere per date | map noise (sigma) | before: mean / worst | after: mean / worst |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench_area_") as tmp:
        for max_los in (-0.06, -0.2):
            for atm in (0.0, 0.001, 0.0015, 0.002):
                before, after, sig = [], [], []
                for seed in range(a.seeds):
                    spec = SyntheticSpec(rows=a.size, cols=a.size, n_dates=30, links=3, nodata_fraction=0.05,
                                         seed=seed, atmosphere_m=atm, coherence_range=(0.25, 0.9), max_los_m=max_los)
                    out = Path(tmp) / f"{max_los}_{atm}_{seed}"
                    run_timeseries(synthetic_stack(spec), out, TimeseriesOptions(workers=2, geotiff=False))
                    d = load_deformation(out, incidence_deg=INC)
                    truth = -truth_los_m(spec)[-1] * 1000.0 / np.cos(np.deg2rad(INC))
                    truth_ha = float((truth >= 10.0).sum()) * 0.09
                    for params, acc in ((old, before), (BasinParams(), after)):
                        res = detect_basins(None, d.grid, series_mm=d.series_mm, dates=d.dates,
                                            coherence=d.coherence, params=params, stage_fn=_no_stage)
                        acc.append(max(b.area_ha for b in res.basins) / truth_ha - 1.0)
                    sig.append(res.level.sigma)
                w0 = -max_los * 1000 / np.cos(np.deg2rad(INC))
                print(f"| {w0:.0f} mm | {atm * 1000:.1f} mm | {np.mean(sig):.1f} mm | "
                      f"{np.mean(before):+.1%} / {np.max(np.abs(before)):.1%} | "
                      f"{np.mean(after):+.1%} / {np.max(np.abs(after)):.1%} |", flush=True)


if __name__ == "__main__":
    main()
