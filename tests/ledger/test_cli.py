"""The ledger CLI end to end: problem add/list/show/transitions, notice issue/deliver, gate --json, reports."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.settings import get_settings


@pytest.fixture
def cli(db_url, county, monkeypatch):
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args, ok=True):
        res = runner.invoke(app, [str(a) for a in args])
        if ok:
            assert res.exit_code == 0, (args, res.output, res.exception)
        return res

    return run


@pytest.fixture
def clock(monkeypatch):
    """Set the server's date the CLI commands run on (the services date every step with it)."""
    from subsidence.ledger import lifecycle

    def set_(day: str):
        monkeypatch.setattr(lifecycle, "today_local", lambda: date.fromisoformat(day))

    set_("2024-09-12")
    return set_


def test_cli_workflow(cli, county, tmp_path, clock):
    mine = county.mine1.licence_no
    out = json.loads(
        cli(
            "problem",
            "add",
            "--category",
            "1",
            "--title",
            "采空区塌陷坑未治理",
            "--found",
            "2024-09-12",
            "--mine",
            mine,
            "--json",
        ).stdout
    )
    code = out["code"]
    assert out["state"] == "found" and out["lead_unit"] == "NRB" and out["town"] == "T-TEST"

    clock("2024-09-20")
    res = cli(
        "notice",
        "issue",
        code,
        "--date",
        "2024-09-20",
        "--workdays",
        "20",
        "--milestone",
        "制定方案@10wd",
        "--milestone",
        "完成治理@2024-10-15",
        "--out-dir",
        tmp_path,
        "--json",
    )
    notice = json.loads(res.stdout)
    assert notice["code"] == "伊自然资整改〔2024〕1号" and notice["deadline"] == "2024-10-23"
    assert [m["due_date"] for m in notice["milestones"]] == ["2024-10-10", "2024-10-15"]
    assert all((tmp_path / f).exists() for f in ("限期整改通知书_2024_001.pdf", "限期整改通知书_2024_001.docx"))
    clock("2024-09-25")
    bad = cli(
        "notice",
        "deliver",
        notice["code"],
        "--date",
        "2024-09-23",
        "--method",
        "直接送达",
        "--receiver",
        "矿长",
        ok=False,
    )
    assert "needs a reason" in bad.output
    cli(
        "notice",
        "deliver",
        notice["code"],
        "--date",
        "2024-09-23",
        "--method",
        "直接送达",
        "--receiver",
        "矿长",
        "--date-reason",
        "送达回证9月23日签收",
    )

    # the enterprise of another mine may not start it; the right one may, dated by the server
    bad = cli("problem", "start", code, "--as", "enterprise:E-2", ok=False)
    assert bad.exit_code == 3 and "may be done only by" in bad.output
    bad = cli("problem", "start", code, "--on", "2024-09-24", "--as", "enterprise:E-1", ok=False)
    assert "only the office may record an earlier date" in bad.output
    cli("problem", "start", code, "--as", "enterprise:E-1")
    clock("2024-10-21")
    bad = cli("problem", "submit", code, "--as", "enterprise:E-1", ok=False)
    assert "needs evidence" in bad.output
    photo = tmp_path / "整改后.pdf"
    photo.write_bytes(b"%PDF-1.4\n% after\n%%EOF\n")
    ev = json.loads(cli("problem", "evidence", code, photo, "--as", "enterprise:E-1", "--json").stdout)
    for seq in (1, 2):
        cli("problem", "milestone", code, seq, "--evidence", ev["id"], "--as", "enterprise:E-1")
    cli("problem", "submit", code, "--as", f"enterprise:{'91150600TEST00001X'}")
    clock("2024-10-25")
    bad = cli("problem", "accept", code, "--inspector", "甲", ok=False)
    assert "at least 2" in bad.output
    cli("problem", "return", code, "--reason", "裂缝未充填", "--inspector", "甲", "--inspector", "乙")
    shown = json.loads(cli("problem", "show", code, "--as", "enterprise:E-1", "--json").stdout)
    assert shown["state"] == "returned" and shown["allowed_transitions"] == ["resume"]
    assert [h["to"] for h in shown["history"]] == ["notice_issued", "rectifying", "submitted", "returned"]
    assert shown["notices"][0]["deliveries"][0]["method"] == "in_person"

    clock("2024-10-28")
    gate = json.loads(
        cli("gate", county.mine1.name_zh, "--application", "extension", "--today", "2024-10-28", "--json").stdout
    )
    # returned, deadline (10-23) passed: refused, with the notice that set it; the mine has no plan or fund data
    assert gate["mine"] == mine and gate["application"] == "extension" and gate["allowed"] is False
    (r,) = [r for r in gate["reasons"] if r["rule"] == "returned_problem" and r["record"] == code]
    assert r["deadline"] == "2024-10-23" and r["deadline_set_by"]["code"] == notice["code"]
    assert gate["outcome"] == "refused" and {f["rule"] for f in gate["not_evaluable"]} == {
        "missing_plan",
        "fund_account_missing",
    }
    assert set(gate) >= {"mine", "application", "allowed", "outcome", "reasons", "warnings", "not_evaluable"}
    refusal = json.loads(cli("gate-refuse", gate["query_id"], "--json").stdout)
    assert refusal["code"] == "伊自然资不予受理〔2024〕1号" and refusal["reasons"][0]["deadline"] == "2024-10-23"

    listed = json.loads(cli("problem", "list", "--state", "returned", "--today", "2024-10-28", "--json").stdout)
    assert [r["code"] for r in listed] == [code] and listed[0]["overdue"] is True

    watch = json.loads(cli("calendar", "watch", "--today", "2024-11-12", "--escalate", "--json").stdout)
    assert [(e["kind"], e["level"]) for e in watch["escalated"]] == [("deadline", "lead_unit"), ("deadline", "office")]
    assert [e["code"] for e in watch["escalated"]] == ["伊采沉办督〔2024〕1号", "伊采沉办督〔2024〕2号"]
    assert (
        json.loads(cli("calendar", "watch", "--today", "2024-11-13", "--escalate", "--json").stdout)["escalated"] == []
    )

    rep = json.loads(
        cli(
            "report",
            "progress",
            "--from",
            "2024-09-01",
            "--to",
            "2024-10-31",
            "--out",
            tmp_path / "进展.docx",
            "--json",
        ).stdout
    )  # (the PDF path is tested in test_progress)
    assert rep["total"]["found"] == 1 and rep["files"] == [str(tmp_path / "进展.docx")]
    cli("report", "ledger", tmp_path / "台账.xlsx")
    assert (tmp_path / "台账.xlsx").stat().st_size > 0


