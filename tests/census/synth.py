"""Synthetic truth for the census tests: PIM-like bowls over rectangular panels (erf profiles, docs/science.md §1)."""

from __future__ import annotations

import numpy as np
from affine import Affine
from scipy.special import erf

from subsidence.census.kernels.grid import Grid

#: a 30 m grid in CGCS2000 GK CM111E (the storage CRS), origin near Wulanmulun
X0, Y0 = 400_000.0, 4_370_000.0  # EPSG:4546 has no zone prefix (false easting 500 km)


def grid(n: int = 160, m: int | None = None, px: float = 30.0, crs: str = "EPSG:4546") -> Grid:
    return Grid.make(Affine(px, 0, X0, 0, -px, Y0), crs, (n, m or n))


def profile(u: np.ndarray, length: float, r: float) -> np.ndarray:
    """C(u) = ½[erf(√π·u/r) − erf(√π·(u−l)/r)]; ∫C du = l."""
    s = np.sqrt(np.pi)
    return 0.5 * (erf(s * u / r) - erf(s * (u - length) / r))


def bowl(g: Grid, x_start: float, y_start: float, lx: float, ly: float, w0_mm: float, r: float) -> np.ndarray:
    """Subsidence (mm, down) of a rectangular panel with inflection rectangle [x_start, x_start+lx] × [y_start, +ly].

    Its volume is exactly w0·lx·ly (mm·m²) over the infinite plane.
    """
    x, y = g.centres()
    return w0_mm * profile(x - x_start, lx, r) * profile(y - y_start, ly, r)
