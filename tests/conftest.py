"""Shared fixtures. ``engine`` runs each DB test on SQLite and, when ``SUBSIDENCE_TEST_POSTGRES_URL`` is set
(``.ci/run`` sets it), on PostgreSQL/PostGIS as well: the same migrations, models and code paths.

Each test gets a fresh, migrated database: a copy of a template migrated once per session
(file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import subsidence.schema  # noqa: F401  (every table and policy)
from subsidence.db.migrate import upgrade
from subsidence.db.session import make_engine, make_sessionmaker
from subsidence.settings import get_settings

PG_URL = os.environ.get("SUBSIDENCE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
ARTIFACTS = Path(os.environ.get("SUBSIDENCE_TEST_ARTIFACTS", "test-artifacts"))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data dir; nothing touches ./data."""
    monkeypatch.setenv("SUBSIDENCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SUBSIDENCE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    with eng.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_template() -> str | None:
    if not PG_URL:
        return None
    name = f"subsidence_tmpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    upgrade(eng)
    eng.dispose()
    yield name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path, _sqlite_template):
    """A fresh, migrated database engine (parametrized: sqlite, and postgresql when configured)."""
    if request.param == "sqlite":
        db = tmp_path / "test.sqlite"
        shutil.copy(_sqlite_template, db)
        eng = make_engine(f"sqlite:///{db}")
        yield eng
        eng.dispose()
        return
    template = request.getfixturevalue("_pg_template")
    name = f"subsidence_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    eng = make_engine(url)
    yield eng
    eng.dispose()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db_url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def session(engine):
    """A session on the fresh database (tests commit explicitly when they mean to)."""
    with make_sessionmaker(engine)() as s:
        s.info["actor"] = "test"
        yield s


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
