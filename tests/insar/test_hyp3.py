"""ASF HyP3 GAMMA InSAR products: one folder per pair, UTM GeoTIFFs of a common pixel grid but different extents."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import rasterio
from affine import Affine

from subsidence.insar import read_deformation
from subsidence.insar.hyp3 import is_hyp3_folder
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.sources import open_ifgram_stack
from subsidence.insar.stack import InSARInputError, yyyymmdd
from subsidence.insar.synthetic import SyntheticSource, SyntheticSpec, truth_los_m

#: the product's grid is the common overlap: 2 pixels of margin, each product cropped with its own offset
R, C, M = 24, 28, 2
BIG = SyntheticSpec(
    rows=R + 2 * M,
    cols=C + 2 * M,
    n_dates=8,
    links=2,
    nodata_fraction=0.02,
    seed=9,
    pixel_m=80.0,
    crs_epsg=32649,
    origin_xy=(560_000.0, 4_370_000.0),
)
THETA = np.deg2rad(90.0 - 39.0)  # lv_theta: look-vector elevation from the horizontal, radians
PHI = np.deg2rad(-168.0)  # lv_phi: from east, anti-clockwise (ascending Sentinel-1: -pi..-pi/2)


def _tif(path: Path, a: np.ndarray, transform, *, nodata=None):
    prof = {
        "driver": "GTiff",
        "height": a.shape[0],
        "width": a.shape[1],
        "count": 1,
        "dtype": a.dtype.name,
        "transform": transform,
        "crs": "EPSG:32649",
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **prof) as ds:
        ds.write(a, 1)


def _name(a, b, k, naming="gamma"):
    if naming == "burst":  # HyP3 INSAR_ISCE_BURST
        return f"S1_136231_IW2_{yyyymmdd(a)}_{yyyymmdd(b)}_VV_INT80_{k:04X}"
    return f"S1AA_{yyyymmdd(a)}T104012_{yyyymmdd(b)}T104013_VVP012_INT80_G_ueF_{k:04X}"


def write_hyp3_products(
    root: Path, spec: SyntheticSpec = BIG, *, clip: bool = False, naming: str = "gamma"
) -> list[str]:
    """What ASF HyP3 delivers for INSAR_GAMMA jobs (unzipped): one folder per pair named after the product."""
    bd = SyntheticSource(spec).read_rows(0, spec.rows)
    t = spec.grid.transform
    names = []
    suffix = "_clip" if clip else ""
    for i, (a, b) in enumerate(spec.pairs):
        name = _name(a, b, 0xA000 + i, naming)
        names.append(name)
        d = root / name
        d.mkdir(parents=True)
        o = i % 3  # products of one frame: same 80 m grid, extents shifted by whole pixels
        sl = (slice(o, o + R + M), slice(2 - o, 2 - o + C + M))
        tr = t @ Affine.translation(sl[1].start, sl[0].start)
        _tif(d / f"{name}_unw_phase{suffix}.tif", bd.phase[i][sl].astype(np.float32), tr, nodata=0.0)
        _tif(d / f"{name}_corr{suffix}.tif", bd.coherence[i][sl].astype(np.float32), tr, nodata=0.0)
        shape = bd.phase[i][sl].shape
        _tif(d / f"{name}_lv_theta{suffix}.tif", np.full(shape, THETA, np.float32), tr, nodata=0.0)
        _tif(d / f"{name}_lv_phi{suffix}.tif", np.full(shape, PHI, np.float32), tr, nodata=0.0)
        _tif(d / f"{name}_dem{suffix}.tif", np.full(shape, 1310.0, np.float32), tr)
        _tif(d / f"{name}_water_mask{suffix}.tif", np.ones(shape, np.uint8), tr)
        (d / f"{name}.txt").write_text(
            f"Reference Granule: S1A_IW_SLC__1SDV_{yyyymmdd(a)}T104012_{yyyymmdd(a)}T104039_030000_036000_ABCD\n"
            f"Secondary Granule: S1A_IW_SLC__1SDV_{yyyymmdd(b)}T104013_{yyyymmdd(b)}T104040_030175_036100_EF01\n"
            "Reference Pass Direction: ASCENDING\nReference Orbit Number: 30000\n"
            f"Baseline: {-40.0 + 10 * i}\nUTC time: 38412.5\nHeading: -12.2\nSpacecraft height: 693000.0\n"
            "Earth radius at nadir: 6337286.638938101\nSlant range near: 800421.8\nSlant range center: 826758.6\n"
            "Slant range far: 853095.5\nRange looks: 20\nAzimuth looks: 4\nINSAR phase filter: yes\n"
            "Phase filter parameter: 0.6\nDEM source: GLO_30\nDEM resolution (m): 30\n"
            "Unwrapping type: mcf\nSpeckle filter: yes\nWater mask: no\n",
            encoding="utf-8",
        )
        (d / f"{name}.README.md.txt").write_text("ASF HyP3 InSAR product\n", encoding="utf-8")
    return names


def test_hyp3_folder_is_read_as_a_pairs_stack_on_the_common_overlap(tmp_path):
    root = tmp_path / "hyp3"
    write_hyp3_products(root)
    assert is_hyp3_folder(root)
    stack = open_ifgram_stack(root)
    assert stack.kind == "hyp3" and len(stack.pairs) == len(BIG.pairs) and stack.dates == BIG.dates
    assert stack.grid.shape == (R, C) and stack.grid.crs.to_epsg() == 32649
    # the overlap starts M pixels into the full grid
    assert stack.grid.transform.c == BIG.origin_xy[0] + M * 80.0 and stack.grid.transform.f == BIG.origin_xy[1] - M * 80
    assert stack.wavelength_m == pytest.approx(0.05546576) and stack.looks == round(80 / 1.94)
    assert stack.bperp_m[0] == -40.0
    # lv_theta (from horizontal, radians) -> incidence from vertical; lv_phi (from east) -> MintPy azimuth
    assert np.allclose(stack.map_geometry["incidenceAngle"], 39.0, atol=1e-4)
    assert np.allclose(stack.map_geometry["azimuthAngle"], 102.0, atol=1e-4)
    out = tmp_path / "ts"
    s = run_timeseries(stack, out, TimeseriesOptions(workers=2))
    ref = (s["reference"]["row"], s["reference"]["col"])
    truth = truth_los_m(BIG)[:, M : M + R, M : M + C]
    truth = truth - truth[:, ref[0] : ref[0] + 1, ref[1] : ref[1] + 1]
    with h5py.File(out / "timeseries.h5") as f:
        ts = f["timeseries"][:]
        assert f.attrs["PROCESSOR"] == "hyp3" and f.attrs["EPSG"] == "32649"
    assert np.sqrt(np.nanmean((ts - truth) ** 2)) < 0.003
    d = read_deformation(out)
    assert np.allclose(d.incidence_map_deg, 39.0, atol=1e-4) and d.incidence_deg == pytest.approx(39.0)
    centre = (R // 2, C // 2)
    assert d.subsidence_mm()[centre] == pytest.approx(-ts[-1][centre] * 1000 / np.cos(np.deg2rad(39.0)), rel=1e-4)


def test_clipped_products_and_bad_products(tmp_path):
    root = tmp_path / "clip"
    names = write_hyp3_products(root, clip=True)
    assert open_ifgram_stack(root).grid.shape == (R, C)
    # a text file saved under a product's name: named, what was expected, the fix
    bad = root / names[3] / f"{names[3]}_unw_phase_clip.tif"
    bad.write_text("<html>Access denied</html>")
    with pytest.raises(
        InSARInputError,
        match=rf"{bad.name}: not a readable GeoTIFF .* expected the unwrapped "
        r"phase .* Replace it",
    ):
        open_ifgram_stack(root)
    # products of another resolution or disjoint frames
    other = tmp_path / "other"
    write_hyp3_products(other)
    p = next((other).glob("*/*_unw_phase.tif"))
    with rasterio.open(p) as ds:
        a, t = ds.read(1), ds.transform
    _tif(p, a, Affine(40.0, 0, t.c, 0, -40.0, t.f), nodata=0.0)
    with pytest.raises(InSARInputError, match=r"pixel size 40.0 x -40.0 differs .* \(all INT80 or all INT40\)"):
        open_ifgram_stack(other)
    meta = tmp_path / "meta"
    names = write_hyp3_products(meta)
    (meta / names[0] / f"{names[0]}.txt").write_text("Baseline: about forty\n")
    with pytest.raises(InSARInputError, match="'Baseline: about forty' is not a number"):
        open_ifgram_stack(meta)


def test_zipped_products_say_unzip_them(tmp_path):
    root = tmp_path / "dl"
    root.mkdir()
    (root / "S1AA_20230103T104012_20230115T104013_VVP012_INT80_G_ueF_A000.zip").write_bytes(b"PK\x03\x04")
    with pytest.raises(InSARInputError, match="still zipped .* unzip them in place"):
        open_ifgram_stack(root)


def test_isce_burst_products_are_read_the_same_way(tmp_path):
    root = tmp_path / "burst"
    write_hyp3_products(root, naming="burst")
    stack = open_ifgram_stack(root)
    assert stack.kind == "hyp3" and stack.dates == BIG.dates and stack.grid.shape == (R, C)
    assert np.allclose(stack.map_geometry["incidenceAngle"], 39.0, atol=1e-4)
