"""Early-warning methods as pure numpy functions (docs/science.md §4). No files, no database, no clocks.

Conventions
-----------
- Time ``t`` is float **days** (any origin; see :func:`to_days`), strictly increasing.
- Displacement ``s`` is **mm, positive in the direction of movement** (downslope, crack opening, subsidence).
  A series that mostly decreases is refused with a hint to flip the sign; it is not silently negated.
- Velocity in mm/d, acceleration in mm/d². Angles in degrees.
- Levels are :class:`subsidence.monitoring.warning.levels.Level` (NONE, BLUE, YELLOW, ORANGE, RED).

Every function raises :class:`MethodError` (a ``ValueError``) with a message naming what is wrong and how to fix
it when the input cannot support the method (too few points, duplicate or decreasing times, NaN ...).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from subsidence.geo import m2_to_ha
from subsidence.monitoring.warning.levels import Level


class MethodError(ValueError):
    """Input that a method cannot work with; the message says why and what to do."""


# ----------------------------------------------------------------------------------------------------------------
# input checks and small helpers


def to_days(times: Sequence | np.ndarray, origin: np.datetime64 | None = None) -> tuple[np.ndarray, np.datetime64]:
    """datetime64 (or ISO strings) → float days since ``origin`` (default: the first time). Returns (days, origin)."""
    tt = np.asarray(times, dtype="datetime64[ms]")
    if tt.size == 0:
        raise MethodError("empty time series")
    origin = tt[0] if origin is None else origin.astype("datetime64[ms]")
    return (tt - origin).astype("timedelta64[ms]").astype(np.float64) / 86_400_000.0, origin


def check_series(
    t: np.ndarray, y: np.ndarray, *, min_points: int, what: str = "series"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (time, value) series: same length, finite, strictly increasing time, enough points."""
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if t.ndim != 1 or y.ndim != 1 or t.shape != y.shape:
        raise MethodError(f"{what}: time and value must be 1-D arrays of the same length ({t.shape} vs {y.shape})")
    if t.size < min_points:
        raise MethodError(
            f"{what}: {t.size} points, the method needs at least {min_points}; "
            f"collect more observations or choose a method that needs fewer"
        )
    bad = ~(np.isfinite(t) & np.isfinite(y))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MethodError(f"{what}: sample {i} is not a finite number; remove or fill it")
    dt = np.diff(t)
    if (dt == 0).any():
        i = int(np.flatnonzero(dt == 0)[0]) + 1
        raise MethodError(f"{what}: duplicate time at sample {i}; keep one value per time")
    if (dt < 0).any():
        i = int(np.flatnonzero(dt < 0)[0]) + 1
        raise MethodError(f"{what}: time goes backwards at sample {i}; sort the series by time")
    return t, y


def _check_direction(t: np.ndarray, s: np.ndarray, what: str) -> None:
    if s[-1] - s[0] < 0 and np.polyfit(t - t[0], s, 1)[0] < 0:
        raise MethodError(
            f"{what}: displacement decreases over the series; the methods expect mm positive in the "
            f"direction of movement (negate the values, e.g. `--negate`)"
        )


