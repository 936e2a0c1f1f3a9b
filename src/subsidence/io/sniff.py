"""Format detection: what a file really is, judged from its bytes rather than its name.

Offices rename files (a CSV saved as ``.xlsx``, a truncated GeoPackage, a shapefile without its ``.dbf``);
every reader calls :func:`sniff` first so that such a file is refused with a message that names it,
instead of failing deep inside GDAL or openpyxl.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

#: extension -> format name
EXTENSIONS = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "shpzip",
}

FORMAT_LABELS = {
    "xlsx": "Excel workbook (.xlsx)",
    "gpkg": "GeoPackage (.gpkg)",
    "shp": "ESRI Shapefile (.shp + .shx + .dbf)",
    "geojson": "GeoJSON (.geojson)",
    "shpzip": "zipped Shapefile (.zip)",
}

VECTOR_FORMATS = frozenset({"gpkg", "shp", "geojson", "shpzip"})


class FormatError(ValueError):
    """The file is missing, of an unsupported kind, or not what its extension says."""


def _head(path: Path, n: int = 512) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _what_is_it(head: bytes) -> str:
    """A short guess of what the bytes are, for the error message."""
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive"
    if head.startswith(b"SQLite format 3\x00"):
        return "an SQLite database"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old binary Office file (.xls/.doc); save it as .xlsx"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head[:4] == b"\x00\x00\x27\x0a":
        return "a shapefile geometry (.shp)"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "JSON text"
    if not head:
        return "an empty file"
    try:
        head.decode("utf-8")
        return "plain text"
    except UnicodeDecodeError:
        try:
            head.decode("gb18030")
            return "plain text (GBK)"
        except UnicodeDecodeError:
            return "unrecognised binary data"


def sniff(path: str | Path) -> str:
    """Return the format name (``xlsx``, ``gpkg``, ``shp``, ``geojson``, ``shpzip``) of ``path``.

    Raises :class:`FormatError` naming the file when it is missing, has an unsupported extension, or when
    its content does not match its extension (e.g. text renamed ``.xlsx``, a corrupt ``.gpkg``).
    """
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: file not found")
    if p.is_dir():
        raise FormatError(f"{p}: is a directory; give the .shp/.gpkg/.geojson/.xlsx file itself")
    suffix = p.suffix.lower()
    fmt = EXTENSIONS.get(suffix)
    if fmt is None:
        if suffix == ".xls":
            raise FormatError(f"{p}: old Excel .xls is not supported; open it in Excel/WPS and save as .xlsx")
        if suffix in (".dbf", ".shx", ".prj", ".cpg"):
            raise FormatError(f"{p}: part of a shapefile; give the .shp file (with .shx, .dbf, .prj next to it)")
        supported = ", ".join(sorted(EXTENSIONS))
        raise FormatError(f"{p}: unsupported file type {suffix or '(no extension)'}; supported: {supported}")
    head = _head(p)
    expected = FORMAT_LABELS[fmt]
    if fmt in ("xlsx", "shpzip"):
        if not head.startswith(b"PK\x03\x04"):
            raise FormatError(f"{p}: not a valid {expected}: the file is {_what_is_it(head)}")
        try:
            with zipfile.ZipFile(p) as zf:
                names = zf.namelist()
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError) as exc:
            raise FormatError(f"{p}: not a valid {expected}: damaged ZIP container ({exc})") from exc
        if bad is not None:
            raise FormatError(f"{p}: not a valid {expected}: member {bad!r} is corrupt")
        if fmt == "xlsx" and "xl/workbook.xml" not in names:
            raise FormatError(f"{p}: not a valid {expected}: a ZIP archive without a workbook inside")
        if fmt == "shpzip" and not any(n.lower().endswith(".shp") for n in names):
            raise FormatError(f"{p}: not a valid {expected}: the ZIP archive holds no .shp file")
        return fmt
    if fmt == "gpkg":
        if not head.startswith(b"SQLite format 3\x00"):
            raise FormatError(f"{p}: not a valid {expected}: the file is {_what_is_it(head)}")
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        if page < 512 or p.stat().st_size < page or p.stat().st_size % page:
            raise FormatError(f"{p}: not a valid {expected}: the database file is truncated")
        return fmt
    if fmt == "shp":
        if head[:4] != b"\x00\x00\x27\x0a" or len(head) < 100:
            raise FormatError(f"{p}: not a valid {expected}: the file is {_what_is_it(head)}")
        declared = int.from_bytes(head[24:28], "big") * 2
        if declared != p.stat().st_size:
            raise FormatError(
                f"{p}: not a valid {expected}: header says {declared} bytes, file has {p.stat().st_size} (truncated?)"
            )
        missing = [ext for ext in (".shx", ".dbf") if _sidecar(p, ext) is None]
        if missing:
            raise FormatError(f"{p}: shapefile incomplete: {' and '.join(missing)} missing next to it")
        return fmt
    # GeoJSON: must parse as JSON with a GeoJSON type (large files: a cheap look at the start only)
    if p.stat().st_size > 50_000_000:
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not start.startswith(b"{") or b'"type"' not in _head(p, 1 << 16):
            raise FormatError(f"{p}: not a valid {expected}: the file is {_what_is_it(head)}")
        return fmt
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{p}: not a valid {expected}: GeoJSON must be UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{p}: not a valid {expected}: the file is {_what_is_it(head)}, JSON error at line {exc.lineno} "
            f"column {exc.colno}: {exc.msg}"
        ) from exc
    gtype = obj.get("type") if isinstance(obj, dict) else None
    if gtype not in ("FeatureCollection", "Feature"):
        raise FormatError(f'{p}: not a valid {expected}: JSON without "type": "FeatureCollection"')
    return fmt


def _sidecar(shp: Path, ext: str) -> Path | None:
    """The shapefile component with extension ``ext`` in any letter case, or None."""
    for cand in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    for cand in shp.parent.glob(shp.stem + ".*"):
        if cand.suffix.lower() == ext:
            return cand
    return None
