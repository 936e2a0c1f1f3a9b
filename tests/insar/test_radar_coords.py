"""Radar-coordinate MintPy stacks (ISCE/topsStack): inverted in radar coordinates, geocoded with geometryRadar.h5.

The inputs are written exactly as MintPy's load_data.py lays them out (``tests/insar/radar_helpers.py``): a stack
without X_FIRST/Y_FIRST and a lookup table whose per-pixel latitude/longitude carry the topographic shift, so an
affine "geocoding" would be wrong by more than a pixel. Before issue 15 such a stack was refused.
"""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.insar import read_deformation
from subsidence.insar.geocode import build_lookup, find_geometry_file
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.sources import open_ifgram_stack
from subsidence.insar.stack import InSARInputError
from subsidence.insar.synthetic import RadarSceneSpec, SyntheticSpec

from .radar_helpers import write_mintpy_radar_inputs

SCENE = RadarSceneSpec(
    stack=SyntheticSpec(rows=64, cols=48, n_dates=14, links=3, nodata_fraction=0.03, seed=5, pixel_m=1.0)
)


def _map_truth(scene, grid):
    """True subsidence (mm, down) at the centres of the output map grid."""
    cols, rows = np.meshgrid(np.arange(grid.cols) + 0.5, np.arange(grid.rows) + 0.5)
    x, y = grid.transform @ (cols, rows)
    return scene.subsidence_mm(x, y)


def test_radar_stack_is_inverted_and_geocoded_with_the_geometry_found_beside_it(tmp_path):
    stack_path, geo_path = write_mintpy_radar_inputs(tmp_path / "mintpy", SCENE)
    with h5py.File(stack_path) as f:
        assert "X_FIRST" not in f.attrs and f.attrs["FILE_TYPE"] == "ifgramStack"
    stack = open_ifgram_stack(stack_path)  # geometryRadar.h5 found in the same inputs/ folder
    assert stack.grid.crs is None and stack.geometry.path == str(geo_path)
    out = tmp_path / "ts"
    s = run_timeseries(stack, out, TimeseriesOptions(workers=2))
    g = s["geocoding"]
    assert g["crs"] == "EPSG:4546" and g["radar_shape"] == [64, 48] and g["method"] == "linear"
    assert 30 <= g["spacing_m"] <= 45  # the radar cell's ground area (41.6 m azimuth x ~37 m ground range)
    # radar-coordinate products are kept, geocoded ones are on the map
    with h5py.File(out / "radar" / "timeseries.h5") as f:
        assert "X_FIRST" not in f.attrs and f["timeseries"].shape == (14, 64, 48)
    with h5py.File(out / "timeseries.h5") as f:
        assert f.attrs["EPSG"] == "4546" and float(f.attrs["X_STEP"]) == g["spacing_m"]
        assert f["timeseries"].shape == (14, *g["shape"])
        assert float(f.attrs["REF_LAT"]) == pytest.approx(g["reference_lat_lon"][0])
    with h5py.File(out / "geometryGeo.h5") as f:
        assert f.attrs["FILE_TYPE"] == "geometry" and f["incidenceAngle"].shape == tuple(g["shape"])
    d = read_deformation(out)
    assert d.grid.crs.to_epsg() == 4546 and d.incidence_map_deg is not None
    # per-pixel incidence from the geometry file, not one scene value
    inc = d.incidence_map_deg[np.isfinite(d.incidence_map_deg)]
    assert 38.0 <= inc.min() < inc.max() <= 38.2
    # subsidence on the map against the truth defined on the map (reference pixel's own motion removed)
    geo = SCENE.geometry()
    ry, rx = s["reference"]["row"], s["reference"]["col"]
    ref_los = SCENE.subsidence_mm(geo["x"][ry, rx], geo["y"][ry, rx]) * np.cos(
        np.deg2rad(geo["incidenceAngle"][ry, rx])
    )
    truth = _map_truth(SCENE, d.grid) - ref_los / np.cos(np.deg2rad(d.incidence_map_deg))
    sub = d.subsidence_mm()
    ok = np.isfinite(sub)
    assert ok.sum() > 0.6 * ok.size
    err = sub[ok] - truth[ok]
    assert np.sqrt(np.mean(err**2)) < 2.5  # mm: inversion noise + geocoding, bowl of 114 mm
    peak = np.unravel_index(np.nanargmax(sub), sub.shape)
    assert truth[peak] > 0.9 * np.nanmax(truth)  # the bowl is where it is on the map
    assert ok.sum() <= json.loads((out / "summary.json").read_text())["geocoding"]["covered_pixels"]


@pytest.mark.parametrize("heading", [-12.0, -168.0])  # ascending (first line south) and descending (north)
def test_lookup_table_geocoding_error_against_the_map_truth(heading):
    """Geocoding the noise-free radar truth: linear << nearest, both far below the bowl's 114 mm."""
    scene = RadarSceneSpec(stack=SCENE.stack, heading_deg=heading)
    geo = scene.geometry()
    w = scene.subsidence_mm(geo["x"], geo["y"])
    lk = build_lookup(geo["latitude"].astype(float), geo["longitude"].astype(float), method="linear")
    truth = _map_truth(scene, lk.grid)
    rms = {}
    for method in ("nearest", "linear"):
        out = lk.apply(w, method=method)
        ok = np.isfinite(out)
        rms[method] = float(np.sqrt(np.mean((out[ok] - truth[ok]) ** 2)))
    assert rms["linear"] < 0.3 and rms["nearest"] < 2.0 and rms["linear"] < rms["nearest"] / 4
    # an affine grid from the corners alone would misplace pixels by the topographic shift (up to ~50 m here)
    shift = np.hypot(np.diff(geo["x"], axis=1), np.diff(geo["y"], axis=1))
    assert shift.max() - shift.min() > 1.0


