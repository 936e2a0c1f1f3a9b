"""The office's basemap as XYZ tiles: ``/api/basemap`` says whether one is imported and how
to draw it; ``/api/basemap/tiles/{z}/{x}/{y}`` serves its tiles (PNG/JPEG/WebP) from the data folder.
Signed-in users only (the office's imagery is not a public layer)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from subsidence.api.deps import CurrentUser
from subsidence.mapping import basemap

router = APIRouter(prefix="/api/basemap", tags=["map"])


@router.get("", summary="底图信息 / the imported basemap (null when none)")
def basemap_info(request: Request, actor: CurrentUser) -> dict:
    bm = basemap.current(request.app.state.settings.data_dir)
    if bm is None:
        return {"basemap": None}
    return {"basemap": bm.as_dict() | {"tiles": "/api/basemap/tiles/{z}/{x}/{y}", "tile_size": basemap.TILE}}


@router.get("/tiles/{z}/{x}/{y}", summary="底图瓦片 / one basemap tile (XYZ scheme)")
def basemap_tile(z: int, x: int, y: str, request: Request, actor: CurrentUser) -> Response:
    """A tile outside the basemap's extent answers a transparent PNG (200) so the map draws nothing there."""
    from subsidence.errors import NotFound

    stem = y.split(".", 1)[0]
    if not stem.isdigit():
        raise NotFound(f"瓦片行号 {y!r} 无效 / tile row {y!r} is not a number")
    got = basemap.tile(request.app.state.settings.data_dir, z, x, int(stem))
    headers = {"Cache-Control": "private, max-age=3600"}
    if got is None:
        return Response(basemap.empty_png(), media_type="image/png", headers=headers)
    data, media = got
    return Response(data, media_type=media, headers=headers)
