"""Writers: MintPy-compatible HDF5 products and GeoTIFFs.

The HDF5 files follow MintPy 1.6 (``ifgram_inversion.py`` / ``timeseries2velocity.py``): root attributes are strings
(the stack's metadata plus FILE_TYPE, UNIT, REF_DATE, REF_Y/REF_X, LENGTH/WIDTH, X_FIRST/Y_FIRST/X_STEP/Y_STEP, EPSG),
``timeseries.h5`` holds ``date`` (n,) |S8, ``bperp`` (n,) float32 and ``timeseries`` (n, rows, cols) float32 metres
(LOS, positive toward the satellite, first date = 0); ``velocity.h5`` holds ``velocity`` (m/year), ``velocityStd``,
``intercept``, ``interceptStd``, ``residue``; ``temporalCoherence.h5`` holds ``temporalCoherence``; ``numInvIfgram.h5``
holds ``mask`` (number of interferograms used); ``maskTempCoh.h5`` holds ``mask`` (bool). Our additions:
``bridged.h5`` (``bridged`` uint8 and ``numComponents`` int16: NSBAS bridge flags).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from subsidence.insar.stack import Grid

MINTPY_VERSION_COMPAT = "1.6.4"


def _str_attrs(attrs: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in attrs.items() if v is not None}


def create_h5(path: Path, datasets: dict[str, tuple], attrs: dict, *, chunk_rows: int | None = None):
    """Create an HDF5 file laid out like MintPy's ``writefile.layout_hdf5``; return the open h5py File.

    ``datasets``: name -> (dtype, shape, data or None, unit or None).
    """
    import h5py

    f = h5py.File(path, "w")
    for k, v in _str_attrs(attrs).items():
        f.attrs[k] = v
    for name, spec in datasets.items():
        dtype, shape, data, unit = (tuple(spec) + (None,) * 4)[:4]
        if data is not None:
            ds = f.create_dataset(name, data=np.asarray(data, dtype=dtype))
        else:
            chunks = None
            if len(shape) >= 2:
                rows, cols = shape[-2], shape[-1]
                r = max(1, min(rows, chunk_rows or 64))
                c = cols if r * cols * 4 <= 4 << 20 else min(cols, 1024)
                chunks = (1,) * (len(shape) - 2) + (r, c)
            fill = np.nan if np.issubdtype(np.dtype(dtype), np.floating) else 0
            ds = f.create_dataset(name, shape=shape, dtype=dtype, chunks=chunks, fillvalue=fill)
        if unit:
            ds.attrs["UNIT"] = unit
    return f


def base_attrs(grid: Grid, source_attrs: dict | None = None) -> dict[str, str]:
    """Source metadata + grid attributes (grid wins), without stack-only keys."""
    a = {k: v for k, v in (source_attrs or {}).items() if k not in ("FILE_TYPE", "UNIT", "REF_DATE")}
    a.update(grid.mintpy_attrs())
    return a


def write_geotiff(
    path: Path,
    array: np.ndarray,
    grid: Grid,
    *,
    name: str,
    unit: str = "",
    kind: str = "",
    direction: str = "",
    description: str = "",
    dates: list[str] | None = None,
    dtype: str = "float32",
) -> Path:
    """One-band GeoTIFF through :func:`subsidence.io.raster.write_geotiff` (atomic, CRS always written), with
    dataset tags UNIT / KIND / DIRECTION / DATES so that :func:`~subsidence.insar.readers.read_deformation` reads it
    back without being told the unit or the sign convention."""
    from subsidence.io.raster import write_geotiff as _write

    tags = {
        k: v for k, v in {"UNIT": unit, "KIND": kind, "DIRECTION": direction, "DESCRIPTION": description}.items() if v
    }
    if dates:
        tags["DATES"] = ",".join(dates)
    return _write(
        path,
        {name: np.asarray(array)},
        transform=grid.transform,
        crs=grid.crs,
        units={name: unit} if unit else None,
        descriptions={name: description} if description else None,
        dtype=dtype,
        tags=tags,
    )


def write_ifgram_stack_h5(
    path: Path, stack, *, chunk_rows: int = 64, ref_yx: tuple[int, int] | None = None, extra_attrs: dict | None = None
) -> Path:
    """Write any :class:`~subsidence.insar.stack.IfgramStack` as a MintPy ``ifgramStack.h5`` (geocoded), block by
    block: ``date`` (m, 2) |S8, ``bperp``, ``dropIfgram`` (all True = kept), ``unwrapPhase`` (rad, 0 = no data),
    ``coherence``. Lets MintPy (or anyone) process a LiCSBAS/GeoTIFF stack or a synthetic one."""
    from subsidence.insar.stack import yyyymmdd

    L, W = stack.shape
    m = len(stack.pairs)
    attrs = base_attrs(stack.grid, stack.attrs)
    attrs.update(
        {
            "FILE_TYPE": "ifgramStack",
            "UNIT": "radian",
            "WAVELENGTH": repr(stack.wavelength_m),
            "DATA_TYPE": "float32",
            **(extra_attrs or {}),
        }
    )
    attrs.setdefault("NCORRLOOKS", repr(float(stack.looks)))
    if ref_yx is not None:
        attrs.update({"REF_Y": str(ref_yx[0]), "REF_X": str(ref_yx[1])})
    dates = np.array([[yyyymmdd(a), yyyymmdd(b)] for a, b in stack.pairs], dtype="S8")
    bperp = stack.bperp_m if stack.bperp_m is not None else np.zeros(m)
    spec = {
        "date": (np.dtype("S8"), (m, 2), dates),
        "bperp": (np.float32, (m,), bperp),
        "dropIfgram": (np.bool_, (m,), np.ones(m, bool)),
        "unwrapPhase": (np.float32, (m, L, W), None),
        "coherence": (np.float32, (m, L, W), None),
    }
    f = create_h5(Path(path), spec, attrs, chunk_rows=chunk_rows)
    try:
        for r0 in range(0, L, chunk_rows):
            r1 = min(L, r0 + chunk_rows)
            bd = stack.source.read_rows(r0, r1)
            ph = np.nan_to_num(bd.phase, nan=0.0)
            f["unwrapPhase"][:, r0:r1, :] = ph
            f["coherence"][:, r0:r1, :] = bd.coherence if bd.coherence is not None else np.ones_like(ph)
    finally:
        f.close()
    return Path(path)
