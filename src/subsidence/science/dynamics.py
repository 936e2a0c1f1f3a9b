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
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from subsidence.science.pim import Field, PanelGeometry, PIMParams, _Rect

log = logging.getLogger(__name__)

KINDS = ("knothe", "improved_knothe", "segmented_knothe")
#: Where c comes from when neither c_per_day nor duration_days is given.
C_BASES = ("shendong", "code_duration")
#: Shendong calibration: c = kappa / H0 (1/day, H0 in m), per time-function kind. Calibrated so that a
#: 300 m wide supercritical longwall at H0 = 200 m, m = 6 m, q = 0.78, tanβ = 2.5, advancing 15 m/d, reproduces
#: the Bulianta 32301 measurements (peak rate 490 mm/d, 61 m behind the face; q = 0.78 over the goaf). The
#: geometry of that calibration case is representative, not the published one [verify]: see
#: docs/science/dynamics.md, table of unverified defaults. improved_knothe (k = 2): 490 mm/d at 54 m (kappa = 56.6,
#: k = 2.23 would match both numbers exactly; k = 2 is kept, the textbook value); knothe and segmented_knothe
#: match the rate only (their lag is 35 m and 139 m).
SHENDONG_KAPPA_M_PER_DAY = {"knothe": 41.0, "improved_knothe": 55.0, "segmented_knothe": 69.0}
#: improved-Knothe exponent of the Shendong calibration [verify].
SHENDONG_K = 2.0
#: Movement duration factor: T ~ 2.5 * H0 days for H0 <= 400 m (docs/science.md §3) [verify].
DURATION_DAYS_PER_M_DEPTH = 2.5
#: Fraction of movement complete at the movement duration T, used to derive c from T.
COMPLETE_AT_T = 0.98


def movement_duration_days(h0_m: float, factor: float = DURATION_DAYS_PER_M_DEPTH) -> float:
    """Duration of surface movement T (days) above a panel at mean depth ``h0_m`` (m): T = factor * H0.

    Source: docs/science.md §3 (code 2017, valid for H0 <= 400 m) [verify]; beyond 400 m it is extrapolated.
    """
    if not h0_m > 0:
        raise ValueError(f"depth H0={h0_m!r} must be > 0 m")
    if h0_m > 400:
        log.debug("T = %.1f H0 is published for H0 <= 400 m; extrapolating to H0 = %.0f m", factor, h0_m)
    return factor * h0_m


def time_constant_from_duration(duration_days: float, kind: str = "knothe", k: float = 2.0,
                                complete: float = COMPLETE_AT_T) -> float:
    """c (1/day) such that the time function reaches ``complete`` (0.98) at ``duration_days``."""
    if not duration_days > 0:
        raise ValueError(f"movement duration {duration_days!r} must be > 0 days")
    if kind == "knothe":
        return -math.log(1.0 - complete) / duration_days
    if kind == "improved_knothe":
        return -math.log(1.0 - complete ** (1.0 / k)) / duration_days
    if kind == "segmented_knothe":
        return 2.0 * math.log(0.5 / (1.0 - complete)) / duration_days
    raise ValueError(f"unknown time function {kind!r}; choose from {', '.join(KINDS)}")


