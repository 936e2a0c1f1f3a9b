"""The office's own basemap: imagery or a topographic map served as XYZ tiles by the product.

Three sources, one at a time, kept under ``<data_dir>/basemap/``:

* a **GeoTIFF** the office imports: reprojected once to Web Mercator (EPSG:3857) with rasterio's
  :class:`~rasterio.vrt.WarpedVRT` into ``basemap_3857.tif`` (8-bit RGBA, tiled, DEFLATE); each 256×256 tile is
  a window of that file, warped onto the tile's own grid on first request and cached as PNG under
  ``tiles/z/x/y.png``;
* an **MBTiles** file (SQLite; the MBTiles 1.3 spec stores ``tile_row`` in TMS order, row 0 at the south, so the
  XYZ row ``y`` is read as ``2**z - 1 - y``);
* a **PMTiles** v3 archive (one file: header, Hilbert-ordered tile ids, gzip- or un-compressed directories).

Nothing here reaches the internet: the map page asks ``/api/basemap`` whether a basemap exists and draws it
from ``/api/basemap/tiles/{z}/{x}/{y}``; with none the map stays on its plain background as before.

Tile coordinates follow the XYZ (Google/OSM) scheme: ``x`` from the antimeridian eastwards, ``y`` from the
north downwards, ``z`` 0–22; bounds are WGS84 lon/lat degrees.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import shutil
import sqlite3
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from subsidence.errors import NotFound, ValidationFailed

#: half the Web Mercator world width, metres (EPSG:3857 spans ±this in x and y)
ORIGIN_SHIFT = 20037508.342789244
TILE = 256
MAX_ZOOM = 22
META = "basemap.json"
GEOTIFF_NAME = "basemap_3857.tif"
KINDS = ("geotiff", "mbtiles", "pmtiles")
MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class Basemap:
    """What the map page needs to draw the basemap."""

    kind: str  #: geotiff | mbtiles | pmtiles
    name: str
    file: str  #: the stored file inside the basemap folder
    format: str  #: png | jpg | webp
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]  #: west, south, east, north (degrees)
    source_sha256: str
    imported_at: str
    attribution: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"bounds": list(self.bounds)}


def folder(data_dir: Path | str) -> Path:
    return Path(data_dir) / "basemap"


def current(data_dir: Path | str) -> Basemap | None:
    """The imported basemap, or None (the normal state: the map draws without one)."""
    p = folder(data_dir) / META
    if not p.exists():
        return None
    raw = json.loads(p.read_text(encoding="utf-8"))
    raw["bounds"] = tuple(raw["bounds"])
    return Basemap(**raw)


def clear(data_dir: Path | str) -> bool:
    """Remove the basemap and its tile cache; True when there was one."""
    d = folder(data_dir)
    if not d.exists():
        return False
    shutil.rmtree(d)
    return True


# ------------------------------------------------------------------------------------------ tile maths


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of an XYZ tile in EPSG:3857 metres."""
    size = 2 * ORIGIN_SHIFT / (1 << z)
    west = -ORIGIN_SHIFT + x * size
    north = ORIGIN_SHIFT - y * size
    return west, north - size, west + size, north


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding (lon, lat) at zoom ``z``."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def _check_tile(z: int, x: int, y: int) -> None:
    if not (0 <= z <= MAX_ZOOM) or not (0 <= x < (1 << z)) or not (0 <= y < (1 << z)):
        raise NotFound(f"瓦片 {z}/{x}/{y} 不存在 / tile {z}/{x}/{y} is outside the XYZ grid")


