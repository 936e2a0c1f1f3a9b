"""Upgrades: `subsidence db upgrade` from every earlier revision to head on a populated database (the demo
county), and a clear refusal, changing nothing, for a database migrated by a newer release."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from typer.testing import CliRunner

import subsidence.schema  # noqa: F401  (every table on the metadata)
from subsidence.cli.main import app as cli
from subsidence.db.base import Base
from subsidence.db.migrate import (
    alembic_config_for_scripts,
    current_revision,
    downgrade,
    head_revision,
)
from subsidence.ops.backup import table_counts
from subsidence.settings import get_settings

EARLIER = [
    r.revision
    for r in ScriptDirectory.from_config(alembic_config_for_scripts()).walk_revisions()
    if r.revision != head_revision()
]


def _schema_diff(engine) -> list:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [
        d
        for d in diff
        if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
        and not (d[0] == "remove_index" and d[1].name.endswith("_gist"))
    ]


@pytest.fixture
def cli_env(engine, monkeypatch):
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    return CliRunner()


@pytest.mark.slow
@pytest.mark.parametrize("revision", EARLIER)
def test_upgrade_from_every_earlier_revision_keeps_the_county(engine, populated, cli_env, revision):
    """The demo county at head is taken down to REVISION (its later tables go), then `subsidence db upgrade`
    brings it back: every table that existed at REVISION keeps every row, and the schema equals the models."""
    at_head = table_counts(engine)
    try:
        downgrade(engine, revision)
    except Exception as exc:  # noqa: BLE001 - a downgrade of populated data may be impossible; reported, not hidden
        pytest.xfail(
            f"cannot take the populated county down to {revision} (a later revision's downgrade fails on "
            f"its data: {str(exc).splitlines()[0][:200]}); the released-code tests below cover releases"
        )
    engine.dispose()
    at_rev = table_counts(engine)
    assert current_revision(engine) == revision
    assert sum(at_rev.values()) > 10_000  # populated
    r = cli_env.invoke(cli, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    assert current_revision(engine) == head_revision()
    after = table_counts(engine)
    kept = {t: n for t, n in at_rev.items() if t != "alembic_version"}
    assert {t: after[t] for t in kept} == kept == {t: at_head[t] for t in kept}
    assert _schema_diff(engine) == []


def test_a_newer_schema_is_refused_and_nothing_changes(engine, cli_env):
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    tables = sorted(inspect(engine).get_table_names())
    for args in (["db", "upgrade"], ["alarms", "evaluate"], ["backup", "verify", "/nonexistent.tar"]):
        r = cli_env.invoke(cli, args)
        if args[0] == "backup":
            assert r.exit_code == 1  # reading an archive needs no database
            continue
        assert r.exit_code == 2, (args, r.output)
        assert "9999_from_the_future" in r.output and "does not know" in r.output and "Nothing was changed" in r.output
    engine.dispose()
    assert current_revision(engine) == "9999_from_the_future"
    assert sorted(inspect(engine).get_table_names()) == tables


def test_services_starting_together_migrate_one_at_a_time(engine, tmp_path):
    """The web server, the dispatcher and the sweep each run `db upgrade` when they start; started together on an
    empty database they wait for each other (advisory lock / flock) instead of creating the same tables twice."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    downgrade(engine, "base")
    engine.dispose()
    exe = Path(sys.executable).with_name("subsidence")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBSIDENCE_")} | {
        "SUBSIDENCE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SUBSIDENCE_DATA_DIR": str(tmp_path / "data"),
    }
    procs = [
        subprocess.Popen(
            [str(exe), "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert current_revision(engine) == head_revision()
    assert _schema_diff(engine) == []


RELEASED = sorted((Path(__file__).parent / "data").glob("demo-*.sqlite.gz"))


@pytest.mark.parametrize("archive", RELEASED, ids=[p.name for p in RELEASED])
def test_upgrade_a_database_built_by_the_released_code(archive, tmp_path, monkeypatch):
    """A demo county built by the code of an old release (tests/ops/data/make_release_dbs.sh), not by today's
    code: `subsidence db upgrade` brings it to head, keeps every row of every table it had, and the schema then
    equals today's models; the upgraded installation backs up and verifies."""
    import gzip
    import shutil as sh
    import sqlite3

    from subsidence.db.session import make_engine
    from subsidence.ops.backup import create_backup, verify_backup

    db = tmp_path / "data" / "subsidence.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(archive) as src, db.open("wb") as dst:
        sh.copyfileobj(src, dst)
    conn = sqlite3.connect(db)
    old_rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE "
            "'sqlite_%' AND name != 'alembic_version'"
        )
    ]
    before = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    conn.close()
    assert archive.name == f"demo-{old_rev}.sqlite.gz" and sum(before.values()) > 10_000
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    r = CliRunner().invoke(cli, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    eng = make_engine(f"sqlite:///{db}")
    try:
        assert current_revision(eng) == head_revision() != old_rev
        after = table_counts(eng)
        assert {t: after[t] for t in before} == before
        assert _schema_diff(eng) == []
        backup = create_backup(tmp_path / "after-upgrade.tar.gz", get_settings(), eng)
        assert verify_backup(backup.path).ok
    finally:
        eng.dispose()


#: released schema revisions and the last commit at each (tests/ops/data/make_release_dbs.sh builds the same)
RELEASE_COMMITS = {"0001": "93c72f8"}


@pytest.mark.slow
@pytest.mark.parametrize("revision", sorted(RELEASE_COMMITS))
def test_upgrade_a_postgres_database_built_by_the_released_code(engine, revision, tmp_path):
    """PostgreSQL: the released code (from git history) builds the demo county in an empty database, today's
    `subsidence db upgrade` brings it to head with every row kept and the schema equal to the models."""
    import os
    import shutil as sh
    import subprocess
    import sys

    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL (SQLite: test_upgrade_a_database_built_by_the_released_code)")
    repo = Path(__file__).resolve().parents[2]
    commit = RELEASE_COMMITS[revision]
    if (
        sh.which("git") is None
        or subprocess.run(
            ["git", "-C", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, check=False
        ).returncode
        != 0
    ):
        pytest.skip(f"commit {commit} of release revision {revision} is not in this clone (shallow?)")
    old = tmp_path / "release"
    old.mkdir()
    archive = subprocess.run(["git", "-C", str(repo), "archive", commit, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    downgrade(engine, "base")
    engine.dispose()
    url = engine.url.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBSIDENCE_")} | {
        "PYTHONPATH": str(old / "src"),
        "SUBSIDENCE_DATABASE_URL": url,
        "SUBSIDENCE_DATA_DIR": str(tmp_path / "d"),
    }
    code = (
        "import sys; sys.argv = ['subsidence', 'demo', '--no-serve', '--json', '--today', '2026-11-30']; "
        f"import subsidence; assert subsidence.__file__.startswith({str(old)!r}); "  # the old code runs
        "from subsidence.cli.main import app; app()"
    )
    built = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert current_revision(engine) == revision
    before = {t: n for t, n in table_counts(engine).items() if t != "alembic_version"}
    assert sum(before.values()) > 10_000
    r = subprocess.run(
        [str(Path(sys.executable).with_name("subsidence")), "db", "upgrade"],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k != "PYTHONPATH"},
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    engine.dispose()
    assert current_revision(engine) == head_revision()
    after = table_counts(engine)
    assert {t: after[t] for t in before} == before
    assert _schema_diff(engine) == []
