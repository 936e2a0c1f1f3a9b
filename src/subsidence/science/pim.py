"""Probability integral method (概率积分法): surface movement above mined longwall panels.

Conventions (docs/science.md §0): x east, y north in metres; W in mm positive downward; tilt i = dW/ds in mm/m;
curvature K = d2W/ds2 in 10^-3/m; horizontal displacement U in mm (positive toward +x / +y, i.e. toward the
basin for the goaf side); strain eps = dU/ds in mm/m (positive = extension).

Model
-----
Each panel is described in a *local frame* (u along strike, v pointing up-dip, origin at the panel's down-dip /
start corner). For a rectangle the basin is separable (docs/science.md §1)::

    W(u, v)  = W0 * C(u) * D(v),   W0 = m * q * cos(alpha)   [mm, m in mm]
    C(u)     = 1/2 [erf(sqrt(pi) (u - a0)/r)  - erf(sqrt(pi) (u - a1)/r)],          l = D3 - s3 - s4
    D(v)     = 1/2 [erf(sqrt(pi) (v - v0)/r1) - erf(sqrt(pi) (v - v0 - L)/r2)],
    L        = (D1 - s1 - s2) sin(theta0 + alpha) / sin(theta0)   (D1 = inclined dip width)
    v0       = s1 cos(alpha) - H1 cot(theta0)   (down-dip computational edge, shifted down-dip) [verify]
    U_u      = b r dW/du ,  U_v = b W0 C(u) [e(v - v0; r1) - e(v - v0 - L; r2)] + W cot(theta0)

with r = H0/tan(beta), r1 = H1/tan(beta1), r2 = H2/tan(beta2), e(t; r) = exp(-pi t^2 / r^2). Every 1-D profile
is held as a list of weighted erf *edges* (position, weight, r), which also represents the strips of a panel
mined progressively (see :mod:`subsidence.science.dynamics`).

Irregular polygons use the same influence function integrated over the computational polygon by Green's
theorem, turning the area integral into a boundary integral evaluated with Gauss-Legendre quadrature
(segments <= r/1.5, 6 nodes: relative error ~1e-9 for W and its derivatives; the tests assert < 1e-6 of W0
and of each component's maximum against the rectangle formula).

Fast path: panels sharing one orientation aligned with the grid axes reduce to matrix products
(W = D diag(W0) C^T); rotated panels are evaluated only inside their influence window (4 r beyond the edges,
where erf is 1 to double precision), so truncation adds no error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
from scipy.special import erf

log = logging.getLogger(__name__)

SQRT_PI = math.sqrt(math.pi)
#: Influence beyond this many radii from an edge is zero to double precision (erf(4 sqrt(pi)) == 1.0).
WINDOW_R = 4.0
#: Default memory budget for a prediction grid (MiB); see :func:`predict_grid`.
DEFAULT_MEMORY_BUDGET_MB = 3072
#: How the dip-side inflection offsets s1, s2 are measured on an inclined seam (see :class:`PIMParams`).
OFFSET_CONVENTIONS = ("seam", "horizontal")


class ScienceInputError(ValueError):
    """Physically impossible or unsupported input; the message names the field and the fix."""


# --------------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PIMParams:
    """Probability-integral parameters, shared by all panels of a prediction.

    q: subsidence factor (0, 1.5]; tan_beta: tangent of the main influence angle (> 0); b: horizontal
    displacement coefficient (>= 0); theta0_deg: propagation angle in degrees (0, 90], 90 for flat seams;
    s_m: inflection-point offset inward from the mined edge in metres (used for every side whose own
    s1_m (down-dip), s2_m (up-dip), s3_m (strike start, local u = 0), s4_m (strike end) is None).
    tan_beta_dip / tan_beta_rise: separate tanβ1 / tanβ2 for the down-dip and up-dip sides (default tan_beta).
    offset_convention: how s1 (down-dip) and s2 (up-dip) are measured on an inclined seam (:data:`OFFSET_CONVENTIONS`;
    docs/science/pim.md): ``"seam"`` (default, the textbook form) along the seam in the dip plane, so the
    computational width is L = (D1 - s1 - s2) sin(θ0 + α)/sin θ0 and the down-dip edge moves in by s1 cos α in
    plan; ``"horizontal"`` as plan-view (horizontal) distances, i.e. s/cos α along the seam. Strike offsets
    s3, s4 and flat seams are the same under both. Polygon panels shrink their plan outline by the mean offset
    (horizontal convention) under either setting.
    """

    q: float
    tan_beta: float
    b: float = 0.3
    theta0_deg: float = 90.0
    s_m: float = 0.0
    s1_m: float | None = None
    s2_m: float | None = None
    s3_m: float | None = None
    s4_m: float | None = None
    tan_beta_dip: float | None = None
    tan_beta_rise: float | None = None
    offset_convention: str = "seam"

    def __post_init__(self) -> None:
        def bad(name: str, value: Any, rule: str) -> ScienceInputError:
            return ScienceInputError(f"PIM parameter {name}={value!r}: {rule}")

        if self.offset_convention not in OFFSET_CONVENTIONS:
            raise bad("offset_convention", self.offset_convention, f"choose from {', '.join(OFFSET_CONVENTIONS)}")

        for name in ("q", "tan_beta", "b", "theta0_deg", "s_m"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise bad(name, v, "must be a finite number")
        if not (0.0 < self.q <= 1.5):
            raise bad("q", self.q, "subsidence factor must be in (0, 1.5] (Shendong practice 0.55-0.8)")
        if self.tan_beta <= 0.0:
            raise bad("tan_beta", self.tan_beta, "tangent of the main influence angle must be > 0 (typ. 2-3)")
        for name in ("tan_beta_dip", "tan_beta_rise"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0.0):
                raise bad(name, v, "must be > 0 when given")
        if self.b < 0.0 or self.b > 2.0:
            raise bad("b", self.b, "horizontal displacement coefficient must be in [0, 2] (typ. 0.3)")
        if not (0.0 < self.theta0_deg <= 90.0):
            raise bad("theta0_deg", self.theta0_deg, "propagation angle must be in (0, 90] degrees")
        for name in ("s_m", "s1_m", "s2_m", "s3_m", "s4_m"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v >= 0.0):
                raise bad(name, v, "inflection offset must be >= 0 m (inward from the mined edge)")

    @property
    def offsets(self) -> tuple[float, float, float, float]:
        """(s1 down-dip, s2 up-dip, s3 strike start, s4 strike end) in metres."""
        return tuple(self.s_m if v is None else float(v) for v in (self.s1_m, self.s2_m, self.s3_m, self.s4_m))  # type: ignore[return-value]

    @property
    def tan_betas(self) -> tuple[float, float]:
        """(tanβ1 down-dip, tanβ2 up-dip)."""
        return (self.tan_beta_dip or self.tan_beta, self.tan_beta_rise or self.tan_beta)

    def replace(self, **changes: Any) -> PIMParams:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("q", "tan_beta", "b", "theta0_deg", "s_m")}
        for k in ("s1_m", "s2_m", "s3_m", "s4_m", "tan_beta_dip", "tan_beta_rise"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.offset_convention != "seam":
            out["offset_convention"] = self.offset_convention
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PIMParams:
        """Build from a PARAMS.json mapping; unknown keys (e.g. ``time_function``) are ignored here."""
        names = {
            "q",
            "tan_beta",
            "b",
            "theta0_deg",
            "s_m",
            "s1_m",
            "s2_m",
            "s3_m",
            "s4_m",
            "tan_beta_dip",
            "tan_beta_rise",
        }
        missing = {"q", "tan_beta"} - set(data)
        if missing:
            raise ScienceInputError(f"PIM parameters: missing {sorted(missing)} (e.g. q=0.7, tan_beta=2.2)")
        kw: dict[str, Any] = {}
        for k in names & set(data):
            v = data[k]
            if v is None:
                continue
            try:
                kw[k] = float(v)
            except (TypeError, ValueError):
                raise ScienceInputError(f"PIM parameter {k}={v!r}: must be a number") from None
        if data.get("offset_convention") is not None:
            kw["offset_convention"] = str(data["offset_convention"])
        return cls(**kw)


# --------------------------------------------------------------------------------------------------
# panels
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PanelGeometry:
    """One mined panel in plan view (projected metres) with its seam attributes.

    outline: (n, 2) vertices of the plan-view polygon (closing vertex optional) or a shapely Polygon;
    thickness_m: mining height m; depth_dip_m / depth_rise_m: depth H1 at the down-dip edge and H2 at the
    up-dip edge. When depth_rise_m is not given it is derived from the panel geometry, H2 = H1 - D1 sin(alpha)
    with D1 the inclined dip width (= plan width along the dip direction / cos alpha), a warning is logged and
    ``depth_rise_derived`` is True (it used to default to H1 silently, which under-predicts the up-dip tilt by
    ~29 % at 20 deg dip); dip_deg: seam dip alpha; dip_azimuth_deg: direction
    of dip (down-dip), clockwise from grid north; start_date / end_date / advance_m_per_day: face advance
    (any two define the third); advance_azimuth_deg: direction in which the face moves (default: along the
    panel's long axis, toward the half-plane of azimuths [0, 180)).
    """

    outline: Any = field(compare=False)
    thickness_m: float
    depth_dip_m: float
    depth_rise_m: float | None = None
    dip_deg: float = 0.0
    dip_azimuth_deg: float = 0.0
    start_date: date | None = None
    end_date: date | None = None
    advance_m_per_day: float | None = None
    advance_azimuth_deg: float | None = None
    name: str = ""
    holes: tuple = field(default=(), compare=False)
    depth_rise_derived: bool = field(default=False, init=False, compare=False)

    def __post_init__(self) -> None:
        label = f"panel {self.name!r}" if self.name else "panel"
        ring, holes = _ring_and_holes(self.outline, self.holes, label)
        object.__setattr__(self, "outline", ring)
        object.__setattr__(self, "holes", holes)
        for fname in ("thickness_m", "depth_dip_m"):
            v = getattr(self, fname)
            if v is None or not math.isfinite(float(v)) or float(v) <= 0.0:
                raise ScienceInputError(f"{label}: {fname}={v!r} must be a positive number of metres")
        if not (0.0 <= self.dip_deg < 90.0):
            raise ScienceInputError(f"{label}: dip_deg={self.dip_deg!r} must be in [0, 90)")
        if self.depth_rise_m is None:
            h2 = rise_depth_from_geometry(ring, float(self.depth_dip_m), self.dip_deg, self.dip_azimuth_deg)
            if not h2 > 0.05 * float(self.depth_dip_m):
                raise ScienceInputError(
                    f"{label}: the up-dip depth derived from the geometry, H2 = H1 - D1 sin(alpha) = {h2:.1f} m, is "
                    f"not positive (H1 = {self.depth_dip_m} m, dip {self.dip_deg} deg): check dip_deg and "
                    "dip_azimuth_deg, or give depth_rise_m"
                )
            if self.dip_deg > 0.0:
                log.warning(
                    "%s: depth_rise_m not given; derived from the panel geometry H2 = H1 - D1 sin(alpha) = "
                    "%.1f m (H1 = %.1f m, dip %.1f deg)",
                    label,
                    h2,
                    float(self.depth_dip_m),
                    self.dip_deg,
                )
            object.__setattr__(self, "depth_rise_m", h2)
            object.__setattr__(self, "depth_rise_derived", self.dip_deg > 0.0)
        v = self.depth_rise_m
        if v is None or not math.isfinite(float(v)) or float(v) <= 0.0:
            raise ScienceInputError(f"{label}: depth_rise_m={v!r} must be a positive number of metres")
        if self.advance_m_per_day is not None and not (self.advance_m_per_day > 0):
            raise ScienceInputError(f"{label}: advance_m_per_day={self.advance_m_per_day!r} must be > 0")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ScienceInputError(f"{label}: end_date {self.end_date} is before start_date {self.start_date}")
        if _signed_area(ring) <= 0.0:
            raise ScienceInputError(f"{label}: outline has no area")

    # -- convenience -------------------------------------------------------------------------------
    @classmethod
    def rectangle(
        cls, cx: float, cy: float, length_m: float, width_m: float, azimuth_deg: float = 90.0, **kw: Any
    ) -> PanelGeometry:
        """A rectangle centred at (cx, cy) whose *length* runs along ``azimuth_deg`` (clockwise from north)."""
        a = math.radians(azimuth_deg)
        e_len = np.array([math.sin(a), math.cos(a)])
        e_wid = np.array([e_len[1], -e_len[0]])
        hl, hw = length_m / 2.0, width_m / 2.0
        c = np.array([cx, cy])
        pts = [
            c - hl * e_len - hw * e_wid,
            c + hl * e_len - hw * e_wid,
            c + hl * e_len + hw * e_wid,
            c - hl * e_len + hw * e_wid,
        ]
        return cls(outline=np.array(pts), **kw)

    @property
    def rise_depth_m(self) -> float:
        """H2 in metres (given, or derived in ``__post_init__``; never None after construction)."""
        h2 = self.depth_rise_m
        assert h2 is not None
        return float(h2)

    @property
    def mean_depth_m(self) -> float:
        """H0 = (H1 + H2) / 2 in metres."""
        return 0.5 * (float(self.depth_dip_m) + self.rise_depth_m)

    @property
    def area_m2(self) -> float:
        return _signed_area(self.outline) - sum(abs(_signed_area(h)) for h in self.holes)

    def w0_mm(self, params: PIMParams) -> float:
        """Maximum subsidence of a supercritical panel, W0 = m q cos(alpha), in mm."""
        return self.thickness_m * 1000.0 * params.q * math.cos(math.radians(self.dip_deg))

    def as_rectangle(self, tol: float = 1e-4) -> _Rect | None:
        """The panel as a rectangle (local frame) when its outline is one (4 corners, right angles).

        Cached per panel (the panel is immutable), so repeated predictions (inversion) do not redo it.
        """
        cache = self.__dict__.setdefault("_rect_cache", {})
        if tol not in cache:
            cache[tol] = self._as_rectangle(tol)
        return cache[tol]

    def _as_rectangle(self, tol: float) -> _Rect | None:
        if self.holes:
            return None
        pts = _dedupe_collinear(self.outline)
        if len(pts) != 4:
            return None
        e = np.roll(pts, -1, axis=0) - pts
        n = np.linalg.norm(e, axis=1)
        if np.any(n <= 0):
            return None
        eh = e / n[:, None]
        for k in range(4):
            if abs(float(eh[k] @ eh[(k + 1) % 4])) > tol:
                return None
        return _Rect.from_corners(pts, self)


def rise_depth_from_geometry(outline: Any, depth_dip_m: float, dip_deg: float, dip_azimuth_deg: float) -> float:
    """Up-dip depth H2 (m) = H1 - D1 sin(alpha) = H1 - w tan(alpha), with w the plan extent (m) of ``outline``
    ((n, 2) vertices) along the dip direction ``dip_azimuth_deg`` (clockwise from grid north, down-dip) and D1 =
    w / cos(alpha) the inclined dip width. Flat seams give H2 = H1."""
    if dip_deg <= 0.0:
        return float(depth_dip_m)
    ring = np.asarray(outline, dtype=float)[:, :2]
    w = float(np.ptp(ring @ _unit(dip_azimuth_deg)))
    return float(depth_dip_m) - w * math.tan(math.radians(dip_deg))


def _ring_and_holes(outline: Any, holes: Any, label: str) -> tuple[np.ndarray, tuple]:
    if hasattr(outline, "exterior"):  # shapely Polygon
        if outline.is_empty:
            raise ScienceInputError(f"{label}: empty geometry")
        hs = tuple(np.asarray(h.coords)[:, :2] for h in outline.interiors)
        outline = np.asarray(outline.exterior.coords)[:, :2]
        holes = holes or hs
    ring = np.asarray(outline, dtype=float)
    if ring.ndim != 2 or ring.shape[1] < 2 or len(ring) < 3:
        raise ScienceInputError(f"{label}: outline must be an (n>=3, 2) array of vertices in metres")
    ring = ring[:, :2]
    if not np.all(np.isfinite(ring)):
        raise ScienceInputError(f"{label}: outline has non-finite coordinates")
    if np.allclose(ring[0], ring[-1]):
        ring = ring[:-1]
    if _signed_area(ring) < 0:
        ring = ring[::-1]
    out_holes = []
    for h in holes:
        h = np.asarray(h, dtype=float)[:, :2]
        if np.allclose(h[0], h[-1]):
            h = h[:-1]
        if _signed_area(h) > 0:  # holes clockwise
            h = h[::-1]
        out_holes.append(h)
    return ring, tuple(out_holes)


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _dedupe_collinear(ring: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    pts = np.array([p for i, p in enumerate(ring) if i == 0 or not np.allclose(p, ring[i - 1])])
    keep = []
    n = len(pts)
    scale = float(np.ptp(pts, axis=0).max()) or 1.0
    for i in range(n):
        a, b, c = pts[i - 1], pts[i], pts[(i + 1) % n]
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        if abs(cross) > tol * scale * scale:
            keep.append(b)
    return np.array(keep)


def _unit(az_deg: float) -> np.ndarray:
    a = math.radians(az_deg)
    return np.array([math.sin(a), math.cos(a)])


@dataclass(frozen=True)
class _Rect:
    """A rectangular panel in its local frame: origin at the down-dip/start corner, u strike, v up-dip."""

    origin: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    len_u: float
    len_v: float
    #: angle (deg) between the seam's dip direction and the panel axis used as the dip axis
    dip_offset_deg: float = 0.0

    @classmethod
    def from_corners(cls, pts: np.ndarray, panel: PanelGeometry) -> _Rect:
        a = pts[1] - pts[0]
        b = pts[2] - pts[1]
        axes = [a / np.linalg.norm(a), b / np.linalg.norm(b)]
        lens = [float(np.linalg.norm(a)), float(np.linalg.norm(b))]
        d = _unit(panel.dip_azimuth_deg)  # down-dip direction
        k = 0 if abs(axes[0] @ d) >= abs(axes[1] @ d) else 1
        ev = axes[k] if axes[k] @ d < 0 else -axes[k]  # up-dip
        off = math.degrees(math.acos(min(1.0, abs(float(ev @ d)))))
        if panel.dip_deg > 0.5 and off > 10.0:
            log.debug(
                "panel %s: dip azimuth %.1f deg is %.0f deg off the panel's nearest axis; that axis is used as "
                "the dip direction",
                panel.name or "?",
                panel.dip_azimuth_deg,
                off,
            )
        eu = np.array([ev[1], -ev[0]])
        len_v, len_u = lens[k], lens[1 - k]
        centre = pts.mean(axis=0)
        origin = centre - 0.5 * len_u * eu - 0.5 * len_v * ev
        return cls(origin=origin, eu=eu, ev=ev, len_u=len_u, len_v=len_v, dip_offset_deg=off)

    def to_local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = x - self.origin[0], y - self.origin[1]
        return dx * self.eu[0] + dy * self.eu[1], dx * self.ev[0] + dy * self.ev[1]


# --------------------------------------------------------------------------------------------------
# 1-D profiles (weighted erf edges)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """P(t) = 1/2 sum_k w_k erf(sqrt(pi) (t - a_k) / r_k): a 1-D influence profile (dimensionless).

    A static panel side has two edges (w = +1, -1); a progressively mined panel has one edge per strip.
    ``displacement`` E(t) = sum_k w_k exp(-pi (t - a_k)^2 / r_k^2) is r * dP/dt per edge, so that
    U = b * W0 * E * (other profile) without a single r when r1 != r2.
    """

    a: np.ndarray
    w: np.ndarray
    r: np.ndarray

    @property
    def span(self) -> tuple[float, float]:
        rmax = float(self.r.max())
        return float(self.a.min()) - WINDOW_R * rmax, float(self.a.max()) + WINDOW_R * rmax

    def evaluate(self, t: np.ndarray, orders: Iterable[str] = ("P",)) -> dict[str, np.ndarray]:
        """Values at ``t`` (m) of the requested quantities: P, dP (1/m), d2P (1/m^2), E, dE (1/m)."""
        orders = set(orders)
        t = np.asarray(t, dtype=float)
        if len(self.a) > 6 and t.size > 4 * 4096:
            return self._evaluate_table(t, orders)
        return self._evaluate_exact(t, orders)

    def _evaluate_exact(self, t: np.ndarray, orders: set[str]) -> dict[str, np.ndarray]:
        out = {k: np.zeros_like(t) for k in orders}
        need_e = orders & {"dP", "d2P", "E", "dE"}
        for a, w, r in zip(self.a, self.w, self.r):
            if w == 0.0:
                continue
            z = t - a
            if "P" in orders:
                out["P"] += 0.5 * w * erf(SQRT_PI * z / r)
            if need_e:
                e = np.exp(-math.pi * (z / r) ** 2)
                if "dP" in orders:
                    out["dP"] += (w / r) * e
                if "d2P" in orders:
                    out["d2P"] -= (2.0 * math.pi * w / r**3) * z * e
                if "E" in orders:
                    out["E"] += w * e
                if "dE" in orders:
                    out["dE"] -= (2.0 * math.pi * w / r**2) * z * e
        return out

    def _evaluate_table(self, t: np.ndarray, orders: set[str]) -> dict[str, np.ndarray]:
        # Many edges (progressive mining): tabulate at r_min/200 and interpolate linearly. Interpolation
        # error <= h^2/8 max|P''| = 1.52/(8 * 200^2) ~ 5e-6 of W0 (and similar relative errors for derivatives).
        lo, hi = self.span
        h = float(self.r.min()) / 200.0
        n = math.ceil((hi - lo) / h) + 2
        if n > 2_000_000:
            return self._evaluate_exact(t, orders)
        grid = lo + h * np.arange(n)
        tab = self._evaluate_exact(grid, orders)
        tc = np.clip(t, lo, hi)
        # every quantity vanishes outside the span, so clipping to it is exact
        return {k: np.interp(tc, grid, v) for k, v in tab.items()}


def _panel_profiles(
    rect: _Rect,
    panel: PanelGeometry,
    params: PIMParams,
    u_weights: tuple[np.ndarray, np.ndarray] | None = None,
    v_weights: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Profile, Profile, float]:
    """The (u, v) profiles of a rectangle and the extra cot(theta0) factor for U_v.

    ``u_weights`` / ``v_weights``: optional (positions along the plan side in [0, 1], weights) for progressive
    mining; the plan positions are mapped linearly onto the computational side.
    """
    s1, s2, s3, s4 = params.offsets
    alpha = math.radians(panel.dip_deg)
    if params.offset_convention == "horizontal" and alpha > 0.0:
        # plan-view (horizontal) offsets: along the seam they are s / cos(alpha)
        s1, s2 = s1 / math.cos(alpha), s2 / math.cos(alpha)
    theta0 = math.radians(params.theta0_deg)
    cot0 = math.cos(theta0) / math.sin(theta0)
    tb1, tb2 = params.tan_betas
    h1, h2 = float(panel.depth_dip_m), panel.rise_depth_m
    r = panel.mean_depth_m / params.tan_beta
    r1, r2 = h1 / tb1, h2 / tb2
    l_u = rect.len_u - s3 - s4
    d1 = rect.len_v / math.cos(alpha)  # inclined dip width
    l_v = (d1 - s1 - s2) * math.sin(theta0 + alpha) / math.sin(theta0)
    label = panel.name or "panel"
    if l_u <= 0 or l_v <= 0:
        raise ScienceInputError(
            f"{label}: inflection offsets (s1..s4 = {s1}, {s2}, {s3}, {s4} m) leave no computational panel "
            f"({rect.len_u:.1f} m x {rect.len_v:.1f} m); reduce s_m"
        )
    v0 = s1 * math.cos(alpha) - h1 * cot0
    if u_weights is None:
        pu = Profile(np.array([s3, s3 + l_u]), np.array([1.0, -1.0]), np.array([r, r]))
    else:
        pos, w = u_weights
        pu = Profile(s3 + pos * l_u, w, np.full(len(pos), r))
    if v_weights is None:
        pv = Profile(np.array([v0, v0 + l_v]), np.array([1.0, -1.0]), np.array([r1, r2]))
    else:
        pos, w = v_weights
        pv = Profile(v0 + pos * l_v, w, r1 + (r2 - r1) * pos)
    return pu, pv, cot0


# --------------------------------------------------------------------------------------------------
# fields
# --------------------------------------------------------------------------------------------------
#: Base quantities of a Field in map axes.
#: W (mm); gx, gy (mm/m); hxx, hxy, hyy (1e-3/m); ux, uy (mm); jxx = dUx/dx, jxy = dUx/dy, jyx, jyy (mm/m).
BASE = ("W", "gx", "gy", "hxx", "hxy", "hyy", "ux", "uy", "jxx", "jxy", "jyx", "jyy")

#: Output components: name -> (description zh / en, unit, base quantities needed).
COMPONENTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "subsidence_mm": ("下沉 subsidence W (positive down)", "mm", ("W",)),
    "tilt_x_mm_per_m": ("东向倾斜 tilt along x (east)", "mm/m", ("gx",)),
    "tilt_y_mm_per_m": ("北向倾斜 tilt along y (north)", "mm/m", ("gy",)),
    "tilt_max_mm_per_m": ("最大倾斜 maximum tilt |grad W|", "mm/m", ("gx", "gy")),
    "tilt_max_azimuth_deg": ("最大倾斜方位 azimuth of maximum tilt (toward more subsidence)", "deg", ("gx", "gy")),
    "curvature_x_1e-3_per_m": ("东向曲率 curvature along x", "1e-3/m", ("hxx",)),
    "curvature_y_1e-3_per_m": ("北向曲率 curvature along y", "1e-3/m", ("hyy",)),
    "curvature_max_1e-3_per_m": (
        "最大曲率 principal curvature of largest magnitude (signed)",
        "1e-3/m",
        ("hxx", "hxy", "hyy"),
    ),
    "displacement_x_mm": ("东向水平移动 horizontal displacement east", "mm", ("ux",)),
    "displacement_y_mm": ("北向水平移动 horizontal displacement north", "mm", ("uy",)),
    "displacement_max_mm": ("水平移动量 horizontal displacement magnitude", "mm", ("ux", "uy")),
    "strain_x_mm_per_m": ("东向水平变形 horizontal strain along x (+ extension)", "mm/m", ("jxx",)),
    "strain_y_mm_per_m": ("北向水平变形 horizontal strain along y (+ extension)", "mm/m", ("jyy",)),
    "strain_max_mm_per_m": (
        "最大水平变形 principal strain of largest magnitude (signed)",
        "mm/m",
        ("jxx", "jxy", "jyx", "jyy"),
    ),
}
DEFAULT_COMPONENTS = tuple(k for k in COMPONENTS if k != "tilt_max_azimuth_deg")


def required_base(components: Iterable[str]) -> tuple[str, ...]:
    need: set[str] = set()
    for c in components:
        if c not in COMPONENTS:
            raise ScienceInputError(f"unknown component {c!r}; choose from {', '.join(COMPONENTS)}")
        need.update(COMPONENTS[c][2])
    return tuple(b for b in BASE if b in need)


@dataclass
class Field:
    """Superposed surface movement, in map axes. Arrays share one shape (points: (n,), grid: (ny, nx))."""

    base: dict[str, np.ndarray]

    @property
    def shape(self) -> tuple[int, ...]:
        return next(iter(self.base.values())).shape

    @property
    def W(self) -> np.ndarray:
        """Subsidence in mm, positive downward."""
        return self.base["W"]

    def _b(self, k: str) -> np.ndarray:
        if k not in self.base:
            raise ScienceInputError(f"component needs {k!r}, which was not computed; request it in components=")
        return self.base[k]

    def component(self, name: str) -> np.ndarray:
        """A named output component (see :data:`COMPONENTS` for units)."""
        if name == "subsidence_mm":
            return self._b("W")
        if name == "tilt_x_mm_per_m":
            return self._b("gx")
        if name == "tilt_y_mm_per_m":
            return self._b("gy")
        if name == "tilt_max_mm_per_m":
            return np.hypot(self._b("gx"), self._b("gy"))
        if name == "tilt_max_azimuth_deg":
            return np.degrees(np.arctan2(self._b("gx"), self._b("gy"))) % 360.0
        if name == "curvature_x_1e-3_per_m":
            return self._b("hxx")
        if name == "curvature_y_1e-3_per_m":
            return self._b("hyy")
        if name == "curvature_max_1e-3_per_m":
            return _principal_signed(self._b("hxx"), self._b("hxy"), self._b("hyy"))
        if name == "displacement_x_mm":
            return self._b("ux")
        if name == "displacement_y_mm":
            return self._b("uy")
        if name == "displacement_max_mm":
            return np.hypot(self._b("ux"), self._b("uy"))
        if name == "strain_x_mm_per_m":
            return self._b("jxx")
        if name == "strain_y_mm_per_m":
            return self._b("jyy")
        if name == "strain_max_mm_per_m":
            exy = 0.5 * (self._b("jxy") + self._b("jyx"))
            return _principal_signed(self._b("jxx"), exy, self._b("jyy"))
        raise ScienceInputError(f"unknown component {name!r}; choose from {', '.join(COMPONENTS)}")

    def components(self, names: Sequence[str] = DEFAULT_COMPONENTS) -> dict[str, np.ndarray]:
        return {n: self.component(n) for n in names}

    def along(self, azimuth_deg: float) -> dict[str, np.ndarray]:
        """Directional tilt (mm/m), curvature (1e-3/m), displacement (mm) and strain (mm/m) along an azimuth
        (degrees clockwise from north; direction vector (sin A, cos A))."""
        s, c = math.sin(math.radians(azimuth_deg)), math.cos(math.radians(azimuth_deg))
        b = self.base
        out: dict[str, np.ndarray] = {}
        tag = f"{azimuth_deg:g}"
        if "gx" in b:
            out[f"tilt_az{tag}_mm_per_m"] = b["gx"] * s + b["gy"] * c
        if "hxx" in b:
            out[f"curvature_az{tag}_1e-3_per_m"] = b["hxx"] * s * s + 2 * b["hxy"] * s * c + b["hyy"] * c * c
        if "ux" in b:
            out[f"displacement_az{tag}_mm"] = b["ux"] * s + b["uy"] * c
        if "jxx" in b:
            out[f"strain_az{tag}_mm_per_m"] = b["jxx"] * s * s + (b["jxy"] + b["jyx"]) * s * c + b["jyy"] * c * c
        return out

    def __add__(self, other: Field) -> Field:
        keys = self.base.keys() & other.base.keys()
        return Field({k: self.base[k] + other.base[k] for k in BASE if k in keys})


def _principal_signed(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Eigenvalue of [[a, b], [b, c]] with the largest magnitude, keeping its sign."""
    m = 0.5 * (a + c)
    rad = np.hypot(0.5 * (a - c), b)
    l1, l2 = m + rad, m - rad
    return np.where(np.abs(l1) >= np.abs(l2), l1, l2)


def _local_quantities(
    pu_vals: dict, pv_vals: dict, w0: float, b: float, r_u: float, cot0: float, need: set[str], outer: bool
) -> dict[str, np.ndarray]:
    """Local-frame quantities from evaluated profiles (outer=True: v-values along rows, u along columns)."""

    def prod(pv: np.ndarray, pu: np.ndarray) -> np.ndarray:
        return np.multiply.outer(pv, pu) if outer else pv * pu

    q: dict[str, np.ndarray] = {}
    if need & {"W", "Uv"}:
        q["W"] = w0 * prod(pv_vals["P"], pu_vals["P"])
    if need & {"Wu", "Jvu"}:
        q["Wu"] = w0 * prod(pv_vals["P"], pu_vals["dP"])
    if need & {"Wv", "Jvv"}:
        q["Wv"] = w0 * prod(pv_vals["dP"], pu_vals["P"])
    if "Wuu" in need:
        q["Wuu"] = w0 * prod(pv_vals["P"], pu_vals["d2P"])
    if "Wuv" in need:
        q["Wuv"] = w0 * prod(pv_vals["dP"], pu_vals["dP"])
    if "Wvv" in need:
        q["Wvv"] = w0 * prod(pv_vals["d2P"], pu_vals["P"])
    if "Uu" in need:
        q["Uu"] = b * w0 * prod(pv_vals["P"], pu_vals["E"])
    if "Uv" in need:
        q["Uv"] = b * w0 * prod(pv_vals["E"], pu_vals["P"]) + cot0 * q["W"]
    if "Juu" in need:
        q["Juu"] = b * w0 * prod(pv_vals["P"], pu_vals["dE"])
    if "Juv" in need:
        q["Juv"] = b * w0 * prod(pv_vals["dP"], pu_vals["E"])
    if "Jvu" in need:
        q["Jvu"] = b * w0 * prod(pv_vals["E"], pu_vals["dP"]) + cot0 * q["Wu"]
    if "Jvv" in need:
        q["Jvv"] = b * w0 * prod(pv_vals["dE"], pu_vals["P"]) + cot0 * q["Wv"]
    return q


_LOCAL_FOR = {
    "W": ("W",),
    "gx": ("Wu", "Wv"),
    "gy": ("Wu", "Wv"),
    "hxx": ("Wuu", "Wuv", "Wvv"),
    "hxy": ("Wuu", "Wuv", "Wvv"),
    "hyy": ("Wuu", "Wuv", "Wvv"),
    "ux": ("Uu", "Uv"),
    "uy": ("Uu", "Uv"),
    "jxx": ("Juu", "Juv", "Jvu", "Jvv"),
    "jxy": ("Juu", "Juv", "Jvu", "Jvv"),
    "jyx": ("Juu", "Juv", "Jvu", "Jvv"),
    "jyy": ("Juu", "Juv", "Jvu", "Jvv"),
}


def _profile_orders(local_need: set[str]) -> tuple[set[str], set[str]]:
    """Which profile quantities (P, dP, d2P, E, dE) are needed along u and along v."""
    ou: set[str] = set()
    ov: set[str] = set()
    table = {
        "W": (("P",), ("P",)),
        "Wu": (("dP",), ("P",)),
        "Wv": (("P",), ("dP",)),
        "Wuu": (("d2P",), ("P",)),
        "Wuv": (("dP",), ("dP",)),
        "Wvv": (("P",), ("d2P",)),
        "Uu": (("E",), ("P",)),
        "Uv": (("P",), ("E", "P")),
        "Juu": (("dE",), ("P",)),
        "Juv": (("E",), ("dP",)),
        "Jvu": (("dP", "P"), ("E", "P")),
        "Jvv": (("P",), ("dE", "dP")),
    }
    for k in local_need:
        a, b = table[k]
        ou.update(a)
        ov.update(b)
    return ou, ov


def _rotate_into(
    acc: dict[str, np.ndarray],
    q: dict[str, np.ndarray],
    eu: np.ndarray,
    ev: np.ndarray,
    need_base: Sequence[str],
    index: Any = slice(None),
) -> None:
    """Add local quantities (u, v frame) to map-frame accumulators: grad = R g, H = R H R^T, J = R J R^T.

    Terms whose rotation coefficient is zero (axis-aligned panels) are skipped; slices add in place.
    """
    R = np.array([[eu[0], ev[0]], [eu[1], ev[1]]])
    in_place = isinstance(index, slice) or (isinstance(index, tuple) and all(isinstance(i, slice) for i in index))
    for k in need_base:
        if k == "W":
            terms = [(1.0, "W")]
        elif k in ("gx", "gy"):
            i = 0 if k == "gx" else 1
            terms = [(R[i, 0], "Wu"), (R[i, 1], "Wv")]
        elif k in ("ux", "uy"):
            i = 0 if k == "ux" else 1
            terms = [(R[i, 0], "Uu"), (R[i, 1], "Uv")]
        elif k in ("hxx", "hxy", "hyy"):
            i, j = {"hxx": (0, 0), "hxy": (0, 1), "hyy": (1, 1)}[k]
            terms = [
                (R[i, 0] * R[j, 0], "Wuu"),
                (R[i, 0] * R[j, 1] + R[i, 1] * R[j, 0], "Wuv"),
                (R[i, 1] * R[j, 1], "Wvv"),
            ]
        else:
            i, j = {"jxx": (0, 0), "jxy": (0, 1), "jyx": (1, 0), "jyy": (1, 1)}[k]
            terms = [
                (R[i, 0] * R[j, 0], "Juu"),
                (R[i, 0] * R[j, 1], "Juv"),
                (R[i, 1] * R[j, 0], "Jvu"),
                (R[i, 1] * R[j, 1], "Jvv"),
            ]
        terms = [(float(c), n) for c, n in terms if abs(c) > 1e-15]
        if not terms:
            continue
        if in_place:
            view = acc[k][index]
            for c, n in terms:
                if c == 1.0:
                    view += q[n]
                elif c == -1.0:
                    view -= q[n]
                else:
                    view += c * q[n]
        else:
            val = terms[0][0] * q[terms[0][1]]
            for c, n in terms[1:]:
                val += c * q[n]
            acc[k][index] += val


# --------------------------------------------------------------------------------------------------
# polygon panels: boundary-integral quadrature
# --------------------------------------------------------------------------------------------------
_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)


