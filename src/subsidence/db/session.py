"""Engine and session factories. Nothing is created at import time."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from subsidence.db.audit import install_audit_hooks
from subsidence.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def make_engine(url: str | None = None, settings: Settings | None = None, **kwargs) -> Engine:
    """Create an engine for ``url`` (default: the settings' database URL).

    SQLite gets foreign keys, WAL and a busy timeout so that concurrent writers wait instead of failing.
    """
    settings = settings or get_settings()
    url = url or settings.resolved_database_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    install_audit_hooks()
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, future=True)


@contextlib.contextmanager
def transaction(engine: Engine, actor: str = "system", reason: str | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    factory = make_sessionmaker(engine)
    with factory() as session:
        session.info["actor"], session.info["reason"] = actor, reason
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
