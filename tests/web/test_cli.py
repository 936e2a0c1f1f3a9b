"""``subsidence user add|token`` and the server's port choice (``subsidence serve`` itself blocks)."""

from __future__ import annotations

import json
import socket

from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.cli.web import pick_port


def test_user_add_and_token(cli_database):
    runner = CliRunner()
    r = runner.invoke(app, ["user", "add", "ops1", "--role", "office", "--password", "long-enough-password"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["user", "add", "ops1", "--role", "office", "--password", "long-enough-password"])
    assert r.exit_code == 2 and "taken" in r.output
    r = runner.invoke(app, ["user", "add", "e1", "--role", "enterprise", "--password", "long-enough-password"])
    assert r.exit_code == 2 and "enterprise" in r.output
    r = runner.invoke(app, ["user", "add", "x", "--role", "office", "--password", "short"])
    assert r.exit_code == 2 and "too short" in r.output
    r = runner.invoke(app, ["user", "token", "ops1", "--name", "qgis", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["token"].startswith("sbt_")


def test_pick_port_skips_a_busy_one():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        busy = s.getsockname()[1]
        assert pick_port("127.0.0.1", busy) != busy


def test_demo_banner_prints_whole_passwords(capsys):
    from subsidence.cli.web import print_accounts
    from subsidence.demo.accounts import DemoAccount
    from subsidence.vocabulary import Role

    accts = [DemoAccount("enterprise-a", "enterprise-a-demo-2024", Role.ENTERPRISE, "示例企业 自有矿山")]
    print_accounts(accts, "http://127.0.0.1:8123")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/map" in out and "enterprise-a-demo-2024" in out
