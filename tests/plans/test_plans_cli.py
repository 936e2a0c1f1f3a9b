"""The plan commands end to end on files: GIS parcels, Excel annual plans, NDVI GeoTIFFs."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import MultiPolygon, box
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.core.models import Mine
from subsidence.db.migrate import upgrade
from subsidence.db.session import make_engine, make_sessionmaker

X0, Y0 = 600_000.0, 4_370_000.0


def _gpkg(path, features):
    from subsidence.io.vector import write_vector

    cols = list(features[0][0])
    kinds = ["int" if isinstance(features[0][0][c], int) else "str" for c in cols]
    write_vector(
        path,
        columns=cols,
        kinds=kinds,
        rows=[[f[c] for c in cols] for f, _ in features],
        geometries=[g for _, g in features],
        crs="EPSG:4546",
        geometry_type="Polygon",
        layer="parcels",
    )


def _ndvi(path, values):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=200,
        width=200,
        count=1,
        dtype="float32",
        crs="EPSG:4546",
        transform=from_origin(X0, Y0 + 2000, 10, 10),
    ) as ds:
        ds.write(values.astype("float32"), 1)


def test_plan_workflow_from_files(tmp_path):
    eng = make_engine()
    upgrade(eng)
    with make_sessionmaker(eng)() as s:
        s.add(
            Mine(
                licence_no="C-CLI-1",
                name_zh="命令行测试煤矿",
                geometry=MultiPolygon([box(X0, Y0, X0 + 2000, Y0 + 2000)]),
            )
        )
        s.commit()
    runner = CliRunner()
    plan_file = tmp_path / "plan.gpkg"
    _gpkg(
        plan_file,
        [
            (
                {"code": "R1", "purpose": "复垦", "land_type": "草地", "planned_year": 2024},
                box(X0, Y0, X0 + 1000, Y0 + 1000),
            )
        ],
    )
    r = runner.invoke(
        app,
        [
            "plan",
            "register",
            "C-CLI-1",
            str(plan_file),
            "--doc-no",
            "复垦〔2023〕1号",
            "--approval-date",
            "2023-03-01",
            "--valid-to",
            "2028-03-01",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output[r.output.index("{") :])["area_ha"] == 100.0

    template = tmp_path / "annual.xlsx"
    assert runner.invoke(app, ["plan", "template", str(template)]).exit_code == 0
    wb = openpyxl.load_workbook(template)
    ws = wb.active
    header_row = next(i for i in range(1, 5) if ws.cell(i, 1).value == "采矿许可证号")
    for j, v in enumerate(["C-CLI-1", 2024, 2, 2, None, None, 4, None, "裂缝充填", 500000, 800000], start=1):
        ws.cell(header_row + 1, j, v)
    wb.save(template)
    r = runner.invoke(app, ["plan", "annual", str(template), "--json"])
    assert r.exit_code == 0, r.output
    again = runner.invoke(app, ["plan", "annual", str(template), "--json"])  # idempotent: updates, no duplicate
    assert again.exit_code == 0, again.output

    bad = tmp_path / "bad.xlsx"
    wb2 = openpyxl.Workbook()
    wb2.active.append(["采矿许可证", "年度"])
    wb2.active.append(["C-CLI-1", 2025])
    wb2.save(bad)
    r = runner.invoke(app, ["plan", "annual", str(bad)])
    assert r.exit_code == 2 and "采矿许可证号" in r.output and "misspelt" in r.output

    report = tmp_path / "treated.gpkg"
    _gpkg(
        report,
        [
            (
                {"code": "T-GOOD", "land_type": "grassland", "spending_yuan": 200000},
                box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200),
            ),
            (
                {"code": "T-BARE", "land_type": "grassland", "spending_yuan": 150000},
                box(X0 + 1500, Y0 + 100, X0 + 1600, Y0 + 200),
            ),
        ],
    )
    r = runner.invoke(app, ["plan", "report", "C-CLI-1", "2024", str(report), "--reported-date", "2024-11-20"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["plan", "report", "C-CLI-1", "2030", str(report)])
    assert r.exit_code == 2 and "no annual plan for 2030" in r.output

    before, after = np.full((200, 200), 0.1), np.full((200, 200), 0.1)
    after[:, :100] = 0.4
    _ndvi(tmp_path / "b.tif", before)
    _ndvi(tmp_path / "a.tif", after)
    r = runner.invoke(
        app,
        [
            "plan",
            "verify",
            "2024",
            "--ndvi-before",
            str(tmp_path / "b.tif"),
            "--ndvi-after",
            str(tmp_path / "a.tif"),
            "--on",
            "2025-01-10",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    states = {x["parcel"]: x["state"] for x in json.loads(r.output[r.output.index("[") :])}
    assert states == {"T-GOOD": "verified_rs", "T-BARE": "rejected"}

    r = runner.invoke(app, ["plan", "accept", "T-GOOD", "--inspector", "自然资源局-1", "--on", "2025-02-01"])
    assert r.exit_code == 2 and "two inspectors" in r.output
    r = runner.invoke(
        app,
        [
            "plan",
            "accept",
            "T-GOOD",
            "--inspector",
            "自然资源局-1",
            "--inspector",
            "自然资源局-2",
            "--on",
            "2025-02-01",
            "--json",
        ],
    )
    assert r.exit_code == 0 and '"accepted"' in r.output, r.output
    r = runner.invoke(app, ["plan", "gap", "2024", "--json"])
    (row,) = json.loads(r.output[r.output.index("[") :])
    assert row["planned_ha"] == 4 and row["achieved_ha"] == 1 and row["gap_ha"] == 3 and row["spent_yuan"] == 350000
    r = runner.invoke(app, ["plan", "shortfalls", "2024", "--today", "2025-04-20", "--json"])
    assert len(json.loads(r.output[r.output.index("{") :])["opened"]) == 1
    r = runner.invoke(app, ["plan", "shortfalls", "2024", "--today", "2025-05-20", "--json"])
    assert json.loads(r.output[r.output.index("{") :])["opened"] == []
