"""Run Alembic migrations programmatically (the CLI, the demo and the tests all use this one path)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


class SchemaTooNew(RuntimeError):
    """The database is stamped with a revision this version of the code does not know (a newer release
    migrated it): nothing is changed; install that release (or newer) instead."""


def known_revisions() -> set[str]:
    """Every revision id of this version's migrations."""
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(alembic_config_for_scripts()).walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config_for_scripts()).get_current_head()


def alembic_config_for_scripts() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def check_not_newer(engine: Engine) -> str | None:
    """The database's revision; :class:`SchemaTooNew` when this code does not know it."""
    rev = current_revision(engine)
    if rev is not None and rev not in known_revisions():
        raise SchemaTooNew(
            f"database {engine.url.render_as_string(hide_password=True)} is at schema revision {rev!r}, which this "
            f"version of subsidence does not know (its newest is {head_revision()!r}): a newer release has migrated "
            "it. Nothing was changed; install that release or a newer one (a downgrade needs the newer release's "
            "`subsidence db downgrade`)."
        )
    return rev


#: PostgreSQL advisory lock key held while migrating (any constant unique to this application)
MIGRATION_LOCK_KEY = 0x5B51_D3_17


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Let one process at a time migrate: several services starting together (the web server, the dispatcher,
    the sweep timer, each running ``upgrade`` first) would otherwise all try to create the same tables, and all
    but one fail. PostgreSQL: a session advisory lock; SQLite: an exclusive ``flock`` on ``<db>.migrate-lock``."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
        return
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db == ":memory:":
        yield
        return
    import fcntl

    lock = Path(f"{Path(db).resolve()}.migrate-lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: newest); refuses a database newer than the code.
    Concurrent callers wait for each other (:func:`migration_lock`); the later ones find nothing to do."""
    with migration_lock(engine):
        check_not_newer(engine)
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
