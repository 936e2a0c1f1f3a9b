"""The task CLI end to end on a real database: fund, draw (publish → seed → run → verify), assessment."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app


@pytest.fixture
def cli(db_url, monkeypatch, session, county):
    session.commit()
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", db_url)
    from subsidence.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args, code=0):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code == code, (args, r.output)
        return r

    return run


def test_fund_cli(cli, county, tmp_path):
    lic = county.mines[0].licence_no
    cli("fund", "open", lic, "--land-type", "grassland")
    out = json.loads(cli("fund", "accrue", lic, 2025, "--output-t", "10000000", "--json").stdout)
    assert out["required_yuan"] == "66,000,000.00"
    cli("fund", "deposit", lic, "1000000", "--date", "2025-02-01", "--year", "2025")
    r = cli("fund", "withdraw", lic, "2000000", "--date", "2025-03-01", code=2)
    assert "exceeds the fund balance" in r.output
    r = cli("fund", "deposit", "--date", "2025-03-01", lic, "--", "-5", code=2)
    assert "positive" in r.output
    s = json.loads(cli("fund", "summary", lic, 2025, "--json").stdout)
    assert s["closing_fen"] == 1_000_000_00
    chk = json.loads(cli("fund", "check", "--today", "2026-01-05", "--open-problems", "--json").stdout)
    assert chk["findings"][0]["kind"] == "under_accrued" and chk["problems"][0]["created"] is True
    cli("fund", "report", lic, 2025, "--out", tmp_path)
    assert (tmp_path / f"fund-{lic}-2025.xlsx").exists()


def test_draw_cli(cli, county, tmp_path):
    for i, m in enumerate(county.mines):
        cli("draw", "object", m.licence_no, "--grade", ["high", "medium", "low"][i])
    for i in range(4):
        cli("draw", "inspector", f"NRB-{i:02d}", "--unit", "NRB")
    cli("draw", "conflict", "NRB-00", county.mines[0].licence_no, "--reason", "曾在该矿任职", "--date", "2026-11-01")
    cli("draw", "item", "RECL", "--name", "土地复垦抽查", "--high", 100, "--medium", 100, "--low", 100)
    now = datetime.now(UTC)
    src = "上海证券交易所上证综合指数收盘点位"
    pub = json.loads(
        cli(
            "draw",
            "publish",
            "RECL",
            "--seed-source",
            src,
            "--seed-not-before",
            (now + timedelta(seconds=1)).isoformat(),
            "--json",
        ).stdout
    )
    code = pub["draw"]
    r = cli(
        "draw",
        "seed",
        code,
        "--source",
        src,
        "--value",
        "3245.67",
        "--source-time",
        (now - timedelta(hours=1)).isoformat(),
        code=2,
    )
    assert "before the pool" in r.output
    time.sleep(1.3)
    cli(
        "draw",
        "seed",
        code,
        "--source",
        src,
        "--value",
        "3245.67",
        "--source-time",
        (now + timedelta(seconds=1.1)).isoformat(),
    )
    rec_path = tmp_path / "rec.json"
    run = json.loads(cli("draw", "run", code, "--out", rec_path, "--json").stdout)
    assert len(run["picks"]) == 3
    assert all("NRB-00" not in p["inspectors"] for p in run["picks"] if p["mine"] == county.mines[0].licence_no)
    assert json.loads(cli("draw", "verify", rec_path, "--json").stdout)["ok"] is True
    rec = json.loads(rec_path.read_text(encoding="utf-8"))
    rec["result"]["objects"][0]["inspectors"].reverse()
    rec_path.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    r = cli("draw", "verify", rec_path, code=1)
    assert "result.objects" in r.output
    lic = county.mines[1].licence_no
    res = json.loads(
        cli(
            "draw",
            "result",
            code,
            lic,
            "--date",
            datetime.now().date().isoformat(),
            "--outcome",
            "problems",
            "--findings",
            "复垦区植被成活率不足",
            "--category",
            "3",
            "--json",
        ).stdout
    )
    assert res["problem_id"] is not None
    assert json.loads(cli("draw", "results", "--public", "--json").stdout) == []
    cli("draw", "announce", code, lic, "--date", datetime.now().date().isoformat())
    assert [r["mine"] for r in json.loads(cli("draw", "results", "--public", "--json").stdout)] == [lic]


def test_assess_cli(cli, county, tmp_path):
    rows = json.loads(cli("assess", "run", 2025, "--today", "2026-01-10", "--json").stdout)
    assert len(rows) == 3 and rows[0]["rank"] == 1
    cli("assess", "show", 2025)
