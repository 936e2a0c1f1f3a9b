"""The CLI: ``subsidence import / export / template`` (exit codes, --json, messages)."""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from tests.io.iokit import DATA, panel_rows, seed_county, write_xlsx


@pytest.fixture
def cli_db(engine, cli_database):
    """The test's database (both backends), seeded; the CLI is pointed at it."""
    seed_county(engine)
    return engine


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_import_json_dry_run_then_real(cli_db, tmp_path):
    p = write_xlsx(tmp_path / "panels.xlsx", panel_rows())
    r = run("import", "panels", str(p), "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["ok"] and rep["dry_run"] and rep["created"] == 3
    r = run("import", "panels", str(p))
    assert r.exit_code == 0 and "3 were created" in r.stdout
    r = run("import", "panels", str(p), "--json")
    assert json.loads(r.stdout)["unchanged"] == 3


def test_import_refused_exit_code_and_message(cli_db, tmp_path):
    rows = panel_rows()
    rows[2][6] = "15.07.2022"
    p = write_xlsx(tmp_path / "panels.xlsx", rows)
    r = run("import", "panels", str(p))
    assert r.exit_code == 2
    assert f"{p}: row 3, field 开采开始日期 (start_date): '15.07.2022' is not a date" in r.output
    assert "nothing was changed" in r.output
    r = run("import", "panels", str(p), "--json")
    rep = json.loads(r.stdout)
    assert r.exit_code == 2 and not rep["ok"] and rep["errors"][0]["where"] == "row 3"
    assert rep["errors"][0]["field"] == "开采开始日期 (start_date)"


def test_unknown_kind_suggests(cli_db, tmp_path):
    r = run("import", "panel-s", str(DATA / "mines_cgcs2000.geojson"))
    assert r.exit_code == 2 and "did you mean 'panels'" in r.output


def test_zipped_shapefile_and_export_formats(cli_db, tmp_path):
    z = tmp_path / "towns.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in DATA.glob("towns_gbk_nocpg.*"):
            zf.write(f, f"data/{f.name}")
    r = run("import", "towns", str(z))
    assert r.exit_code == 0, r.output
    assert "encoding gb18030" in r.stdout
    for suffix in (".geojson", ".gpkg", ".shp", ".xlsx"):
        out = tmp_path / f"towns{suffix}"
        r = run("export", "towns", str(out))
        assert r.exit_code == 0 and out.exists(), r.output
        r = run("import", "towns", str(out), "--json")
        assert json.loads(r.stdout)["unchanged"] == 4, r.stdout
    r = run("export", "units", str(tmp_path / "units.geojson"))
    assert r.exit_code == 2 and "no geometry" in r.output


def test_template_command(tmp_path):
    r = run("template", "ledger", str(tmp_path / "台账模板.xlsx"))
    assert r.exit_code == 0 and (tmp_path / "台账模板.xlsx").exists()
    r = run("template", "ledger", str(tmp_path / "x.csv"))
    assert r.exit_code == 2


def test_help_on_every_command():
    for cmd in ("import", "export", "template"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and "Usage" in r.output
