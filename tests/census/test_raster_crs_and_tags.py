"""GeoTIFF edge: non-conformal projections are reprojected before measuring; untagged quantity/unit refused."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.transform import array_bounds
from rasterio.warp import Resampling, calculate_default_transform, reproject

from subsidence.census.kernels.basins import CensusInputError, detect_basins
from subsidence.census.kernels.grid import Grid, is_local_metric
from subsidence.census.kernels.inputs import load_geotiff_deformation
from subsidence.geo import CRSError
from tests.census.synth import X0, Y0, bowl, grid

W0, R, LX, LY = 1500.0, 120.0, 1500.0, 900.0


def _write(path, arr, crs, transform, tags=None, count=1, unit_type=None):
    data = arr if arr.ndim == 3 else arr[None]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[2],
        height=data.shape[1],
        count=data.shape[0],
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=np.nan,
    ) as ds:
        ds.write(data.astype("float32"))
        if tags:
            ds.update_tags(**tags)
        if unit_type:
            ds.units = (unit_type,) * data.shape[0]
    return path


def test_local_metric_crs_check():
    assert is_local_metric("EPSG:4546") and is_local_metric("EPSG:32649") and is_local_metric("EPSG:2383")
    assert not is_local_metric("EPSG:3857") and not is_local_metric("EPSG:4490") and not is_local_metric("ESRI:102025")
    with pytest.raises(CRSError, match="Transverse Mercator"):
        Grid.make(Affine(30, 0, 1.22e7, 0, -30, 4.8e6), "EPSG:3857", (10, 10))


def test_web_mercator_raster_is_reprojected_and_measured_on_the_ground(tmp_path):
    """A bowl exported in EPSG:3857 gives the area/volume measured in EPSG:4546 (not ≈1.68× at 39.5°N)."""
    g = grid(200)
    w = bowl(g, X0 + 1200, Y0 - 3600, LX, LY, W0, R)  # subsidence, mm, positive down
    truth = detect_basins(w, g).basins[0]
    src_bounds = array_bounds(*g.shape, g.transform)
    tf, wd, ht = calculate_default_transform(g.crs.to_wkt(), "EPSG:3857", g.shape[1], g.shape[0], *src_bounds)
    merc = np.full((ht, wd), np.nan, dtype="float32")
    reproject(
        w.astype("float32"),
        merc,
        src_transform=g.transform,
        src_crs=g.crs.to_wkt(),
        dst_transform=tf,
        dst_crs="EPSG:3857",
        resampling=Resampling.bilinear,
        dst_nodata=np.nan,
    )
    # what the old code did: measure in 3857 pixels — about 1/cos²(39.4°) ≈ 1.68 too large
    naive_ha = float((merc >= 10.0).sum()) * abs(tf.a * tf.e) / 1e4
    assert naive_ha / truth.area_ha == pytest.approx(1 / np.cos(np.radians(39.4)) ** 2, rel=0.05)

    path = _write(tmp_path / "webmerc.tif", merc, "EPSG:3857", tf, tags={"UNIT": "mm"})
    d = load_geotiff_deformation(path, quantity="subsidence")
    assert is_local_metric(d.grid.crs) and d.grid.crs.to_epsg() == 4546  # CGCS2000 GK CM111E, the local zone
    assert any("reprojected from" in n and "3857" in n for n in d.notes)
    got = detect_basins(d.subsidence_mm, d.grid).basins
    assert len(got) == 1
    b = got[0]
    # two bilinear resamplings move the 10 mm line outward by under half a pixel along the boundary
    assert abs(b.area_ha - truth.area_ha) * 1e4 <= 0.5 * d.grid.pixel_size_m * truth.geometry.length
    assert b.area_ha == pytest.approx(truth.area_ha, rel=0.05)
    assert b.volume_m3 == pytest.approx(truth.volume_m3, rel=0.03)
    assert b.max_subsidence_mm == pytest.approx(W0, rel=0.02)


def test_plain_geotiff_without_direction_or_unit_is_refused(tmp_path):
    """No silent 'vertical mm' default: LOS read as vertical is 22 % low at 39°, cm read as mm 10× too small."""
    g = grid(60)
    w = bowl(g, X0 + 600, Y0 - 1200, 600, 400, 300.0, 100)
    plain = _write(tmp_path / "plain.tif", -w, g.crs.to_wkt(), g.transform)
    with pytest.raises(CensusInputError, match=r"plain\.tif.*no DIRECTION tag.*--quantity los.*--incidence-deg"):
        load_geotiff_deformation(plain)
    with pytest.raises(CensusInputError, match=r"plain\.tif: no UNIT tag.*--units mm\|cm\|m"):
        load_geotiff_deformation(plain, quantity="vertical")
    d = load_geotiff_deformation(plain, quantity="vertical", units="mm")
    assert float(np.nanmax(d.subsidence_mm)) == pytest.approx(w.max(), rel=1e-5)
    # an incidence angle states LOS; the unit still has to be given
    with pytest.raises(CensusInputError, match="no UNIT tag"):
        load_geotiff_deformation(plain, incidence_deg=39.0)
    d = load_geotiff_deformation(plain, incidence_deg=39.0, units="cm")
    assert float(np.nanmax(d.subsidence_mm)) == pytest.approx(10 * w.max() / np.cos(np.radians(39.0)), rel=1e-5)
    # tags state both (our writers), or the GDAL band unit type states the unit
    tagged = _write(
        tmp_path / "tagged.tif",
        -w / 10.0,
        g.crs.to_wkt(),
        g.transform,
        tags={"UNIT": "cm", "DIRECTION": "up", "KIND": "cumulative"},
    )
    assert float(np.nanmax(load_geotiff_deformation(tagged).subsidence_mm)) == pytest.approx(w.max(), rel=1e-5)
    down = _write(tmp_path / "down.tif", w, g.crs.to_wkt(), g.transform, tags={"UNIT": "mm", "DIRECTION": "down"})
    assert float(np.nanmax(load_geotiff_deformation(down).subsidence_mm)) == pytest.approx(w.max(), rel=1e-5)
    typed = _write(tmp_path / "typed.tif", -w, g.crs.to_wkt(), g.transform, tags={"DIRECTION": "up"}, unit_type="mm")
    assert float(np.nanmax(load_geotiff_deformation(typed).subsidence_mm)) == pytest.approx(w.max(), rel=1e-5)


def test_multiband_series_without_direction_is_refused(tmp_path):
    g = grid(40)
    stack = np.zeros((3, *g.shape))
    path = _write(tmp_path / "series.tif", stack, g.crs.to_wkt(), g.transform, tags={"UNIT": "mm"})
    with pytest.raises(CensusInputError, match="--quantity"):
        load_geotiff_deformation(path)
    no_unit = _write(tmp_path / "series2.tif", stack, g.crs.to_wkt(), g.transform, tags={"DIRECTION": "up"})
    with pytest.raises(CensusInputError, match="--units"):
        load_geotiff_deformation(no_unit)


def test_raster_without_crs_named_before_tags(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=5, height=5, count=1, dtype="float32") as ds:
        ds.write(np.ones((1, 5, 5), dtype="float32"))
    with pytest.raises(CRSError, match="no CRS"):
        load_geotiff_deformation(path)


def test_mintpy_product_in_web_mercator_is_reprojected(tmp_path):
    """HDF5 products go through the same rule: a non-TM projection is warped to the GK zone before measuring."""
    from datetime import date

    import h5py

    from subsidence.census.kernels.inputs import load_deformation

    g = grid(200)
    w = bowl(g, X0 + 1200, Y0 - 3600, LX, LY, W0, R)
    truth = detect_basins(w, g).basins[0]
    tf, wd, ht = calculate_default_transform(
        g.crs.to_wkt(), "EPSG:3857", g.shape[1], g.shape[0], *array_bounds(*g.shape, g.transform)
    )
    merc = np.full((ht, wd), np.nan, dtype="float32")
    reproject(
        w.astype("float32"),
        merc,
        src_transform=g.transform,
        src_crs=g.crs.to_wkt(),
        dst_transform=tf,
        dst_crs="EPSG:3857",
        resampling=Resampling.bilinear,
        dst_nodata=np.nan,
    )
    up_m = np.stack([np.zeros_like(merc), -merc / 1000.0])  # vertical displacement, m, positive up
    path = tmp_path / "timeseries.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("date", data=np.array([b"20230101", b"20240101"], dtype="S8"))
        f.create_dataset("bperp", data=np.zeros(2, dtype="float32"))
        f.create_dataset("timeseries", data=up_m.astype("float32"))
        for k, v in dict(
            FILE_TYPE="timeseries",
            UNIT="m",
            LENGTH=str(ht),
            WIDTH=str(wd),
            X_FIRST=str(tf.c),
            Y_FIRST=str(tf.f),
            X_STEP=str(tf.a),
            Y_STEP=str(tf.e),
            EPSG="3857",
            X_UNIT="meters",
            Y_UNIT="meters",
            REF_DATE="20230101",
            REF_Y="0",
            REF_X="0",
        ).items():
            f.attrs[k] = v
    d = load_deformation(path, quantity="vertical")
    assert d.grid.crs.to_epsg() == 4546 and d.dates == [date(2023, 1, 1), date(2024, 1, 1)]
    b = detect_basins(d.subsidence_mm, d.grid).basins[0]
    assert abs(b.area_ha - truth.area_ha) * 1e4 <= 0.5 * d.grid.pixel_size_m * truth.geometry.length
