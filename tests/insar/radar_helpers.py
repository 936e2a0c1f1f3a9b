"""Radar-coordinate MintPy inputs written with plain h5py exactly as MintPy 1.6 ``load_data.py`` lays them out for
ISCE-2/topsStack (not through our writers): ``inputs/ifgramStack.h5`` without X_FIRST/Y_FIRST (root string
attributes, ``date`` (m, 2) |S8, ``bperp`` float32, ``dropIfgram`` bool, ``unwrapPhase``/``coherence`` float32,
``connectComponent`` int16) and ``inputs/geometryRadar.h5`` (FILE_TYPE geometry; ``latitude``, ``longitude``,
``height``, ``incidenceAngle``, ``azimuthAngle``, ``slantRangeDistance`` float32; ``shadowMask``, ``waterMask``
bool; MintPy docs/api/data_structure.md and objects/stackDict.py ``geometryDict.write2hdf5``)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from subsidence.insar.stack import yyyymmdd
from subsidence.insar.synthetic import RadarSceneSpec, SyntheticSource

GEOMETRY_FLOAT = ("latitude", "longitude", "height", "incidenceAngle", "azimuthAngle", "slantRangeDistance")


def write_mintpy_radar_inputs(
    folder: Path, scene: RadarSceneSpec, *, geometry: bool = True, drop_datasets: tuple[str, ...] = ()
) -> tuple[Path, Path]:
    """Write ``folder/inputs/ifgramStack.h5`` and ``folder/inputs/geometryRadar.h5``; return their paths."""
    spec = scene.stack
    geo = scene.geometry()
    bd = SyntheticSource(spec, truth=scene.truth_los_m(geo)).read_rows(0, spec.rows)
    inputs = folder / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    attrs = scene.attrs()
    m = bd.phase.shape[0]
    chunks = (1, spec.rows, spec.cols)
    stack = inputs / "ifgramStack.h5"
    with h5py.File(stack, "w") as f:
        f.create_dataset(
            "date", data=np.array([[yyyymmdd(a).encode(), yyyymmdd(b).encode()] for a, b in spec.pairs], dtype="S8")
        )
        f.create_dataset("bperp", data=np.linspace(-60, 60, m).astype(np.float32))
        f.create_dataset("dropIfgram", data=np.ones(m, np.bool_))
        f.create_dataset("unwrapPhase", data=bd.phase.astype(np.float32), chunks=chunks, compression="lzf")
        f.create_dataset("coherence", data=bd.coherence.astype(np.float32), chunks=chunks, compression="lzf")
        f.create_dataset("connectComponent", data=np.ones(bd.phase.shape, np.int16), chunks=chunks, compression="lzf")
        for k, v in {**attrs, "FILE_TYPE": "ifgramStack", "UNIT": "radian", "DATA_TYPE": "float32"}.items():
            f.attrs[k] = v
    gpath = inputs / "geometryRadar.h5"
    if geometry:
        with h5py.File(gpath, "w") as f:
            for name in GEOMETRY_FLOAT:
                if name not in drop_datasets:
                    f.create_dataset(name, data=geo[name].astype(np.float32), chunks=True, compression="lzf")
            for name in ("shadowMask", "waterMask"):
                if name not in drop_datasets:
                    f.create_dataset(name, data=geo[name].astype(np.bool_), chunks=True, compression="lzf")
            for k, v in {**attrs, "FILE_TYPE": "geometry"}.items():
                f.attrs[k] = v
    return stack, gpath
