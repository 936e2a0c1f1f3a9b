"""The I/O edge of the census: deformation rasters, red/NIR reflectance and reference layers from files.

Everything here turns files into the arrays and geometries the kernels (:mod:`~subsidence.census.kernels.basins`,
:mod:`~subsidence.census.kernels.vegetation`, ...) take, with units and signs made explicit:

* GeoTIFF deformation: cumulative displacement or velocity, in mm, cm or m (``units``: from the ``UNIT``/
  ``units`` tag or the GDAL band unit type, else given by the caller — an untagged file without ``units`` is
  refused, never guessed: a cm file read as mm would be 10× too small), as LOS (positive toward the satellite;
  needs the incidence angle), vertical (positive up) or subsidence (positive down): from the file's
  ``DIRECTION`` tag (los|up, written by :mod:`subsidence.insar.writers`) or given by the caller (``quantity``,
  or an incidence angle, which means LOS) — a plain GeoTIFF stating neither is refused (LOS from MintPy/
  LiCSBAS read as vertical would come out ~22 % low at 39° incidence).
* A geographic CRS (lon/lat) or any projection that is not Transverse Mercator (Gauss–Krüger/UTM) — e.g.
  Web Mercator EPSG:3857 from web tools, whose pixels are ≈1.68× too large at 39.5°N — is reprojected to the
  local CGCS2000 3° Gauss–Krüger zone before any area is measured; a raster without CRS is refused.
* MintPy ``timeseries.h5``/``velocity.h5`` and LiCSBAS ``cum.h5`` go through :mod:`subsidence.insar` readers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from subsidence.census.kernels.basins import CensusInputError, subsidence_from_los, subsidence_from_vertical
from subsidence.census.kernels.grid import Grid, is_local_metric
from subsidence.geo import STORAGE_CRS, CRSError

log = logging.getLogger(__name__)

QUANTITIES = ("los", "vertical", "subsidence")
KINDS = ("auto", "cumulative", "rate")
UNITS = ("auto", "mm", "m", "cm")
_UNIT_FACTOR = {"mm": 1.0, "m": 1000.0, "cm": 10.0}


@dataclass
class SubsidenceInput:
    """A deformation input converted to subsidence (mm or mm/yr, positive down) on a metric grid."""

    grid: Grid
    kind: str  # "cumulative" | "rate"
    subsidence_mm: np.ndarray | None = None
    rate_mm_per_yr: np.ndarray | None = None
    series_mm: np.ndarray | None = None
    dates: list[date] | None = None
    coherence: np.ndarray | None = None
    source: str = ""
    observed: tuple[date | None, date | None] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def primary(self) -> np.ndarray:
        return self.subsidence_mm if self.subsidence_mm is not None else self.rate_mm_per_yr


def gk_zone_crs(lon: float) -> str:
    """CGCS2000 3-degree Gauss–Krüger zone (central meridian in the EPSG code, CM 75E..135E) for a longitude."""
    cm = int(round(lon / 3.0) * 3)
    if not 75 <= cm <= 135:
        from pyproj.aoi import AreaOfInterest
        from pyproj.database import query_utm_crs_info

        info = query_utm_crs_info(datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, 0, lon, 0))
        return f"EPSG:{info[0].code}"
    return f"EPSG:{4534 + (cm - 75) // 3}"


def _parse_date(text: str) -> date | None:
    m = re.search(r"(19|20)\d{6}", text)
    if not m:
        return None
    s = m.group(0)
    try:
        return date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return None


def _dates_from_name(path: Path) -> tuple[date | None, date | None]:
    found = [d for d in (_parse_date(t) for t in re.findall(r"(?:19|20)\d{6}", path.name)) if d]
    if not found:
        return None, None
    return (found[0], found[-1]) if len(found) > 1 else (None, found[0])


def _open_raster(path: Path):
    import rasterio
    from rasterio.errors import RasterioIOError

    if not path.exists():
        raise CensusInputError(f"{path}: file not found")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise CensusInputError(f"{path}: not a readable raster ({exc}); give a GeoTIFF or an HDF5 file") from exc


def _no_crs(p: Path) -> CRSError:
    return CRSError(
        f"{p}: the raster has no CRS (radar coordinates or missing georeferencing); "
        "geocode it first (MintPy geocode.py, LiCSBAS GEOC) or assign one with gdal_edit.py -a_srs"
    )


def read_band(
    path: str | Path, band: int = 1, *, target: Grid | None = None
) -> tuple[np.ndarray, Grid, dict[str, Any]]:
    """One band as float64 with nodata → NaN, on a local metric grid.

    Reprojected (bilinear) to ``target`` if given, else to the local Gauss–Krüger zone when the CRS is
    geographic or not a Transverse Mercator projection (e.g. Web Mercator).

    Returns (array, grid, tags). Raises :class:`CensusInputError`/:class:`CRSError` with the file named.
    """
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    p = Path(path)
    with _open_raster(p) as ds:
        if ds.crs is None:
            raise _no_crs(p)
        if band > ds.count:
            raise CensusInputError(f"{p}: band {band} requested, the file has {ds.count}")
        try:
            arr = ds.read(band, masked=True).astype("float64").filled(np.nan)
        except Exception as exc:  # truncated/corrupt tiles
            raise CensusInputError(f"{p}: cannot read band {band}: {exc}") from exc
        tags = {**{k.lower(): v for k, v in ds.tags().items()}, **{k.lower(): v for k, v in ds.tags(band).items()}}
        tags["_dtype"] = ds.dtypes[band - 1]
        if ds.units and ds.units[band - 1]:
            tags.setdefault("unittype", ds.units[band - 1])
        if ds.descriptions and ds.descriptions[band - 1]:
            tags.setdefault("description", ds.descriptions[band - 1])
        if ds.scales and ds.scales[band - 1] not in (None, 1.0):
            tags["_scale"] = ds.scales[band - 1]
        if ds.offsets and ds.offsets[band - 1] not in (None, 0.0):
            tags["_offset"] = ds.offsets[band - 1]
        src_crs, src_tf = ds.crs, ds.transform
        if target is None and is_local_metric(src_crs.to_wkt()):
            return arr, Grid.make(src_tf, src_crs.to_wkt(), arr.shape, source=str(p)), tags
        if target is None:
            dst_crs = gk_zone_crs(_centre_lon(src_crs, ds.bounds))
            tf, w, h = calculate_default_transform(src_crs, dst_crs, ds.width, ds.height, *ds.bounds)
            target = Grid.make(tf, dst_crs, (h, w), source=str(p))
            tags["_reprojected_from"] = src_crs.to_string()
        out = np.full(target.shape, np.nan)
        reproject(
            arr,
            out,
            src_transform=src_tf,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=target.transform,
            dst_crs=target.crs.to_wkt(),
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
        return out, target, tags


def _centre_lon(crs, bounds) -> float:
    """Longitude (degrees) of the centre of ``bounds`` (west, south, east, north) given in ``crs``."""
    from rasterio.warp import transform_bounds

    w, _s, e, _n = transform_bounds(crs, "EPSG:4326", *bounds)
    return (w + e) / 2


def _units_from_tags(tags: dict[str, Any]) -> str | None:
    for key in ("unit", "units", "unittype"):
        v = str(tags.get(key, "")).strip().lower()
        if not v:
            continue
        v = v.replace("meters", "m").replace("metres", "m").replace("meter", "m").replace("metre", "m")
        base = v.split("/")[0].strip()
        if base in _UNIT_FACTOR:
            return base
    return None


def _is_rate(tags: dict[str, Any], path: Path) -> bool:
    text = " ".join(str(tags.get(k, "")) for k in ("unit", "units", "description", "file_type")).lower()
    return any(s in text for s in ("/yr", "/year", "year", "velocity")) or bool(re.search(r"vel", path.stem.lower()))


def load_geotiff_deformation(
    path: str | Path,
    *,
    quantity: str | None = None,
    kind: str = "auto",
    units: str = "auto",
    incidence_deg: float | None = None,
    incidence_path: str | Path | None = None,
    coherence_path: str | Path | None = None,
) -> SubsidenceInput:
    """A deformation GeoTIFF as subsidence (mm or mm/yr, positive down). See the module docstring."""
    p = Path(path)
    user_quantity = quantity
    if quantity is None:
        quantity = "los" if (incidence_deg is not None or incidence_path is not None) else "vertical"
    if quantity not in QUANTITIES:
        raise CensusInputError(f"quantity {quantity!r}: use one of {', '.join(QUANTITIES)}")
    if kind not in KINDS or units not in UNITS:
        raise CensusInputError(f"kind must be one of {KINDS}, units one of {UNITS}")
    with _open_raster(p) as ds:
        if ds.crs is None:
            raise _no_crs(p)
        n_bands = ds.count
        head_tags = {**{k.lower(): v for k, v in ds.tags().items()}, **{k.lower(): v for k, v in ds.tags(1).items()}}
        if ds.units and ds.units[0]:
            head_tags.setdefault("unittype", ds.units[0])
    stated = str(head_tags.get("direction", "")).strip().lower()
    if (
        user_quantity is None
        and incidence_deg is None
        and incidence_path is None
        and stated not in ("los", "up", "vertical", "down", "subsidence")
    ):
        raise CensusInputError(
            f"{p}: the file does not say what it holds (no DIRECTION tag); pass --quantity los (line-of-sight, "
            "positive toward the satellite, as MintPy/LiCSBAS export it; with --incidence-deg, degrees), "
            "--quantity vertical (positive up) or --quantity subsidence (positive down)"
        )
    if units == "auto" and _units_from_tags(head_tags) is None:
        try:
            peak = float(np.nanmax(np.abs(read_band(p)[0]))) if n_bands == 1 else None
        except (CensusInputError, CRSError, ValueError):
            peak = None
        hint = f" (values up to {peak:.3f}: metres?)" if peak is not None and peak < 20.0 else ""
        raise CensusInputError(
            f"{p}: no UNIT tag in the file{hint}; pass --units mm|cm|m (the unit of the values, "
            "per year for a velocity)"
        )
    if user_quantity is None and stated in ("down", "subsidence"):  # already subsidence, positive down
        quantity = user_quantity = "subsidence"
    if n_bands > 1:  # a multi-band cumulative series (one band per date): the InSAR reader knows the layout
        return load_insar_product(
            p,
            incidence_deg=incidence_deg,
            quantity=quantity,
            geotiff={
                "kind": "velocity" if kind == "rate" else "cumulative",
                # the reader takes the UNIT tag itself; a units/unit-type tag is passed on
                "unit": (units if units != "auto" else None if "unit" in head_tags else _units_from_tags(head_tags)),
                # without an explicit --quantity the file's DIRECTION tag decides
                "direction": None
                if user_quantity is None and incidence_deg is None
                else {"los": "los", "vertical": "up", "subsidence": "up"}.get(quantity),
            },
        )
    arr, grid, tags = read_band(p)
    if user_quantity is None:
        # our own products say what they hold (tag DIRECTION=los|up, written by subsidence.insar.writers)
        stated = str(tags.get("direction", stated)).strip().lower()
        if stated == "los":
            quantity = "los"
        elif stated in ("up", "vertical"):
            quantity = "vertical"
    if quantity == "los" and incidence_deg is None and incidence_path is None:
        for key in ("incidence_deg", "center_incidence_angle", "incidence_angle"):
            if key in tags:
                try:
                    incidence_deg = float(tags[key])
                    break
                except (TypeError, ValueError):
                    pass
    notes: list[str] = []
    if "_reprojected_from" in tags:
        notes.append(f"reprojected from {tags['_reprojected_from']} to {grid.crs.to_string()} for metric areas")
    if not np.isfinite(arr).any():
        raise CensusInputError(f"{p}: every pixel is no data (NaN / nodata value); nothing to census")
    if "_scale" in tags or "_offset" in tags:
        arr = arr * float(tags.get("_scale", 1.0)) + float(tags.get("_offset", 0.0))
    if units == "auto":
        units = _units_from_tags(tags) or _units_from_tags(head_tags) or ""
        if not units:  # checked above; a band tag read differently must not fall back to a guess
            raise CensusInputError(f"{p}: no UNIT tag in the file; pass --units mm|cm|m")
    arr = arr * _UNIT_FACTOR[units]
    if kind == "auto":
        kind = "rate" if _is_rate(tags, p) else "cumulative"
    if quantity == "los":
        if incidence_path is not None:
            inc, _, _ = read_band(incidence_path, target=grid)
        elif incidence_deg is not None:
            inc = float(incidence_deg)
        else:
            raise CensusInputError(f"{p}: LOS displacement needs the incidence angle (--incidence-deg, degrees)")
        w = subsidence_from_los(arr, inc)
        notes.append("LOS (positive toward the satellite) → subsidence = −d_LOS / cos(incidence)")
    elif quantity == "vertical":
        w = subsidence_from_vertical(arr)
        notes.append("vertical (positive up) → subsidence = −d_v")
    else:
        w = arr
    coh = None
    if coherence_path is not None:
        coh, _, _ = read_band(coherence_path, target=grid)
    start, end = _dates_from_name(p)
    d = SubsidenceInput(grid=grid, kind=kind, coherence=coh, source=str(p), observed=(start, end), notes=notes)
    if kind == "rate":
        d.rate_mm_per_yr = w
    else:
        d.subsidence_mm = w
    return d


def load_deformation(path: str | Path, **kw: Any) -> SubsidenceInput:
    """GeoTIFF, MintPy ``timeseries.h5``/``velocity.h5``, LiCSBAS ``cum.h5`` or a ``subsidence timeseries`` folder."""
    p = Path(path)
    if not p.exists():
        raise CensusInputError(f"{p}: file not found")
    head = p.read_bytes()[:8] if p.is_file() else b""
    if p.is_dir() or head.startswith(b"\x89HDF\r\n\x1a\n") or p.suffix.lower() in (".h5", ".hdf5", ".he5"):
        return load_insar_product(p, incidence_deg=kw.get("incidence_deg"), quantity=kw.get("quantity"))
    return load_geotiff_deformation(p, **kw)


def load_insar_product(
    p: Path, *, incidence_deg: float | None = None, quantity: str | None = None, geotiff: dict[str, Any] | None = None
) -> SubsidenceInput:
    """HDF5 stacks via :func:`subsidence.insar.read_deformation`, converted to subsidence mm (positive down).

    LOS products need the incidence angle (from the product when it states one, else ``incidence_deg``);
    lon/lat products (LiCSBAS) are reprojected to the local Gauss–Krüger zone. ``geotiff``: kind/unit/direction
    for a multi-band GeoTIFF series (band descriptions or a DATES tag give the dates).
    """
    try:
        from subsidence.insar import InSARInputError, read_deformation
    except Exception as exc:  # pragma: no cover - the InSAR package ships with the product
        raise CensusInputError(f"{p}: reading InSAR products needs subsidence.insar ({exc})") from exc
    try:
        prod = read_deformation(p, **(geotiff or {}))
    except InSARInputError as exc:
        raise CensusInputError(str(exc)) from exc
    except OSError as exc:
        raise CensusInputError(f"{p}: not a readable HDF5 file ({exc})") from exc
    if prod.grid.crs is None:
        raise CRSError(f"{p}: radar coordinates (no geocoding); geocode the product first")
    inc = incidence_deg if incidence_deg is not None else prod.incidence_deg
    inc_map = prod.incidence_map_deg if incidence_deg is None else None  # per pixel (geometry file), preferred
    if quantity == "subsidence" and geotiff is None:
        raise CensusInputError(f"{p}: InSAR products are LOS or vertical displacement, not subsidence; drop --quantity")
    direction = "up" if quantity in ("vertical", "subsidence") else prod.direction
    if direction == "los" and inc is None and inc_map is None:
        raise CensusInputError(
            f"{p}: LOS product; give the incidence angle (--incidence-deg, degrees; Sentinel-1 IW ≈ 39° mid-swath)"
        )

    if direction == "los" and inc_map is not None:
        inc = inc_map.astype(float)

    def conv(a_mm: np.ndarray) -> np.ndarray:
        if quantity == "subsidence":  # a multi-band GeoTIFF already in subsidence (positive down)
            return a_mm
        return subsidence_from_los(a_mm, inc) if direction == "los" else subsidence_from_vertical(a_mm)

    if direction != "los":
        how = "vertical"
    elif np.ndim(inc):
        how = f"LOS, per-pixel incidence {np.nanmin(inc):.2f}–{np.nanmax(inc):.2f}° from the product's geometry file"
    else:
        how = f"LOS, incidence {inc:.2f}°"
    notes = [f"read with subsidence.insar ({how})"]
    series = conv(prod.cumulative_m.astype(float) * 1000.0) if prod.cumulative_m is not None else None
    rate = conv(prod.velocity_m_per_yr.astype(float) * 1000.0) if prod.velocity_m_per_yr is not None else None
    coh = None if prod.temporal_coherence is None else prod.temporal_coherence.astype(float)
    tf, crs, shape = prod.grid.transform, prod.grid.crs, tuple(prod.grid.shape)
    if not is_local_metric(crs):
        grid, (series, rate, coh) = _reproject_layers(tf, crs, shape, [series, rate, coh])
        notes.append(f"reprojected from {crs.to_string()} to {grid.crs.to_string()} for metric areas")
    else:
        grid = Grid.make(tf, crs, shape, source=str(p))
    if series is not None and not np.isfinite(series[-1]).any():
        raise CensusInputError(f"{p}: every pixel of the last date is no data; nothing to census")
    d = SubsidenceInput(
        grid=grid,
        kind="cumulative" if series is not None else "rate",
        rate_mm_per_yr=rate,
        coherence=coh,
        source=str(p),
        notes=notes,
    )
    if series is not None:
        dates = list(prod.dates)
        if len(dates) == series.shape[0] and len(dates) >= 2:
            d.series_mm, d.dates, d.observed = series, dates, (dates[0], dates[-1])
        d.subsidence_mm = series[-1]
    return d


def _reproject_layers(tf, crs, shape, layers):
    """Reproject 2-D/3-D layers from a geographic or non-TM projected grid to the local GK zone (bilinear, NaN kept)."""
    from rasterio.transform import array_bounds
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    b = array_bounds(shape[0], shape[1], tf)  # (west, south, east, north)
    dst_crs = gk_zone_crs(_centre_lon(crs.to_wkt(), b))
    dtf, w, h = calculate_default_transform(crs.to_wkt(), dst_crs, shape[1], shape[0], *b)
    grid = Grid.make(dtf, dst_crs, (h, w))
    out = []
    for a in layers:
        if a is None:
            out.append(None)
            continue
        src = a if a.ndim == 3 else a[None]
        dst = np.full((src.shape[0], h, w), np.nan)
        for i in range(src.shape[0]):
            reproject(
                src[i],
                dst[i],
                src_transform=tf,
                src_crs=crs.to_wkt(),
                src_nodata=np.nan,
                dst_transform=dtf,
                dst_crs=dst_crs,
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
        out.append(dst if a.ndim == 3 else dst[0])
    return grid, out


# ------------------------------------------------------------------------------------------ reflectance
S2_SCALE = 1e-4


S2_OFFSET_WARNING = (
    "{path}: integer reflectance without an offset (no BOA_ADD_OFFSET tag, no band offset, no --offset): taken "
    "as DN/10000 with offset 0. Sentinel-2 L2A from processing baseline 04.00 (2022-01-25) on needs "
    "BOA_ADD_OFFSET = -1000; if it is missing, reflectance is 0.1 too high and NDVI change across that date "
    "may be false. Pass --offset -1000 for such images (or --offset 0 to confirm older ones)."
)


def load_reflectance(
    path: str | Path,
    *,
    target: Grid | None = None,
    scale: float | None = None,
    offset: float | None = None,
    notes: list[str] | None = None,
) -> tuple[np.ndarray, Grid]:
    """Red or NIR band as reflectance 0..1 (NaN where nodata/out of range) on a metric grid.

    Scale/offset: explicit values win; else the GeoTIFF's band scale/offset; else the ``BOA_ADD_OFFSET`` /
    ``BOA_QUANTIFICATION_VALUE`` tags of Sentinel-2 L2A; else integer data is taken as DN/10000 and float
    data ≤ 1.5 as reflectance already. Integer data with no offset from any source is logged as a warning
    (the −1000 offset of baseline 04.00 may be missing) and the warning appended to ``notes``.
    """
    from subsidence.census.kernels.vegetation import reflectance

    arr, grid, tags = read_band(path, target=target)
    if not np.isfinite(arr).any():
        raise CensusInputError(f"{path}: every pixel is no data")
    if scale is None and "_scale" in tags:
        scale = float(tags["_scale"])
    if offset is None and "_offset" in tags and scale is not None:
        offset = float(tags["_offset"]) / scale
    if scale is None and "boa_quantification_value" in tags:
        scale = 1.0 / float(tags["boa_quantification_value"])
    if offset is None and "boa_add_offset" in tags:
        offset = float(tags["boa_add_offset"])
    if offset is None and np.issubdtype(np.dtype(tags.get("_dtype", "float64")), np.integer):
        msg = S2_OFFSET_WARNING.format(path=path)
        log.warning(msg)
        if notes is not None and msg not in notes:
            notes.append(msg)
    if scale is None:
        scale = 1.0 if float(np.nanmax(arr)) <= 1.5 else S2_SCALE
    return reflectance(arr, scale=scale, offset=offset or 0.0), grid


# ------------------------------------------------------------------------------------------ reference layers
_FIELD_HINTS = {
    "mine_key": ("licence_no", "license_no", "licence", "license", "采矿许可证号", "许可证号", "证号", "code"),
    "mine_name": ("name_zh", "name", "矿山名称", "名称", "mine"),
    "town_key": ("code", "town_code", "编码", "代码", "name_zh", "name"),
    "town_name": ("name_zh", "name", "镇", "名称", "town"),
    "panel_key": ("code", "panel", "工作面", "编号", "name"),
    "panel_mine": ("mine_licence", "mine_licence_no", "licence_no", "license_no", "mine", "矿山", "采矿许可证号"),
    "start": ("start_date", "开采开始", "开始日期", "start"),
    "end": ("end_date", "开采结束", "结束日期", "回采结束", "end"),
}


def _pick(rec: dict[str, Any], kind: str) -> Any:
    low = {str(k).lower(): v for k, v in rec.items()}
    for h in _FIELD_HINTS[kind]:
        if h.lower() in low and low[h.lower()] not in (None, ""):
            return low[h.lower()]
    return None


def _as_date(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return v if type(v) is date else v.date()  # type: ignore[union-attr]
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def read_layer(path: str | Path, what: str) -> list:
    """Mines, towns or panels from a vector file, reprojected to the storage CRS, as attribution records."""
    from subsidence.census.kernels.attribution import MineRight, PanelFootprint, Town
    from subsidence.geo import parse_crs, transform_geometry
    from subsidence.io.vector import read_vector

    t = read_vector(path)
    crs = parse_crs(t.crs.to_wkt() if t.crs is not None else None, source=str(path))
    out = []
    for i, (rec, g) in enumerate(zip(t.records, t.geometries), start=1):
        if g is None or g.is_empty:
            log.warning("%s: feature %d has no geometry, skipped", path, i)
            continue
        g = transform_geometry(g, crs, STORAGE_CRS)
        if what == "mines":
            key = _pick(rec, "mine_key") or f"{Path(path).stem}-{i}"
            out.append(MineRight(key=str(key), name=str(_pick(rec, "mine_name") or key), geometry=g))
        elif what == "towns":
            key = _pick(rec, "town_key") or f"{Path(path).stem}-{i}"
            out.append(Town(key=str(key), name=str(_pick(rec, "town_name") or key), geometry=g))
        elif what == "panels":
            key = _pick(rec, "panel_key") or f"{Path(path).stem}-{i}"
            mk = _pick(rec, "panel_mine")
            out.append(
                PanelFootprint(
                    code=str(key),
                    mine_key=None if mk is None else str(mk),
                    geometry=g,
                    start_date=_as_date(_pick(rec, "start")),
                    end_date=_as_date(_pick(rec, "end")),
                )
            )
        else:
            raise ValueError(what)
    return out
