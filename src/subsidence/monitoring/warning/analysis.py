"""One series, one method: the warning analysis behind ``subsidence warn`` (pure).

Takes a displacement series (times as datetime64, values in mm) and a method — inverse velocity (failure window),
tangent angle or thresholds — and returns the level and its evidence per sample, as the alarm engine would see it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from subsidence.monitoring.warning import methods as M
from subsidence.monitoring.warning.levels import Level

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------------
# offline analysis of one series (``subsidence warn``)


def _iso(t64: np.datetime64) -> str:
    return f"{np.datetime_as_string(t64.astype('datetime64[s]'), unit='s')}Z"


def warn_series(
    t64: np.ndarray,
    s: np.ndarray,
    method: str,
    *,
    per_sample: bool = False,
    steady_velocity: float | None = None,
    steady_window: tuple[int, int] | None = None,
    span_days: float | None = None,
    smooth: int = 3,
    tolerance_deg: float = 0.0,
    short: int = 3,
    long: int = 7,
    confidence: float = 0.95,
    onset: np.datetime64 | None = None,
    value: M.Thresholds | None = None,
    rate: M.Thresholds | None = None,
    acceleration: M.Thresholds | None = None,
    rain: tuple[np.ndarray, np.ndarray] | None = None,
    confirm_samples: int = 1,
) -> dict[str, Any]:
    """Apply one method to a displacement series (times datetime64 UTC, mm) and describe the result.

    Levels are those of the method per sample; ``level`` is the final one after ``confirm_samples``
    confirmation (1 = raw). Raises MethodError for input the method cannot use."""
    td, origin = M.to_days(t64)
    to_iso = lambda d: None if d is None else _iso(origin + np.timedelta64(int(round(d * 86_400_000)), "ms"))  # noqa: E731
    out: dict[str, Any] = {"method": method, "samples": int(td.size), "first": _iso(t64[0]), "last": _iso(t64[-1])}
    if method == "threshold":
        th = M.threshold_levels(td, s, value=value, rate=rate, acceleration=acceleration)
        levels, extra = (
            th.level,
            [
                {"rate_mm_d": _f(th.rate[i]), "acceleration_mm_d2": _f(th.acceleration[i]), "reason": th.reason[i]}
                for i in range(td.size)
            ],
        )
    elif method == "tangent-angle":
        mask = None
        if rain is not None:
            rd, rmm = M.to_days(rain[0], origin)[0], rain[1]
            days, daily = M.daily_totals(rd, rmm, day_offset=8.0 / 24.0)
            mask = M.rain_affected_mask(td, days, daily)
        ta = M.tangent_angle(
            td,
            s,
            steady_velocity=steady_velocity,
            steady_window=steady_window,
            span=1,
            span_days=span_days,
            smooth=smooth,
            steady_tolerance_deg=tolerance_deg,
            rain_affected=mask,
        )
        out["steady_velocity_mm_d"] = round(ta.steady.velocity, 6)
        if ta.steady.detected:
            out["steady_window"] = [_iso(t64[ta.steady.start]), _iso(t64[ta.steady.stop - 1])]
        levels = ta.level
        extra = [{"alpha_deg": _f(ta.alpha_deg[i]), "rain_capped": bool(ta.rain_capped[i])} for i in range(td.size)]
    elif method == "inverse-velocity":
        onset_d = None if onset is None else float(M.to_days(np.array([onset]), origin)[0][0])
        fc = M.inverse_velocity_forecast(td, s, short=short, long=long, confidence=confidence, onset_time=onset_d)
        out.update(
            {
                "forecast": fc.ok,
                "reason": fc.reason or None,
                "failure_time": to_iso(fc.failure_time),
                "failure_window": None
                if fc.failure_window is None
                else [to_iso(fc.failure_window[0]), to_iso(fc.failure_window[1])],
                "onset": to_iso(fc.onset_time),
                "slope": fc.slope,
                "r2": fc.r2,
                "n_fit": fc.n_fit,
                "confidence": confidence,
                "failure_time_short": to_iso(fc.failure_time_short),
                "lead_days": None if fc.lead_days is None else round(fc.lead_days, 3),
                "alpha": None if fc.alpha is None else round(fc.alpha, 3),
                "alpha_window": None if fc.alpha_window is None else [round(a, 3) for a in fc.alpha_window],
            }
        )
        # an ok forecast always carries its window; only its late end may be open
        if fc.ok and fc.failure_window is not None and fc.failure_window[1] is None:
            out["note"] = "the late end of the window is open: the data do not yet bound it"
        level = M.forecast_level(fc)
        out.update({"level": level.code, "level_zh": level.label()})
        if per_sample:
            track = M.inverse_velocity_track(td, s, short=short, long=long, confidence=confidence)
            first = td.size - len(track)
            out["per_sample"] = [
                {
                    "time": _iso(t64[first + k]),
                    "level": M.forecast_level(f).code,
                    "failure_time": to_iso(f.failure_time),
                    "failure_window": None
                    if f.failure_window is None
                    else [to_iso(f.failure_window[0]), to_iso(f.failure_window[1])],
                    "reason": f.reason or None,
                }
                for k, f in enumerate(track)
            ]
        return out
    else:
        raise M.MethodError(f"unknown method {method!r}: use inverse-velocity, tangent-angle or threshold")
    confirmed = _confirm(levels, confirm_samples)
    final = Level(int(confirmed[-1]))
    out.update(
        {
            "level": final.code,
            "level_zh": final.label(),
            "max_level": Level(int(confirmed.max())).code,
            "confirm_samples": confirm_samples,
        }
    )
    if per_sample:
        out["per_sample"] = [
            {
                "time": _iso(t64[i]),
                "value_mm": round(float(s[i]), 4),
                "raw_level": Level(int(levels[i])).code,
                "level": Level(int(confirmed[i])).code,
                **extra[i],
            }
            for i in range(td.size)
        ]
    return out


def _f(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 4)


def _confirm(levels: np.ndarray, n: int) -> np.ndarray:
    """Level confirmed by ``n`` consecutive samples at or above it (no hysteresis: a file, not a live feed)."""
    if n <= 1:
        return levels.astype(np.int8)
    out = np.zeros_like(levels, dtype=np.int8)
    for i in range(levels.size):
        if i + 1 >= n:
            out[i] = int(levels[i + 1 - n : i + 1].min())
    return out
