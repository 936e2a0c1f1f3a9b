"""Open whatever stack the user gives: the one entry that picks the reader by what the path is.

Readers of each format live in :mod:`subsidence.insar.readers` (MintPy, LiCSBAS, GeoTIFF pairs) and
:mod:`subsidence.insar.hyp3` (ASF HyP3 products); this module sits above both so that neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

from subsidence.insar.hyp3 import is_hyp3_folder, open_hyp3_stack, zipped_products
from subsidence.insar.readers import open_geotiff_pairs, open_mintpy_stack
from subsidence.insar.stack import IfgramStack, InSARInputError


def open_ifgram_stack(path: str | Path, *, geometry: str | Path | None = None, **kwargs) -> IfgramStack:
    """Open what the user gave: an ifgramStack.h5 (map or radar coordinates; ``geometry`` = its geometryRadar.h5),
    a LiCSBAS GEOC folder, a folder of ASF HyP3 GAMMA InSAR products or a folder of unw/cc GeoTIFF pairs."""
    path = Path(path)
    if not path.exists():
        raise InSARInputError(f"{path}: no such file or folder")
    if path.is_dir():
        if geometry is not None:
            raise InSARInputError(
                f"--geometry {geometry}: only MintPy radar-coordinate stacks (ifgramStack.h5) take a "
                f"geometry file; {path} is a folder of GeoTIFFs, which carry their own georeferencing"
            )
        if is_hyp3_folder(path):
            return open_hyp3_stack(path, **kwargs)
        zips = zipped_products(path)
        if zips:
            raise InSARInputError(
                f"{path}: {len(zips)} HyP3 products are still zipped (e.g. {zips[0].name}); unzip them in place "
                f'(one folder per product, e.g. `cd {path} && for z in *.zip; do unzip -q "$z"; done`) and run again'
            )
        return open_geotiff_pairs(path, **kwargs)
    if path.suffix.lower() in (".h5", ".he5", ".hdf5"):
        return open_mintpy_stack(path, geometry=geometry, **kwargs)
    raise InSARInputError(
        f"{path}: expected a MintPy ifgramStack.h5, a LiCSBAS GEOC folder or a folder of "
        "YYYYMMDD_YYYYMMDD unw/cc GeoTIFFs"
    )