def _computational_polygon(panel: PanelGeometry, params: PIMParams) -> tuple[Any, float, float, np.ndarray]:
    """Computational polygon (shapely) for a non-rectangular panel, its r, W0 and the up-dip unit vector.

    The outline is shrunk by the mean inflection offset, then mapped along dip as the rectangle is:
    v' = -H1 cot(theta0) + v (1 + tan(alpha) cot(theta0)), v measured up-dip from the down-dip-most vertex.
    A single r = H0/tanβ (mean of r1, r2 when they differ) is used for polygons.
    """
    import shapely
    from shapely.geometry import Polygon

    poly = Polygon(panel.outline, [h for h in panel.holes])
    s = float(np.mean(params.offsets))
    if s > 0:
        poly = poly.buffer(-s, join_style="mitre")
        if poly.is_empty or poly.area <= 0:
            raise ScienceInputError(
                f"{panel.name or 'panel'}: inflection offset s={s} m leaves no computational panel; reduce s_m"
            )
    alpha = math.radians(panel.dip_deg)
    theta0 = math.radians(params.theta0_deg)
    cot0 = math.cos(theta0) / math.sin(theta0)
    ev = -_unit(panel.dip_azimuth_deg)
    if cot0 != 0.0:
        coords = np.asarray(panel.outline)
        vmin = float((coords @ ev).min())
        stretch = 1.0 + math.tan(alpha) * cot0
        shift = -float(panel.depth_dip_m) * cot0

        def f(xy: np.ndarray) -> np.ndarray:
            v = xy @ ev - vmin
            dv = shift + v * (stretch - 1.0)
            return xy + dv[:, None] * ev[None, :]

        poly = shapely.transform(poly, f)
    tb1, tb2 = params.tan_betas
    r = 0.5 * (float(panel.depth_dip_m) / tb1 + panel.rise_depth_m / tb2)
    return poly, r, panel.w0_mm(params), ev


