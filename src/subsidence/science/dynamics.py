"""Dynamic (time-dependent) subsidence: face advance and time functions.

A panel is mined from ``start_date`` at ``advance_m_per_day`` until its end (or ``end_date``). Each strip of
goaf mined at time tau contributes its static influence times a time function f(t - tau) in [0, 1]:

* ``knothe``            f = 1 - exp(-c t)                    (peak rate at t = 0: unphysical, kept for reference)
* ``improved_knothe``   f = (1 - exp(-c t))^k                (k > 1 moves the peak rate later; default k = 2 [verify])
* ``segmented_knothe``  f = 1/2 exp(c (t - T/2))       t <= T/2
                        f = 1 - 1/2 exp(-c (t - T/2))  t >  T/2   (T: movement duration, peak rate at T/2)

c (1/day) is given, fitted (:func:`fit_time_function` for one point's history, :func:`fit_time_function_series`
for InSAR or levelling series at many points under the full face-advance model), derived from a given movement
duration T so that the movement is 98 % complete at T (Knothe: c = -ln(0.02)/T), or, by default, taken from the
**Shendong calibration** c = kappa / H0 (``c_basis="shendong"``, :data:`SHENDONG_KAPPA_M_PER_DAY`, improved-Knothe
exponent :data:`SHENDONG_K`). The calibration reproduces the peak subsidence rate (490 mm/d) and its lag behind
the face (61 m) measured over the Bulianta 32301 longwall (docs/science/dynamics.md gives the source, the
calibration case and the defaults that are still unverified). The older default, c from T = 2.5 H0 days (the
movement *duration* of the 2017 code, docs/science.md §3), is available as ``c_basis="code_duration"``: over
Shendong shallow seams it predicts peak rates of 10-40 mm/d against 430-700 mm/d measured, and an improved-Knothe
peak 0.5-1.4 km behind the face, so it is not the default any more.

Because the strips of a rectangle lie along one of its axes and f depends only on the strip, the dynamic
basin is still separable: the advancing profile becomes a weighted sum of erf edges (see
:class:`subsidence.science.pim.Profile`). Rates are the same sum with f' (mm/d).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from subsidence.science.advance import (  # noqa: F401 - re-exported: dynamics is the public module
    C_BASES,
    COMPLETE_AT_T,
    DURATION_DAYS_PER_M_DEPTH,
    KINDS,
    SHENDONG_K,
    SHENDONG_KAPPA_M_PER_DAY,
    Advance,
    TimeFunction,
    _advance_axis_length,
    _advance_direction,
    _duration_from_c,
    _strip_fractions,
    mined_fraction,
    movement_duration_days,
    panel_advance,
    polygon_strips,
    rectangle_strip_weights,
    shendong_time_constant,
    time_constant_from_duration,
    to_days,
)

if TYPE_CHECKING:  # pragma: no cover
    from subsidence.science.pim import Field, PanelGeometry, PIMParams

log = logging.getLogger(__name__)


def fit_time_function(
    age_days: Sequence[float], w_mm: Sequence[float], w_final_mm: float, kind: str = "improved_knothe"
) -> TimeFunction:
    """Fit c (and k for the improved function) to a point's subsidence history W(age) = W_final f(age).

    age_days: days since the ground under the point was mined (the point's mining time); w_mm: observed
    subsidence (mm, positive down); w_final_mm: final (static) subsidence at the point.
    """
    from scipy.optimize import least_squares

    t = np.asarray(age_days, dtype=float)
    w = np.asarray(w_mm, dtype=float)
    if t.shape != w.shape or t.size < 3:
        raise ValueError("need at least 3 (age, subsidence) pairs of equal length")
    if not w_final_mm > 0:
        raise ValueError("w_final_mm must be > 0")
    span = max(float(np.ptp(t)), 1.0)

    def model(p: np.ndarray) -> np.ndarray:
        tf = TimeFunction(
            kind, c_per_day=math.exp(p[0]), k=math.exp(p[1]) if kind == "improved_knothe" else 2.0, duration_days=None
        )
        return w_final_mm * tf.value(t)

    x0 = np.array([math.log(4.0 / span), math.log(2.0)])
    res = least_squares(lambda p: model(p) - w, x0, loss="soft_l1", f_scale=max(1.0, 0.02 * w_final_mm))
    c = math.exp(res.x[0])
    k = math.exp(res.x[1]) if kind == "improved_knothe" else 2.0
    return TimeFunction(kind, c_per_day=c, k=k)


@dataclass
class TimeFunctionFit:
    """c (and k, and optionally q) fitted to observed subsidence series under the face-advance model.

    time_function: the fitted :class:`TimeFunction` (c_per_day set); params: the PIM parameters used (q
    replaced when fitted); std: 1-sigma of the fitted names (c_per_day in 1/day, k, q) from the Jacobian,
    scaled by the residual variance; rms_mm: RMS of predicted - observed (mm); n_obs: values used;
    warnings: what could not be resolved.
    """

    time_function: TimeFunction
    params: Any
    std: dict[str, float]
    rms_mm: float
    n_obs: int
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The ``time_function`` block of PARAMS.json, with a ``fit`` summary."""
        out = self.time_function.to_dict()
        out["fit"] = {"std": self.std, "rms_mm": self.rms_mm, "n_obs": self.n_obs, "warnings": self.warnings}
        return out


SERIES_FITTABLE = ("c_per_day", "k", "q")


def fit_time_function_series(
    panels: PanelGeometry | Iterable[PanelGeometry],
    params: PIMParams,
    x: Any,
    y: Any,
    dates: Sequence[Any],
    w_mm: Any,
    *,
    kind: str = "improved_knothe",
    fit: Sequence[str] = ("c_per_day", "k"),
    initial: TimeFunction | None = None,
    sigma_mm: float = 5.0,
    relative_to_first: bool = True,
    loss: str = "soft_l1",
) -> TimeFunctionFit:
    """Fit the time constant c (and k, and q when asked) to InSAR or levelling subsidence series at points.

    panels / params: the mining (with start dates and advance) and the static PIM parameters (from an
    inversion or the defaults); x, y: point coordinates (m, the panels' CRS), shape (N,); dates: the T
    observation dates; w_mm: observed subsidence (T, N) in mm, positive down, NaN = missing. With
    ``relative_to_first`` (InSAR: displacement relative to the first acquisition; levelling: relative to the
    baseline survey) the model is compared as W(t) - W(dates[0]) at every point. fit: names from
    ``c_per_day``, ``k`` (improved Knothe only), ``q``; initial: start values (default: the Shendong calibration).
    Bounded robust least squares in log c and log k; raises ValueError for unusable input.
    """
    from scipy.optimize import least_squares

    from subsidence.science import pim

    plist: list[Any] = [panels] if not isinstance(panels, (list, tuple)) else list(panels)
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    w = np.asarray(w_mm, dtype=float)
    if w.ndim == 1 and x.size == 1:
        w = w[:, None]
    if w.shape != (len(dates), x.size) or x.size != y.size:
        raise ValueError(f"subsidence series must be (dates, points) = ({len(dates)}, {x.size}); got {w.shape}")
    unknown = set(fit) - set(SERIES_FITTABLE)
    if unknown or not fit:
        raise ValueError(f"cannot fit {sorted(unknown) or 'nothing'}; fittable: {', '.join(SERIES_FITTABLE)}")
    if kind not in KINDS:
        raise ValueError(f"time function {kind!r}: choose from {', '.join(KINDS)}")
    if not any(getattr(p, "start_date", None) is not None for p in plist):
        raise ValueError("no panel has a start_date: a time series cannot constrain c without the face advance")
    names = [n for n in SERIES_FITTABLE if n in fit and not (n == "k" and kind != "improved_knothe")]
    ok = np.isfinite(w)
    if relative_to_first:
        ok[0] = False  # the reference epoch carries no information
    n_obs = int(ok.sum())
    if n_obs <= len(names):
        raise ValueError(f"{n_obs} observed values cannot determine {names}")
    h0 = float(np.mean([float(getattr(p, "mean_depth_m", 200.0)) for p in plist]))
    start = initial or TimeFunction(kind)
    c0, _ = start.constants(h0)
    k0 = start.k if kind == "improved_knothe" else SHENDONG_K
    # (start, low, high) per fitted name; c and k in logs
    table = {
        "c_per_day": (math.log(c0), math.log(1e-4), math.log(20.0)),
        "k": (math.log(k0), math.log(1.0), math.log(10.0)),
        "q": (params.q, 0.05, 1.5),
    }
    x0 = np.array([table[n][0] for n in names])
    lo = [table[n][1] for n in names]
    hi = [table[n][2] for n in names]
    x0 = np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)

    def unpack(p: np.ndarray) -> tuple[TimeFunction, Any]:
        vals = dict(zip(names, p))
        c = math.exp(vals["c_per_day"]) if "c_per_day" in vals else c0
        k = math.exp(vals["k"]) if "k" in vals else k0
        prm = params.replace(q=float(vals["q"])) if "q" in vals else params
        return TimeFunction(kind, c_per_day=c, k=k), prm

    def model(p: np.ndarray) -> np.ndarray:
        tf, prm = unpack(p)
        out = np.empty(w.shape)
        for i, d in enumerate(dates):
            out[i] = pim.predict_points(plist, prm, x, y, at=d, time_function=tf, components=("subsidence_mm",)).W
        if relative_to_first:
            out = out - out[0]
        return out

    def resid(p: np.ndarray) -> np.ndarray:
        return (model(p)[ok] - w[ok]) / sigma_mm

    res = least_squares(resid, x0, bounds=(lo, hi), loss=loss, f_scale=2.0, method="trf", diff_step=1e-4)
    tf, prm = unpack(res.x)
    r = model(res.x)[ok] - w[ok]
    dof = max(1, n_obs - len(names))
    s2 = float(np.sum(res.fun**2) / dof)
    warnings: list[str] = []
    std: dict[str, float] = {}
    try:
        cov = np.linalg.pinv(res.jac.T @ res.jac) * s2
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:  # pragma: no cover - pinv rarely fails
        sd = np.full(len(names), np.inf)
    for i, n in enumerate(names):
        if n == "c_per_day":
            std[n] = float(tf.c_per_day * sd[i])  # log-parameter: d c = c d(log c)
        elif n == "k":
            std[n] = float(tf.k * sd[i])
        else:
            std[n] = float(sd[i])
        val = {"c_per_day": tf.c_per_day, "k": tf.k, "q": prm.q}[n]
        if not std[n] <= 0.5 * abs(val):
            warnings.append(
                f"{n} is not resolved by these series ({val:.4g} +/- {std[n]:.2g}); observe while the "
                "face passes (the rate peak) or fix it"
            )
    for wmsg in warnings:
        log.warning("time-function fit: %s", wmsg)
    return TimeFunctionFit(
        time_function=tf, params=prm, std=std, rms_mm=float(np.sqrt(np.mean(r**2))), n_obs=n_obs, warnings=warnings
    )


