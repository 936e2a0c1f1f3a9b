"""The SBAS/NSBAS kernel: exact weighted least squares, noise floor, gaps bridged and flagged, temporal coherence."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from subsidence.insar.convention import phase_rad_to_los_m
from subsidence.insar.sbas import (
    Network,
    connected_components,
    design_matrix,
    fisher_weights,
    invert_pixels,
    linear_fit,
    select_reference,
)
from subsidence.insar.stack import InSARInputError
from subsidence.insar.synthetic import SyntheticSource, SyntheticSpec, truth_los_m


def _net(n=12, links=3, gap_after=None):
    d = [date(2024, 1, 1) + timedelta(days=12 * k) for k in range(n)]
    pairs = [
        (d[i], d[j])
        for i in range(n)
        for j in range(i + 1, min(n, i + 1 + links))
        if not (gap_after is not None and i <= gap_after < j)
    ]
    return Network.from_pairs(pairs)


def test_design_matrix_rows_are_interval_indicators():
    A = design_matrix(np.array([0, 1, 0]), np.array([2, 3, 3]), 4)
    assert A.tolist() == [[1, 1, 0], [0, 1, 1], [1, 1, 1]]


@pytest.mark.parametrize("links", [4, 14], ids=["banded", "dense"])
def test_batched_solution_equals_per_pixel_weighted_lstsq(links):
    rng = np.random.default_rng(0)
    net = _net(15, links)
    P = 300
    truth = np.cumsum(rng.normal(0, 1, (net.n_dates, P)), axis=0)
    y = truth[net.idx2] - truth[net.idx1] + rng.normal(0, 0.2, (net.n_ifgs, P))
    y[rng.random(y.shape) < 0.1] = 0.0  # no-data per pixel
    w = fisher_weights(rng.uniform(0.1, 0.99, y.shape), looks=9)
    sol = invert_pixels(net, y, w, batch_pixels=64)
    checked = 0
    for p in range(P):
        if sol.n_components[p] != 1:
            continue
        v = y[:, p] != 0
        sw = np.sqrt(w[v, p])
        x = np.linalg.lstsq(net.A[v] * sw[:, None], y[v, p] * sw, rcond=None)[0]
        np.testing.assert_allclose(sol.phase_ts[1:, p], np.cumsum(x), atol=1e-9)
        checked += 1
    assert checked > 200
    assert (sol.n_valid == (y != 0).sum(axis=0)).all()


def test_no_pixel_dropped_because_one_interferogram_is_missing():
    net = _net(10, 3)
    truth = np.linspace(0, 9, 10)[:, None] * np.ones((1, 5))
    y = truth[net.idx2] - truth[net.idx1]
    y[3, :] = np.nan  # one interferogram missing everywhere
    y[5, 2] = 0.0  # and another at one pixel
    sol = invert_pixels(net, y)
    assert np.isfinite(sol.phase_ts).all()
    np.testing.assert_allclose(sol.phase_ts, truth - truth[0], atol=1e-9)
    assert sol.n_valid.tolist() == [net.n_ifgs - 1, net.n_ifgs - 1, net.n_ifgs - 2, net.n_ifgs - 1, net.n_ifgs - 1]
    assert not sol.bridged.any()


def test_connected_components_per_pixel():
    net = _net(6, 2)
    valid = np.ones((3, net.n_ifgs), bool)
    valid[1] = [not (a <= 2 < b) for a, b in zip(net.idx1, net.idx2)]  # cut between date 2 and 3
    valid[2] = [3 not in (a, b) for a, b in zip(net.idx1, net.idx2)]  # date 3 isolated
    assert connected_components(valid, net.idx1, net.idx2, net.n_dates).tolist() == [1, 2, 2]


def test_noise_floor_on_pim_bowl():
    """Recovered LOS time series of a PIM-like bowl is at the Cramer-Rao noise floor of the weighted network."""
    spec = SyntheticSpec(rows=20, cols=20, n_dates=30, nodata_fraction=0.05, offsets=False, seed=11)
    bd = SyntheticSource(spec).read_rows(0, spec.rows)
    net = Network.from_pairs(spec.pairs)
    m = net.n_ifgs
    ph, coh = bd.phase.reshape(m, -1), bd.coherence.reshape(m, -1)
    w = fisher_weights(coh, spec.looks)
    sol = invert_pixels(net, ph, w)
    est = phase_rad_to_los_m(sol.phase_ts, 0.05546576)
    truth = truth_los_m(spec).reshape(net.n_dates, -1)
    err = est - truth
    # Cramer-Rao bound per pixel: diag((A^T W A)^-1) of the cumulative values
    C = np.tril(np.ones((net.n_dates - 1, net.n_dates - 1)))
    crb = []
    for p in range(0, ph.shape[1], 7):
        v = ph[:, p] != 0
        if sol.n_components[p] != 1:
            continue
        N = net.A[v].T @ (w[v, p, None] * net.A[v])
        crb.append(np.diag(C @ np.linalg.inv(N) @ C.T))
    floor_m = np.sqrt(np.mean(crb)) * 0.05546576 / (4 * np.pi)
    rms = np.sqrt(np.nanmean(err[1:] ** 2))
    assert 0.7 * floor_m < rms < 1.3 * floor_m, (rms, floor_m)
    assert rms < 0.002  # < 2 mm on a 60 mm bowl


def test_gap_bridged_by_velocity_model_and_flagged_min_norm_loses_it():
    """A gap no interferogram spans: NSBAS recovers the linear motion and flags the pixels; MintPy-style
    minimum norm sets the motion across the gap to zero."""
    spec = SyntheticSpec(
        rows=12,
        cols=12,
        n_dates=30,
        gap_after=14,
        nodata_fraction=0.0,
        offsets=False,
        seed=5,
        coherence_range=(0.9, 0.95),
    )
    net = Network.from_pairs(spec.pairs)
    assert net.n_components() == 2
    assert len(net.gap_intervals()) == 1
    bd = SyntheticSource(spec).read_rows(0, spec.rows)
    m = net.n_ifgs
    ph, w = bd.phase.reshape(m, -1), fisher_weights(bd.coherence.reshape(m, -1), spec.looks)
    truth = truth_los_m(spec).reshape(net.n_dates, -1)
    nsbas = invert_pixels(net, ph, w, gap_mode="nsbas")
    mn = invert_pixels(net, ph, w, gap_mode="min-norm")
    none = invert_pixels(net, ph, w, gap_mode="none")
    assert nsbas.bridged.all() and not mn.bridged.any()
    assert np.isnan(none.phase_ts).all()
    d_ns = phase_rad_to_los_m(nsbas.phase_ts, 0.05546576)
    d_mn = phase_rad_to_los_m(mn.phase_ts, 0.05546576)
    centre = np.argmin(truth[-1])
    assert truth[-1, centre] < -0.05
    # NSBAS: within 1.5 mm of the truth everywhere (the truth is linear in time)
    assert np.max(np.abs(d_ns - truth)) < 0.0015
    # min-norm loses the motion of the gap interval (12 days of a 60 mm/yr-ish bowl ~ 2 mm) and more:
    # the second part is shifted by the lost increment
    lost = truth[15, centre] - truth[14, centre]
    assert abs(d_mn[15, centre] - d_mn[14, centre]) < 1e-6
    assert abs((d_mn[-1, centre] - truth[-1, centre]) - (-lost)) < 0.0015


def test_temporal_coherence_detects_unwrapping_error():
    net = _net(12, 3)
    truth = np.linspace(0, 5, 12)[:, None] * np.ones((1, 2))
    y = truth[net.idx2] - truth[net.idx1]
    y[4, 1] += 2 * np.pi * 0.5  # half-cycle error in one interferogram at pixel 1
    sol = invert_pixels(net, y)
    assert sol.temporal_coherence[0] == pytest.approx(1.0, abs=1e-9)
    assert sol.temporal_coherence[1] < 0.99


def test_network_rejects_bad_pairs():
    d1, d2 = date(2024, 1, 1), date(2024, 1, 13)
    with pytest.raises(InSARInputError, match="first date must be before"):
        Network.from_pairs([(d2, d1)])
    with pytest.raises(InSARInputError, match="no interferograms"):
        Network.from_pairs([])


def test_linear_fit_and_reference_choice_prefers_stable_coherent_complete():
    t = np.linspace(0, 1, 10)
    ts = np.outer(t, [0.0, -0.05, 0.001, 0.0]) + 0.002
    fit = linear_fit(ts, t)
    np.testing.assert_allclose(fit.velocity, [0.0, -0.05, 0.001, 0.0], atol=1e-12)
    np.testing.assert_allclose(fit.intercept, 0.002, atol=1e-12)
    choice = select_reference(
        np.array([0, 1, 2, 3]),
        np.array([5, 6, 7, 8]),
        temporal_coherence=np.array([0.99, 0.99, 0.95, 0.99]),
        full_data=np.array([True, True, True, False]),
        velocity=np.array([0.0, -0.05, 0.001, 0.0]),
    )
    assert (choice.row, choice.col) == (0, 5)
    assert "stable" in choice.reason and "every interferogram" in choice.reason
    with pytest.raises(InSARInputError, match="--ref-yx"):
        select_reference(np.array([0]), np.array([0]), np.array([1.0]), np.array([False]), np.array([0.0]))


def test_weights_follow_fisher_information_like_mintpy():
    w = fisher_weights(np.array([0.5, 0.0, np.nan, 1.0]), looks=10)
    assert w[0] == pytest.approx(2 * 10 * 0.25 / 0.75)
    assert w[1] == w[2] == pytest.approx(2 * 10 * 0.05**2 / (1 - 0.05**2))
    assert w[3] == pytest.approx(2 * 10 * 0.999**2 / (1 - 0.999**2))


def test_banded_nsbas_equals_dense_bordered_system():
    """The band + Schur-complement NSBAS solve gives the same answer as the dense bordered system."""
    from subsidence.insar.sbas import _band_to_full, _laplacian_band, _nsbas_banded

    rng = np.random.default_rng(3)
    net = _net(14, 3, gap_after=6)
    P = 50
    w = rng.uniform(0.5, 50, (net.n_ifgs, P))
    y = rng.normal(0, 3, (net.n_ifgs, P))
    bw = int((net.idx2 - net.idx1).max())
    Nb = _laplacian_band(w, net, bw)
    Ar = np.zeros((net.n_ifgs, net.n_dates))
    Ar[np.arange(net.n_ifgs), net.idx2] += 1
    Ar[np.arange(net.n_ifgs), net.idx1] -= 1
    rhs = Ar[:, 1:].T @ (w * y)
    g2 = 1e-6 * w.mean(axis=0)
    fast = _nsbas_banded(Nb, rhs, g2, net.t_years)
    n, k = net.n_dates, net.n_dates - 1
    G = np.zeros((n, n + 1))
    G[1:, :k] = np.eye(k)
    G[:, k] = -net.t_years
    G[:, k + 1] = -1
    Na = np.zeros((P, k + 2, k + 2))
    Na[:, :k, :k] = _band_to_full(Nb)
    Na += g2[:, None, None] * (G.T @ G)
    ba = np.zeros((P, k + 2))
    ba[:, :k] = rhs.T
    dense = np.linalg.solve(Na, ba[..., None])[..., 0][:, :k].T
    np.testing.assert_allclose(fast, dense, rtol=1e-6, atol=1e-6 * np.abs(dense).max())


def test_gap_with_nonlinear_knothe_growth_is_flagged_and_its_model_error_bounded():
    """The bridge is exact only for linear motion. With Knothe-shaped growth (fast, then slowing, as over a
    longwall panel) the bridged jump carries a model error: the pixels are flagged and each connected part stays
    exact. Measured here: ~18 % of the final displacement when the gap falls in the slowing phase, where the true
    jump is small — then minimum norm (which drops the jump, 4 % here) happens to be closer. That is why the
    bridged pixels are flagged: their cumulative value is a model estimate, not a measurement."""
    n, links, gap_after = 30, 3, 9
    d = [date(2024, 1, 1) + timedelta(days=12 * k) for k in range(n)]
    pairs = [(d[i], d[j]) for i in range(n) for j in range(i + 1, min(n, i + 1 + links)) if not (i <= gap_after < j)]
    net = Network.from_pairs(pairs)
    t = np.array([(x - d[0]).days for x in d], dtype=float)
    w0_m = np.array([-0.02, -0.06])  # LOS, negative = away from the satellite (sinking)
    truth = w0_m[None, :] * (1 - np.exp(-t / 120.0))[:, None]  # Knothe, c = 1/120 d
    wavelength = 0.05546576
    phase_ts = -4 * np.pi / wavelength * truth  # d = -λ/(4π)·φ  ⇒  φ = -4π/λ·d
    y = phase_ts[net.idx2] - phase_ts[net.idx1]
    ns = invert_pixels(net, y, gap_mode="nsbas")
    mn = invert_pixels(net, y, gap_mode="min-norm")
    assert ns.bridged.all()
    d_ns = phase_rad_to_los_m(ns.phase_ts, wavelength)
    d_mn = phase_rad_to_los_m(mn.phase_ts, wavelength)
    inc_ns, inc_truth = np.diff(d_ns, axis=0), np.diff(truth, axis=0)
    keep = np.arange(n - 1) != gap_after
    # each side of the gap exact to < 0.001 mm (the weak bridge rows pull by micrometres)
    assert np.max(np.abs(inc_ns[keep] - inc_truth[keep])) < 1e-6
    err_ns = np.abs(d_ns[-1] - truth[-1])
    err_mn = np.abs(d_mn[-1] - truth[-1])
    assert np.all(err_ns < 0.25 * np.abs(w0_m))  # a bounded model error, stated in the docstring
    assert np.all(err_mn > 0)  # minimum norm is not exact either: it drops the true jump