def _quadrature_nodes(poly: Any, r: float, seg_per_r: float = 1.5) -> tuple[np.ndarray, ...]:
    """Gauss nodes (x, y) and weights for d x and d y along the oriented boundary of ``poly``."""
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    polys = poly.geoms if isinstance(poly, MultiPolygon) else [poly]
    xs, ys, wx, wy = [], [], [], []
    for p in polys:
        if not isinstance(p, Polygon) or p.is_empty:
            continue
        p = orient(p, sign=1.0)
        for ring in [p.exterior, *p.interiors]:
            c = np.asarray(ring.coords)[:, :2]
            a, b = c[:-1], c[1:]
            d = b - a
            length = np.hypot(d[:, 0], d[:, 1])
            nseg = np.maximum(1, np.ceil(length / (r / seg_per_r)).astype(int))
            for k in range(len(a)):
                if length[k] == 0:
                    continue
                t0 = np.arange(nseg[k]) / nseg[k]
                h = 1.0 / nseg[k]
                tt = (t0[:, None] + h * (_GL_X[None, :] + 1.0) / 2.0).ravel()
                ww = np.tile(_GL_W * h / 2.0, nseg[k])
                xs.append(a[k, 0] + tt * d[k, 0])
                ys.append(a[k, 1] + tt * d[k, 1])
                wx.append(ww * d[k, 0])
                wy.append(ww * d[k, 1])
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(wx), np.concatenate(wy)


