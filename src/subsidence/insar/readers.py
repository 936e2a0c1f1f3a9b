"""Readers for what InSAR specialists hand over: MintPy, LiCSBAS and plain GeoTIFF products.

Stacks (:func:`open_ifgram_stack`) are opened lazily: metadata now, pixels block by block through a picklable
source. Products (:func:`read_deformation`) are read whole (rows x cols per date, float32).
Inputs are in map geometry with a CRS, or — MintPy stacks straight from ISCE/topsStack — in radar coordinates with
their ``geometryRadar.h5`` (given, or found beside the stack): those are inverted in radar coordinates and geocoded
with the lookup table (:mod:`subsidence.insar.geocode`). ASF HyP3 GAMMA products are read by
:mod:`subsidence.insar.hyp3`. Every file that cannot be used is an :class:`InSARInputError` naming it, what was
expected and the fix.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError

from subsidence.insar.convention import SENTINEL1_WAVELENGTH_M
from subsidence.insar.stack import (
    BlockData,
    Deformation,
    Grid,
    IfgramStack,
    InSARInputError,
    parse_yyyymmdd,
)
from subsidence.insar.stack import h5_attr as _attr

log = logging.getLogger(__name__)

SPEED_OF_LIGHT = 299_792_458.0
_PAIR_RE = re.compile(r"^(\d{8})_(\d{8})(.*)\.tif{1,2}$", re.IGNORECASE)


# ----------------------------------------------------------------------------------------------------------------
# geocoding
# ----------------------------------------------------------------------------------------------------------------
def grid_from_mintpy_attrs(attrs, *, source: str, lat=None, lon=None) -> Grid:
    """Grid from MintPy attributes (X_FIRST/Y_FIRST = upper-left corner, X_STEP/Y_STEP, EPSG or UTM_ZONE).

    Without them, regular 2-D ``latitude``/``longitude`` arrays (if given) define the grid; otherwise the file is in
    radar coordinates and is refused.
    """
    try:
        length, width = int(_attr(attrs, "LENGTH")), int(_attr(attrs, "WIDTH"))
    except (TypeError, ValueError):
        raise InSARInputError(f"{source}: attributes LENGTH/WIDTH missing; not a MintPy file?") from None
    if _attr(attrs, "X_FIRST") is not None and _attr(attrs, "Y_FIRST") is not None:
        try:
            x0, y0 = float(_attr(attrs, "X_FIRST")), float(_attr(attrs, "Y_FIRST"))
            dx, dy = float(_attr(attrs, "X_STEP")), float(_attr(attrs, "Y_STEP"))
        except (TypeError, ValueError):
            raise InSARInputError(
                f"{source}: X_FIRST/Y_FIRST present but X_STEP/Y_STEP missing or not numbers"
            ) from None
        crs = _crs_from_mintpy(attrs, source)
        return Grid(Affine(dx, 0.0, x0, 0.0, dy, y0), crs, (length, width))
    if lat is not None and lon is not None:
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        if lat.shape == (length, width) and lon.shape == (length, width):
            dx = (lon[0, -1] - lon[0, 0]) / max(width - 1, 1)
            dy = (lat[-1, 0] - lat[0, 0]) / max(length - 1, 1)
            regular = np.allclose(lon, lon[0:1, :], atol=abs(dx) * 1e-3) and np.allclose(
                lat, lat[:, 0:1], atol=abs(dy) * 1e-3
            )
            if regular and dx != 0 and dy != 0:
                return Grid(
                    Affine(dx, 0, lon[0, 0] - dx / 2, 0, dy, lat[0, 0] - dy / 2), CRS.from_epsg(4326), (length, width)
                )
    if any(str(k).startswith("subsidence.") for k in attrs):  # our own radar/ products
        raise InSARInputError(
            f"{source}: radar-coordinate product of `subsidence timeseries` (its radar/ folder); use the geocoded "
            f"products in the folder above ({Path(source).parent.parent})"
        )
    raise InSARInputError(
        f"{source}: the data are in radar coordinates (no X_FIRST/Y_FIRST geocoding attributes), so they cannot "
        "be placed on a map. Geocode the stack first (MintPy: `geocode.py inputs/ifgramStack.h5 -l "
        "inputs/geometryRadar.h5`, then use geo/geo_ifgramStack.h5; LiCSBAS: use the GEOC folder)"
    )


def _crs_from_mintpy(attrs, source: str) -> CRS:
    epsg = _attr(attrs, "EPSG")
    if epsg not in (None, "", "None"):
        try:
            return CRS.from_epsg(int(float(epsg)))
        except (ValueError, TypeError, CRSError):
            raise InSARInputError(f"{source}: attribute EPSG={epsg!r} is not a known EPSG code") from None
    wkt = _attr(attrs, "CRS_WKT")
    if wkt:
        return CRS.from_wkt(wkt)
    zone = _attr(attrs, "UTM_ZONE")
    if zone:
        m = re.match(r"(\d+)\s*([A-Za-z]?)", str(zone))
        if m:
            north = (m.group(2) or "N").upper() >= "N"
            return CRS.from_epsg((32600 if north else 32700) + int(m.group(1)))
    unit = str(_attr(attrs, "X_UNIT", "degrees")).lower()
    if unit.startswith("deg"):
        return CRS.from_epsg(4326)  # MintPy's geocoded products are WGS84 lon/lat unless EPSG says otherwise
    raise InSARInputError(
        f"{source}: projected coordinates (X_UNIT={unit}) but no EPSG or UTM_ZONE attribute; "
        "add EPSG to the file's attributes"
    )


# ----------------------------------------------------------------------------------------------------------------
# MintPy ifgramStack.h5
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MintPyStackSource:
    """Reads row bands of ``unwrapPhase`` (and ``coherence``) of the kept interferograms of an ifgramStack.h5."""

    path: str
    keep: tuple[int, ...]
    n_total: int
    has_coherence: bool
    row_chunk: int | None = None  # HDF5 chunk height of unwrapPhase (blocks are aligned to it)

    def _sel(self):
        if len(self.keep) == self.n_total:
            return slice(None)
        return list(self.keep)

    def read_rows(self, r0: int, r1: int) -> BlockData:
        import h5py

        with h5py.File(self.path, "r") as f:
            sel = self._sel()
            ph = np.asarray(f["unwrapPhase"][sel, r0:r1, :], dtype=np.float32)
            coh = np.asarray(f["coherence"][sel, r0:r1, :], dtype=np.float32) if self.has_coherence else None
        return BlockData(ph, coh)

    def read_sample(self, rows) -> BlockData:
        """Rows ``rows`` (increasing), all columns: (m, len(rows), cols)."""
        import h5py

        rows = [int(r) for r in rows]
        with h5py.File(self.path, "r") as f:
            ph = np.asarray(f["unwrapPhase"][:, rows, :], dtype=np.float32)
            coh = np.asarray(f["coherence"][:, rows, :], dtype=np.float32) if self.has_coherence else None
        if len(self.keep) != self.n_total:
            keep = list(self.keep)
            ph = ph[keep]
            coh = None if coh is None else coh[keep]
        return BlockData(ph, coh)


def open_mintpy_stack(
    path: str | Path,
    *,
    wavelength_m: float | None = None,
    looks: float | None = None,
    geometry: str | Path | None = None,
) -> IfgramStack:
    """Open a MintPy ``ifgramStack.h5``. Interferograms with ``dropIfgram`` False are left out.

    Geocoded stacks (X_FIRST/Y_FIRST) are read as they are. A stack in radar coordinates needs its
    ``geometryRadar.h5`` (``geometry``, else found beside the stack: same folder, ``inputs/`` or ``../inputs/``);
    the stack's grid is then a radar grid (no CRS) and ``stack.geometry`` the checked geometry file.
    """
    import h5py

    path = Path(path)
    src = str(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InSARInputError(
            f"{src}: not a readable HDF5 file ({exc}); expected MintPy's ifgramStack.h5 "
            "(mintpy/inputs/ifgramStack.h5 from load_data.py)"
        ) from None
    with f:
        attrs = {k: _attr(f.attrs, k) for k in f.attrs}
        ftype = attrs.get("FILE_TYPE")
        if ftype != "ifgramStack":
            raise InSARInputError(
                f"{src}: FILE_TYPE is {ftype!r}, expected 'ifgramStack' (MintPy inputs/ifgramStack.h5)"
            )
        for name in ("date", "unwrapPhase"):
            if name not in f:
                raise InSARInputError(f"{src}: dataset {name!r} missing; not a complete MintPy ifgramStack.h5")
        dates = f["date"][:]
        if dates.ndim != 2 or dates.shape[1] != 2:
            raise InSARInputError(f"{src}: dataset 'date' has shape {dates.shape}, expected (num_ifgram, 2)")
        m = dates.shape[0]
        ushape = f["unwrapPhase"].shape
        if len(ushape) != 3 or ushape[0] != m:
            raise InSARInputError(f"{src}: unwrapPhase has shape {ushape}, expected ({m}, LENGTH, WIDTH)")
        keep = np.ones(m, bool) if "dropIfgram" not in f else np.asarray(f["dropIfgram"][:], bool)
        has_coh = "coherence" in f and f["coherence"].shape == ushape
        chunks = f["unwrapPhase"].chunks
        row_chunk = int(chunks[1]) if chunks else None
        bperp = np.asarray(f["bperp"][:], float) if "bperp" in f else None
        lat = f["latitude"][:] if "latitude" in f and "X_FIRST" not in attrs else None
        lon = f["longitude"][:] if "longitude" in f and "X_FIRST" not in attrs else None
    attrs.setdefault("LENGTH", str(ushape[1]))
    attrs.setdefault("WIDTH", str(ushape[2]))
    if (int(attrs["LENGTH"]), int(attrs["WIDTH"])) != tuple(ushape[1:]):
        raise InSARInputError(
            f"{src}: LENGTH/WIDTH attributes {attrs['LENGTH']}x{attrs['WIDTH']} disagree with "
            f"unwrapPhase {ushape[1]}x{ushape[2]}"
        )
    geo = None
    try:
        grid = grid_from_mintpy_attrs(attrs, source=src, lat=lat, lon=lon)
        if geometry is not None:
            log.warning("%s: the stack is geocoded; --geometry %s is not needed and is ignored", src, geometry)
    except InSARInputError:
        if _attr(attrs, "X_FIRST") is not None:
            raise
        from subsidence.insar.geocode import find_geometry_file, open_radar_geometry

        gpath = Path(geometry) if geometry is not None else find_geometry_file(path)
        if gpath is None:
            raise InSARInputError(
                f"{src}: the stack is in radar coordinates (no X_FIRST/Y_FIRST attributes) and no geometryRadar.h5 "
                f"was found beside it ({path.parent}, {path.parent / 'inputs'} or {path.parent.parent / 'inputs'}). "
                "Give the lookup table with --geometry PATH/geometryRadar.h5 (MintPy load_data.py writes it to "
                "mintpy/inputs/). Geocoded stacks need none (MintPy: geocode.py ifgramStack.h5 -l geometryRadar.h5)"
            ) from None
        geo = open_radar_geometry(gpath, shape=(int(attrs["LENGTH"]), int(attrs["WIDTH"])), stack_origin=src)
        grid = Grid.radar((int(attrs["LENGTH"]), int(attrs["WIDTH"])))
        log.info("%s: radar coordinates; geocoding with %s", src, geo.path)
    if not keep.any():
        raise InSARInputError(f"{src}: every interferogram is marked dropped (dropIfgram all False)")
    pairs = [
        (parse_yyyymmdd(a, source=f"{src} date[{i}]"), parse_yyyymmdd(b, source=f"{src} date[{i}]"))
        for i, (a, b) in enumerate(dates)
    ]
    kept = tuple(int(i) for i in np.flatnonzero(keep))
    wl = wavelength_m if wavelength_m is not None else attrs.get("WAVELENGTH")
    if wl in (None, "", "None"):
        raise InSARInputError(
            f"{src}: attribute WAVELENGTH (radar wavelength, metres) is missing, so phase cannot be converted to "
            f"displacement; add it to the file or pass --wavelength (Sentinel-1: {SENTINEL1_WAVELENGTH_M})"
        )
    ref_yx = None
    if attrs.get("REF_Y") not in (None, "", "None") and attrs.get("REF_X") not in (None, "", "None"):
        ref_yx = (int(float(attrs["REF_Y"])), int(float(attrs["REF_X"])))
    if looks is None:
        if attrs.get("NCORRLOOKS"):
            looks = float(attrs["NCORRLOOKS"])
        elif attrs.get("ALOOKS") and attrs.get("RLOOKS"):
            looks = float(attrs["ALOOKS"]) * float(attrs["RLOOKS"]) / 1.94  # MintPy's S1 IW resolution ratio
        else:
            looks = 1.0
        looks = max(float(np.rint(looks)), 1.0)
    return IfgramStack(
        pairs=[pairs[i] for i in kept],
        wavelength_m=float(wl),
        grid=grid,
        source=MintPyStackSource(src, kept, m, has_coh, row_chunk),
        has_coherence=has_coh,
        looks=looks,
        ref_yx=ref_yx,
        bperp_m=None if bperp is None else bperp[list(kept)],
        origin=src,
        kind="mintpy",
        attrs=attrs,
        geometry=geo,
    )


# ----------------------------------------------------------------------------------------------------------------
# GeoTIFF pair folders (LiCSBAS GEOC and plain YYYYMMDD_YYYYMMDD unw/cc)
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GeoTiffPairsSource:
    """Reads row bands of one unwrapped-phase GeoTIFF (and optional coherence GeoTIFF) per interferogram.

    ``windows``: per interferogram (row_off, col_off) of the common grid inside the unw and cc files, with ``cols``
    the common width (HyP3 products of one frame share a pixel grid but not their extent); None = whole files.
    """

    unw_paths: tuple[str, ...]
    cc_paths: tuple[str, ...] | None
    preferred_block_pixels: int = 262144  # one open per file per block: fewer, larger blocks
    unw_windows: tuple[tuple[int, int], ...] | None = None
    cc_windows: tuple[tuple[int, int], ...] | None = None
    cols: int | None = None

    def _win(self, which: str, i: int) -> tuple[int, int]:
        w = self.unw_windows if which == "unw" else self.cc_windows
        return (0, 0) if w is None else w[i]

    def read_rows(self, r0: int, r1: int) -> BlockData:
        ph = np.stack(
            [
                _read_band_rows(p, r0, r1, phase=True, offset=self._win("unw", i), cols=self.cols)
                for i, p in enumerate(self.unw_paths)
            ]
        )
        coh = None
        if self.cc_paths is not None:
            coh = np.stack(
                [
                    _read_band_rows(p, r0, r1, phase=False, offset=self._win("cc", i), cols=self.cols)
                    for i, p in enumerate(self.cc_paths)
                ]
            )
        return BlockData(ph, coh)

    def read_sample(self, rows) -> BlockData:
        """Rows ``rows``, all columns, opening each file once: (m, len(rows), cols)."""
        rows = [int(r) for r in rows]
        ph = np.stack(
            [
                _read_rows_list(p, rows, phase=True, offset=self._win("unw", i), cols=self.cols)
                for i, p in enumerate(self.unw_paths)
            ]
        )
        coh = None
        if self.cc_paths is not None:
            coh = np.stack(
                [
                    _read_rows_list(p, rows, phase=False, offset=self._win("cc", i), cols=self.cols)
                    for i, p in enumerate(self.cc_paths)
                ]
            )
        return BlockData(ph, coh)


def open_tif(path: str | Path, expected: str):
    """``rasterio.open`` with an :class:`InSARInputError` naming the file, what was expected and the fix."""
    import rasterio
    from rasterio.errors import RasterioError

    try:
        return rasterio.open(path)
    except (RasterioError, OSError) as exc:
        raise InSARInputError(
            f"{path}: not a readable GeoTIFF ({exc}); expected {expected}. Replace it with the product's GeoTIFF "
            "(download or export it again) or move it out of the folder"
        ) from None


def _read_window(path: str, r0: int, r1: int, offset: tuple[int, int], cols: int | None):
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    with open_tif(path, "an interferogram GeoTIFF") as ds:
        width = ds.width if cols is None else cols
        try:
            a = ds.read(1, window=Window(offset[1], offset[0] + r0, width, r1 - r0))
        except (RasterioError, OSError) as exc:
            raise InSARInputError(
                f"{path}: cannot read rows {r0}..{r1 - 1} ({exc}); the file is truncated or "
                "corrupt: download or export it again"
            ) from None
        return a, ds.nodata


def _read_rows_list(
    path: str, rows: list[int], *, phase: bool, offset: tuple[int, int] = (0, 0), cols: int | None = None
) -> np.ndarray:
    parts = []
    nodata = None
    for r in rows:
        a, nodata = _read_window(path, r, r + 1, offset, cols)
        parts.append(a[0])
    return _to_float(np.stack(parts), nodata, phase)


def _to_float(a: np.ndarray, nodata, phase: bool) -> np.ndarray:
    integer = np.issubdtype(a.dtype, np.integer)
    out = a.astype(np.float32)
    if nodata is not None and not np.isnan(nodata):
        out[a == nodata] = np.nan
    if not phase and integer and a.dtype == np.uint8:
        out /= 255.0  # LiCSAR stores coherence as uint8 0..255
    return out


def _read_band_rows(
    path: str, r0: int, r1: int, *, phase: bool, offset: tuple[int, int] = (0, 0), cols: int | None = None
) -> np.ndarray:
    a, nodata = _read_window(path, r0, r1, offset, cols)
    return _to_float(a, nodata, phase)


def _find_wavelength(folder: Path) -> float | None:
    """Radar wavelength from a GAMMA/LiCSAR parameter file (radar_frequency) near the folder, if any."""
    for d in (folder, folder.parent):
        for pat in ("*.mli.par", "*.slc.par", "*.par"):
            for par in sorted(d.glob(pat)):
                try:
                    text = par.read_text(errors="replace")
                except OSError:
                    continue
                m = re.search(r"^\s*radar_frequency:\s*([0-9.eE+-]+)", text, re.MULTILINE)
                if m:
                    return SPEED_OF_LIGHT / float(m.group(1))
                m = re.search(r"^\s*wavelength[:=]\s*([0-9.eE+-]+)", text, re.MULTILINE | re.IGNORECASE)
                if m:
                    return float(m.group(1))
    return None


def open_geotiff_pairs(
    folder: str | Path, *, wavelength_m: float | None = None, looks: float | None = None
) -> IfgramStack:
    """Open a folder of interferogram GeoTIFFs named ``YYYYMMDD_YYYYMMDD``: LiCSBAS ``GEOC/`` (one sub-folder per pair
    with ``.geo.unw.tif`` and ``.geo.cc.tif``) or a flat folder of ``*unw*.tif`` / ``*cc*``/``*coh*`` pairs."""
    folder = Path(folder)
    if (folder / "GEOC").is_dir():
        folder = folder / "GEOC"
    unw: dict[str, Path] = {}
    cc: dict[str, Path] = {}
    for p in sorted(list(folder.glob("*.tif")) + list(folder.glob("*/*.tif"))):
        m = _PAIR_RE.match(p.name)
        if not m:
            continue
        key = f"{m.group(1)}_{m.group(2)}"
        rest = m.group(3).lower()
        if "unw" in rest:
            if key in unw:
                raise InSARInputError(f"{folder}: two unwrapped-phase files for {key}: {unw[key].name} and {p.name}")
            unw[key] = p
        elif re.search(r"(^|[._])(cc|coh|cor|coherence)([._]|$)", rest):
            cc[key] = p
    if not unw:
        raise InSARInputError(
            f"{folder}: no interferograms found; expected YYYYMMDD_YYYYMMDD/YYYYMMDD_YYYYMMDD.geo.unw.tif (LiCSBAS "
            "GEOC) or YYYYMMDD_YYYYMMDD.unw.tif files"
        )
    keys = sorted(unw, key=lambda k: (k[:8], k[9:]))
    pairs = [(parse_yyyymmdd(k[:8], source=str(unw[k])), parse_yyyymmdd(k[9:], source=str(unw[k]))) for k in keys]
    grid0 = None
    first = None
    for k in keys:
        for p in [unw[k]] + ([cc[k]] if k in cc else []):
            what = ("the unwrapped phase of " if p == unw[k] else "the coherence of ") + f"interferogram {k}"
            with open_tif(p, f"{what} (float32 GeoTIFF, radians)" if p == unw[k] else f"{what} (GeoTIFF, 0-1)") as ds:
                if np.issubdtype(np.dtype(ds.dtypes[0]), np.complexfloating):
                    raise InSARInputError(
                        f"{p}: complex values (a wrapped interferogram?); expected {what} as real "
                        "numbers (unwrap it first, e.g. SNAPHU, and give the unwrapped phase)"
                    )
                if ds.crs is None or ds.transform.is_identity:
                    raise InSARInputError(
                        f"{p}: no georeferencing (CRS/geotransform); radar-coordinate interferograms cannot be placed "
                        "on a map. Use geocoded products (LiCSAR/LiCSBAS GEOC *.geo.unw.tif) or geocode them first"
                    )
                g = Grid(ds.transform, CRS.from_user_input(ds.crs.to_wkt()), (ds.height, ds.width))
            if grid0 is None:
                grid0, first = g, p
            elif g.shape != grid0.shape:
                raise InSARInputError(
                    f"{p}: {g.rows}x{g.cols} pixels but {first.name} has {grid0.rows}x{grid0.cols}; "
                    "all interferograms must be on the same grid (crop/resample them first)"
                )
            elif g.crs != grid0.crs:
                raise InSARInputError(
                    f"{p}: CRS {g.crs.to_string()} differs from {first.name} "
                    f"({grid0.crs.to_string()}); reproject all interferograms to one CRS first"
                )
            elif not g.same_as(grid0, tol=1e-9):
                raise InSARInputError(
                    f"{p}: geotransform {tuple(g.transform)[:6]} differs from {first.name} "
                    f"({tuple(grid0.transform)[:6]}); all interferograms must share one grid"
                )
    missing_cc = [k for k in keys if k not in cc]
    if missing_cc and len(missing_cc) < len(keys):
        log.warning(
            "%s: %d of %d interferograms have no coherence file (e.g. %s); inverting without weights",
            folder,
            len(missing_cc),
            len(keys),
            missing_cc[0],
        )
    has_coh = not missing_cc
    wl = wavelength_m if wavelength_m is not None else _find_wavelength(folder)
    if wl is None:
        raise InSARInputError(
            f"{folder}: radar wavelength not found (no *.mli.par / *.slc.par with radar_frequency next to the "
            f"interferograms); pass --wavelength in metres (Sentinel-1 C-band: {SENTINEL1_WAVELENGTH_M})"
        )
    kind = "licsbas" if any(unw[k].parent.name == k for k in keys) else "geotiff-pairs"
    return IfgramStack(
        pairs=pairs,
        wavelength_m=float(wl),
        grid=grid0,
        source=GeoTiffPairsSource(
            tuple(str(unw[k]) for k in keys), tuple(str(cc[k]) for k in keys) if has_coh else None
        ),
        has_coherence=has_coh,
        looks=float(looks or 1.0),
        origin=str(folder),
        kind=kind,
        attrs={"WAVELENGTH": repr(float(wl)), "PROCESSOR": "licsar" if kind == "licsbas" else "unknown"},
    )


# ----------------------------------------------------------------------------------------------------------------
# deformation products
# ----------------------------------------------------------------------------------------------------------------
_UNIT_TO_M = {
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "m/year": 1.0,
    "m/yr": 1.0,
    "cm/year": 0.01,
    "cm/yr": 0.01,
    "mm/year": 0.001,
    "mm/yr": 0.001,
}


def _unit_factor(unit: str | None, source: str) -> float:
    if unit is None:
        raise InSARInputError(f"{source}: unit unknown; state it (m, cm or mm) with the unit option")
    u = str(unit).strip().lower()
    if u not in _UNIT_TO_M:
        raise InSARInputError(f"{source}: unknown unit {unit!r}; use m, cm or mm (per year for velocity)")
    return _UNIT_TO_M[u]


def open_h5(path: str | Path, expected: str):
    """``h5py.File(path, "r")`` with an :class:`InSARInputError` naming the file, what was expected and the fix."""
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InSARInputError(
            f"{path}: not a readable HDF5 file ({exc}); expected {expected}. Replace it with the "
            "file the processor wrote (copy it again: it may be truncated)"
        ) from None


def _read_mintpy_timeseries(path: Path) -> Deformation:
    with open_h5(path, "MintPy timeseries.h5") as f:
        attrs = {k: _attr(f.attrs, k) for k in f.attrs}
        for name in ("date", "timeseries"):
            if name not in f:
                raise InSARInputError(
                    f"{path}: dataset {name!r} missing; expected a MintPy timeseries.h5 with 'date' "
                    "(n,) and 'timeseries' (n, rows, cols) in metres"
                )
        dates = tuple(parse_yyyymmdd(d, source=f"{path} date") for d in f["date"][:])
        ts = np.asarray(f["timeseries"][:], dtype=np.float32) * _unit_factor(attrs.get("UNIT", "m"), str(path))
    grid = grid_from_mintpy_attrs(attrs, source=str(path))
    ts = ts - ts[0:1]  # first date = 0 (MintPy REF_DATE may be another date)
    ref = _ref_yx(attrs)
    return Deformation(
        grid=grid,
        dates=dates,
        cumulative_m=ts,
        source=str(path),
        ref_yx=ref,
        meta=attrs,
        incidence_deg=_incidence(attrs),
    )


def _incidence(attrs) -> float | None:
    for key in ("CENTER_INCIDENCE_ANGLE", "INCIDENCE_ANGLE"):
        try:
            v = float(attrs[key])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 < v < 90:
            return v
    return None


def _ref_yx(attrs):
    try:
        return int(float(attrs["REF_Y"])), int(float(attrs["REF_X"]))
    except (KeyError, TypeError, ValueError):
        return None


def _read_mintpy_2d(path: Path, name: str) -> tuple[np.ndarray, dict]:
    with open_h5(path, f"a MintPy file with dataset {name!r}") as f:
        attrs = {k: _attr(f.attrs, k) for k in f.attrs}
        if name not in f:
            raise InSARInputError(f"{path}: dataset {name!r} missing")
        return np.asarray(f[name][:], dtype=np.float32), attrs


def _read_licsbas_cum(path: Path) -> Deformation:
    with open_h5(path, "LiCSBAS cum.h5") as f:
        for name in ("imdates", "cum"):
            if name not in f:
                raise InSARInputError(f"{path}: dataset {name!r} missing; not a LiCSBAS cum.h5")
        dates = tuple(parse_yyyymmdd(int(d), source=f"{path} imdates") for d in f["imdates"][:])
        cum = np.asarray(f["cum"][:], dtype=np.float32) * 0.001  # mm -> m, LOS toward satellite
        vel = np.asarray(f["vel"][:], dtype=np.float32) * 0.001 if "vel" in f else None
        if "corner_lat" not in f or "post_lat" not in f:
            raise InSARInputError(
                f"{path}: no corner_lat/corner_lon/post_lat/post_lon: radar coordinates or an "
                "incomplete LiCSBAS cum.h5; use the GEOC-based product"
            )
        clat, clon = float(f["corner_lat"][()]), float(f["corner_lon"][()])
        plat, plon = float(f["post_lat"][()]), float(f["post_lon"][()])
    # LiCSBAS (GAMMA) corner_lat/lon is the centre of the first pixel
    grid = Grid(Affine(plon, 0, clon - plon / 2, 0, plat, clat - plat / 2), CRS.from_epsg(4326), cum.shape[1:])
    cum = cum - cum[0:1]
    return Deformation(grid=grid, dates=dates, cumulative_m=cum, velocity_m_per_yr=vel, source=str(path))


def _read_geotiff(path: Path, kind: str | None, unit: str | None, direction: str | None) -> Deformation:
    with open_tif(path, "a deformation GeoTIFF (velocity or cumulative displacement)") as ds:
        if ds.crs is None:
            raise InSARInputError(f"{path}: no CRS; radar-coordinate rasters cannot be placed on a map")
        tags = ds.tags()
        try:
            a = ds.read().astype(np.float32)
        except Exception as exc:  # noqa: BLE001 - GDAL raises several types for truncated/corrupt tiles
            raise InSARInputError(
                f"{path}: cannot read the pixels ({exc}); the file is truncated or corrupt: export it again"
            ) from None
        if ds.nodata is not None and not np.isnan(ds.nodata):
            a[a == ds.nodata] = np.nan
        grid = Grid(ds.transform, CRS.from_user_input(ds.crs.to_wkt()), (ds.height, ds.width))
        desc = ds.descriptions
    kind = kind or tags.get("KIND") or ("velocity" if "vel" in path.name.lower() else None)
    if kind not in ("velocity", "cumulative"):
        raise InSARInputError(
            f"{path}: say whether this GeoTIFF is a velocity or a cumulative displacement "
            "(kind='velocity' / 'cumulative')"
        )
    fac = _unit_factor(unit or tags.get("UNIT"), str(path))
    direction = direction or tags.get("DIRECTION", "los")
    if kind == "velocity":
        return Deformation(grid=grid, velocity_m_per_yr=a[0] * fac, direction=direction, source=str(path))
    dates: tuple = ()
    if tags.get("DATES"):
        dates = tuple(parse_yyyymmdd(d, source=f"{path} DATES tag") for d in tags["DATES"].split(","))
    elif all(d and re.fullmatch(r"\d{8}", d) for d in desc):
        dates = tuple(parse_yyyymmdd(d) for d in desc)
    cum = a * fac
    if a.shape[0] == 1 and len(dates) != 1:
        cum = np.concatenate([np.zeros_like(cum), cum])  # one band = displacement since the start
        if len(dates) != 2:
            dates = ()
    return Deformation(grid=grid, dates=dates, cumulative_m=cum, direction=direction, source=str(path))


def read_deformation(
    path: str | Path, *, kind: str | None = None, unit: str | None = None, direction: str | None = None
) -> Deformation:
    """Read a deformation product (see :mod:`subsidence.insar` for the contract).

    ``path``: a ``subsidence timeseries`` output folder; MintPy ``timeseries.h5`` / ``velocity.h5``; LiCSBAS
    ``cum.h5``; or a GeoTIFF (``kind`` velocity|cumulative and ``unit`` m|cm|mm unless tagged; ``direction`` los|up).
    """
    path = Path(path)
    if not path.exists():
        raise InSARInputError(f"{path}: no such file or folder")
    if path.is_dir():
        if not (path / "timeseries.h5").exists():
            raise InSARInputError(f"{path}: no timeseries.h5 in this folder (run `subsidence timeseries` first)")
        d = _read_mintpy_timeseries(path / "timeseries.h5")
        if (path / "velocity.h5").exists():
            d.velocity_m_per_yr = _read_mintpy_2d(path / "velocity.h5", "velocity")[0]
        if (path / "temporalCoherence.h5").exists():
            d.temporal_coherence = _read_mintpy_2d(path / "temporalCoherence.h5", "temporalCoherence")[0]
        if (path / "bridged.h5").exists():
            d.bridged = _read_mintpy_2d(path / "bridged.h5", "bridged")[0] > 0
        if (path / "geometryGeo.h5").exists():  # a radar-coordinate stack geocoded with its lookup table
            try:
                inc = _read_mintpy_2d(path / "geometryGeo.h5", "incidenceAngle")[0]
            except InSARInputError:  # a geometry without incidence: the scalar one (or the user's) applies
                inc = None
            if inc is not None and inc.shape == d.grid.shape:
                d.incidence_map_deg = np.where((inc > 0) & (inc < 90), inc, np.nan).astype(np.float32)
        if (path / "summary.json").exists():
            d.meta = {**d.meta, "summary": json.loads((path / "summary.json").read_text())}
        d.source = str(path)
        return d
    suffix = path.suffix.lower()
    if suffix in (".h5", ".he5", ".hdf5"):
        with open_h5(path, "a MintPy timeseries.h5/velocity.h5 or a LiCSBAS cum.h5") as f:
            ftype = _attr(f.attrs, "FILE_TYPE")
            names = set(f.keys())
        if ftype == "timeseries":
            return _read_mintpy_timeseries(path)
        if ftype == "velocity":
            v, attrs = _read_mintpy_2d(path, "velocity")
            v = v * _unit_factor(attrs.get("UNIT", "m/year"), str(path))
            return Deformation(
                grid=grid_from_mintpy_attrs(attrs, source=str(path)),
                velocity_m_per_yr=v,
                source=str(path),
                ref_yx=_ref_yx(attrs),
                meta=attrs,
                incidence_deg=_incidence(attrs),
            )
        if {"cum", "imdates"} <= names:
            return _read_licsbas_cum(path)
        raise InSARInputError(
            f"{path}: not a MintPy timeseries/velocity file nor a LiCSBAS cum.h5 "
            f"(FILE_TYPE={ftype!r}, datasets {sorted(names)[:6]})"
        )
    if suffix in (".tif", ".tiff"):
        return _read_geotiff(path, kind, unit, direction)
    raise InSARInputError(f"{path}: unsupported deformation file; use .h5 (MintPy/LiCSBAS) or a GeoTIFF")


def dem_difference(before: str | Path, after: str | Path, *, unit: str = "m") -> Deformation:
    """Vertical displacement (m, up positive) = DEM(after) - DEM(before), ``after`` resampled to ``before``'s grid
    if the grids differ (bilinear). Subsidence is then ``Deformation.subsidence_mm()`` (positive downward)."""
    from rasterio.warp import Resampling, reproject

    fac = _unit_factor(unit, str(before))
    with open_tif(before, "a DEM GeoTIFF (heights in metres)") as b:
        if b.crs is None:
            raise InSARInputError(f"{before}: DEM without CRS")
        z0 = b.read(1).astype(np.float64)
        if b.nodata is not None:
            z0[z0 == b.nodata] = np.nan
        grid = Grid(b.transform, CRS.from_user_input(b.crs.to_wkt()), (b.height, b.width))
        b_crs, b_tr = b.crs, b.transform
    with open_tif(after, "a DEM GeoTIFF (heights in metres)") as a:
        if a.crs is None:
            raise InSARInputError(f"{after}: DEM without CRS")
        z1 = np.full(z0.shape, np.nan)
        src = a.read(1).astype(np.float64)
        if a.nodata is not None:
            src[src == a.nodata] = np.nan
        if a.crs == b_crs and a.transform == b_tr and a.shape == z0.shape:
            z1 = src
        else:
            reproject(
                src,
                z1,
                src_transform=a.transform,
                src_crs=a.crs,
                dst_transform=b_tr,
                dst_crs=b_crs,
                resampling=Resampling.bilinear,
                src_nodata=np.nan,
                dst_nodata=np.nan,
            )
    up = ((z1 - z0) * fac).astype(np.float32)
    if not np.isfinite(up).any():
        raise InSARInputError(f"{before} / {after}: the two DEMs do not overlap (no common valid pixel)")
    return Deformation(
        grid=grid, cumulative_m=np.stack([np.zeros_like(up), up]), direction="up", source=f"{after} - {before}"
    )


#: Alias used by the census adapter (``subsidence.census.kernels.inputs``).
read_product = read_deformation
