"""OGC API – Features, Part 1 (Core + GeoJSON), so QGIS can add the battle-map layers directly.

Landing page ``/ogc``, conformance, collections (one per map layer), items with ``bbox``, ``limit`` and
``offset``, single items; GeoJSON in CRS84. Authentication as for the API (QGIS: a bearer token in an
HTTP header, or basic auth via a session is not supported).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, Lang, SessionDep
from subsidence.errors import NotFound
from subsidence.mapping import layers

router = APIRouter(prefix="/ogc", tags=["ogc"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
GEOJSON = "application/geo+json"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _collection(request: Request, session, actor, layer: layers.LayerDef, lang: str, with_extent: bool) -> dict:
    base = _base(request)
    out = {
        "id": layer.id,
        "title": layer.title(lang),
        "description": layer.description or layer.title_en,
        "itemType": "feature",
        "crs": [layers.CRS84],
        "links": [
            {"href": f"{base}/ogc/collections/{layer.id}", "rel": "self", "type": "application/json"},
            {
                "href": f"{base}/ogc/collections/{layer.id}/items",
                "rel": "items",
                "type": GEOJSON,
                "title": layer.title(lang),
            },
            {
                "href": f"{base}/api/layers/{layer.id}.gpkg",
                "rel": "enclosure",
                "type": "application/geopackage+sqlite3",
                "title": "GeoPackage (EPSG:4546)",
            },
        ],
    }
    if with_extent:
        bbox = layers.layer_extent(session, actor, layer.id)
        if bbox:
            out["extent"] = {"spatial": {"bbox": [bbox], "crs": layers.CRS84}}
    return out


def _visible_layers(actor) -> list[layers.LayerDef]:
    return [ld for ld in layers.layer_defs().values() if authz.policy(ld.resource).allows_role(actor, "read")]


@router.get("", summary="OGC API 着陆页 / landing page")
def landing(request: Request) -> dict:
    base = _base(request)
    return {
        "title": "采煤沉陷区挂图作战 / Subsidence battle map – OGC API Features",
        "description": "Map layers of the subsidence governance system (CRS84 GeoJSON).",
        "links": [
            {"href": f"{base}/ogc", "rel": "self", "type": "application/json", "title": "this document"},
            {
                "href": f"{base}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "title": "the API definition",
            },
            {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html", "title": "API documentation"},
            {"href": f"{base}/ogc/conformance", "rel": "conformance", "type": "application/json"},
            {"href": f"{base}/ogc/collections", "rel": "data", "type": "application/json"},
        ],
    }


@router.get("/conformance", summary="符合性声明 / conformance")
def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="要素集合 / collections")
def collections(request: Request, session: SessionDep, actor: CurrentUser, lang: Lang) -> dict:
    base = _base(request)
    return {
        "links": [{"href": f"{base}/ogc/collections", "rel": "self", "type": "application/json"}],
        "collections": [_collection(request, session, actor, ld, lang, False) for ld in _visible_layers(actor)],
    }


def _layer_for(actor, collection_id: str) -> layers.LayerDef:
    layer = layers.get_layer(collection_id)
    if not authz.policy(layer.resource).allows_role(actor, "read"):
        raise NotFound(f"collection {collection_id!r} not found")
    return layer


@router.get("/collections/{collection_id}", summary="要素集合描述 / a collection")
def collection(collection_id: str, request: Request, session: SessionDep, actor: CurrentUser, lang: Lang) -> dict:
    return _collection(request, session, actor, _layer_for(actor, collection_id), lang, True)


@router.get(
    "/collections/{collection_id}/items", summary="要素 / features (GeoJSON, CRS84)", response_class=JSONResponse
)
def items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    lang: Lang,
    bbox: Annotated[str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat")] = None,
    limit: Annotated[int, Query(ge=1, le=layers.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    layer = _layer_for(actor, collection_id)
    page = layers.query_layer(
        session, actor, layer.id, bbox=layers.parse_bbox(bbox), limit=limit, offset=offset, lang=lang
    )
    fc = layers.feature_collection(page)
    base = _base(request)
    q = f"limit={limit}" + (f"&bbox={bbox}" if bbox else "")
    links = [
        {"href": f"{base}/ogc/collections/{layer.id}/items?{q}&offset={offset}", "rel": "self", "type": GEOJSON},
        {"href": f"{base}/ogc/collections/{layer.id}", "rel": "collection", "type": "application/json"},
    ]
    if offset + fc["numberReturned"] < fc["numberMatched"]:
        links.append(
            {
                "href": f"{base}/ogc/collections/{layer.id}/items?{q}&offset={offset + limit}",
                "rel": "next",
                "type": GEOJSON,
            }
        )
    if offset > 0:
        links.append(
            {
                "href": f"{base}/ogc/collections/{layer.id}/items?{q}&offset={max(0, offset - limit)}",
                "rel": "prev",
                "type": GEOJSON,
            }
        )
    from subsidence.db.base import utcnow

    fc.update(links=links, timeStamp=utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"))
    return JSONResponse(fc, media_type=GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="单个要素 / one feature")
def item(collection_id: str, feature_id: IdPath, request: Request, session: SessionDep, actor: CurrentUser, lang: Lang):
    layer = _layer_for(actor, collection_id)
    feat = layers.feature_collection(layers.get_feature(session, actor, layer.id, feature_id, lang))["features"][0]
    base = _base(request)
    feat["links"] = [
        {"href": f"{base}/ogc/collections/{layer.id}/items/{feature_id}", "rel": "self", "type": GEOJSON},
        {"href": f"{base}/ogc/collections/{layer.id}", "rel": "collection", "type": "application/json"},
    ]
    return JSONResponse(feat, media_type=GEOJSON)