def _polygon_field(
    nodes: tuple[np.ndarray, ...],
    r: float,
    w0: float,
    b: float,
    cot0: float,
    ev: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    need_base: Sequence[str],
    acc: dict[str, np.ndarray],
    weight: float = 1.0,
    chunk: int = 2048,
) -> None:
    """Add a polygon panel's field at points (x, y) (1-D) into ``acc`` (1-D arrays)."""
    xn, yn, wxn, wyn = nodes
    need = set(need_base)
    need_local = set()
    for k in need:
        need_local.update(
            {
                "W": {"W"},
                "gx": {"Wx", "Wy"},
                "gy": {"Wx", "Wy"},
                "hxx": {"Wxx", "Wxy", "Wyy"},
                "hxy": {"Wxx", "Wxy", "Wyy"},
                "hyy": {"Wxx", "Wxy", "Wyy"},
                "ux": {"Wx", "Wy", "W"},
                "uy": {"Wx", "Wy", "W"},
                "jxx": {"Wxx", "Wxy", "Wyy", "Wx", "Wy"},
                "jxy": {"Wxx", "Wxy", "Wyy", "Wx", "Wy"},
                "jyx": {"Wxx", "Wxy", "Wyy", "Wx", "Wy"},
                "jyy": {"Wxx", "Wxy", "Wyy", "Wx", "Wy"},
            }[k]
        )
    c = weight * w0 / r**2
    k2 = 2.0 * math.pi / r**2
    cut = WINDOW_R * r
    order = np.argsort(y, kind="stable")
    for s0 in range(0, len(order), chunk):
        idx = order[s0 : s0 + chunk]
        px, py = x[idx], y[idx]
        sel = (yn >= py.min() - cut) & (yn <= py.max() + cut)
        if not np.any(sel):
            continue
        dxn = xn[sel][None, :] - px[:, None]
        dyn = yn[sel][None, :] - py[:, None]
        wx, wy = wxn[sel], wyn[sel]
        ey = np.exp(-math.pi * (dyn / r) ** 2)
        q: dict[str, np.ndarray] = {}
        if "W" in need_local:
            q["W"] = c * ((0.5 * r) * erf(SQRT_PI * dxn / r) * ey) @ wy
        if need_local - {"W"}:
            g = np.exp(-math.pi * (dxn / r) ** 2) * ey
            if "Wx" in need_local:
                q["Wx"] = -c * (g @ wy)
            if "Wy" in need_local:
                q["Wy"] = c * (g @ wx)
            if "Wxx" in need_local:
                q["Wxx"] = -c * k2 * ((dxn * g) @ wy)
                q["Wxy"] = -c * k2 * ((dyn * g) @ wy)
                q["Wyy"] = c * k2 * ((dyn * g) @ wx)
        # map-frame quantities directly (the polygon is integrated in map axes)
        for kk in need:
            if kk == "W":
                val = q["W"]
            elif kk == "gx":
                val = q["Wx"]
            elif kk == "gy":
                val = q["Wy"]
            elif kk == "hxx":
                val = q["Wxx"]
            elif kk == "hxy":
                val = q["Wxy"]
            elif kk == "hyy":
                val = q["Wyy"]
            elif kk in ("ux", "uy"):
                i = 0 if kk == "ux" else 1
                val = b * r * q["Wx" if i == 0 else "Wy"] + cot0 * ev[i] * q["W"]
            else:  # J_ij = b r H_ij + cot0 ev_i dW/dx_j
                i, j = {"jxx": (0, 0), "jxy": (0, 1), "jyx": (1, 0), "jyy": (1, 1)}[kk]
                hk = {(0, 0): "Wxx", (0, 1): "Wxy", (1, 0): "Wxy", (1, 1): "Wyy"}[(i, j)]
                val = b * r * q[hk] + cot0 * ev[i] * q["Wx" if j == 0 else "Wy"]
            acc[kk][idx] += val


