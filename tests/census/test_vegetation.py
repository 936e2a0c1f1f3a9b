"""Vegetation: reflectance scaling, NDVI, loss/recovery polygons with known areas on synthetic scenes."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from subsidence.census.vegetation import (VegetationInputError, VegetationParams, cloud_mask, intersect_patches,
                                          ndvi, reflectance, vegetation_change)
from tests.census.synth import X0, Y0, grid


def test_reflectance_scale_offset_and_masks():
    dn = np.array([0, 1000, 2000, 5000, 65535], dtype=float)
    r = reflectance(dn, scale=1e-4, offset=-1000, nodata=0)
    assert np.isnan(r[0]) and r[1] == 0.0 and r[2] == pytest.approx(0.1) and np.isnan(r[4])
    v = ndvi(np.array([0.05, 0.1, np.nan]), np.array([0.35, 0.1, 0.3]), cloud_mask=np.array([False, True, False]))
    assert v[0] == pytest.approx(0.75) and np.isnan(v[1]) and np.isnan(v[2])
    with pytest.raises(VegetationInputError):
        ndvi(np.zeros(3), np.zeros(4))


def test_loss_and_recovery_polygons():
    g = grid(100, px=10.0)  # Sentinel-2 10 m pixels, 1 km square
    rng = np.random.default_rng(1)
    before = 0.45 + rng.normal(0, 0.01, g.shape)
    after = before + rng.normal(0, 0.01, g.shape)
    after[20:40, 10:50] -= 0.25        # loss: 20 × 40 px = 8 ha
    before[60:80, 60:90] = 0.12        # bare before ...
    after[60:80, 60:90] = 0.40         # ... vegetated after: recovery 6 ha
    after[5:7, 80:82] -= 0.4           # 4 px: below the 0.5 ha minimum
    after[90:95, 0:10] = np.nan        # cloud on the later date
    res = vegetation_change(before, after, g)
    loss, rec = res.of_kind("loss"), res.of_kind("recovery")
    assert len(loss) == 1 and loss[0].area_ha == pytest.approx(8.0)
    assert loss[0].mean_delta_ndvi == pytest.approx(-0.25, abs=0.01)
    assert len(rec) == 1 and rec[0].area_ha == pytest.approx(6.0)
    assert res.valid_fraction == pytest.approx(1 - 50 / 10_000)
    # loss over goaf: the goaf covers the western half of the loss patch
    goaf = box(X0 + 100, Y0 - 400, X0 + 300, Y0 - 200)
    assert intersect_patches(loss, goaf) == pytest.approx(4.0)
    only_goaf = vegetation_change(before, after, g, within=goaf)
    assert [p.area_ha for p in only_goaf.of_kind("loss")] == pytest.approx([4.0])
    strict = vegetation_change(before, after, g, params=VegetationParams(loss_delta=-0.3))
    assert strict.of_kind("loss") == []


def test_nothing_valid_refused():
    g = grid(10)
    with pytest.raises(VegetationInputError, match="no pixel"):
        vegetation_change(np.full(g.shape, np.nan), np.zeros(g.shape), g)


def test_cloud_masks_binary_and_sentinel2_scl():
    scl = np.array([4, 5, 8, 9, 10, 3, 6, 0])  # vegetation, bare, cloud med/high, cirrus, shadow, water, no data
    assert cloud_mask(scl, kind="scl").tolist() == [False, False, True, True, True, True, False, True]
    assert cloud_mask(np.array([0, 1, 255]), kind="binary").tolist() == [False, True, True]
    with pytest.raises(VegetationInputError):
        cloud_mask(scl, kind="fmask")
