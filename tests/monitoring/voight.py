"""Seeded general-α Voight series for the forecast tests (the generator itself lives in
``subsidence.monitoring.warning.forecasting`` so that benchmarks/bench_forecast.py uses the very same one)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from subsidence.monitoring.warning import methods as M
from subsidence.monitoring.warning.forecasting import noisy_voight

TF, TON, V0 = 62.0, 30.0, 0.5  #: failure day, onset day, steady creep mm/d (one sample a day from day 0)


def series(
    seed: int, alpha: float, *, sigma: float = 0.3, lead: float = 5.0, dt: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Creep at V0 until TON, then Voight acceleration with exponent ``alpha`` failing at TF; samples up to
    ``lead`` days before failure, white noise ``sigma`` mm."""
    return noisy_voight(seed, alpha=alpha, t_failure=TF, t_onset=TON, v0=V0, sigma=sigma, lead_days=lead, dt=dt)


def window_stats(method: Callable[..., M.Forecast], alpha: float, seeds: range, **kw) -> dict[str, float]:
    """Made / covering / late (window entirely after TF) / early (entirely before TF) counts over ``seeds``."""
    made = covers = late = early = 0
    for seed in seeds:
        fc = method(*series(seed, alpha, **kw))
        if not fc.ok:
            continue
        made += 1
        lo, hi = fc.failure_window
        hi = math.inf if hi is None else hi
        covers += lo <= TF <= hi
        late += lo > TF
        early += hi < TF
    return {"made": made, "covers": covers, "late": late, "early": early}