# --------------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------------
def _as_panels(panels: PanelGeometry | Iterable[PanelGeometry]) -> list[PanelGeometry]:
    if isinstance(panels, PanelGeometry):
        return [panels]
    out = list(panels)
    if not out:
        raise ScienceInputError("no panels to predict from")
    for p in out:
        if not isinstance(p, PanelGeometry):
            raise ScienceInputError(f"expected PanelGeometry, got {type(p).__name__}")
    return out


def _components_or_default(components: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(DEFAULT_COMPONENTS if components is None else components)


def predict_points(
    panels: PanelGeometry | Iterable[PanelGeometry],
    params: PIMParams,
    x: Any,
    y: Any,
    *,
    at: date | np.datetime64 | None = None,
    time_function: Any = None,
    components: Sequence[str] | None = None,
) -> Field:
    """Superposed movement at points ``(x, y)`` (metres, same projected CRS as the panels).

    ``at``: date of a dynamic prediction (face advance + time function); None -> final static basin.
    ``components``: output component names (default: all of :data:`DEFAULT_COMPONENTS`); only the
    base quantities they need are computed. Returns a :class:`Field` of arrays shaped like ``x``.
    """
    plist = _as_panels(panels)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ScienceInputError(f"x and y must have the same shape ({x.shape} vs {y.shape})")
    shape = x.shape
    xf, yf = x.ravel(), y.ravel()
    need_base = required_base(_components_or_default(components))
    acc = {k: np.zeros(xf.shape) for k in need_base}
    for p in plist:
        for part in _panel_parts(p, params, at, time_function):
            _add_part_points(part, params, xf, yf, need_base, acc)
    return Field({k: v.reshape(shape) for k, v in acc.items()})


def grid_memory_mb(nx: int, ny: int, n_base: int) -> float:
    """Peak memory estimate of a grid prediction in MiB (accumulators + temporaries, float64)."""
    return nx * ny * 8 * (n_base + 6) / 2**20


def predict_grid(
    panels: PanelGeometry | Iterable[PanelGeometry],
    params: PIMParams,
    x: Any,
    y: Any,
    *,
    at: date | np.datetime64 | None = None,
    time_function: Any = None,
    components: Sequence[str] | None = None,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
) -> Field:
    """Superposed movement on the grid of cell centres ``x`` (nx,) by ``y`` (ny,); arrays are (ny, nx).

    Raises :class:`ScienceInputError` before any work when the grid would exceed ``memory_budget_mb``.
    Rectangles aligned with the grid axes are summed by matrix products per orientation group; rotated
    rectangles and polygons are evaluated inside their influence window only.
    """
    plist = _as_panels(panels)
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    need_base = required_base(_components_or_default(components))
    est = grid_memory_mb(len(x), len(y), len(need_base))
    if est > memory_budget_mb:
        raise ScienceInputError(
            f"prediction grid {len(x)} x {len(y)} with {len(need_base)} quantities needs ~{est:.0f} MiB, over "
            f"the budget of {memory_budget_mb:.0f} MiB; use a coarser --spacing, a smaller extent or fewer "
            "components"
        )
    acc = {k: np.zeros((len(y), len(x))) for k in need_base}
    groups: dict[tuple, list] = {}
    others = []
    for p in plist:
        for part in _panel_parts(p, params, at, time_function):
            if part.kind == "rect":
                axis = _grid_axis(part.R.eu, part.R.ev)
                if axis is not None:
                    groups.setdefault(axis, []).append(part)
                    continue
            others.append(part)
    for axis, parts in groups.items():
        _add_group_aligned(parts, axis, x, y, need_base, acc)
    for part in others:
        _add_part_grid_window(part, params, x, y, need_base, acc)
    return Field(acc)


# -- parts: one panel may be several parts (dynamic polygons: strips) --------------------------------
@dataclass
class _Part:
    kind: str  # "rect" | "poly"
    w0: float
    b: float
    cot0: float
    rect: _Rect | None = None
    pu: Profile | None = None
    pv: Profile | None = None
    nodes: tuple | None = None
    r: float = 0.0
    ev: np.ndarray | None = None
    weight: float = 1.0
    bbox: tuple[float, float, float, float] | None = None

    # typed views of the fields a part of each kind always has (a "rect" part: rect, pu, pv; a "poly" part:
    # nodes, ev, bbox)
    @property
    def R(self) -> _Rect:
        assert self.rect is not None
        return self.rect

    @property
    def PU(self) -> Profile:
        assert self.pu is not None
        return self.pu

    @property
    def PV(self) -> Profile:
        assert self.pv is not None
        return self.pv

    @property
    def NODES(self) -> tuple:
        assert self.nodes is not None
        return self.nodes

    @property
    def EV(self) -> np.ndarray:
        assert self.ev is not None
        return self.ev

    @property
    def BBOX(self) -> tuple[float, float, float, float]:
        assert self.bbox is not None
        return self.bbox


def _panel_parts(panel: PanelGeometry, params: PIMParams, at: Any, time_function: Any) -> list[_Part]:
    from subsidence.science import advance

    rect = panel.as_rectangle()
    theta0 = math.radians(params.theta0_deg)
    cot0 = math.cos(theta0) / math.sin(theta0)
    w0 = panel.w0_mm(params)
    if rect is not None:
        uw = vw = None
        if at is not None:
            axis, weights = advance.rectangle_strip_weights(panel, rect, params, at, time_function)
            if weights is None:
                return []
            if axis == "u":
                uw = weights
            else:
                vw = weights
        pu, pv, cot0 = _panel_profiles(rect, panel, params, uw, vw)
        return [_Part("rect", w0, params.b, cot0, rect=rect, pu=pu, pv=pv)]
    poly, r, w0, ev = _computational_polygon(panel, params)
    pieces = [(poly, 1.0)] if at is None else advance.polygon_strips(panel, poly, params, at, time_function)
    parts = []
    for geom, weight in pieces:
        if weight == 0.0 or geom.is_empty:
            continue
        nodes = _quadrature_nodes(geom, r)
        minx, miny, maxx, maxy = geom.bounds
        pad = WINDOW_R * r
        parts.append(
            _Part(
                "poly",
                w0,
                params.b,
                cot0,
                nodes=nodes,
                r=r,
                ev=ev,
                weight=weight,
                bbox=(minx - pad, miny - pad, maxx + pad, maxy + pad),
            )
        )
    return parts


def _local_need(need_base: Sequence[str]) -> set[str]:
    s: set[str] = set()
    for k in need_base:
        s.update(_LOCAL_FOR[k])
    return s


def _add_part_points(
    part: _Part, params: PIMParams, x: np.ndarray, y: np.ndarray, need_base: Sequence[str], acc: dict[str, np.ndarray]
) -> None:
    if part.kind == "poly":
        x0, y0, x1, y1 = part.BBOX
        inside = np.nonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))[0]
        if len(inside) == 0:
            return
        sub = {k: np.zeros(len(inside)) for k in need_base}
        _polygon_field(
            part.NODES,
            part.r,
            part.w0,
            part.b,
            part.cot0,
            part.EV,
            x[inside],
            y[inside],
            need_base,
            sub,
            weight=part.weight,
        )
        for k in need_base:
            acc[k][inside] += sub[k]
        return
    u, v = part.R.to_local(x, y)
    lo_u, hi_u = part.PU.span
    lo_v, hi_v = part.PV.span
    # W (and U_v through cot0 W) vanish outside the window; the cot0 term is carried by W itself.
    m = np.nonzero((u >= lo_u) & (u <= hi_u) & (v >= lo_v) & (v <= hi_v))[0]
    if len(m) == 0:
        return
    need_local = _local_need(need_base)
    ou, ov = _profile_orders(need_local)
    pu_vals = part.PU.evaluate(u[m], ou)
    pv_vals = part.PV.evaluate(v[m], ov)
    q = _local_quantities(pu_vals, pv_vals, part.w0, part.b, 0.0, part.cot0, need_local, outer=False)
    _rotate_into(acc, q, part.R.eu, part.R.ev, need_base, index=m)


