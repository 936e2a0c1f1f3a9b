"""Failure forecasting with Voight's law for any α: the model, a seeded generator and a profile-likelihood window.

Pure numpy/scipy (docs/science.md §4, docs/science/failure-forecast.md). No files, no database, no clocks.

Model
-----
Voight (1988, 1989): Ω̈ = A·Ω̇^α with α > 1. Integrated, the velocity diverges at the failure time t_f:

    v(t) = [A(α−1)(t_f − t)]^(−1/(α−1)),   1/v = [A(α−1)(t_f − t)]^(1/(α−1))

1/v is a straight line only for α = 2 (Fukuzono 1985); it is concave for α > 2 and convex for α < 2.
A monitored slope creeps first; we model steady creep at v0 until the onset t_on, then Voight acceleration whose
velocity is continuous at the onset: v(t) = v0·((t_f − t_on)/(t_f − t))^p with p = 1/(α−1). Displacement:

    s(t) = s0 + v0·h(t),   h(t) = t                                   (t ≤ t_on)
                           h(t) = t_on + u_on·G_q(u/u_on)              (t > t_on)

with u = t_f − t, u_on = t_f − t_on, q = (α−2)/(α−1) and G_q(x) = (1 − x^q)/q (G_0(x) = −ln x). For α > 2 the
displacement at failure is finite, for α ≤ 2 it diverges.

Units and signs: t in days (any origin), s in mm positive in the direction of movement, v in mm/d.

Why profile likelihood (and not a bootstrap or a Bayesian posterior)
--------------------------------------------------------------------
For fixed (α, t_f, t_on) the model is *linear* in (s0, v0), so the residual sum of squares is closed-form. With
prefix sums over the samples every onset candidate costs O(1), and the whole (α × t_f × t_on) grid costs
O(n_α · n_tf · n) — tens of milliseconds, fast enough to refit on every new sample inside the alarm engine.
The failure window is the likelihood-ratio set of t_f with α, t_on, s0 and v0 profiled out (F form, since the
noise level is estimated). A residual bootstrap would need hundreds of such fits per forecast; a Bayesian
posterior needs priors on α and t_f that the sites cannot supply and an MCMC we cannot afford per sample. The
profile is exact on the grid (no local optimum can hide the early side of the window), and its coverage is
measured, not assumed: benchmarks/bench_forecast.py runs it over α = 1.3…2.8, noise and lead times.
The fit is done on displacement, whose measurement noise is close to white; 1/v from differenced, smoothed
data is neither white nor homoscedastic, which is why prediction bands of a 1/v line are not honest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: default range of Voight's exponent α searched by the profile. Published slope and landslide cases lie in
#: ≈1.5–2.5 (docs/science.md §4); the range reaches beyond so that the truth is never on its edge. Its upper end
#: governs the window's early bound (a high α allows an abrupt end to a gentle acceleration): a site that knows
#: its α range from past events should give it (``alpha_range``). [verify against the coalfield's own failures]
ALPHA_RANGE: tuple[float, float] = (1.1, 3.0)
#: grid step of α in the first pass (refined later)
ALPHA_STEP = 0.05
#: largest velocity increase from the onset to the newest sample a candidate may imply (guards the numerics and
#: excludes physically absurd fits; 10⁶ × creep velocity is far beyond any published pre-failure record)
MAX_VELOCITY_RATIO = 1e6
#: above this many samples the oldest are averaged in bins (weighted least squares) to keep the fit fast; the
#: newest KEEP_RAW samples always enter one by one (the curve bends most there)
MAX_FIT_POINTS = 160
KEEP_RAW = 60
#: cap of the correlated-noise variance inflation of the window (an AR(1) lag-one correlation of ≈ 0.9)
MAX_INFLATION = 20.0
#: degrees of freedom of the likelihood-ratio threshold. 1 would be the textbook profile interval of t_f; it
#: under-covers when α < 2 (the profile is far from quadratic there: measured 91–92 % at α = 1.3–1.5 for a nominal
#: 95 %, docs/science/failure-forecast.md). 2 is the projection of the joint (t_f, α) region onto t_f, conservative
#: by construction; its coverage is measured in benchmarks/bench_forecast.py.
WINDOW_DF = 2


class ForecastInputError(ValueError):
    """Input the forecast cannot use (message says why and what to do)."""


def _params(alpha: float, t_failure: float, t_onset: float) -> tuple[float, float]:
    if not alpha > 1.0:
        raise ForecastInputError(f"Voight α must be > 1, got {alpha}")
    if not t_onset < t_failure:
        raise ForecastInputError(f"onset ({t_onset}) must be before the failure time ({t_failure})")
    return 1.0 / (alpha - 1.0), (alpha - 2.0) / (alpha - 1.0)


def _G(x: np.ndarray, q: float) -> np.ndarray:
    """G_q(x) = (1 − x^q)/q, G_0(x) = −ln x (x > 0); its derivative is −x^(q−1)."""
    if abs(q) < 1e-12:
        return -np.log(x)
    return (1.0 - x**q) / q


def voight_velocity(t: np.ndarray, *, alpha: float, t_failure: float, t_onset: float, v0: float) -> np.ndarray:
    """Velocity (mm/d): ``v0`` until ``t_onset``, then v0·((t_f − t_on)/(t_f − t))^(1/(α−1)). Times before t_f."""
    p, _ = _params(alpha, t_failure, t_onset)
    t = np.asarray(t, dtype=float)
    if np.any(t >= t_failure):
        raise ForecastInputError("voight_velocity: all times must be before the failure time")
    u_on = t_failure - t_onset
    return np.where(t <= t_onset, v0, v0 * (u_on / (t_failure - np.maximum(t, t_onset))) ** p)


def voight_displacement(
    t: np.ndarray, *, alpha: float, t_failure: float, t_onset: float, v0: float, s0: float = 0.0
) -> np.ndarray:
    """Displacement (mm) of steady creep at ``v0`` mm/d from s0 at t = 0, then Voight acceleration with exponent
    ``alpha`` from ``t_onset`` (continuous velocity) until ``t_failure`` (days). Undefined at/after t_f."""
    _, q = _params(alpha, t_failure, t_onset)
    t = np.asarray(t, dtype=float)
    if np.any(t >= t_failure):
        raise ForecastInputError("voight_displacement: all times must be before the failure time")
    u_on = t_failure - t_onset
    post = t_onset + u_on * _G((t_failure - np.maximum(t, t_onset)) / u_on, q)
    return s0 + v0 * np.where(t <= t_onset, t, post)


def noisy_voight(
    seed: int,
    *,
    alpha: float,
    t_failure: float = 62.0,
    t_onset: float = 30.0,
    v0: float = 0.5,
    sigma: float = 0.3,
    lead_days: float = 5.0,
    dt: float = 1.0,
    t_start: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded test/benchmark series: samples every ``dt`` days from ``t_start`` up to ``lead_days`` before
    failure, Voight displacement plus white Gaussian noise of ``sigma`` mm. Returns (t days, s mm)."""
    rng = np.random.default_rng(seed)
    t = np.arange(t_start, t_failure - lead_days + 1e-9, dt)
    return t, voight_displacement(t, alpha=alpha, t_failure=t_failure, t_onset=t_onset, v0=v0) + rng.normal(
        0.0, sigma, t.size
    )


