"""Shared fixtures. ``engine`` runs each DB test on SQLite and, when ``SUBSIDENCE_TEST_POSTGRES_URL`` is set
(``.ci/run`` sets it), on PostgreSQL/PostGIS as well: the same migrations, models and code paths.

Each test gets a fresh, migrated database: a copy of a template migrated once per session
(file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
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


def _copy_engine(request, tmp_path: Path, sqlite_template: Path, pg_template_fixture: str):
    """A fresh engine on a copy of a template database (file copy on SQLite, TEMPLATE on PostgreSQL)."""
    if request.param == "sqlite":
        db = tmp_path / "test.sqlite"
        shutil.copy(sqlite_template, db)
        eng = make_engine(f"sqlite:///{db}")
        yield eng
        eng.dispose()
        return
    template = request.getfixturevalue(pg_template_fixture)
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


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path, _sqlite_template):
    """A fresh, migrated database engine (parametrized: sqlite, and postgresql when configured)."""
    yield from _copy_engine(request, tmp_path, _sqlite_template, "_pg_template")


#: the demo county's "today" in the tests (its deadlines, states and reports are relative to it)
DEMO_TODAY = date(2026, 11, 30)


def _build_demo(eng) -> None:
    from subsidence.db.audit import acting_as
    from subsidence.demo.county import build_demo

    with make_sessionmaker(eng)() as s, acting_as(s, "demo"):
        build_demo(s, today=DEMO_TODAY)
        s.commit()


@pytest.fixture(scope="session")
def _sqlite_demo_template(tmp_path_factory, _sqlite_template) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    _build_demo(eng)
    with eng.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_demo_template(_pg_template) -> str | None:
    if not PG_URL:
        return None
    name = f"subsidence_demo_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_template}"'))
    eng = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    _build_demo(eng)
    eng.dispose()
    yield name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def demo_engine(request, tmp_path, _sqlite_demo_template):
    """A fresh copy of the demo county (built once per test session and backend, as of :data:`DEMO_TODAY`)."""
    yield from _copy_engine(request, tmp_path, _sqlite_demo_template, "_pg_demo_template")


@pytest.fixture
def demo_session(demo_engine):
    with make_sessionmaker(demo_engine)() as s:
        s.info["actor"] = "test"
        yield s


@pytest.fixture
def db_url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def cli_database(db_url, monkeypatch) -> str:
    """Point the ``subsidence`` command at the test's database, so CLI tests run on both backends too."""
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return db_url


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