def _grid_axis(eu: np.ndarray, ev: np.ndarray, tol: float = 1e-12) -> tuple | None:
    """(u along 'x' or 'y', sign_u, sign_v) when the local axes are the grid axes, else None."""
    if abs(eu[1]) < tol and abs(ev[0]) < tol:
        return ("x", float(np.sign(eu[0])), float(np.sign(ev[1])))
    if abs(eu[0]) < tol and abs(ev[1]) < tol:
        return ("y", float(np.sign(eu[1])), float(np.sign(ev[0])))
    return None


def _add_group_aligned(
    parts: list[_Part], axis: tuple, x: np.ndarray, y: np.ndarray, need_base: Sequence[str], acc: dict[str, np.ndarray]
) -> None:
    """Panels whose local axes are the grid axes: every local quantity is a sum of outer products,
    computed for the whole group as one matrix product (rows: y, columns: x)."""
    u_along_x = axis[0] == "x"
    need_local = _local_need(need_base)
    ou, ov = _profile_orders(need_local)
    # table of (local quantity) -> (coefficient key, v-quantity, u-quantity)
    terms = {
        "W": [("w0", "P", "P")],
        "Wu": [("w0", "P", "dP")],
        "Wv": [("w0", "dP", "P")],
        "Wuu": [("w0", "P", "d2P")],
        "Wuv": [("w0", "dP", "dP")],
        "Wvv": [("w0", "d2P", "P")],
        "Uu": [("bw0", "P", "E")],
        "Uv": [("bw0", "E", "P"), ("cw0", "P", "P")],
        "Juu": [("bw0", "P", "dE")],
        "Juv": [("bw0", "dP", "E")],
        "Jvu": [("bw0", "E", "dP"), ("cw0", "P", "dP")],
        "Jvv": [("bw0", "dE", "P"), ("cw0", "dP", "P")],
    }
    # evaluate each part's profiles along the grid's 1-D axes, with windows
    ev_u, ev_v = [], []
    for part in parts:
        u_coord = (x - part.R.origin[0]) * part.R.eu[0] if u_along_x else (y - part.R.origin[1]) * part.R.eu[1]
        v_coord = (y - part.R.origin[1]) * part.R.ev[1] if u_along_x else (x - part.R.origin[0]) * part.R.ev[0]
        ev_u.append(_windowed(part.PU, u_coord, ou))
        ev_v.append(_windowed(part.PV, v_coord, ov))
    q: dict[str, np.ndarray] = {}
    for name in need_local:
        total = None
        for coef, vq, uq in terms[name]:
            c = np.array([{"w0": p.w0, "bw0": p.b * p.w0, "cw0": p.cot0 * p.w0}[coef] for p in parts])
            if not np.any(c):
                continue
            V = np.stack([e[vq] for e in ev_v], axis=1) * c[None, :]  # (n_v, P)
            U = np.stack([e[uq] for e in ev_u], axis=0)  # (P, n_u)
            mat = V @ U  # (n_v, n_u)
            total = mat if total is None else total + mat
        if total is None:
            n_v = len(y) if u_along_x else len(x)
            n_u = len(x) if u_along_x else len(y)
            total = np.zeros((n_v, n_u))
        q[name] = total if u_along_x else total.T
        del total
    eu, ev = parts[0].R.eu, parts[0].R.ev
    _rotate_into(acc, q, eu, ev, need_base)


