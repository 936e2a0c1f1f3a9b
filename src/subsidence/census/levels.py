"""The zero level and the noise of a deformation map, and an edge threshold whose area is unbiased under noise.

Why (issue 15: census areas ran +6.6 % / +8.7 % over truth on stacks with 3-5 mm noise). Two causes, measured on
SBAS-inverted synthetic stacks with spatially correlated atmosphere (``benchmarks/bench_census_area.py``, numbers in benchmarks/README.md):

1. **The zero level is one noisy pixel.** An InSAR product is relative to its reference pixel (MintPy REF_Y/REF_X);
   that pixel carries its own decorrelation noise and atmosphere (3-5 mm), which shifts the whole map. Near a
   basin's gently sloping edge a 3 mm shift moves the 10 mm contour by hundreds of metres: -15 % to +27 % area on
   the same stack depending on the seed. Fix: the zero level is the median of the *stable ground* — valid pixels
   farther than ``margin_px`` from every candidate area (above ``+threshold`` or below ``-threshold``, at least
   ``min_pixels`` large, so single noise pixels do not bias the selection), iterated until it no longer changes.
2. **A per-pixel threshold on a noisy map overestimates the area.** With per-pixel noise of s.d. sigma, the expected
   area above the threshold T is E[A_obs(T)] = integral A(T - n) phi(n) dn ~ A(T) + sigma^2 / 2 * A''(T), and A(s)
   (the area above level s) is convex in s at a subsidence trough's tail (the area grows ever faster as the level
   drops), so the bias is positive: +1 % to +5 % at 3-5 mm. This holds for spatially correlated noise as well
   (expectation is per pixel). Fix: estimate A_obs(s) around T on the pixels near the candidate areas, fit a
   parabola, and draw the edge at the level T' whose area equals A_obs(T) - sigma^2 / 2 * A_obs''(T) (first-order
   deconvolution; |T' - T| <= sigma). sigma is the robust s.d. (1.4826 MAD) of the stable ground.

A noise-free map (sigma and offset both < 5 % of the threshold) is left exactly as it is; both steps are reported
(:class:`MapLevel`) and can be switched off (``BasinParams.relevel`` / ``BasinParams.noise_edge``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from scipy import ndimage

log = logging.getLogger(__name__)

EIGHT = np.ones((3, 3), dtype=bool)


class MapLevelRecord(TypedDict):
    """:meth:`MapLevel.as_dict`: the level as stored in a census run's JSON (rounded to 0.001 of the map's unit)."""

    offset: float
    sigma: float | None  # None when the noise was not estimated
    n_stable: int
    edge_threshold: float


@dataclass(frozen=True)
class MapLevel:
    """Zero level and noise of a map (same unit as the map: mm or mm/yr, positive down)."""

    offset: float  # subtracted from the map (median of the stable ground); 0 when not estimated
    sigma: float  # robust s.d. of the stable ground after the offset (NaN when not estimated)
    n_stable: int  # pixels of stable ground used
    edge_threshold: float  # the level the edge is drawn at (the threshold itself when no correction applies)

    def as_dict(self) -> MapLevelRecord:
        return {"offset": round(self.offset, 3), "sigma": None if not np.isfinite(self.sigma) else round(self.sigma, 3),
                "n_stable": self.n_stable, "edge_threshold": round(self.edge_threshold, 3)}


def _large(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    lab, n = ndimage.label(mask, structure=EIGHT)
    if n == 0:
        return mask
    counts = np.bincount(lab.ravel())
    keep = counts >= min_pixels
    keep[0] = False
    return keep[lab]


def stable_ground(value: np.ndarray, valid: np.ndarray, threshold: float, *, margin_px: int = 5,
                  min_pixels: int = 9) -> np.ndarray:
    """Valid pixels farther than ``margin_px`` from every area of at least ``min_pixels`` pixels above
    ``threshold`` or below ``-threshold``."""
    v = np.where(valid, value, 0.0)
    near = _large(valid & (v >= threshold), min_pixels) | _large(valid & (v <= -threshold), min_pixels)
    if near.any() and margin_px > 0:
        near = ndimage.binary_dilation(near, structure=EIGHT, iterations=margin_px)
    return valid & ~near


def estimate_level(value: np.ndarray, valid: np.ndarray, threshold: float, *, margin_px: int = 5,
                   min_pixels: int = 9, min_stable: int = 200, min_stable_fraction: float = 0.10,
                   iterations: int = 5) -> tuple[float, float, int]:
    """(offset, sigma, n_stable) of the stable ground; (0, NaN, n) when there is too little of it
    (fewer than ``min_stable`` pixels or ``min_stable_fraction`` of the valid ones)."""
    offset = 0.0
    need = max(min_stable, int(min_stable_fraction * int(valid.sum())))
    stable = valid
    for _ in range(iterations):
        stable = stable_ground(value - offset, valid, threshold, margin_px=margin_px, min_pixels=min_pixels)
        n = int(stable.sum())
        if n < need:
            return 0.0, float("nan"), n
        new = float(np.median(value[stable]))
        done = abs(new - offset) < 1e-6 * max(1.0, abs(threshold))
        offset = new
        if done:
            break
    resid = value[stable] - offset
    sigma = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    return offset, sigma, int(stable.sum())


def unbiased_edge_threshold(value: np.ndarray, valid: np.ndarray, threshold: float, sigma: float, *,
                            margin_px: int = 5, min_pixels: int = 9) -> float:
    """The level T' whose area near the candidate areas equals A_obs(T) - sigma^2/2 A_obs''(T) (see the module
    docstring); ``threshold`` itself when sigma is below 5 % of it, when the fit window T +- 1.5 sigma would reach
    into the stable ground (sigma > T / 1.5: the noise is too large for this threshold; the caller warns) or when
    nothing is above it."""
    if not (np.isfinite(sigma) and 0.05 * abs(threshold) < sigma <= abs(threshold) / 1.5):
        return threshold
    v = np.where(valid, value, -np.inf)
    cand = _large(valid & (v >= threshold), min_pixels)
    if not cand.any():
        return threshold
    near = ndimage.binary_dilation(cand, structure=EIGHT, iterations=max(margin_px, 1)) & valid
    vals = value[near]
    s = np.linspace(-1.5 * sigma, 1.5 * sigma, 31)
    counts = np.array([(vals >= threshold + x).sum() for x in s], dtype=float)
    if counts[0] == counts[-1]:
        return threshold
    a, b, c = np.polyfit(s, counts, 2)
    target = c - sigma ** 2 * a  # A(T) - sigma^2/2 * A''(T), A'' = 2a
    xs = np.linspace(-sigma, sigma, 2001)
    return float(threshold + xs[int(np.argmin(np.abs(a * xs ** 2 + b * xs + c - target)))])


def level_map(value: np.ndarray, valid: np.ndarray, threshold: float, *, relevel: bool = True,
              noise_edge: bool = True, margin_px: int = 5, min_pixels: int = 9) -> tuple[MapLevel, np.ndarray | None]:
    """Both steps at once: the :class:`MapLevel` and the stable-ground mask (None when not estimated).
    The edge threshold refers to the re-levelled map."""
    offset, sigma, n = estimate_level(value, valid, threshold, margin_px=margin_px, min_pixels=min_pixels)
    if not np.isfinite(sigma):
        log.warning("too little stable ground (%d pixels away from candidate areas) to level the map or measure its "
                    "noise; the zero level stays the product's reference and the edge the threshold itself", n)
        return MapLevel(0.0, float("nan"), n, threshold), None
    stable = stable_ground(value - offset, valid, threshold, margin_px=margin_px, min_pixels=min_pixels)
    small = 0.05 * abs(threshold)
    if not relevel or (abs(offset) < small and sigma < small):  # flat, noise-free ground: leave the map alone
        offset = 0.0
    edge = threshold
    if sigma > abs(threshold) / 1.5:
        log.warning("map noise %.2f (robust s.d. of the stable ground) is more than two thirds of the threshold %.2f: "
                    "areas at this threshold are dominated by noise; raise the threshold or filter the map", sigma,
                    threshold)
    if noise_edge:
        edge = unbiased_edge_threshold(value - offset, valid, threshold, sigma, margin_px=margin_px,
                                       min_pixels=min_pixels)
    return MapLevel(offset, sigma, n, edge), stable
