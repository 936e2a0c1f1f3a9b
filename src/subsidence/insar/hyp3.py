"""ASF HyP3 GAMMA InSAR products (INSAR_GAMMA jobs): one folder (or zip, unzipped) per pair, UTM GeoTIFFs.

Product name (MintPy ``prep_hyp3.py``; HyP3 product guide)::

    S1AA_20200101T104012_20200113T104013_VVP012_INT80_G_ueF_1A2B
    {SAT}_{DATE1}T{TIME1}_{DATE2}T{TIME2}_{POL}{ORBIT}{DAYS}_{INT40|INT80}_{G = GAMMA}_{u|w e|c F|N}_{ID}

or, for INSAR_ISCE_BURST jobs (same layers and conventions), ``S1_136231_IW2_20240101_20240113_VV_INT80_ABCD``
({SAT}_{BURST ID}_{SWATH}_{DATE1}_{DATE2}_{POL}_{RES}_{ID}; multi-burst products are not recognised),

with files ``<name>_unw_phase.tif`` (unwrapped phase, radians, float32, 0 = no data), ``<name>_corr.tif``
(coherence 0-1), ``<name>_lv_theta.tif`` (look-vector elevation: angle from the horizontal to the vector from the
ground to the satellite, radians), ``<name>_lv_phi.tif`` (look-vector orientation, radians, from east,
anti-clockwise), ``<name>_dem.tif`` (m), ``<name>_water_mask.tif`` and ``<name>.txt`` (``Key: value`` lines:
Reference Granule, Baseline, Heading, Range looks, Azimuth looks, ...). A ``_clip`` suffix (MintPy's HyP3
tutorial clips the products to their common area) is accepted. All in one UTM zone on a common 40 m / 80 m pixel
grid (hyp3-gamma >= 4.3) but not always of the same extent: the stack is their common overlap.

Conversions (MintPy ``objects/stackDict.py``, HyP3 ``lv_theta``/``lv_phi`` definitions):
incidence (degrees from vertical) = 90 - degrees(lv_theta); azimuth (MintPy: LOS from the ground to the satellite,
degrees from north, anti-clockwise) = degrees(lv_phi) - 90, wrapped to [-180, 180); 0 = no data in both.
The unwrapped phase is taken with MintPy's sign (LOS = -lambda / (4 pi) * phase, as for ISCE; the HyP3 README notes
that its displacement maps use the opposite sign of the phase, which is the same relation).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import CRS

from subsidence.insar.convention import SENTINEL1_WAVELENGTH_M
from subsidence.insar.readers import GeoTiffPairsSource, open_tif
from subsidence.insar.stack import Grid, IfgramStack, InSARInputError, parse_yyyymmdd

log = logging.getLogger(__name__)

#: a HyP3 GAMMA product name (MintPy prep_hyp3: 8 underscore-separated parts, the first 4 characters long)
GAMMA_RE = re.compile(
    r"^(?P<sat>S1[A-D_][A-D_])_(?P<d1>\d{8})T(?P<t1>\d{6})_(?P<d2>\d{8})T(?P<t2>\d{6})_(?P<pol>[VH]{2}[A-Z]\d{3})_"
    r"(?P<res>INT\d+)_(?P<soft>[A-Z])_(?P<proc>[a-zA-Z]{3})_(?P<id>[0-9A-Fa-f]{4})$"
)
#: a HyP3 INSAR_ISCE_BURST product name (MintPy prep_hyp3: the second part is the 6-digit burst id), e.g.
#: S1_136231_IW2_20240101_20240113_VV_INT80_ABCD; same layers and conventions as the GAMMA products
BURST_RE = re.compile(
    r"^(?P<sat>S1[A-D]?)_(?P<burst>\d{6})_(?P<swath>IW[1-3])_(?P<d1>\d{8})_(?P<d2>\d{8})_(?P<pol>[VH]{2})_"
    r"(?P<res>INT\d+)_(?P<id>[0-9A-Fa-f]{4})$"
)


class _ProductRe:
    """Either naming (GAMMA scene or ISCE burst); ``match`` returns the match with groups d1, d2."""

    @staticmethod
    def match(name: str):
        return GAMMA_RE.match(name) or BURST_RE.match(name)


PRODUCT_RE = _ProductRe()
_UNW_RE = re.compile(r"^(?P<name>.+)_unw_phase(?P<clip>_clip)?\.tif{1,2}$", re.IGNORECASE)


@dataclass(frozen=True)
class Hyp3Product:
    name: str
    folder: Path
    unw: Path
    suffix: str  # "" or "_clip"

    def file(self, kind: str) -> Path:
        return self.folder / f"{self.name}_{kind}{self.suffix}.tif"

    @property
    def meta_path(self) -> Path:
        return self.folder / f"{self.name}.txt"


def _candidates(folder: Path) -> list[Path]:
    return sorted(list(folder.glob("*_unw_phase*.tif")) + list(folder.glob("*/*_unw_phase*.tif")))


def is_hyp3_folder(folder: str | Path) -> bool:
    """True when ``folder`` (or its sub-folders) holds ``*_unw_phase.tif`` files with HyP3 GAMMA product names."""
    for p in _candidates(Path(folder)):
        m = _UNW_RE.match(p.name)
        if m and PRODUCT_RE.match(m.group("name")):
            return True
    return False


def zipped_products(folder: str | Path) -> list[Path]:
    """HyP3 product zips (``<product name>.zip``) directly in ``folder``."""
    return [p for p in sorted(Path(folder).glob("*.zip")) if PRODUCT_RE.match(p.stem)]


def read_hyp3_metadata(path: Path) -> dict[str, str]:
    """The ``Key: value`` lines of a HyP3 ``<name>.txt`` parameter file (keys as written, e.g. ``Baseline``)."""
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InSARInputError(
            f"{path}: not a text file; expected the HyP3 parameter file (Key: value lines, e.g. "
            "'Baseline: -45.6'); download the product again"
        ) from None
    except OSError as exc:
        raise InSARInputError(f"{path}: cannot be read ({exc})") from None
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def find_products(folder: Path) -> list[Hyp3Product]:
    prods: dict[str, Hyp3Product] = {}
    for p in _candidates(folder):
        m = _UNW_RE.match(p.name)
        if not m or not PRODUCT_RE.match(m.group("name")):
            continue
        name = m.group("name")
        if name in prods:
            raise InSARInputError(
                f"{folder}: two unwrapped-phase files for {name}: {prods[name].unw} and {p}; "
                "keep one (the clipped or the full one)"
            )
        prods[name] = Hyp3Product(name, p.parent, p, m.group("clip") or "")
    return [prods[k] for k in sorted(prods, key=lambda n: (PRODUCT_RE.match(n)["d1"], PRODUCT_RE.match(n)["d2"]))]


def _header(path: Path, what: str):
    with open_tif(path, what) as ds:
        if ds.crs is None or ds.transform.is_identity:
            raise InSARInputError(f"{path}: no georeferencing; HyP3 products are UTM GeoTIFFs (download it again)")
        if np.issubdtype(np.dtype(ds.dtypes[0]), np.complexfloating):
            raise InSARInputError(f"{path}: complex values; expected {what}")
        return ds.transform, CRS.from_user_input(ds.crs.to_wkt()), ds.height, ds.width, ds.nodata


def open_hyp3_stack(
    folder: str | Path, *, wavelength_m: float | None = None, looks: float | None = None
) -> IfgramStack:
    """Open a folder of HyP3 GAMMA InSAR products as one stack on their common overlap (see the module docstring)."""
    from affine import Affine

    folder = Path(folder)
    prods = find_products(folder)
    if not prods:
        raise InSARInputError(
            f"{folder}: no HyP3 products found; expected folders like "
            "S1AA_20200101T104012_20200113T104013_VVP012_INT80_G_ueF_1A2B/ with "
            "<name>_unw_phase.tif (unzip the downloaded products here)"
        )
    pairs, headers, corr_headers, metas = [], [], [], []
    for pr in prods:
        m = PRODUCT_RE.match(pr.name)
        d1 = parse_yyyymmdd(m["d1"], source=str(pr.unw))
        d2 = parse_yyyymmdd(m["d2"], source=str(pr.unw))
        if not d1 < d2:
            raise InSARInputError(f"{pr.unw}: reference date {d1} is not before secondary date {d2}")
        pairs.append((d1, d2))
        headers.append(_header(pr.unw, f"the unwrapped phase of {pr.name} (float32 GeoTIFF, radians)"))
        corr = pr.file("corr")
        corr_headers.append(_header(corr, f"the coherence of {pr.name} (GeoTIFF, 0-1)") if corr.exists() else None)
        metas.append(read_hyp3_metadata(pr.meta_path) if pr.meta_path.exists() else {})
    if len(set(pairs)) != len(pairs):
        dup = next(p for p in pairs if pairs.count(p) > 1)
        raise InSARInputError(f"{folder}: two products for the pair {dup[0]}..{dup[1]}; keep one")
    t0, crs0 = headers[0][0], headers[0][1]
    px, py = t0.a, t0.e
    for pr, h in zip(prods, headers):
        t, crs = h[0], h[1]
        if crs != crs0:
            raise InSARInputError(
                f"{pr.unw}: CRS {crs.to_string()} differs from {prods[0].unw.name} "
                f"({crs0.to_string()}); the products span two UTM zones: reproject them to one"
            )
        if not (np.isclose(t.a, px) and np.isclose(t.e, py) and t.b == 0 and t.d == 0):
            raise InSARInputError(
                f"{pr.unw}: pixel size {t.a} x {t.e} differs from {prods[0].unw.name} ({px} x {py});"
                " use products of one resolution (all INT80 or all INT40)"
            )
        off = ((t.c - t0.c) / px, (t.f - t0.f) / py)
        if not np.allclose(off, np.round(off), atol=1e-3):
            raise InSARInputError(
                f"{pr.unw}: its pixel grid is shifted by a fraction of a pixel from "
                f"{prods[0].unw.name}; resample the products to one grid first"
            )
    # common overlap in map coordinates
    all_h = headers + [h for h in corr_headers if h is not None]
    left = max(h[0].c for h in all_h)
    top = min(h[0].f for h in all_h)
    right = min(h[0].c + h[3] * px for h in all_h)
    bottom = max(h[0].f + h[2] * py for h in all_h)
    cols = round((right - left) / px)
    rows = round((bottom - top) / py)
    if cols < 2 or rows < 2:
        raise InSARInputError(
            f"{folder}: the {len(prods)} products do not overlap (common area {rows} x {cols} "
            "pixels); use products of one frame"
        )

    def window(h):
        return (round((top - h[0].f) / py), round((left - h[0].c) / px))

    grid = Grid(Affine(px, 0.0, left, 0.0, py, top), crs0, (rows, cols))
    has_coh = all(h is not None for h in corr_headers)
    if not has_coh and any(h is not None for h in corr_headers):
        log.warning("%s: some products have no _corr.tif; inverting without coherence weights", folder)
    wl = wavelength_m
    granule = metas[0].get("Reference Granule", "")
    if wl is None:
        if granule.startswith("S1") or prods[0].name.startswith("S1"):
            wl = SENTINEL1_WAVELENGTH_M  # HyP3 INSAR_GAMMA is Sentinel-1 only
        else:
            raise InSARInputError(f"{folder}: radar wavelength unknown; pass --wavelength in metres")
    bperp = []
    for pr, md in zip(prods, metas):
        try:
            bperp.append(float(md.get("Baseline", "nan")))
        except ValueError:
            raise InSARInputError(
                f"{pr.meta_path}: 'Baseline: {md.get('Baseline')}' is not a number (metres)"
            ) from None
    if looks is None:
        try:
            looks = max(1.0, float(np.rint(float(metas[0]["Range looks"]) * float(metas[0]["Azimuth looks"]) / 1.94)))
        except (KeyError, ValueError):
            looks = 1.0
    attrs = {"WAVELENGTH": repr(float(wl)), "PROCESSOR": "hyp3", "PLATFORM": "Sen"}
    if metas[0].get("Heading"):
        attrs["HEADING"] = metas[0]["Heading"]
    map_geometry = _angles(prods[0], grid, top, left, px, py)
    if "incidenceAngle" in map_geometry:
        attrs["CENTER_INCIDENCE_ANGLE"] = repr(float(np.nanmedian(map_geometry["incidenceAngle"])))
    source = GeoTiffPairsSource(
        tuple(str(p.unw) for p in prods),
        tuple(str(p.file("corr")) for p in prods) if has_coh else None,
        unw_windows=tuple(window(h) for h in headers),
        cc_windows=tuple(window(h) for h in corr_headers) if has_coh else None,
        cols=cols,
    )
    return IfgramStack(
        pairs=pairs,
        wavelength_m=float(wl),
        grid=grid,
        source=source,
        has_coherence=has_coh,
        looks=float(looks),
        origin=str(folder),
        kind="hyp3",
        attrs=attrs,
        bperp_m=np.array(bperp) if np.all(np.isfinite(bperp)) else None,
        map_geometry=map_geometry or None,
    )


def _angles(pr: Hyp3Product, grid: Grid, top: float, left: float, px: float, py: float) -> dict[str, np.ndarray]:
    """Incidence/azimuth (MintPy conventions, degrees) and DEM height on the stack grid, from the first product."""
    from rasterio.windows import Window

    out: dict[str, np.ndarray] = {}
    for kind, name in (("lv_theta", "incidenceAngle"), ("lv_phi", "azimuthAngle"), ("dem", "height")):
        p = pr.file(kind)
        if not p.exists():
            continue
        with open_tif(p, f"the {kind} layer of {pr.name} (float32 GeoTIFF)") as ds:
            r0 = round((top - ds.transform.f) / py)
            c0 = round((left - ds.transform.c) / px)
            a = ds.read(1, window=Window(c0, r0, grid.cols, grid.rows), boundless=True, fill_value=0).astype(float)
            nodata = ds.nodata
        if nodata is not None and not np.isnan(nodata):
            a[a == nodata] = np.nan
        if kind == "lv_theta":
            a[a == 0] = np.nan
            if np.nanmax(np.abs(a)) > np.pi / 2 + 1e-6:
                raise InSARInputError(
                    f"{p}: values up to {np.nanmax(a):.3f}; lv_theta must be radians from the horizontal (0..pi/2)"
                )
            a = 90.0 - np.rad2deg(a)
        elif kind == "lv_phi":
            a[a == 0] = np.nan
            a = np.rad2deg(a) - 90.0
            a = a - np.round(a / 360.0) * 360.0
        out[name] = a.astype(np.float32)
    if "incidenceAngle" not in out:
        log.warning("%s: no lv_theta.tif; LOS -> vertical will need the incidence angle (--incidence-deg)", pr.folder)
    return out