def test_cli_geometry_option_and_discovery_in_inputs(tmp_path):
    stack_path, geo_path = write_mintpy_radar_inputs(tmp_path / "mintpy", SCENE)
    # a copy of the stack in mintpy/ itself finds mintpy/inputs/geometryRadar.h5; one in a sibling folder ../inputs
    other = tmp_path / "mintpy" / "work"
    other.mkdir()
    shutil.copy(stack_path, other / "ifgramStack.h5")
    assert find_geometry_file(other / "ifgramStack.h5") == geo_path
    runner = CliRunner()
    r = runner.invoke(
        app, ["timeseries", str(other / "ifgramStack.h5"), "--out", str(tmp_path / "a"), "--json", "--workers", "2"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["geocoding"]["lookup"] == str(geo_path)
    # --geometry explicitly, with nearest resampling and a given spacing
    lonely = tmp_path / "elsewhere"
    lonely.mkdir()
    shutil.copy(stack_path, lonely / "ifgramStack.h5")
    r = runner.invoke(
        app,
        [
            "timeseries",
            str(lonely / "ifgramStack.h5"),
            "--out",
            str(tmp_path / "b"),
            "--geometry",
            str(geo_path),
            "--resample",
            "nearest",
            "--geocode-spacing",
            "50",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "geocoded / 地理编码: 64 x 48 radar pixels" in r.output and "50 m in EPSG:4546" in r.output
    # without it: refused, naming the file and the fix, and nothing written
    r = runner.invoke(app, ["timeseries", str(lonely / "ifgramStack.h5"), "--out", str(tmp_path / "c")])
    assert r.exit_code != 0
    assert "radar coordinates" in r.output and "--geometry" in r.output
    assert not (tmp_path / "c").exists()


def test_bad_geometry_files_are_clear_errors_and_leave_nothing(tmp_path):
    stack_path, geo_path = write_mintpy_radar_inputs(tmp_path / "m", SCENE)
    small = RadarSceneSpec(stack=SyntheticSpec(rows=20, cols=16, n_dates=4, links=1, pixel_m=1.0))
    _, small_geo = write_mintpy_radar_inputs(tmp_path / "small", small)
    with pytest.raises(InSARInputError, match=r"20 x 16 pixels but .* has 64 x 48"):
        open_ifgram_stack(stack_path, geometry=small_geo)
    _, nolat = write_mintpy_radar_inputs(tmp_path / "nolat", SCENE, drop_datasets=("latitude",))
    with pytest.raises(InSARInputError, match="latitude missing"):
        open_ifgram_stack(stack_path, geometry=nolat)
    geocoded = tmp_path / "geo_geometryRadar.h5"
    shutil.copy(geo_path, geocoded)
    with h5py.File(geocoded, "a") as f:
        f.attrs["X_FIRST"] = "110.0"
    with pytest.raises(InSARInputError, match="geocoded .* not geo_geometryRadar"):
        open_ifgram_stack(stack_path, geometry=geocoded)
    text = tmp_path / "geometryRadar.h5"
    text.write_text("not hdf5")
    with pytest.raises(InSARInputError, match="not a readable HDF5 file"):
        open_ifgram_stack(stack_path, geometry=text)
    # lat/lon all no-data (ISCE writes 0 outside the DEM): refused before anything is written
    zero = tmp_path / "zero.h5"
    shutil.copy(geo_path, zero)
    with h5py.File(zero, "a") as f:
        f["latitude"][...] = 0
        f["longitude"][...] = 0
    stack = open_ifgram_stack(stack_path, geometry=zero)
    with pytest.raises(InSARInputError, match="no-data everywhere"):
        run_timeseries(stack, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_census_uses_the_per_pixel_incidence_of_the_geocoded_stack(tmp_path):
    from subsidence.census.kernels.inputs import load_deformation

    stack_path, _ = write_mintpy_radar_inputs(tmp_path / "mintpy", SCENE)
    out = tmp_path / "ts"
    run_timeseries(open_ifgram_stack(stack_path), out, TimeseriesOptions(workers=2, geotiff=False))
    prod = read_deformation(out)
    d = load_deformation(out)  # no --incidence-deg needed: the geometry file gives it per pixel
    expected = -prod.cumulative_m[-1] * 1000.0 / np.cos(np.deg2rad(prod.incidence_map_deg))
    np.testing.assert_allclose(d.subsidence_mm, expected, rtol=1e-5)
    assert any("per-pixel incidence" in n for n in d.notes)
    # an explicit scalar still wins (the user's word)
    d39 = load_deformation(out, incidence_deg=39.0)
    np.testing.assert_allclose(d39.subsidence_mm, -prod.cumulative_m[-1] * 1000.0 / np.cos(np.deg2rad(39.0)), rtol=1e-5)


def test_reading_the_radar_folder_points_to_the_geocoded_products(tmp_path):
    stack_path, _ = write_mintpy_radar_inputs(tmp_path / "mintpy", SCENE)
    out = tmp_path / "ts"
    run_timeseries(open_ifgram_stack(stack_path), out, TimeseriesOptions(workers=1, geotiff=False))
    with pytest.raises(InSARInputError, match=r"radar-coordinate product of `subsidence timeseries`.* folder above"):
        read_deformation(out / "radar" / "timeseries.h5")
    assert read_deformation(out).grid.crs.to_epsg() == 4546
