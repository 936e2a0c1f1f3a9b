"""CLI: predict / invert / stability / damage on tiny files in tmp_path."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.io.raster import read_geotiff, transform_from_axes, write_geotiff

runner = CliRunner()
X0, Y0 = 500_000.0, 4_380_000.0  # EPSG:4546 (CGCS2000 GK CM 111E)


def rect(cx, cy, length, width):
    return [
        [cx - length / 2, cy - width / 2],
        [cx + length / 2, cy - width / 2],
        [cx + length / 2, cy + width / 2],
        [cx - length / 2, cy + width / 2],
        [cx - length / 2, cy - width / 2],
    ]


def write_panels(path, features, epsg=4546):
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}},
        "features": [
            {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}
            for ring, props in features
        ],
    }
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    panels = write_panels(
        tmp_path / "panels.geojson",
        [
            (
                rect(X0, Y0, 800, 200),
                {
                    "code": "P1",
                    "thickness_m": 3.0,
                    "depth_m": 150.0,
                    "dip_deg": 0.0,
                    "dip_azimuth_deg": 0.0,
                    "start_date": "2024-01-01",
                    "advance_m_per_day": 10.0,
                },
            ),
            (
                rect(X0 + 50, Y0 + 220, 800, 200),
                {
                    "code": "P2",
                    "thickness_m": 2.5,
                    "depth_dip_m": 160.0,
                    "depth_rise_m": 150.0,
                    "dip_deg": 3.0,
                    "dip_azimuth_deg": 180.0,
                },
            ),
        ],
    )
    params = tmp_path / "params.json"
    params.write_text(
        json.dumps(
            {
                "q": 0.7,
                "tan_beta": 2.2,
                "b": 0.3,
                "theta0_deg": 88.0,
                "s_m": 10.0,
                "time_function": {"kind": "improved_knothe", "k": 2.0},
            }
        )
    )
    pts = tmp_path / "pts.csv"
    rng = np.random.default_rng(0)
    with pts.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "x", "y"])
        for i in range(60):
            w.writerow([f"BM{i}", X0 + rng.uniform(-700, 700), Y0 + rng.uniform(-400, 600)])
    return tmp_path, panels, params, pts


def test_predict_grid_and_points(files):
    tmp, panels, params, pts = files
    out = tmp / "pred.tif"
    res = runner.invoke(
        app,
        [
            "predict",
            str(panels),
            "--params",
            str(params),
            "--spacing",
            "20",
            "--out",
            str(out),
            "--points",
            str(pts),
            "--points-out",
            str(tmp / "p.csv"),
            "--azimuth",
            "45",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    rd = read_geotiff(out, require_metric=True)
    assert rd.crs.to_epsg() == 4546
    assert rd.names[0] == "subsidence_mm" and "strain_max_mm_per_m" in rd.names
    assert rd.units[0] == "mm" and rd.units[rd.names.index("curvature_x_1e-3_per_m")] == "1e-3/m"
    w = rd.band("subsidence_mm")
    assert 1000 < np.nanmax(w) < 3000 * 0.7 * 1.001
    rows = list(csv.DictReader((tmp / "p.csv").open()))
    assert list(rows[0])[:3] == ["x", "y", "id"] and "subsidence_mm" in rows[0] and "tilt_az45_mm_per_m" in rows[0]
    # point values agree with the raster at the nearest cell within the cell's variation
    summary = json.loads(res.output[res.output.index("{") :])
    assert summary["points"] == 60 and summary["max"]["subsidence_mm"] == pytest.approx(np.nanmax(w), rel=1e-6)


def test_predict_at_date_is_smaller(files):
    tmp, panels, params, _ = files
    a, b = tmp / "a.tif", tmp / "b.tif"
    assert (
        runner.invoke(
            app,
            [
                "predict",
                str(panels),
                "--params",
                str(params),
                "--out",
                str(a),
                "--spacing",
                "25",
                "--component",
                "subsidence_mm",
            ],
        ).exit_code
        == 0
    )
    r = runner.invoke(
        app,
        [
            "predict",
            str(panels),
            "--params",
            str(params),
            "--out",
            str(b),
            "--spacing",
            "25",
            "--component",
            "subsidence_mm",
            "--at",
            "2024-01-30",
        ],
    )
    assert r.exit_code == 0, r.output
    wa, wb = read_geotiff(a).band("subsidence_mm"), read_geotiff(b).band("subsidence_mm")
    assert wb.shape == wa.shape and np.nanmax(wb) < np.nanmax(wa) and np.nanmax(wb) > 0
    assert read_geotiff(b).names == ["subsidence_mm", "subsidence_rate_mm_per_day"]
    rate = read_geotiff(b).band("subsidence_rate_mm_per_day")
    assert np.nanmax(rate) > 1.0 and np.nanmin(rate) >= 0.0


@pytest.mark.parametrize(
    "case,match",
    [
        ("geographic", "geographic"),
        ("thickness", "row 1: panel 'P1': thickness_m"),
        ("q", "q=2.0"),
        ("memory", "budget"),
        ("depth", "depth_m"),
    ],
)
def test_predict_bad_input(files, case, match):
    tmp, panels, params, _ = files
    if case == "geographic":
        panels = write_panels(
            tmp / "geo.geojson", [(rect(110.0, 39.5, 0.01, 0.003), {"thickness_m": 3.0, "depth_m": 150.0})], epsg=4326
        )
    elif case == "thickness":
        panels = write_panels(
            tmp / "bad.geojson", [(rect(X0, Y0, 800, 200), {"code": "P1", "thickness_m": -1.0, "depth_m": 150.0})]
        )
    elif case == "depth":
        panels = write_panels(tmp / "bad.geojson", [(rect(X0, Y0, 800, 200), {"thickness_m": 2.0})])
    elif case == "q":
        params.write_text(json.dumps({"q": 2.0, "tan_beta": 2.2}))
    extra = ["--memory-mb", "1"] if case == "memory" else []
    out = tmp / "x.tif"
    res = runner.invoke(app, ["predict", str(panels), "--params", str(params), "--out", str(out), *extra])
    assert res.exit_code == 2
    assert match in res.output
    assert not out.exists()


def test_invert_points_csv_roundtrip(files):
    tmp, panels, params, pts = files
    obs = tmp / "obs.csv"
    assert (
        runner.invoke(
            app,
            [
                "predict",
                str(panels),
                "--params",
                str(params),
                "--out",
                str(tmp / "p.tif"),
                "--spacing",
                "50",
                "--points",
                str(pts),
                "--points-out",
                str(obs),
            ],
        ).exit_code
        == 0
    )
    out = tmp / "fit.json"
    start = tmp / "start.json"  # b, theta0, s as in the truth; q and tanβ 30 % off
    start.write_text(json.dumps({"q": 0.5, "tan_beta": 2.9, "b": 0.3, "theta0_deg": 88.0, "s_m": 10.0}))
    res = runner.invoke(
        app,
        [
            "invert",
            str(obs),
            "--panels",
            str(panels),
            "--out",
            str(out),
            "--fit",
            "q,tan_beta",
            "--starts",
            "2",
            "--initial",
            str(start),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    # observed columns here are displacement_x_mm etc., only subsidence_mm is read: vertical-only data
    assert data["q"] == pytest.approx(0.7, rel=1e-3) and data["tan_beta"] == pytest.approx(2.2, rel=1e-3)
    assert "std" in data["inversion"]


def test_invert_los_geotiff_fixes_b(files):
    from subsidence.prediction.service import load_panels_file
    from subsidence.science import inversion, pim

    tmp, panels, params, _ = files
    pset = load_panels_file(panels)
    prm = pim.PIMParams(q=0.7, tan_beta=2.2, b=0.3, theta0_deg=88.0, s_m=10.0)
    x, y = pim.grid_axes((X0 - 700, Y0 - 500, X0 + 700, Y0 + 700), 40.0)
    f = pim.predict_grid(pset.panels, prm, x, y, components=["subsidence_mm", "displacement_x_mm", "displacement_y_mm"])
    u = inversion.los_unit_vector(39.0, 190.0)
    los = (f.base["ux"] * u[0] + f.base["uy"] * u[1] - f.W * u[2]) / 1000.0  # metres, like MintPy
    tif = tmp / "los.tif"
    write_geotiff(tif, {"los_m": los}, transform=transform_from_axes(x, y), crs="EPSG:4546", units={"los_m": "m"})
    out = tmp / "fit.json"
    res = runner.invoke(
        app,
        [
            "invert",
            str(tif),
            "--panels",
            str(panels),
            "--out",
            str(out),
            "--incidence-deg",
            "39",
            "--heading-deg",
            "190",
            "--los-scale",
            "1000",
            "--fit",
            "q,tan_beta,b",
            "--starts",
            "2",
            "--initial",
            str(params),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert "b" in data["inversion"]["fixed"] and "cannot resolve b" in res.output
    assert data["q"] == pytest.approx(0.7, rel=0.01)


def test_stability_csv(tmp_path):
    dates = [f"2024-{m:02d}-01" for m in range(1, 13)] + [f"2025-{m:02d}-01" for m in range(1, 13)]
    series = tmp_path / "s.csv"
    with series.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["point_id", "x", "y", *dates])
        w.writerow(["A", 1, 2, *[0.0] * 24])
        w.writerow(["B", 3, 4, *[min(1500.0, 150.0 * k) for k in range(24)]])
        w.writerow(["C", 5, 6, *[100.0 * k for k in range(24)]])
    out = tmp_path / "st.csv"
    res = runner.invoke(app, ["stability", str(series), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["point_id"]: r for r in csv.DictReader(out.open())}
    assert rows["A"]["stage"] == "not_started"
    assert rows["B"]["stage"] == "stable" and rows["B"]["stable_from"] and rows["B"]["stage_zh"] == "稳定"
    assert rows["C"]["stage"] == "active" and rows["C"]["active_from"] == "2024-02-01"
    bad = runner.invoke(app, ["stability", str(series), "--out", str(out), "--active-rate", "0"])
    assert bad.exit_code == 2 and "active_rate" in bad.output


def test_stability_geotiff_stack(tmp_path):
    dates = ["2024-01-01", "2024-03-01", "2024-06-01", "2024-09-01", "2025-01-01", "2025-06-01"]
    vals = [0.0, 50.0, 400.0, 700.0, 720.0, 725.0]
    x, y = np.arange(3) * 10.0 + 5 + X0, Y0 - np.arange(2) * 10.0 - 5
    bands = {d: np.full((2, 3), v) for d, v in zip(dates, vals)}
    stack = tmp_path / "ts.tif"
    write_geotiff(stack, bands, transform=transform_from_axes(x, y), crs="EPSG:4546")
    out = tmp_path / "stage.tif"
    res = runner.invoke(app, ["stability", str(stack), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rd = read_geotiff(out)
    assert np.all(rd.band("stage_code") == 4)


def test_damage_cli(files):
    tmp, panels, params, _ = files
    pred = tmp / "pred.tif"
    assert (
        runner.invoke(
            app, ["predict", str(panels), "--params", str(params), "--out", str(pred), "--spacing", "10"]
        ).exit_code
        == 0
    )
    b = tmp / "b.geojson"
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4546"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"bid": "far"},
                "geometry": {"type": "Polygon", "coordinates": [rect(X0 + 3000, Y0 + 3000, 12, 8)]},
            },
            {
                "type": "Feature",
                "properties": {"bid": "edge"},
                "geometry": {"type": "Polygon", "coordinates": [rect(X0 - 400, Y0, 14, 10)]},
            },
            {
                "type": "Feature",
                "properties": {"bid": "centre"},
                "geometry": {"type": "Polygon", "coordinates": [rect(X0, Y0, 14, 10)]},
            },
        ],
    }
    b.write_text(json.dumps(fc))
    out = tmp / "dmg.csv"
    res = runner.invoke(app, ["damage", "--buildings", str(b), "--prediction", str(pred), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = {r["bid"]: r for r in csv.DictReader(out.open())}
    assert rows["far"]["damage_grade"] == ""  # outside the prediction raster
    assert rows["edge"]["damage_grade"] == "IV"  # over the panel edge: tilt ~ W0/r
    assert float(rows["edge"]["tilt_max_mm_per_m"]) > 10
    gpkg = tmp / "dmg.gpkg"
    assert (
        runner.invoke(app, ["damage", "--buildings", str(b), "--prediction", str(pred), "--out", str(gpkg)]).exit_code
        == 0
    )
    assert gpkg.exists()


def test_raster_refuses_geographic(tmp_path):
    from subsidence.io.raster import RasterError

    p = tmp_path / "g.tif"
    write_geotiff(
        p, {"a": np.zeros((2, 2))}, transform=transform_from_axes([110.0, 110.1], [39.1, 39.0]), crs="EPSG:4490"
    )
    with pytest.raises(RasterError, match="geographic"):
        read_geotiff(p, require_metric=True)
    assert read_geotiff(p).crs.to_epsg() == 4490


def test_stability_long_csv_and_bad_date(tmp_path, files):
    series = tmp_path / "long.csv"
    with series.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["point_id", "date", "subsidence_mm", "x", "y"])
        for m in range(1, 13):
            w.writerow(["P", f"2024-{m:02d}-15", 120.0 * m, 10, 20])
            w.writerow(["Q", f"2024-{m:02d}-15", 1.0, 30, 40])
    out = tmp_path / "o.csv"
    res = runner.invoke(app, ["stability", str(series), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = {r["point_id"]: r for r in csv.DictReader(out.open())}
    assert rows["P"]["stage"] == "active" and float(rows["P"]["last_rate_mm_per_day"]) == pytest.approx(4.0, rel=0.1)
    assert rows["Q"]["stage"] == "not_started" and rows["Q"]["x"] == "30.000"
    _, panels, params, _ = files
    bad = runner.invoke(
        app, ["predict", str(panels), "--params", str(params), "--out", str(tmp_path / "z.tif"), "--at", "2024-13-01"]
    )
    assert bad.exit_code == 2 and "ISO date" in bad.output


def test_dipping_panel_without_dip_direction_is_refused():
    import pytest
    from shapely.geometry import box

    from subsidence.errors import ValidationFailed
    from subsidence.prediction.service import panel_from_record

    rec = {"code": "P1", "thickness_m": 4.0, "depth_m": 200.0, "dip_deg": 3.0}
    with pytest.raises(ValidationFailed, match="panels.gpkg feature 1: dip_deg = 3.0 but dip_azimuth_deg is missing"):
        panel_from_record(rec, box(0, 0, 300, 2000), "panels.gpkg feature 1")
    flat = panel_from_record({**rec, "dip_deg": 0.0}, box(0, 0, 300, 2000), "panels.gpkg feature 1")
    assert flat[0].dip_azimuth_deg == 0.0


def test_grid_bands_along_an_azimuth(tmp_path):
    """--azimuth adds directional bands to the GeoTIFF; along 90° (east) they equal the x components."""
    import json

    import numpy as np
    import rasterio
    from shapely.geometry import box
    from typer.testing import CliRunner

    from subsidence.cli.main import app
    from subsidence.io.vector import write_vector

    write_vector(
        tmp_path / "p.gpkg",
        columns=["code", "thickness_m", "depth_m", "dip_deg", "dip_azimuth_deg"],
        kinds=["str", "float", "float", "float", "float"],
        rows=[["P1", 4.0, 200.0, 0.0, 0.0]],
        geometries=[box(500_000, 4_370_000, 500_300, 4_372_000)],
        crs="EPSG:4546",
        geometry_type="Polygon",
        layer="panels",
    )
    (tmp_path / "params.json").write_text(
        json.dumps({"q": 0.7, "tan_beta": 2.2, "b": 0.3, "theta0_deg": 89, "s_m": 20})
    )
    r = CliRunner().invoke(
        app,
        [
            "predict",
            str(tmp_path / "p.gpkg"),
            "--params",
            str(tmp_path / "params.json"),
            "--spacing",
            "50",
            "--out",
            str(tmp_path / "o.tif"),
            "--azimuth",
            "90",
        ],
    )
    assert r.exit_code == 0, r.output
    with rasterio.open(tmp_path / "o.tif") as ds:
        bands = {d: ds.read(i + 1) for i, d in enumerate(ds.descriptions)}
    names = {k.split(" ")[0]: v for k, v in bands.items()}
    assert np.allclose(names["tilt_az90_mm_per_m"], names["tilt_x_mm_per_m"], atol=1e-9)
    assert np.allclose(names["strain_az90_mm_per_m"], names["strain_x_mm_per_m"], atol=1e-9)
    assert np.abs(names["tilt_x_mm_per_m"]).max() > 1  # not a trivial all-zero comparison
