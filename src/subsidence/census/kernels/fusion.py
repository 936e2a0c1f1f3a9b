"""Fusion: fill decorrelated basin centres with the PIM fitted on the reliable edge pixels.

The physics limit (docs/science.md §2): one interferogram resolves at most ≈ λ/4 (≈ 14 mm at C-band) of
differential motion between neighbouring pixels, so the centre of an active longwall basin decorrelates and
InSAR sees only its edges. Published practice inverts the PIM parameters on the reliable edge pixels and
predicts the centre from the model. :func:`pim_filler` does that with the science package
(:mod:`subsidence.science.inversion` and :mod:`subsidence.science.pim`) and returns a
:data:`~subsidence.census.kernels.basins.Filler` for :func:`~subsidence.census.kernels.basins.detect_basins`;
:func:`fit_centre` is the same computation on plain arrays.

Reliable edge pixels are the valid pixels around the basin (inside and outside the threshold line: the
outer flank constrains the influence radius), minus those within ``guard_px`` pixels of the decorrelated
hole, where unwrapping errors concentrate.

Model choice. With the centre missing, q and the inflection offset s trade off: on a basin whose
inflection points lie s ≈ 20 m inside the panel edges, a fit of q and tanβ alone converges to q ≈ 0.25 with a
small RMS and predicts the centre 60-70 % too shallow, so the RMS check cannot catch it. Nested models are
therefore fitted — ``fit`` (q, tanβ), then ``fit`` + s, then + θ0 for inclined panels — and the one with the
smallest information criterion (BIC by default, AIC on request; Gaussian likelihood with the residual
variance estimated: n ln(RSS/n) + k ln n, or + 2k) is used. b does not enter vertical subsidence and is never
fitted here (the edges are vertical values).

The centre maximum is reported with an interval at ``level`` (0.95): parameter draws from the selected
model's covariance (Jacobian at the solution, :func:`~subsidence.science.inversion.invert`), mixed over the
candidate models by their information-criterion weights exp(-ΔIC/2), each draw predicting the centre. When
the edges cannot identify the centre (a fitted parameter not resolved, or the interval's half-width above
``max_relative_halfwidth`` of the estimate) the holes are filled with the interval's *lower* quantile per
pixel and the basin maximum is marked as a lower bound.

InSAR edge noise is spatially correlated (atmosphere). With ``FusionParams(noise="correlated")`` one
exponential covariance is fitted to the residuals of the largest model and every candidate is refitted by
generalised least squares under it (the whitened misfits then compare in the criterion); the interval comes from
the GLS covariance. On an offset basin with 10 mm of smooth atmosphere the independent fit missed the centre by
up to 50 % with intervals that excluded the truth in 2 of 5 draws; the correlated fit stayed within 3.5 % and
covered the truth 5/5 (tests/census/test_fusion_offset.py). It costs 5-20 s a basin on the shared 2-core
machine against < 1 s, so it is an option, not the default.

Pure numpy/scipy/shapely: no database, no files.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from subsidence.census.kernels.basins import Filler, FillRequest

log = logging.getLogger(__name__)

CRITERIA = ("bic", "aic")


@dataclass(frozen=True)
class FusionParams:
    """Settings of the edge fit.

    fit: the smallest model's fitted parameters; extend: parameters added one at a time to form the larger
    nested models (θ0 only when a panel dips ≥ 1°); criterion: ``bic`` or ``aic``; level: interval
    probability; max_relative_halfwidth: above this half-width / estimate the centre is not identified;
    n_draws: parameter draws for the interval; sigma_mm: edge-pixel noise (mm) used to weight the fit;
    noise: ``independent`` or ``correlated`` (atmospheric noise on the edges: fitted spatial covariance and GLS,
    :func:`subsidence.science.inversion.invert`, so that the interval is not too narrow; slower).
    """

    fit: tuple[str, ...] = ("q", "tan_beta")
    search_m: float = 300.0
    guard_px: float = 1.5
    min_edge_pixels: int = 30
    max_edge_pixels: int = 4000
    n_starts: int = 4
    seed: int = 0
    #: the fit is refused (centre left unfilled) when its RMS on the edge pixels exceeds this, mm
    max_rms_mm: float = 50.0
    extend: tuple[str, ...] = ("s_m", "theta0_deg")
    criterion: str = "bic"
    level: float = 0.95
    max_relative_halfwidth: float = 0.25
    n_draws: int = 300
    sigma_mm: float = 5.0
    noise: str = "independent"

    def __post_init__(self) -> None:
        if self.criterion not in CRITERIA:
            raise ValueError(f"criterion {self.criterion!r}: choose from {', '.join(CRITERIA)}")
        if not 0.5 < self.level < 1.0:
            raise ValueError(f"level {self.level!r} must be in (0.5, 1)")
        if self.noise not in ("independent", "correlated"):
            raise ValueError(f"noise {self.noise!r}: choose independent or correlated")
        if "b" in self.fit or "b" in self.extend:
            raise ValueError("b does not enter vertical subsidence: the edges cannot fit it")


@dataclass
class FillResult:
    """What :func:`pim_filler` returns: hole values (mm, positive down) and a JSON-able ``info`` dict.

    ``info["lower_bound"]`` True: the edges do not identify the centre, ``values`` are the lower quantile.
    """

    values: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class CentreFit:
    """The edge fit of one basin and its centre prediction.

    w_hole_mm: predicted hole values (best fit, or the lower quantile when ``lower_bound``); model: fitted
    parameter names of the selected model; ic: criterion value per model ("+"-joined names); weights: the
    models' information-criterion weights; params / std: the selected fit (PIMParams, 1-sigma dict);
    centre_max_mm: best-fit maximum over the holes; interval_mm: (low, high) at ``level``; identifiable;
    lower_bound; reasons: why not identifiable; rms_mm: RMS on the edge pixels; n_edge: pixels used.
    """

    w_hole_mm: np.ndarray
    model: tuple[str, ...]
    ic: dict[str, float]
    weights: dict[str, float]
    params: Any
    std: dict[str, float]
    centre_max_mm: float
    interval_mm: tuple[float, float]
    level: float
    identifiable: bool
    lower_bound: bool
    reasons: list[str]
    rms_mm: float
    n_edge: int
    criterion: str = "bic"

    def info(self) -> dict[str, Any]:
        """Plain values for ``Basin.extra["fusion"]`` and GeoJSON."""
        return {
            "model": list(self.model),
            "criterion": self.criterion,
            "ic": {k: round(v, 2) for k, v in self.ic.items()},
            "weights": {k: round(v, 4) for k, v in self.weights.items()},
            "params": self.params.to_dict(),
            "std": {k: float(v) for k, v in self.std.items()},
            "centre_max_mm": round(self.centre_max_mm, 1),
            "centre_max_interval_mm": [round(self.interval_mm[0], 1), round(self.interval_mm[1], 1)],
            "level": self.level,
            "identifiable": self.identifiable,
            "lower_bound": self.lower_bound,
            "reasons": list(self.reasons),
            "rms_mm": round(self.rms_mm, 2),
            "n_edge": self.n_edge,
        }


def gradient_limit_mm(wavelength_m: float = 0.05546) -> float:
    """λ/4 in mm: the largest differential LOS motion between neighbouring pixels one interferogram resolves."""
    return wavelength_m / 4.0 * 1000.0


def _candidate_models(panels: Sequence[Any], params: FusionParams) -> list[tuple[str, ...]]:
    models = [tuple(params.fit)]
    inclined = any(getattr(p, "dip_deg", 0.0) >= 1.0 for p in panels)
    for name in params.extend:
        if name in models[-1]:
            continue
        if name == "theta0_deg" and not inclined:
            continue  # θ0 does not enter a flat seam's basin
        models.append(models[-1] + (name,))
    return models


def _ic(rss: float, n: int, k: int, criterion: str) -> float:
    rss = max(rss, 1e-12)
    pen = k * math.log(n) if criterion == "bic" else 2.0 * k
    return n * math.log(rss / n) + pen


def _draw_params(res: Any, n: int, rng: np.random.Generator) -> list[Any]:
    """Parameter draws from the fit's Gaussian approximation (std and correlation), kept physical."""
    from subsidence.science.pim import ScienceInputError

    names = list(res.std)
    if not names or n <= 0:
        return []
    mean = np.array([getattr(res.params, k) for k in names], dtype=float)
    sd = np.array([res.std[k] for k in names], dtype=float)
    corr = np.array([[res.correlation.get(a, {}).get(b, 1.0 if a == b else 0.0) for b in names] for a in names])
    cov = corr * np.outer(sd, sd)
    # nearest positive semi-definite matrix (rounded correlations may not be)
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    z = rng.standard_normal((n, len(names))) @ root.T + mean
    lo = {"q": 0.01, "tan_beta": 0.3, "s_m": 0.0, "theta0_deg": 30.0}
    hi = {"q": 1.5, "tan_beta": 10.0, "theta0_deg": 90.0}
    out = []
    for row in z:
        kw = {k: float(np.clip(v, lo.get(k, -np.inf), hi.get(k, np.inf))) for k, v in zip(names, row)}
        try:
            out.append(res.params.replace(**kw))
        except ScienceInputError:
            continue
    return out


