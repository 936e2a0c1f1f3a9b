"""Movement stage of the ground surface from a subsidence time series (per cell or per point, vectorised).

Stages (*Coal pillar and pressed-coal mining code* 2017, docs/science.md §3 [verify]):

==  ===========  ======  ==========================================================================
0   not_started  未开始  cumulative subsidence has never reached ``start_mm`` (10 mm)
1   initial      初始期  started, never yet active (rate has not exceeded the active rate)
2   active       活跃期  subsidence rate > ``active_rate_mm_per_day`` (1.67 mm/d = 50 mm/month)
3   declining    衰退期  was active, rate now below it, not yet stable
4   stable       稳定    started, not active, and subsidence over the last ``stable_window_days``
                          (6 months) <= ``stable_max_mm`` (30 mm)
==  ===========  ======  ==========================================================================

The rate at t is (W(t) - W(t - rate_window_days)) / rate_window_days, with W(t - window) interpolated
linearly between samples; it smooths InSAR/levelling noise over the code's monthly criterion. Missing
values (NaN) are filled forward in time per cell; a cell with no value at all gets stage -1 (no data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

NO_DATA, NOT_STARTED, INITIAL, ACTIVE, DECLINING, STABLE = -1, 0, 1, 2, 3, 4
STAGES = {
    NO_DATA: ("no_data", "无数据", "no data"),
    NOT_STARTED: ("not_started", "未开始", "not started"),
    INITIAL: ("initial", "初始期", "initial"),
    ACTIVE: ("active", "活跃期", "active"),
    DECLINING: ("declining", "衰退期", "declining"),
    STABLE: ("stable", "稳定", "stable"),
}


@dataclass(frozen=True)
class StabilityCriteria:
    """Criteria of the 2017 code (docs/science.md §3, [verify]); all configurable.

    start_mm: subsidence at which movement starts (mm); active_rate_mm_per_day: rate above which the surface
    is active (mm/d); stable_window_days / stable_max_mm: stable when subsidence over the window is at most
    this (6 months, 30 mm); rate_window_days: span over which the rate is measured (days).
    """

    start_mm: float = 10.0
    active_rate_mm_per_day: float = 1.67
    stable_window_days: float = 183.0
    stable_max_mm: float = 30.0
    rate_window_days: float = 30.0

    def __post_init__(self) -> None:
        for k in ("start_mm", "active_rate_mm_per_day", "stable_window_days", "stable_max_mm", "rate_window_days"):
            if not getattr(self, k) > 0:
                raise ValueError(f"stability criterion {k}={getattr(self, k)!r} must be > 0")


@dataclass
class StabilityResult:
    """Per cell: stage at the last date and dates of change (``datetime64[D]``, NaT where never)."""

    dates: np.ndarray
    stage_series: np.ndarray  # (T, ...) int8
    rate_mm_per_day: np.ndarray  # (T, ...) float
    stage: np.ndarray  # (...) stage at the last date
    stage_since: np.ndarray  # date the current stage began
    started_on: np.ndarray
    active_from: np.ndarray  # first date active
    declining_from: np.ndarray  # first date declining
    stable_from: np.ndarray  # first date of the current stable run (NaT unless stable now)

    def stage_names(self) -> np.ndarray:
        names = np.array([STAGES[k][0] for k in sorted(STAGES)], dtype=object)
        return names[self.stage.astype(int) + 1]


def _as_days(dates: Sequence[Any]) -> np.ndarray:
    d = np.asarray(dates).astype("datetime64[D]")
    if d.ndim != 1 or len(d) < 2:
        raise ValueError("need at least two dates (1-D)")
    if np.any(np.diff(d.astype(np.int64)) <= 0):
        raise ValueError("dates must be strictly increasing")
    return d


def _lagged(days: np.ndarray, series: np.ndarray, lag: float) -> tuple[np.ndarray, np.ndarray]:
    """W(t_k - lag) interpolated along time (shared weights), and a mask where t_k - lag >= t_0."""
    target = days - lag
    valid = target >= days[0]
    tc = np.clip(target, days[0], days[-1])
    j = np.clip(np.searchsorted(days, tc, side="right") - 1, 0, len(days) - 2)
    w = (tc - days[j]) / (days[j + 1] - days[j])
    shape = (-1,) + (1,) * (series.ndim - 1)
    out = series[j] * (1 - w).reshape(shape) + series[j + 1] * w.reshape(shape)
    return out, valid


def _ffill(series: np.ndarray) -> np.ndarray:
    mask = np.isnan(series)
    if not mask.any():
        return series
    idx = np.where(~mask, np.arange(series.shape[0]).reshape((-1,) + (1,) * (series.ndim - 1)), 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    return np.take_along_axis(series, idx, axis=0)


def classify(dates: Sequence[Any], series_mm: Any, criteria: StabilityCriteria | None = None) -> StabilityResult:
    """Movement stage per cell from cumulative subsidence ``series_mm`` (T, ...) in mm, positive down.

    ``dates`` (T,) are acquisition/observation dates. Works on any trailing shape (points (T, N), rasters
    (T, rows, cols)). Returns a :class:`StabilityResult`.
    """
    c = criteria or StabilityCriteria()
    d = _as_days(dates)
    days = d.astype(np.int64).astype(float)
    s = np.asarray(series_mm, dtype=float)
    if s.shape[0] != len(d):
        raise ValueError(f"series has {s.shape[0]} time steps but {len(d)} dates")
    all_nan = np.all(np.isnan(s), axis=0)
    s = _ffill(s)
    s = np.where(np.isnan(s), 0.0, s)  # leading NaNs: before the first value, no movement known

    lag_w, lag_ok = _lagged(days, s, c.rate_window_days)
    span = np.minimum(c.rate_window_days, days - days[0])
    span_b = np.where(span > 0, span, np.nan).reshape((-1,) + (1,) * (s.ndim - 1))
    rate = (s - lag_w) / span_b
    rate[0] = np.nan
    six, six_ok = _lagged(days, s, c.stable_window_days)
    six_ok_b = six_ok.reshape((-1,) + (1,) * (s.ndim - 1))

    started = np.maximum.accumulate(s, axis=0) >= c.start_mm
    active = started & (np.nan_to_num(rate, nan=0.0) > c.active_rate_mm_per_day)
    stable = started & ~active & six_ok_b & ((s - six) <= c.stable_max_mm)
    ever_active = np.maximum.accumulate(active, axis=0)
    stage = np.full(s.shape, NOT_STARTED, dtype=np.int8)
    stage[started] = INITIAL
    stage[started & ever_active] = DECLINING
    stage[stable] = STABLE
    stage[active] = ACTIVE
    stage[:, all_nan] = NO_DATA

    last = stage[-1]
    # start of the final run of the last stage
    same = stage == last[None]
    diff_run = ~same
    # last index (per cell) where the stage differs from the final one; the run starts after it
    rev = diff_run[::-1]
    has = rev.any(axis=0)
    last_diff = len(d) - 1 - np.argmax(rev, axis=0)
    run_start = np.where(has, last_diff + 1, 0)
    nat = np.datetime64("NaT", "D")

    def first(mask: np.ndarray) -> np.ndarray:
        any_ = mask.any(axis=0)
        return np.where(any_, d[np.argmax(mask, axis=0)], nat)

    return StabilityResult(
        dates=d,
        stage_series=stage,
        rate_mm_per_day=rate,
        stage=last,
        stage_since=np.where(last == NO_DATA, nat, d[run_start]),
        started_on=first(started),
        active_from=first(active),
        declining_from=first(stage == DECLINING),
        stable_from=np.where(last == STABLE, d[run_start], nat),
    )


#: Mapping onto the four ledger stages (``subsidence.vocabulary.MovementStage``). The ledger has no
#: initial stage: the initial phase is movement that has not ended, so it is reported as active
#: (conservative: never "stable" or "declining" before the surface has been active or has settled).
LEDGER_STAGE = {
    NO_DATA: None,
    NOT_STARTED: "not_started",
    INITIAL: "active",
    ACTIVE: "active",
    DECLINING: "declining",
    STABLE: "stable",
}


def classify_series(series_mm: Any, dates: Sequence[Any], criteria: StabilityCriteria | None = None) -> np.ndarray:
    """Ledger stage value per pixel ("not_started" | "active" | "declining" | "stable", None = no data).

    ``series_mm``: (n_dates, n_pixels) cumulative subsidence in mm, positive down; ``dates``: (n_dates,).
    Same criteria as :func:`classify`; the initial phase maps to "active" (see :data:`LEDGER_STAGE`).
    """
    res = classify(dates, series_mm, criteria)
    lut = np.array([LEDGER_STAGE[k] for k in sorted(LEDGER_STAGE)], dtype=object)
    return lut[res.stage.astype(int) + 1]
