"""Reading and writing vector files (GeoPackage, Shapefile, GeoJSON) with pyogrio and shapely.

This module knows file formats and encodings, nothing about the domain: it returns attribute records,
shapely geometries and the file's CRS; the service layer (:mod:`subsidence.interchange.imports`) validates
and reprojects. Shapefile attributes written by Chinese offices are often GBK without a ``.cpg``;
:func:`shapefile_encoding` decides the encoding from the ``.cpg`` or, failing that, from the bytes.
"""

from __future__ import annotations

import codecs
import logging
import math
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from subsidence.io.sniff import FormatError, _sidecar, sniff

log = logging.getLogger(__name__)

#: .cpg spellings seen in the wild -> Python codec
_CPG_ALIASES = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "65001": "utf-8",
    "utf_8": "utf-8",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "936": "gb18030",
    "ansi 936": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "54936": "gb18030",
    "cp54936": "gb18030",
    "big5": "big5",
    "950": "big5",
    "88591": "latin-1",
    "iso-8859-1": "latin-1",
    "iso88591": "latin-1",
    "1252": "cp1252",
    "ansi 1252": "cp1252",
}
#: dBase language-driver ids (byte 29) that mean a Chinese code page
_LDID_CHINESE = {0x4D: "gb18030", 0x7A: "gb18030", 0x4E: "big5", 0x78: "big5"}

DRIVERS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}


@dataclass
class VectorTable:
    """The features of one layer: attribute records, geometries (file CRS) and how they were read.

    ``geometry_errors`` maps a 0-based feature index to why its geometry could not be decoded.
    """

    path: Path
    format: str
    layer: str
    crs: CRS | None
    fields: list[str]
    records: list[dict[str, Any]]
    geometries: list[BaseGeometry | None]
    encoding: str | None = None
    encoding_source: str | None = None
    geometry_errors: dict[int, str] = field(default_factory=dict)
    #: why the file's own CRS (.prj) could not be used, when it could not
    crs_error: str | None = None

    def __len__(self) -> int:
        return len(self.records)


def shapefile_encoding(shp: str | Path) -> tuple[str, str]:
    """Encoding of a shapefile's ``.dbf`` attributes and how it was decided.

    Order: the ``.cpg`` file if present; else the bytes (valid UTF-8 with non-ASCII text -> UTF-8, otherwise
    GBK/GB18030, the code page of Chinese Windows); the dBase language driver id only breaks ties for pure
    ASCII. Returns (python codec name, explanation).
    """
    shp = Path(shp)
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None:
        raw = cpg.read_bytes().decode("ascii", "replace").strip().strip("\x00").lower()
        codec = _CPG_ALIASES.get(raw)
        if codec is None:
            try:
                codec = codecs.lookup(raw).name
            except LookupError:
                raise FormatError(f"{cpg}: unknown code page {raw!r}; write UTF-8 or GBK in the .cpg file") from None
        return codec, f".cpg says {raw.upper()}"
    dbf = _sidecar(shp, ".dbf")
    if dbf is None:
        raise FormatError(f"{shp}: shapefile incomplete: .dbf missing next to it")
    data = dbf.read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if len(data) >= 32 else len(data)
    body = data[header_len:]
    ldid = data[29] if len(data) > 29 else 0
    if any(b >= 0x80 for b in body):
        try:
            body.decode("utf-8")
            return "utf-8", "no .cpg; attribute bytes are valid UTF-8"
        except UnicodeDecodeError:
            return "gb18030", "no .cpg; attribute bytes are not UTF-8, read as GBK (GB18030)"
    if ldid in _LDID_CHINESE:
        return _LDID_CHINESE[ldid], f"no .cpg; dBase language driver 0x{ldid:02X}"
    return "utf-8", "no .cpg; attributes are plain ASCII"


