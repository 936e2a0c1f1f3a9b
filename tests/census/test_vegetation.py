"""Vegetation: reflectance scaling, NDVI, loss/recovery polygons with known areas on synthetic scenes."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from subsidence.census.kernels.vegetation import (
    VegetationInputError,
    VegetationParams,
    cloud_mask,
    intersect_patches,
    ndvi,
    reflectance,
    vegetation_change,
)
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
    after[20:40, 10:50] -= 0.25  # loss: 20 × 40 px = 8 ha
    before[60:80, 60:90] = 0.12  # bare before ...
    after[60:80, 60:90] = 0.40  # ... vegetated after: recovery 6 ha
    after[5:7, 80:82] -= 0.4  # 4 px: below the 0.5 ha minimum
    after[90:95, 0:10] = np.nan  # cloud on the later date
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


def test_integer_sentinel2_without_offset_warns_and_notes(tmp_path, caplog):
    """No BOA_ADD_OFFSET and no explicit offset on integer DN: warn that the baseline-04.00 −1000 may be missing."""
    import logging

    import rasterio

    from subsidence.census.kernels.inputs import load_reflectance

    g = grid(30, px=10.0)
    dn = np.full(g.shape, 1500, dtype="uint16")

    def tif(name, tags=None):
        with rasterio.open(
            tmp_path / name,
            "w",
            driver="GTiff",
            width=30,
            height=30,
            count=1,
            dtype="uint16",
            crs=g.crs.to_wkt(),
            transform=g.transform,
            nodata=0,
        ) as ds:
            ds.write(dn, 1)
            if tags:
                ds.update_tags(**tags)
        return tmp_path / name

    notes: list[str] = []
    with caplog.at_level(logging.WARNING, logger="subsidence.census.kernels.inputs"):
        r, _ = load_reflectance(tif("B04_20220301.tif"), notes=notes)
    assert np.nanmax(r) == pytest.approx(0.15)  # DN/10000, offset 0 as before — but flagged
    assert len(notes) == 1 and "BOA_ADD_OFFSET" in notes[0] and "04.00" in notes[0] and "2022-01-25" in notes[0]
    assert "B04_20220301.tif" in notes[0] and any("BOA_ADD_OFFSET" in m for m in caplog.messages)
    caplog.clear()
    quiet: list[str] = []
    with caplog.at_level(logging.WARNING, logger="subsidence.census.kernels.inputs"):
        r, _ = load_reflectance(tif("B04_tagged.tif", {"BOA_ADD_OFFSET": "-1000"}), notes=quiet)
        load_reflectance(tmp_path / "B04_20220301.tif", offset=0.0, notes=quiet)  # explicit: the user decided
    assert np.nanmax(r) == pytest.approx(0.05) and quiet == [] and not caplog.messages
    res = vegetation_change(np.full(g.shape, 0.4), np.full(g.shape, 0.4), g, notes=notes)
    assert res.notes == notes and res.patches == []
