"""OGC API – Features (what QGIS reads) and the map layers: CRS84, bbox, paging, GeoPackage."""

from __future__ import annotations

import pyogrio
import pytest

from tests.web.conftest import auth


def test_landing_conformance_collections(client, world):
    h = auth(world, "office")
    land = client.get("/ogc").json()
    rels = {lk["rel"] for lk in land["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    cols = client.get("/ogc/collections", headers=h).json()["collections"]
    ids = {c["id"] for c in cols}
    assert {"towns", "mining_rights", "panels", "subsidence_areas", "hazard_points", "wells", "buildings"} <= ids
    one = client.get("/ogc/collections/mining_rights", headers=h).json()
    lon0, lat0, lon1, lat1 = one["extent"]["spatial"]["bbox"][0]
    assert 109 < lon0 < lon1 < 111 and 39 < lat0 < lat1 < 40.5
    assert client.get("/ogc/collections/nope", headers=h).status_code == 404


def test_items_crs84_bbox_paging(client, world):
    h = auth(world, "office")
    r = client.get("/ogc/collections/subsidence_areas/items", headers=h)
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["numberMatched"] == 2 and fc["numberReturned"] == 2
    for f in fc["features"]:
        for lon, lat in f["geometry"]["coordinates"][0][0]:
            assert 109 < lon < 111 and 39 < lat < 40.5
    # bbox around mine A only
    ma = next(
        f
        for f in client.get("/ogc/collections/mining_rights/items", headers=h).json()["features"]
        if f["properties"]["code"] == "C-A-001"
    )
    xs = [c[0] for c in ma["geometry"]["coordinates"][0][0]]
    ys = [c[1] for c in ma["geometry"]["coordinates"][0][0]]
    bbox = f"{min(xs) - 0.001},{min(ys) - 0.001},{max(xs) + 0.001},{max(ys) + 0.001}"
    got = client.get(f"/ogc/collections/subsidence_areas/items?bbox={bbox}", headers=h).json()
    assert [f["properties"]["code"] for f in got["features"]] == ["SA-A"]
    page = client.get("/ogc/collections/subsidence_areas/items?limit=1", headers=h).json()
    assert page["numberReturned"] == 1 and any(lk["rel"] == "next" for lk in page["links"])
    page2 = client.get("/ogc/collections/subsidence_areas/items?limit=1&offset=1", headers=h).json()
    assert page2["features"][0]["id"] != page["features"][0]["id"]
    one = client.get(f"/ogc/collections/subsidence_areas/items/{page['features'][0]['id']}", headers=h)
    assert one.status_code == 200 and one.json()["type"] == "Feature"


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "10,50,5,40", "0,0,0,nan"])
def test_bad_bbox(client, world, bbox):
    r = client.get(f"/ogc/collections/towns/items?bbox={bbox}", headers=auth(world, "office"))
    assert r.status_code == 422 and "bbox" in r.json()["message"]


def test_layer_filters_and_labels(client, world):
    h = auth(world, "office")
    fc = client.get("/api/layers/subsidence_areas?review_state=confirmed", headers=h).json()
    assert [f["properties"]["code"] for f in fc["features"]] == ["SA-A"]
    assert fc["features"][0]["properties"]["review_state_label"] == "专家确认"
    en = client.get("/api/layers/subsidence_areas?review_state=confirmed&lang=en", headers=h).json()
    assert en["features"][0]["properties"]["review_state_label"] == "confirmed"
    hp = client.get("/api/layers/hazard_points?hazard_type=collapse", headers=h).json()
    assert [f["properties"]["code"] for f in hp["features"]] == ["HB"]
    assert client.get("/api/layers/hazard_points?hazard_type=meteor", headers=h).status_code == 422


def test_geopackage_download(client, world, tmp_path):
    r = client.get("/api/layers/mining_rights.gpkg", headers=auth(world, "enterprise_a"))
    assert r.status_code == 200
    path = tmp_path / "m.gpkg"
    path.write_bytes(r.content)
    info = pyogrio.read_info(path)
    assert info["features"] == 1 and "4546" in info["crs"]
    _, _, geoms, fields = pyogrio.raw.read(path)
    names = list(info["fields"])
    assert fields[names.index("code")][0] == "C-A-001"
    r = client.get("/api/layers/subsidence_areas.gpkg", headers=auth(world, "monitor"))
    assert r.status_code == 404  # nothing the monitor may see in that layer
