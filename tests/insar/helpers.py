"""Test helpers: write synthetic stacks in the layouts other tools produce (MintPy, LiCSBAS), with plain h5py /
rasterio, exactly as those tools lay them out — not through our writers."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import rasterio

from subsidence.insar.stack import yyyymmdd
from subsidence.insar.synthetic import SyntheticSource, SyntheticSpec


def synthetic_arrays(spec: SyntheticSpec):
    bd = SyntheticSource(spec).read_rows(0, spec.rows)
    return bd.phase, bd.coherence


def write_mintpy_ifgram_stack(
    path: Path,
    spec: SyntheticSpec,
    *,
    phase=None,
    coherence=None,
    geocoded=True,
    wavelength=True,
    ref_yx=None,
    drop=None,
) -> Path:
    """ifgramStack.h5 as MintPy 1.6 ``load_data.py`` writes it (string attributes on the root)."""
    if phase is None:
        phase, coherence = synthetic_arrays(spec)
    m = phase.shape[0]
    dates = np.array([[yyyymmdd(a).encode(), yyyymmdd(b).encode()] for a, b in spec.pairs], dtype="S8")
    with h5py.File(path, "w") as f:
        f.create_dataset("date", data=dates)
        f.create_dataset("bperp", data=np.linspace(-50, 50, m).astype(np.float32))
        f.create_dataset("dropIfgram", data=np.ones(m, bool) if drop is None else ~np.asarray(drop, bool))
        f.create_dataset("unwrapPhase", data=phase.astype(np.float32), chunks=(1, spec.rows, spec.cols))
        f.create_dataset("coherence", data=coherence.astype(np.float32), chunks=(1, spec.rows, spec.cols))
        f.create_dataset("connectComponent", data=np.ones(phase.shape, np.int16), chunks=(1, spec.rows, spec.cols))
        attrs = {
            "FILE_TYPE": "ifgramStack",
            "LENGTH": str(spec.rows),
            "WIDTH": str(spec.cols),
            "PROCESSOR": "isce",
            "PLATFORM": "Sen",
            "ALOOKS": "1",
            "RLOOKS": "1",
            "NCORRLOOKS": str(spec.looks),
            "UNIT": "radian",
            "DATA_TYPE": "float32",
        }
        if wavelength:
            attrs["WAVELENGTH"] = "0.05546576"
        if geocoded:
            g = spec.grid
            attrs.update(
                {
                    "X_FIRST": str(g.transform.c),
                    "Y_FIRST": str(g.transform.f),
                    "X_STEP": str(g.transform.a),
                    "Y_STEP": str(g.transform.e),
                    "X_UNIT": "meters",
                    "Y_UNIT": "meters",
                    "EPSG": str(spec.crs_epsg),
                }
            )
        if ref_yx is not None:
            attrs.update({"REF_Y": str(ref_yx[0]), "REF_X": str(ref_yx[1])})
        for k, v in attrs.items():
            f.attrs[k] = v
    return path


def write_tif(path: Path, array: np.ndarray, spec: SyntheticSpec, *, crs=True, nodata=None, transform=None):
    g = spec.grid
    prof = dict(
        driver="GTiff",
        height=array.shape[0],
        width=array.shape[1],
        count=1,
        dtype=array.dtype.name,
        transform=transform or g.transform,
    )
    if crs:
        prof["crs"] = g.crs.to_wkt()
    if nodata is not None:
        prof["nodata"] = nodata
    with rasterio.open(path, "w", **prof) as ds:
        ds.write(array, 1)


def write_licsbas_geoc(folder: Path, spec: SyntheticSpec, *, par=True, flat=False) -> Path:
    """LiCSBAS GEOC layout: GEOC/yyyymmdd_yyyymmdd/yyyymmdd_yyyymmdd.geo.unw.tif (float32 rad, 0 = no data)
    and .geo.cc.tif (uint8, coherence x 255, as LiCSAR publishes it); flat=True: plain folder of *.unw/*.cc.tif."""
    phase, coh = synthetic_arrays(spec)
    geoc = folder if flat else folder / "GEOC"
    geoc.mkdir(parents=True, exist_ok=True)
    for i, (a, b) in enumerate(spec.pairs):
        name = f"{yyyymmdd(a)}_{yyyymmdd(b)}"
        if flat:
            write_tif(geoc / f"{name}.unw.tif", phase[i], spec)
            write_tif(geoc / f"{name}.cc.tif", coh[i].astype(np.float32), spec)
        else:
            d = geoc / name
            d.mkdir(exist_ok=True)
            write_tif(d / f"{name}.geo.unw.tif", phase[i], spec, nodata=0.0)
            write_tif(d / f"{name}.geo.cc.tif", np.round(coh[i] * 255).astype(np.uint8), spec)
    if par:
        (folder / "slc.mli.par").write_text("title: synthetic\nradar_frequency:        5.4050005e+09   Hz\n")
    return folder
