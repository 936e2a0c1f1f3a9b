"""``ops_heartbeat``: one row per periodic job (the alarm sweep, the outbox dispatcher, the backup, the
health check) saying when it last finished, how often it is expected to run and what it did.

A table rather than files in the data directory: every process (several web workers, the timers, a
container of its own in the Compose setup) reads the same rows without a shared volume, and the sweep's
heartbeat is written in the sweep's own transaction, so it means "committed work", not "started". Not
audited (it changes every minute and is not part of the county's record).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subsidence.db.base import Base
from subsidence.db.types import UTCDateTime


class Heartbeat(Base):
    """The last run of one periodic job. ``every_s`` is the interval the job is expected to run at (s)."""

    __tablename__ = "ops_heartbeat"

    name: Mapped[str] = mapped_column(String(40), primary_key=True, doc="sweep | dispatch | backup | health")
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), doc="when the last run finished (UTC)")
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), doc="when the last successful run finished")
    every_s: Mapped[int] = mapped_column(Integer, doc="expected interval between runs, seconds")
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0, doc="failed runs in a row (0 after a success)")
    host: Mapped[str | None] = mapped_column(String(120), doc="host name and process id of the last run")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="what the last run did (counts, path)")
    last_error: Mapped[str | None] = mapped_column(Text)
