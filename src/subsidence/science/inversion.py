"""Fit probability-integral parameters (q, tanβ, b, θ0, s) to observed displacement.

Observations: levelling / GNSS points (vertical subsidence and/or horizontal east/north displacement) and
InSAR line-of-sight values with their LOS unit vector (ground -> satellite, east/north/up; LOS positive
toward the satellite, so a sinking point has LOS = -W * e_up + U . e_h < 0).

Method: bounded non-linear least squares (scipy ``least_squares``, trust-region reflective) on residuals
weighted by 1/sigma, with a robust loss (``soft_l1`` by default, ``huber`` available) and several starts
(the initial guess plus a seeded Latin hypercube over the bounds); the best start wins. Uncertainties come
from the Jacobian at the solution: cov = s^2 (J^T J)^-1 with s^2 the weighted residual variance.

Resolvability (refuse or warn rather than report noise as a result):
* b needs horizontal information: GNSS/levelling horizontal components, or LOS from at least two distinct
  geometries. With vertical-only data or one LOS geometry, b is **fixed** (at the initial value) and the
  result says so.
* θ0 only matters for inclined seams; with every panel flat (dip < 1 deg) it is fixed at the initial value.
* After the fit, a parameter whose standard deviation exceeds half its value, or that lies in the null space
  of the Jacobian, is reported as not resolved (warning).

Honest uncertainties:
* ``noise="independent"`` (default) treats every value's error as independent. Levelling lines and InSAR
  share errors between neighbours (benchmark ties, atmosphere); then the Jacobian standard deviations are about
  half the real spread. ``noise="correlated"`` fits an exponential covariance
  C(d) = sigma_c^2 exp(-d / L) + sigma_n^2 [d = 0] to the residuals of the first fit (per observation set and
  component; L fitted or given as ``correlation_length_m``), refits by generalised least squares on residuals
  whitened with its Cholesky factor, and reports (J^T C^-1 J)^-1. Sets larger than ``max_gls`` values are
  subsampled (seeded) for the GLS step. The fitted model is in ``InversionResult.noise``.
* A parameter held fixed is not known exactly. ``fixed_sigma`` (name -> 1-sigma) propagates its error into the
  fitted parameters: cov += g g^T with g half the change of the fitted parameters when the fixed one is moved
  by +/- 1 sigma (two refits from the solution; under a robust loss this is smaller, and closer to the
  Monte-Carlo spread, than the linearised -(J^T J)^-1 J^T dr/d(fixed) sigma). When b
  is fixed because the data cannot resolve it (vertical only, one LOS geometry), its error is propagated with
  :data:`B_SIGMA_WHEN_FIXED` unless ``fixed_sigma`` says otherwise; ``std_fit`` keeps the part from the noise
  alone and ``fixed_sigma`` lists what was propagated.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from subsidence.science.pim import (
    PanelGeometry,
    PIMParams,
    ScienceInputError,
    predict_points,
)

log = logging.getLogger(__name__)

FITTABLE = ("q", "tan_beta", "b", "theta0_deg", "s_m")
NOISE_MODELS = ("independent", "correlated")
#: 1-sigma of b propagated when b must be fixed (Shendong practice b ~ 0.3, published 0.2-0.4) [verify].
B_SIGMA_WHEN_FIXED = 0.08


@dataclass
class PointObservations:
    """Levelling / GNSS points: x, y (m); subsidence_mm (positive down), east_mm, north_mm (horizontal
    displacement); sigmas (mm, scalar or per point). Any of the three value arrays may be None."""

    x: Any
    y: Any
    subsidence_mm: Any = None
    east_mm: Any = None
    north_mm: Any = None
    sigma_vertical_mm: Any = 5.0
    sigma_horizontal_mm: Any = 10.0
    name: str = "points"

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=float).ravel()
        self.y = np.asarray(self.y, dtype=float).ravel()
        n = len(self.x)
        if len(self.y) != n or n == 0:
            raise ScienceInputError(f"{self.name}: x and y must be non-empty and of equal length")
        for k in ("subsidence_mm", "east_mm", "north_mm"):
            v = getattr(self, k)
            if v is not None:
                v = np.asarray(v, dtype=float).ravel()
                if len(v) != n:
                    raise ScienceInputError(f"{self.name}: {k} has {len(v)} values for {n} points")
                setattr(self, k, v)
        if self.subsidence_mm is None and self.east_mm is None and self.north_mm is None:
            raise ScienceInputError(f"{self.name}: no observed values (subsidence_mm, east_mm or north_mm)")

    @property
    def has_horizontal(self) -> bool:
        return self.east_mm is not None or self.north_mm is not None


def los_unit_vector(incidence_deg: Any, heading_deg: Any, looking: str = "right") -> np.ndarray:
    """Ground-to-satellite unit vector (east, north, up) from incidence angle and platform heading.

    incidence_deg: angle from the vertical at the ground; heading_deg: flight direction clockwise from north
    (about -10/350 ascending, 190 descending for Sentinel-1); ``looking``: "right" (Sentinel-1) or "left".
    """
    inc = np.radians(np.asarray(incidence_deg, dtype=float))
    head = np.radians(np.asarray(heading_deg, dtype=float))
    side = 1.0 if looking == "right" else -1.0
    # the satellite sits opposite the look direction (heading + 90 deg for right-looking)
    e = -side * np.sin(inc) * np.cos(head)
    n = side * np.sin(inc) * np.sin(head)
    u = np.cos(inc)
    return np.stack(np.broadcast_arrays(e, n, u), axis=-1)


@dataclass
class LOSObservations:
    """InSAR line-of-sight displacement (mm, positive toward the satellite) at x, y (m), with the
    ground-to-satellite unit vector ``unit_enu`` ((3,) for all points or (n, 3)) and sigma (mm)."""

    x: Any
    y: Any
    los_mm: Any
    unit_enu: Any
    sigma_mm: Any = 5.0
    name: str = "los"

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=float).ravel()
        self.y = np.asarray(self.y, dtype=float).ravel()
        self.los_mm = np.asarray(self.los_mm, dtype=float).ravel()
        n = len(self.x)
        if len(self.y) != n or len(self.los_mm) != n or n == 0:
            raise ScienceInputError(f"{self.name}: x, y, los_mm must be non-empty and of equal length")
        u = np.asarray(self.unit_enu, dtype=float)
        if u.shape == (3,):
            u = np.broadcast_to(u, (n, 3)).copy()
        if u.shape != (n, 3):
            raise ScienceInputError(f"{self.name}: unit_enu must be (3,) or ({n}, 3), got {u.shape}")
        norm = np.linalg.norm(u, axis=1)
        if np.any(np.abs(norm - 1.0) > 1e-3):
            raise ScienceInputError(
                f"{self.name}: unit_enu rows must be unit vectors (|e| = 1); got norms "
                f"{norm.min():.3f}..{norm.max():.3f}"
            )
        if np.any(u[:, 2] <= 0):
            raise ScienceInputError(f"{self.name}: unit_enu must point from the ground up to the satellite (up > 0)")
        self.unit_enu = u

    @classmethod
    def from_geometry(
        cls, x: Any, y: Any, los_mm: Any, incidence_deg: Any, heading_deg: Any, **kw: Any
    ) -> LOSObservations:
        return cls(x, y, los_mm, los_unit_vector(incidence_deg, heading_deg), **kw)

    def geometries(self, tol_deg: float = 5.0) -> int:
        """Number of distinct viewing geometries (unit vectors more than ``tol_deg`` apart)."""
        reps: list[np.ndarray] = []
        cos_tol = math.cos(math.radians(tol_deg))
        for u in np.unique(np.round(self.unit_enu, 3), axis=0):
            if not any(float(u @ r) / (np.linalg.norm(u) * np.linalg.norm(r)) > cos_tol for r in reps):
                reps.append(u)
        return len(reps)


Observation = PointObservations | LOSObservations


@dataclass
class InversionResult:
    """Fitted parameters with 1-sigma uncertainties, residuals and the decisions taken."""

    params: PIMParams
    std: dict[str, float]
    correlation: dict[str, dict[str, float]]
    fixed: dict[str, str]  # name -> reason
    warnings: list[str]
    residuals: dict[str, np.ndarray]  # set name -> predicted - observed (mm), per value
    rms_mm: float  # weighted-free RMS of all residuals, mm
    rms_mm_by_set: dict[str, float]
    cost: float
    n_obs: int
    starts: list[dict[str, Any]] = field(default_factory=list)
    resolved: dict[str, bool] = field(default_factory=dict)
    #: standard deviations from the observation noise alone (``std`` adds the propagated fixed-parameter error)
    std_fit: dict[str, float] = field(default_factory=dict)
    #: fixed parameters whose error was propagated: name -> 1-sigma
    fixed_sigma: dict[str, float] = field(default_factory=dict)
    #: the noise model: {"kind": "independent"} or the fitted correlated model per set
    noise: dict[str, Any] = field(default_factory=dict)
    #: sum of squared residuals in the fit's own metric (divided by sigma, or whitened), and how many values
    chi2: float = float("nan")
    n_fit: int = 0

    def to_json(self) -> dict[str, Any]:
        """PARAMS.json content: the parameters (readable by ``PIMParams.from_dict``) plus an ``inversion`` block."""
        out: dict[str, Any] = dict(self.params.to_dict())
        out["inversion"] = {
            "std": self.std,
            "resolved": self.resolved,
            "fixed": self.fixed,
            "warnings": self.warnings,
            "rms_mm": self.rms_mm,
            "rms_mm_by_set": self.rms_mm_by_set,
            "n_obs": self.n_obs,
            "cost": self.cost,
            "correlation": self.correlation,
            "starts": self.starts,
            "std_fit": self.std_fit,
            "fixed_sigma": self.fixed_sigma,
            "noise": self.noise,
        }
        return out


def _default_bounds(panels: Sequence[PanelGeometry]) -> dict[str, tuple[float, float]]:
    h = min(p.mean_depth_m for p in panels)
    widths = []
    for p in panels:
        rect = p.as_rectangle()
        if rect is not None:
            widths.append(min(rect.len_u, rect.len_v))
        else:
            from shapely.geometry import Polygon

            mrr = np.asarray(Polygon(p.outline).minimum_rotated_rectangle.exterior.coords)
            widths.append(float(min(np.linalg.norm(mrr[1] - mrr[0]), np.linalg.norm(mrr[2] - mrr[1]))))
    s_max = max(1.0, min(0.3 * h, 0.4 * min(widths)))
    return {"q": (0.05, 1.5), "tan_beta": (0.8, 5.0), "b": (0.01, 1.0), "theta0_deg": (45.0, 90.0), "s_m": (0.0, s_max)}


def _predict_obs(
    panels: Sequence[PanelGeometry],
    params: PIMParams,
    obs: Sequence[Observation],
    at: Any = None,
    time_function: Any = None,
) -> list[np.ndarray]:
    out = []
    kw = {"at": at, "time_function": time_function}
    for o in obs:
        if isinstance(o, PointObservations):
            comps = []
            if o.subsidence_mm is not None:
                comps.append("subsidence_mm")
            if o.east_mm is not None:
                comps.append("displacement_x_mm")
            if o.north_mm is not None:
                comps.append("displacement_y_mm")
            f = predict_points(panels, params, o.x, o.y, components=comps, **kw)
            vals = []
            if o.subsidence_mm is not None:
                vals.append(f.component("subsidence_mm"))
            if o.east_mm is not None:
                vals.append(f.component("displacement_x_mm"))
            if o.north_mm is not None:
                vals.append(f.component("displacement_y_mm"))
            out.append(np.concatenate(vals))
        else:
            f = predict_points(
                panels, params, o.x, o.y, components=("subsidence_mm", "displacement_x_mm", "displacement_y_mm"), **kw
            )
            u = o.unit_enu
            out.append(f.base["ux"] * u[:, 0] + f.base["uy"] * u[:, 1] - f.base["W"] * u[:, 2])
    return out


def _observed_and_sigma(obs: Sequence[Observation]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    vals, sig = [], []
    for o in obs:
        if isinstance(o, PointObservations):
            v, s = [], []
            n = len(o.x)
            if o.subsidence_mm is not None:
                v.append(o.subsidence_mm)
                s.append(np.broadcast_to(np.asarray(o.sigma_vertical_mm, dtype=float), (n,)))
            for comp in (o.east_mm, o.north_mm):
                if comp is not None:
                    v.append(comp)
                    s.append(np.broadcast_to(np.asarray(o.sigma_horizontal_mm, dtype=float), (n,)))
            vals.append(np.concatenate(v))
            sig.append(np.concatenate(s))
        else:
            vals.append(o.los_mm)
            sig.append(np.broadcast_to(np.asarray(o.sigma_mm, dtype=float), o.los_mm.shape))
    for sg in sig:
        if np.any(~(sg > 0)):
            raise ScienceInputError("observation sigmas must be > 0 mm")
    return vals, sig


def invert(
    panels: PanelGeometry | Iterable[PanelGeometry],
    observations: Observation | Sequence[Observation],
    *,
    initial: PIMParams | None = None,
    fit: Sequence[str] = FITTABLE,
    fixed: dict[str, float] | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
    loss: str = "soft_l1",
    f_scale: float = 2.0,
    n_starts: int = 8,
    seed: int = 0,
    max_obs: int = 20000,
    at: Any = None,
    time_function: Any = None,
    noise: str = "independent",
    correlation_length_m: float | None = None,
    fixed_sigma: dict[str, float] | None = None,
    max_gls: int = 2500,
    covariance: tuple[float, float, float] | None = None,
) -> InversionResult:
    """Fit PIM parameters to observations; see the module docstring for method and resolvability rules.

    panels: the panels whose mining caused the observed (final or current) displacement; observations: one or
    more :class:`PointObservations` / :class:`LOSObservations` (same CRS as the panels); initial: start
    values and values of the fixed parameters (default q=0.7, tanβ=2.2, b=0.3, θ0=90, s=0); fit: names to fit;
    fixed: name -> value to hold; bounds: name -> (low, high); loss: ``soft_l1`` | ``huber`` | ``linear``;
    f_scale: robust-loss scale in units of sigma; n_starts: starts (initial guess + n_starts-1 Latin hypercube);
    max_obs: larger observation sets are subsampled (seeded) to this many values per set; at /
    time_function: observations taken on date ``at`` while mining advances (dynamic model, see
    :mod:`subsidence.science.dynamics`); None -> the final static basin. noise: ``independent`` |
    ``correlated`` (fitted exponential covariance and GLS, ``correlation_length_m`` fixes L, sets above
    ``max_gls`` values are subsampled); fixed_sigma: name -> 1-sigma of a fixed parameter, propagated into the
    fitted ones (b fixed for lack of horizontal information gets :data:`B_SIGMA_WHEN_FIXED` by default);
    covariance: (sigma_c mm, sigma_n mm, L m) to use with ``noise="correlated"`` instead of fitting one (the same
    noise model for several candidate fits makes their ``chi2`` comparable).
    """
    from scipy.optimize import least_squares
    from scipy.stats import qmc

    plist = [panels] if isinstance(panels, PanelGeometry) else list(panels)
    if not plist:
        raise ScienceInputError("no panels to invert against")
    obs = [observations] if isinstance(observations, (PointObservations, LOSObservations)) else list(observations)
    if not obs:
        raise ScienceInputError("no observations")
    if loss not in ("soft_l1", "huber", "linear", "cauchy", "arctan"):
        raise ScienceInputError(f"loss {loss!r}: use soft_l1 or huber")
    if noise not in NOISE_MODELS:
        raise ScienceInputError(f"noise {noise!r}: choose from {', '.join(NOISE_MODELS)}")
    if correlation_length_m is not None and not correlation_length_m > 0:
        raise ScienceInputError(f"correlation_length_m={correlation_length_m!r} must be > 0 m")
    if covariance is not None and (len(covariance) != 3 or not all(math.isfinite(v) and v > 0 for v in covariance)):
        raise ScienceInputError(f"covariance={covariance!r}: give (sigma_c mm, sigma_n mm, L m), all > 0")
    fsig = {k: float(v) for k, v in (fixed_sigma or {}).items()}
    for k, v in fsig.items():
        if k not in FITTABLE or not (math.isfinite(v) and v >= 0):
            raise ScienceInputError(
                f"fixed_sigma {k}={v!r}: give a parameter from {', '.join(FITTABLE)} and a 1-sigma >= 0"
            )
    rng = np.random.default_rng(seed)
    obs = [_subsample(o, max_obs, rng) for o in obs]
    initial = initial or PIMParams(q=0.7, tan_beta=2.2, b=0.3, theta0_deg=90.0, s_m=0.0)
    unknown = set(fit) - set(FITTABLE)
    if unknown:
        raise ScienceInputError(f"cannot fit {sorted(unknown)}; fittable: {', '.join(FITTABLE)}")
    fixed_reason: dict[str, str] = {}
    from subsidence.science.pim import dip_axis_warnings

    warnings: list[str] = list(dip_axis_warnings(plist))
    fixed = dict(fixed or {})
    for k, v in fixed.items():
        fixed_reason[k] = f"fixed by the user at {v}"
    free = [k for k in FITTABLE if k in fit and k not in fixed]

    has_h = any(isinstance(o, PointObservations) and o.has_horizontal for o in obs)
    los_sets = [o for o in obs if isinstance(o, LOSObservations)]
    n_geom = 0
    if los_sets:
        allu = np.vstack([o.unit_enu for o in los_sets])
        n_geom = LOSObservations(np.zeros(len(allu)), np.zeros(len(allu)), np.zeros(len(allu)), allu).geometries()
    if "b" in free and not has_h and n_geom < 2:
        free.remove("b")
        why = "one LOS geometry cannot resolve b" if los_sets else "vertical-only observations cannot resolve b"
        fixed_reason["b"] = f"{why}: fixed at {initial.b}; add GNSS horizontal data or a second LOS geometry"
        warnings.append(f"b not fitted: {fixed_reason['b']}")
        if los_sets and "b" not in fsig:
            # b moves LOS values (the horizontal part), so its error matters: propagate a stated 1-sigma
            fsig["b"] = B_SIGMA_WHEN_FIXED
        if fsig.get("b", 0.0) > 0.0:
            fixed_reason["b"] += f" (its error, 1-sigma {fsig['b']:g}, is propagated into the fitted parameters)"
    if "theta0_deg" in free and all(p.dip_deg < 1.0 for p in plist):
        free.remove("theta0_deg")
        fixed_reason["theta0_deg"] = f"all panels are flat (dip < 1 deg): theta0 fixed at {initial.theta0_deg}"
    if not free:
        raise ScienceInputError("nothing left to fit: every parameter is fixed")

    base = initial.replace(**{k: float(v) for k, v in fixed.items()})
    if "s_m" in free:
        base = base.replace(s1_m=None, s2_m=None, s3_m=None, s4_m=None)
    bnd = _default_bounds(plist)
    bnd.update(bounds or {})
    lo = np.array([bnd[k][0] for k in free], dtype=float)
    hi = np.array([bnd[k][1] for k in free], dtype=float)
    if np.any(lo >= hi):
        raise ScienceInputError(f"empty bounds for {free}: {bnd}")
    if "q" in free:
        hi[free.index("q")] = min(hi[free.index("q")], 1.5)
    if "theta0_deg" in free:
        hi[free.index("theta0_deg")] = min(hi[free.index("theta0_deg")], 90.0)

    observed, sigma = _observed_and_sigma(obs)
    y_obs = np.concatenate(observed)
    y_sig = np.concatenate(sigma)
    n_obs = len(y_obs)
    if n_obs <= len(free):
        raise ScienceInputError(f"{n_obs} observed values cannot determine {len(free)} parameters {free}")

    def params_of(p: np.ndarray, extra: dict[str, float] | None = None) -> PIMParams:
        return base.replace(**{k: float(v) for k, v in zip(free, p)}, **(extra or {}))

    whiten: dict[str, Any] = {"idx": None, "L": None}

    def resid(p: np.ndarray, extra: dict[str, float] | None = None) -> np.ndarray:
        n_out = n_obs if whiten["idx"] is None else len(whiten["idx"])
        try:
            pred = np.concatenate(_predict_obs(plist, params_of(p, extra), obs, at, time_function))
        except ScienceInputError:
            return np.full(n_out, 1e6)
        if whiten["idx"] is None:
            return (pred - y_obs) / y_sig
        from scipy.linalg import solve_triangular

        i = whiten["idx"]
        return solve_triangular(whiten["L"], pred[i] - y_obs[i], lower=True)

    x0 = np.clip(np.array([getattr(base, k) for k in free], dtype=float), lo, hi)
    starts = [x0]
    if n_starts > 1:
        lhs = qmc.LatinHypercube(d=len(free), seed=rng).random(n_starts - 1)
        starts += list(lo + lhs * (hi - lo))
    best = None
    tried = []
    scale = hi - lo
    for s in starts:
        res = least_squares(
            resid,
            s,
            bounds=(lo, hi),
            loss=loss,
            f_scale=f_scale,
            x_scale=scale,
            method="trf",
            max_nfev=200 * (len(free) + 1),
        )
        tried.append(
            {
                "start": dict(zip(free, map(float, s))),
                "end": dict(zip(free, map(float, res.x))),
                "cost": float(res.cost),
            }
        )
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    noise_info: dict[str, Any] = {"kind": "independent"}
    if noise == "correlated":
        pos_x, pos_y, group, labels = _value_positions(obs)
        r_mm = resid(best.x) * y_sig
        idx, Lc, noise_info = _correlated_noise(
            r_mm, pos_x, pos_y, group, correlation_length_m, max_gls, rng, labels, covariance
        )
        whiten["idx"], whiten["L"] = idx, Lc
        best = least_squares(
            resid,
            best.x,
            bounds=(lo, hi),
            loss=loss,
            f_scale=f_scale,
            x_scale=scale,
            method="trf",
            max_nfev=200 * (len(free) + 1),
        )
        tried.append({"start": "gls", "end": dict(zip(free, map(float, best.x))), "cost": float(best.cost)})
    fitted = params_of(best.x)

    # uncertainties from the (loss-modified) Jacobian
    J = best.jac
    r = best.fun
    dof = max(1, len(r) - len(free))
    s2 = float(np.sum(r**2) / dof)
    Js = J * scale[None, :]
    _, sv, Vt = np.linalg.svd(Js, full_matrices=False)
    tol = sv.max() * 1e-8 if sv.size else 0.0
    inv_s = np.where(sv > tol, 1.0 / np.where(sv > 0, sv, 1.0), 0.0)
    cov_s = (Vt.T * inv_s**2) @ Vt * s2
    cov = cov_s * np.outer(scale, scale)
    std_fit = np.sqrt(np.clip(np.diag(cov), 0, None))
    propagated: dict[str, float] = {}
    for name, sig in fsig.items():
        if name in free or sig == 0.0:
            continue
        # the fitted parameters' response to the fixed one off by +/- 1 sigma: two refits from the solution
        # (a linearised G = -(J^T J)^-1 J^T dr/d(fixed) overstates it under a robust loss, which down-weights
        # the systematic misfit a wrong fixed value leaves)
        v0 = float(getattr(base, name))
        ends = []
        for sgn in (1.0, -1.0):
            extra = {name: v0 + sgn * sig}
            try:
                params_of(best.x, extra)
            except ScienceInputError:
                extra = {name: v0}
            rr = least_squares(
                lambda p, e=extra: resid(p, e),
                best.x,
                bounds=(lo, hi),
                loss=loss,
                f_scale=f_scale,
                x_scale=scale,
                method="trf",
                max_nfev=100 * (len(free) + 1),
            )
            ends.append(rr.x)
        g = 0.5 * (ends[0] - ends[1])
        cov = cov + np.outer(g, g)
        propagated[name] = sig
    std = np.sqrt(np.clip(np.diag(cov), 0, None))
    null = np.zeros(len(free), dtype=bool)
    for i, svi in enumerate(sv):
        if svi <= tol:
            null |= np.abs(Vt[i]) > 0.3
    corr = {}
    dd = np.where(std > 0, std, 1.0)
    c = cov / np.outer(dd, dd)
    for i, a in enumerate(free):
        corr[a] = {b: float(round(c[i, j], 4)) for j, b in enumerate(free)}
    resolved = {}
    for i, k in enumerate(free):
        val = float(best.x[i])
        ok = not null[i] and std[i] <= 0.5 * max(abs(val), 1e-9)
        if k == "s_m":  # s may be ~0: judge against the main influence radius instead
            ok = not null[i] and std[i] <= 0.1 * min(p.mean_depth_m for p in plist) / fitted.tan_beta
        resolved[k] = bool(ok)
        if not ok:
            warnings.append(
                f"{k} is not resolved by these data (value {val:.4g} +/- {std[i]:.2g}); fix it from "
                "experience or add observations (edges, horizontal components)"
            )
        at_bound = np.isclose(val, lo[i], rtol=0, atol=1e-6 * scale[i]) or np.isclose(
            val, hi[i], rtol=0, atol=1e-6 * scale[i]
        )
        if at_bound and k != "s_m" and not (k == "theta0_deg" and val >= 90.0 - 1e-6):
            warnings.append(f"{k} = {val:.4g} lies on its bound [{lo[i]:.4g}, {hi[i]:.4g}]")
    pred_sets = _predict_obs(plist, fitted, obs, at, time_function)
    residuals = {o.name: p - v for o, p, v in zip(obs, pred_sets, observed)}
    rms = {k: float(np.sqrt(np.mean(v**2))) for k, v in residuals.items()}
    allres = np.concatenate(list(residuals.values()))
    for w in warnings:
        log.warning("inversion: %s", w)
    return InversionResult(
        params=fitted,
        std={k: float(v) for k, v in zip(free, std)},
        std_fit={k: float(v) for k, v in zip(free, std_fit)},
        chi2=float(np.sum(best.fun**2)),
        n_fit=len(best.fun),
        fixed_sigma=propagated,
        noise=noise_info,
        correlation=corr,
        fixed=fixed_reason,
        warnings=warnings,
        residuals=residuals,
        rms_mm=float(np.sqrt(np.mean(allres**2))),
        rms_mm_by_set=rms,
        cost=float(best.cost),
        n_obs=n_obs,
        starts=tried,
        resolved=resolved,
    )


def _value_positions(obs: Sequence[Observation]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """x, y (m), a group id (observation set x component) for every observed value, in residual order, and the
    groups' labels."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    labels: list[str] = []
    for o in obs:
        comps = (
            [("vertical", o.subsidence_mm), ("east", o.east_mm), ("north", o.north_mm)]
            if isinstance(o, PointObservations)
            else [("los", o.los_mm)]
        )
        for cname, comp in comps:
            if comp is None:
                continue
            xs.append(o.x)
            ys.append(o.y)
            gs.append(np.full(len(o.x), len(labels)))
            labels.append(f"{o.name}:{cname}")
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs), labels