@dataclass(frozen=True)
class TimeFunction:
    """A time function f(age_days) in [0, 1] (or its derivative f' in 1/day when ``rate`` is True).

    kind: ``improved_knothe`` (default, docs/science.md §1: the plain Knothe rate peaks at t = 0), ``knothe`` or
    ``segmented_knothe``. c_per_day: time constant (1/day); when None it comes from ``duration_days`` (98 %
    complete at T) or, per panel at mean depth H0, from ``c_basis``: ``"shendong"`` (default) c = kappa / H0 with
    the Shendong calibration :data:`SHENDONG_KAPPA_M_PER_DAY`, or ``"code_duration"`` T = 2.5 H0
    (:func:`movement_duration_days`, too slow for Shendong shallow seams). k: exponent of the improved Knothe
    function (default :data:`SHENDONG_K`).
    """

    kind: str = "improved_knothe"
    c_per_day: float | None = None
    duration_days: float | None = None
    k: float = SHENDONG_K
    rate: bool = False
    c_basis: str = "shendong"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"time function {self.kind!r}: choose from {', '.join(KINDS)}")
        if self.c_basis not in C_BASES:
            raise ValueError(f"c_basis {self.c_basis!r}: choose from {', '.join(C_BASES)}")
        if self.c_per_day is not None and not self.c_per_day > 0:
            raise ValueError(f"time constant c={self.c_per_day!r} must be > 0 per day")
        if self.duration_days is not None and not self.duration_days > 0:
            raise ValueError(f"movement duration {self.duration_days!r} must be > 0 days")
        if not self.k > 0:
            raise ValueError(f"improved Knothe exponent k={self.k!r} must be > 0")

    def constants(self, h0_m: float | None = None) -> tuple[float, float]:
        """(c per day, T days) for a panel at mean depth ``h0_m``."""
        if self.c_per_day is not None:
            c = self.c_per_day
            t = self.duration_days or _duration_from_c(c, self.kind, self.k)
            return c, t
        if self.duration_days:
            t = self.duration_days
            return time_constant_from_duration(t, self.kind, self.k), t
        h0 = h0_m if h0_m else 200.0
        if self.c_basis == "code_duration":
            t = movement_duration_days(h0)
            return time_constant_from_duration(t, self.kind, self.k), t
        c = shendong_time_constant(h0, self.kind)
        return c, _duration_from_c(c, self.kind, self.k)

    def value(self, age_days: Any, h0_m: float | None = None) -> np.ndarray:
        """f(age) (dimensionless) or f'(age) (1/day) when ``rate``; zero for age < 0."""
        age = np.asarray(age_days, dtype=float)
        c, T = self.constants(h0_m)
        a = np.maximum(age, 0.0)
        if self.kind == "knothe":
            e = np.exp(-c * a)
            out = c * e if self.rate else 1.0 - e
        elif self.kind == "improved_knothe":
            e = np.exp(-c * a)
            g = 1.0 - e
            out = self.k * np.power(g, self.k - 1.0) * c * e if self.rate else np.power(g, self.k)
        else:
            tm = 0.5 * T
            d = a - tm
            if self.rate:
                out = 0.5 * c * np.exp(-c * np.abs(d))
            else:
                out = np.where(d <= 0, 0.5 * np.exp(c * np.minimum(d, 0.0)), 1.0 - 0.5 * np.exp(-c * np.maximum(d, 0.0)))
        return np.where(age < 0, 0.0, out)

    def as_rate(self) -> TimeFunction:
        return replace(self, rate=True)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "k": self.k}
        if self.c_per_day is not None:
            out["c_per_day"] = self.c_per_day
        if self.duration_days is not None:
            out["duration_days"] = self.duration_days
        if self.c_basis != "shendong":
            out["c_basis"] = self.c_basis
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | str | None) -> TimeFunction:
        """From PARAMS.json's ``time_function`` (a kind name or {"kind", "c_per_day", "duration_days", "k",
        "c_basis"}); missing keys take the Shendong-calibrated defaults."""
        if data is None:
            return cls()
        if isinstance(data, str):
            return cls(kind=data)
        return cls(kind=data.get("kind", "improved_knothe"), c_per_day=data.get("c_per_day"),
                   duration_days=data.get("duration_days"), k=float(data.get("k", SHENDONG_K)),
                   c_basis=data.get("c_basis", "shendong"))


def shendong_time_constant(h0_m: float, kind: str = "improved_knothe") -> float:
    """Default time constant c (1/day) for a panel at mean depth ``h0_m`` (m): c = kappa / H0 with the Shendong
    calibration :data:`SHENDONG_KAPPA_M_PER_DAY` (docs/science/dynamics.md) [verify]."""
    if not h0_m > 0:
        raise ValueError(f"depth H0={h0_m!r} must be > 0 m")
    if kind not in SHENDONG_KAPPA_M_PER_DAY:
        raise ValueError(f"unknown time function {kind!r}; choose from {', '.join(KINDS)}")
    return SHENDONG_KAPPA_M_PER_DAY[kind] / h0_m


