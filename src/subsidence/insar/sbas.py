"""Small-baseline (SBAS) time-series inversion with NSBAS gap bridging — pure numpy, batched over pixels.

Model. Dates t_0 < ... < t_{n-1}; unknowns are the n-1 phase increments x_j = phi(t_{j+1}) - phi(t_j) (radians).
An unwrapped interferogram (date1, date2) observes y_i = phi(date2) - phi(date1) = sum of the increments between
its dates, so the design matrix ``A`` (m x n-1) has A[i, j] = 1 for idx1_i <= j < idx2_i (:func:`design_matrix`).

Weighted least squares per pixel p: minimise sum_i w_ip (y_ip - A_i x_p)^2 over the rows valid *for that pixel*
(no-data = NaN or exactly 0 phase drops that row for that pixel only; no pixel is dropped because one interferogram
is missing). Weights are the Fisher information of the phase, w = 2 L gamma^2 / (1 - gamma^2) (Seymour & Cumming
1994; MintPy ``--weight-func fim``, with MintPy's clipping of gamma to [0.05, 0.999]).

No per-pixel Python loop: pixels are solved in batches with every step vectorised over the batch. In the
cumulative parameterisation (phi(t_0) = 0) the normal matrix A_r^T W_p A_r is the weighted graph Laplacian of the
pixel's network, banded with half-bandwidth max(idx2 - idx1) (3-5 for the usual nearest-neighbour networks), so a
batched band Cholesky costs O(n bw^2) per pixel instead of O(n^3); wide networks (yearly pairs) use a batched
dense LAPACK solve. Zero pivots of the band Cholesky reveal disconnected pixels at no extra cost. No grouping by
no-data pattern is needed: with per-pixel coherence weights every pixel has its own normal matrix anyway.

Gaps. When a pixel's valid rows do not connect all dates (a network gap, or a date whose every interferogram is
no-data at that pixel), A^T W A is singular: MintPy's minimum-norm solution then sets the motion across the gap to
zero and silently loses subsidence. We do what NSBAS does (Lopez-Quiroz et al. 2009; LiCSBAS ``inv_nsbas``): add weak
rows gamma_b * (cum(t_k) - v t_k - c) = 0 for every date, with v, c extra unknowns, so the increments across the gap
come from a linear velocity model fitted to the connected parts. The weak rows are added **only** to pixels whose
network is disconnected, so connected pixels get the exact weighted least-squares answer; bridged pixels are flagged.

Temporal coherence (Pepe & Lanari 2006): |sum_i exp(j r_i)| / N over the pixel's valid rows, r = y - A x (radians).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from subsidence.insar.stack import InSARInputError, yyyymmdd

DAYS_PER_YEAR = 365.25
#: MintPy's clipping of coherence before converting it to a weight (``coherence2weight`` epsilon, FIM epsilon).
MIN_COHERENCE_FOR_WEIGHT = 0.05
MAX_COHERENCE_FOR_WEIGHT = 0.999
#: Weak-row weight of the NSBAS bridge relative to the pixel's mean interferogram weight (squared gamma_b).
DEFAULT_BRIDGE_WEIGHT = 1e-6

GapMode = Literal["nsbas", "min-norm", "none"]


@dataclass(frozen=True)
class Network:
    """The interferogram network: dates, pairs as date indices, time since the first date, design matrix."""

    dates: tuple[date, ...]
    pairs: tuple[tuple[date, date], ...]
    idx1: np.ndarray
    idx2: np.ndarray
    t_years: np.ndarray
    A: np.ndarray = field(repr=False)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[date, date]]) -> Network:
        pairs = tuple((a, b) for a, b in pairs)
        if not pairs:
            raise InSARInputError("the stack has no interferograms")
        if len({d for p in pairs for d in p}) < 2:
            raise InSARInputError("the stack has only one acquisition date; a time series needs at least two")
        for a, b in pairs:
            if not a < b:
                raise InSARInputError(
                    f"interferogram {yyyymmdd(a)}_{yyyymmdd(b)}: the first date must be before the second "
                    "(reference date first); rename it or negate its phase"
                )
        dates = tuple(sorted({d for p in pairs for d in p}))
        if len(dates) < 2:
            raise InSARInputError("the stack has only one acquisition date; a time series needs at least two")
        index = {d: i for i, d in enumerate(dates)}
        idx1 = np.array([index[a] for a, _ in pairs], dtype=np.intp)
        idx2 = np.array([index[b] for _, b in pairs], dtype=np.intp)
        t = np.array([(d - dates[0]).days for d in dates], dtype=float) / DAYS_PER_YEAR
        return cls(dates, pairs, idx1, idx2, t, design_matrix(idx1, idx2, len(dates)))

    @property
    def n_dates(self) -> int:
        return len(self.dates)

    @property
    def n_ifgs(self) -> int:
        return len(self.pairs)

    def gap_intervals(self) -> list[tuple[date, date]]:
        """Consecutive-date intervals that no interferogram spans (the network-level gaps)."""
        spanned = self.A.any(axis=0)
        return [(self.dates[j], self.dates[j + 1]) for j in np.flatnonzero(~spanned)]

    def n_components(self) -> int:
        """Connected components of the whole network (1 = connected)."""
        return int(connected_components(np.ones((1, self.n_ifgs), bool), self.idx1, self.idx2, self.n_dates)[0])


def design_matrix(idx1: np.ndarray, idx2: np.ndarray, n_dates: int) -> np.ndarray:
    """Increment design matrix (m, n_dates-1): A[i, j] = 1 for idx1[i] <= j < idx2[i]."""
    j = np.arange(n_dates - 1)
    return ((j[None, :] >= idx1[:, None]) & (j[None, :] < idx2[:, None])).astype(np.float64)


def fisher_weights(coherence: ArrayLike, looks: float = 1.0) -> np.ndarray:
    """Fisher-information weight 2 L gamma^2 / (1 - gamma^2) (1/rad^2); gamma clipped to [0.05, 0.999], NaN -> 0.05."""
    g = np.fmax(np.asarray(coherence, dtype=np.float64), MIN_COHERENCE_FOR_WEIGHT)  # fmax: NaN -> the minimum
    np.minimum(g, MAX_COHERENCE_FOR_WEIGHT, out=g)
    g *= g
    return (2.0 * max(float(looks), 1.0)) * g / (1.0 - g)


def valid_mask(phase: np.ndarray) -> np.ndarray:
    """True where the unwrapped phase is data: finite and not exactly 0 (MintPy/LiCSBAS no-data)."""
    return np.isfinite(phase) & (phase != 0)


def connected_components(valid: np.ndarray, idx1: np.ndarray, idx2: np.ndarray, n_dates: int) -> np.ndarray:
    """Number of connected components of each pixel's network of valid interferograms.

    ``valid`` is (P, m). Min-label propagation over the edges, vectorised over pixels; converges in a few sweeps.
    A date with no valid interferogram is a component of its own.
    """
    P = valid.shape[0]
    lab = np.broadcast_to(np.arange(n_dates, dtype=np.int32), (P, n_dates)).copy()
    order = np.lexsort((idx2, idx1))
    for _ in range(n_dates + 1):
        changed = False
        for i in order:
            a, b = idx1[i], idx2[i]
            la, lb = lab[:, a], lab[:, b]
            v = valid[:, i]
            lo = np.minimum(la, lb)
            upd = v & (la != lb)
            if upd.any():
                changed = True
                lab[upd, a] = lo[upd]
                lab[upd, b] = lo[upd]
        if not changed:
            break
    return (lab == np.arange(n_dates, dtype=np.int32)).sum(axis=1)


@dataclass
class SbasSolution:
    """Result for P pixels. ``phase_ts`` (n_dates, P) radians, first date 0, NaN where not solved."""

    phase_ts: np.ndarray
    temporal_coherence: np.ndarray  # (P,) float32, NaN where not solved
    n_valid: np.ndarray  # (P,) int16, interferograms used
    n_components: np.ndarray  # (P,) int16, components of the pixel's valid network (1 = connected)
    bridged: np.ndarray  # (P,) bool, True where the NSBAS velocity model bridged a gap


#: Above this half-bandwidth the band Cholesky does as much work as a dense one: use LAPACK instead.
MAX_BAND_FOR_BANDED_SOLVE = 16


def _laplacian_band(w: np.ndarray, net: Network, bw: int) -> np.ndarray:
    """Reduced weighted graph Laplacian in lower band storage, pixels last: (bw+1, n-1, P) with
    ``Nb[d, j] = N[j + d, j]``; N = A_r^T diag(w_p) A_r, A_r the incidence matrix (-1 at date1, +1 at date2) without
    the first date's column (phi(t_0) = 0). Row i of A_r touches only dates idx1..idx2, so N is banded."""
    k = net.n_dates - 1
    P = w.shape[1]
    Nb = np.zeros((bw + 1, k, P))
    for i in range(net.n_ifgs):
        a, b = int(net.idx1[i]), int(net.idx2[i])
        wi = w[i]
        Nb[0, b - 1] += wi
        if a >= 1:
            Nb[0, a - 1] += wi
            Nb[b - a, a - 1] -= wi
    return Nb


