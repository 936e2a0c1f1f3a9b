"""Inclined seams: the up-dip depth from the panel geometry, the offset convention."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from subsidence.science import damage, pim
from subsidence.science.pim import (
    PanelGeometry,
    PIMParams,
    ScienceInputError,
    predict_grid,
    predict_points,
)

PARAMS = PIMParams(q=0.7, tan_beta=2.2, b=0.3, theta0_deg=90.0)


def dipping(**kw) -> PanelGeometry:
    # 1500 m along strike (east), 300 m plan width along dip; dipping south (azimuth 180) at 20 deg
    base = {"thickness_m": 4.0, "depth_dip_m": 200.0, "dip_deg": 20.0, "dip_azimuth_deg": 180.0, "name": "D20"}
    base.update(kw)
    return PanelGeometry.rectangle(0.0, 0.0, 1500.0, 300.0, azimuth_deg=90.0, **base)


def test_rise_depth_derived_from_geometry_with_a_note(caplog):
    with caplog.at_level(logging.WARNING, logger="subsidence.science.pim"):
        p = dipping()
    h2 = 200.0 - 300.0 * math.tan(math.radians(20.0))  # H1 - D1 sin(alpha), D1 = 300 / cos(alpha)
    assert p.depth_rise_m == pytest.approx(h2) and p.depth_rise_derived
    assert p.depth_rise_m == pytest.approx(
        200.0 - (300.0 / math.cos(math.radians(20.0))) * math.sin(math.radians(20.0))
    )
    assert "depth_rise_m not given" in caplog.text and "D20" in caplog.text
    # given, it is used as given; flat seams need none
    assert dipping(depth_rise_m=120.0).depth_rise_m == 120.0 and not dipping(depth_rise_m=120.0).depth_rise_derived
    flat = dipping(dip_deg=0.0)
    assert flat.depth_rise_m == 200.0 and not flat.depth_rise_derived


def test_old_silent_default_under_predicts_tilt_and_damage():
    # a thinner, deeper seam so that the grades are not all IV: m = 1.5 m, H1 = 250 m, H2 = 250 - 300 tan 20
    old = dipping(thickness_m=1.5, depth_dip_m=250.0, depth_rise_m=250.0)  # what the silent default did
    new = dipping(thickness_m=1.5, depth_dip_m=250.0)
    y = np.linspace(-700.0, 700.0, 1401)
    f_old = predict_points(old, PARAMS, np.zeros_like(y), y)
    f_new = predict_points(new, PARAMS, np.zeros_like(y), y)
    t_old = f_old.component("tilt_max_mm_per_m").max()
    t_new = f_new.component("tilt_max_mm_per_m").max()
    assert t_old < 0.71 * t_new  # the finding: the maximum tilt over the up-dip edge was under-predicted

    def grades(f):
        return damage.grade(
            f.component("tilt_max_mm_per_m"),
            f.component("curvature_max_1e-3_per_m"),
            f.component("strain_max_mm_per_m"),
        )

    assert grades(f_old).max() == 3 and grades(f_new).max() == 4  # and the damage grade dropped


def test_rise_depth_along_the_true_dip_for_polygons_and_rotations():
    # dip toward azimuth 135 (south-east) on a square 400 m panel: plan extent along the dip is 400 sqrt(2)
    sq = np.array([[0, 0], [400, 0], [400, 400], [0, 400]], dtype=float)
    h2 = pim.rise_depth_from_geometry(sq, 250.0, 10.0, 135.0)
    assert h2 == pytest.approx(250.0 - 400.0 * math.sqrt(2.0) * math.tan(math.radians(10.0)))
    poly = PanelGeometry(
        outline=np.array([[0, 0], [800, 0], [800, 200], [300, 260], [0, 200]], dtype=float),
        thickness_m=3.0,
        depth_dip_m=160.0,
        dip_deg=5.0,
        dip_azimuth_deg=180.0,
    )
    assert poly.depth_rise_m == pytest.approx(160.0 - 260.0 * math.tan(math.radians(5.0)))


def test_impossible_derived_depth_is_refused():
    with pytest.raises(ScienceInputError, match="give depth_rise_m"):
        dipping(depth_dip_m=60.0)  # 300 m at 20 deg rises 109 m: the up-dip edge would be above ground


def test_offset_convention_seam_or_horizontal():
    s = 25.0
    alpha = math.radians(20.0)
    p = dipping(depth_rise_m=120.0)
    x, y = pim.grid_axes(pim.influence_bounds([p], PARAMS, margin_r=4.5), 5.0)
    vols = {}
    for conv in pim.OFFSET_CONVENTIONS:
        prm = PARAMS.replace(s_m=s, offset_convention=conv)
        vols[conv] = predict_grid(p, prm, x, y, components=["subsidence_mm"]).W.sum() * 25.0
    w0 = p.w0_mm(PARAMS)
    d1 = 300.0 / math.cos(alpha)
    # seam: offsets along the seam, computational plan width (D1 - 2 s) cos(alpha) (theta0 = 90)
    assert vols["seam"] == pytest.approx(w0 * (1500 - 2 * s) * (d1 - 2 * s) * math.cos(alpha), rel=2e-3)
    # horizontal: offsets are plan distances, computational plan width 300 - 2 s
    assert vols["horizontal"] == pytest.approx(w0 * (1500 - 2 * s) * (300 - 2 * s), rel=2e-3)
    # flat seams: both the same
    f = dipping(dip_deg=0.0)
    a = predict_points(f, PARAMS.replace(s_m=s), [0.0, 10.0], [140.0, 160.0]).W
    b = predict_points(f, PARAMS.replace(s_m=s, offset_convention="horizontal"), [0.0, 10.0], [140.0, 160.0]).W
    np.testing.assert_allclose(a, b)
    prm = PARAMS.replace(offset_convention="horizontal")
    assert PIMParams.from_dict(prm.to_dict()) == prm and "offset_convention" not in PARAMS.to_dict()
    with pytest.raises(ScienceInputError, match="offset_convention"):
        PARAMS.replace(offset_convention="plan")


def test_service_reads_panels_without_rise_depth():
    from shapely.geometry import box

    from subsidence.prediction.service import panel_from_record

    rec = {"code": "P-20", "thickness_m": 4.0, "depth_dip_m": 200.0, "dip_deg": 20.0, "dip_azimuth_deg": 180.0}
    (p,) = panel_from_record(rec, box(0, 0, 1500, 300), "row 1")
    assert p.depth_rise_derived and p.depth_rise_m == pytest.approx(200.0 - 300.0 * math.tan(math.radians(20.0)))
    (q,) = panel_from_record({**rec, "depth_rise_m": 150.0}, box(0, 0, 1500, 300), "row 2")
    assert q.depth_rise_m == 150.0