def _duration_from_c(c: float, kind: str, k: float) -> float:
    # invert time_constant_from_duration
    return time_constant_from_duration(1.0, kind, k) / c


def fit_time_function(age_days: Sequence[float], w_mm: Sequence[float], w_final_mm: float,
                      kind: str = "improved_knothe") -> TimeFunction:
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
        tf = TimeFunction(kind, c_per_day=math.exp(p[0]), k=math.exp(p[1]) if kind == "improved_knothe" else 2.0,
                          duration_days=None)
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


def fit_time_function_series(panels: PanelGeometry | Iterable[PanelGeometry], params: PIMParams, x: Any, y: Any,
                             dates: Sequence[Any], w_mm: Any, *, kind: str = "improved_knothe",
                             fit: Sequence[str] = ("c_per_day", "k"), initial: TimeFunction | None = None,
                             sigma_mm: float = 5.0, relative_to_first: bool = True,
                             loss: str = "soft_l1") -> TimeFunctionFit:
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

    plist = [panels] if not isinstance(panels, (list, tuple)) else list(panels)
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
    h0 = float(np.mean([p.mean_depth_m for p in plist]))
    start = initial or TimeFunction(kind)
    c0, _ = start.constants(h0)
    k0 = start.k if kind == "improved_knothe" else SHENDONG_K
    x0, lo, hi = [], [], []
    for n in names:
        if n == "c_per_day":
            x0.append(math.log(c0)); lo.append(math.log(1e-4)); hi.append(math.log(20.0))
        elif n == "k":
            x0.append(math.log(k0)); lo.append(math.log(1.0)); hi.append(math.log(10.0))
        else:
            x0.append(params.q); lo.append(0.05); hi.append(1.5)
    x0 = np.clip(np.array(x0), np.array(lo) + 1e-9, np.array(hi) - 1e-9)

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
            warnings.append(f"{n} is not resolved by these series ({val:.4g} +/- {std[n]:.2g}); observe while the "
                            "face passes (the rate peak) or fix it")
    for wmsg in warnings:
        log.warning("time-function fit: %s", wmsg)
    return TimeFunctionFit(time_function=tf, params=prm, std=std, rms_mm=float(np.sqrt(np.mean(r**2))),
                           n_obs=n_obs, warnings=warnings)


# --------------------------------------------------------------------------------------------------
# face advance
# --------------------------------------------------------------------------------------------------
def to_days(value: Any) -> float:
    """Days since 1970-01-01 (float) for a date, datetime, numpy datetime64 or ISO string."""
    if isinstance(value, datetime):
        value = value.date() if value.tzinfo is None else value.astimezone().date()
    if isinstance(value, date):
        return float(value.toordinal() - date(1970, 1, 1).toordinal())
    if isinstance(value, str):
        value = np.datetime64(value, "D")
    if isinstance(value, np.datetime64):
        return float(value.astype("datetime64[D]").astype(np.int64))
    raise ValueError(f"not a date: {value!r} (use ISO 8601, e.g. 2025-06-30)")


@dataclass(frozen=True)
class Advance:
    """Face advance of one panel: start (days since epoch), rate (m/day) and total mined length (m)."""

    start_day: float
    rate_m_per_day: float
    length_m: float

    def mined_length(self, day: float) -> float:
        return float(np.clip((day - self.start_day) * self.rate_m_per_day, 0.0, self.length_m))


def panel_advance(panel: PanelGeometry, length_m: float) -> Advance | None:
    """The advance of ``panel`` along a mined length ``length_m``; None when the panel has no start date
    (treated as mined long ago: static, fully settled)."""
    label = panel.name or "panel"
    if panel.start_date is None:
        return None
    start = to_days(panel.start_date)
    rate = panel.advance_m_per_day
    if panel.end_date is not None:
        dur = to_days(panel.end_date) - start
        if rate is None:
            if dur <= 0:
                raise ValueError(f"{label}: end_date equals start_date and no advance_m_per_day")
            rate = length_m / dur
        elif dur > 0 and abs(rate * dur - length_m) > 0.05 * length_m:
            log.warning("%s: advance %.1f m/d over %g days mines %.0f m, not the panel length %.0f m; the face "
                        "stops at end_date", label, rate, dur, rate * dur, length_m)
            length_m = min(length_m, rate * dur)
    if rate is None:
        raise ValueError(f"{label}: dynamic prediction needs advance_m_per_day or end_date as well as start_date")
    return Advance(start, float(rate), float(length_m))


