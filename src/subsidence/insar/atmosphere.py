"""Atmospheric phase screen (APS) estimate of an InSAR time series and ramp removal — pure numpy/scipy kernels.

Method (spatio-temporal filtering, Ferretti et al. 2001; Hooper 2007 StaMPS ``scn_*`` step; see
docs/science/insar-atmosphere.md): the turbulent delay of an acquisition is random in time (independent from one
acquisition to the next at 6-12 day revisits) but correlated in space over hundreds of metres to kilometres;
deformation is correlated in time. So per pixel the series is split into a smooth temporal model — here a
Gaussian-weighted local linear regression in time with standard deviation ``time_sigma_days`` (a "running line";
exact for deformation that is linear within the window) — and its residual (temporal high-pass). The residual of
each date is then low-passed in space (normalised Gaussian convolution of standard deviation ``space_sigma_m`` over
the reliable pixels), which keeps the spatially correlated part (the APS) and rejects the pixel noise. The estimate
of every date is re-referenced to the first date (``aps_k - aps_0``: the time series is relative to the first date,
so the first date's own APS is in every later date) before it is subtracted.

What it cannot do: deformation that is not linear within ``time_sigma_days`` leaks into the high-pass (bias about
``time_sigma^2 / 2`` x acceleration, then kept by the spatial low-pass where the basin is wider than
``space_sigma_m``); atmosphere correlated in time (seasonal, topography-correlated stratified delay) is not removed.
``remove_ramp`` fits a plane (or a quadratic surface) per date to the reliable pixels; on a small scene a basin pulls
the plane, so it is off by default and only for scenes much larger than the basins (orbit / long-wave residuals).

Sign: the kernels are linear and unit-agnostic (the pipeline works in LOS metres, positive toward the satellite).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: dates needed before the APS filter is on by default (the temporal model needs several dates per window)
MIN_DATES_FOR_APS = 12
DEFAULT_TIME_SIGMA_DAYS = 60.0
DEFAULT_SPACE_SIGMA_M = 120.0
#: the temporal window is this many times wider at the first and the last date (see :func:`temporal_smoother`)
EDGE_WIDENING = 1.5
#: the Gaussian kernel is cut at this many standard deviations (scipy's ``truncate``)
TRUNCATE = 4.0


def temporal_smoother(t_days: np.ndarray, sigma_days: float, edge_widening: float = EDGE_WIDENING) -> np.ndarray:
    """(n, n) hat matrix H of a Gaussian-weighted local linear regression in time: smooth = H @ series.

    Row i fits a line to all dates with weights exp(-(t_j - t_i)^2 / (2 s_i^2)) and evaluates it at t_i. A line
    is reproduced exactly (H @ (a + b t) = a + b t), so linear deformation never enters the residual.
    At the ends of the series a one-sided window has few dates and a high leverage H_ii (0.36 at the ends against
    0.08 inside for 30 dates 12 days apart, sigma 60 d): the first and the last date — the ones a cumulative map is
    made of — would keep a third of their APS. So the window widens towards the ends: s_i = sigma x (1 +
    (edge_widening - 1) x max(0, 1 - d_i / (2 sigma))), d_i the time to the nearer end (``edge_widening`` = 1: a
    fixed window)."""
    t = np.asarray(t_days, dtype=np.float64)
    if sigma_days <= 0:
        raise ValueError("the temporal window (sigma) must be positive")
    n = t.size
    H = np.zeros((n, n))
    d_end = np.minimum(t - t.min(), t.max() - t)
    s_i = sigma_days * (1.0 + (edge_widening - 1.0) * np.clip(1.0 - d_end / (2.0 * sigma_days), 0.0, 1.0))
    for i in range(n):
        w = np.exp(-0.5 * ((t - t[i]) / s_i[i]) ** 2)
        X = np.stack([np.ones(n), t - t[i]], axis=1)
        XtW = X.T * w
        M = XtW @ X
        if np.linalg.cond(M) > 1e12:  # one date inside the window: constant fit
            H[i] = w / w.sum()
        else:
            H[i] = np.linalg.solve(M, XtW)[0]
    return H


def temporal_highpass(
    series: np.ndarray, t_days: np.ndarray, sigma_days: float, smoother: np.ndarray | None = None
) -> np.ndarray:
    """Residual of the local linear temporal model, ``series`` (n, ...) -> same shape, float32; NaN stays NaN.
    ``smoother``: the precomputed :func:`temporal_smoother` (saves its O(n^2) set-up per block)."""
    s = np.asarray(series, dtype=np.float32)
    H = temporal_smoother(t_days, sigma_days) if smoother is None else smoother
    flat = np.ascontiguousarray(s.reshape(s.shape[0], -1))
    return ((np.eye(H.shape[0]) - H).astype(np.float32) @ flat).reshape(s.shape)  # one float32 BLAS product


def _sigma2(sigma_px: float | tuple[float, float]) -> tuple[float, float]:
    return (float(sigma_px[0]), float(sigma_px[1])) if isinstance(sigma_px, tuple) else (float(sigma_px),) * 2


def decimation(sigma_px: float | tuple[float, float]) -> tuple[int, int]:
    """Coarse-grid factor per axis for the low-pass: floor(sigma / 2), at least 1 (the output varies on the scale
    of sigma, so a grid of sigma/2 loses nothing visible and saves f^2 of the filtering)."""
    sy, sx = _sigma2(sigma_px)
    return max(1, int(sy // 2)), max(1, int(sx // 2))


def _block_sum(a: np.ndarray, f: tuple[int, int]) -> np.ndarray:
    """Sum over f[0] x f[1] cells of the last two axes (zero-padded at the far edges); strided slices, no copy of
    a reshaped view (several times faster than ``reshape(...).sum``)."""
    *lead, R, C = a.shape
    Rp, Cp = -(-R // f[0]) * f[0], -(-C // f[1]) * f[1]
    if (Rp, Cp) != (R, C):
        pad = [(0, 0)] * len(lead) + [(0, Rp - R), (0, Cp - C)]
        a = np.pad(a, pad)
    out = None
    for i in range(f[0]):
        for j in range(f[1]):
            part = a[..., i :: f[0], j :: f[1]]
            out = part.astype(np.float32, copy=True) if out is None else np.add(out, part, out=out)
    return out


def _upsample(c: np.ndarray, f: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of coarse cells (centres at (i + 0.5) f - 0.5 fine pixels) back to ``shape``
    (edge cells held constant beyond the outermost centres). Integer factors: every fine phase p of an axis has
    the same two neighbours and weights, so it is two slices per phase, interleaved by a stack (contiguous)."""
    out = c
    for ax in (1, 0):  # columns first: the row pass then works on fewer values
        fa, n = f[ax], shape[ax]
        if fa == 1:
            continue
        axis = out.ndim - 2 + ax
        nc = out.shape[axis]
        pad = [(0, 0)] * out.ndim
        pad[axis] = (1, 1)
        cp = np.pad(out, pad, mode="edge")  # cp[i + 1] = c[i]
        parts = []
        for p in range(fa):
            u = (p + 0.5) / fa - 0.5  # position of fine phase p relative to its coarse cell's centre
            lo = int(np.floor(u))
            w = np.float32(u - lo)
            sl_lo = [slice(None)] * out.ndim
            sl_hi = [slice(None)] * out.ndim
            sl_lo[axis] = slice(1 + lo, 1 + lo + nc)
            sl_hi[axis] = slice(2 + lo, 2 + lo + nc)
            parts.append(cp[tuple(sl_lo)] * (1 - w) + cp[tuple(sl_hi)] * w)
        res = np.stack(parts, axis=axis + 1)
        new_shape = list(out.shape)
        new_shape[axis] = nc * fa
        res = res.reshape(new_shape)
        take = [slice(None)] * out.ndim
        take[axis] = slice(0, n)
        out = res[tuple(take)]
    return out


