"""Importing records from GeoPackage, Shapefile, GeoJSON and Excel ledgers: validate everything, then upsert.

The rules, in the order a file goes through them:

1. The file must be what its extension says (:func:`subsidence.io.sniff.sniff`).
2. Its columns must be known (Chinese header, English field name or Shapefile field, see
   :mod:`subsidence.interchange.fieldspecs`); a missing required column or a misspelt one is refused with the
   closest expected header suggested.
3. Each cell is parsed (dates in the accepted forms only, enumerations by code or label, numbers in range);
   references (a mine's licence number, a town's code or name, a unit) must exist; keys must be unique in the file.
4. Geometries must decode, be valid (no silent repair) and be of the right type; a vector file needs a CRS
   (``.prj``, GeoPackage SRS, GeoJSON = WGS84, or ``--crs``); coordinates are reprojected to the storage CRS
   and must land in China; a mine polygon must lie inside the banner boundary (when one is stored).
5. Every error of the file is collected (up to :data:`MAX_ERRORS`); if there is any, nothing is written.
6. Otherwise rows are matched by their stable key and created, updated or left unchanged, in one transaction,
   attributed to the actor with reason ``import FILE`` (the audit trail records before/after). Columns absent
   from the file leave their attributes alone, and so does a **blank cell** (or a feature without geometry): blank
   means "leave unchanged", always, so that re-importing a file changes only what the file changes and the same file
   twice adds no history. To clear an optional value write :data:`CLEAR_MARK` (``（清空）``) in the cell; a
   required value cannot be cleared. The warnings count the blank cells that kept a stored value.
7. A mine is referenced by licence number or by its exact name (``矿山/采矿许可证号`` or ``矿山名称``; both given,
   they must name the same mine); an unknown one refuses the row, naming row and value. Names that references use
   (mine, enterprise and unit names) must stay unique: a new record may not take another one's name.

``--dry-run`` runs all of it, including the database flush, and rolls back.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from subsidence.core.models import AdminArea
from subsidence.db.audit import acting_as, jsonable, record_event
from subsidence.errors import ValidationFailed
from subsidence.geo import (
    CGCS2000,
    STORAGE_CRS,
    CRSError,
    parse_crs,
    transform_geometry,
)
from subsidence.interchange.fieldspecs import (
    IGNORED_HEADERS,
    LAT_HEADERS,
    LON_HEADERS,
    FieldSpec,
    KindSpec,
    Ref,
    get_kind,
    parse_value,
)
from subsidence.io.excel import normalize_header, read_sheet
from subsidence.io.fields import CLEAR_MARK, CLEAR_MARKS
from subsidence.io.sniff import FormatError, sniff
from subsidence.io.vector import read_vector
from subsidence.ledger.models import Milestone
from subsidence.vocabulary import AreaLevel

log = logging.getLogger(__name__)

MAX_ERRORS = 200
#: geometries closer than this (Hausdorff distance, m) count as unchanged on re-import
GEOMETRY_TOLERANCE_M = 0.01
#: how far (m) a mine polygon may reach beyond the banner boundary (digitising differences)
BANNER_TOLERANCE_M = 50.0
#: lon/lat box of China (mainland and islands), to catch wrong CRSs
CHINA_LONLAT = (73.0, 3.0, 136.0, 54.0)


@dataclass
class Issue:
    """One problem found in a file: where (``row 5`` / ``feature 3`` / ``column C``), which field, what."""

    file: str
    where: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        loc = ", ".join(x for x in (self.where, f"field {self.field}" if self.field else None) if x)
        return f"{self.file}: {loc}: {self.message}" if loc else f"{self.file}: {self.message}"


@dataclass
class Change:
    key: str
    action: str  # create | update
    where: str
    fields: dict[str, list[Any]] = field(default_factory=dict)  # name -> [before, after]


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do); ``errors`` non-empty means nothing changed."""

    kind: str
    file: str
    dry_run: bool = False
    format: str | None = None
    source: str | None = None  # layer or sheet
    crs: str | None = None
    encoding: str | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, where: str | None, fld: str | None, message: str) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.more_errors += 1
            return
        self.errors.append(Issue(self.file, where, fld, message))

    def warn(self, where: str | None, fld: str | None, message: str) -> None:
        self.warnings.append(Issue(self.file, where, fld, message))

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        if not self.ok:
            n = len(self.errors) + self.more_errors
            return f"{self.file}: import of {self.kind} refused, {n} error(s); nothing was changed"
        return (
            f"{self.file}: {self.rows} {self.kind} rows: {self.created} {verb} created, {self.updated} "
            f"{verb} updated, {self.unchanged} unchanged" + (" (dry run, nothing changed)" if self.dry_run else "")
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        d["summary"] = self.summary()
        d["errors"] = [dict(asdict(e), text=str(e)) for e in self.errors]
        d["warnings"] = [dict(asdict(w), text=str(w)) for w in self.warnings]
        return d


class ImportFailed(ValidationFailed):
    """The file was refused; ``report.errors`` lists every problem (file, row/feature, field)."""

    def __init__(self, report: ImportReport) -> None:
        report.created = report.updated = report.unchanged = 0  # nothing was (or will be) written
        report.changes = []
        lines = [report.summary()] + [f"  {e}" for e in report.errors]
        if report.more_errors:
            lines.append(f"  ... and {report.more_errors} more error(s)")
        super().__init__("\n".join(lines))
        self.report = report


# ------------------------------------------------------------------------------------------------ reading


@dataclass
class _Row:
    where: str
    values: dict[str, Any]
    geometry: BaseGeometry | None = None
    geometry_error: str | None = None
    #: fields whose cell was blank (left unchanged)
    blank: set[str] = field(default_factory=set)


@dataclass
class _Source:
    format: str
    label: str
    headers: list[str]
    header_where: Callable[[int], str]
    rows: list[_Row]
    crs: CRS | None = None
    crs_text: str | None = None
    encoding: str | None = None
    spatial: bool = False
    crs_error: str | None = None


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _read_source(spec: KindSpec, path: Path, fmt: str, layer: str | None, sheet: str | None) -> _Source:
    if fmt == "xlsx":
        known = [h for f in spec.fields for h in f.headers()]
        table = read_sheet(path, known_headers=known, sheet=sheet, sheet_hints=(spec.zh, spec.name))
        rows = [_Row(f"row {n}", {h: v for h, v in zip(table.headers, vals) if h}) for n, vals in table.rows]
        hr = table.header_row
        return _Source(
            "xlsx", f"sheet {table.sheet!r}", table.headers, lambda i: f"row {hr}, column {_col_letter(i)}", rows
        )
    vt = read_vector(path, layer=layer, layer_hints=(spec.name, spec.zh, *spec.aliases))
    rows = [
        _Row(f"feature {i + 1}", rec, geom, vt.geometry_errors.get(i))
        for i, (rec, geom) in enumerate(zip(vt.records, vt.geometries))
    ]
    src = _Source(
        vt.format,
        f"layer {vt.layer!r}",
        vt.fields,
        lambda i: f"field list, column {i + 1}",
        rows,
        crs=vt.crs,
        encoding=vt.encoding,
        spatial=True,
        crs_error=vt.crs_error,
    )
    if vt.encoding_source:
        src.encoding = f"{vt.encoding} ({vt.encoding_source})"
    return src


# ------------------------------------------------------------------------------------------------ headers


def _map_headers(spec: KindSpec, src: _Source, report: ImportReport) -> dict[str, FieldSpec]:
    lookup: dict[str, FieldSpec] = {}
    for f in spec.fields:
        for h in f.headers():
            lookup.setdefault(normalize_header(h), f)
    display = {normalize_header(f.zh): f"{f.zh} ({f.name})" for f in spec.importable}
    mapping: dict[str, FieldSpec] = {}
    unknown: list[tuple[int, str]] = []
    for i, h in enumerate(src.headers):
        if not h:
            continue
        n = normalize_header(h)
        f = lookup.get(n)
        if f is not None:
            if f in mapping.values():
                first = next(k for k, v in mapping.items() if v is f)
                report.error(src.header_where(i), f.label, f"column {h!r} repeats column {first!r}; keep one")
            mapping[h] = f
        elif n in IGNORED_HEADERS:
            continue
        else:
            unknown.append((i, h))
    present = set(mapping.values())
    suggested: set[str] = set()
    for f in spec.importable:
        if f.required and f not in present:
            cands = {normalize_header(h): h for _, h in unknown}
            close = difflib.get_close_matches(
                normalize_header(f.zh), list(cands), n=1, cutoff=0.5
            ) or difflib.get_close_matches(normalize_header(f.name), list(cands), n=1, cutoff=0.6)
            msg = f"required column {f.zh} ({f.name}) is missing"
            if close:
                suggested.add(cands[close[0]])
                msg += f"; column {cands[close[0]]!r} looks like a misspelling of it: rename it to {f.zh}"
            else:
                msg += f"; add a column headed {f.zh}"
            report.error(None, f.label, msg)
    for i, h in unknown:
        if h in suggested:
            continue
        close = difflib.get_close_matches(normalize_header(h), list(display), n=1, cutoff=0.7)
        if close:
            report.error(
                src.header_where(i),
                None,
                f"unknown column {h!r}; did you mean {display[close[0]]}? Rename the header and import again",
            )
        else:
            report.warn(src.header_where(i), None, f"column {h!r} is not a field of {spec.name}; it is ignored")
    return mapping


# ------------------------------------------------------------------------------------------------ geometry

_REASON = re.compile(r"^(?P<what>.*?)\s*\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)\]$")


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _family(g: BaseGeometry) -> str:
    return {
        "Polygon": "polygon",
        "MultiPolygon": "polygon",
        "Point": "point",
        "MultiPoint": "point",
        "LineString": "line",
        "MultiLineString": "line",
    }.get(g.geom_type, g.geom_type)


def _coerce(g: BaseGeometry, column: str) -> BaseGeometry:
    """Shape ``g`` to the column type; raises ValueError when it cannot be (no silent loss of parts)."""
    t = g.geom_type
    if column == "MULTIPOLYGON":
        if t == "Polygon":
            return MultiPolygon([g])
        if t == "MultiPolygon":
            return g
        raise ValueError(f"expected a polygon, got a {t}")
    if column == "POLYGON":
        if t == "Polygon":
            return g
        if t == "MultiPolygon" and len(g.geoms) == 1:
            return g.geoms[0]
        raise ValueError(
            f"expected a single polygon, got a {t}"
            + (f" of {len(g.geoms)} parts; split it into several records" if t == "MultiPolygon" else "")
        )
    if column == "POINT":
        if t == "Point":
            return g
        if t == "MultiPoint" and len(g.geoms) == 1:
            return g.geoms[0]
        raise ValueError(f"expected a point, got a {t}")
    return g


def _prepare_geometry(
    spec: KindSpec, row: _Row, crs: CRS | None, report: ImportReport, reproject: _Reprojector | None
) -> BaseGeometry | None:
    """Validate, reproject and shape one feature's geometry; errors go to ``report``. Returns storage-CRS geometry."""
    g = row.geometry
    where = row.where
    if row.geometry_error:
        report.error(where, "geometry", f"geometry cannot be decoded ({row.geometry_error}); check it in QGIS")
        return None
    if g is None or g.is_empty:
        if spec.geometry_required:
            report.error(where, "geometry", "the feature has no geometry")
        return None
    if crs is None or reproject is None:
        return None  # reported once for the file
    want = {"MULTIPOLYGON": "polygon", "POLYGON": "polygon", "POINT": "point"}.get(spec.geometry or "")
    if want and _family(g) != want:
        report.error(where, "geometry", f"expected a {want}, got a {g.geom_type}")
        return None
    if not g.is_valid:
        reason = shapely.is_valid_reason(g)
        m = _REASON.match(reason)
        if m:
            reason = f"{m.group('what')} at x={float(m.group('x')):.6f}, y={float(m.group('y')):.6f} ({_crs_name(crs)})"
        report.error(
            where,
            "geometry",
            f"invalid geometry: {reason}; fix it in QGIS (Vector > Geometry Tools > "
            "Check Validity / Fix Geometries): the import never repairs geometry silently",
        )
        return None
    minx, miny, maxx, maxy = g.bounds
    if crs.is_geographic and (abs(minx) > 180 or abs(maxx) > 180 or abs(miny) > 90 or abs(maxy) > 90):
        hint = (
            "longitude and latitude look swapped"
            if abs(miny) > 90 and abs(minx) <= 90
            else "the coordinates look like metres of a projected CRS"
        )
        report.error(
            where,
            "geometry",
            f"coordinates ({minx:.1f}, {miny:.1f}) are not degrees but the file's CRS "
            f"{_crs_name(crs)} is geographic: {hint}; pass --crs with the right EPSG code "
            "(e.g. EPSG:4546 for CGCS2000 GK CM 111E)",
        )
        return None
    try:
        ll = reproject(g, CGCS2000)
        out = reproject(g, STORAGE_CRS)
    except Exception as exc:  # noqa: BLE001  pyproj raises several types on impossible coordinates
        report.error(where, "geometry", f"cannot reproject from {_crs_name(crs)}: {exc}")
        return None
    lx0, ly0, lx1, ly1 = ll.bounds
    bx0, by0, bx1, by1 = CHINA_LONLAT
    if not all(math.isfinite(v) for v in ll.bounds) or lx0 < bx0 or lx1 > bx1 or ly0 < by0 or ly1 > by1:
        report.error(
            where,
            "geometry",
            f"lies at lon {lx0:.3f}..{lx1:.3f}, lat {ly0:.3f}..{ly1:.3f}, outside China, after "
            f"reprojection from {_crs_name(crs)}: the CRS is probably wrong (GK eastings with the zone number "
            "in front, e.g. 37xxxxxx, are EPSG:4525; without it, CM 111E, EPSG:4546); pass --crs",
        )
        return None
    try:
        out = _coerce(out, spec.geometry or "GEOMETRY")
    except ValueError as exc:
        report.error(where, "geometry", str(exc))
        return None
    if not out.is_valid:
        report.error(
            where,
            "geometry",
            f"geometry becomes invalid after reprojection to {STORAGE_CRS} "
            f"({shapely.is_valid_reason(out)}); densify or fix it",
        )
        return None
    return out


class _Reprojector:
    """Coordinates from one source CRS to CGCS2000 lon/lat (for checks) and to the storage CRS, built once."""

    def __init__(self, src: CRS) -> None:
        self.src = src
        self._tr: dict[str, Transformer | None] = {}
        for dst in (CGCS2000, STORAGE_CRS):
            target = CRS.from_user_input(dst)
            self._tr[dst] = None if src == target else Transformer.from_crs(src, target, always_xy=True)

    def __call__(self, g: BaseGeometry, dst: str) -> BaseGeometry:
        tr = self._tr[dst]
        if tr is None:
            return g
        return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _lonlat_point(row: _Row, headers: dict[str, str], report: ImportReport) -> BaseGeometry | None:
    """经度/纬度 cells (CGCS2000 degrees) as a storage-CRS point, for point kinds in Excel."""
    lon_h, lat_h = headers.get("lon"), headers.get("lat")
    raw_lon = row.values.get(lon_h) if lon_h else None
    raw_lat = row.values.get(lat_h) if lat_h else None
    blank = lambda v: v is None or (isinstance(v, str) and not v.strip())
    if blank(raw_lon) and blank(raw_lat):
        return None
    vals = {}
    for name, h, raw, lo, hi in (("lon", lon_h, raw_lon, 73, 136), ("lat", lat_h, raw_lat, 3, 54)):
        try:
            v = float(str(raw).strip())
        except (TypeError, ValueError):
            report.error(row.where, h or name, f"{raw!r} is not a decimal degree; write e.g. 109.7834 (CGCS2000)")
            return None
        if not lo <= v <= hi:
            report.error(row.where, h, f"{v} is outside China ({lo}..{hi}); give CGCS2000 degrees")
            return None
        vals[name] = v
    return transform_geometry(Point(vals["lon"], vals["lat"]), CGCS2000, STORAGE_CRS)


# ------------------------------------------------------------------------------------------------ references


class _Lookup:
    """Records of a referenced model indexed by each of the reference's keys."""

    def __init__(self, session: Session, ref: Ref) -> None:
        self.ref = ref
        self.index: dict[str, dict[str, list[Any]]] = {k: {} for k in ref.keys}
        for obj in session.scalars(select(ref.model)):
            for k in ref.keys:
                v = getattr(obj, k, None)
                if v:
                    self.index[k].setdefault(str(v).strip(), []).append(obj)

    def find(self, text: str) -> Any:
        for k in self.ref.keys:
            hits = self.index[k].get(text, [])
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise ValueError(f"{text!r} matches {len(hits)} records by {k}; use the {self.ref.key} instead")
        known = [v for k in self.ref.keys for v in self.index[k]]
        close = difflib.get_close_matches(text, known, n=1, cutoff=0.6)
        what = self.ref.model.__tablename__.replace("_", " ")
        msg = f"unknown {what} {text!r}: no {what} with that {' or '.join(self.ref.keys)} in the database"
        if close:
            msg += f"; did you mean {close[0]!r}?"
        else:
            msg += f" (import the {what}s first)"
        raise ValueError(msg)


# ------------------------------------------------------------------------------------------------ comparison


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


def _same_geometry(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a.geom_type != b.geom_type:
        return False
    return shapely.hausdorff_distance(a, b) <= GEOMETRY_TOLERANCE_M


def _geom_text(g: BaseGeometry | None) -> str | None:
    if g is None:
        return None
    return f"{g.geom_type} ({g.area / 1e4:.4f} ha)" if g.area else shapely.to_wkt(g, rounding_precision=2)


# ------------------------------------------------------------------------------------------------ the import


def _banner_geometry(session: Session) -> BaseGeometry | None:
    return session.scalar(
        select(AdminArea.geometry)
        .where(AdminArea.level == AreaLevel.BANNER, AdminArea.geometry.is_not(None))
        .order_by(AdminArea.id)
        .limit(1)
    )


def run_import(
    session: Session,
    kind: str | KindSpec,
    path: str | Path,
    *,
    crs: str | None = None,
    dry_run: bool = False,
    actor: str = "system",
    layer: str | None = None,
    sheet: str | None = None,
) -> ImportReport:
    """Validate ``path`` and upsert its rows into ``session`` (flushed, not committed).

    Raises :class:`ImportFailed` with every error when the file is refused; the caller must then roll back
    (:func:`import_file` does). With ``dry_run`` the caller rolls back too.
    """
    spec = kind if isinstance(kind, KindSpec) else get_kind(kind)
    p = Path(path)
    report = ImportReport(kind=spec.name, file=str(p), dry_run=dry_run)
    try:
        fmt = sniff(p)
        report.format = fmt
        src = _read_source(spec, p, fmt, layer, sheet)
    except FormatError as exc:
        msg = str(exc)
        report.error(None, None, msg[len(str(p)) + 2 :] if msg.startswith(f"{p}: ") else msg)
        raise ImportFailed(report) from exc
    report.source, report.encoding, report.rows = src.label, src.encoding, len(src.rows)

    # the CRS of vector files
    src_crs: CRS | None = None
    if src.spatial:
        try:
            if crs:
                src_crs = parse_crs(crs, source="--crs")
                if src.crs is not None and not src.crs.equals(src_crs):
                    report.warn(None, None, f"the file declares {_crs_name(src.crs)}; using --crs {crs} as asked")
            elif src.crs is not None:
                src_crs = src.crs
            else:
                what = "unknown coordinate reference system" if src.crs_error else "no coordinate reference system"
                detail = src.crs_error or ("no .prj file" if fmt in ("shp", "shpzip") else "no CRS in the file")
                raise CRSError(
                    f"{what}: {detail}; pass --crs EPSG:xxxx (e.g. EPSG:4490 for "
                    "CGCS2000 lon/lat, EPSG:4546 for CGCS2000 GK CM 111E)"
                )
            if src_crs.is_projected is False and src_crs.is_geographic is False:
                raise CRSError(f"{_crs_name(src_crs)} is neither geographic nor projected; give a 2D CRS")
        except CRSError as exc:
            report.error(None, "geometry", str(exc).removeprefix("--crs: "))
            raise ImportFailed(report) from exc
        report.crs = _crs_name(src_crs)

    mapping = _map_headers(spec, src, report)
    if not report.ok:
        raise ImportFailed(report)

    coords = {}
    if not src.spatial and spec.lonlat:
        for h in src.headers:
            n = normalize_header(h)
            if n in {normalize_header(x) for x in LON_HEADERS}:
                coords["lon"] = h
            elif n in {normalize_header(x) for x in LAT_HEADERS}:
                coords["lat"] = h

    # parse every row
    key_field = spec.key
    parsed: list[tuple[_Row, dict[str, Any], BaseGeometry | None, bool]] = []
    seen: dict[str, str] = {}
    reproject = _Reprojector(src_crs) if src_crs is not None else None
    banner = _banner_geometry(session) if spec.name == "mines" and src.spatial else None
    banner_zone = banner.buffer(BANNER_TOLERANCE_M) if banner is not None else None
    if banner_zone is not None:
        shapely.prepare(banner_zone)
    for row in src.rows:
        values: dict[str, Any] = {}
        for header, f in mapping.items():
            if f.export_only:
                continue
            raw = row.values.get(header)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if f.required:
                    report.error(row.where, f.label, "required, but the cell is empty")
                row.blank.add(f.name)  # blank = leave unchanged
                continue
            if isinstance(raw, str) and raw.strip() in CLEAR_MARKS:
                if f.required or f.key:
                    report.error(row.where, f.label, f"{raw.strip()}: a required value cannot be cleared")
                    continue
                values[f.name] = [] if f.type in ("refs", "milestones") else None
                continue
            try:
                value = parse_value(f, raw)
            except ValueError as exc:
                report.error(row.where, f.label, str(exc))
                continue
            if f.type == "str":
                col = spec.model.__table__.c.get(f.model_attr)
                length = getattr(getattr(col, "type", None), "length", None)
                if length and len(value) > length:
                    report.error(row.where, f.label, f"{len(value)} characters; at most {length} fit")
                    continue
            values[f.name] = value
        key = values.get(key_field.name)
        if key is not None:
            if key in seen:
                report.error(row.where, key_field.label, f"duplicate key {key!r} in the file (first at {seen[key]})")
            else:
                seen[key] = row.where
        for check in spec.checks:
            for fname, msg in check(values):
                report.error(row.where, spec.field(fname).label, msg)
        geom, has_geom = None, False
        if src.spatial and spec.geometry:
            # a feature without geometry leaves the stored geometry unchanged (like a blank cell)
            has_geom = row.geometry is not None and not row.geometry.is_empty
            geom = _prepare_geometry(spec, row, src_crs, report, reproject)
            if geom is not None and banner_zone is not None and not banner_zone.contains(geom):
                outside = geom.difference(banner)
                report.error(
                    row.where,
                    "geometry",
                    f"the mine polygon lies outside the banner boundary: {outside.area / 1e4:.2f} ha "
                    f"({100 * outside.area / max(geom.area, 1e-9):.1f}%) beyond it, more than the "
                    f"{BANNER_TOLERANCE_M:g} m tolerance; check the coordinates and the CRS",
                )
        elif coords:
            geom = _lonlat_point(row, coords, report)
            has_geom = geom is not None
        parsed.append((row, values, geom, has_geom))

    # resolve references
    lookups: dict[int, _Lookup] = {}
    file_keys = {values.get(key_field.name) for _, values, _, _ in parsed}
    for row, values, _, _ in parsed:
        for fname in list(values):
            f = spec.field(fname)
            if f.type not in ("ref", "refs") or values[fname] in (None, []):
                continue
            if f.ref.relationship and f.ref.model is spec.model and values[fname] in file_keys:
                values[fname] = ("pending", values[fname])
                continue
            lk = lookups.get(id(f.ref))
            if lk is None:
                lk = lookups[id(f.ref)] = _Lookup(session, f.ref)
            try:
                if f.type == "ref":
                    values[fname] = lk.find(values[fname])
                else:
                    values[fname] = [lk.find(t) for t in values[fname]]
            except ValueError as exc:
                report.error(row.where, f.label, str(exc))
        _same_target(spec, row, values, report)
    _unique_names(session, spec, parsed, report)
    if not report.ok:
        raise ImportFailed(report)
    if not parsed:
        report.warn(None, None, "the file holds no rows")
        return report

    # upsert
    key_attr = key_field.model_attr
    key_col = getattr(spec.model, key_attr)
    keys = [values[key_field.name] for _, values, _, _ in parsed]
    existing: dict[str, Any] = {}
    for i in range(0, len(keys), 500):
        for obj in session.scalars(select(spec.model).where(key_col.in_(keys[i : i + 500]))):
            existing[getattr(obj, key_attr)] = obj
    by_key: dict[str, Any] = {}
    kept: dict[str, int] = {}
    with acting_as(session, actor, reason=f"import {p.name}"):
        with session.no_autoflush:
            for row, values, geom, has_geom in parsed:
                key = values[key_field.name]
                obj = existing.get(key)
                new = obj is None
                if new:
                    obj = spec.model()
                    by_key[key] = obj
                else:
                    by_key[key] = obj
                changed = _apply(spec, obj, values, geom, has_geom, new, session)
                if not new:
                    for fname in row.blank:
                        if _has_value(obj, spec.field(fname)):
                            kept[fname] = kept.get(fname, 0) + 1
                if spec.name == "problems":
                    _problem_rules(spec, obj, new, changed, row, report)
                if new:
                    session.add(obj)
                    report.created += 1
                    report.changes.append(Change(str(key), "create", row.where, changed))
                elif changed:
                    report.updated += 1
                    report.changes.append(Change(str(key), "update", row.where, changed))
                else:
                    report.unchanged += 1
            # references to records created by this same file (a village's town)
            for row, values, _, _ in parsed:
                obj = by_key[values[key_field.name]]
                for fname, v in values.items():
                    if isinstance(v, tuple) and v and v[0] == "pending":
                        f = spec.field(fname)
                        target = by_key[v[1]]
                        if target is obj:
                            report.error(row.where, f.label, f"{v[1]!r} refers to the record itself")
                            continue
                        if getattr(obj, f.ref.relationship) is not target:
                            setattr(obj, f.ref.relationship, target)
                            ch = next((c for c in report.changes if c.key == str(values[key_field.name])), None)
                            if ch is None:
                                report.unchanged -= 1
                                report.updated += 1
                                ch = Change(str(values[key_field.name]), "update", row.where)
                                report.changes.append(ch)
                            ch.fields[fname] = [None, v[1]]
            if spec.name == "panels":
                _warn_panels_outside_mine(parsed, by_key, report)
            for fname, n in sorted(kept.items()):
                report.warn(
                    None,
                    spec.field(fname).label,
                    f"{n} blank cell(s) kept the stored value (blank = leave unchanged); write {CLEAR_MARK} "
                    "in a cell to clear it",
                )
        if not report.ok:
            raise ImportFailed(report)
        try:
            session.flush()
        except IntegrityError as exc:
            report.error(None, None, f"the database refused the rows: {getattr(exc, 'orig', exc)}")
            raise ImportFailed(report) from exc
        if spec.name == "subsidence-areas":
            _confirmed_ground_once(session, parsed, by_key, report)
            if not report.ok:
                raise ImportFailed(report)
        _audit_link_changes(session, spec, report, by_key)
    log.debug("%s", report.summary())
    return report


def _apply(
    spec: KindSpec,
    obj: Any,
    values: dict[str, Any],
    geom: BaseGeometry | None,
    has_geom: bool,
    new: bool,
    session: Session,
) -> dict[str, list[Any]]:
    """Set the parsed ``values`` on ``obj``; returns {field: [before, after]} of what changed."""
    changed: dict[str, list[Any]] = {}
    table = spec.model.__table__
    for fname, value in values.items():
        f = spec.field(fname)
        attr = f.model_attr
        if f.type == "ref":
            if isinstance(value, tuple):
                continue  # resolved after all rows exist
            before = getattr(obj, attr)
            after = value.id if value is not None else None
            if new or before != after:
                if not (new and after is None):
                    old = session.get(f.ref.model, before) if before is not None else None
                    changed[fname] = [
                        getattr(old, f.ref.key) if old is not None else None,
                        getattr(value, f.ref.key) if value is not None else None,
                    ]
                setattr(obj, attr, after)
            continue
        if f.type == "refs":
            before = sorted(getattr(u, f.ref.key) for u in (getattr(obj, attr) or []))
            after = sorted(getattr(u, f.ref.key) for u in value)
            if before != after:
                changed[fname] = [before, after]
                setattr(obj, attr, list(value))
            continue
        if f.type == "milestones":
            before = [(m.due_date, m.description, m.done_date) for m in (obj.milestones or [])]
            if before != value:
                changed[fname] = [[jsonable(x) for x in t] for t in before], [[jsonable(x) for x in t] for t in value]
                obj.milestones = [
                    Milestone(seq=i + 1, due_date=d, description=desc, done_date=done)
                    for i, (d, desc, done) in enumerate(value)
                ]
            continue
        col = table.c.get(attr)
        if value is None and col is not None and not col.nullable:
            continue  # a blank cell keeps the default / current value of a mandatory column
        before = getattr(obj, attr)
        if new or not _same(before, value):
            if not (new and value is None):
                changed[fname] = [jsonable(before), jsonable(value)]
            setattr(obj, attr, value)
    if has_geom:
        before = obj.geometry
        if not _same_geometry(before, geom):
            changed["geometry"] = [_geom_text(before), _geom_text(geom)]
            obj.geometry = geom
    if spec.name == "problems" and getattr(obj, "lead_unit_id", None) is None and "lead_unit" not in changed:
        from subsidence.ledger.problems import lead_unit_for

        lead = lead_unit_for(session, obj.category, obj.town_id)
        if lead is not None:
            obj.lead_unit_id = lead.id
            changed["lead_unit"] = [None, lead.code]
    return changed


def _confirmed_ground_once(session: Session, parsed, by_key: dict[str, Any], report: ImportReport) -> None:
    """Confirmed subsidence areas never count the same ground twice (the baseline, census.queries)."""
    from subsidence.census.queries import confirmed_overlaps
    from subsidence.vocabulary import ReviewState

    for row, values, _, _ in parsed:
        obj = by_key.get(values.get("code"))
        if obj is None or obj.review_state != ReviewState.CONFIRMED or obj.geometry is None:
            continue
        hits = confirmed_overlaps(session, obj.geometry, exclude=[obj.id])
        if hits:
            report.error(
                row.where,
                "geometry",
                "confirmed area overlaps confirmed area(s) "
                + ", ".join(f"{o.code} by {o.overlap_ha:.2f} ha ({o.overlap_mu:.1f} 亩)" for o in hits)
                + ": the baseline would count that ground twice; import it as a candidate (待评审) and confirm it with "
                "merge (subsidence review confirm --merge), or correct the polygons",
            )


def _has_value(obj: Any, f: FieldSpec) -> bool:
    v = getattr(obj, f.model_attr, None)
    return v not in (None, "", []) and v != ()


def _same_target(spec: KindSpec, row: _Row, values: dict[str, Any], report: ImportReport) -> None:
    """Two columns naming the same reference (矿山名称 and 矿山/采矿许可证号) must agree; then one is kept."""
    by_attr: dict[str, list[FieldSpec]] = {}
    for fname in values:
        f = spec.field(fname)
        if f.type == "ref":
            by_attr.setdefault(f.model_attr, []).append(f)
    for fs in by_attr.values():
        if len(fs) < 2:
            continue
        targets = [
            (f, values[f.name]) for f in fs if values[f.name] is not None and not isinstance(values[f.name], tuple)
        ]
        ids = {id(t) for _, t in targets}
        if len(ids) > 1:
            (f1, t1), (f2, t2) = targets[0], targets[1]
            report.error(
                row.where,
                f2.label,
                f"{f1.zh} names {getattr(t1, f1.ref.display)!r} ({getattr(t1, f1.ref.key)}) but {f2.zh} names "
                f"{getattr(t2, f2.ref.display)!r} ({getattr(t2, f2.ref.key)}); correct one of them",
            )
            continue
        for f in fs[1:]:
            values.pop(f.name, None)


#: names that references resolve by, per kind: they must stay unique across records
UNIQUE_NAMES = {"mines": "name_zh", "enterprises": "name_zh", "units": "name_zh"}


def _unique_names(session: Session, spec: KindSpec, parsed, report: ImportReport) -> None:
    """A record may not take a name another record (in the file or the database) already has."""
    name_field = UNIQUE_NAMES.get(spec.name)
    if name_field is None:
        return
    key_f, name_f = spec.key, spec.field(name_field)
    col_key, col_name = getattr(spec.model, key_f.model_attr), getattr(spec.model, name_f.model_attr)
    in_file: dict[str, tuple[str, Any]] = {}
    names = [v.get(name_field) for _, v, _, _ in parsed if v.get(name_field)]
    stored: dict[str, list[Any]] = {}
    for i in range(0, len(names), 500):
        for k, n in session.execute(select(col_key, col_name).where(col_name.in_(names[i : i + 500]))):
            stored.setdefault(n, []).append(k)
    for row, values, _, _ in parsed:
        name, key = values.get(name_field), values.get(key_f.name)
        if not name or key is None:
            continue
        if name in in_file and in_file[name][1] != key:
            report.error(
                row.where,
                name_f.label,
                f"{name!r} is also the name of {in_file[name][1]} (at {in_file[name][0]}); names must be unique",
            )
        in_file.setdefault(name, (row.where, key))
        others = [k for k in stored.get(name, []) if k != key]
        if others:
            report.error(
                row.where,
                name_f.label,
                f"{name!r} is already the name of {others[0]} in the database; "
                "references by name must stay unambiguous: choose another name",
            )


def _audit_link_changes(session: Session, spec: KindSpec, report: ImportReport, by_key: dict[str, Any]) -> None:
    """Many-to-many links (a problem's cooperating units) are not columns, so the flush hook does not see them:
    append their before/after to the audit trail explicitly."""
    multi = [f.name for f in spec.fields if f.type == "refs"]
    if not multi:
        return
    for change in report.changes:
        fields = {k: v for k, v in change.fields.items() if k in multi}
        if not fields:
            continue
        obj = by_key.get(change.key)
        record_event(
            session,
            entity=spec.model.__tablename__,
            entity_id=obj.id,
            action="update",
            entity_key=change.key,
            before={k: v[0] for k, v in fields.items()},
            after={k: v[1] for k, v in fields.items()},
        )


#: problem fields that only the ledger workflow changes once a problem exists (services.lifecycle)
WORKFLOW_FIELDS = ("state", "closed_date")


def _problem_rules(
    spec: KindSpec, obj: Any, new: bool, changed: dict[str, list[Any]], row: _Row, report: ImportReport
) -> None:
    """A new problem needs a title (taken from the description when blank); an existing one changes state only
    through the ledger workflow (acceptance, return, withdrawal are decisions with their own audit), not by import.
    """
    if new and not obj.title:
        if obj.description:
            obj.title = obj.description.strip().splitlines()[0][:60]
            changed["title"] = [None, obj.title]
        else:
            report.error(row.where, spec.field("title").label, "a new problem needs 问题名称 or 问题描述")
    if not new:
        for fname in WORKFLOW_FIELDS:
            if fname in changed:
                before, after = changed[fname]
                report.error(
                    row.where,
                    spec.field(fname).label,
                    f"the ledger says {before!r}, the file {after!r}: state changes go through the ledger "
                    "workflow (subsidence ledger ...), not through import",
                )


def _warn_panels_outside_mine(parsed, by_key, report: ImportReport) -> None:
    for row, values, geom, _ in parsed:
        mine = values.get("mine")
        if geom is None or mine is None or isinstance(mine, tuple) or mine.geometry is None:
            continue
        outside = geom.difference(mine.geometry.buffer(BANNER_TOLERANCE_M))
        if outside.area > 1.0:
            report.warn(
                row.where,
                "geometry",
                f"the panel reaches {outside.area / 1e4:.2f} ha beyond the mining "
                f"right of {mine.licence_no}: possible mining beyond the licence (越界开采)",
            )


def import_file(
    engine: Engine,
    kind: str | KindSpec,
    path: str | Path,
    *,
    crs: str | None = None,
    dry_run: bool = False,
    actor: str = "system",
    layer: str | None = None,
    sheet: str | None = None,
) -> ImportReport:
    """Import ``path`` in one transaction: committed when valid (and not ``dry_run``), otherwise rolled back.

    Raises :class:`ImportFailed` (nothing changed) when the file is refused.
    """
    from subsidence.db.session import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        try:
            report = run_import(session, kind, path, crs=crs, dry_run=dry_run, actor=actor, layer=layer, sheet=sheet)
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report