def mined_fraction(panel: PanelGeometry, at: Any) -> float:
    """Fraction (0..1) of the panel length mined by date ``at`` (1 when the panel has no start date)."""
    length = _advance_axis_length(panel)
    adv = panel_advance(panel, length)
    if adv is None:
        return 1.0
    return adv.mined_length(to_days(at)) / length


def _advance_axis_length(panel: PanelGeometry) -> float:
    e = _advance_direction(panel)
    proj = panel.outline @ e
    return float(proj.max() - proj.min())


def _advance_direction(panel: PanelGeometry) -> np.ndarray:
    """Unit vector (map) in which the face moves."""
    from subsidence.science.pim import _unit

    if panel.advance_azimuth_deg is not None:
        want = _unit(panel.advance_azimuth_deg)
    else:
        want = None
    # long axis from the minimum rotated rectangle
    from shapely.geometry import Polygon

    mrr = np.asarray(Polygon(panel.outline).minimum_rotated_rectangle.exterior.coords)[:4]
    a, b = mrr[1] - mrr[0], mrr[2] - mrr[1]
    axis = a if np.linalg.norm(a) >= np.linalg.norm(b) else b
    axis = axis / np.linalg.norm(axis)
    if want is not None:
        other = np.array([axis[1], -axis[0]])
        axis = axis if abs(axis @ want) >= abs(other @ want) else other
        return axis if axis @ want > 0 else -axis
    az = math.degrees(math.atan2(axis[0], axis[1])) % 360.0
    return axis if az < 180.0 else -axis


