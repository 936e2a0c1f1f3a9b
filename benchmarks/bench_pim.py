"""Benchmark: PIM subsidence of 100 panels on a 2000 x 2000 grid at 5 m.

Compares :func:`subsidence.science.pim.predict_grid` with a straightforward per-panel numpy implementation
(the baseline below: every panel evaluated with erf on the full grid), in the same run, and checks that both
give the same W. Two layouts: "mixed" (5 mines x 20 panels, 2 mines aligned with the grid axes and 3 rotated
by 30, 62 and 135 degrees) and "aligned" (all 5 mines along the grid axes).

    python benchmarks/bench_pim.py [--layout mixed|aligned|both] [--repeat 1]

Not a test: the numbers depend on the machine and its load; report ratios.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
from scipy.special import erf

from subsidence.science.pim import PanelGeometry, PIMParams, predict_grid

SQRT_PI = math.sqrt(math.pi)
PARAMS = PIMParams(q=0.7, tan_beta=2.2, b=0.3, s_m=15.0)


def layout(kind: str) -> list[PanelGeometry]:
    """5 mines x 20 panels (250 m wide, 20 m pillars, 1500 m long, 180-320 m deep) in a 10 km square."""
    rng = np.random.default_rng(42)
    centres = [(2500, 2500), (7500, 2500), (5000, 5000), (2500, 7500), (7500, 7500)]
    angles = [90.0, 0.0, 30.0, 62.0, 135.0] if kind == "mixed" else [90.0, 0.0, 90.0, 0.0, 90.0]
    panels = []
    for (cx, cy), az in zip(centres, angles):
        a = math.radians(az)
        e_len = np.array([math.sin(a), math.cos(a)])
        e_wid = np.array([e_len[1], -e_len[0]])
        for k in range(20):
            off = (k - 9.5) * 270.0
            c = np.array([cx, cy]) + off * e_wid * 0.5  # two seams overlap: 135 m spacing in plan
            panels.append(
                PanelGeometry.rectangle(
                    float(c[0]),
                    float(c[1]),
                    1500.0,
                    250.0,
                    azimuth_deg=az,
                    thickness_m=float(rng.uniform(2.0, 6.0)),
                    depth_dip_m=float(rng.uniform(180.0, 320.0)),
                    name=f"m{az:g}-{k}",
                )
            )
    return panels


def baseline(panels: list[PanelGeometry], params: PIMParams, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Straightforward per-panel numpy: local coordinates and the separable erf formula on the full grid."""
    X, Y = np.meshgrid(x, y)
    W = np.zeros(X.shape)
    s = params.s_m
    for p in panels:
        rect = p.as_rectangle()
        r = p.mean_depth_m / params.tan_beta
        u = (X - rect.origin[0]) * rect.eu[0] + (Y - rect.origin[1]) * rect.eu[1]
        v = (X - rect.origin[0]) * rect.ev[0] + (Y - rect.origin[1]) * rect.ev[1]
        cu = 0.5 * (erf(SQRT_PI * (u - s) / r) - erf(SQRT_PI * (u - rect.len_u + s) / r))
        cv = 0.5 * (erf(SQRT_PI * (v - s) / r) - erf(SQRT_PI * (v - rect.len_v + s) / r))
        W += p.w0_mm(params) * cu * cv
    return W


def run(kind: str, repeat: int) -> dict[str, float]:
    panels = layout(kind)
    x = np.arange(2000) * 5.0 + 2.5
    y = 10000.0 - (np.arange(2000) * 5.0 + 2.5)
    best_fast = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fast = predict_grid(panels, PARAMS, x, y, components=["subsidence_mm"]).W
        best_fast = min(best_fast, time.perf_counter() - t0)
    t0 = time.perf_counter()
    full = predict_grid(panels, PARAMS, x, y)
    t_full = time.perf_counter() - t0
    del full
    t0 = time.perf_counter()
    base = baseline(panels, PARAMS, x, y)
    t_base = time.perf_counter() - t0
    diff = float(np.abs(fast - base).max())
    w0max = max(p.w0_mm(PARAMS) for p in panels)
    assert diff < 1e-6 * w0max, f"results differ by {diff} mm"
    return {
        "panels": len(panels),
        "fast_s": best_fast,
        "all_components_s": t_full,
        "baseline_s": t_base,
        "speedup": t_base / best_fast,
        "max_abs_diff_mm": diff,
        "max_w_mm": float(fast.max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", choices=("mixed", "aligned", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, numpy {np.__version__}")
    for kind in ("mixed", "aligned") if args.layout == "both" else (args.layout,):
        r = run(kind, args.repeat)
        print(
            f"{kind:8s} {r['panels']} panels, 2000x2000 @ 5 m: predict_grid W {r['fast_s']:.2f} s "
            f"(all 13 components {r['all_components_s']:.2f} s), baseline {r['baseline_s']:.2f} s, "
            f"speed-up {r['speedup']:.1f}x, max |dW| {r['max_abs_diff_mm']:.2e} mm (max W {r['max_w_mm']:.0f} mm)"
        )


if __name__ == "__main__":
    main()
