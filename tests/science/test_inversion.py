"""Inversion recovers known parameters from noisy synthetic observations; refuses what data cannot resolve."""

from __future__ import annotations

import numpy as np
import pytest

from subsidence.science import inversion
from subsidence.science.pim import PanelGeometry, PIMParams, ScienceInputError, predict_points

TRUE = PIMParams(q=0.72, tan_beta=2.4, b=0.32, theta0_deg=90.0, s_m=25.0)
PANELS = [
    PanelGeometry.rectangle(0.0, 0.0, 1500.0, 300.0, azimuth_deg=120.0, thickness_m=4.0, depth_dip_m=200.0, name="a"),
    PanelGeometry.rectangle(
        170.0, 290.0, 1500.0, 250.0, azimuth_deg=120.0, thickness_m=4.0, depth_dip_m=210.0, name="b"
    ),
]


def synthetic(n=300, seed=1):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1200, 1300, n), rng.uniform(-1000, 1200, n)
    return rng, x, y, predict_points(PANELS, TRUE, x, y)


def test_recovers_parameters_from_levelling_and_gnss():
    """Noise: 5 mm vertical, 10 mm horizontal (Gaussian) plus 5 % gross outliers of 300 mm.
    Tolerance: q 2 %, tanβ 3 %, b 5 %, s ±5 m; the true value lies within 4 reported sigmas."""
    rng, x, y, f = synthetic()
    w = f.W + rng.normal(0, 5, x.size)
    out = rng.random(x.size) < 0.05
    w[out] += 300.0
    obs = inversion.PointObservations(
        x, y, w, f.base["ux"] + rng.normal(0, 10, x.size), f.base["uy"] + rng.normal(0, 10, x.size)
    )
    # start 40 % off the truth
    start = PIMParams(q=0.45, tan_beta=3.3, b=0.2, s_m=5.0)
    res = inversion.invert(PANELS, obs, initial=start, n_starts=4, seed=0)
    p = res.params
    assert p.q == pytest.approx(TRUE.q, rel=0.02)
    assert p.tan_beta == pytest.approx(TRUE.tan_beta, rel=0.03)
    assert p.b == pytest.approx(TRUE.b, rel=0.05)
    assert p.s_m == pytest.approx(TRUE.s_m, abs=5.0)
    for k in ("q", "tan_beta", "b", "s_m"):
        assert abs(getattr(p, k) - getattr(TRUE, k)) < 4 * res.std[k] + 1e-9, k
        assert res.resolved[k]
    assert "theta0_deg" in res.fixed  # flat seams: θ0 fixed, and said so
    assert res.residuals["points"].shape == (3 * x.size,)
    assert res.rms_mm > 0 and isinstance(res.rms_mm, float)
    js = res.to_json()
    assert PIMParams.from_dict(js) == p and "std" in js["inversion"]


def test_single_los_geometry_fixes_b_and_says_so():
    rng, x, y, f = synthetic(seed=2)
    u = inversion.los_unit_vector(39.0, -10.0)  # Sentinel-1 ascending
    los = f.base["ux"] * u[0] + f.base["uy"] * u[1] - f.W * u[2] + rng.normal(0, 3, x.size)
    res = inversion.invert(PANELS, inversion.LOSObservations(x, y, los, u), n_starts=3)
    assert "b" in res.fixed and "cannot resolve b" in res.fixed["b"]
    assert any("b not fitted" in w for w in res.warnings)
    assert res.params.b == 0.3  # the initial value, not a fitted one
    assert res.params.q == pytest.approx(TRUE.q, rel=0.05)


def test_two_los_geometries_resolve_b():
    rng, x, y, f = synthetic(n=400, seed=3)
    sets = []
    for inc, head, name in ((39.0, -10.0, "asc"), (36.0, 190.0, "desc")):
        u = inversion.los_unit_vector(inc, head)
        los = f.base["ux"] * u[0] + f.base["uy"] * u[1] - f.W * u[2] + rng.normal(0, 3, x.size)
        sets.append(inversion.LOSObservations(x, y, los, u, name=name))
    res = inversion.invert(PANELS, sets, n_starts=3)
    assert "b" not in res.fixed
    assert res.params.b == pytest.approx(TRUE.b, rel=0.1)


def test_los_unit_vector_and_sign():
    u = inversion.los_unit_vector(39.0, -10.0)
    assert np.linalg.norm(u) == pytest.approx(1.0)
    assert u[0] < 0 and u[2] > 0  # ascending right-looking: satellite to the west, above
    d = inversion.los_unit_vector(39.0, 190.0)
    assert d[0] > 0  # descending: satellite to the east
    with pytest.raises(ScienceInputError, match="unit"):
        inversion.LOSObservations([0.0], [0.0], [1.0], [0.0, 0.0, 2.0])


def test_unresolvable_parameter_is_flagged():
    """Points only over the flat basin bottom cannot see tanβ or s."""
    x = np.linspace(-300, 300, 30)
    y = np.zeros_like(x)
    big = [PanelGeometry.rectangle(0.0, 0.0, 4000.0, 3000.0, thickness_m=3.0, depth_dip_m=150.0)]
    w = predict_points(big, TRUE, x, y).W + np.random.default_rng(0).normal(0, 2, x.size)
    res = inversion.invert(big, inversion.PointObservations(x, y, w), fit=("q", "tan_beta", "s_m"), n_starts=2)
    assert res.params.q == pytest.approx(TRUE.q, rel=0.01)
    assert not res.resolved["tan_beta"]
    assert any("tan_beta is not resolved" in w for w in res.warnings)


def test_too_few_observations_refused():
    with pytest.raises(ScienceInputError, match="cannot determine"):
        inversion.invert(PANELS, inversion.PointObservations([0.0, 1.0], [0.0, 1.0], [1.0, 2.0]))


def test_dynamic_inversion_at_date():
    """Levelling during mining (face half-way): the dynamic model recovers q and tanβ (noise 3 mm; 3 %)."""
    from datetime import date

    from subsidence.science.dynamics import TimeFunction

    p = [
        PanelGeometry.rectangle(
            0.0,
            0.0,
            1600.0,
            300.0,
            azimuth_deg=90.0,
            thickness_m=4.0,
            depth_dip_m=200.0,
            start_date=date(2024, 1, 1),
            advance_m_per_day=10.0,
        )
    ]
    tf = TimeFunction("improved_knothe", c_per_day=0.02, k=2.0)
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-1200, 1200, 200), rng.uniform(-500, 500, 200)
    at = date(2024, 4, 1)
    truth = PIMParams(q=0.68, tan_beta=2.3, b=0.3, s_m=10.0)
    w = predict_points(p, truth, x, y, at=at, time_function=tf).W + rng.normal(0, 3, x.size)
    res = inversion.invert(
        p,
        inversion.PointObservations(x, y, w),
        fit=("q", "tan_beta"),
        initial=PIMParams(q=0.5, tan_beta=3.0, s_m=10.0),
        at=at,
        time_function=tf,
        n_starts=2,
    )
    assert res.params.q == pytest.approx(0.68, rel=0.03)
    assert res.params.tan_beta == pytest.approx(2.3, rel=0.03)