def _windowed(profile: Profile, t: np.ndarray, orders: set[str]) -> dict[str, np.ndarray]:
    lo, hi = profile.span
    m = (t >= lo) & (t <= hi)
    out = {k: np.zeros_like(t) for k in orders}
    if np.any(m):
        vals = profile.evaluate(t[m], orders)
        for k in orders:
            out[k][m] = vals[k]
    return out


def _add_part_grid_window(
    part: _Part, params: PIMParams, x: np.ndarray, y: np.ndarray, need_base: Sequence[str], acc: dict[str, np.ndarray]
) -> None:
    """A rotated rectangle or a polygon: evaluate only the grid cells inside its influence window."""
    if part.kind == "rect":
        lo_u, hi_u = part.PU.span
        lo_v, hi_v = part.PV.span
        corners = np.array([part.R.origin + a * part.R.eu + b * part.R.ev for a in (lo_u, hi_u) for b in (lo_v, hi_v)])
        bx0, by0 = corners.min(axis=0)
        bx1, by1 = corners.max(axis=0)
    else:
        bx0, by0, bx1, by1 = part.BBOX
    ix = np.nonzero((x >= bx0) & (x <= bx1))[0]
    iy = np.nonzero((y >= by0) & (y <= by1))[0]
    if len(ix) == 0 or len(iy) == 0:
        return
    sx = slice(ix.min(), ix.max() + 1)
    sy = slice(iy.min(), iy.max() + 1)
    if part.kind == "rect" and len(need_base) > 3:
        # many quantities: evaluate on the whole bounding box (profiles are exactly 0 outside the window)
        # and add through slices, which beats masking + scattering a dozen arrays
        r = part.R
        xs, ys = x[sx] - r.origin[0], y[sy] - r.origin[1]
        u = ys[:, None] * r.eu[1] + xs[None, :] * r.eu[0]
        v = ys[:, None] * r.ev[1] + xs[None, :] * r.ev[0]
        need_local = _local_need(need_base)
        ou, ov = _profile_orders(need_local)
        q = _local_quantities(
            part.PU.evaluate(u, ou), part.PV.evaluate(v, ov), part.w0, part.b, 0.0, part.cot0, need_local, outer=False
        )
        _rotate_into(acc, q, r.eu, r.ev, need_base, index=(sy, sx))
        return
    xx, yy = np.meshgrid(x[sx], y[sy])
    sub = {k: np.zeros(xx.size) for k in need_base}
    _add_part_points(part, params, xx.ravel(), yy.ravel(), need_base, sub)
    for k in need_base:
        acc[k][sy, sx] += sub[k].reshape(xx.shape)


