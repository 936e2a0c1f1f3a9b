"""CLI: census from GeoTIFFs (vertical, LOS, lon/lat), bad input leaves no output, review, vegetation, PV."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import pytest
import rasterio
from shapely.geometry import LineString, box, mapping, shape
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.geo import transform_geometry
from subsidence.science import pim
from tests.census.synth import X0, Y0, bowl, grid

runner = CliRunner()


def _tif(path, arr, g, tags=None, nodata=None):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[1],
        height=arr.shape[0],
        count=1,
        dtype="float32",
        crs=g.crs.to_wkt(),
        transform=g.transform,
        nodata=nodata,
    ) as ds:
        ds.write(arr.astype("float32"), 1)
        if tags:
            ds.update_tags(**tags)
    return path


def _geojson(path, feats):
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4546"}},
                "features": [{"type": "Feature", "properties": p, "geometry": mapping(g)} for g, p in feats],
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def scene(tmp_path):
    g = grid(200)
    w = bowl(g, X0 + 600, Y0 - 2000, 900, 400, 1200, 100) + bowl(g, X0 + 4200, Y0 - 1500, 600, 400, 800, 100)
    mines = _geojson(
        tmp_path / "mines.geojson",
        [(box(X0, Y0 - 6000, X0 + 3000, Y0), {"licence_no": "C150000-A", "name_zh": "甲煤矿"})],
    )
    towns = _geojson(
        tmp_path / "towns.geojson",
        [(box(X0 - 1000, Y0 - 7000, X0 + 7000, Y0 + 1000), {"code": "T-ALTX", "name_zh": "阿勒腾席热镇"})],
    )
    panels = _geojson(
        tmp_path / "panels.geojson",
        [
            (
                box(X0 + 600, Y0 - 2000, X0 + 1500, Y0 - 1600),
                {"code": "A-101", "mine_licence": "C150000-A", "end_date": "2022-06-01"},
            )
        ],
    )
    return g, w, mines, towns, panels


def _json(res):
    """The JSON document on stdout (log lines, if the logging handler writes to stdout, come before it)."""
    text = res.stdout
    for m in re.finditer(r"^[\[{]", text, re.M):
        try:
            return json.loads(text[m.start() :])
        except json.JSONDecodeError:
            continue
    raise AssertionError(f"no JSON on stdout: {text}")


def _run(*args):
    res = runner.invoke(app, [str(a) for a in args])
    return res


def test_census_vertical_geotiff_with_layers(tmp_path, scene):
    g, w, mines, towns, panels = scene
    tif = _tif(
        tmp_path / "cum_20230101_20241001.tif", -w, g, tags={"UNIT": "mm", "DIRECTION": "up"}
    )  # vertical, positive up
    out = tmp_path / "areas.geojson"
    res = _run("census", tif, "--mines", mines, "--towns", towns, "--panels", panels, "--out", out, "--json")
    assert res.exit_code == 0, res.output
    fc = json.loads(out.read_text())
    assert fc["metadata"]["census_date"] == "2024-10-01"
    feats = sorted(fc["features"], key=lambda f: f["properties"]["area_ha"], reverse=True)
    assert len(feats) == 2
    for f in feats:
        for k in ("area_ha", "max_subsidence_mm", "volume_m3", "mines", "towns", "outside_mining_right"):
            assert k in f["properties"]
    inside = next(f for f in feats if f["properties"]["mines"])
    lone = next(f for f in feats if not f["properties"]["mines"])
    assert inside["properties"]["mines"] == ["C150000-A"] and inside["properties"]["panels"] == ["A-101"]
    assert inside["properties"]["towns"] == ["T-ALTX"] and not inside["properties"]["outside_mining_right"]
    assert lone["properties"]["outside_mining_right"] is True and lone["properties"]["beyond_licence"] is True
    # RFC 7946 lon/lat; area survives the round trip
    geom = shape(inside["geometry"])
    assert 100 < geom.bounds[0] < 120 and 30 < geom.bounds[1] < 45
    back = transform_geometry(geom, "EPSG:4326", "EPSG:4546")
    assert back.area / 1e4 == pytest.approx(inside["properties"]["area_ha"], rel=1e-4)


def test_census_los_and_lonlat_raster(tmp_path, scene):
    g, w, *_ = scene
    inc = 39.0
    los = _tif(tmp_path / "los.tif", -w * np.cos(np.deg2rad(inc)), g, tags={"UNIT": "mm"})
    out = tmp_path / "a.geojson"
    res = _run("census", los, "--incidence-deg", inc, "--out", out, "--json")
    assert res.exit_code == 0, res.output
    ref = {round(f["properties"]["area_ha"], 2) for f in json.loads(out.read_text())["features"]}
    # a plain GeoTIFF that states no direction is refused, never silently read as vertical (22 % low at 39°)
    res2 = _run("census", los, "--out", tmp_path / "b.geojson", "--json")
    assert res2.exit_code == 2 and "--quantity los" in res2.output and "--incidence-deg" in res2.output
    assert not (tmp_path / "b.geojson").exists()
    # read as vertical on purpose: smaller, different areas
    res2 = _run("census", los, "--quantity", "vertical", "--out", tmp_path / "b.geojson", "--json")
    assert _json(res2)["total_area_ha"] < sum(ref)
    # the same scene delivered in CGCS2000 lon/lat is reprojected to a metric CRS before measuring
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    tf, wd, ht = calculate_default_transform(
        g.crs.to_wkt(), "EPSG:4490", g.shape[1], g.shape[0], *rasterio.transform.array_bounds(*g.shape, g.transform)
    )
    ll = np.full((ht, wd), np.nan, dtype="float32")
    reproject(
        (-w).astype("float32"),
        ll,
        src_transform=g.transform,
        src_crs=g.crs.to_wkt(),
        dst_transform=tf,
        dst_crs="EPSG:4490",
        resampling=Resampling.bilinear,
        dst_nodata=np.nan,
    )
    lltif = tmp_path / "lonlat.tif"
    with rasterio.open(
        lltif,
        "w",
        driver="GTiff",
        width=wd,
        height=ht,
        count=1,
        dtype="float32",
        crs="EPSG:4490",
        transform=tf,
        nodata=np.nan,
    ) as ds:
        ds.write(ll, 1)
        ds.update_tags(UNIT="mm", DIRECTION="up")
    out3 = tmp_path / "c.geojson"
    res3 = _run("census", lltif, "--out", out3, "--json")
    assert res3.exit_code == 0, res3.output
    fc = json.loads(out3.read_text())
    assert "reprojected" in " ".join(fc["metadata"]["notes"])
    got = sorted(f["properties"]["area_ha"] for f in fc["features"])
    # two bilinear resamplings (the test's, the reader's) move the 10 mm line by well under a pixel (30 m)
    assert got == pytest.approx(sorted(ref), rel=0.08)


def test_bad_inputs_leave_no_output(tmp_path, scene):
    g, w, *_ = scene
    out = tmp_path / "x.geojson"
    nan = _tif(tmp_path / "nan.tif", np.full(g.shape, np.nan), g, tags={"UNIT": "mm", "DIRECTION": "up"})
    r = _run("census", nan, "--out", out)
    assert r.exit_code == 2 and "no data" in r.output and not out.exists()
    bad = tmp_path / "corrupt.tif"
    bad.write_bytes(b"II*\x00garbage" * 10)
    r = _run("census", bad, "--out", out)
    assert r.exit_code == 2 and "corrupt.tif" in r.output and not out.exists()
    metres = _tif(tmp_path / "metres.tif", -w / 1000.0, g, tags={"DIRECTION": "up"})
    r = _run("census", metres, "--out", out)
    assert r.exit_code == 2 and "--units mm|cm|m" in r.output and "metres?" in r.output and not out.exists()
    # no unit tag and values that look like mm: still refused (a cm file would be 10x too small), never guessed
    cm = _tif(tmp_path / "cm.tif", -w / 10.0, g, tags={"DIRECTION": "up"})
    r = _run("census", cm, "--out", out)
    assert r.exit_code == 2 and "no UNIT tag" in r.output and "--units mm|cm|m" in r.output and not out.exists()
    r = _run("census", metres, "--units", "m", "--out", out)
    assert r.exit_code == 0 and out.exists()
    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(nocrs, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32") as ds:
        ds.write(np.ones((10, 10), dtype="float32"), 1)
    out2 = tmp_path / "y.geojson"
    r = _run("census", nocrs, "--out", out2)
    assert r.exit_code == 2 and "no CRS" in r.output and not out2.exists()
    r = _run("census", tmp_path / "missing.tif", "--out", out2)
    assert r.exit_code == 2 and "not found" in r.output


def test_save_review_change_pv_via_cli(tmp_path, scene, cli_database):
    g, w, mines, towns, panels = scene
    from shapely.geometry import MultiPolygon

    from subsidence.cli._common import ready_engine
    from subsidence.core.models import AdminArea, Mine, Panel, Unit
    from subsidence.db.session import transaction
    from subsidence.vocabulary import AreaLevel, UnitKind

    with transaction(ready_engine(), "setup") as s:
        t = AdminArea(
            code="T-ALTX",
            name_zh="阿勒腾席热镇",
            level=AreaLevel.TOWN,
            geometry=MultiPolygon([box(X0 - 1000, Y0 - 7000, X0 + 7000, Y0 + 1000)]),
        )
        s.add_all([t, Unit(code="NRB", name_zh="自然资源局", kind=UnitKind.BUREAU)])
        m = Mine(licence_no="C150000-A", name_zh="甲煤矿", geometry=MultiPolygon([box(X0, Y0 - 6000, X0 + 3000, Y0)]))
        s.add(m)
        s.flush()
        s.add(
            Panel(
                code="A-101",
                mine_id=m.id,
                thickness_m=4,
                depth_dip_m=200,
                depth_rise_m=200,
                start_date=date(2021, 1, 1),
                end_date=date(2022, 6, 1),
                geometry=box(X0 + 600, Y0 - 2000, X0 + 1500, Y0 - 1600),
            )
        )
    tif = _tif(tmp_path / "cum_20240101.tif", -w, g, tags={"UNIT": "mm", "DIRECTION": "up"})
    r = _run(
        "census",
        tif,
        "--mines",
        "db",
        "--towns",
        "db",
        "--panels",
        "db",
        "--out",
        tmp_path / "a.geojson",
        "--save",
        "--json",
        "--no-fill",
    )
    assert r.exit_code == 0, r.output
    code = _json(r)["census"]
    assert code == "CEN-20240101-01"
    r = _run("review", "list", "--census", code, "--json")
    rows = _json(r)
    assert len(rows) == 2 and {x["state"] for x in rows} == {"candidate"}
    inside = next(x for x in rows if not x["outside_mining_right"])
    r = _run(
        "review",
        "confirm",
        inside["code"],
        "--reviewer",
        "自然资源局 专家组",
        "--reason",
        "现场核实",
        "--date",
        "2024-10-15",
    )
    assert r.exit_code == 0, r.output
    out = _json(r)
    assert out["problem_created"] and out["problem"].startswith("TZ-2024-")
    r = _run("review", "confirm", inside["code"], "--reviewer", "x", "--reason", "y")
    assert r.exit_code == 2 and "only candidates" in r.output
    r = _run("review", "reject", "NOPE", "--reviewer", "x", "--reason", "y")
    assert r.exit_code == 2 and "not found" in r.output
    # a second census, then the change
    tif2 = _tif(tmp_path / "cum_20241001.tif", -(w * 1.5), g, tags={"UNIT": "mm", "DIRECTION": "up"})
    r = _run("census", tif2, "--out", tmp_path / "b.geojson", "--save", "--json", "--no-fill")
    code2 = _json(r)["census"]
    r = _run("census-change", code, code2, "--json", "--out", tmp_path / "change.geojson")
    assert r.exit_code == 0, r.output
    assert all("grown" in c["change"] for c in _json(r))
    r = _run("pv", "--out", tmp_path / "pv.geojson", "--table", tmp_path / "pv.csv", "--as-of", "2024-10-15", "--json")
    assert r.exit_code == 0, r.output
    assert _json(r)["candidates"] == 0  # the confirmed area has no stability stage yet: not stable
    assert (tmp_path / "pv.csv").read_text(encoding="utf-8-sig").startswith("镇 town")


def test_vegetation_cli(tmp_path, scene):
    _, _, mines, towns, panels = scene
    g = grid(100, px=10.0)
    red1 = np.full(g.shape, 0.05 * 10000 + 1000)  # Sentinel-2 baseline ≥ 04.00 DN with the −1000 offset
    nir1 = np.full(g.shape, 0.35 * 10000 + 1000)
    red2, nir2 = red1.copy(), nir1.copy()
    nir2[20:40, 10:50] = 0.12 * 10000 + 1000  # NDVI 0.75 → ~0.41: loss of 8 ha
    paths = []
    for name, arr in (("red_20230801", red1), ("nir_20230801", nir1), ("red_20240801", red2), ("nir_20240801", nir2)):
        paths.append(
            _tif(
                tmp_path / f"{name}.tif", arr, g, tags={"BOA_ADD_OFFSET": "-1000", "BOA_QUANTIFICATION_VALUE": "10000"}
            )
        )
    out = tmp_path / "veg.geojson"
    r = _run("vegetation", *paths, "--mines", mines, "--towns", towns, "--panels", panels, "--out", out, "--json")
    assert r.exit_code == 0, r.output
    s = _json(r)
    assert s["loss_ha"] == pytest.approx(8.0) and s["recovery_ha"] == 0
    assert s["per_town_ha"]["T-ALTX"]["loss"] == pytest.approx(8.0)
    assert s["per_mine_ha"]["C150000-A"]["loss"] == pytest.approx(8.0)
    f = json.loads(out.read_text())["features"][0]["properties"]
    assert f["kind"] == "loss" and f["mean_delta_ndvi"] == pytest.approx((0.12 - 0.05) / 0.17 - 0.3 / 0.4, abs=1e-3)
    r = _run("vegetation", paths[2], paths[3], paths[0], paths[1], "--out", tmp_path / "v2.geojson")
    assert r.exit_code == 2 and "earlier" in r.output and not (tmp_path / "v2.geojson").exists()


def test_census_fills_decorrelated_centre_from_panel_file(tmp_path):
    g = grid(140)
    outline = box(X0 + 1500, Y0 - 2250, X0 + 2700, Y0 - 1950)
    panel = pim.PanelGeometry(outline=outline, thickness_m=4.0, depth_dip_m=220.0, name="P1")
    x, y = g.centres()
    w = pim.predict_points([panel], pim.PIMParams(q=0.7, tan_beta=2.4), x, y, components=("subsidence_mm",)).component(
        "subsidence_mm"
    )
    obs = np.where(w > 0.4 * w.max(), np.nan, w)
    tif = _tif(tmp_path / "cum.tif", obs, g, tags={"UNIT": "mm"}, nodata=np.nan)
    panels = _geojson(tmp_path / "panels.geojson", [(outline, {"code": "P1", "thickness_m": 4.0, "depth_m": 220.0})])
    out = tmp_path / "a.geojson"
    r = _run("census", tif, "--quantity", "subsidence", "--panels", panels, "--out", out, "--json")
    assert r.exit_code == 0, r.output
    assert _json(r)["filled"] == 1
    p = json.loads(out.read_text())["features"][0]["properties"]
    assert p["filled_fraction"] > 0.2 and p["max_is_lower_bound"] is False
    assert p["max_subsidence_mm"] == pytest.approx(w.max(), rel=0.02)
    r = _run("census", tif, "--quantity", "subsidence", "--no-fill", "--out", out, "--json")
    p = json.loads(out.read_text())["features"][0]["properties"]
    assert p["filled_fraction"] == 0 and p["max_is_lower_bound"] is True


def test_review_merge_and_split_via_cli(tmp_path, cli_database):
    g = grid(200)
    w = bowl(g, X0 + 600, Y0 - 2000, 900, 400, 1200, 100) + bowl(g, X0 + 600, Y0 - 2900, 900, 400, 1000, 100)
    tif = _tif(tmp_path / "cum_20240601.tif", w, g, tags={"UNIT": "mm"})
    r = _run("census", tif, "--quantity", "subsidence", "--out", tmp_path / "a.geojson", "--save", "--json")
    assert r.exit_code == 0, r.output
    rows = _json(_run("review", "list", "--state", "待评审", "--json"))
    assert len(rows) == 2
    r = _run("review", "merge", rows[0]["code"], rows[1]["code"], "--reviewer", "专家组", "--reason", "同一采区")
    assert r.exit_code == 0, r.output
    merged = _json(r)["areas"][0]
    assert merged["parents"] == [rows[0]["code"], rows[1]["code"]]
    line = _geojson(tmp_path / "line.geojson", [(LineString([(X0, Y0 - 2250), (X0 + 3000, Y0 - 2250)]), {})])
    r = _run("review", "split", merged["code"], "--by", line, "--reviewer", "专家组", "--reason", "分别治理")
    assert r.exit_code == 0, r.output
    parts = _json(r)["areas"]
    assert len(parts) == 2 and sum(p["area_ha"] for p in parts) == pytest.approx(merged["area_ha"])
    states = {x["code"]: x["state"] for x in _json(_run("review", "list", "--json"))}
    assert states[merged["code"]] == "split" and states[rows[0]["code"]] == "merged"
    r = _run("review", "list", "--state", "nonsense")
    assert r.exit_code == 2 and "is not one of" in r.output


def test_census_with_rate_map_gives_stage(tmp_path):
    g = grid(120)
    w = bowl(g, X0 + 600, Y0 - 2000, 900, 400, 600, 100)
    cum = _tif(tmp_path / "cum_20230101_20240101.tif", w, g, tags={"UNIT": "mm"})
    vel = _tif(tmp_path / "vel.tif", np.where(w > 10, 40.0, 0.0), g, tags={"UNIT": "mm/year"})
    out = tmp_path / "a.geojson"
    r = _run("census", cum, "--quantity", "subsidence", "--rate", vel, "--out", out)
    assert r.exit_code == 0, r.output
    p = json.loads(out.read_text())["features"][0]["properties"]
    assert p["stability"] == "stable" and p["mean_rate_mm_per_yr"] == pytest.approx(40.0)
    small = _tif(tmp_path / "vel_small.tif", np.zeros((50, 50)), grid(50), tags={"UNIT": "mm/year"})
    r = _run("census", cum, "--quantity", "subsidence", "--rate", small, "--out", tmp_path / "b.geojson")
    assert r.exit_code == 2 and "not on the grid" in r.output and not (tmp_path / "b.geojson").exists()
