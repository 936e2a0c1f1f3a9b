"""Battle-map layers: the list of layers and each layer as GeoJSON (CRS84) or a GeoPackage download."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from subsidence.access import policy as authz
from subsidence.api.cache import cached_response, store_response
from subsidence.api.deps import CurrentUser, IdQuery, Lang, SessionDep, Today
from subsidence.mapping import layers

router = APIRouter(prefix="/api/layers", tags=["map"])

_FILTER_PARAMS = (
    "review_state",
    "stability",
    "town_id",
    "mine_id",
    "enterprise_id",
    "status",
    "hazard_type",
    "demolition_status",
)


def layer_filters(request: Request, layer: layers.LayerDef) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in layer.filters}


@router.get("", summary="图层目录 / the layers you may see")
def list_layers(actor: CurrentUser, lang: Lang) -> dict:
    out = []
    for lid, layer in layers.layer_defs().items():
        if authz.policy(layer.resource).allows_role(actor, "read"):
            out.append(
                {
                    "id": lid,
                    "title": layer.title(lang),
                    "title_zh": layer.title_zh,
                    "title_en": layer.title_en,
                    "geometry_type": layer.geometry_type,
                    "filters": list(layer.filters),
                    "url": f"/api/layers/{lid}",
                    "gpkg": f"/api/layers/{lid}.gpkg",
                }
            )
    if authz.policy("problem").allows_role(actor, "read"):
        out.append(
            {
                "id": "problems",
                "title": "问题台账（按状态、逾期）" if lang.startswith("zh") else "Problems (state, overdue)",
                "title_zh": "问题台账（按状态、逾期）",
                "title_en": "Problems (state, overdue)",
                "geometry_type": "Point",
                "filters": [],
                "url": "/api/layers/problems",
                "gpkg": "/api/problems?format=xlsx",
            }
        )
    return {"layers": out}


@router.get("/problems", summary="问题图层（按状态和是否逾期着色）/ problems as points (state, overdue)")
def problems_layer(request: Request, session: SessionDep, actor: CurrentUser, lang: Lang, today: Today) -> Response:
    """One point per problem in the caller's scope, at its subsidence area, mine or town."""
    from subsidence.mapping.problems import problem_features

    authz.authorize_action(actor, "read", "problem")
    if (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    return store_response(
        request,
        session,
        actor,
        lang,
        today,
        JSONResponse(problem_features(session, actor, today=today, lang=lang), media_type="application/geo+json"),
    )


@router.get("/{layer_id}.gpkg", summary="图层下载（GeoPackage）/ layer as GeoPackage (EPSG:4546)")
def layer_gpkg(layer_id: str, session: SessionDep, actor: CurrentUser, lang: Lang) -> Response:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{layer_id}.gpkg"
        layers.write_geopackage(session, actor, layer_id, path, lang)
        data = path.read_bytes()
    return Response(
        data,
        media_type="application/geopackage+sqlite3",
        headers={"Content-Disposition": f'attachment; filename="{layer_id}.gpkg"'},
    )


@router.get("/{layer_id}", summary="图层要素（GeoJSON，CRS84）/ layer features as GeoJSON")
def layer_geojson(
    layer_id: str,
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    lang: Lang,
    today: Today,
    bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat")] = None,
    limit: Annotated[int, Query(ge=1, le=layers.MAX_LIMIT)] = layers.MAX_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    review_state: Annotated[str | None, Query(max_length=40)] = None,
    stability: Annotated[str | None, Query(max_length=40)] = None,
    town_id: IdQuery = None,
    mine_id: IdQuery = None,
    hazard_type: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Filters apply where the layer has them (see the layer list); others are ignored."""
    layer = layers.get_layer(layer_id)
    if (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    page = layers.query_layer(
        session,
        actor,
        layer_id,
        bbox=layers.parse_bbox(bbox),
        limit=limit,
        offset=offset,
        filters=layer_filters(request, layer),
        lang=lang,
    )
    return store_response(
        request,
        session,
        actor,
        lang,
        today,
        JSONResponse(layers.feature_collection(page), media_type="application/geo+json"),
    )
