"""End to end: readers -> our solver -> MintPy-compatible outputs; the CLI; every bad input leaves nothing behind."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.insar import read_deformation
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.sources import open_ifgram_stack
from subsidence.insar.stack import InSARInputError
from subsidence.insar.synthetic import SyntheticSpec, synthetic_stack, truth_los_m

from .helpers import synthetic_arrays, write_licsbas_geoc, write_mintpy_ifgram_stack, write_tif

SPEC = SyntheticSpec(rows=40, cols=40, n_dates=30, links=3, nodata_fraction=0.05, seed=21)


def _truth_rel(spec, ref):
    t = truth_los_m(spec)
    return t - t[:, ref[0] : ref[0] + 1, ref[1] : ref[1] + 1]


def test_mintpy_stack_end_to_end(tmp_path):
    h5 = write_mintpy_ifgram_stack(tmp_path / "ifgramStack.h5", SPEC)
    stack = open_ifgram_stack(h5)
    assert stack.kind == "mintpy" and len(stack.pairs) == 84 and len(stack.dates) == 30
    assert stack.grid.crs.to_epsg() == 4546 and stack.looks == 20
    out = tmp_path / "out"
    s = run_timeseries(stack, out, TimeseriesOptions(chunk_rows=7, workers=2))
    ref = (s["reference"]["row"], s["reference"]["col"])
    assert s["reference"]["method"] == "auto" and "stable" in s["reference"]["reason"]
    with h5py.File(out / "timeseries.h5") as f:
        assert f.attrs["FILE_TYPE"] == "timeseries" and f.attrs["UNIT"] == "m"
        assert f.attrs["REF_DATE"] == "20230103" and int(f.attrs["REF_Y"]) == ref[0]
        assert f["date"].dtype == np.dtype("S8") and f["date"][0] == b"20230103"
        assert f["timeseries"].shape == (30, 40, 40) and f["bperp"].shape == (30,)
        ts = f["timeseries"][:]
    err = ts - _truth_rel(SPEC, ref)
    assert np.sqrt(np.nanmean(err**2)) < 0.003  # noise floor incl. the reference pixel's own noise
    assert np.abs(ts[:, ref[0], ref[1]]).max() == 0
    with h5py.File(out / "velocity.h5") as f:
        assert f.attrs["FILE_TYPE"] == "velocity" and f.attrs["UNIT"] == "m/year"
        assert set(f) >= {"velocity", "velocityStd", "intercept", "interceptStd", "residue"}
        vel = f["velocity"][:]
    with h5py.File(out / "temporalCoherence.h5") as f:
        assert f.attrs["FILE_TYPE"] == "temporalCoherence"
        assert np.nanmedian(f["temporalCoherence"][:]) > 0.9
    # the bowl sinks: negative LOS velocity at its centre (sign convention)
    assert vel[20, 20] < -0.04
    d = read_deformation(out)
    assert d.dates[0].isoformat() == "2023-01-03" and d.cumulative_m.shape == (30, 40, 40)
    assert d.subsidence_rate_mm_per_yr(incidence_deg=39.0)[20, 20] > 50  # mm/yr, positive downward
    assert json.loads((out / "summary.json").read_text())["pixels_solved"] == 1600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_file_reference_and_dropped_ifgrams(tmp_path):
    drop = np.zeros(84, bool)
    drop[[5, 40]] = True
    phase, _ = synthetic_arrays(SPEC)
    full = np.argwhere((phase[~drop] != 0).all(axis=0))
    ry, rx = (int(v) for v in full[len(full) // 2])
    h5 = write_mintpy_ifgram_stack(tmp_path / "s.h5", SPEC, ref_yx=(ry, rx), drop=drop)
    stack = open_ifgram_stack(h5)
    assert len(stack.pairs) == 82 and stack.ref_yx == (ry, rx)
    s = run_timeseries(stack, tmp_path / "o", TimeseriesOptions())
    assert s["reference"]["method"] == "file" and (s["reference"]["row"], s["reference"]["col"]) == (ry, rx)
    assert s["network"]["n_ifgs"] == 82


def test_licsbas_geoc_folder_via_cli(tmp_path):
    spec = SyntheticSpec(rows=30, cols=30, n_dates=16, links=3, nodata_fraction=0.05, seed=22)
    write_licsbas_geoc(tmp_path / "frame", spec)
    out = tmp_path / "ts"
    res = CliRunner().invoke(
        app, ["timeseries", str(tmp_path / "frame"), "--out", str(out), "--chunk-rows", "10", "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{") :])
    assert summary["input_kind"] == "licsbas" and summary["network"]["n_ifgs"] == 42
    assert summary["wavelength_m"] == pytest.approx(0.0554658, rel=1e-5)
    ts = read_deformation(out)
    ref = (summary["reference"]["row"], summary["reference"]["col"])
    assert np.sqrt(np.nanmean((ts.cumulative_m - _truth_rel(spec, ref)) ** 2)) < 0.003
    v = read_deformation(out / "velocity_los_m_per_yr.tif")
    assert v.velocity_m_per_yr[15, 15] < -0.04 and v.direction == "los"


def test_plain_geotiff_pairs_folder(tmp_path):
    spec = SyntheticSpec(rows=16, cols=16, n_dates=8, links=2, seed=2)
    write_licsbas_geoc(tmp_path / "pairs", spec, flat=True, par=False)
    with pytest.raises(InSARInputError, match="wavelength"):
        open_ifgram_stack(tmp_path / "pairs")
    stack = open_ifgram_stack(tmp_path / "pairs", wavelength_m=0.05546576)
    assert stack.kind == "geotiff-pairs" and stack.has_coherence and len(stack.pairs) == 13
    s = run_timeseries(
        stack, tmp_path / "out", TimeseriesOptions(ref_yx=(0, 0), geotiff=False, min_temporal_coherence=0.5)
    )
    assert s["reference"]["method"] == "user"


def test_gap_is_bridged_and_flagged_end_to_end(tmp_path):
    spec = SyntheticSpec(rows=20, cols=20, n_dates=30, gap_after=12, seed=4, nodata_fraction=0.02)
    s = run_timeseries(synthetic_stack(spec), tmp_path / "o", TimeseriesOptions())
    assert s["network"]["n_components"] == 2 and s["network"]["gaps"] == ["20230527_20230608"]
    assert s["pixels_bridged"] == 400
    with h5py.File(tmp_path / "o" / "bridged.h5") as f:
        assert f["bridged"][:].all()
    ref = (s["reference"]["row"], s["reference"]["col"])
    d = read_deformation(tmp_path / "o")
    err = d.cumulative_m - _truth_rel(spec, ref)
    assert np.sqrt(np.nanmean(err**2)) < 0.003 and d.bridged.all()
    # MintPy-style minimum norm on the same data loses the gap's motion at the bowl centre
    run_timeseries(synthetic_stack(spec), tmp_path / "mn", TimeseriesOptions(gap_mode="min-norm", ref_yx=ref))
    mn = read_deformation(tmp_path / "mn")
    truth = _truth_rel(spec, ref)
    assert abs(mn.cumulative_m[-1, 10, 10] - truth[-1, 10, 10]) > 0.0015
    assert abs(d.cumulative_m[-1, 10, 10] - truth[-1, 10, 10]) < 0.0015


def test_distributed_scheduler(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = SyntheticSpec(rows=12, cols=10, n_dates=8, links=2, seed=9)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as lc:
        s = run_timeseries(
            synthetic_stack(spec), tmp_path / "o", TimeseriesOptions(scheduler=lc.scheduler_address, chunk_rows=3)
        )
    s2 = run_timeseries(synthetic_stack(spec), tmp_path / "t", TimeseriesOptions(chunk_rows=5))
    assert s2["blocks"] == 3
    a, b = read_deformation(tmp_path / "o"), read_deformation(tmp_path / "t")
    np.testing.assert_array_equal(a.cumulative_m, b.cumulative_m)
    assert s["blocks"] == 4


# ------------------------------------------------------------------------------------------------ bad input
def _no_output(tmp_path, out):
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}.tmp")]


def test_bad_shapes_and_crs_in_geotiff_folder(tmp_path):
    spec = SyntheticSpec(rows=10, cols=10, n_dates=5, links=2)
    folder = write_licsbas_geoc(tmp_path / "f1", spec, flat=True)
    bad = sorted(folder.glob("*.unw.tif"))[2]
    write_tif(bad, np.ones((10, 12), np.float32), spec)
    with pytest.raises(InSARInputError, match=r"10x12 pixels but .* has 10x10.*same grid"):
        open_ifgram_stack(folder)
    folder = write_licsbas_geoc(tmp_path / "f2", spec, flat=True)
    bad = sorted(folder.glob("*.unw.tif"))[1]
    import rasterio

    with rasterio.open(bad, "r+") as ds:
        ds.crs = "EPSG:4490"
    with pytest.raises(InSARInputError, match="CRS .* differs"):
        open_ifgram_stack(folder)
    folder = write_licsbas_geoc(tmp_path / "f3", spec, flat=True)
    write_tif(sorted(folder.glob("*.unw.tif"))[0], np.ones((10, 10), np.float32), spec, crs=False)
    with pytest.raises(InSARInputError, match="radar-coordinate"):
        open_ifgram_stack(folder)


def test_one_date_stack(tmp_path):
    spec = SyntheticSpec(rows=4, cols=4, n_dates=2, links=1)
    h5 = write_mintpy_ifgram_stack(tmp_path / "s.h5", spec)
    with h5py.File(h5, "r+") as f:
        f["date"][0] = [b"20230103", b"20230103"]
    with pytest.raises(InSARInputError, match="only one acquisition date"):
        run_timeseries(open_ifgram_stack(h5), tmp_path / "o")
    _no_output(tmp_path, tmp_path / "o")


def test_all_nan_stack(tmp_path):
    spec = SyntheticSpec(rows=6, cols=6, n_dates=6, links=2)
    m = len(spec.pairs)
    h5 = write_mintpy_ifgram_stack(
        tmp_path / "s.h5",
        spec,
        phase=np.full((m, 6, 6), np.nan, np.float32),
        coherence=np.full((m, 6, 6), 0.5, np.float32),
    )
    res = CliRunner().invoke(app, ["timeseries", str(h5), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no-data" in res.output
    _no_output(tmp_path, tmp_path / "o")


def test_disconnected_network_that_cannot_be_bridged(tmp_path):
    st = synthetic_stack(SyntheticSpec(rows=6, cols=6, n_dates=6, links=1, gap_after=2))
    # a 12-day gap in 60 days can be bridged, but not when the user forbids bridging ...
    with pytest.raises(InSARInputError, match="disconnected .* bridging is off"):
        run_timeseries(st, tmp_path / "o", TimeseriesOptions(gap_mode="none"))
    _no_output(tmp_path, tmp_path / "o")
    # ... nor when gaps take more of the time span than allowed
    st2 = synthetic_stack(SyntheticSpec(rows=6, cols=6, n_dates=4, links=1, gap_after=1))
    with pytest.raises(InSARInputError, match="cover 12 of 36 days"):
        run_timeseries(st2, tmp_path / "o", TimeseriesOptions(max_gap_fraction=0.2))
    _no_output(tmp_path, tmp_path / "o")


def test_reference_point_in_nodata(tmp_path):
    phase, coh = synthetic_arrays(SPEC)
    phase[:, 5, 6] = 1.0
    phase[3, 5, 6] = 0.0
    h5 = write_mintpy_ifgram_stack(tmp_path / "s.h5", SPEC, phase=phase, coherence=coh, ref_yx=(5, 6))
    with pytest.raises(InSARInputError, match=r"reference pixel \(row 5, col 6\) .* no data in 1 of 84"):
        run_timeseries(open_ifgram_stack(h5), tmp_path / "o")
    _no_output(tmp_path, tmp_path / "o")
    res = CliRunner().invoke(app, ["timeseries", str(h5), "--out", str(tmp_path / "o"), "--ref-yx", "5,6"])
    assert res.exit_code == 2 and "--ref-yx auto" in res.output
    res = CliRunner().invoke(app, ["timeseries", str(h5), "--out", str(tmp_path / "o"), "--ref-yx", "auto"])
    assert res.exit_code == 0, res.output
    assert "参考点" in res.output and "(auto)" in res.output and "stable ground" in res.output


def test_wavelength_missing_and_radar_coordinates(tmp_path):
    spec = SyntheticSpec(rows=4, cols=4, n_dates=4, links=1)
    h5 = write_mintpy_ifgram_stack(tmp_path / "a.h5", spec, wavelength=False)
    with pytest.raises(InSARInputError, match="WAVELENGTH .* missing"):
        open_ifgram_stack(h5)
    h5 = write_mintpy_ifgram_stack(tmp_path / "b.h5", spec, geocoded=False)
    with pytest.raises(InSARInputError, match="radar coordinates .* Geocode"):
        open_ifgram_stack(h5)


def test_mintpy_reads_our_outputs(tmp_path):
    """If MintPy is installed (bench extra), its own readers accept our files with the same dates and values."""
    pytest.importorskip("mintpy")
    from mintpy.objects import timeseries
    from mintpy.utils import readfile

    spec = SyntheticSpec(rows=10, cols=12, n_dates=6, links=2, seed=3)
    run_timeseries(synthetic_stack(spec), tmp_path / "o", TimeseriesOptions(geotiff=False))
    ts = timeseries(str(tmp_path / "o" / "timeseries.h5"))
    ts.open(print_msg=False)
    assert ts.dateList == [d.strftime("%Y%m%d") for d in spec.dates]
    data, atr = readfile.read(str(tmp_path / "o" / "timeseries.h5"), datasetName=ts.dateList[-1])
    ours = read_deformation(tmp_path / "o")
    np.testing.assert_array_equal(data, ours.cumulative_m[-1])
    assert atr["FILE_TYPE"] == "timeseries" and atr["UNIT"] == "m"
    vel, vatr = readfile.read(str(tmp_path / "o" / "velocity.h5"), datasetName="velocity")
    assert vatr["FILE_TYPE"] == "velocity" and vel.shape == (10, 12)
    tc, tatr = readfile.read(str(tmp_path / "o" / "temporalCoherence.h5"))
    assert tatr["FILE_TYPE"] == "temporalCoherence" and np.nanmin(tc) > 0