@dataclass(frozen=True)
class VoightProfile:
    """Result of :func:`voight_profile`. Times in days on the input axis."""

    failure_time: float  #: best t_f on the grid
    window: tuple[float, float | None]  #: likelihood-ratio set of t_f (earliest, latest; None = unbounded)
    alpha: float  #: best α
    alpha_window: tuple[float, float]  #: likelihood-ratio set of α on the grid (same confidence)
    onset_time: float  #: best onset
    v0: float  #: creep velocity before the onset, mm/d
    sigma: float  #: residual standard deviation, mm
    n: int  #: samples used (after binning: bins)
    p_accelerating: float  #: p-value of "no acceleration" (straight line) against the Voight model
    confidence: float
    tf_grid: np.ndarray
    profile_sse: np.ndarray  #: profile residual sum of squares per t_f (weighted, mm²)
    limit_sse: float  #: the window's threshold on ``profile_sse``
    variance_inflation: float = 1.0  #: (1 + φ)/(1 − φ) from the residuals' lag-one correlation φ (≥ 1)


def _bin(t: np.ndarray, s: np.ndarray, max_points: int, keep_raw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average the oldest samples in equal-count bins so that at most ``max_points`` remain. Returns (t, s, w)."""
    n = t.size
    if n <= max_points:
        return t, s, np.ones(n)
    keep = min(keep_raw, max_points // 2)
    old = n - keep
    nb = max_points - keep
    edges = np.linspace(0, old, nb + 1).round().astype(int)
    edges = np.unique(edges)
    cnt = np.diff(edges).astype(float)
    tb = np.add.reduceat(t[:old], edges[:-1]) / cnt
    sb = np.add.reduceat(s[:old], edges[:-1]) / cnt
    return np.r_[tb, t[old:]], np.r_[sb, s[old:]], np.r_[cnt, np.ones(keep)]


class _Scan:
    """Minimum SSE over onsets K for every (α, t_f) on a grid: closed form, O(n) per (α, t_f) by prefix sums."""

    def __init__(self, tb: np.ndarray, y: np.ndarray, wt: np.ndarray, K: np.ndarray, ref: float) -> None:
        self.tb, self.y, self.wt, self.K, self.ref = tb, y, wt, K, ref
        W = float(wt.sum())

        def pre(a: np.ndarray) -> np.ndarray:
            return np.concatenate([[0.0], np.cumsum(a)])[K]

        self.W = W
        self.Px, self.Pxx, self.Pxy = pre(wt * tb), pre(wt * tb * tb), pre(wt * tb * y)
        self.Sw_post = W - pre(wt)
        self.Sy_post = float((wt * y).sum()) - pre(wt * y)
        self.syy = float((wt * y * y).sum())

    def _suf(self, a: np.ndarray) -> np.ndarray:
        c = np.concatenate([np.cumsum(a[:, ::-1], axis=1)[:, ::-1], np.zeros((a.shape[0], 1))], axis=1)
        return c[:, self.K]

    def __call__(
        self, alist: np.ndarray, grid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple[float, int, int, int]]:
        tb, y, wt, K, ref = self.tb, self.y, self.wt, self.K, self.ref
        ton = tb[K]
        u = grid[:, None] - tb[None, :]  # (n_tf, n) > 0
        u_on = u[:, K]  # (n_tf, nk)
        u_last = u[:, -1:]
        logu = np.log(u)
        log_ratio = np.log(u_on) - np.log(u_last)
        table = np.full((alist.size, grid.size), np.inf)  # min over onsets per (α, t_f)
        best_alpha = np.full(alist.size, np.inf)
        arg_best: tuple[float, int, int, int] = (np.inf, -1, -1, -1)  # sse, i_alpha, j_tf, i_onset
        with np.errstate(all="ignore"):
            for ia, alpha in enumerate(alist):
                p = 1.0 / (alpha - 1.0)
                q = (alpha - 2.0) / (alpha - 1.0)
                if abs(q) < 1e-12:
                    w = logu  # h_post = t_on + u_on·ln u_on − u_on·ln u
                    B = -u_on
                    D = ton[None, :] + u_on * np.log(u_on)
                else:  # h_post = t_on + u_on/q − (u_on/q)·(u/u_on)^q, with (u/ref)^q kept in range
                    w = np.exp(q * (logu - math.log(ref)))
                    B = -(u_on / q) * (ref / u_on) ** q
                    D = ton[None, :] + u_on / q
                ww = w * wt[None, :]
                Sw, Sww, Swy = self._suf(ww), self._suf(ww * w), self._suf(ww * y[None, :])
                Sh = self.Px[None, :] + self.Sw_post[None, :] * D + B * Sw
                Shh = self.Pxx[None, :] + self.Sw_post[None, :] * D * D + 2.0 * D * B * Sw + B * B * Sww
                Shy = self.Pxy[None, :] + D * self.Sy_post[None, :] + B * Swy
                shh = Shh - Sh * Sh / self.W
                v0 = Shy / shh
                sse = self.syy - Shy * v0
                ok = (shh > 0) & (v0 > 0) & (p * log_ratio <= math.log(MAX_VELOCITY_RATIO)) & np.isfinite(sse)
                sse = np.where(ok, np.maximum(sse, 0.0), np.inf)
                per_tf = sse.min(axis=1)
                table[ia] = per_tf
                best_alpha[ia] = per_tf.min()
                j = int(np.argmin(per_tf))
                if per_tf[j] < arg_best[0]:
                    arg_best = (float(per_tf[j]), ia, j, int(np.argmin(sse[j])))
        return table.min(axis=0), best_alpha, arg_best


def _inflation(tb: np.ndarray, y: np.ndarray, wt: np.ndarray, alpha: float, tf: float, ton: float) -> float:
    """AR(1) variance inflation (1 + φ)/(1 − φ) ≥ 1 from the lag-one correlation φ of the residuals at a fit."""
    h = voight_displacement(tb, alpha=alpha, t_failure=tf, t_onset=ton, v0=1.0)
    W = float(wt.sum())
    hm = float((wt * h).sum() / W)
    den = float((wt * (h - hm) ** 2).sum())
    if den <= 0:
        return 1.0
    v0 = float((wt * (h - hm) * y).sum() / den)
    r = y - v0 * (h - hm)
    r = r - float((wt * r).sum() / W)
    rr = float((r * r).sum())
    if rr <= 0 or r.size < 8:
        return 1.0
    phi = float((r[1:] * r[:-1]).sum() / rr)
    if phi <= 0:
        return 1.0
    return float(min((1.0 + phi) / (1.0 - min(phi, 0.99)), MAX_INFLATION))


def _merge(x: np.ndarray, fx: np.ndarray, x2: np.ndarray, f2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of two sampled profiles (sorted abscissae; the lower value where they coincide)."""
    xa = np.r_[x, x2]
    fa = np.r_[fx, f2]
    order = np.lexsort((fa, xa))
    xa, fa = xa[order], fa[order]
    keep = np.r_[True, np.diff(xa) > 0]
    return xa[keep], fa[keep]


def voight_profile(
    t: np.ndarray,
    s: np.ndarray,
    *,
    confidence: float = 0.95,
    alphas: tuple[float, ...] | np.ndarray | None = None,
    alpha_range: tuple[float, float] = ALPHA_RANGE,
    onset_time: float | None = None,
    horizon_days: float | None = None,
    min_after: int = 6,
    n_tf: int = 220,
    correlated: bool = True,
) -> VoightProfile | None:
    """Profile likelihood of (t_f, α, t_on) for steady creep followed by Voight acceleration.

    ``t`` (days, strictly increasing) and ``s`` (mm) are assumed checked. For every α in ``alphas`` (default: a
    grid over ``alpha_range``, refined around the optimum), every t_f on a geometric grid after the last sample (up to ``horizon_days`` after it,
    default 20 × the series span) and every onset at a sample with at least ``min_after`` samples after it (or the
    given ``onset_time``), (s0, v0) are fitted by (weighted) least squares with v0 > 0. The window holds every t_f
    whose profile SSE passes SSE ≤ SSE_min·(1 + ν·F(conf; ν, n−5)/(n−5)) with ν = :data:`WINDOW_DF`
    (the joint (t_f, α) region projected onto t_f); α's interval likewise.

    Correlated noise (``correlated``, default on): the likelihood is that of white noise; when the residuals at
    the optimum have a positive lag-one correlation φ, the threshold's F term and the acceleration test are
    scaled by the AR(1) variance inflation (1 + φ)/(1 − φ) (capped at :data:`MAX_INFLATION`), which widens the
    window instead of letting it under-cover (measured in benchmarks/bench_forecast.py, part 1b).

    Returns None when no candidate fits with a positive creep velocity.
    """
    from scipy.stats import f as f_dist

    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    tb, sb, wt = _bin(t - t[0], s, MAX_FIT_POINTS, KEEP_RAW)
    n = tb.size
    if n < min_after + 2:
        raise ForecastInputError(f"Voight fit: {n} samples, need at least {min_after + 2}")
    W = float(wt.sum())
    ym = float((wt * sb).sum() / W)
    y = sb - ym
    syy = float((wt * y * y).sum())
    last = float(tb[-1])
    span = max(last, 1e-9)
    horizon = horizon_days if horizon_days is not None else 20.0 * span
    dt_min = float(np.min(np.diff(tb))) if n > 1 else span
    d0 = max(min(1e-3 * span, 0.05 * dt_min), 1e-6)
    grid = last + np.geomspace(d0, max(horizon, 10 * d0), n_tf)  # relative to t[0]
    if onset_time is None:
        K = np.arange(0, n - min_after + 1)
    else:
        k = int(np.searchsorted(tb, float(onset_time) - t[0] - 1e-9))
        if not 0 <= k <= n - 3:
            raise ForecastInputError(f"onset {onset_time} leaves fewer than 3 samples after it")
        K = np.array([k])
    if alphas is None:
        a0, a1 = (float(x) for x in alpha_range)
        if not 1.0 < a0 < a1:
            raise ForecastInputError(f"alpha_range {alpha_range}: need 1 < low < high")
        alist = np.unique(np.round(np.r_[np.arange(a0, a1, ALPHA_STEP), a1], 6))
    else:
        alist = np.asarray(alphas, dtype=float)
    if not (alist > 1.0).all():
        raise ForecastInputError(f"Voight α must be > 1, got {alist[~(alist > 1.0)][0]}")
    scan = _Scan(tb, y, wt, K, span)
    best_tf, best_alpha, arg_best = scan(alist, grid)
    if not np.isfinite(arg_best[0]):
        return None
    dof = max(n - 5, 1)
    df = 1 if alist.size == 1 else WINDOW_DF  # with α fixed there is nothing to project
    fq = df * float(f_dist.ppf(confidence, df, dof)) / dof
    floor = 1e-12 * max(syy, 1e-12)
    best = (arg_best[0], float(alist[arg_best[1]]), float(grid[arg_best[2]]), arg_best[3])
    infl = _inflation(tb, y, wt, best[1], best[2], float(tb[K[best[3]]])) if correlated else 1.0
    fq *= infl
    # refinement passes: a fresh grid of t_f and α just around the current window, so that a sharp profile
    # (a strongly accelerating series) is not limited by the grid step; merged with what was scanned before
    fixed_alpha = alphas is not None and alist.size == 1
    for loose in (6.0, 3.0, 1.0):  # first around everything plausible (the profile may have several basins)
        lim = max(min(best[0], float(best_tf.min())), floor) * (1.0 + loose * fq)
        ins = np.flatnonzero(best_tf <= lim)
        g_lo = grid[max(int(ins.min()) - 1, 0)]
        g_hi = grid[min(int(ins.max()) + 1, grid.size - 1)]
        a_ins = np.flatnonzero(best_alpha <= max(lim, float(best_alpha.min())))
        a_lo = alist[max(int(a_ins.min()) - 1, 0)]
        a_hi = alist[min(int(a_ins.max()) + 1, alist.size - 1)]
        new_tf = last + np.geomspace(g_lo - last, g_hi - last, 120)
        new_a = alist if fixed_alpha or alphas is not None else np.linspace(a_lo, a_hi, 41)
        tf2, al2, arg2 = scan(new_a, new_tf)
        if np.isfinite(arg2[0]) and arg2[0] < best[0]:
            best = (arg2[0], float(new_a[arg2[1]]), float(new_tf[arg2[2]]), arg2[3])
        grid, best_tf = _merge(grid, best_tf, new_tf, tf2)
        if not fixed_alpha and alphas is None:
            alist, best_alpha = _merge(alist, best_alpha, new_a, al2)
    sse_min, alpha_b, tf_b, kk = best
    sse_min = min(sse_min, float(best_tf.min()))  # the refined (interpolated) profile's minimum
    ia = int(np.flatnonzero(alist == alpha_b)[0])
    j = int(np.flatnonzero(grid == tf_b)[0])
    n_tf = grid.size
    arg_best = (sse_min, ia, j, kk)
    sse_min, ia, j, kk = arg_best
    if correlated:  # re-estimate at the refined optimum
        infl2 = _inflation(tb, y, wt, alpha_b, tf_b, float(tb[K[kk]]))
        fq *= infl2 / infl
        infl = infl2
    sse_floor = max(sse_min, 1e-12 * max(syy, 1e-12))
    limit = sse_floor * (1.0 + fq)
    inside = np.flatnonzero(best_tf <= limit)
    j_lo, j_hi = int(inside.min()), int(inside.max())
    lo = float(grid[j_lo])
    if j_lo > 0 and np.isfinite(best_tf[j_lo - 1]):  # interpolate the crossing between grid points (log lead)
        a, b = best_tf[j_lo - 1], best_tf[j_lo]
        f = (a - limit) / (a - b) if a != b else 1.0
        lo = float(
            last
            + math.exp(
                math.log(grid[j_lo - 1] - last) + f * (math.log(grid[j_lo] - last) - math.log(grid[j_lo - 1] - last))
            )
        )
    hi = None if j_hi == n_tf - 1 else float(grid[j_hi])
    if hi is not None and np.isfinite(best_tf[j_hi + 1]):
        a, b = best_tf[j_hi], best_tf[j_hi + 1]
        f = (limit - a) / (b - a) if a != b else 0.0
        hi = float(
            last
            + math.exp(
                math.log(grid[j_hi] - last) + f * (math.log(grid[j_hi + 1] - last) - math.log(grid[j_hi] - last))
            )
        )
    a_in = np.flatnonzero(best_alpha <= max(limit, float(best_alpha.min())))
    # best creep velocity at the optimum (recomputed directly: cheap, and a check on the prefix-sum algebra)
    ton_b = float(tb[K[kk]])
    h = voight_displacement(tb, alpha=alpha_b, t_failure=tf_b, t_onset=ton_b, v0=1.0)
    hm = float((wt * h).sum() / W)
    v0_b = float((wt * (h - hm) * y).sum() / (wt * (h - hm) ** 2).sum())
    # straight line (no acceleration) for the significance of the acceleration
    xm = float((wt * tb).sum() / W)
    sxx = float((wt * (tb - xm) ** 2).sum())
    sxy = float((wt * (tb - xm) * y).sum())
    sse_lin = syy - sxy * sxy / sxx if sxx > 0 else syy
    fstat = ((sse_lin - sse_floor) / 3.0) / (sse_floor / dof) / infl
    p_acc = float(f_dist.sf(max(fstat, 0.0), 3, dof))
    return VoightProfile(
        failure_time=tf_b + float(t[0]),
        window=(lo + float(t[0]), None if hi is None else hi + float(t[0])),
        alpha=alpha_b,
        alpha_window=(float(alist[a_in.min()]), float(alist[a_in.max()])),
        onset_time=ton_b + float(t[0]),
        v0=v0_b,
        sigma=math.sqrt(sse_min / dof),
        n=n,
        p_accelerating=p_acc,
        confidence=confidence,
        tf_grid=grid + float(t[0]),
        profile_sse=best_tf,
        limit_sse=limit,
        variance_inflation=infl,
    )