def fit_centre(
    panels: Sequence[Any],
    edge_x: np.ndarray,
    edge_y: np.ndarray,
    edge_w_mm: np.ndarray,
    hole_x: np.ndarray,
    hole_y: np.ndarray,
    *,
    initial: Any | None = None,
    params: FusionParams = FusionParams(),
    label: Any = "",
) -> CentreFit:
    """Fit the PIM to edge subsidence (mm, positive down) and predict the hole pixels, with model choice.

    panels: :class:`subsidence.science.pim.PanelGeometry` in the same metric CRS as the coordinates (m);
    initial: start values (default q = 0.7, tanβ = 2.5). See the module docstring for the method.
    Raises :class:`subsidence.science.pim.ScienceInputError` when no model can be fitted.
    """
    from subsidence.science import inversion, pim

    start = initial if initial is not None else pim.PIMParams(q=0.7, tan_beta=2.5)
    obs = inversion.PointObservations(x=edge_x, y=edge_y, subsidence_mm=edge_w_mm, sigma_vertical_mm=params.sigma_mm)
    fits: dict[tuple[str, ...], Any] = {}
    ic: dict[tuple[str, ...], float] = {}
    models = _candidate_models(panels, params)
    covariance = None
    if params.noise == "correlated":
        # one noise model for every candidate (so that their whitened misfits compare), fitted to the residuals
        # of the largest model
        big = inversion.invert(panels, obs, initial=start, fit=models[-1], n_starts=params.n_starts, seed=params.seed)
        r = np.concatenate(list(big.residuals.values()))
        sc, sn, ell = inversion.fit_exponential_covariance(
            r, np.asarray(edge_x, float), np.asarray(edge_y, float), rng=np.random.default_rng(params.seed)
        )
        covariance = (max(sc, 1e-3), max(sn, 1e-3), max(ell, 1e-3))
    for model in models:
        try:
            res = inversion.invert(
                panels,
                obs,
                initial=start,
                fit=model,
                n_starts=params.n_starts,
                seed=params.seed,
                noise=params.noise,
                covariance=covariance,
            )
        except pim.ScienceInputError as exc:
            log.info("area %s: model %s not fitted (%s)", label, "+".join(model), exc)
            continue
        fits[model] = res
        if covariance is not None:  # whitened misfit: -2 log L up to a constant shared by the models
            ic[model] = _ic(res.chi2, res.n_fit, len(res.std), params.criterion)
        else:
            rss = float(sum(np.sum(v**2) for v in res.residuals.values()))
            ic[model] = _ic(rss, res.n_obs, len(res.std), params.criterion)
    if not fits:
        raise pim.ScienceInputError(f"area {label}: no PIM model could be fitted to the edge pixels")
    best = min(ic, key=lambda m: ic[m])
    res = fits[best]
    ic_min = ic[best]
    weights = {m: math.exp(-0.5 * (v - ic_min)) for m, v in ic.items()}
    total = sum(weights.values())
    weights = {m: w / total for m, w in weights.items()}

    def hole(prm: Any) -> np.ndarray:
        return pim.predict_points(panels, prm, hole_x, hole_y, components=("subsidence_mm",)).W

    w_best = hole(res.params)
    centre = float(np.max(w_best)) if w_best.size else float("nan")
    rng = np.random.default_rng(params.seed)
    draws: list[np.ndarray] = []
    for m, wgt in weights.items():
        for prm in _draw_params(fits[m], round(params.n_draws * wgt), rng):
            try:
                draws.append(hole(prm))
            except pim.ScienceInputError:
                continue
    reasons: list[str] = []
    lo_q, hi_q = 0.5 * (1.0 - params.level), 0.5 * (1.0 + params.level)
    if draws and w_best.size:
        stack = np.vstack(draws)
        maxima = stack.max(axis=1)
        interval = (float(np.quantile(maxima, lo_q)), float(np.quantile(maxima, hi_q)))
        lower_pixels = np.quantile(stack, lo_q, axis=0)
    else:
        interval = (centre, centre)
        lower_pixels = w_best
        reasons.append("no parameter draws (the fit has no covariance)")
    for k, ok in res.resolved.items():
        if not ok:
            reasons.append(f"{k} is not resolved by the edge pixels")
    half = 0.5 * (interval[1] - interval[0])
    if centre > 0 and half > params.max_relative_halfwidth * centre:
        reasons.append(
            f"the {params.level:.0%} interval of the centre maximum ({interval[0]:.0f}-"
            f"{interval[1]:.0f} mm) is wider than ±{params.max_relative_halfwidth:.0%} of {centre:.0f} mm"
        )
    identifiable = not reasons
    values = w_best if identifiable else np.minimum(lower_pixels, w_best)
    rms = float(getattr(res, "rms_mm", 0.0) or 0.0)
    return CentreFit(
        w_hole_mm=np.asarray(values, dtype=float),
        model=best,
        ic={"+".join(m): float(v) for m, v in ic.items()},
        weights={"+".join(m): float(v) for m, v in weights.items()},
        params=res.params,
        std=dict(res.std),
        centre_max_mm=centre,
        interval_mm=interval,
        level=params.level,
        identifiable=identifiable,
        lower_bound=not identifiable,
        reasons=reasons,
        rms_mm=rms,
        n_edge=len(edge_x),
        criterion=params.criterion,
    )