# --------------------------------------------------------------------------------------------------
# convenience wrappers
# --------------------------------------------------------------------------------------------------
def subsidence_at(
    panels: PanelGeometry | Iterable[PanelGeometry],
    params: PIMParams,
    x: Any,
    y: Any,
    at: Any,
    time_function: TimeFunction | None = None,
    *,
    grid: bool = False,
    components: Sequence[str] | None = ("subsidence_mm",),
) -> Field:
    """Field at date ``at`` (points, or a grid when ``grid``); W in mm positive down."""
    from subsidence.science import pim

    fn = pim.predict_grid if grid else pim.predict_points
    return fn(panels, params, x, y, at=at, time_function=time_function or TimeFunction(), components=components)


def rate_at(
    panels: PanelGeometry | Iterable[PanelGeometry],
    params: PIMParams,
    x: Any,
    y: Any,
    at: Any,
    time_function: TimeFunction | None = None,
    *,
    grid: bool = False,
) -> np.ndarray:
    """Subsidence rate dW/dt (mm/d, positive = sinking) at date ``at``."""
    tf = (time_function or TimeFunction()).as_rate()
    return subsidence_at(panels, params, x, y, at, tf, grid=grid).W


def subsidence_series(
    panels: PanelGeometry | Iterable[PanelGeometry],
    params: PIMParams,
    x: Any,
    y: Any,
    dates: Sequence[Any],
    time_function: TimeFunction | None = None,
) -> np.ndarray:
    """Predicted cumulative subsidence (mm, positive down) at points ``x, y`` for each date: shape (T, N).

    Feed it to :func:`subsidence.science.stability.classify` for the predicted movement stages.
    """
    from subsidence.science import pim

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    out = np.empty((len(dates), x.size))
    for k, d in enumerate(dates):
        out[k] = pim.predict_points(
            panels, params, x, y, at=d, time_function=time_function or TimeFunction(), components=("subsidence_mm",)
        ).W
    return out