# ------------------------------------------------------------------------------------------ import


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sniff(path: Path) -> str:
    """geotiff | mbtiles | pmtiles, by the file's first bytes (not its name)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "geotiff"
    if head.startswith(b"SQLite format 3\x00"):
        return "mbtiles"
    if head[:7] == b"PMTiles":
        return "pmtiles"
    raise ValidationFailed(
        f"{path.name}: 不是 GeoTIFF、MBTiles 或 PMTiles 文件 / not a GeoTIFF, MBTiles or "
        "PMTiles file (recognised by content)"
    )


def import_file(src: Path | str, data_dir: Path | str, *, name: str | None = None, attribution: str = "") -> Basemap:
    """Import ``src`` as the basemap (replacing any previous one; a refused file leaves the old one in place)."""
    src = Path(src)
    if not src.is_file():
        raise NotFound(f"{src}: 文件不存在 / file not found")
    kind = sniff(src)
    target = folder(data_dir)
    staging = target.with_name("basemap.importing")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        if kind == "geotiff":
            meta = _import_geotiff(src, staging)
        elif kind == "mbtiles":
            meta = _import_mbtiles(src, staging)
        else:
            meta = _import_pmtiles(src, staging)
        bm = Basemap(
            kind=kind,
            name=name or src.stem,
            source_sha256=_sha256(src),
            imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            attribution=attribution,
            **meta,
        )
        (staging / META).write_text(json.dumps(bm.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return bm


def _zoom_for_resolution(res_m: float) -> int:
    """The zoom whose pixel (at the equator) is just finer than ``res_m`` metres."""
    z = math.ceil(math.log2(2 * ORIGIN_SHIFT / (TILE * res_m)))
    return max(0, min(MAX_ZOOM, z))


def _colormap(ds: Any) -> dict[int, tuple[int, ...]] | None:
    """The palette of a 1-band paletted image, else None."""
    if ds.count != 1:
        return None
    try:
        return ds.colormap(1)
    except ValueError:  # no colormap
        return None


def _import_geotiff(src: Path, out: Path) -> dict[str, Any]:
    import numpy as np
    import rasterio
    from rasterio.enums import ColorInterp, Resampling
    from rasterio.vrt import WarpedVRT
    from rasterio.warp import transform_bounds

    with rasterio.open(src) as ds:
        cmap = _colormap(ds)
        if ds.crs is None:
            raise ValidationFailed(f"{src.name}: 没有坐标参考系 / the GeoTIFF has no CRS; georeference it first")
        if ds.count not in (1, 3, 4):
            raise ValidationFailed(
                f"{src.name}: {ds.count} bands; give a 1-band (grey or palette), 3-band RGB or 4-band RGBA image"
            )
        with WarpedVRT(
            ds, crs="EPSG:3857", resampling=Resampling.bilinear if cmap is None else Resampling.nearest, add_alpha=True
        ) as vrt:
            data = vrt.read()  # bands..., alpha (255 where the source has data)
            profile = {
                "driver": "GTiff",
                "width": vrt.width,
                "height": vrt.height,
                "count": 4,
                "dtype": "uint8",
                "crs": "EPSG:3857",
                "transform": vrt.transform,
                "tiled": True,
                "blockxsize": 256,
                "blockysize": 256,
                "compress": "deflate",
                "photometric": "RGB",
                "alpha": "YES",
            }
            res = abs(vrt.transform.a)
            bounds = vrt.bounds
        alpha = data[-1]
        bands = data[:-1]
        if ds.count == 1 and cmap is not None:
            lut = np.zeros((256, 4), dtype=np.uint8)
            for k, rgba in cmap.items():
                lut[k] = rgba
            rgba = lut[bands[0].astype(np.uint8)]
            rgb = np.moveaxis(rgba[..., :3], -1, 0)
            alpha = np.where(alpha > 0, rgba[..., 3], 0).astype(np.uint8)
        else:
            if bands.dtype != np.uint8:
                valid = bands[:, alpha > 0].astype("float64")
                lo, hi = np.percentile(valid, [2, 98]) if valid.size else (0.0, 1.0)
                scaled = np.clip((bands.astype("float64") - lo) / ((hi - lo) or 1.0) * 255.0, 0, 255)
                bands = scaled.astype(np.uint8)
            if bands.shape[0] == 4:  # RGBA source: its own alpha masks too
                alpha = np.minimum(alpha, bands[3])
                bands = bands[:3]
            rgb = bands if bands.shape[0] == 3 else np.repeat(bands, 3, axis=0)
        with rasterio.open(out / GEOTIFF_NAME, "w", **profile) as dst:
            dst.write(np.concatenate([rgb, alpha[None]]).astype(np.uint8))
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
            # overviews (2, 4, 8 … down to one tile) so that a coarse tile reads few pixels
            factors, f = [], 2
            while max(profile["width"], profile["height"]) // f >= TILE // 2 and f <= 1024:
                factors.append(f)
                f *= 2
            if factors:
                dst.build_overviews(factors, Resampling.average)
    west, south, east, north = transform_bounds("EPSG:3857", "EPSG:4326", *bounds)
    maxzoom = _zoom_for_resolution(res)
    return {
        "file": GEOTIFF_NAME,
        "format": "png",
        "minzoom": max(0, maxzoom - 8),
        "maxzoom": maxzoom,
        "bounds": (west, south, east, north),
    }


def _mbtiles_meta(db: sqlite3.Connection, name: str) -> dict[str, str]:
    try:
        rows = db.execute("SELECT name, value FROM metadata").fetchall()
        db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ValidationFailed(f"{name}: 不是 MBTiles（缺少 metadata/tiles 表）/ not an MBTiles file ({exc})") from None
    return {str(k): str(v) for k, v in rows}


def _import_mbtiles(src: Path, out: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as db:
        meta = _mbtiles_meta(db, src.name)
        fmt = meta.get("format", "png").lower()
        if fmt not in MEDIA:
            raise ValidationFailed(
                f"{src.name}: tile format {fmt!r} is not an image (png, jpg, webp); vector "
                "MBTiles need a style this map does not have"
            )
        zmin, zmax = db.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        if zmin is None:
            raise ValidationFailed(f"{src.name}: the MBTiles file holds no tiles")
    bounds = tuple(float(v) for v in meta.get("bounds", "-180,-85.0511,180,85.0511").split(","))
    if len(bounds) != 4:
        raise ValidationFailed(f"{src.name}: metadata bounds {meta.get('bounds')!r} is not west,south,east,north")
    shutil.copyfile(src, out / "basemap.mbtiles")
    return {
        "file": "basemap.mbtiles",
        "format": "jpg" if fmt == "jpeg" else fmt,
        "minzoom": int(meta.get("minzoom", zmin)),
        "maxzoom": int(meta.get("maxzoom", zmax)),
        "bounds": bounds,
    }


# ------------------------------------------------------------------------------------------ PMTiles v3


PMT_COMPRESSION = {0: "unknown", 1: "none", 2: "gzip", 3: "brotli", 4: "zstd"}
PMT_TILE_TYPE = {1: "mvt", 2: "png", 3: "jpg", 4: "webp", 5: "avif"}


def _pmt_header(buf: bytes, name: str = "archive") -> dict[str, Any]:
    import struct

    if len(buf) < 127 or buf[:7] != b"PMTiles" or buf[7] != 3:
        raise ValidationFailed(f"{name}: not a PMTiles version 3 archive")
    q = struct.unpack_from("<QQQQQQQQQQQ", buf, 8)
    h = dict(
        zip(
            (
                "root_offset",
                "root_length",
                "meta_offset",
                "meta_length",
                "leaf_offset",
                "leaf_length",
                "data_offset",
                "data_length",
                "addressed",
                "entries",
                "contents",
            ),
            q,
        )
    )
    h["clustered"], h["internal_compression"], h["tile_compression"], h["tile_type"], h["minzoom"], h["maxzoom"] = (
        buf[96],
        buf[97],
        buf[98],
        buf[99],
        buf[100],
        buf[101],
    )
    w, s, e, n = struct.unpack_from("<iiii", buf, 102)
    h["bounds"] = (w / 1e7, s / 1e7, e / 1e7, n / 1e7)
    return h


def _decompress(data: bytes, kind: int) -> bytes:
    if kind in (0, 1):
        return data
    if kind == 2:
        return gzip.decompress(data)
    raise ValidationFailed(
        f"PMTiles compression {PMT_COMPRESSION.get(kind, kind)} is not supported here "
        "(use gzip or none: `pmtiles convert` can rewrite it)"
    )


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, pos
        shift += 7


def _pmt_directory(buf: bytes) -> list[tuple[int, int, int, int]]:
    """(tile_id, offset, length, run_length) entries of one decompressed directory."""
    n, pos = _varint(buf, 0)
    ids, runs, lens, offs = [], [], [], []
    last = 0
    for _ in range(n):
        d, pos = _varint(buf, pos)
        last += d
        ids.append(last)
    for _ in range(n):
        r, pos = _varint(buf, pos)
        runs.append(r)
    for _ in range(n):
        ln, pos = _varint(buf, pos)
        lens.append(ln)
    for i in range(n):
        o, pos = _varint(buf, pos)
        offs.append(offs[i - 1] + lens[i - 1] if o == 0 and i > 0 else o - 1)
    return list(zip(ids, offs, lens, runs))


def zxy_to_tileid(z: int, x: int, y: int) -> int:
    """The PMTiles tile id: tiles of lower zooms first, then the Hilbert index of (x, y) at zoom ``z``."""
    acc = ((1 << (2 * z)) - 1) // 3  # number of tiles at zooms 0..z-1
    n = 1 << z
    d = 0
    s = n >> 1
    tx, ty = x, y
    while s > 0:
        rx = 1 if tx & s else 0
        ry = 1 if ty & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:  # rotate
            if rx == 1:
                tx, ty = s - 1 - tx, s - 1 - ty
            tx, ty = ty, tx
        s >>= 1
    return acc + d


def _pmt_find(entries: list[tuple[int, int, int, int]], tile_id: int) -> tuple[int, int, int, int] | None:
    lo, hi = 0, len(entries) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        c = entries[mid][0]
        if tile_id > c:
            lo = mid + 1
        elif tile_id < c:
            hi = mid - 1
        else:
            return entries[mid]
    if hi >= 0:
        e = entries[hi]
        if e[3] == 0 or tile_id - e[0] < e[3]:
            return e
    return None


def pmtiles_tile(path: Path, z: int, x: int, y: int) -> bytes | None:
    """The stored bytes of tile z/x/y of a PMTiles v3 archive (decompressed), or None when absent."""
    with path.open("rb") as fh:
        h = _pmt_header(fh.read(127), path.name)
        tid = zxy_to_tileid(z, x, y)
        off, length = h["root_offset"], h["root_length"]
        for _depth in range(4):
            fh.seek(off)
            entries = _pmt_directory(_decompress(fh.read(length), h["internal_compression"]))
            e = _pmt_find(entries, tid)
            if e is None:
                return None
            if e[3] > 0:  # a tile (run)
                fh.seek(h["data_offset"] + e[1])
                return _decompress(fh.read(e[2]), h["tile_compression"])
            off, length = h["leaf_offset"] + e[1], e[2]  # a leaf directory
    return None


def _import_pmtiles(src: Path, out: Path) -> dict[str, Any]:
    with src.open("rb") as fh:
        h = _pmt_header(fh.read(127), src.name)
    fmt = PMT_TILE_TYPE.get(h["tile_type"])
    if fmt not in MEDIA:
        raise ValidationFailed(
            f"{src.name}: PMTiles tile type {fmt or h['tile_type']!r} is not an image (png, jpg, webp)"
        )
    _decompress(b"", h["internal_compression"])  # refuse brotli/zstd directories now, not per tile
    shutil.copyfile(src, out / "basemap.pmtiles")
    return {
        "file": "basemap.pmtiles",
        "format": fmt,
        "minzoom": h["minzoom"],
        "maxzoom": h["maxzoom"],
        "bounds": h["bounds"],
    }


# ------------------------------------------------------------------------------------------ serving


def _png(rgba) -> bytes:
    import numpy as np
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(np.moveaxis(rgba, 0, -1)), "RGBA")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _geotiff_tile(base: Path, z: int, x: int, y: int) -> bytes | None:
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_bounds
    from rasterio.vrt import WarpedVRT

    cache = base / "tiles" / str(z) / str(x) / f"{y}.png"
    if cache.exists():
        return cache.read_bytes()
    w, s, e, n = tile_bounds_3857(z, x, y)
    path = base / GEOTIFF_NAME
    with rasterio.open(path) as ds:
        b = ds.bounds
        if e <= b.left or w >= b.right or n <= b.bottom or s >= b.top:
            return None
        ratio = (e - w) / TILE / abs(ds.transform.a)  # tile pixel / image pixel
        n_ovr = len(ds.overviews(1))
    # read from the overview just finer than the tile's pixels (overview k has factor 2**(k+1))
    level = min(int(math.log2(ratio)) - 1, n_ovr - 1) if ratio >= 2 and n_ovr else None
    with rasterio.open(path, overview_level=level) if level is not None and level >= 0 else rasterio.open(path) as ds:
        with WarpedVRT(
            ds,
            crs=ds.crs,
            transform=from_bounds(w, s, e, n, TILE, TILE),
            width=TILE,
            height=TILE,
            resampling=Resampling.average if ratio > 1 else Resampling.bilinear,
        ) as vrt:
            data = vrt.read()
    if not data[3].any():
        return None
    png = _png(data)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{id(data)}.tmp")
    tmp.write_bytes(png)
    tmp.replace(cache)  # concurrent requests for one tile each write whole files
    return png


def tile(data_dir: Path | str, z: int, x: int, y: int) -> tuple[bytes, str] | None:
    """(bytes, media type) of tile z/x/y of the basemap; None where it has no tile (outside its extent).

    NotFound when no basemap was imported or the tile is outside the XYZ grid."""
    _check_tile(z, x, y)
    bm = current(data_dir)
    if bm is None:
        raise NotFound("未导入底图 / no basemap imported (subsidence basemap import FILE)")
    base = folder(data_dir)
    if bm.kind == "geotiff":
        if z > bm.maxzoom + 2:
            return None
        data = _geotiff_tile(base, z, x, y)
    elif bm.kind == "mbtiles":
        with sqlite3.connect(f"file:{base / bm.file}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        data = bytes(row[0]) if row else None
        if data is not None and data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    else:
        data = pmtiles_tile(base / bm.file, z, x, y)
    if data is None:
        return None
    return data, MEDIA[bm.format]


def empty_png() -> bytes:
    """A fully transparent 1×1 PNG (what a tile outside the basemap's extent answers)."""
    import struct

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )
