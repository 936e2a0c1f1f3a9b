"""Every unreadable input is an InSARInputError that names the file, what was expected and the fix; the CLI prints
it without a traceback and leaves no output behind (before issue 15 a text file named *.unw.tif in a pairs folder
gave a raw rasterio traceback)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.insar import dem_difference, read_deformation
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.sources import open_ifgram_stack
from subsidence.insar.stack import InSARInputError
from subsidence.insar.synthetic import SyntheticSpec

from .helpers import write_licsbas_geoc, write_tif

SPEC = SyntheticSpec(rows=12, cols=10, n_dates=6, links=2, seed=4)


def test_text_file_named_unw_tif_in_a_pairs_folder(tmp_path):
    folder = write_licsbas_geoc(tmp_path / "pairs", SPEC, flat=True)
    bad = folder / "20230103_20230115.unw.tif"
    bad.write_text("this is not a GeoTIFF\n")
    with pytest.raises(InSARInputError) as e:
        open_ifgram_stack(folder)
    msg = str(e.value)
    assert str(bad) in msg and "not a readable GeoTIFF" in msg
    assert "expected the unwrapped phase of interferogram 20230103_20230115" in msg and "Replace it" in msg
    r = CliRunner().invoke(app, ["timeseries", str(folder), "--out", str(tmp_path / "out"), "--wavelength", "0.0555"])
    assert r.exit_code != 0 and "not a readable GeoTIFF" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


def test_truncated_geotiff_fails_during_the_inversion_and_leaves_nothing(tmp_path):
    folder = write_licsbas_geoc(tmp_path / "pairs", SPEC, flat=True)
    victim = folder / "20230115_20230127.unw.tif"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # header intact, pixel data cut off (an interrupted copy)
    try:
        stack = open_ifgram_stack(folder)
    except InSARInputError as exc:  # GDAL may already notice at open time
        assert str(victim) in str(exc)
        return
    with pytest.raises(InSARInputError, match=r"20230115_20230127\.unw\.tif: .*(truncated|not a readable)"):
        run_timeseries(stack, tmp_path / "out", TimeseriesOptions(workers=1))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_wrapped_complex_interferogram_is_refused(tmp_path):
    folder = write_licsbas_geoc(tmp_path / "pairs", SPEC, flat=True)
    write_tif(folder / "20230103_20230115.unw.tif", np.exp(1j * np.ones((12, 10))).astype(np.complex64), SPEC)
    with pytest.raises(InSARInputError, match="complex values .*unwrap it first"):
        open_ifgram_stack(folder)


@pytest.mark.parametrize(
    "name, expected", [("timeseries.h5", "not a readable HDF5 file"), ("velocity.tif", "not a readable GeoTIFF")]
)
def test_unreadable_deformation_products(tmp_path, name, expected):
    p = tmp_path / name
    p.write_text("garbage")
    with pytest.raises(InSARInputError, match=expected) as e:
        read_deformation(p, unit="mm/yr")
    assert str(p) in str(e.value)


def test_timeseries_h5_without_its_datasets_and_unreadable_dem(tmp_path):
    import h5py

    p = tmp_path / "timeseries.h5"
    with h5py.File(p, "w") as f:
        f.attrs["FILE_TYPE"] = "timeseries"
        f.create_dataset("date", data=np.array([b"20230103"]))
    with pytest.raises(InSARInputError, match="dataset 'timeseries' missing"):
        read_deformation(p)
    dem = tmp_path / "dem.tif"
    dem.write_text("x")
    write_tif(tmp_path / "ok.tif", np.ones((12, 10), np.float32), SPEC)
    with pytest.raises(InSARInputError, match=r"dem\.tif: not a readable GeoTIFF .* expected a DEM GeoTIFF"):
        dem_difference(tmp_path / "ok.tif", dem)
