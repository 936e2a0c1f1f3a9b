"""The prediction/inversion path fits c (and k) from a levelling/InSAR series: ``invert --series`` writes the
fitted time function into PARAMS.json and ``predict --at`` uses it."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.science.dynamics import TimeFunction
from subsidence.science.pim import PanelGeometry, PIMParams, predict_points

runner = CliRunner()
X0, Y0 = 500_000.0, 4_380_000.0  # EPSG:4546
START = date(2024, 3, 1)


def test_invert_with_series_fits_c_and_predict_uses_it(tmp_path):
    ring = [
        [X0 - 900, Y0 - 150],
        [X0 + 900, Y0 - 150],
        [X0 + 900, Y0 + 150],
        [X0 - 900, Y0 + 150],
        [X0 - 900, Y0 - 150],
    ]
    props = {
        "code": "LW1",
        "thickness_m": 5.0,
        "depth_m": 180.0,
        "start_date": START.isoformat(),
        "advance_m_per_day": 12.0,
    }
    panels = tmp_path / "panels.geojson"
    panels.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4546"}},
                "features": [
                    {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}
                ],
            }
        )
    )
    panel = PanelGeometry.rectangle(
        X0,
        Y0,
        1800.0,
        300.0,
        azimuth_deg=90.0,
        thickness_m=5.0,
        depth_dip_m=180.0,
        start_date=START,
        advance_m_per_day=12.0,
    )
    truth = PIMParams(q=0.75, tan_beta=2.5, b=0.3)
    tf = TimeFunction("improved_knothe", c_per_day=0.1, k=2.5)
    rng = np.random.default_rng(4)
    # final levelling (static basin) on a cross of benchmarks
    bx = np.concatenate([X0 + np.arange(-1300, 1301, 50.0), np.full(21, X0)])
    by = np.concatenate([np.full(53, Y0), Y0 + np.arange(-500, 501, 50.0)])
    w = predict_points(panel, truth, bx, by, components=("subsidence_mm",)).W + rng.normal(0, 3, bx.size)
    obs = tmp_path / "final.csv"
    with obs.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "x", "y", "subsidence_mm"])
        out.writerows([f"BM{i}", x, y, v] for i, (x, y, v) in enumerate(zip(bx, by, w)))
    # a levelling series during mining at five benchmarks along the centre line, every 7 days
    sx = X0 + np.array([-700.0, -500.0, -300.0, -100.0, 100.0])
    dates = [START + timedelta(days=d) for d in range(0, 220, 7)]
    ser = np.stack(
        [
            predict_points(panel, truth, sx, np.full(5, Y0), at=d, time_function=tf, components=("subsidence_mm",)).W
            for d in dates
        ]
    )
    ser = ser - ser[0] + rng.normal(0, 3, ser.shape)
    series = tmp_path / "series.csv"
    with series.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["point_id", "x", "y", "date", "subsidence_mm"])
        for k, d in enumerate(dates):
            out.writerows([f"S{j}", sx[j], Y0, d.isoformat(), ser[k, j]] for j in range(5))
    start = tmp_path / "start.json"
    start.write_text(json.dumps({"q": 0.6, "tan_beta": 2.0, "b": 0.3, "theta0_deg": 90.0, "s_m": 0.0}))
    fit = tmp_path / "fit.json"
    res = runner.invoke(
        app,
        [
            "invert",
            str(obs),
            "--panels",
            str(panels),
            "--out",
            str(fit),
            "--fit",
            "q,tan_beta",
            "--starts",
            "2",
            "--initial",
            str(start),
            "--series",
            str(series),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(fit.read_text())
    assert data["q"] == pytest.approx(0.75, rel=0.01)
    assert data["time_function"]["kind"] == "improved_knothe"
    assert data["time_function"]["c_per_day"] == pytest.approx(0.1, rel=0.1)
    assert data["time_function"]["k"] == pytest.approx(2.5, rel=0.15)
    assert data["time_function"]["fit"]["rms_mm"] < 6.0
    # predict --at with the fitted PARAMS.json reproduces the truth at a date inside the series
    pts = tmp_path / "pts.csv"
    with pts.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "x", "y"])
        out.writerows([f"S{j}", sx[j], Y0] for j in range(5))
    when = START + timedelta(days=90)
    pred = tmp_path / "pred.csv"
    res = runner.invoke(
        app,
        [
            "predict",
            str(panels),
            "--params",
            str(fit),
            "--out",
            str(tmp_path / "p.tif"),
            "--spacing",
            "100",
            "--at",
            when.isoformat(),
            "--points",
            str(pts),
            "--points-out",
            str(pred),
            "--component",
            "subsidence_mm",
        ],
    )
    assert res.exit_code == 0, res.output
    with pred.open() as fh:
        got = np.array([float(r["subsidence_mm"]) for r in csv.DictReader(fh)])
    want = predict_points(panel, truth, sx, np.full(5, Y0), at=when, time_function=tf, components=("subsidence_mm",)).W
    assert np.abs(got - want).max() < 0.03 * want.max()


def test_invert_series_without_coordinates_is_refused(tmp_path):
    panels = tmp_path / "panels.geojson"
    ring = [[X0, Y0], [X0 + 800, Y0], [X0 + 800, Y0 + 200], [X0, Y0 + 200], [X0, Y0]]
    panels.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4546"}},
                "features": [
                    {
                        "type": "Feature",
                        "properties": {
                            "code": "P",
                            "thickness_m": 3.0,
                            "depth_m": 150.0,
                            "start_date": "2024-01-01",
                            "advance_m_per_day": 10.0,
                        },
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    obs = tmp_path / "obs.csv"
    obs.write_text("id,x,y,subsidence_mm\n" + "".join(f"B{i},{X0 + 40 * i},{Y0 + 100},{5 * i}\n" for i in range(20)))
    series = tmp_path / "series.csv"
    series.write_text("point_id,date,subsidence_mm\nA,2024-01-01,0\nA,2024-02-01,50\nA,2024-03-01,90\n")
    res = runner.invoke(
        app,
        [
            "invert",
            str(obs),
            "--panels",
            str(panels),
            "--out",
            str(tmp_path / "f.json"),
            "--fit",
            "q,tan_beta",
            "--starts",
            "1",
            "--series",
            str(series),
        ],
    )
    assert res.exit_code != 0 and "x and y" in res.output
    assert not (tmp_path / "f.json").exists()  # a failed run writes nothing
