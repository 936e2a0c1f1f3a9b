"""``subsidence basemap``: the office's own basemap (imagery or topographic map) for the battle map.

``import FILE`` takes a GeoTIFF (reprojected to Web Mercator and cut into PNG tiles on demand), an MBTiles or
a PMTiles file; the map page draws it under the layers. ``show`` prints what is imported, ``clear`` removes it
(the map then draws on its plain background again). Files live under ``<data_dir>/basemap/``; nothing is
fetched from the internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import emit_json, fail
from subsidence.cli.options import JSON

basemap_app = typer.Typer(
    help="The office's basemap (GeoTIFF, MBTiles or PMTiles) served as map tiles.", no_args_is_help=True
)


def _data_dir() -> Path:
    from subsidence.settings import get_settings

    return get_settings().data_dir


@basemap_app.command("import")
def basemap_import(
    file: Path = typer.Argument(..., help="GeoTIFF (.tif), MBTiles (.mbtiles) or PMTiles (.pmtiles)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name shown on the map (default: file name)."),
    attribution: str = typer.Option("", "--attribution", help="Source and approval number (审图号)."),
    as_json: bool = JSON,
) -> None:
    """Import FILE as the basemap, replacing the previous one (a refused file leaves the old one in place)."""
    from subsidence.errors import ServiceError
    from subsidence.mapping import basemap

    try:
        bm = basemap.import_file(file, _data_dir(), name=name, attribution=attribution)
    except ServiceError as exc:
        fail(exc.message)
    if as_json:
        emit_json(bm.as_dict())
        return
    w, s, e, n = bm.bounds
    typer.echo(
        f"底图已导入 / basemap imported: {bm.name} ({bm.kind}, {bm.format}), zoom {bm.minzoom}–{bm.maxzoom}, "
        f"bounds {w:.5f},{s:.5f},{e:.5f},{n:.5f}"
    )


@basemap_app.command("show")
def basemap_show(as_json: bool = JSON) -> None:
    """Print the imported basemap (or that there is none)."""
    from subsidence.mapping import basemap

    bm = basemap.current(_data_dir())
    if as_json:
        emit_json(bm.as_dict() if bm else None)
        return
    if bm is None:
        typer.echo("未导入底图 / no basemap (the map draws on a plain background)")
        return
    typer.echo(
        f"{bm.name}: {bm.kind} {bm.format}, zoom {bm.minzoom}–{bm.maxzoom}, sha256 {bm.source_sha256[:12]}…, "
        f"imported {bm.imported_at}"
    )


@basemap_app.command("clear")
def basemap_clear() -> None:
    """Remove the basemap and its tile cache."""
    from subsidence.mapping import basemap

    typer.echo("底图已删除 / basemap removed" if basemap.clear(_data_dir()) else "未导入底图 / no basemap to remove")


def register(app: typer.Typer) -> None:
    app.add_typer(basemap_app, name="basemap")