def _strip_fractions(panel: PanelGeometry, tf: TimeFunction, adv: Advance, day: float, r: float,
                     length_m: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Strip boundaries (fractions of the panel length, in mining order) and f per strip."""
    mined = adv.mined_length(day)
    if mined <= 0:
        return None
    _, T = tf.constants(panel.mean_depth_m)
    width = min(r / 10.0, max(adv.rate_m_per_day * T / 50.0, 1e-3), mined)
    n = int(min(2000, max(1, math.ceil(mined / width))))
    d = np.linspace(0.0, mined, n + 1)
    mid = 0.5 * (d[:-1] + d[1:])
    age = day - (adv.start_day + mid / adv.rate_m_per_day)
    f = tf.value(age, panel.mean_depth_m)
    return d / length_m, f


def rectangle_strip_weights(panel: PanelGeometry, rect: _Rect, params: PIMParams, at: Any,
                            time_function: TimeFunction | None) -> tuple[str, tuple[np.ndarray, np.ndarray] | None]:
    """Erf-edge positions (fractions of the plan side) and weights of the advancing side of a rectangle.

    Returns ("u" or "v", (positions, weights)) or (axis, None) when nothing is mined yet. Panels without a
    start date are returned as fully mined with f = 1 (or f' = 0 for rates).
    """
    tf = time_function or TimeFunction()
    e = _advance_direction(panel)
    along_u = abs(e @ rect.eu) >= abs(e @ rect.ev)
    axis = "u" if along_u else "v"
    sign = float(np.sign(e @ (rect.eu if along_u else rect.ev)))
    length = rect.len_u if along_u else rect.len_v
    adv = panel_advance(panel, length)
    if adv is None:
        if tf.rate:
            return axis, None
        return axis, (np.array([0.0, 1.0]), np.array([1.0, -1.0]))
    day = to_days(at)
    r = panel.mean_depth_m / params.tan_beta
    sf = _strip_fractions(panel, tf, adv, day, r, length)
    if sf is None:
        return axis, None
    pos, f = sf
    if sign < 0:  # mining from the far end: ascending positions, reversed strip order
        pos = 1.0 - pos[::-1]
        f = f[::-1]
    w = np.empty(len(pos))
    w[0] = f[0]
    w[1:-1] = np.diff(f)
    w[-1] = -f[-1]
    return axis, (pos, w)


def polygon_strips(panel: PanelGeometry, comp_poly: Any, params: PIMParams, at: Any,
                   time_function: TimeFunction | None) -> list[tuple[Any, float]]:
    """(strip geometry, f) pieces of a polygon panel's computational polygon mined by ``at``.

    Strips are cut perpendicular to the advance direction, at most r/4 wide (at most 200 strips).
    """
    from shapely import affinity
    from shapely.geometry import box

    tf = time_function or TimeFunction()
    e = _advance_direction(panel)
    length = _advance_axis_length(panel)
    adv = panel_advance(panel, length)
    if adv is None:
        return [] if tf.rate else [(comp_poly, 1.0)]
    day = to_days(at)
    r = panel.mean_depth_m / params.tan_beta
    mined = adv.mined_length(day)
    if mined <= 0:
        return []
    width = max(r / 4.0, mined / 200.0)
    n = max(1, math.ceil(mined / width))
    # computational polygon extent along e, mapped proportionally
    ang = math.degrees(math.atan2(e[1], e[0]))
    rot = affinity.rotate(comp_poly, -ang, origin=(0, 0))  # e -> +x
    minx, miny, maxx, maxy = rot.bounds
    comp_len = maxx - minx
    pieces = []
    d = np.linspace(0.0, mined, n + 1)
    for k in range(n):
        a = minx + comp_len * d[k] / length
        b = minx + comp_len * d[k + 1] / length
        strip = rot.intersection(box(a, miny - 1, b, maxy + 1))
        if strip.is_empty:
            continue
        age = day - (adv.start_day + 0.5 * (d[k] + d[k + 1]) / adv.rate_m_per_day)
        f = float(tf.value(age, panel.mean_depth_m))
        if f != 0.0:
            pieces.append((affinity.rotate(strip, ang, origin=(0, 0)), f))
    return pieces


# --------------------------------------------------------------------------------------------------
# convenience wrappers
# --------------------------------------------------------------------------------------------------
def subsidence_at(panels: PanelGeometry | Iterable[PanelGeometry], params: PIMParams, x: Any, y: Any, at: Any,
                  time_function: TimeFunction | None = None, *, grid: bool = False,
                  components: Sequence[str] | None = ("subsidence_mm",)) -> Field:
    """Field at date ``at`` (points, or a grid when ``grid``); W in mm positive down."""
    from subsidence.science import pim

    fn = pim.predict_grid if grid else pim.predict_points
    return fn(panels, params, x, y, at=at, time_function=time_function or TimeFunction(), components=components)


def rate_at(panels: PanelGeometry | Iterable[PanelGeometry], params: PIMParams, x: Any, y: Any, at: Any,
            time_function: TimeFunction | None = None, *, grid: bool = False) -> np.ndarray:
    """Subsidence rate dW/dt (mm/d, positive = sinking) at date ``at``."""
    tf = (time_function or TimeFunction()).as_rate()
    return subsidence_at(panels, params, x, y, at, tf, grid=grid).W


def subsidence_series(panels: PanelGeometry | Iterable[PanelGeometry], params: PIMParams, x: Any, y: Any,
                      dates: Sequence[Any], time_function: TimeFunction | None = None) -> np.ndarray:
    """Predicted cumulative subsidence (mm, positive down) at points ``x, y`` for each date: shape (T, N).

    Feed it to :func:`subsidence.science.stability.classify` for the predicted movement stages.
    """
    from subsidence.science import pim

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    out = np.empty((len(dates), x.size))
    for k, d in enumerate(dates):
        out[k] = pim.predict_points(panels, params, x, y, at=d, time_function=time_function or TimeFunction(),
                                    components=("subsidence_mm",)).W
    return out
