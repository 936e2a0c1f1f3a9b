"""``subsidence docs`` end to end on the demo county: files written, numbers taken gap-free, clean errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.settings import get_settings
from tests.reports import doctools as dt

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(demo_engine, monkeypatch):
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", demo_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args, code=0):
        res = runner.invoke(app, [str(a) for a in args])
        assert res.exit_code == code, (args, res.output, res.exception)
        return res

    return run


def test_upward_issue_numbers_and_files(cli, tmp_path):
    pytest.importorskip("weasyprint")
    out = json.loads(
        cli(
            "docs",
            "upward",
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-30",
            "--issue",
            "--signer",
            "某某",
            "--out-dir",
            tmp_path / "a",
            "--json",
        ).output
    )
    assert [p.rsplit(".", 1)[1] for p in out["files"]] == ["pdf", "docx", "xlsx"]
    first = dt.flat(out["files"][0])
    cli("docs", "upward", "--from", "2026-10-01", "--to", "2026-11-30", "--issue", "--out-dir", tmp_path / "b")
    second = dt.flat(next((tmp_path / "b").glob("*.pdf")))
    assert "伊采沉办〔2026〕1号" in first and "签发人：某某" in first
    assert "伊采沉办〔2026〕2号" in second, "the next report takes the next number"


def test_clean_errors(cli, tmp_path):
    out = tmp_path / "out"
    res = cli("docs", "supervision", "99999", "--out-dir", out, code=3)
    assert "does not exist" in res.output
    res = cli("docs", "upward", "--from", "2026-12-01", "--to", "2026-11-30", "--issue", "--out-dir", out, code=2)
    assert "before it starts" in res.output
    assert not out.exists() or not list(out.iterdir()), "nothing written"
    ok = json.loads(
        cli(
            "docs", "upward", "--from", "2026-10-01", "--to", "2026-11-30", "--issue", "--json", "--out-dir", out
        ).output
    )
    assert "伊采沉办〔2026〕1号" in dt.flat(ok["files"][0]), "the refused run took no number"


def test_fontconfig_file(cli, tmp_path):
    target = tmp_path / "conf.d" / "65-subsidence-gbt9704.conf"
    cli("docs", "fontconfig", "--install", target)
    text = target.read_text(encoding="utf-8")
    assert "<fontconfig>" in text and "仿宋_GB2312" in text and "方正小标宋简体" in text