def pim_filler(
    panels: Sequence[Any],
    *,
    initial: Any | None = None,
    params: FusionParams = FusionParams(),
    outlines: Sequence[Any] | None = None,
) -> Filler:
    """A filler that fits the PIM to the edge pixels of each basin and predicts its decorrelated centre.

    ``panels``: :class:`subsidence.science.pim.PanelGeometry` in the **raster's** CRS (metres).
    ``outlines``: shapely polygons of the same panels (for selecting the panels near a basin); taken from
    ``panel.outline`` when omitted. ``initial``: a :class:`subsidence.science.pim.PIMParams` start value.
    The filler returns a :class:`FillResult` (hole values and the fit's ``info``), or None when it cannot fill.
    """
    import shapely
    from scipy.spatial import cKDTree

    if outlines is None:
        outlines = [
            p.outline if hasattr(p.outline, "geom_type") else shapely.Polygon(np.asarray(p.outline)) for p in panels
        ]
    rng = np.random.default_rng(params.seed)

    def fill(req: FillRequest) -> Any:  # FillResult | None (basins.Filler also accepts a plain array)
        zone = req.footprint.buffer(params.search_m)
        sel = [p for p, o in zip(panels, outlines) if o.intersects(zone)]
        if not sel:
            log.info("area %d: no panel under it, centre left unfilled", req.label)
            return None
        ok = np.isfinite(req.edge_w_mm)
        ex, ey, ew = req.edge_x[ok], req.edge_y[ok], req.edge_w_mm[ok]
        if req.hole_x.size:
            d, _ = cKDTree(np.column_stack([req.hole_x, req.hole_y])).query(np.column_stack([ex, ey]))
            keep = d > params.guard_px * req.grid.pixel_size_m
            ex, ey, ew = ex[keep], ey[keep], ew[keep]
        if ex.size < params.min_edge_pixels:
            log.info("area %d: only %d reliable edge pixels, centre left unfilled", req.label, ex.size)
            return None
        if ex.size > params.max_edge_pixels:
            i = rng.choice(ex.size, params.max_edge_pixels, replace=False)
            ex, ey, ew = ex[i], ey[i], ew[i]
        cf = fit_centre(sel, ex, ey, ew, req.hole_x, req.hole_y, initial=initial, params=params, label=req.label)
        if cf.rms_mm > params.max_rms_mm:
            log.warning(
                "area %d: PIM fit RMS %.1f mm > %.1f mm, centre left unfilled", req.label, cf.rms_mm, params.max_rms_mm
            )
            return None
        if cf.lower_bound:
            log.warning(
                "area %d: the edge pixels do not identify the centre (%s); filled with the lower %.0f %% "
                "bound, maximum marked as a lower bound",
                req.label,
                "; ".join(cf.reasons),
                100 * 0.5 * (1 - params.level),
            )
        log.info(
            "area %d: centre filled from PIM model %s on %d edge pixels (RMS %.1f mm), centre maximum %.0f mm "
            "[%.0f, %.0f]",
            req.label,
            "+".join(cf.model),
            ex.size,
            cf.rms_mm,
            cf.centre_max_mm,
            *cf.interval_mm,
        )
        return FillResult(values=cf.w_hole_mm, info=cf.info())

    return fill