def dip_axis_warnings(panels: Iterable[PanelGeometry], limit_deg: float = 10.0) -> list[str]:
    """Messages for inclined rectangular panels whose dip direction is more than ``limit_deg`` off the panel
    axes (the rectangle formula then takes the nearest axis as the dip direction)."""
    bad = []
    for p in panels:
        rect = p.as_rectangle()
        if rect is not None and p.dip_deg > 0.5 and rect.dip_offset_deg > limit_deg:
            bad.append((p.name or "?", rect.dip_offset_deg))
    if not bad:
        return []
    worst = max(bad, key=lambda t: t[1])
    return [
        (
            f"{len(bad)} inclined panel(s) have a dip direction more than {limit_deg:g} deg off their sides (up to "
            f"{worst[1]:.0f} deg, panel {worst[0]}); the nearest side is used as the dip direction"
        )
    ]


def grid_axes(bounds: tuple[float, float, float, float], spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre coordinates (x ascending, y descending, north-up) covering ``bounds`` at ``spacing`` m."""
    if not spacing > 0:
        raise ScienceInputError(f"grid spacing {spacing!r} must be > 0 m")
    minx, miny, maxx, maxy = bounds
    x0 = math.floor(minx / spacing) * spacing
    y1 = math.ceil(maxy / spacing) * spacing
    nx = max(1, math.ceil((maxx - x0) / spacing))
    ny = max(1, math.ceil((y1 - miny) / spacing))
    return x0 + spacing * (np.arange(nx) + 0.5), y1 - spacing * (np.arange(ny) + 0.5)


def influence_bounds(
    panels: Iterable[PanelGeometry], params: PIMParams, margin_r: float = 3.0
) -> tuple[float, float, float, float]:
    """Bounding box (m) of the panels grown by ``margin_r`` main-influence radii (plus the dip shift)."""
    xs0, ys0, xs1, ys1 = [], [], [], []
    theta0 = math.radians(params.theta0_deg)
    cot0 = math.cos(theta0) / math.sin(theta0)
    for p in _as_panels(panels):
        r = max(p.depth_dip_m / params.tan_betas[0], p.rise_depth_m / params.tan_betas[1])
        pad = margin_r * r + max(p.depth_dip_m, p.rise_depth_m) * cot0
        xs0.append(p.outline[:, 0].min() - pad)
        ys0.append(p.outline[:, 1].min() - pad)
        xs1.append(p.outline[:, 0].max() + pad)
        ys1.append(p.outline[:, 1].max() + pad)
    return min(xs0), min(ys0), max(xs1), max(ys1)