def fit_exponential_covariance(
    r_mm: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    correlation_length_m: float | None = None,
    n_bins: int = 15,
    max_pairs: int = 400_000,
    rng: np.random.Generator | None = None,
    ml: bool = True,
    ml_max: int = 300,
) -> tuple[float, float, float]:
    """(sigma_c mm, sigma_n mm, L m) of C(d) = sigma_c^2 exp(-d/L) + sigma_n^2 [d = 0] fitted to residuals.

    Start: method of moments (mean products r_i r_j of mean-removed residuals binned by distance, fitted by
    least squares in the bins, weights the pair counts; the nugget is what the total variance leaves over);
    then, with ``ml``, maximum likelihood (Nelder-Mead, at most 200 evaluations) on at most ``ml_max`` values.
    """
    from scipy.optimize import least_squares

    rng = rng or np.random.default_rng(0)
    r = np.asarray(r_mm, dtype=float) - float(np.mean(r_mm))
    n = len(r)
    var = float(np.mean(r**2))
    if n < 8 or var <= 0:
        return math.sqrt(max(var, 0.0)), 0.0, float(correlation_length_m or 1.0)
    if n * (n - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        i = rng.integers(0, n, max_pairs)
        j = rng.integers(0, n, max_pairs)
        keep = i != j
        i, j = i[keep], j[keep]
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    prod = r[i] * r[j]
    dmax = float(np.quantile(d, 0.5))
    edges = np.linspace(0.0, max(dmax, 1e-6), n_bins + 1)
    b = np.clip(np.digitize(d, edges) - 1, 0, n_bins - 1)
    sel = d <= dmax
    cnt = np.bincount(b[sel], minlength=n_bins).astype(float)
    ssum = np.bincount(b[sel], weights=prod[sel], minlength=n_bins)
    dsum = np.bincount(b[sel], weights=d[sel], minlength=n_bins)
    ok = cnt > 0
    cb, db, wb = ssum[ok] / cnt[ok], dsum[ok] / cnt[ok], np.sqrt(cnt[ok])

    def model(p: np.ndarray) -> np.ndarray:
        c2 = p[0]
        ell = correlation_length_m if correlation_length_m is not None else math.exp(p[1])
        return c2 * np.exp(-db / ell)

    ell0 = correlation_length_m or max(float(np.median(db)), 1.0)
    p0 = np.array([min(max(float(cb[0]), 0.1 * var), 0.999 * var), float(np.clip(math.log(ell0), -6.9, 16.1))])
    res = least_squares(lambda p: (model(p) - cb) * wb, p0, bounds=([0.0, math.log(1e-3)], [var, math.log(1e7)]))
    c2 = float(min(res.x[0], var))
    ell = float(correlation_length_m if correlation_length_m is not None else math.exp(res.x[1]))
    if not ml:
        return math.sqrt(c2), math.sqrt(max(var - c2, 1e-6 * var)), ell
    # refine by maximum likelihood (Gaussian, exponential covariance + nugget) on at most ml_max values: the
    # binned moments alone are biased when L is not small against the extent of the data
    from scipy.linalg import cholesky, solve_triangular
    from scipy.optimize import minimize

    k = np.arange(n) if n <= ml_max else np.sort(rng.choice(n, ml_max, replace=False))
    rk = r[k]
    dk = np.hypot(x[k][:, None] - x[k][None, :], y[k][:, None] - y[k][None, :])
    eye = np.eye(len(k))

    def nll(p: np.ndarray) -> float:
        sc2, sn2 = math.exp(p[0]), math.exp(p[1])
        ell_ = correlation_length_m if correlation_length_m is not None else math.exp(p[2])
        c = sc2 * np.exp(-dk / ell_) + sn2 * eye
        try:
            lc = cholesky(c, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return 1e30
        z = solve_triangular(lc, rk, lower=True, check_finite=False)
        return float(np.sum(np.log(np.diag(lc))) + 0.5 * z @ z)

    q0 = np.array([math.log(max(c2, 1e-3 * var)), math.log(max(var - c2, 0.05 * var)), math.log(ell)])
    out = minimize(nll, q0, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-4, "maxiter": 200})
    sc2, sn2 = math.exp(out.x[0]), math.exp(out.x[1])
    ell = float(correlation_length_m if correlation_length_m is not None else math.exp(out.x[2]))
    return math.sqrt(sc2), math.sqrt(sn2), ell


def _correlated_noise(
    r_mm: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    group: np.ndarray,
    correlation_length_m: float | None,
    max_gls: int,
    rng: np.random.Generator,
    names: Sequence[str],
    covariance: tuple[float, float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Indices used for the GLS step, the Cholesky factor of their covariance and the model per group (fitted,
    or ``covariance`` = (sigma_c mm, sigma_n mm, L m) for every group when given)."""
    idx_all = []
    blocks = []
    info: dict[str, Any] = {"kind": "correlated", "groups": []}
    groups = np.unique(group)
    per = max(50, max_gls // max(1, len(groups)))
    for g in groups:
        idx = np.flatnonzero(group == g)
        if covariance is not None:
            sc, sn, ell = (float(v) for v in covariance)
        else:
            sc, sn, ell = fit_exponential_covariance(
                r_mm[idx], x[idx], y[idx], correlation_length_m=correlation_length_m, rng=rng
            )
        if len(idx) > per:
            idx = np.sort(rng.choice(idx, per, replace=False))
        d = np.hypot(x[idx][:, None] - x[idx][None, :], y[idx][:, None] - y[idx][None, :])
        c = sc**2 * np.exp(-d / ell) + np.eye(len(idx)) * sn**2
        idx_all.append(idx)
        blocks.append(c)
        info["groups"].append(
            {
                "set": names[int(g)],
                "sigma_correlated_mm": round(sc, 3),
                "sigma_independent_mm": round(sn, 3),
                "correlation_length_m": round(ell, 1),
                "values_used": len(idx),
            }
        )
    from scipy.linalg import block_diag, cholesky

    cov = block_diag(*blocks)
    L = cholesky(cov + np.eye(len(cov)) * 1e-9 * float(np.mean(np.diag(cov))), lower=True)
    return np.concatenate(idx_all), L, info


def _subsample(o: Observation, max_obs: int, rng: np.random.Generator) -> Observation:
    n = len(o.x)
    if n <= max_obs:
        return o
    idx = np.sort(rng.choice(n, size=max_obs, replace=False))
    log.info("%s: %d observations subsampled to %d", o.name, n, max_obs)
    if isinstance(o, LOSObservations):
        sig = np.asarray(o.sigma_mm)
        return LOSObservations(
            o.x[idx], o.y[idx], o.los_mm[idx], o.unit_enu[idx], sig[idx] if sig.ndim else sig, name=o.name
        )
    pick = lambda v: None if v is None else v[idx]
    sv, sh = np.asarray(o.sigma_vertical_mm), np.asarray(o.sigma_horizontal_mm)
    return PointObservations(
        o.x[idx],
        o.y[idx],
        pick(o.subsidence_mm),
        pick(o.east_mm),
        pick(o.north_mm),
        sv[idx] if sv.ndim else sv,
        sh[idx] if sh.ndim else sh,
        name=o.name,
    )
