"""Panels from the database (EPSG:4546) feed the prediction service; `subsidence predict db` works end to end."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from subsidence.core.models import Mine, Panel
from subsidence.errors import ValidationFailed
from subsidence.prediction.service import load_panels_db, predict_to_geotiff


def add_panels(session):
    mine = Mine(licence_no="C1500002009", name_zh="示例煤矿", illustrative=True)
    session.add(mine)
    session.flush()
    session.add_all(
        [
            Panel(
                code="C1500002009-12401",
                mine_id=mine.id,
                thickness_m=4.0,
                depth_dip_m=210.0,
                depth_rise_m=190.0,
                dip_deg=2.0,
                dip_azimuth_deg=180.0,
                start_date=date(2024, 1, 1),
                advance_m_per_day=12.0,
                geometry=box(500000, 4380000, 501500, 4380300),
            ),
            Panel(
                code="C1500002009-12402",
                mine_id=mine.id,
                thickness_m=4.0,
                depth_dip_m=200.0,
                depth_rise_m=200.0,
                geometry=box(500000, 4380320, 501500, 4380620),
            ),
        ]
    )
    session.commit()


def test_load_panels_db_and_predict(session, tmp_path):
    with pytest.raises(ValidationFailed, match="no panels"):
        load_panels_db(session)
    add_panels(session)
    pset = load_panels_db(session)
    assert pset.crs.to_epsg() == 4546 and [p.name for p in pset.panels] == ["C1500002009-12401", "C1500002009-12402"]
    assert pset.panels[0].depth_rise_m == 190.0 and pset.panels[0].start_date == date(2024, 1, 1)
    from subsidence.science.pim import PIMParams

    summary = predict_to_geotiff(
        pset, PIMParams(q=0.7, tan_beta=2.2), tmp_path / "db.tif", spacing=50.0, components=["subsidence_mm"]
    )
    assert summary["max"]["subsidence_mm"] == pytest.approx(4000 * 0.7, rel=0.05)


def test_cli_predict_db(engine, session, tmp_path, monkeypatch, db_url):
    add_panels(session)
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", db_url)
    from subsidence.settings import get_settings

    if hasattr(get_settings, "cache_clear"):
        get_settings.cache_clear()
    from subsidence.cli.main import app

    params = tmp_path / "p.json"
    params.write_text(json.dumps({"q": 0.7, "tan_beta": 2.2, "b": 0.3, "theta0_deg": 89.0, "s_m": 5.0}))
    out = tmp_path / "o.tif"
    res = CliRunner().invoke(
        app,
        [
            "predict",
            "db",
            "--params",
            str(params),
            "--out",
            str(out),
            "--spacing",
            "50",
            "--at",
            "2024-03-01",
            "--component",
            "subsidence_mm",
        ],
    )
    assert res.exit_code == 0, res.output
    from subsidence.io.raster import read_geotiff

    w = read_geotiff(out).band("subsidence_mm")
    assert 0 < np.nanmax(w) < 2800