def _py(value: Any) -> Any:
    """numpy scalars to Python; NaN/NaT to None; strings stripped."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            if np.isnat(value):
                return None
            value = value.astype("datetime64[us]").item()
        else:
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def list_layers(path: str | Path) -> list[str]:
    import pyogrio

    return [str(name) for name, _ in pyogrio.list_layers(str(path))]


def read_vector(path: str | Path, *, layer: str | None = None, layer_hints: Sequence[str] = ()) -> VectorTable:
    """Read one layer of a GeoPackage, Shapefile (also zipped) or GeoJSON.

    ``layer`` picks a layer by name; otherwise the only layer, or the first whose name is in
    ``layer_hints``. Raises :class:`FormatError` (naming the file) when the file cannot be read.
    """
    p = Path(path)
    fmt = sniff(p)
    if fmt == "xlsx":
        raise FormatError(f"{p}: an Excel workbook, not a vector file")
    if fmt == "shpzip":
        with tempfile.TemporaryDirectory(prefix="subsidence-shpzip-") as tmp:
            with zipfile.ZipFile(p) as zf:
                members = [n for n in zf.namelist() if not n.endswith("/")]
                shps = [n for n in members if n.lower().endswith(".shp")]
                if len(shps) > 1 and layer is None:
                    raise FormatError(f"{p}: the archive holds several shapefiles ({', '.join(shps)}); pass --layer")
                pick = next((s for s in shps if layer is None or Path(s).stem == layer), None)
                if pick is None:
                    raise FormatError(f"{p}: no shapefile named {layer!r} in the archive ({', '.join(shps)})")
                stem = pick[: -len(".shp")]
                for n in members:
                    if n.startswith(stem + ".") or n.lower().startswith(stem.lower() + "."):
                        target = Path(tmp) / Path(n).name
                        with zf.open(n) as src, target.open("wb") as dst:
                            shutil.copyfileobj(src, dst)
            table = read_vector(Path(tmp) / Path(pick).name)
            table.path, table.format = p, "shpzip"
            return table

    import pyogrio
    import pyogrio.raw
    from pyogrio.errors import DataLayerError, DataSourceError

    encoding = encoding_source = None
    if fmt == "shp":
        encoding, encoding_source = shapefile_encoding(p)
    try:
        layers = list_layers(p)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise FormatError(f"{p}: cannot be read as {fmt}: {exc}") from exc
    if not layers:
        raise FormatError(f"{p}: holds no vector layer")
    if layer is None:
        if len(layers) == 1:
            layer = layers[0]
        else:
            hinted = [name for name in layers if name.lower() in {h.lower() for h in layer_hints}]
            if not hinted:
                raise FormatError(f"{p}: holds several layers ({', '.join(layers)}); choose one with --layer")
            layer = hinted[0]
    elif layer not in layers:
        raise FormatError(f"{p}: no layer {layer!r}; layers: {', '.join(layers)}")
    crs_error = None
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(str(p), layer=layer, encoding=encoding, force_2d=True)
    except Exception as exc:  # GDAL errors surface as various pyogrio exceptions
        prj = _sidecar(p, ".prj") if fmt == "shp" else None
        if prj is None:
            raise FormatError(f"{p}: cannot be read as {fmt}: {exc}") from exc
        # GDAL refuses the whole file when the .prj is not a CRS it understands: read it without the .prj
        crs_error = f"its .prj ({prj.name}) is not a CRS that PROJ understands ({exc})"
        with tempfile.TemporaryDirectory(prefix="subsidence-noprj-") as tmp:
            for part in p.parent.glob(p.stem + ".*"):
                if part.suffix.lower() in (".shp", ".shx", ".dbf", ".cpg"):
                    shutil.copy(part, Path(tmp) / (p.stem + part.suffix.lower()))
            try:
                meta, _fids, wkb, field_data = pyogrio.raw.read(
                    str(Path(tmp) / (p.stem + ".shp")), encoding=encoding, force_2d=True
                )
            except Exception as exc2:
                raise FormatError(f"{p}: cannot be read as {fmt}: {exc2}") from exc2
        meta["crs"] = None
    crs = None
    if meta.get("crs"):
        try:
            crs = CRS.from_user_input(meta["crs"])
        except Exception as exc:  # noqa: BLE001 - pyproj raises its own CRSError
            crs_error = f"its CRS {str(meta['crs'])[:60]!r} is not understood ({exc})"
    fields = [str(f) for f in meta["fields"]]
    n = len(wkb) if wkb is not None else (len(field_data[0]) if field_data else 0)
    records = [{name: _py(col[i]) for name, col in zip(fields, field_data)} for i in range(n)]
    geometries: list[BaseGeometry | None] = []
    errors: dict[int, str] = {}
    for i in range(n):
        blob = wkb[i] if wkb is not None else None
        if blob is None:
            geometries.append(None)
            continue
        try:
            geometries.append(shapely.from_wkb(blob))
        except shapely.errors.GEOSException as exc:
            geometries.append(None)
            errors[i] = str(exc)
    log.debug("read %s layer %s: %d features, crs %s, encoding %s", p, layer, n, crs and crs.to_string(), encoding)
    return VectorTable(p, fmt, layer, crs, fields, records, geometries, encoding, encoding_source, errors, crs_error)


def _column_array(values: list[Any], kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Values of one column as a typed numpy array and a null mask (for integer columns)."""
    if kind == "int":
        mask = np.array([v is None for v in values])
        arr = np.array([0 if v is None else int(v) for v in values], dtype="int64")
        return arr, (mask if mask.any() else None)
    if kind == "float":
        return np.array([math.nan if v is None else float(v) for v in values], dtype="float64"), None
    if kind == "date":
        return np.array(
            [np.datetime64("NaT") if v is None else np.datetime64(v, "D") for v in values], dtype="datetime64[D]"
        ), None
    if kind == "bool":
        mask = np.array([v is None for v in values])
        arr = np.array([0 if v is None else int(bool(v)) for v in values], dtype="int32")
        return arr, (mask if mask.any() else None)
    return np.array([None if v is None else str(v) for v in values], dtype=object), None


