"""Fusion: fill decorrelated basin centres with the PIM fitted on the reliable edge pixels.

The physics limit (SCIENCE.md §2): one interferogram resolves at most ≈ λ/4 (≈ 14 mm at C-band) of
differential motion between neighbouring pixels, so the centre of an active longwall basin decorrelates and
InSAR sees only its edges. Published practice inverts the PIM parameters on the reliable edge pixels and
predicts the centre from the model. :func:`pim_filler` does that with the science package
(:mod:`subsidence.science.inversion` and :mod:`subsidence.science.pim`) and returns a
:data:`~subsidence.census.basins.Filler` for :func:`~subsidence.census.basins.detect_basins`.

Reliable edge pixels are the valid pixels around the basin (inside and outside the threshold line: the
outer flank constrains the influence radius), minus those within ``guard_px`` pixels of the decorrelated
hole, where unwrapping errors concentrate.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from subsidence.census.basins import FillRequest, Filler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionParams:
    fit: tuple[str, ...] = ("q", "tan_beta")
    search_m: float = 300.0
    guard_px: float = 1.5
    min_edge_pixels: int = 30
    max_edge_pixels: int = 4000
    n_starts: int = 4
    seed: int = 0
    #: the fit is refused (centre left unfilled) when its RMS on the edge pixels exceeds this, mm
    max_rms_mm: float = 50.0


def gradient_limit_mm(wavelength_m: float = 0.05546) -> float:
    """λ/4 in mm: the largest differential LOS motion between neighbouring pixels one interferogram resolves."""
    return wavelength_m / 4.0 * 1000.0


def pim_filler(panels: Sequence[Any], *, initial: Any | None = None, params: FusionParams = FusionParams(),
               outlines: Sequence[Any] | None = None) -> Filler:
    """A filler that fits the PIM to the edge pixels of each basin and predicts its decorrelated centre.

    ``panels``: :class:`subsidence.science.pim.PanelGeometry` in the **raster's** CRS (metres).
    ``outlines``: shapely polygons of the same panels (for selecting the panels near a basin); taken from
    ``panel.outline`` when omitted. ``initial``: a :class:`subsidence.science.pim.PIMParams` start value.
    """
    from scipy.spatial import cKDTree
    import shapely

    from subsidence.science import inversion, pim

    if outlines is None:
        outlines = [p.outline if hasattr(p.outline, "geom_type") else shapely.Polygon(np.asarray(p.outline))
                    for p in panels]
    start = initial if initial is not None else pim.PIMParams(q=0.7, tan_beta=2.5)
    rng = np.random.default_rng(params.seed)

    def fill(req: FillRequest) -> np.ndarray | None:
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
        obs = inversion.PointObservations(x=ex, y=ey, subsidence_mm=ew)
        res = inversion.invert(sel, obs, initial=start, fit=params.fit, n_starts=params.n_starts, seed=params.seed)
        rms = float(getattr(res, "rms_mm", 0.0) or 0.0)
        if rms > params.max_rms_mm:
            log.warning("area %d: PIM fit RMS %.1f mm > %.1f mm, centre left unfilled", req.label, rms,
                        params.max_rms_mm)
            return None
        field = pim.predict_points(sel, res.params, req.hole_x, req.hole_y, components=("subsidence_mm",))
        w = np.asarray(field.component("subsidence_mm"), dtype=float)
        log.info("area %d: centre filled from PIM fit on %d edge pixels (RMS %.1f mm)", req.label, ex.size, rms)
        return w

    return fill