def spatial_lowpass(
    image: np.ndarray, weight: np.ndarray, sigma_px: float | tuple[float, float], min_weight: float = 1e-3
) -> np.ndarray:
    """Normalised Gaussian convolution: G*(w x) / G*w over the pixels with weight > 0 (NaN values get weight 0).

    ``image`` (rows, cols) or a stack (n, rows, cols) sharing ``weight`` (rows, cols); ``sigma_px``: one value or
    (along rows, along cols) in pixels (radar grids have unequal spacings). Computed on a coarse grid of
    :func:`decimation` cells (block sums, Gaussian of sigma / f, bilinear back), float32. Where the kernel sees
    (almost) no reliable pixel (G*w < ``min_weight``) the result is 0 (no correction)."""
    x = np.asarray(image, dtype=np.float32)
    shape = x.shape[-2:]
    w = np.asarray(weight, dtype=np.float32)
    fin = np.isfinite(x)
    shared = bool(fin.all())
    f = decimation(sigma_px)
    sy, sx = _sigma2(sigma_px)
    sig = (sy / f[0], sx / f[1])
    lead = (0,) * (x.ndim - 2)
    if shared:
        wx = x * w
        den = _block_sum(w, f)
        den = ndimage.gaussian_filter(den, sig, mode="constant", truncate=TRUNCATE)
    else:
        w_all = np.where(fin, w, np.float32(0))
        wx = np.where(w_all > 0, x, np.float32(0)) * w_all
        den = ndimage.gaussian_filter(_block_sum(w_all, f), lead + sig, mode="constant", truncate=TRUNCATE)
    num = ndimage.gaussian_filter(_block_sum(wx, f), lead + sig, mode="constant", truncate=TRUNCATE)
    cells = np.float32(f[0] * f[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den >= min_weight * cells, num / den, np.float32(0))
    ratio = _upsample(ratio, f, shape)
    den = _upsample(den, f, shape)
    return np.where(den >= min_weight * cells, ratio, np.float32(0))


def halo_rows(space_sigma_px: float | tuple[float, float]) -> int:
    """Rows of context a row block needs so that its spatial low-pass equals the full image's (a multiple of the
    coarse-grid factor, so that blocks share the whole image's coarse grid)."""
    sy, _ = _sigma2(space_sigma_px)
    f = decimation(space_sigma_px)[0]
    h = int(TRUNCATE * sy + 0.5) + 2 * f + 1
    return -(-h // f) * f


def estimate_aps(
    series: np.ndarray,
    t_days: np.ndarray,
    reliable: np.ndarray,
    *,
    time_sigma_days: float,
    space_sigma_px: float | tuple[float, float],
    smoother: np.ndarray | None = None,
) -> np.ndarray:
    """APS estimate of every date (n, rows, cols) float32, relative to the first date (its first layer is 0).

    ``series`` (n, rows, cols) relative to the first date; ``reliable`` (rows, cols) bool: the pixels the spatial
    filter averages (e.g. temporal coherence above the mask threshold). The estimate is defined on every pixel
    (0 far from any reliable pixel)."""
    s = np.asarray(series, dtype=np.float32)
    if s.ndim != 3:
        raise ValueError(f"expected (dates, rows, cols), got shape {s.shape}")
    hp = temporal_highpass(s, t_days, time_sigma_days, smoother)
    ok = np.asarray(reliable, bool) & np.isfinite(s).all(axis=0)
    hp[:, ~ok] = 0.0
    aps = spatial_lowpass(hp, ok.astype(np.float32), space_sigma_px)
    aps -= aps[0][None]
    return aps


def ramp_design(rows: np.ndarray, cols: np.ndarray, order: int) -> np.ndarray:
    """Columns of the ramp model at pixel (row, col) in units of the scene size: 1, x, y (order 1) [+ x^2, y^2, xy]."""
    x = np.asarray(cols, dtype=np.float64)
    y = np.asarray(rows, dtype=np.float64)
    cols_ = [np.ones_like(x), x, y]
    if order >= 2:
        cols_ += [x * x, y * y, x * y]
    if order not in (1, 2):
        raise ValueError("ramp order must be 1 (plane) or 2 (quadratic)")
    return np.stack(cols_, axis=-1)


class RampAccumulator:
    """Least-squares ramp per date accumulated over row blocks (normal equations), for bounded memory."""

    def __init__(self, n_dates: int, shape: tuple[int, int], order: int = 1):
        self.order = order
        self.shape = shape
        k = 3 if order == 1 else 6
        self.NtN = np.zeros((n_dates, k, k))
        self.Nty = np.zeros((n_dates, k))

    def _design(self, r0: int, r1: int) -> np.ndarray:
        L, W = self.shape
        rr, cc = np.mgrid[r0:r1, 0:W]
        return ramp_design(rr / max(L - 1, 1), cc / max(W - 1, 1), self.order)  # (rows, W, k)

    def add(self, r0: int, block: np.ndarray, reliable: np.ndarray) -> None:
        """``block`` (n, rows, W) from row r0; ``reliable`` (rows, W)."""
        X = self._design(r0, r0 + block.shape[1])
        for k in range(block.shape[0]):
            ok = reliable & np.isfinite(block[k])
            Xk = X[ok]
            self.NtN[k] += Xk.T @ Xk
            self.Nty[k] += Xk.T @ np.asarray(block[k][ok], np.float64)

    def coefficients(self) -> np.ndarray:
        k = self.NtN.shape[1]
        out = np.zeros((self.NtN.shape[0], k))
        for i in range(out.shape[0]):
            if np.linalg.matrix_rank(self.NtN[i]) == k:
                out[i] = np.linalg.solve(self.NtN[i], self.Nty[i])
        out -= out[0][None]  # relative to the first date like the series
        return out

    def ramp(self, coef: np.ndarray, r0: int, r1: int) -> np.ndarray:
        """(n, r1-r0, W) ramp values of rows [r0, r1)."""
        return np.einsum("rwk,nk->nrw", self._design(r0, r1), coef)


def remove_ramp(series: np.ndarray, reliable: np.ndarray, order: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Subtract a per-date plane (order 1) or quadratic surface (order 2) fitted to the reliable pixels.
    Returns (series without ramps, coefficients (n, 3|6)); ramps are relative to the first date."""
    s = np.asarray(series, dtype=np.float64)
    acc = RampAccumulator(s.shape[0], s.shape[1:], order)
    acc.add(0, s, np.asarray(reliable, bool))
    coef = acc.coefficients()
    return s - acc.ramp(coef, 0, s.shape[1]), coef
