"""Property tests where the math has invariants (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from subsidence.science import damage, stability
from subsidence.science.pim import PanelGeometry, PIMParams, predict_points

DATES = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-06-01"), np.timedelta64(12, "D"))
T = (DATES - DATES[0]).astype(float)


@settings(max_examples=30, deadline=None)
@given(level=st.floats(10.5, 5000.0), jitter=st.floats(0.0, 2.0))
def test_constant_settled_series_is_stable(level, jitter):
    s = level + jitter * np.sin(T)[:, None]  # settled ground with +-2 mm noise
    res = stability.classify(DATES, s)
    assert res.stage[0] == stability.STABLE


@settings(max_examples=30, deadline=None)
@given(rate=st.floats(1.8, 500.0))
def test_steady_fast_sinking_is_active(rate):
    res = stability.classify(DATES, (rate * T)[:, None])
    assert res.stage[0] == stability.ACTIVE
    assert np.isnat(res.stable_from[0])


@settings(max_examples=50, deadline=None)
@given(a=st.floats(0, 20), b=st.floats(0, 20), k=st.floats(0, 1.5), e=st.floats(0, 10))
def test_damage_grade_monotone(a, b, k, e):
    lo, hi = min(a, b), max(a, b)
    assert damage.grade(lo, k, e) <= damage.grade(hi, k, e)
    assert 1 <= damage.grade(a, k, e) <= 4


@settings(max_examples=20, deadline=None)
@given(dx=st.floats(-2000, 2000), dy=st.floats(-2000, 2000), az=st.floats(0, 180))
def test_translation_invariance(dx, dy, az):
    params = PIMParams(q=0.7, tan_beta=2.2, b=0.3, s_m=10.0)
    p = PanelGeometry.rectangle(0.0, 0.0, 900.0, 250.0, azimuth_deg=az, thickness_m=3.0, depth_dip_m=200.0)
    q = PanelGeometry.rectangle(dx, dy, 900.0, 250.0, azimuth_deg=az, thickness_m=3.0, depth_dip_m=200.0)
    x = np.array([0.0, 100.0, -300.0, 500.0])
    y = np.array([0.0, -80.0, 200.0, 10.0])
    f = predict_points(p, params, x, y)
    g = predict_points(q, params, x + dx, y + dy)
    for k in f.base:
        np.testing.assert_allclose(f.base[k], g.base[k], rtol=1e-7, atol=1e-7 * max(1.0, np.abs(f.base[k]).max()))


@settings(max_examples=20, deadline=None)
@given(az=st.floats(0, 360))
def test_directional_components_consistent(az):
    """Directional tilt/strain along A and A+90 sum to the trace (invariants of the tensors)."""
    params = PIMParams(q=0.7, tan_beta=2.2, b=0.3)
    p = PanelGeometry.rectangle(0.0, 0.0, 700.0, 300.0, azimuth_deg=20.0, thickness_m=3.0, depth_dip_m=180.0)
    x = np.array([-300.0, 0.0, 250.0])
    y = np.array([100.0, -150.0, 40.0])
    f = predict_points(p, params, x, y)
    a, b = f.along(az), f.along(az + 90.0)
    ka = a[f"curvature_az{az:g}_1e-3_per_m"] + b[f"curvature_az{az + 90.0:g}_1e-3_per_m"]
    np.testing.assert_allclose(ka, f.base["hxx"] + f.base["hyy"], atol=1e-9)
    ea = a[f"strain_az{az:g}_mm_per_m"] + b[f"strain_az{az + 90.0:g}_mm_per_m"]
    np.testing.assert_allclose(ea, f.base["jxx"] + f.base["jyy"], atol=1e-9)
    ti = np.hypot(a[f"tilt_az{az:g}_mm_per_m"], b[f"tilt_az{az + 90.0:g}_mm_per_m"])
    np.testing.assert_allclose(ti, f.component("tilt_max_mm_per_m"), atol=1e-9)
    assert math.isfinite(float(ti.sum()))
