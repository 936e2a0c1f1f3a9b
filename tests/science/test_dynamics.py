"""Dynamic prediction: time functions, face advance, convergence to the static basin, rates."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from subsidence.science import dynamics
from subsidence.science.dynamics import TimeFunction
from subsidence.science.pim import (
    PanelGeometry,
    PIMParams,
    predict_grid,
    predict_points,
)

PARAMS = PIMParams(q=0.7, tan_beta=2.2, b=0.3, s_m=10.0)


def panel(**kw):
    base = {"thickness_m": 3.0, "depth_dip_m": 150.0, "start_date": date(2024, 1, 1), "advance_m_per_day": 12.0}
    base.update(kw)
    return PanelGeometry.rectangle(0.0, 0.0, 1200.0, 240.0, azimuth_deg=90.0, **base)


@pytest.mark.parametrize("kind", dynamics.KINDS)
def test_time_functions_reach_98_percent_at_duration(kind):
    tf = TimeFunction(kind, duration_days=400.0)
    assert float(tf.value(400.0)) == pytest.approx(0.98, abs=1e-9)
    assert float(tf.value(-5.0)) == 0.0
    ages = np.linspace(0, 2000, 4001)
    v = tf.value(ages)
    assert np.all(np.diff(v) >= -1e-15) and v[-1] == pytest.approx(1.0, abs=1e-6)
    # the rate is the derivative of the value
    r = tf.as_rate().value(ages[1:-1])
    fd = (v[2:] - v[:-2]) / (ages[2:] - ages[:-2])
    smooth = np.abs(ages[1:-1] - 200.0) > 1.0  # the segmented function's rate has a cusp at T/2
    np.testing.assert_allclose(r[smooth], fd[smooth], atol=2e-6)


def test_knothe_constant_from_duration_and_depth():
    assert dynamics.time_constant_from_duration(250.0) == pytest.approx(-math.log(0.02) / 250.0)
    assert dynamics.movement_duration_days(200.0) == pytest.approx(500.0)  # T = 2.5 H0
    # the 2017 code's duration is still available, but no longer the default (too slow for Shendong)
    c, t = TimeFunction("knothe", c_basis="code_duration").constants(200.0)
    assert t == pytest.approx(500.0) and c == pytest.approx(-math.log(0.02) / 500.0)
    c, t = TimeFunction().constants(200.0)  # default: improved Knothe, Shendong calibration c = kappa / H0
    assert c == pytest.approx(dynamics.SHENDONG_KAPPA_M_PER_DAY["improved_knothe"] / 200.0)
    assert float(TimeFunction(c_per_day=c).value(t)) == pytest.approx(0.98)


def test_peak_rate_timing():
    ages = np.linspace(0, 1000, 10001)
    assert ages[np.argmax(TimeFunction("knothe", duration_days=500).as_rate().value(ages))] == 0.0
    assert ages[np.argmax(TimeFunction("segmented_knothe", duration_days=500).as_rate().value(ages))] == pytest.approx(
        250.0, abs=0.2
    )
    assert ages[np.argmax(TimeFunction("improved_knothe", duration_days=500).as_rate().value(ages))] > 50


@pytest.mark.parametrize("kind", dynamics.KINDS)
def test_dynamic_tends_to_static(kind):
    p = panel()
    x = np.linspace(-900, 900, 37)
    X, Y = np.meshgrid(x, x / 2)
    static = predict_points(p, PARAMS, X, Y)
    late = predict_points(p, PARAMS, X, Y, at=date(2040, 1, 1), time_function=TimeFunction(kind))
    for k in static.base:
        scale = np.abs(static.base[k]).max()
        assert np.abs(late.base[k] - static.base[k]).max() < 1e-6 * scale, k
    # before the start nothing moves; progress is monotone in time at every point
    assert np.all(predict_points(p, PARAMS, X, Y, at=date(2023, 12, 31), time_function=TimeFunction(kind)).W == 0)
    prev = np.zeros(X.shape)
    for d in (date(2024, 2, 1), date(2024, 3, 1), date(2024, 6, 1), date(2025, 1, 1)):
        w = predict_points(p, PARAMS, X, Y, at=d, time_function=TimeFunction(kind), components=["subsidence_mm"]).W
        assert np.all(w >= prev - 1e-9)
        prev = w


def test_face_advance_direction_and_mined_fraction():
    p = panel()  # length along east; face moves toward azimuth in [0, 180): eastward, from x = -600
    assert dynamics.mined_fraction(p, date(2024, 1, 1)) == 0.0
    assert dynamics.mined_fraction(p, date(2024, 1, 1) + timedelta(days=50)) == pytest.approx(600 / 1200)
    assert dynamics.mined_fraction(p, date(2025, 1, 1)) == 1.0
    w = predict_points(p, PARAMS, [-400.0, 400.0], [0.0, 0.0], at=date(2024, 2, 20)).W
    assert w[0] > 100 and w[1] < 1
    q = panel(advance_azimuth_deg=270.0)  # westward: starts at x = +600
    w = predict_points(q, PARAMS, [-400.0, 400.0], [0.0, 0.0], at=date(2024, 2, 20)).W
    assert w[1] > 100 and w[0] < 1
    # end_date alone defines the rate
    r = panel(advance_m_per_day=None, end_date=date(2024, 1, 1) + timedelta(days=100))
    assert dynamics.mined_fraction(r, date(2024, 1, 1) + timedelta(days=25)) == pytest.approx(0.25)


def test_rate_matches_finite_difference_and_grid():
    p = panel()
    # a slow time function (the 2017 code's duration): a +/- 1 day difference quotient is then accurate to 2 %
    tf = TimeFunction("improved_knothe", c_basis="code_duration")
    x = np.linspace(-700, 700, 15)
    d = date(2024, 3, 15)
    r = dynamics.rate_at(p, PARAMS, x, np.zeros_like(x), d, tf)
    w1 = dynamics.subsidence_at(p, PARAMS, x, np.zeros_like(x), d - timedelta(days=1), tf).W
    w2 = dynamics.subsidence_at(p, PARAMS, x, np.zeros_like(x), d + timedelta(days=1), tf).W
    np.testing.assert_allclose(r, (w2 - w1) / 2.0, rtol=0.02, atol=0.05)
    y = np.array([20.0, 0.0, -20.0])
    g = dynamics.subsidence_at(p, PARAMS, x, y, d, tf, grid=True).W
    np.testing.assert_allclose(g[1], dynamics.subsidence_at(p, PARAMS, x, np.zeros_like(x), d, tf).W, atol=1e-6)


def test_rotated_panel_dynamic_grid_uses_table_with_small_error():
    p = PanelGeometry.rectangle(
        0.0,
        0.0,
        1500.0,
        250.0,
        azimuth_deg=57.0,
        thickness_m=3.0,
        depth_dip_m=180.0,
        start_date=date(2024, 1, 1),
        advance_m_per_day=15.0,
    )
    x = np.arange(-1000.0, 1000.0, 10.0)
    y = np.arange(1000.0, -1000.0, -10.0)
    d = date(2024, 4, 1)
    g = predict_grid(p, PARAMS, x, y, at=d, components=["subsidence_mm"]).W  # > 16k points: tabulated profile
    X, Y = np.meshgrid(x[::25], y[::25])
    exact = predict_points(p, PARAMS, X, Y, at=d, components=["subsidence_mm"]).W  # exact erf sum
    assert np.abs(g[::25, ::25] - exact).max() < 1e-5 * p.w0_mm(PARAMS)


def test_polygon_panel_dynamic_tends_to_static():
    outline = np.array([[0, 0], [800, 0], [800, 200], [300, 260], [0, 200]], dtype=float)
    p = PanelGeometry(
        outline=outline, thickness_m=3.0, depth_dip_m=160.0, start_date=date(2024, 1, 1), advance_m_per_day=10.0
    )
    x = np.linspace(-200, 1000, 13)
    y = np.full_like(x, 100.0)
    static = predict_points(p, PARAMS, x, y).W
    late = predict_points(p, PARAMS, x, y, at=date(2035, 1, 1)).W
    np.testing.assert_allclose(late, static, rtol=1e-6, atol=1e-6 * static.max())
    mid = predict_points(p, PARAMS, x, y, at=date(2024, 2, 10)).W
    assert mid[2] > 100 and mid[-3] < 1  # west part mined first (face moves east)


def test_panels_without_dates_are_static_and_still():
    p = PanelGeometry.rectangle(0.0, 0.0, 600.0, 200.0, thickness_m=2.0, depth_dip_m=150.0)
    w = predict_points(p, PARAMS, [0.0], [0.0], at=date(2024, 1, 1)).W
    assert w[0] == pytest.approx(predict_points(p, PARAMS, [0.0], [0.0]).W[0])
    assert dynamics.rate_at(p, PARAMS, [0.0], [0.0], date(2024, 1, 1))[0] == 0.0


def test_fit_time_function_recovers_c():
    true = TimeFunction("improved_knothe", c_per_day=0.012, k=2.5)
    t = np.arange(0, 600, 10.0)
    rng = np.random.default_rng(5)
    w = 2000 * true.value(t) + rng.normal(0, 3.0, t.size)  # 3 mm noise
    fit = dynamics.fit_time_function(t, w, 2000.0, "improved_knothe")
    assert fit.c_per_day == pytest.approx(0.012, rel=0.05)
    assert fit.k == pytest.approx(2.5, rel=0.1)


def test_predicted_series_feeds_stability():
    from subsidence.science import stability

    p = panel()
    dates = np.arange(np.datetime64("2023-10-01"), np.datetime64("2027-01-01"), np.timedelta64(15, "D"))
    x = np.array([-300.0, 0.0, 300.0, 3000.0])
    s = dynamics.subsidence_series(p, PARAMS, x, np.zeros_like(x), dates, TimeFunction("improved_knothe"))
    assert s.shape == (len(dates), 4)
    res = stability.classify(dates, s)
    assert list(res.stage_names()) == ["stable", "stable", "stable", "not_started"]
    # the face reaches x = -300 first (advancing east), so movement starts there first
    assert res.started_on[0] < res.started_on[1] < res.started_on[2]
    assert np.all(res.active_from[:3] < res.stable_from[:3])