def _band_to_full(Nb: np.ndarray) -> np.ndarray:
    """(bw+1, k, P) lower band storage -> (P, k, k) symmetric matrices."""
    bw1, k, P = Nb.shape
    N = np.zeros((P, k, k))
    for d in range(bw1):
        j = np.arange(k - d)
        N[:, j + d, j] = Nb[d, : k - d].T
        if d:
            N[:, j, j + d] = Nb[d, : k - d].T
    return N


def _banded_cholesky_solve(Nb: np.ndarray, r: np.ndarray, rtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Solve N x = r for a stack of SPD band matrices in lower band storage (bw+1, k, P) (overwritten), r (k, P).

    Right-looking Cholesky inside the band: O(k bw^2) per pixel, every step vectorised over pixels. A pivot <=
    rtol * its original diagonal marks the pixel singular (for a graph Laplacian: the network is disconnected; the
    number of such pivots is components - 1). Returns (x, n_zero_pivots).
    """
    bw = Nb.shape[0] - 1
    k, P = Nb.shape[1], Nb.shape[2]
    d = np.empty((k, P))
    nzero = np.zeros(P, dtype=np.int16)
    diag0 = Nb[0].copy()
    # trailing update pairs (d1 >= d2 >= 1): N[j+d1, j+d2] -> Nb[d1 - d2, j + d2]
    d1s, d2s = np.tril_indices(bw)
    d1s, d2s = d1s + 1, d2s + 1
    for j in range(k):
        piv = Nb[0, j]
        bad = ~(piv > rtol * diag0[j])
        e = min(bw, k - 1 - j)  # entries below the diagonal in this column
        if bad.any():
            nzero += bad
            piv = np.where(bad, 1.0, piv)
            if e:
                Nb[1 : e + 1, j][:, bad] = 0.0
        dj = np.sqrt(piv)
        d[j] = dj
        if e:
            c = Nb[1 : e + 1, j] / dj
            Nb[1 : e + 1, j] = c
            sel = d1s <= e
            a1, a2 = d1s[sel], d2s[sel]
            Nb[a1 - a2, j + a2] -= c[a1 - 1] * c[a2 - 1]
    z = np.array(r, dtype=np.float64, copy=True)  # (k, P) or (k, q, P)
    vec = z.ndim == 2
    if vec:
        z = z[:, None, :]
    for j in range(k):
        z[j] /= d[j]
        e = min(bw, k - 1 - j)
        if e:
            z[j + 1 : j + 1 + e] -= Nb[1 : e + 1, j][:, None, :] * z[j][None]
    for j in range(k - 1, -1, -1):
        e = min(bw, k - 1 - j)
        if e:
            z[j] -= np.einsum("ip,iqp->qp", Nb[1 : e + 1, j], z[j + 1 : j + 1 + e])
        z[j] /= d[j]
    return (z[:, 0, :] if vec else z), nzero


def _nsbas_banded(Nb: np.ndarray, rhs: np.ndarray, g2: np.ndarray, t: np.ndarray) -> np.ndarray:
    """NSBAS solve for disconnected pixels without leaving the band: unknowns [phi_1..phi_{n-1}, v, c].

    The weak rows phi_k - v t_k - c (k = 0..n-1, weight g2) add g2*I to the Laplacian plus a rank-2 border
    (v, c), so with M = N + g2 I (banded, SPD even when N is singular) and B0 = [-t_k, -1]:
        [M, g2 B0; g2 B0^T, g2 D0] [phi; v, c] = [rhs; 0],  D0 = [[sum t^2, sum t], [sum t, n]].
    Block elimination: M [X1, Y] = [rhs, B0] (band Cholesky, 3 right-hand sides), a 2x2 Schur complement per
    pixel for (v, c), then phi = X1 - g2 Y (v, c). Same solution as the dense bordered system.
    """
    k, P = rhs.shape
    M = Nb.copy()
    M[0] += g2
    B0 = np.stack([-t[1:], -np.ones(k)], axis=1)  # (k, 2)
    R = np.empty((k, 3, P))
    R[:, 0] = rhs
    R[:, 1:] = B0[:, :, None]
    X, _ = _banded_cholesky_solve(M, R, rtol=0.0)
    X1, Y = X[:, 0], X[:, 1:]
    D0 = np.array([[t @ t, t.sum()], [t.sum(), float(len(t))]])
    S = g2 * (D0[:, :, None] - g2 * np.einsum("ka,kbp->abp", B0, Y))  # (2, 2, P)
    sr = -g2 * np.einsum("ka,kp->ap", B0, X1)  # (2, P)
    det = S[0, 0] * S[1, 1] - S[0, 1] * S[1, 0]
    v = (S[1, 1] * sr[0] - S[0, 1] * sr[1]) / det
    c = (S[0, 0] * sr[1] - S[1, 0] * sr[0]) / det
    return X1 - g2 * (Y[:, 0] * v + Y[:, 1] * c)


def invert_pixels(
    net: Network,
    phase: np.ndarray,
    weight: np.ndarray | None = None,
    valid: np.ndarray | None = None,
    *,
    coherence: np.ndarray | None = None,
    looks: float = 1.0,
    phase_offset: np.ndarray | None = None,
    gap_mode: GapMode = "nsbas",
    bridge_weight: float = DEFAULT_BRIDGE_WEIGHT,
    batch_pixels: int = 4096,
) -> SbasSolution:
    """Invert unwrapped phase (m, P) radians (already referenced) into a phase time series per pixel.

    ``weight`` (m, P): per-pixel row weights (e.g. :func:`fisher_weights`), None for unweighted.
    ``valid`` (m, P): usable rows; default :func:`valid_mask` of ``phase``.
    ``coherence`` (m, P) with ``looks``: instead of ``weight``, Fisher weights computed batch by batch (bounded memory).
    ``phase_offset`` (m,): subtracted from every pixel's valid rows (the reference pixel's phase), batch by batch.
    ``gap_mode``: "nsbas" bridges disconnected pixels with the velocity model (flagged); "min-norm" reproduces
    MintPy's minimum-norm answer (the motion across a gap is set to zero); "none" leaves such pixels NaN.

    Solved in the cumulative parameterisation phi(t_1..t_{n-1}) (phi(t_0) = 0), where the normal matrix is the
    weighted graph Laplacian of the pixel's network: banded with half-bandwidth max(idx2 - idx1), so a batched band
    Cholesky costs O(n bw^2) per pixel; its zero pivots detect disconnected pixels, which get the NSBAS system.
    Same least-squares problem as the increment form in the module docstring (a change of variables).
    """
    phase = np.asarray(phase)
    m, P = phase.shape
    if m != net.n_ifgs:
        raise ValueError(f"phase has {m} rows but the network has {net.n_ifgs} interferograms")
    if valid is None:
        valid = valid_mask(phase)
    n = net.n_dates
    k = n - 1
    bw = int((net.idx2 - net.idx1).max())
    out_ts = np.full((n, P), np.nan, dtype=np.float64)
    out_tc = np.full(P, np.nan, dtype=np.float32)
    out_nv = np.zeros(P, dtype=np.int16)
    out_nc = np.zeros(P, dtype=np.int16)
    out_br = np.zeros(P, dtype=bool)
    # signed incidence without the first date: y = Ar @ phi[1:]
    Ar = np.zeros((m, n))
    Ar[np.arange(m), net.idx2] += 1.0
    Ar[np.arange(m), net.idx1] -= 1.0
    Ar = Ar[:, 1:]
    # sparse products (2 non-zeros per row) instead of BLAS: no thread oversubscription under Dask workers
    from scipy import sparse

    Ar_s = sparse.csr_matrix(Ar)
    ArT_s = sparse.csr_matrix(Ar.T)
    # NSBAS weak rows G z = 0, z = [phi_1..phi_{n-1}, v, c]: phi_k - v t_k - c for k = 0..n-1
    G = np.zeros((n, n + 1))
    G[1:, :k] = np.eye(k)
    G[:, k] = -net.t_years
    G[:, k + 1] = -1.0
    GtG = G.T @ G
    C = np.tril(np.ones((k, k)))  # increments -> cumulative (for the min-norm mode)

    for s in range(0, P, batch_pixels):
        sl = slice(s, min(s + batch_pixels, P))
        v = np.asarray(valid[:, sl])
        yb = np.asarray(phase[:, sl], dtype=np.float64)
        if phase_offset is not None:
            yb = yb - np.asarray(phase_offset, dtype=np.float64)[:, None]
        y = np.where(v, yb, 0.0)  # (m, p)
        if weight is not None:
            w = np.where(v, np.asarray(weight[:, sl], dtype=np.float64), 0.0)
        elif coherence is not None:
            w = np.where(v, fisher_weights(coherence[:, sl], looks), 0.0)
        else:
            w = v.astype(np.float64)
        nv = v.sum(axis=0)
        ok = nv > 0
        Nb = _laplacian_band(w, net, bw)  # (bw+1, k, p)
        rhs = np.asarray(ArT_s @ (w * y))  # (k, p)
        if bw <= MAX_BAND_FOR_BANDED_SOLVE:
            phi, nzero = _banded_cholesky_solve(Nb.copy(), rhs)
            ncomp = (nzero + 1).astype(np.int16)
        else:
            ncomp = connected_components(v.T, net.idx1, net.idx2, n).astype(np.int16)
            phi = np.full((k, v.shape[1]), np.nan)
            conn = ok & (ncomp == 1)
            if conn.any():
                phi[:, conn] = np.linalg.solve(_band_to_full(Nb[:, :, conn]), rhs[:, conn].T[..., None])[..., 0].T
        phi[:, ~(ok & (ncomp == 1))] = np.nan
        disc = ok & (ncomp > 1)
        bridged = np.zeros_like(ok)
        if disc.any() and gap_mode == "nsbas" and bw <= MAX_BAND_FOR_BANDED_SOLVE:
            g2 = bridge_weight * w[:, disc].sum(axis=0) / nv[disc]
            phi[:, disc] = _nsbas_banded(Nb[:, :, disc], rhs[:, disc], g2, net.t_years)
            bridged = disc
        elif disc.any() and gap_mode == "nsbas":
            Nd = _band_to_full(Nb[:, :, disc])
            cnt = Nd.shape[0]
            Na = np.zeros((cnt, k + 2, k + 2))
            Na[:, :k, :k] = Nd
            g2 = bridge_weight * w[:, disc].sum(axis=0) / nv[disc]
            Na += g2[:, None, None] * GtG
            ba = np.zeros((cnt, k + 2))
            ba[:, :k] = rhs[:, disc].T
            phi[:, disc] = np.linalg.solve(Na, ba[..., None])[..., 0][:, :k].T
            bridged = disc
        elif disc.any() and gap_mode == "min-norm":
            Nd = _band_to_full(Nb[:, :, disc])
            Ni = C.T @ Nd @ C  # normal matrix of the increments
            eps = 1e-10 * np.trace(Ni, axis1=1, axis2=2) / k
            inc = np.linalg.solve(Ni + eps[:, None, None] * np.eye(k), (C.T @ rhs[:, disc]).T[..., None])[..., 0]
            phi[:, disc] = (inc @ C.T).T
        solved = np.isfinite(phi).all(axis=0)
        r = (y - np.asarray(Ar_s @ np.nan_to_num(phi))).astype(np.float32)
        cs = np.where(v, np.cos(r), 0.0).sum(axis=0, dtype=np.float64)
        sn = np.where(v, np.sin(r), 0.0).sum(axis=0, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            tc = np.hypot(cs, sn) / nv
        ts = np.zeros((n, v.shape[1]))
        ts[1:] = phi
        ts[:, ~solved] = np.nan
        out_ts[:, sl] = ts
        out_tc[sl] = np.where(solved, tc, np.nan)
        out_nv[sl] = nv
        out_nc[sl] = np.where(ok, ncomp, 0)
        out_br[sl] = bridged
    return SbasSolution(out_ts, out_tc, out_nv, out_nc, out_br)


@dataclass
class LinearFit:
    """Per-pixel linear fit d(t) = velocity * t + intercept (t in years since the first date)."""

    velocity: np.ndarray
    velocity_std: np.ndarray
    intercept: np.ndarray
    intercept_std: np.ndarray
    residue: np.ndarray  # L2 norm of the residual (MintPy ``residue``)


def linear_fit(ts: np.ndarray, t_years: np.ndarray) -> LinearFit:
    """Least-squares line through each column of ``ts`` (n, P); std from the residual (n - 2 dof).

    Closed form with centred time (no BLAS call, so no thread oversubscription inside Dask workers).
    """
    n = ts.shape[0]
    t = np.asarray(t_years, dtype=np.float64)
    tm = t.mean()
    tc = t - tm
    stt = float(tc @ tc)
    ymean = ts.mean(axis=0)
    vel = np.einsum("i,ip->p", tc, ts) / stt
    icp = ymean - vel * tm
    res = ts - (vel[None, :] * t[:, None] + icp[None, :])
    e2 = np.einsum("ip,ip->p", res, res)
    sigma2 = e2 / max(n - 2, 1)
    return LinearFit(
        velocity=vel,
        velocity_std=np.sqrt(sigma2 / stt),
        intercept=icp,
        intercept_std=np.sqrt(sigma2 * (1.0 / n + tm * tm / stt)),
        residue=np.sqrt(e2),
    )


@dataclass
class ReferenceChoice:
    """The reference pixel and why it was chosen (reported to the user and stored in the outputs)."""

    row: int
    col: int
    method: str  # "auto", "file", "user"
    reason: str
    temporal_coherence: float | None = None
    mean_coherence: float | None = None
    relative_velocity_m_per_yr: float | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def select_reference(
    rows: np.ndarray,
    cols: np.ndarray,
    temporal_coherence: np.ndarray,
    full_data: np.ndarray,
    velocity: np.ndarray,
    mean_coherence: np.ndarray | None = None,
    *,
    min_temporal_coherence: float = 0.85,
) -> ReferenceChoice:
    """Choose a reference pixel among candidate pixels (1-D arrays over candidates).

    Required: data in every interferogram (``full_data``) and temporal coherence >= ``min_temporal_coherence``
    (relaxed to the best available if nobody qualifies). Among those, the score prefers pixels that are
    *stable* — velocity close to the scene median, in units of its robust spread (most of a county is not
    mining) — and coherent: score = tcoh * mean_coh * exp(-|v - median(v)| / (1.4826 MAD(v))).
    """
    tc = np.asarray(temporal_coherence, dtype=float)
    ok = np.asarray(full_data, bool) & np.isfinite(tc) & np.isfinite(velocity)
    if not ok.any():
        raise InSARInputError(
            "no pixel has data in every interferogram, so no reference point can be chosen automatically; "
            "give one with --ref-yx ROW,COL or check the no-data masks of the interferograms"
        )
    thr = min_temporal_coherence
    good = ok & (tc >= thr)
    if not good.any():
        thr = float(np.nanmax(tc[ok]))
        good = ok & (tc >= thr)
    v = np.asarray(velocity, dtype=float)
    med = float(np.median(v[ok]))
    mad = float(np.median(np.abs(v[ok] - med))) * 1.4826
    scale = mad if mad > 0 else max(abs(med), 1e-6)
    mc = np.ones_like(tc) if mean_coherence is None else np.nan_to_num(np.asarray(mean_coherence, float))
    score = np.where(good, tc * mc * np.exp(-np.abs(v - med) / scale), -np.inf)
    k = int(np.argmax(score))
    reason = (
        f"data in every interferogram; temporal coherence {tc[k]:.3f} (threshold {thr:.2f})"
        + (f", mean spatial coherence {mc[k]:.2f}" if mean_coherence is not None else "")
        + f"; velocity {1000 * (v[k] - med):+.1f} mm/yr from the scene median (robust spread "
        f"{1000 * scale:.1f} mm/yr), i.e. stable ground; best of {int(good.sum())} qualifying pixels"
    )
    return ReferenceChoice(
        row=int(rows[k]),
        col=int(cols[k]),
        method="auto",
        reason=reason,
        temporal_coherence=float(tc[k]),
        mean_coherence=None if mean_coherence is None else float(mc[k]),
        relative_velocity_m_per_yr=float(v[k] - med),
    )
