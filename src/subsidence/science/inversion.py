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
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from subsidence.science.pim import PanelGeometry, PIMParams, ScienceInputError, predict_points

log = logging.getLogger(__name__)

FITTABLE = ("q", "tan_beta", "b", "theta0_deg", "s_m")


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
            raise ScienceInputError(f"{self.name}: unit_enu rows must be unit vectors (|e| = 1); got norms "
                                    f"{norm.min():.3f}..{norm.max():.3f}")
        if np.any(u[:, 2] <= 0):
            raise ScienceInputError(f"{self.name}: unit_enu must point from the ground up to the satellite (up > 0)")
        self.unit_enu = u

    @classmethod
    def from_geometry(cls, x: Any, y: Any, los_mm: Any, incidence_deg: Any, heading_deg: Any, **kw: Any
                      ) -> "LOSObservations":
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
    return {"q": (0.05, 1.5), "tan_beta": (0.8, 5.0), "b": (0.01, 1.0), "theta0_deg": (45.0, 90.0),
            "s_m": (0.0, s_max)}


def _predict_obs(panels: Sequence[PanelGeometry], params: PIMParams, obs: Sequence[Observation],
                 at: Any = None, time_function: Any = None) -> list[np.ndarray]:
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
            f = predict_points(panels, params, o.x, o.y,
                               components=("subsidence_mm", "displacement_x_mm", "displacement_y_mm"), **kw)
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
    for s in sig:
        if np.any(~(s > 0)):
            raise ScienceInputError("observation sigmas must be > 0 mm")
    return vals, sig


def invert(panels: PanelGeometry | Iterable[PanelGeometry], observations: Observation | Sequence[Observation], *,
           initial: PIMParams | None = None, fit: Sequence[str] = FITTABLE, fixed: dict[str, float] | None = None,
           bounds: dict[str, tuple[float, float]] | None = None, loss: str = "soft_l1",
           f_scale: float = 2.0, n_starts: int = 8, seed: int = 0, max_obs: int = 20000,
           at: Any = None, time_function: Any = None) -> InversionResult:
    """Fit PIM parameters to observations; see the module docstring for method and resolvability rules.

    panels: the panels whose mining caused the observed (final or current) displacement; observations: one or
    more :class:`PointObservations` / :class:`LOSObservations` (same CRS as the panels); initial: start
    values and values of the fixed parameters (default q=0.7, tanβ=2.2, b=0.3, θ0=90, s=0); fit: names to fit;
    fixed: name -> value to hold; bounds: name -> (low, high); loss: ``soft_l1`` | ``huber`` | ``linear``;
    f_scale: robust-loss scale in units of sigma; n_starts: starts (initial guess + n_starts-1 Latin hypercube);
    max_obs: larger observation sets are subsampled (seeded) to this many values per set; at /
    time_function: observations taken on date ``at`` while mining advances (dynamic model, see
    :mod:`subsidence.science.dynamics`); None -> the final static basin.
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
        why = ("one LOS geometry cannot resolve b" if los_sets else "vertical-only observations cannot resolve b")
        fixed_reason["b"] = f"{why}: fixed at {initial.b}; add GNSS horizontal data or a second LOS geometry"
        warnings.append(f"b not fitted: {fixed_reason['b']}")
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

    def params_of(p: np.ndarray) -> PIMParams:
        return base.replace(**{k: float(v) for k, v in zip(free, p)})

    def resid(p: np.ndarray) -> np.ndarray:
        try:
            pred = np.concatenate(_predict_obs(plist, params_of(p), obs, at, time_function))
        except ScienceInputError:
            return np.full(n_obs, 1e6)
        return (pred - y_obs) / y_sig

    x0 = np.clip(np.array([getattr(base, k) for k in free], dtype=float), lo, hi)
    starts = [x0]
    if n_starts > 1:
        lhs = qmc.LatinHypercube(d=len(free), seed=rng).random(n_starts - 1)
        starts += list(lo + lhs * (hi - lo))
    best = None
    tried = []
    scale = hi - lo
    for s in starts:
        res = least_squares(resid, s, bounds=(lo, hi), loss=loss, f_scale=f_scale, x_scale=scale,
                            method="trf", max_nfev=200 * (len(free) + 1))
        tried.append({"start": dict(zip(free, map(float, s))), "end": dict(zip(free, map(float, res.x))),
                      "cost": float(res.cost)})
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    fitted = params_of(best.x)

    # uncertainties from the (loss-modified) Jacobian
    J = best.jac
    r = best.fun
    dof = max(1, n_obs - len(free))
    s2 = float(np.sum(r**2) / dof)
    Js = J * scale[None, :]
    U, sv, Vt = np.linalg.svd(Js, full_matrices=False)
    tol = sv.max() * 1e-8 if sv.size else 0.0
    inv_s = np.where(sv > tol, 1.0 / np.where(sv > 0, sv, 1.0), 0.0)
    cov_s = (Vt.T * inv_s**2) @ Vt * s2
    cov = cov_s * np.outer(scale, scale)
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
            warnings.append(f"{k} is not resolved by these data (value {val:.4g} +/- {std[i]:.2g}); fix it from "
                            "experience or add observations (edges, horizontal components)")
        at_bound = np.isclose(val, lo[i], rtol=0, atol=1e-6 * scale[i]) or \
            np.isclose(val, hi[i], rtol=0, atol=1e-6 * scale[i])
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


def _subsample(o: Observation, max_obs: int, rng: np.random.Generator) -> Observation:
    n = len(o.x)
    if n <= max_obs:
        return o
    idx = np.sort(rng.choice(n, size=max_obs, replace=False))
    log.info("%s: %d observations subsampled to %d", o.name, n, max_obs)
    if isinstance(o, LOSObservations):
        sig = np.asarray(o.sigma_mm)
        return LOSObservations(o.x[idx], o.y[idx], o.los_mm[idx], o.unit_enu[idx],
                               sig[idx] if sig.ndim else sig, name=o.name)
    pick = lambda v: None if v is None else v[idx]  # noqa: E731
    sv, sh = np.asarray(o.sigma_vertical_mm), np.asarray(o.sigma_horizontal_mm)
    return PointObservations(o.x[idx], o.y[idx], pick(o.subsidence_mm), pick(o.east_mm), pick(o.north_mm),
                             sv[idx] if sv.ndim else sv, sh[idx] if sh.ndim else sh, name=o.name)
