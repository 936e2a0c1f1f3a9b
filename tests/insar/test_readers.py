"""Deformation products written in other tools' layouts (MintPy, LiCSBAS, plain GeoTIFF, DEMs)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from subsidence.insar import dem_difference, read_deformation
from subsidence.insar.readers import read_product
from subsidence.insar.stack import InSARInputError
from subsidence.insar.synthetic import SyntheticSpec

from .helpers import write_tif

SPEC = SyntheticSpec(rows=8, cols=10, n_dates=5)


def _mintpy_attrs(**extra):
    g = SPEC.grid
    a = {
        "LENGTH": "8",
        "WIDTH": "10",
        "X_FIRST": str(g.transform.c),
        "Y_FIRST": str(g.transform.f),
        "X_STEP": "30.0",
        "Y_STEP": "-30.0",
        "X_UNIT": "meters",
        "Y_UNIT": "meters",
        "EPSG": "4546",
        "REF_Y": "1",
        "REF_X": "2",
        "WAVELENGTH": "0.05546576",
    }
    a.update(extra)
    return a


def test_mintpy_timeseries_and_velocity(tmp_path):
    ts = np.zeros((5, 8, 10), np.float32)
    ts[:, 4, 5] = [0.01, 0.0, -0.01, -0.02, -0.03]  # REF_DATE = second date in this file
    with h5py.File(tmp_path / "timeseries.h5", "w") as f:
        f.create_dataset("date", data=np.array([d.strftime("%Y%m%d") for d in SPEC.dates], dtype="S8"))
        f.create_dataset("bperp", data=np.zeros(5, np.float32))
        f.create_dataset("timeseries", data=ts)
        for k, v in _mintpy_attrs(FILE_TYPE="timeseries", UNIT="m", REF_DATE="20230115").items():
            f.attrs[k] = v
    d = read_deformation(tmp_path / "timeseries.h5")
    assert d.dates == tuple(SPEC.dates) and d.grid.crs.to_epsg() == 4546 and d.ref_yx == (1, 2)
    np.testing.assert_allclose(d.cumulative_m[:, 4, 5], [0, -0.01, -0.02, -0.03, -0.04], atol=1e-7)
    assert d.grid.xy(0, 0) == (SPEC.origin_xy[0] + 15, SPEC.origin_xy[1] - 15)
    with h5py.File(tmp_path / "velocity.h5", "w") as f:
        f.create_dataset("velocity", data=np.full((8, 10), -0.02, np.float32))
        for k, v in _mintpy_attrs(FILE_TYPE="velocity", UNIT="m/year").items():
            f.attrs[k] = v
    v = read_product(tmp_path / "velocity.h5")
    assert v.velocity_mm_per_yr[0, 0] == pytest.approx(-20.0)
    assert v.subsidence_rate_mm_per_yr(incidence_deg=0.001)[0, 0] == pytest.approx(20.0)
    with pytest.raises(InSARInputError, match="incidence"):
        v.subsidence_rate_mm_per_yr()


def test_licsbas_cum_h5(tmp_path):
    with h5py.File(tmp_path / "cum.h5", "w") as f:
        f.create_dataset("imdates", data=np.array([20230103, 20230115, 20230127], np.int32))
        cum = np.zeros((3, 8, 10), np.float32)
        cum[:, 3, 3] = [0.0, -5.0, -12.0]  # mm
        f.create_dataset("cum", data=cum)
        f.create_dataset("vel", data=np.full((8, 10), -3.0, np.float32))
        f.create_dataset("corner_lat", data=39.5)
        f.create_dataset("corner_lon", data=109.7)
        f.create_dataset("post_lat", data=-0.001)
        f.create_dataset("post_lon", data=0.001)
        f.create_dataset("refarea", data="5:6/5:6")
    d = read_deformation(tmp_path / "cum.h5")
    assert d.cumulative_m[-1, 3, 3] == pytest.approx(-0.012)
    assert d.velocity_m_per_yr[0, 0] == pytest.approx(-0.003)
    assert d.grid.crs.to_epsg() == 4326
    assert d.grid.xy(0, 0) == pytest.approx((109.7, 39.5))  # corner_lat/lon is the first pixel's centre


def test_geotiff_velocity_needs_a_unit_and_dem_difference(tmp_path):
    write_tif(tmp_path / "vel.tif", np.full((8, 10), -25.0, np.float32), SPEC)
    with pytest.raises(InSARInputError, match="unit unknown"):
        read_deformation(tmp_path / "vel.tif")
    v = read_deformation(tmp_path / "vel.tif", unit="mm/yr")
    assert v.velocity_m_per_yr[0, 0] == pytest.approx(-0.025)
    z0 = np.full((8, 10), 1300.0, np.float32)
    z1 = z0.copy()
    z1[2:5, 3:6] -= 2.5
    write_tif(tmp_path / "dem2019.tif", z0, SPEC)
    write_tif(tmp_path / "dem2024.tif", z1, SPEC)
    d = dem_difference(tmp_path / "dem2019.tif", tmp_path / "dem2024.tif")
    assert d.direction == "up"
    assert d.subsidence_mm()[3, 4] == pytest.approx(2500.0) and d.subsidence_mm()[0, 0] == 0
    write_tif(tmp_path / "nocrs.tif", z0, SPEC, crs=False)
    with pytest.raises(InSARInputError, match="CRS"):
        dem_difference(tmp_path / "nocrs.tif", tmp_path / "dem2024.tif")


def test_geocoding_from_regular_lat_lon_datasets():
    from subsidence.insar.readers import grid_from_mintpy_attrs

    lat = np.repeat(np.linspace(39.50, 39.43, 8)[:, None], 10, axis=1)
    lon = np.repeat(np.linspace(109.70, 109.79, 10)[None, :], 8, axis=0)
    g = grid_from_mintpy_attrs({"LENGTH": "8", "WIDTH": "10"}, source="x.h5", lat=lat, lon=lon)
    assert g.crs.to_epsg() == 4326
    assert g.xy(0, 0) == pytest.approx((109.70, 39.50)) and g.xy(7, 9) == pytest.approx((109.79, 39.43))
    with pytest.raises(InSARInputError, match="radar coordinates"):
        grid_from_mintpy_attrs({"LENGTH": "8", "WIDTH": "10"}, source="x.h5", lat=lat + lon * 0.01, lon=lon)


def test_incidence_from_mintpy_attributes_is_used(tmp_path):
    with h5py.File(tmp_path / "velocity.h5", "w") as f:
        f.create_dataset("velocity", data=np.full((8, 10), -0.02, np.float32))
        for k, v in _mintpy_attrs(FILE_TYPE="velocity", UNIT="m/year", CENTER_INCIDENCE_ANGLE="39.0").items():
            f.attrs[k] = v
    v = read_deformation(tmp_path / "velocity.h5")
    assert v.incidence_deg == 39.0
    assert v.subsidence_rate_mm_per_yr()[0, 0] == pytest.approx(20.0 / np.cos(np.deg2rad(39.0)))