def test_cli_bad_input(cli, county):
    res = cli("gate", "没有这个矿", "--json", ok=False)
    assert res.exit_code == 3 and "unknown mine" in res.output
    res = cli(
        "problem",
        "add",
        "--category",
        "1",
        "--title",
        "x",
        "--found",
        "2024-09-12",
        "--deadline",
        "2024-09-01",
        ok=False,
    )
    assert res.exit_code == 2 and "before the found date" in res.output
    res = cli("problem", "submit", "TZ-2099-0001", ok=False)
    assert "TZ-2099-0001" in res.output
    res = cli("gate", county.mine1.licence_no, "--application", "demolition", ok=False)
    assert "unknown application type" in res.output
    res = cli("problem", "add", "--category", "1", "--title", "x", "--found", "2024-13-01", ok=False)
    assert "YYYY-MM-DD" in res.output


def test_cli_calendar(cli):
    assert cli("calendar", "add", "2024-09-30", "1").stdout.strip() == "2024-10-08"
    assert cli("calendar", "between", "2024-09-30", "2024-10-08").stdout.strip() == "1"
    info = json.loads(cli("calendar", "info", "2024-10-12", "--json").stdout)
    assert info["workday"] is True and info["kind"] == "workday"
    rows = json.loads(
        cli(
            "calendar", "schedule", "2024-10-10", "--milestone", "方案@10", "--milestone", "验收准备@0", "--json"
        ).stdout
    )
    assert [r["latest_date"] for r in rows] == ["2024-09-20", "2024-10-10"]
    table = json.loads(cli("problem", "transitions", "--json").stdout)
    assert {r["name"] for r in table} >= {"fix_at_once", "issue_notice", "submit", "accept", "return", "withdraw"}


def test_cli_extension(cli, county, clock, tmp_path):
    clock("2024-09-20")
    code = json.loads(
        cli(
            "problem",
            "add",
            "--category",
            "1",
            "--title",
            "延期问题",
            "--found",
            "2024-09-12",
            "--mine",
            county.mine1.licence_no,
            "--json",
        ).stdout
    )["code"]
    cli("notice", "issue", code, "--workdays", "20", "--out-dir", tmp_path, "--json")
    clock("2024-10-15")
    bad = cli(
        "problem", "extend", code, "--until", "2025-03-01", "--reason", "工期", "--as", "enterprise:E-1", ok=False
    )
    assert bad.exit_code == 2 and "by 2024-12-" in bad.output
    x = json.loads(
        cli(
            "problem",
            "extend",
            code,
            "--until",
            "2024-11-15",
            "--reason",
            "雨季施工困难",
            "--as",
            "enterprise:E-1",
            "--json",
        ).stdout
    )
    assert x["state"] == "pending" and x["requested_date"] == "2024-10-15" and x["previous_deadline"] == "2024-10-23"
    bad = cli("problem", "extension", code, "--approve", "--reason", "同意", "--as", "enterprise:E-1", ok=False)
    assert bad.exit_code == 3
    d = json.loads(
        cli("problem", "extension", code, "--approve", "--reason", "同意", "--as", "department:NRB", "--json").stdout
    )
    assert d["state"] == "approved" and d["granted_deadline"] == "2024-11-15"
    shown = json.loads(cli("problem", "show", code, "--json").stdout)
    assert shown["deadline"] == "2024-11-15"