def rolling_median(x: np.ndarray, k: int) -> np.ndarray:
    """Trailing (causal) median over ``k`` samples; the first ``k-1`` use what is available."""
    x = np.asarray(x, dtype=np.float64)
    if k <= 1 or x.size == 0:
        return x.copy()
    fin = np.isfinite(x)
    first = int(np.argmax(fin)) if fin.any() else x.size
    if k == 3 and x.size - first >= 3 and fin[first:].all():  # fast path: median of three, NaN only leading
        out = x.copy()
        y = x[first:]
        a, b, c = y[:-2], y[1:-1], y[2:]
        out[first + 2 :] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
        out[first + 1] = 0.5 * (y[0] + y[1])
        return out
    pad = np.concatenate([np.full(k - 1, np.nan), x])
    win = np.lib.stride_tricks.sliding_window_view(pad, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN, as intended
        return np.nanmedian(win, axis=1)


def chord_velocity(t: np.ndarray, s: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Causal mean velocity over the last ``w`` intervals: v_i = (s_i − s_{i−w})/(t_i − t_{i−w}) (mm/d).

    This is the moving average of the point velocities over ``w`` intervals (Carlà et al. 2017 SLO/LLO).
    Returns (index of the end sample, mid time, velocity); one value per sample from ``w`` on.
    """
    if w < 1:
        raise MethodError("smoothing window must be ≥ 1 interval")
    idx = np.arange(w, t.size)
    v = (s[idx] - s[idx - w]) / (t[idx] - t[idx - w])
    return idx, 0.5 * (t[idx] + t[idx - w]), v


# ----------------------------------------------------------------------------------------------------------------
# thresholds on value, rate and acceleration


@dataclass(frozen=True)
class Thresholds:
    """Ascending thresholds (blue, yellow, orange, red); ``None`` entries are skipped.

    ``reset`` (same shape) gives the lower values at which a level is left again (hysteresis); by default
    each reset value is ``reset_fraction`` × its raise value.
    """

    raise_at: tuple[float | None, float | None, float | None, float | None]
    reset: tuple[float | None, float | None, float | None, float | None] | None = None
    reset_fraction: float = 0.8

    def __post_init__(self) -> None:
        vals = [v for v in self.raise_at if v is not None]
        if len(self.raise_at) != 4:
            raise MethodError("thresholds need four values: blue, yellow, orange, red (use None to skip one)")
        if any(b <= a for a, b in itertools.pairwise(vals)):
            raise MethodError(f"thresholds must increase from blue to red, got {self.raise_at}")
        if self.reset is not None:
            for r, u in zip(self.reset, self.raise_at):
                if (r is None) != (u is None) or (r is not None and u is not None and r > u):
                    raise MethodError(
                        f"each reset value must be ≤ its raise value, got reset {self.reset} for raise {self.raise_at}"
                    )

    @classmethod
    def parse(cls, text: str, reset_fraction: float = 0.8) -> Thresholds:
        """``"10,20,50,100"`` (blue, yellow, orange, red; ``-`` skips one)."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 4:
            raise MethodError(f"thresholds {text!r}: give four comma-separated values blue,yellow,orange,red")
        try:
            vals = tuple(None if p in ("", "-") else float(p) for p in parts)
        except ValueError as exc:
            raise MethodError(f"thresholds {text!r}: {exc}") from exc
        return cls(vals, reset_fraction=reset_fraction)  # type: ignore[arg-type]

    def resets(self) -> tuple[float | None, ...]:
        if self.reset is not None:
            return self.reset
        return tuple(
            None if v is None else v * self.reset_fraction if v > 0 else v / self.reset_fraction for v in self.raise_at
        )

    def level(self, value: float) -> Level:
        """Level reached by ``value`` (no hysteresis)."""
        out = Level.NONE
        if not np.isfinite(value):
            return out
        for lvl, thr in zip((Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED), self.raise_at):
            if thr is not None and value >= thr:
                out = lvl
        return out

    def held(self, value: float) -> Level:
        """Highest level whose *reset* value ``value`` still reaches (a level stays while this is ≥ it)."""
        out = Level.NONE
        if not np.isfinite(value):
            return out
        for lvl, thr in zip((Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED), self.resets()):
            if thr is not None and value >= thr:
                out = lvl
        return out

    def levels(self, values: np.ndarray) -> np.ndarray:
        return np.array([int(self.level(float(v))) for v in np.asarray(values, dtype=float)], dtype=np.int8)


@dataclass(frozen=True)
class ThresholdResult:
    t: np.ndarray
    value: np.ndarray
    rate: np.ndarray  #: mm/d (NaN where unknown)
    acceleration: np.ndarray  #: mm/d² (NaN where unknown)
    level: np.ndarray  #: int8 Level per sample: max over the criteria given
    reason: list[str]  #: which criterion set the level, per sample


def threshold_levels(
    t: np.ndarray,
    s: np.ndarray,
    *,
    value: Thresholds | None = None,
    rate: Thresholds | None = None,
    acceleration: Thresholds | None = None,
    rate_window: int = 1,
) -> ThresholdResult:
    """Levels from thresholds on cumulative value, rate (mm/d) and acceleration (mm/d²).

    Rate is the causal chord velocity over ``rate_window`` intervals; acceleration the change of that rate
    per day between consecutive samples. The sample's level is the highest any criterion reaches.
    """
    if value is None and rate is None and acceleration is None:
        raise MethodError("threshold method: give at least one of value, rate or acceleration thresholds")
    need = 1 + (rate_window if rate is not None else 0) + (rate_window + 1 if acceleration is not None else 0)
    t, s = check_series(t, s, min_points=max(1, min(need, rate_window + 2)), what="threshold series")
    n = t.size
    v = np.full(n, np.nan)
    a = np.full(n, np.nan)
    if n > rate_window:
        idx, tm, vv = chord_velocity(t, s, rate_window)
        v[idx] = vv
        if idx.size > 1:
            a[idx[1:]] = np.diff(vv) / np.diff(tm)
    lev = np.zeros(n, dtype=np.int8)
    why = [""] * n
    for name, thr, arr in (("value", value, s), ("rate", rate, v), ("acceleration", acceleration, a)):
        if thr is None:
            continue
        for i in range(n):
            lv = thr.level(float(arr[i]))
            if lv > lev[i]:
                lev[i] = int(lv)
                why[i] = f"{name} {arr[i]:.3g} ≥ {thr.raise_at[int(lv) - 1]:g}"
    return ThresholdResult(t, s, v, a, lev, why)


# ----------------------------------------------------------------------------------------------------------------
# improved tangent angle (Xu Qiang et al. 2009)

#: α boundaries (deg) of the levels, Xu Qiang et al. (2009): α < 45° decelerating, α = 45° steady (constant
#: velocity; blue, 注意级), 45° < α < 80° initial acceleration (yellow, 警示级), 80° ≤ α < 85° medium acceleration
#: (orange, 警戒级), α ≥ 85° imminent failure (red, 警报级). docs/science.md §4.
TANGENT_YELLOW_DEG = 45.0
TANGENT_ORANGE_DEG = 80.0
TANGENT_RED_DEG = 85.0
#: default width of a fixed "≈45°" band (deg). Xu et al. (2009) define none, so it is off unless configured;
#: noise is handled by :func:`tangent_angle`'s noise margin instead (zero on noise-free data).
TANGENT_STEADY_TOLERANCE_DEG = 0.0


def tangent_level(alpha_deg: float, steady_tolerance_deg: float = TANGENT_STEADY_TOLERANCE_DEG) -> Level:
    """Level from an improved tangent angle (Xu et al. 2009): < 45 decelerating (none); 45 steady, blue;
    45..80 yellow; 80..85 orange; ≥ 85 red. ``steady_tolerance_deg`` (default 0, off) widens "45°" to a band
    45 ± tol that counts as steady."""
    return Level(int(tangent_levels(np.array([alpha_deg]), steady_tolerance_deg)[0]))


def tangent_levels(
    alpha_deg: np.ndarray,
    steady_tolerance_deg: float | np.ndarray = TANGENT_STEADY_TOLERANCE_DEG,
    lower_tolerance_deg: float | np.ndarray | None = None,
) -> np.ndarray:
    """Vectorised :func:`tangent_level` (int8 per sample; NaN → NONE). The tolerances may be per-sample arrays:
    α above 45 + ``steady_tolerance_deg`` is yellow, α from 45 − ``lower_tolerance_deg`` (default the same) up to
    there is blue (steady). Orange and red boundaries are never moved."""
    a = np.nan_to_num(np.asarray(alpha_deg, dtype=float), nan=-np.inf)
    up = np.asarray(steady_tolerance_deg, dtype=float)
    down = up if lower_tolerance_deg is None else np.asarray(lower_tolerance_deg, dtype=float)
    if (up < 0).any() or (down < 0).any():
        raise MethodError("tangent-angle tolerance must be ≥ 0 degrees")
    eps = 1e-9  # degrees: T = S/v in floating point puts exact steady creep a hair off 45°
    return np.select(
        [
            a >= TANGENT_RED_DEG,
            a >= TANGENT_ORANGE_DEG,
            a > TANGENT_YELLOW_DEG + up + eps,
            a >= TANGENT_YELLOW_DEG - down - eps,
        ],
        [4, 3, 2, 1],
        0,
    ).astype(np.int8)


def tangent_thresholds(steady_tolerance_deg: float = TANGENT_STEADY_TOLERANCE_DEG) -> Thresholds:
    """The tangent-angle levels as :class:`Thresholds` on α (deg), with hysteresis for the alarm engine."""
    tol = steady_tolerance_deg
    return Thresholds(
        (45.0 - tol, 45.0 + tol + 1e-9, TANGENT_ORANGE_DEG, TANGENT_RED_DEG),
        reset=(45.0 - 2 * tol, 45.0 + tol * 0.5, TANGENT_ORANGE_DEG - 3.0, TANGENT_RED_DEG - 1.5),
    )


@dataclass(frozen=True)
class SteadyWindow:
    start: int  #: first sample index
    stop: int  #: one past the last sample index
    velocity: float  #: mm/d, slope of the linear fit
    detected: bool  #: True when chosen automatically


def detect_steady_window(
    t: np.ndarray, s: np.ndarray, *, min_points: int = 8, search_fraction: float = 0.6
) -> SteadyWindow:
    """Find the most linear stretch (steady creep) in the first ``search_fraction`` of the series.

    Every window of ``max(min_points, n/4)`` samples is fitted with a quadratic; the score is the fractional
    change of velocity across the window plus the relative residual. The window with the lowest score and a
    positive slope wins; its linear-fit slope is the steady-creep velocity v.
    """
    n = t.size
    w = max(min_points, n // 4)
    last_start = max(0, int(n * search_fraction) - w)
    if n < w:
        raise MethodError(f"steady-creep window: {n} points, need at least {w}; give --steady-velocity or more data")
    # every window's linear and quadratic least squares from prefix sums (O(n) for all windows)
    x = t - t[0]
    xs = x / max(x[-1], 1e-12)  # scaled to [0, 1] for conditioning
    P = [
        np.concatenate([[0.0], np.cumsum(a)])
        for a in (np.ones(n), xs, xs**2, xs**3, xs**4, s, xs * s, xs**2 * s, s * s)
    ]
    starts = np.arange(0, last_start + 1)
    S = [p_[starts + w] - p_[starts] for p_ in P]
    m, sx, sx2, sx3, sx4, sy, sxy, sx2y, syy = S
    best: tuple[float, int, float] | None = None
    # linear fit
    vxx = sx2 - sx * sx / m
    vxy = sxy - sx * sy / m
    b1 = vxy / np.where(vxx > 0, vxx, np.nan)
    sse1 = np.maximum((syy - sy * sy / m) - b1 * vxy, 0.0)
    # quadratic fit: solve the 3×3 normal equations per window
    A = np.stack([np.stack([m, sx, sx2], -1), np.stack([sx, sx2, sx3], -1), np.stack([sx2, sx3, sx4], -1)], -2)
    rhs = np.stack([sy, sxy, sx2y], -1)[..., None]
    with np.errstate(all="ignore"):
        try:
            c = np.linalg.solve(A, rhs)[..., 0]
        except np.linalg.LinAlgError:
            c = np.full((starts.size, 3), np.nan)
    scale = max(x[-1], 1e-12)
    v = b1 / scale  # mm/d
    span = x[starts + w - 1] - x[starts]
    curv = c[:, 2] / scale**2  # mm/d² / 2
    with np.errstate(all="ignore"):
        score = np.abs(2 * curv * span) / v + np.sqrt(sse1 / m) / (v * span)
    ok = np.isfinite(score) & (v > 0) & (span > 0)
    if ok.any():
        k = int(np.flatnonzero(ok)[np.argmin(score[ok])])
        best = (float(score[k]), int(starts[k]), float(v[k]))
    if best is None:
        raise MethodError(
            "no steady-creep window with positive velocity found; the series does not move in the "
            "positive direction (check the sign) or give --steady-velocity"
        )
    return SteadyWindow(best[1], best[1] + w, float(best[2]), True)


@dataclass(frozen=True)
class TangentResult:
    t: np.ndarray
    alpha_deg: np.ndarray  #: smoothed α per sample (NaN where the chord reaches before the first sample)
    alpha_raw_deg: np.ndarray  #: unsmoothed α
    level: np.ndarray  #: int8 Level per sample
    steady: SteadyWindow
    rain_capped: np.ndarray  #: bool, level lowered because the sample is rain-affected
    noise_mm: float = 0.0  #: displacement noise σ used for the margin and the automatic chord (mm)
    span_days: float | None = None  #: chord length in days (None: ``span`` samples)
    margin_deg: np.ndarray | None = None  #: per sample, how far above 45° α must be for yellow (noise + band)


#: default factor k of the noise margin: yellow needs the chord's velocity ratio to exceed 1 + k·σ_ratio
#: [verify: docs/defaults.md]
TANGENT_NOISE_K = 3.0
#: automatic chord: long enough that the velocity-ratio noise σ_ratio = √2·σ/(v·Δt) stays ≤ this ...
TANGENT_MAX_RATIO_NOISE = 0.25
#: ... but never longer than this many days (a longer chord lags a real acceleration too much)
TANGENT_MAX_SPAN_DAYS = 7.0


def displacement_noise(s: np.ndarray) -> float:
    """Robust white-noise σ (mm) of a displacement series: 1.4826·MAD(Δ²s)/√6 (the second difference removes
    trends; Var(Δ²e) = 6σ² for white noise e). Assumes roughly even sampling."""
    s = np.asarray(s, dtype=float)
    if s.size < 5:
        return 0.0
    d2 = np.diff(s, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6.0))


def _centred_median(x: np.ndarray, k: int) -> np.ndarray:
    """Centred median over ``k`` samples where the whole window exists; samples without ``k//2`` successors (the
    newest ones) keep their raw value, so the newest sample is never delayed."""
    h = k // 2
    if k <= 1 or x.size < k or h == 0:
        return x.copy()
    out = x.copy()
    win = np.lib.stride_tricks.sliding_window_view(x, 2 * h + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(win, axis=1)
    core = np.arange(h, x.size - h)
    out[core] = np.where(np.isfinite(x[core]), med, np.nan)
    return out


def tangent_angle(
    t: np.ndarray,
    s: np.ndarray,
    *,
    steady_velocity: float | None = None,
    steady_window: tuple[int, int] | None = None,
    span: int | None = None,
    span_days: float | None = None,
    smooth: int = 3,
    smooth_mode: str = "centred",
    steady_tolerance_deg: float = TANGENT_STEADY_TOLERANCE_DEG,
    noise_k: float = TANGENT_NOISE_K,
    noise_mm: float | None = None,
    rain_affected: np.ndarray | None = None,
    rain_cap: Level = Level.YELLOW,
) -> TangentResult:
    """Improved tangent angle (Xu Qiang et al. 2009): T(i) = S(i)/v, α_i = arctan((T(i) − T(j))/(t_i − t_j)) in
    degrees, j the start of the chord; levels by Xu's boundaries (45°, 80°, 85°; :func:`tangent_levels`).

    v (mm/d) is ``steady_velocity`` if given, else the slope over ``steady_window`` (sample indices), else an
    automatically detected steady-creep window.

    Chord: ``span_days`` (the latest sample at least that much older; right for irregular sampling), else
    ``span`` samples, else automatic: long enough that the noise of the velocity ratio √2·σ/(v·Δt) is at most
    :data:`TANGENT_MAX_RATIO_NOISE` (at most :data:`TANGENT_MAX_SPAN_DAYS`, at least one sample), σ being
    ``noise_mm`` or :func:`displacement_noise`. On noise-free data that is one sample.

    Noise margin: yellow needs α above 45° by more than the noise can explain, i.e. the ratio above
    1 + ``noise_k``·σ_ratio (and steady, blue, extends as far below 45°). This is zero on noise-free data, so
    Xu's thresholds apply unchanged there; orange (80°) and red (85°) are never moved. A fixed band
    ``steady_tolerance_deg`` (off by default: Xu et al. define none) is added on top when configured; the margin
    used is the larger of the two.

    Smoothing against flicker (``smooth`` samples): ``"centred"`` (default) takes the median over samples
    before *and after*, so a past single-sample jump is removed once the next sample is in, while the newest
    sample keeps its raw value — red is never delayed by smoothing. A jump in the newest sample cannot be told
    from the start of failure; the alarm engine's confirmation (N consecutive samples) is what stops it from
    raising an alarm. ``"trailing"`` is the old causal median, which delays every rise by ``smooth // 2`` samples.

    Samples flagged in ``rain_affected`` (a step during/after heavy rain, see :func:`rain_affected_mask`) are
    capped at ``rain_cap``: a rain step looks like acceleration for a moment, a real acceleration persists.
    """
    t, s = check_series(t, s, min_points=max(4, (span or 1) + smooth), what="tangent-angle series")
    if smooth_mode not in ("centred", "trailing"):
        raise MethodError(f"smooth_mode {smooth_mode!r}: use 'centred' or 'trailing'")
    if smooth < 1:
        raise MethodError(f"smooth must be ≥ 1 sample, got {smooth}")
    if noise_k < 0 or steady_tolerance_deg < 0:
        raise MethodError("noise_k and steady_tolerance_deg must be ≥ 0")
    if span is not None and span < 1:
        raise MethodError(f"span must be ≥ 1 sample, got {span}")
    if steady_velocity is not None:
        if not steady_velocity > 0:
            raise MethodError(f"steady velocity must be > 0 mm/d, got {steady_velocity}")
        steady = SteadyWindow(0, 0, float(steady_velocity), False)
    elif steady_window is not None:
        a, b = steady_window
        if not (0 <= a < b <= t.size) or b - a < 3:
            raise MethodError(
                f"steady window {steady_window} must be sample indices 0 ≤ start < stop ≤ {t.size} "
                f"with at least 3 samples"
            )
        v = float(np.polyfit(t[a:b] - t[a], s[a:b], 1)[0])
        if v <= 0:
            raise MethodError(
                f"steady window {steady_window} has velocity {v:.4g} mm/d ≤ 0; choose a window "
                f"where the slope creeps, or check the sign of the displacement"
            )
        steady = SteadyWindow(a, b, v, False)
    else:
        _check_direction(t, s, "tangent-angle series")
        steady = detect_steady_window(t, s)
    if noise_mm is not None and not noise_mm >= 0:
        raise MethodError(f"noise_mm must be ≥ 0, got {noise_mm}")
    sigma = float(noise_mm) if noise_mm is not None else displacement_noise(s)
    vel = steady.velocity
    auto = span_days is None and span is None
    if auto:  # automatic chord from the noise
        dt_med = float(np.median(np.diff(t)))
        need = math.sqrt(2.0) * sigma / (vel * TANGENT_MAX_RATIO_NOISE)
        span_days = min(max(need, dt_med), max(TANGENT_MAX_SPAN_DAYS, dt_med))
        if span_days <= dt_med * (1 + 1e-9):
            span_days, span = None, 1
    T = s / vel  # days
    raw = np.full(t.size, np.nan)
    dt_chord = np.full(t.size, np.nan)
    if span_days is not None:
        if not span_days > 0:
            raise MethodError(f"span_days must be > 0, got {span_days}")
        j = np.searchsorted(t, t - span_days * (1 - 1e-9), side="right") - 1
        ok = j >= 0
        i = np.flatnonzero(ok)
        dt_chord[i] = t[i] - t[j[ok]]
        raw[i] = np.degrees(np.arctan((T[i] - T[j[ok]]) / dt_chord[i]))
    else:
        # no chord in days: either ``span`` (samples) was given, or the automatic chord fell back to span = 1
        assert span is not None
        k = int(span)
        dt_chord[k:] = t[k:] - t[:-k]
        raw[k:] = np.degrees(np.arctan((T[k:] - T[:-k]) / dt_chord[k:]))
    alpha = rolling_median(raw, smooth) if smooth_mode == "trailing" else _centred_median(raw, smooth)
    alpha[~np.isfinite(raw)] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_noise = math.sqrt(2.0) * sigma / (vel * dt_chord)
    up = np.nan_to_num(np.degrees(np.arctan(1.0 + noise_k * ratio_noise)) - 45.0, nan=0.0)
    down = np.nan_to_num(45.0 - np.degrees(np.arctan(np.maximum(1.0 - noise_k * ratio_noise, 0.0))), nan=0.0)
    up, down = np.maximum(up, steady_tolerance_deg), np.maximum(down, steady_tolerance_deg)
    lev = tangent_levels(alpha, up, down)
    if auto and span_days is not None and noise_k > 0:
        # a long chord lags a fast acceleration: orange and red may also come from the one-sample chord when
        # its ratio exceeds the boundary by k noise standard deviations (never on steady creep: that needs a
        # ratio of 5.7 + k·σ_ratio)
        r1 = np.full(t.size, np.nan)
        r1[1:] = np.diff(T) / np.diff(t)
        r1 = rolling_median(r1, smooth) if smooth_mode == "trailing" else _centred_median(r1, smooth)
        noise1 = np.full(t.size, np.inf)
        noise1[1:] = math.sqrt(2.0) * sigma / (vel * np.diff(t))
        with np.errstate(invalid="ignore"):
            lo1 = np.degrees(np.arctan(np.maximum(r1 - noise_k * noise1, 0.0)))
        l1 = tangent_levels(np.where(np.isfinite(lo1), lo1, np.nan))
        lev = np.maximum(lev, np.where(l1 >= int(Level.ORANGE), l1, 0)).astype(np.int8)
    capped = np.zeros(t.size, dtype=bool)
    if rain_affected is not None:
        rain_affected = np.asarray(rain_affected, dtype=bool)
        if rain_affected.shape != t.shape:
            raise MethodError("rain_affected mask must have one flag per sample")
        capped = rain_affected & (lev > int(rain_cap))
        lev[capped] = int(rain_cap)
    return TangentResult(t, alpha, raw, lev, steady, capped, sigma, span_days, up)


# ----------------------------------------------------------------------------------------------------------------
# inverse velocity (Fukuzono 1985; Voight 1989; Carlà et al. 2017)


@dataclass(frozen=True)
class LineFit:
    slope: float  #: (d/mm)/d
    intercept: float  #: d/mm at t = 0
    n: int
    t_mean: float
    sxx: float
    s_resid: float  #: residual standard error (d/mm)
    r2: float

    def crossing(self) -> float:
        return -self.intercept / self.slope

    def zero_window(self, t_quantile: float) -> tuple[float, float] | None:
        """Times where the prediction band of 1/v reaches zero: {t : 0 within ŷ(t) ± q·s·√(1+1/n+(t−t̄)²/Sxx)}.

        Returns (earliest, latest) or None when the slope is not significant at this level (unbounded window).
        """
        q2 = (t_quantile * self.s_resid) ** 2
        ybar = self.intercept + self.slope * self.t_mean
        a = self.slope**2 - q2 / self.sxx
        b = 2.0 * ybar * self.slope
        c = ybar**2 - q2 * (1.0 + 1.0 / self.n)
        if a <= 0:
            return None
        disc = b * b - 4 * a * c
        if disc < 0:  # cannot happen when a > 0 and c ≤ ... but keep it safe
            return None
        r = math.sqrt(disc)
        u1, u2 = (-b - r) / (2 * a), (-b + r) / (2 * a)
        return self.t_mean + min(u1, u2), self.t_mean + max(u1, u2)


def fit_line(x: np.ndarray, y: np.ndarray) -> LineFit:
    n = x.size
    xm, ym = float(x.mean()), float(y.mean())
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum() / sxx)
    icpt = ym - slope * xm
    res = y - (icpt + slope * x)
    dof = max(n - 2, 1)
    s = float(math.sqrt((res**2).sum() / dof))
    sst = float(((y - ym) ** 2).sum())
    r2 = 1.0 - float((res**2).sum()) / sst if sst > 0 else 0.0
    return LineFit(slope, icpt, n, xm, sxx, s, r2)


@dataclass
class Forecast:
    """Failure forecast from the inverse-velocity method. Times are float days on the input axis."""

    ok: bool
    reason: str = ""
    failure_time: float | None = None  #: point estimate (long-smoothed fit)
    failure_window: tuple[float, float | None] | None = None  #: (earliest, latest); latest None = unbounded
    onset_time: float | None = None
    onset_index: int | None = None
    slope: float | None = None
    r2: float | None = None
    n_fit: int = 0
    failure_time_short: float | None = None  #: point estimate of the short-smoothed fit
    last_time: float | None = None
    details: dict = field(default_factory=dict)
    alpha: float | None = None  #: Voight α of the best fit (given or estimated)
    alpha_window: tuple[float, float] | None = None  #: α values inside the same likelihood-ratio set

    @property
    def lead_days(self) -> float | None:
        if self.failure_time is None or self.last_time is None:
            return None
        return self.failure_time - self.last_time


def detect_onset_velocity(
    tm: np.ndarray, v: np.ndarray, *, baseline_fraction: float = 0.33, k_sigma: float = 3.0, min_fit: int = 5
) -> int:
    """Onset of acceleration on a smoothed velocity series (homoscedastic noise, unlike 1/v).

    Baseline = median velocity over the first ``baseline_fraction`` of the series, noise = 1.4826·MAD there.
    The onset is the start of the final run of samples whose velocity stays above baseline + ``k_sigma``·noise
    (and above the baseline by at least 20 %), stepped back to the last sample at or below the baseline so
    the start of the curve is kept. Raises :class:`MethodError` when the series ends without such a run.
    """
    n = v.size
    nb = max(3, int(n * baseline_fraction))
    base = float(np.median(v[:nb]))
    noise = float(1.4826 * np.median(np.abs(v[:nb] - base)))
    level = base + max(k_sigma * noise, 0.2 * abs(base))
    above = v > level
    if not above[-1]:
        raise MethodError(
            "inverse velocity: the latest velocity is not above the steady-creep baseline "
            f"({base:.3g} mm/d + noise); no acceleration to forecast"
        )
    k = n - 1
    while k > 0 and above[k - 1]:
        k -= 1
    while k > 0 and v[k - 1] > base:
        k -= 1
    if n - k < min_fit:
        raise MethodError(f"inverse velocity: only {n - k} samples since the onset of acceleration; need {min_fit}")
    return k


def voight_window(
    t: np.ndarray, s: np.ndarray, *, confidence: float = 0.95, horizon_days: float | None = None
) -> tuple[float, float, float | None] | None:
    """Failure time and window by profile likelihood of Voight's α = 2 law in displacement space.

    For t after the onset, s(t) = a + c·(−ln(t_f − t)) (c = 1/A > 0). For each candidate t_f the fit is linear
    in (a, c); the window holds every t_f whose residual sum of squares passes the F test
    SSE ≤ SSE_min·(1 + F(1, n−3)/(n−3)). Displacement noise is close to white, so this interval is honest
    where the 1/v prediction band (noise amplified by differencing and smoothing) is not.
    Returns (best, earliest, latest or None if unbounded within the horizon) or None when no fit has c > 0.
    """
    from scipy.stats import f as f_dist

    n = t.size
    last = float(t[-1])
    span = float(t[-1] - t[0])
    horizon = horizon_days if horizon_days is not None else 20.0 * span
    grid = last + np.geomspace(1e-4 * span, horizon, 600)
    # closed-form simple regression of s on x = −ln(t_f − t), vectorised over the grid of t_f
    X = -np.log(grid[:, None] - t[None, :])
    xm = X.mean(axis=1, keepdims=True)
    ym = float(s.mean())
    dx = X - xm
    sxx = (dx * dx).sum(axis=1)
    sxy = (dx * (s - ym)[None, :]).sum(axis=1)
    c = sxy / sxx
    syy = float(((s - ym) ** 2).sum())
    sse = np.where(c > 0, syy - c * sxy, np.inf)
    if not np.isfinite(sse).any():
        return None
    jbest = int(np.argmin(sse))
    limit = sse[jbest] * (1.0 + float(f_dist.ppf(confidence, 1, max(n - 3, 1))) / max(n - 3, 1))
    ok = np.flatnonzero(sse <= limit)
    lo = float(grid[ok.min()])
    hi = float(grid[ok.max()]) if ok.max() < grid.size - 1 else None
    return float(grid[jbest]), lo, hi


#: p-value below which the acceleration (Voight model against a straight line) counts as real [verify: docs/defaults.md]
ACCELERATION_P = 1e-3


def inverse_velocity_forecast(
    t: np.ndarray,
    s: np.ndarray,
    *,
    short: int = 3,
    long: int = 7,
    min_fit: int = 6,
    confidence: float = 0.95,
    onset_time: float | None = None,
    min_r2: float = 0.3,
    alpha: float | None = None,
    alpha_range: tuple[float, float] | None = None,
    correlated_noise: bool = True,
) -> Forecast:
    """Failure forecast for Voight's law with α estimated (α ≠ 2 allowed), the onset and a failure window.

    1. Gate: the slope must be accelerating *now* — the newest long-smoothed (``long`` intervals, Carlà et al.
       2017) velocity stays above the steady-creep baseline (:func:`detect_onset_velocity`), unless
       ``onset_time`` is given.
    2. Fit: steady creep then Voight acceleration, Ω̈ = A·Ω̇^α, is fitted to the *displacement* by profile
       likelihood over α (``alpha_range``, default :data:`~subsidence.monitoring.warning.forecasting.ALPHA_RANGE`
       = 1.1–3.0), the failure time t_f and the onset (:func:`subsidence.monitoring.warning.forecasting.voight_profile`);
       ``alpha`` fixes α instead (e.g. 2 for the classic Fukuzono line, when a site's α is known). The upper
       end of the α range governs how early the window can start. With ``correlated_noise`` (default) the
       window and the test in 3. are widened by the AR(1) variance inflation of the fit's residuals, so that
       correlated measurement noise does not make the window over-confident.
    3. The acceleration must be significant against a straight line (F test, p < :data:`ACCELERATION_P`).
    4. The **failure window** is the ``confidence`` likelihood-ratio set of t_f with α, onset and creep profiled
       out, never earlier than the last sample (failure is then due now). Its coverage for α = 1.3–2.8 is
       measured by benchmarks/bench_forecast.py. :func:`forecast_level` takes the level from its early bound.

    The 1/v lines of the α = 2 method (LLO and SLO after the onset) are still fitted for display and for the
    legacy fields ``slope``, ``r2`` and ``failure_time_short`` (``min_r2`` is only reported against, no longer
    a gate: 1/v is curved when α ≠ 2). :func:`inverse_velocity_forecast_alpha2` is the old α = 2 method, kept as
    the named baseline.

    Returns ``ok=False`` with a reason when no forecast can be made; raises :class:`MethodError` for unusable input.
    """
    from subsidence.monitoring.warning.forecasting import (
        ALPHA_RANGE,
        ForecastInputError,
        voight_profile,
    )

    t, s = check_series(t, s, min_points=long + min_fit, what="inverse-velocity series")
    if not (1 <= short <= long):
        raise MethodError(f"smoothing windows need 1 ≤ short ({short}) ≤ long ({long})")
    if not (0.5 <= confidence < 1):
        raise MethodError(f"confidence must be in [0.5, 1), got {confidence}")
    if alpha is not None and not alpha > 1:
        raise MethodError(f"Voight α must be > 1, got {alpha}")
    last = float(t[-1])
    out = Forecast(ok=False, last_time=last)
    _, tm_l, v_l = chord_velocity(t, s, long)
    if onset_time is None:
        try:
            detect_onset_velocity(tm_l, v_l, min_fit=min_fit)
        except MethodError as exc:
            out.reason = str(exc).removeprefix("inverse velocity: ")
            return out
    try:
        prof = voight_profile(
            t,
            s,
            confidence=confidence,
            alphas=None if alpha is None else (float(alpha),),
            alpha_range=ALPHA_RANGE if alpha_range is None else alpha_range,
            onset_time=onset_time,
            min_after=min_fit,
            correlated=correlated_noise,
        )
    except ForecastInputError as exc:
        raise MethodError(f"inverse-velocity series: {exc}") from exc
    if prof is None:
        out.reason = "no accelerating Voight curve with a positive creep velocity fits the displacement"
        return out
    out.onset_time = prof.onset_time
    out.onset_index = int(np.searchsorted(t, prof.onset_time - 1e-9))
    out.alpha, out.alpha_window = prof.alpha, prof.alpha_window
    if prof.p_accelerating > ACCELERATION_P:
        out.reason = (
            f"the acceleration is not significant (p = {prof.p_accelerating:.2g} against steady creep); no forecast yet"
        )
        return out
    # legacy α = 2 lines on 1/v after the onset (display and old fields)
    fits: dict[str, LineFit] = {}
    for name, w in (("long", long), ("short", short)):
        _, tm, v = chord_velocity(t, s, w)
        sel = (tm >= prof.onset_time) & (v > 0)
        if sel.sum() >= 3:
            fits[name] = fit_line(tm[sel], 1.0 / v[sel])
    lf, sf = fits.get("long"), fits.get("short")
    if lf is not None:
        out.slope, out.r2, out.n_fit = lf.slope, lf.r2, lf.n
    tf_l = lf.crossing() if lf is not None and lf.slope < 0 else None
    tf_s = sf.crossing() if sf is not None and sf.slope < 0 else None
    lo, hi = prof.window
    lo = max(lo, last)  # failure cannot be forecast in the past: it is due now
    if hi is not None:
        hi = max(hi, lo)
    out.ok = True
    out.failure_time = max(prof.failure_time, last)
    out.failure_time_short = tf_s
    out.failure_window = (lo, hi)
    out.details = {
        "method": "voight-profile",
        "alpha": prof.alpha,
        "alpha_window": list(prof.alpha_window),
        "alpha_range": list(alpha_range) if alpha_range is not None else list(ALPHA_RANGE),
        "alpha_fixed": alpha is not None,
        "voight_failure_time": prof.failure_time,
        "creep_velocity_mm_d": prof.v0,
        "sigma_mm": prof.sigma,
        "p_accelerating": prof.p_accelerating,
        "variance_inflation": prof.variance_inflation,
        "llo_failure_time": tf_l,
        "slo_failure_time": tf_s,
        "confidence": confidence,
        "r2_llo": None if lf is None else lf.r2,
        "min_r2": min_r2,
        "r2_short": None if sf is None else sf.r2,
        "n_fit_short": None if sf is None else sf.n,
        "overdue": prof.failure_time < last,
    }
    return out


def inverse_velocity_forecast_alpha2(
    t: np.ndarray,
    s: np.ndarray,
    *,
    short: int = 3,
    long: int = 7,
    min_fit: int = 6,
    confidence: float = 0.95,
    onset_time: float | None = None,
    min_r2: float = 0.3,
) -> Forecast:
    """**Baseline (the method before), assumes Voight α = 2.** Kept for comparison in
    benchmarks/bench_forecast.py; its window is late for α > 2 and excludes the truth for α < 2.

    Fukuzono/Voight inverse-velocity forecast with smoothing, automatic onset and a failure window.

    1. Velocities are causal moving averages over ``short`` (SLO) and ``long`` (LLO) intervals (Carlà et al.
       2017), placed at the middle of their interval.
    2. The onset of acceleration is detected on the LLO velocity (:func:`detect_onset_velocity`) unless
       ``onset_time`` is given.
    3. From the onset on, straight lines are fitted to 1/v (LLO and SLO); where the LLO line meets zero is the
       failure time (the classic Fukuzono construction).
    4. The **failure window** is the ``confidence`` profile-likelihood interval of the failure time under
       Voight's α = 2 law fitted to the displacement itself (:func:`voight_window`), widened to include the
       SLO and LLO crossings (their disagreement) and never earlier than the last sample.

    Returns ``ok=False`` with a reason when no forecast can be made (not accelerating, too few points since
    the onset, 1/v not linear); raises :class:`MethodError` for unusable input.
    """
    t, s = check_series(t, s, min_points=long + min_fit, what="inverse-velocity series")
    if not (1 <= short <= long):
        raise MethodError(f"smoothing windows need 1 ≤ short ({short}) ≤ long ({long})")
    if not (0.5 <= confidence < 1):
        raise MethodError(f"confidence must be in [0.5, 1), got {confidence}")
    last = float(t[-1])
    out = Forecast(ok=False, last_time=last)
    _, tm_l, v_l = chord_velocity(t, s, long)
    if onset_time is None:
        try:
            k = detect_onset_velocity(tm_l, v_l, min_fit=min_fit)
        except MethodError as exc:
            out.reason = str(exc).removeprefix("inverse velocity: ")
            return out
        onset = float(tm_l[k])
    else:
        onset = float(onset_time)
    out.onset_time = onset
    out.onset_index = int(np.searchsorted(t, onset))
    fits: dict[str, LineFit] = {}
    for name, w in (("long", long), ("short", short)):
        _, tm, v = chord_velocity(t, s, w)
        sel = (tm >= onset) & (v > 0)
        if sel.sum() < min_fit:
            out.reason = (
                f"only {int(sel.sum())} positive velocity samples since the onset of acceleration; "
                f"need {min_fit} (wait for more data)"
            )
            return out
        fits[name] = fit_line(tm[sel], 1.0 / v[sel])
    lf, sf = fits["long"], fits["short"]
    out.slope, out.r2, out.n_fit = lf.slope, lf.r2, lf.n
    if lf.slope >= 0:
        out.reason = "inverse velocity is not decreasing: the slope is not accelerating"
        return out
    if lf.r2 < min_r2:
        out.reason = f"1/v is not linear after the onset (R² = {lf.r2:.2f} < {min_r2}); no reliable forecast"
        return out
    sel = t >= t[out.onset_index] if out.onset_index < t.size else np.zeros(t.size, bool)
    if sel.sum() < min_fit:
        out.reason = f"only {int(sel.sum())} samples since the onset; need {min_fit}"
        return out
    vw = voight_window(t[sel], s[sel], confidence=confidence)
    if vw is None:
        out.reason = "displacement since the onset does not follow an accelerating (Voight α = 2) curve"
        return out
    best, lo, hi = vw
    tf_l = lf.crossing()
    tf_s = sf.crossing() if sf.slope < 0 else None
    for x in (tf_l, tf_s):
        if x is not None:
            lo = min(lo, x)
            hi = None if hi is None else max(hi, x)
    lo = max(lo, last)  # failure cannot be forecast in the past: it is due now
    if hi is not None:
        hi = max(hi, lo)
    out.ok = True
    out.failure_time = max(tf_l, last)
    out.failure_time_short = tf_s
    out.failure_window = (lo, hi)
    out.details = {
        "llo_failure_time": tf_l,
        "slo_failure_time": tf_s,
        "voight_failure_time": best,
        "confidence": confidence,
        "r2_short": sf.r2,
        "n_fit_short": sf.n,
        "overdue": tf_l < last,
    }
    return out


def inverse_velocity_track(t: np.ndarray, s: np.ndarray, *, start: int | None = None, **kw: Any) -> list[Forecast]:
    """Refit the forecast on every new sample: element i is the forecast using samples 0..i (from ``start``)."""
    t, s = check_series(t, s, min_points=1, what="inverse-velocity series")
    first = start if start is not None else kw.get("long", 7) + kw.get("min_fit", 6)
    out = []
    for i in range(first, t.size + 1):
        try:
            out.append(inverse_velocity_forecast(t[:i], s[:i], **kw))
        except MethodError as exc:
            out.append(Forecast(ok=False, reason=str(exc), last_time=float(t[i - 1])))
    return out


def forecast_level(fc: Forecast, *, red_days: float = 1.0, orange_days: float = 3.0, yellow_days: float = 7.0) -> Level:
    """Level from the earliest forecast failure time: lead ≤ 1 d red, ≤ 3 d orange, ≤ 7 d yellow (configurable)."""
    if not fc.ok or fc.failure_window is None or fc.last_time is None:
        return Level.NONE
    lead = fc.failure_window[0] - fc.last_time
    if lead <= red_days:
        return Level.RED
    if lead <= orange_days:
        return Level.ORANGE
    if lead <= yellow_days:
        return Level.YELLOW
    return Level.BLUE


# ----------------------------------------------------------------------------------------------------------------
# Voight's law (for tests, demos and benchmarks)


def voight_series(t: np.ndarray, *, t_failure: float, t_onset: float, v0: float, alpha: float = 2.0) -> np.ndarray:
    """Displacement (mm) of steady creep at ``v0`` mm/d until ``t_onset``, then Voight acceleration with exponent
    ``alpha`` (default 2: 1/v = A·(t_f − t)), continuous velocity at the onset, until ``t_failure``.
    Undefined at/after t_f. See :func:`subsidence.monitoring.warning.forecasting.voight_displacement`."""
    from subsidence.monitoring.warning.forecasting import (
        ForecastInputError,
        voight_displacement,
    )

    try:
        return voight_displacement(t, alpha=alpha, t_failure=t_failure, t_onset=t_onset, v0=v0)
    except ForecastInputError as exc:
        raise MethodError(
            f"voight_series: {exc}".replace("voight_series: voight_displacement: ", "voight_series: ")
        ) from exc


# ----------------------------------------------------------------------------------------------------------------
# rainfall


#: Shaanxi loess daily-rainfall thresholds, mm (starting / accelerating / imminent), docs/science.md §4 [verify]
RAIN_THRESHOLDS_MM = {"landslide": (25.0, 35.0, 65.0), "collapse": (15.0, 30.0, 50.0)}
#: decay factor of effective antecedent rainfall (a common choice in the literature is 0.8–0.9) [verify]
EAR_DECAY = 0.84


def daily_totals(t: np.ndarray, mm: np.ndarray, *, day_offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Sum rain (mm per reading) into whole days. ``day_offset`` (days) shifts the day boundary, e.g. for
    Beijing-time days on a UTC axis use +8/24. Returns (day start times, totals) with empty days as 0."""
    t, mm = check_series(t, mm, min_points=1, what="rainfall series")
    if (mm < 0).any():
        raise MethodError(f"rainfall series: negative rainfall at sample {int(np.flatnonzero(mm < 0)[0])}")
    day = np.floor(t + day_offset).astype(np.int64)
    d0 = day.min()
    tot = np.bincount(day - d0, weights=mm)
    return (np.arange(d0, d0 + tot.size) - day_offset).astype(float), tot


def effective_antecedent_rainfall(daily_mm: np.ndarray, *, k: float = EAR_DECAY, days: int = 15) -> np.ndarray:
    """EAR_t = Σ_{i=0}^{days-1} k^i · R_{t−i} (mm): today's rain plus decayed rain of the previous days."""
    r = np.asarray(daily_mm, dtype=float)
    if not (0 < k < 1):
        raise MethodError(f"decay factor k must be in (0, 1), got {k}")
    w = k ** np.arange(days)
    return np.convolve(r, w)[: r.size]


def rainfall_levels(
    daily_mm: np.ndarray,
    *,
    hazard: str = "landslide",
    k: float = EAR_DECAY,
    days: int = 15,
    thresholds: tuple[float, float, float] | None = None,
    blue_fraction: float = 0.6,
) -> tuple[np.ndarray, np.ndarray]:
    """Level per day from daily rainfall and effective antecedent rainfall (the higher of the two).

    Thresholds (starting, accelerating, imminent) map to yellow, orange, red; blue (attention) from
    ``blue_fraction`` × the starting threshold. Returns (levels int8, EAR mm).
    """
    thr = thresholds or RAIN_THRESHOLDS_MM.get(hazard)
    if thr is None:
        raise MethodError(f"unknown hazard {hazard!r} for rainfall thresholds; use one of {sorted(RAIN_THRESHOLDS_MM)}")
    spec = Thresholds((thr[0] * blue_fraction, thr[0], thr[1], thr[2]))
    ear = effective_antecedent_rainfall(daily_mm, k=k, days=days)
    lev = np.maximum(spec.levels(daily_mm), spec.levels(ear)).astype(np.int8)
    return lev, ear


def rain_affected_mask(
    t: np.ndarray,
    rain_day_start: np.ndarray,
    rain_daily_mm: np.ndarray,
    *,
    heavy_mm: float = 15.0,
    lag_days: float = 2.0,
) -> np.ndarray:
    """Flag samples at ``t`` that fall on a day with ≥ ``heavy_mm`` rain or within ``lag_days`` after it.

    Used to keep a rain-induced step from reading as failure acceleration (see :func:`tangent_angle`)."""
    t = np.asarray(t, dtype=float)
    heavy = np.asarray(rain_day_start, dtype=float)[np.asarray(rain_daily_mm, dtype=float) >= heavy_mm]
    mask = np.zeros(t.size, dtype=bool)
    for d in heavy:
        mask |= (t >= d) & (t < d + 1.0 + lag_days)
    return mask


# ----------------------------------------------------------------------------------------------------------------
# groundwater (Mu Us sandy land, water-preserving mining)

#: depth to water table (m below ground) band edges, docs/science.md §4 [verify]
GW_BANDS_M = (0.5, 1.24, 2.06, 4.0)
GW_BAND_LABELS = (
    ("盐渍化风险（≤0.5 m）", "salinisation risk (≤ 0.5 m)"),
    ("适宜（0.5–1.24 m）", "suitable (0.5–1.24 m)"),
    ("植被水分胁迫（1.24–2.06 m）", "vegetation water stress (1.24–2.06 m)"),
    ("植被退化（2.06–4.0 m）", "vegetation degradation (2.06–4.0 m)"),
    ("低于生态水位下限（>4.0 m）", "below the ecological lower limit (> 4.0 m)"),
)
#: warning level per band: salinisation blue, suitable none, stress yellow, degradation orange, beyond limit red
GW_BAND_LEVEL = (Level.BLUE, Level.NONE, Level.YELLOW, Level.ORANGE, Level.RED)


def depth_band(depth_m: np.ndarray | float) -> np.ndarray:
    """Band index 0..4 of depth to water (m, positive down) against :data:`GW_BANDS_M`."""
    d = np.asarray(depth_m, dtype=float)
    return np.searchsorted(np.asarray(GW_BANDS_M), d, side="left").astype(np.int8)


def monthly_baseline(t_month: np.ndarray, depth_m: np.ndarray) -> np.ndarray:
    """Seasonal baseline: mean depth per calendar month (12 values, NaN for months without data).

    ``t_month`` holds the calendar month 1..12 of each reading (from the pre-mining baseline period)."""
    m = np.asarray(t_month, dtype=int)
    d = np.asarray(depth_m, dtype=float)
    if ((m < 1) | (m > 12)).any():
        raise MethodError("months must be 1..12")
    sums = np.bincount(m - 1, weights=d, minlength=12)
    cnt = np.bincount(m - 1, minlength=12)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)


def drawdown(t_month: np.ndarray, depth_m: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Drawdown (m, positive = water table deeper than the seasonal baseline of the same month)."""
    m = np.asarray(t_month, dtype=int)
    return np.asarray(depth_m, dtype=float) - np.asarray(baseline, dtype=float)[m - 1]


def monthly_decline_rate(t_days: np.ndarray, drawdown_m: np.ndarray) -> float:
    """Rate of decline of the (deseasonalised) water table, m/month (positive = falling), from a linear fit."""
    t, y = check_series(t_days, drawdown_m, min_points=3, what="groundwater series")
    return float(np.polyfit(t, y, 1)[0] * 30.4375)


# ----------------------------------------------------------------------------------------------------------------
# InSAR area acceleration


@dataclass(frozen=True)
class AreaAcceleration:
    acceleration: np.ndarray  #: per pixel, mm/yr² (2 × quadratic coefficient)
    velocity_change: np.ndarray  #: per pixel, mm/yr: velocity of the second half minus the first half
    accelerating: np.ndarray  #: bool per pixel
    fraction: float  #: fraction of valid pixels accelerating
    area_ha: float | None  #: accelerating area, when the pixel area is given


def area_acceleration(
    t_days: np.ndarray,
    ts_mm: np.ndarray,
    *,
    threshold_mm_per_yr2: float = 20.0,
    pixel_area_m2: float | None = None,
    min_epochs: int = 6,
) -> AreaAcceleration:
    """Per-pixel acceleration of InSAR displacement time series (n_epochs, ...) in mm, positive in the
    direction of concern (e.g. subsidence = −vertical). Quadratic least squares per pixel (vectorised);
    NaN pixels are ignored. A pixel accelerates when its acceleration exceeds the threshold."""
    t = np.asarray(t_days, dtype=float)
    y = np.asarray(ts_mm, dtype=float)
    if y.shape[0] != t.size:
        raise MethodError(f"time series has {y.shape[0]} epochs but {t.size} dates")
    check_series(t, np.zeros_like(t), min_points=min_epochs, what="InSAR time series")
    shape = y.shape[1:]
    Y = y.reshape(t.size, -1)
    valid = np.isfinite(Y).all(axis=0)
    ty = (t - t.mean()) / 365.25
    G = np.column_stack([np.ones_like(ty), ty, ty**2])
    coef = np.full((3, Y.shape[1]), np.nan)
    if valid.any():
        coef[:, valid] = np.linalg.lstsq(G, Y[:, valid], rcond=None)[0]
    acc = 2 * coef[2]
    half = t.size // 2
    Gl = np.column_stack([np.ones(half), ty[:half]])
    Gr = np.column_stack([np.ones(t.size - half), ty[half:]])
    dv = np.full(Y.shape[1], np.nan)
    if valid.any():
        v1 = np.linalg.lstsq(Gl, Y[:half, valid], rcond=None)[0][1]
        v2 = np.linalg.lstsq(Gr, Y[half:, valid], rcond=None)[0][1]
        dv[valid] = v2 - v1
    accel = valid & (acc > threshold_mm_per_yr2)
    frac = float(accel.sum() / valid.sum()) if valid.any() else 0.0
    area = m2_to_ha(accel.sum() * pixel_area_m2) if pixel_area_m2 else None
    return AreaAcceleration(acc.reshape(shape), dv.reshape(shape), accel.reshape(shape), frac, area)


# ----------------------------------------------------------------------------------------------------------------
# data quality (used at ingest and by the data-quality alarms)


def mad_spikes(y: np.ndarray, *, window: int = 11, k: float = 6.0, min_scale: float = 0.0) -> np.ndarray:
    """Flag spikes: |y − rolling median| > k · 1.4826 · rolling MAD (centred window, robust).

    ``min_scale`` (value units) is the smallest deviation that can count as a spike (the sensor's resolution),
    so a perfectly smooth series does not flag rounding noise."""
    y = np.asarray(y, dtype=float)
    n = y.size
    if n < 5:
        return np.zeros(n, dtype=bool)
    w = min(window, n if n % 2 else n - 1)
    h = w // 2
    pad = np.concatenate([np.full(h, np.nan), y, np.full(h, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(pad, w)
    med = np.nanmedian(win, axis=1)
    mad = np.nanmedian(np.abs(win - med[:, None]), axis=1)
    scale = np.maximum(1.4826 * mad, min_scale)
    dev = np.abs(y - med)
    return (scale > 0) & (dev > k * scale)


def isolated_spikes(y: np.ndarray, *, k: float = 8.0, window: int = 41, min_scale: float = 0.0) -> np.ndarray:
    """Flag isolated spikes robustly on trending data: d_i = y_i − (y_{i−1} + y_{i+1})/2 (the second difference
    removes trends and random-walk drift); a sample is a spike when |d_i| > k · 1.4826 · MAD(d) over a centred
    window and both neighbours lie on the same side of it. End samples are never flagged (no second
    neighbour: the newest sample may be the start of real movement)."""
    y = np.asarray(y, dtype=float)
    n = y.size
    out = np.zeros(n, dtype=bool)
    if n < 5:
        return out
    d = np.full(n, np.nan)
    d[1:-1] = y[1:-1] - 0.5 * (y[:-2] + y[2:])
    h = window // 2
    pad = np.concatenate([np.full(h, np.nan), d, np.full(h, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * h + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(win, axis=1)
        mad = np.nanmedian(np.abs(win - med[:, None]), axis=1)
        mean_abs = np.nanmean(np.abs(win - med[:, None]), axis=1)
    # noise-free or quantised stretches have MAD = 0: fall back to the mean absolute deviation
    # (set the sensor's resolution as ``min_scale`` so that one quantisation step is never a spike)
    scale = np.maximum(np.where(mad > 0, 1.4826 * mad, mean_abs), min_scale)
    same_side = np.zeros(n, dtype=bool)
    same_side[1:-1] = (y[1:-1] - y[:-2]) * (y[1:-1] - y[2:]) > 0
    dev = np.abs(d - med)
    # a spike also disturbs its neighbours' second differences by half as much: keep only the local maximum
    local_max = np.zeros(n, dtype=bool)
    dn = np.nan_to_num(dev, nan=0.0)
    local_max[1:-1] = (dn[1:-1] > dn[:-2]) & (dn[1:-1] > dn[2:])
    out[1:-1] = same_side[1:-1] & local_max[1:-1] & (scale[1:-1] > 0) & (dev[1:-1] > k * scale[1:-1])
    return out


def is_flat_line(y: np.ndarray, *, n: int = 30, eps: float = 0.0) -> bool:
    """True when the last ``n`` values vary by at most ``eps`` (a stuck sensor repeats its last value)."""
    y = np.asarray(y, dtype=float)
    if y.size < n:
        return False
    tail = y[-n:]
    return float(tail.max() - tail.min()) <= eps
