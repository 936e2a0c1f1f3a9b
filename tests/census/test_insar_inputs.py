"""Census from InSAR products in the community layouts (MintPy timeseries.h5, LiCSBAS cum.h5 in lon/lat)."""

from __future__ import annotations

from datetime import date, timedelta

import h5py
import numpy as np
import pytest

from subsidence.census.kernels.basins import CensusInputError
from subsidence.census.kernels.inputs import load_deformation
from subsidence.census.kernels.pipeline import run_census
from subsidence.insar import read_deformation
from subsidence.vocabulary import MovementStage
from tests.census.synth import X0, Y0, bowl, grid

INC = 38.0


def _dates(n):
    return [date(2023, 1, 1) + timedelta(days=12 * k) for k in range(n)]


def _mintpy_timeseries(path, los_m, dates, g, epsg=4546, incidence=None):
    with h5py.File(path, "w") as f:
        f.create_dataset("date", data=np.array([d.strftime("%Y%m%d").encode() for d in dates], dtype="S8"))
        f.create_dataset("bperp", data=np.zeros(len(dates), dtype="float32"))
        f.create_dataset("timeseries", data=los_m.astype("float32"))
        t = g.transform
        attrs = dict(
            FILE_TYPE="timeseries",
            UNIT="m",
            LENGTH=str(g.shape[0]),
            WIDTH=str(g.shape[1]),
            X_FIRST=str(t.c),
            Y_FIRST=str(t.f),
            X_STEP=str(t.a),
            Y_STEP=str(t.e),
            EPSG=str(epsg),
            X_UNIT="meters",
            Y_UNIT="meters",
            REF_DATE=dates[0].strftime("%Y%m%d"),
            REF_Y="0",
            REF_X="0",
            WAVELENGTH="0.05546576",
        )
        if incidence is not None:
            attrs["CENTER_INCIDENCE_ANGLE"] = str(incidence)
        for k, v in attrs.items():
            f.attrs[k] = v


def test_mintpy_timeseries_census_with_stage(tmp_path):
    g = grid(120)
    final = bowl(g, X0 + 1000, Y0 - 2000, 900, 400, 900, 100)
    dates = _dates(40)  # 16 months at 12 days; movement ends after 6 months
    frac = np.minimum(np.arange(40) / 15.0, 1.0)
    sub = final[None] * frac[:, None, None]
    los_m = -sub * np.cos(np.deg2rad(INC)) / 1000.0  # subsidence moves away from the satellite
    p = tmp_path / "timeseries.h5"
    _mintpy_timeseries(p, los_m, dates, g)
    with pytest.raises(CensusInputError, match="incidence"):
        load_deformation(p)
    d = load_deformation(p, incidence_deg=INC)
    assert d.series_mm.shape == (40, 120, 120) and d.dates[-1] == dates[-1]
    # the census adapter agrees with the InSAR reader: subsidence = −d_LOS/cos(θ), mm
    prod = read_deformation(p)
    assert prod.direction == "los"
    np.testing.assert_allclose(d.series_mm, -prod.cumulative_m * 1000.0 / np.cos(np.deg2rad(INC)), rtol=1e-5)
    c = run_census(d)
    assert len(c.areas) == 1
    b = c.areas[0].basin
    assert b.max_subsidence_mm == pytest.approx(final.max(), rel=1e-3)
    assert b.stage == MovementStage.STABLE
    assert b.first_seen == dates[1] and b.last_seen == dates[-1]


def test_licsbas_cum_lonlat_is_reprojected(tmp_path):
    # a 0.0003° grid (~30 m) around 39.45 N 109.9 E, vertical-only bowl in LOS mm
    n = 120
    lon0, lat0, step = 109.88, 39.47, 0.0003
    lon = lon0 + step * np.arange(n)
    lat = lat0 - step * np.arange(n)
    LON, LAT = np.meshgrid(lon, lat)
    dx = (LON - lon.mean()) * 111_320 * np.cos(np.deg2rad(39.45))
    dy = (LAT - lat.mean()) * 110_950
    sub = 600 * np.exp(-(dx**2 + dy**2) / 300.0**2)
    dates = _dates(6)
    cum = -sub[None] * np.linspace(0, 1, 6)[:, None, None] * np.cos(np.deg2rad(INC))  # LOS mm toward satellite
    p = tmp_path / "cum.h5"
    with h5py.File(p, "w") as f:
        f["imdates"] = np.array([int(d.strftime("%Y%m%d")) for d in dates], dtype="int32")
        f["cum"] = cum.astype("float32")
        f["vel"] = (cum[-1] / ((dates[-1] - dates[0]).days / 365.25)).astype("float32")
        f["corner_lat"], f["corner_lon"] = lat0, lon0
        f["post_lat"], f["post_lon"] = -step, step
    d = load_deformation(p, incidence_deg=INC)
    assert d.grid.crs.is_projected and "reprojected" in " ".join(d.notes)
    b = run_census(d).areas[0].basin
    # analytic area of {600·exp(−ρ²/300²) ≥ 10}: π·300²·ln(60)
    truth_ha = np.pi * 300**2 * np.log(60) / 1e4
    assert b.area_ha == pytest.approx(truth_ha, rel=0.03)
    assert b.max_subsidence_mm == pytest.approx(600, rel=0.03)


def test_multiband_geotiff_series(tmp_path):
    import rasterio

    g = grid(100)
    final = bowl(g, X0 + 1000, Y0 - 2000, 900, 400, 600, 100)
    dates = _dates(4)
    up_m = -final[None] * np.linspace(0, 1, 4)[:, None, None] / 1000.0  # vertical, positive up, metres
    p = tmp_path / "series.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        width=100,
        height=100,
        count=4,
        dtype="float32",
        crs=g.crs.to_wkt(),
        transform=g.transform,
    ) as ds:
        ds.write(up_m.astype("float32"))
        ds.descriptions = tuple(d.strftime("%Y%m%d") for d in dates)
        ds.update_tags(UNIT="m")
    d = load_deformation(p, quantity="vertical")
    assert d.dates == dates and d.series_mm.shape == (4, 100, 100)
    b = run_census(d).areas[0].basin
    assert b.max_subsidence_mm == pytest.approx(final.max(), rel=1e-3)
    assert b.last_seen == dates[-1]


def test_los_geotiff_tagged_by_our_writer_is_not_taken_as_vertical(tmp_path):
    """A GeoTIFF whose DIRECTION tag says LOS needs the incidence angle; with it, subsidence = -d_LOS/cos(inc)."""
    import numpy as np
    import pytest
    import rasterio
    from rasterio.transform import from_origin

    from subsidence.census.kernels.inputs import CensusInputError, load_geotiff_deformation

    path = tmp_path / "los.tif"
    arr = np.full((20, 20), -50.0, dtype="float32")  # 50 mm away from the satellite
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=20,
        width=20,
        count=1,
        dtype="float32",
        crs="EPSG:4546",
        transform=from_origin(600_000, 4_370_000, 30, 30),
    ) as ds:
        ds.write(arr, 1)
        ds.update_tags(UNIT="mm", KIND="cumulative", DIRECTION="los")
    with pytest.raises(CensusInputError, match="incidence"):
        load_geotiff_deformation(path)
    d = load_geotiff_deformation(path, incidence_deg=39.0)
    assert float(np.nanmax(d.subsidence_mm)) == pytest.approx(50.0 / np.cos(np.radians(39.0)), rel=1e-4)
