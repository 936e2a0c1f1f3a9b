"""Time functions and face advance: the kernels of a dynamic prediction (no PIM evaluation here).

:mod:`subsidence.science.pim` asks this module for the strips of a panel mined by a date and their time-function
weights; :mod:`subsidence.science.dynamics` holds the user-facing dynamic predictions and fits and re-exports
everything defined here (``dynamics.TimeFunction`` is this module's class). The time functions, the Shendong
calibration of c and its sources are described in :mod:`subsidence.science.dynamics` and
docs/science/dynamics.md.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from subsidence.science.pim import PanelGeometry, PIMParams, _Rect

log = logging.getLogger("subsidence.science.dynamics")

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


def time_constant_from_duration(
    duration_days: float, kind: str = "knothe", k: float = 2.0, complete: float = COMPLETE_AT_T
) -> float:
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
                out = np.where(
                    d <= 0, 0.5 * np.exp(c * np.minimum(d, 0.0)), 1.0 - 0.5 * np.exp(-c * np.maximum(d, 0.0))
                )
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
        return cls(
            kind=data.get("kind", "improved_knothe"),
            c_per_day=data.get("c_per_day"),
            duration_days=data.get("duration_days"),
            k=float(data.get("k", SHENDONG_K)),
            c_basis=data.get("c_basis", "shendong"),
        )


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


def _unit(az_deg: float) -> np.ndarray:
    """Map unit vector (east, north) of an azimuth in degrees clockwise from grid north."""
    a = math.radians(az_deg)
    return np.array([math.sin(a), math.cos(a)])


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
            log.warning(
                "%s: advance %.1f m/d over %g days mines %.0f m, not the panel length %.0f m; the face "
                "stops at end_date",
                label,
                rate,
                dur,
                rate * dur,
                length_m,
            )
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


def _strip_fractions(
    panel: PanelGeometry, tf: TimeFunction, adv: Advance, day: float, r: float, length_m: float
) -> tuple[np.ndarray, np.ndarray] | None:
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


def rectangle_strip_weights(
    panel: PanelGeometry, rect: _Rect, params: PIMParams, at: Any, time_function: TimeFunction | None
) -> tuple[str, tuple[np.ndarray, np.ndarray] | None]:
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


def polygon_strips(
    panel: PanelGeometry, comp_poly: Any, params: PIMParams, at: Any, time_function: TimeFunction | None
) -> list[tuple[Any, float]]:
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
