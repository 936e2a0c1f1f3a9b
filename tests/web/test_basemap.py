"""The office's basemap: a GeoTIFF imported through the CLI is reprojected to Web Mercator
and served as PNG tiles (the right colour at a known place), an MBTiles file is served with its TMS rows
flipped, a PMTiles archive (written by the reference ``pmtiles`` writer) is read, and with no basemap the API
says so and the tile route is a clear 404."""

from __future__ import annotations

import io
import sqlite3

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from subsidence.mapping import basemap
from tests.web.conftest import auth

# storage CRS (EPSG:4546, CGCS2000 GK CM 111E) around Ejin Horo, as in the web world
X0, Y0 = 437_000.0, 4_383_000.0
RED, BLUE = (200, 30, 40), (20, 60, 210)


def two_colour_geotiff(path, *, res=20.0, size=400) -> None:
    """A 3-band GeoTIFF in EPSG:4546: the west half red, the east half blue."""
    import rasterio
    from rasterio.transform import from_origin

    data = np.zeros((3, size, size), dtype=np.uint8)
    for b in range(3):
        data[b, :, : size // 2] = RED[b]
        data[b, :, size // 2 :] = BLUE[b]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=3,
        dtype="uint8",
        crs="EPSG:4546",
        transform=from_origin(X0, Y0 + size * res, res, res),
    ) as dst:
        dst.write(data)


def lonlat(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True).transform(x, y)
    return lon, lat


def pixel_of(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """(x, y, column, row) of the tile and the pixel inside it holding (lon, lat)."""
    import math

    n = 1 << z
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return int(fx), int(fy), int((fx % 1) * 256), int((fy % 1) * 256)


def png_rgba(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGBA"))


def test_no_basemap(client, world):
    assert client.get("/api/basemap", headers=auth(world, "office")).json() == {"basemap": None}
    r = client.get("/api/basemap/tiles/10/800/400.png", headers=auth(world, "office"))
    assert r.status_code == 404 and "未导入底图" in r.json()["message"]
    assert client.get("/api/basemap").status_code == 401  # signed-in users only


def test_geotiff_import_and_tiles(client, world, tmp_path):
    from subsidence.cli.main import app as cli
    from subsidence.settings import get_settings

    src = tmp_path / "topo.tif"
    two_colour_geotiff(src)
    res = CliRunner().invoke(cli, ["basemap", "import", str(src), "--name", "县域地形图", "--json"])
    assert res.exit_code == 0, res.output
    bm = basemap.current(get_settings().data_dir)
    assert bm is not None and bm.kind == "geotiff" and bm.name == "县域地形图"
    # 20 m pixels: zoom 13 (19.1 m/px at the equator) is the first one finer
    assert bm.maxzoom == 13
    info = client.get("/api/basemap", headers=auth(world, "office")).json()["basemap"]
    assert info["tiles"] == "/api/basemap/tiles/{z}/{x}/{y}" and info["format"] == "png"
    west, south, east, north = info["bounds"]
    lon_w, lat_s = lonlat(X0, Y0)
    assert abs(west - lon_w) < 0.01 and abs(south - lat_s) < 0.01

    z = 14
    # z14: finer than the image; z10: read from an overview (a tile pixel is about 6 image pixels)
    for (x, y), colour, z in [
        (p, c, zz) for zz in (14, 10) for p, c in (((X0 + 2_000, Y0 + 4_000), RED), ((X0 + 6_000, Y0 + 4_000), BLUE))
    ]:
        tx, ty, col, row = pixel_of(*lonlat(x, y), z)
        r = client.get(f"/api/basemap/tiles/{z}/{tx}/{ty}.png", headers=auth(world, "enterprise_a"))
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        px = png_rgba(r.content)[row, col]
        assert px[3] == 255 and np.abs(px[:3].astype(int) - colour).max() <= 3, (px, colour)
    # a tile far outside the image: transparent, still a PNG
    r = client.get("/api/basemap/tiles/14/100/100.png", headers=auth(world, "office"))
    assert r.status_code == 200 and png_rgba(r.content)[..., 3].max() == 0
    # the tile was cached under the data dir
    assert any((get_settings().data_dir / "basemap" / "tiles" / "14").rglob("*.png"))
    assert client.get("/api/basemap/tiles/30/0/0.png", headers=auth(world, "office")).status_code == 404


def test_refused_file_keeps_the_old_basemap(tmp_path):
    data_dir = tmp_path / "d"
    good = tmp_path / "a.tif"
    two_colour_geotiff(good, size=40, res=200.0)
    basemap.import_file(good, data_dir)
    bad = tmp_path / "notes.tif"
    bad.write_text("not an image")
    from subsidence.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="GeoTIFF"):
        basemap.import_file(bad, data_dir)
    assert basemap.current(data_dir).source_sha256 == basemap._sha256(good)


def solid_png(rgb) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_mbtiles_served_with_tms_rows_flipped(client, world, tmp_path):
    from subsidence.settings import get_settings

    path = tmp_path / "imagery.mbtiles"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE metadata (name text, value text);"
            "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);"
        )
        db.executemany(
            "INSERT INTO metadata VALUES (?, ?)",
            [("name", "影像"), ("format", "png"), ("bounds", "109,39,110.5,40"), ("minzoom", "3"), ("maxzoom", "3")],
        )
        # XYZ tile 3/5/2 is TMS row 8 - 1 - 2 = 5
        db.execute("INSERT INTO tiles VALUES (3, 5, 5, ?)", (solid_png((10, 160, 20)),))
        db.execute("INSERT INTO tiles VALUES (3, 5, 2, ?)", (solid_png((250, 250, 0)),))
    bm = basemap.import_file(path, get_settings().data_dir)
    assert bm.kind == "mbtiles" and bm.bounds == (109.0, 39.0, 110.5, 40.0)
    r = client.get("/api/basemap/tiles/3/5/2.png", headers=auth(world, "town"))
    assert r.status_code == 200 and tuple(png_rgba(r.content)[128, 128][:3]) == (10, 160, 20)
    r = client.get("/api/basemap/tiles/3/5/5.png", headers=auth(world, "town"))
    assert tuple(png_rgba(r.content)[0, 0][:3]) == (250, 250, 0)
    r = client.get("/api/basemap/tiles/3/1/1.png", headers=auth(world, "town"))
    assert r.status_code == 200 and png_rgba(r.content)[..., 3].max() == 0


def test_pmtiles_read(client, world, tmp_path):
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    from subsidence.settings import get_settings

    tiles = {(0, 0, 0): (1, 2, 3), (4, 12, 6): (40, 80, 120), (4, 13, 6): (200, 100, 50), (7, 101, 48): (9, 9, 9)}
    for z, x, y in tiles:
        assert basemap.zxy_to_tileid(z, x, y) == zxy_to_tileid(z, x, y)
    path = tmp_path / "topo.pmtiles"
    with path.open("wb") as fh:
        w = Writer(fh)
        for (z, x, y), rgb in sorted(tiles.items(), key=lambda kv: zxy_to_tileid(*kv[0])):
            w.write_tile(zxy_to_tileid(z, x, y), solid_png(rgb))
        w.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": 0,
                "max_zoom": 7,
                "min_lon_e7": 1090000000,
                "min_lat_e7": 390000000,
                "max_lon_e7": 1105000000,
                "max_lat_e7": 400000000,
                "center_zoom": 4,
                "center_lon_e7": 1097500000,
                "center_lat_e7": 395000000,
            },
            {"name": "topo"},
        )
    bm = basemap.import_file(path, get_settings().data_dir)
    assert bm.kind == "pmtiles" and bm.maxzoom == 7 and bm.bounds == (109.0, 39.0, 110.5, 40.0)
    for (z, x, y), rgb in tiles.items():
        r = client.get(f"/api/basemap/tiles/{z}/{x}/{y}", headers=auth(world, "office"))
        assert r.status_code == 200 and tuple(png_rgba(r.content)[5, 5][:3]) == rgb
    r = client.get("/api/basemap/tiles/4/0/0", headers=auth(world, "office"))
    assert png_rgba(r.content)[..., 3].max() == 0