def write_vector(
    path: str | Path,
    *,
    columns: Sequence[str],
    kinds: Sequence[str],
    rows: Sequence[Sequence[Any]],
    geometries: Sequence[BaseGeometry | None],
    crs: str,
    geometry_type: str,
    layer: str,
    rfc7946: bool = False,
) -> Path:
    """Write features to ``path``; the format follows the extension (.gpkg, .shp, .geojson/.json).

    ``kinds`` gives each column's type (str, int, float, date, bool). Shapefiles are written in UTF-8 with a
    ``.cpg``; GeoJSON with ``rfc7946`` is WGS84 lon/lat, counter-clockwise outer rings, 1e-9 degree precision.
    An existing file is replaced.
    """
    import pyogrio.raw

    p = Path(path)
    suffix = p.suffix.lower()
    fmt = {".gpkg": "gpkg", ".shp": "shp", ".geojson": "geojson", ".json": "geojson"}.get(suffix)
    if fmt is None:
        raise FormatError(f"{p}: cannot write {suffix or 'files without extension'}; use .gpkg, .shp or .geojson")
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "shp":
        for sidecar in p.parent.glob(p.stem + ".*"):
            if sidecar.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                sidecar.unlink()
    elif p.exists():
        p.unlink()
    arrays, masks = [], []
    for j, kind in enumerate(kinds):
        arr, mask = _column_array([row[j] for row in rows], kind)
        arrays.append(arr)
        masks.append(mask)
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geometries], dtype=object)
    kwargs: dict[str, Any] = {}
    if fmt == "shp":
        kwargs["encoding"] = "UTF-8"
    if fmt == "geojson":
        kwargs["layer_options"] = {"COORDINATE_PRECISION": 9, **({"RFC7946": "YES"} if rfc7946 else {})}
        if rfc7946:
            kwargs["layer_options"]["WRITE_NAME"] = "YES"
    quiet = logging.getLogger("pyogrio")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # pyogrio logs "Created N records" at INFO
    try:
        pyogrio.raw.write(
            str(p),
            wkb,
            arrays,
            list(columns),
            field_mask=masks,
            layer=layer,
            driver=DRIVERS[fmt],
            geometry_type=geometry_type,
            crs=crs,
            promote_to_multi=False,
            **kwargs,
        )
    finally:
        quiet.setLevel(level)
    return p


def geometry_type_name(geoms: Sequence[BaseGeometry | None], declared: str) -> str:
    """The OGR geometry type to declare for a layer holding ``geoms`` (declared type of the column first)."""
    declared = declared.upper()
    mapping = {"MULTIPOLYGON": "MultiPolygon", "POLYGON": "Polygon", "POINT": "Point", "LINESTRING": "LineString"}
    if declared in mapping:
        return mapping[declared]
    kinds = {g.geom_type for g in geoms if g is not None}
    if not kinds:
        return "Point"  # no geometry at all: any declared type will do (Shapefiles need one)
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon"
    return "Unknown"
