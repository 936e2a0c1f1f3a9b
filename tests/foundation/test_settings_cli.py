"""Settings validation and the CLI's --help on every command."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.main import get_command
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.settings import Settings


def test_env_prefix_and_default_sqlite(monkeypatch, tmp_path):
    monkeypatch.setenv("SUBSIDENCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SUBSIDENCE_LANGUAGE", "en")
    s = Settings()
    assert s.language == "en"
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'subsidence.sqlite'}"


def test_bad_timezone_is_refused(monkeypatch):
    monkeypatch.setenv("SUBSIDENCE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings()


def _all_commands(cmd, prefix=()):
    yield prefix
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _all_commands(sub, prefix + (name,))


def test_every_command_has_help():
    runner = CliRunner()
    root = get_command(app)
    paths = list(_all_commands(root))
    assert ("db", "upgrade") in paths and ("demo",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_every_setting_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"SUBSIDENCE_{name.upper()}" not in readme]
    assert missing == []


def test_unreachable_database_is_a_clear_error_not_a_traceback(monkeypatch):
    """A disconnected network or a stopped server: exit 4, the database named without its password, nothing else."""
    from subsidence.settings import get_settings

    monkeypatch.setenv(
        "SUBSIDENCE_DATABASE_URL", "postgresql+psycopg://u:secret-pw@127.0.0.1:9/nowhere?connect_timeout=2"
    )
    get_settings.cache_clear()
    res = CliRunner().invoke(app, ["problem", "list", "--json"])
    assert res.exit_code == 4, res.output
    assert "cannot reach the database" in res.output and "secret-pw" not in res.output
    assert "Traceback" not in res.output
