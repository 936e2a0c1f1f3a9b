"""PIM forward model: published exam values, analytic relations, invariants, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subsidence.science import pim
from subsidence.science.pim import PanelGeometry, PIMParams, ScienceInputError, predict_grid, predict_points

EXACT_K = math.sqrt(2 * math.pi) * math.exp(-0.5)  # 1.5203


def exam():
    """docs/science.md §1: m = 15 m, alpha = 0, H = 120 m, tanβ = tan 60°, q = 0.9, b = 0.3."""
    params = PIMParams(q=0.9, tan_beta=math.tan(math.radians(60.0)), b=0.3)
    # a panel far wider than the basin: its west edge behaves as a semi-infinite edge
    panel = PanelGeometry.rectangle(0.0, 0.0, 6000.0, 6000.0, azimuth_deg=90.0, thickness_m=15.0, depth_dip_m=120.0)
    return params, panel


def test_exam_problem_published_values():
    params, panel = exam()
    r = 120.0 / params.tan_beta
    assert r == pytest.approx(69.28, abs=0.005)
    w0 = panel.w0_mm(params)
    assert w0 == pytest.approx(13500.0)
    x = np.linspace(-3000 - 3 * r, -3000 + 3 * r, 20001)  # across the west edge (inflection point at -3000)
    f = predict_points(panel, params, x, np.zeros_like(x))
    assert f.W.max() == pytest.approx(13500.0, rel=1e-9)
    k0 = np.abs(f.component("curvature_x_1e-3_per_m")).max()
    assert k0 == pytest.approx(4.28, rel=2e-3)  # published, rounded to 3 digits
    assert f.component("displacement_x_mm").max() == pytest.approx(4050.0, rel=1e-6)  # U0 = 4.05 m


@pytest.mark.parametrize("b", [0.2, 0.3])
def test_maxima_relations_to_0p1_percent(b):
    params = PIMParams(q=0.7, tan_beta=2.3, b=b)
    panel = PanelGeometry.rectangle(0.0, 0.0, 8000.0, 8000.0, azimuth_deg=90.0, thickness_m=4.0, depth_dip_m=230.0)
    r, w0 = 230.0 / 2.3, panel.w0_mm(params)
    x = np.linspace(-4000 - 3 * r, -4000 + 3 * r, 60001)
    f = predict_points(panel, params, x, np.zeros_like(x))
    i = f.component("tilt_x_mm_per_m")
    k = f.component("curvature_x_1e-3_per_m")
    u = f.component("displacement_x_mm")
    e = f.component("strain_x_mm_per_m")
    assert i.max() == pytest.approx(w0 / r, rel=1e-3)
    assert k.max() == pytest.approx(EXACT_K * w0 / r**2, rel=1e-3)
    assert k.min() == pytest.approx(-EXACT_K * w0 / r**2, rel=1e-3)
    assert u.max() == pytest.approx(b * w0, rel=1e-3)
    assert e.max() == pytest.approx(EXACT_K * b * w0 / r, rel=1e-3)
    # location of the curvature extreme: x = ±0.399 r from the inflection point
    assert abs(abs(x[np.argmax(k)] + 4000) - r / math.sqrt(2 * math.pi)) < 0.01 * r
    # inflection point: W = W0/2 and i = i0
    j = np.argmin(np.abs(x + 4000))
    assert f.W[j] == pytest.approx(w0 / 2, rel=1e-6)


def test_basin_volume_equals_w0_times_computational_area():
    params = PIMParams(q=0.75, tan_beta=2.0, b=0.3, s_m=20.0)
    panel = PanelGeometry.rectangle(500.0, 300.0, 900.0, 250.0, azimuth_deg=60.0, thickness_m=3.0, depth_dip_m=180.0)
    x, y = pim.grid_axes(pim.influence_bounds([panel], params, margin_r=4.5), 5.0)
    f = predict_grid(panel, params, x, y, components=["subsidence_mm"])
    volume = f.W.sum() * 25.0  # mm m^2
    area = (900 - 40) * (250 - 40)
    assert volume == pytest.approx(panel.w0_mm(params) * area, rel=1e-3)


def test_symmetry_of_flat_rectangle():
    params = PIMParams(q=0.7, tan_beta=2.5, b=0.3, s_m=15.0)
    panel = PanelGeometry.rectangle(0.0, 0.0, 800.0, 300.0, azimuth_deg=90.0, thickness_m=3.0, depth_dip_m=200.0)
    x = np.linspace(-700, 700, 141)
    X, Y = np.meshgrid(x, x)
    f = predict_points(panel, params, X, Y)
    np.testing.assert_allclose(f.W, f.W[:, ::-1], atol=1e-9)
    np.testing.assert_allclose(f.W, f.W[::-1, :], atol=1e-9)
    np.testing.assert_allclose(f.base["ux"], -f.base["ux"][:, ::-1], atol=1e-9)
    np.testing.assert_allclose(f.base["gy"], -f.base["gy"][::-1, :], atol=1e-9)
    # horizontal displacement points toward the basin
    assert f.base["ux"][70, 100] < 0 and f.base["ux"][70, 40] > 0


def test_superposition_and_grid_equals_points():
    params = PIMParams(q=0.7, tan_beta=2.2, b=0.3, s_m=10.0)
    a = PanelGeometry.rectangle(0.0, 0.0, 1000.0, 250.0, azimuth_deg=90.0, thickness_m=4.0, depth_dip_m=200.0)
    b = PanelGeometry.rectangle(100.0, 270.0, 1200.0, 250.0, azimuth_deg=90.0, thickness_m=3.0, depth_dip_m=210.0)
    c = PanelGeometry.rectangle(-200.0, -500.0, 700.0, 200.0, azimuth_deg=33.0, thickness_m=2.0, depth_dip_m=150.0)
    x = np.arange(-1000.0, 1000.0, 20.0) + 10
    y = np.arange(900.0, -1000.0, -20.0) - 10
    both = predict_grid([a, b, c], params, x, y)
    fa, fb, fc = (predict_grid(p, params, x, y) for p in (a, b, c))
    for k in both.base:
        np.testing.assert_allclose(both.base[k], fa.base[k] + fb.base[k] + fc.base[k], rtol=1e-10, atol=1e-9)
    X, Y = np.meshgrid(x, y)
    pts = predict_points([a, b, c], params, X, Y)
    for k in both.base:
        np.testing.assert_allclose(both.base[k], pts.base[k], rtol=1e-9, atol=1e-8)


def test_polygon_panel_matches_rectangle_formula():
    """A rectangle given with an extra vertex and a notch-free outline forced through the boundary integral."""
    params = PIMParams(q=0.7, tan_beta=2.0, b=0.3, s_m=0.0)
    rect = PanelGeometry.rectangle(100.0, -50.0, 600.0, 240.0, azimuth_deg=72.0, thickness_m=3.0, depth_dip_m=180.0)
    x = np.linspace(-600, 800, 57)
    X, Y = np.meshgrid(x, x - 50)
    exact = predict_points(rect, params, X, Y)
    nodes = pim._quadrature_nodes(__import__("shapely").Polygon(rect.outline), 180.0 / 2.0)
    acc = {k: np.zeros(X.size) for k in pim.BASE}
    pim._polygon_field(
        nodes, 90.0, rect.w0_mm(params), 0.3, 0.0, np.array([0.0, 1.0]), X.ravel(), Y.ravel(), pim.BASE, acc
    )
    w0 = rect.w0_mm(params)
    # stated bound: 1e-6 W0 for W, and the same relative accuracy for every derivative
    assert np.abs(acc["W"].reshape(X.shape) - exact.W).max() < 1e-6 * w0
    for k in ("gx", "gy", "hxx", "hxy", "hyy", "ux", "uy", "jxx", "jyy"):
        scale = np.abs(exact.base[k]).max()
        assert np.abs(acc[k].reshape(X.shape) - exact.base[k]).max() < 1e-6 * scale, k


def test_irregular_polygon_volume_and_hole():
    """An L-shaped panel (polygon path): volume = W0 x area; a hole removes its share."""
    import shapely

    params = PIMParams(q=0.7, tan_beta=2.0, b=0.3)
    outline = np.array([[0, 0], [600, 0], [600, 200], [250, 200], [250, 500], [0, 500]], dtype=float)
    hole = np.array([[50, 50], [150, 50], [150, 150], [50, 150]], dtype=float)
    p = PanelGeometry(outline=outline, thickness_m=3.0, depth_dip_m=150.0)
    ph = PanelGeometry(outline=shapely.Polygon(outline, [hole]), thickness_m=3.0, depth_dip_m=150.0)
    assert p.as_rectangle() is None
    x, y = pim.grid_axes(pim.influence_bounds([p], params, margin_r=4.5), 10.0)
    w = predict_grid(p, params, x, y, components=["subsidence_mm"]).W
    wh = predict_grid(ph, params, x, y, components=["subsidence_mm"]).W
    assert w.sum() * 100 == pytest.approx(p.w0_mm(params) * p.area_m2, rel=1e-3)
    assert wh.sum() * 100 == pytest.approx(p.w0_mm(params) * (p.area_m2 - 100 * 100), rel=1e-3)


def test_rotation_invariance():
    params = PIMParams(q=0.7, tan_beta=2.2, b=0.3, s_m=12.0)
    a = PanelGeometry.rectangle(0.0, 0.0, 900.0, 260.0, azimuth_deg=90.0, thickness_m=3.0, depth_dip_m=200.0)
    ang = 37.0
    b = PanelGeometry.rectangle(0.0, 0.0, 900.0, 260.0, azimuth_deg=90.0 + ang, thickness_m=3.0, depth_dip_m=200.0)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-800, 800, 200), rng.uniform(-600, 600, 200)
    t = math.radians(-ang)  # rotate points clockwise by ang (azimuth grows clockwise)
    xr, yr = x * math.cos(t) - y * math.sin(t), x * math.sin(t) + y * math.cos(t)
    fa = predict_points(a, params, x, y)
    fb = predict_points(b, params, xr, yr)
    np.testing.assert_allclose(fa.W, fb.W, atol=1e-8)
    np.testing.assert_allclose(fa.component("tilt_max_mm_per_m"), fb.component("tilt_max_mm_per_m"), atol=1e-9)
    np.testing.assert_allclose(fa.component("strain_max_mm_per_m"), fb.component("strain_max_mm_per_m"), atol=1e-9)
    # directional tilt along the panel's length equals the local along-strike tilt
    np.testing.assert_allclose(
        fa.along(90.0)["tilt_az90_mm_per_m"], fb.along(90.0 + ang)[f"tilt_az{90 + ang:g}_mm_per_m"], atol=1e-9
    )


def test_inclined_seam_shifts_basin_down_dip_and_adds_displacement():
    flat = PIMParams(q=0.7, tan_beta=2.0, b=0.3, theta0_deg=90.0)
    incl = flat.replace(theta0_deg=80.0)
    # dip toward the south (azimuth 180): down-dip is -y
    p = PanelGeometry.rectangle(
        0.0,
        0.0,
        2000.0,
        300.0,
        azimuth_deg=90.0,
        thickness_m=3.0,
        depth_dip_m=220.0,
        depth_rise_m=180.0,
        dip_deg=8.0,
        dip_azimuth_deg=180.0,
    )
    y = np.linspace(-600, 600, 2401)
    f0 = predict_points(p, flat, np.zeros_like(y), y)
    f1 = predict_points(p, incl, np.zeros_like(y), y)
    c0 = (f0.W * y).sum() / f0.W.sum()
    c1 = (f1.W * y).sum() / f1.W.sum()
    assert c1 < c0 - 10  # the basin moves down-dip (south)
    # W0 = m q cos(alpha)
    assert f0.W.max() == pytest.approx(3000 * 0.7 * math.cos(math.radians(8.0)), rel=1e-3)
    # r1 > r2: the down-dip (south, dW/dy > 0) side is flatter than the up-dip side, i0 ratio = r2/r1
    g = f0.component("tilt_y_mm_per_m")
    assert g.max() / abs(g.min()) == pytest.approx(180.0 / 220.0, rel=1e-3)
    # the cot(theta0) term adds up-dip (north, +y) displacement proportional to W
    k = np.argmax(f1.W)
    assert f1.base["uy"][k] == pytest.approx(f1.W[k] / math.tan(math.radians(80.0)), rel=0.05)


def test_bad_input_refused():
    with pytest.raises(ScienceInputError, match="q"):
        PIMParams(q=1.6, tan_beta=2.0)
    with pytest.raises(ScienceInputError, match="q"):
        PIMParams(q=0.0, tan_beta=2.0)
    with pytest.raises(ScienceInputError, match="tan_beta"):
        PIMParams(q=0.7, tan_beta=0.0)
    with pytest.raises(ScienceInputError, match="thickness_m"):
        PanelGeometry.rectangle(0, 0, 100, 50, thickness_m=0.0, depth_dip_m=100.0)
    with pytest.raises(ScienceInputError, match="depth_dip_m"):
        PanelGeometry.rectangle(0, 0, 100, 50, thickness_m=2.0, depth_dip_m=-5.0)
    p = PanelGeometry.rectangle(0, 0, 100, 50, thickness_m=2.0, depth_dip_m=100.0)
    with pytest.raises(ScienceInputError, match="no computational panel"):
        predict_points(p, PIMParams(q=0.7, tan_beta=2.0, s_m=30.0), [0.0], [0.0])
    with pytest.raises(ScienceInputError, match="budget"):
        predict_grid(p, PIMParams(q=0.7, tan_beta=2.0), np.arange(20000.0), np.arange(20000.0))
    with pytest.raises(ScienceInputError, match="unknown component"):
        predict_points(p, PIMParams(q=0.7, tan_beta=2.0), [0.0], [0.0], components=["wobble"])


@settings(max_examples=25, deadline=None)
@given(
    q=st.floats(0.1, 1.5),
    tb=st.floats(1.0, 4.0),
    m=st.floats(0.5, 8.0),
    h=st.floats(60.0, 500.0),
    az=st.floats(0.0, 180.0),
    length=st.floats(100.0, 3000.0),
    width=st.floats(80.0, 500.0),
)
def test_property_bounds_and_linearity(q, tb, m, h, az, length, width):
    params = PIMParams(q=q, tan_beta=tb, b=0.3)
    p = PanelGeometry.rectangle(0.0, 0.0, length, width, azimuth_deg=az, thickness_m=m, depth_dip_m=h)
    p2 = PanelGeometry.rectangle(0.0, 0.0, length, width, azimuth_deg=az, thickness_m=2 * m, depth_dip_m=h)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-2000, 2000, 64), rng.uniform(-2000, 2000, 64)
    f = predict_points(p, params, x, y)
    w0 = p.w0_mm(params)
    assert np.all(f.W >= -1e-9) and np.all(f.W <= w0 * (1 + 1e-12))
    assert np.all(f.component("tilt_max_mm_per_m") <= w0 / (h / tb) * (1 + 1e-9))
    f2 = predict_points(p2, params, x, y)
    np.testing.assert_allclose(f2.W, 2 * f.W, rtol=1e-12, atol=1e-12)
