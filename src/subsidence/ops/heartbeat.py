"""Heartbeats of the periodic jobs, and when one of them counts as overdue.

Each job calls :func:`beat` when a run ends. A job is **overdue** when its last successful run is older than
its interval plus a tolerance of one interval, at least 60 s and at most 2 h (timer jitter, a slow run):

=========  ===========================================  ========  ===============
name       job                                          interval  overdue after
=========  ===========================================  ========  ===============
sweep      ``subsidence alarms evaluate`` (timer)       60 s      2 min
dispatch   ``subsidence outbox dispatch --loop 10``     10 s      70 s
backup     ``subsidence backup create`` (nightly)       1 day     26 h
health     ``subsidence health --check`` (timer)        5 min     10 min
=========  ===========================================  ========  ===============

The intervals are those of the units in ``deploy/`` (README "Deployment"); a dispatcher started with
``--loop N`` records its own N.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from subsidence.db.base import utcnow
from subsidence.ops.models import Heartbeat

#: expected interval of each job, seconds (the deploy/ units' schedules)
EVERY_S: dict[str, int] = {"sweep": 60, "dispatch": 10, "backup": 86_400, "health": 300}
#: bounds of the tolerance added to the interval before a job is overdue, seconds
MIN_TOLERANCE_S, MAX_TOLERANCE_S = 60, 7_200


def overdue_after(every_s: int) -> timedelta:
    """How long after its last successful run a job with interval ``every_s`` (s) is overdue."""
    return timedelta(seconds=every_s + max(MIN_TOLERANCE_S, min(every_s, MAX_TOLERANCE_S)))


def _host() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def beat(
    session: Session,
    name: str,
    *,
    ok: bool = True,
    every_s: int | None = None,
    detail: dict[str, Any] | None = None,
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record that job ``name`` finished a run (in ``session``'s transaction; the caller commits).

    An insert-or-update in one statement (``ON CONFLICT DO UPDATE`` on both dialects), so two dispatchers
    beating at the same moment never collide. ``every_s`` defaults to the last recorded interval, else
    :data:`EVERY_S`.
    """
    if name not in EVERY_S:
        raise ValueError(f"unknown heartbeat {name!r}; known: {', '.join(EVERY_S)}")
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = Heartbeat.__table__
    values = {
        "name": name,
        "last_run_at": now,
        "last_ok_at": now if ok else None,
        "every_s": every_s or EVERY_S[name],
        "runs": 1,
        "failures": 0 if ok else 1,
        "host": _host(),
        "detail": detail,
        "last_error": None if ok else (error or "failed")[:4000],
    }
    stmt = insert(table).values(**values)
    update = {
        "last_run_at": stmt.excluded.last_run_at,
        "runs": table.c.runs + 1,
        "host": stmt.excluded.host,
        "detail": stmt.excluded.detail,
        "last_error": stmt.excluded.last_error,
    }
    if every_s is not None:
        update["every_s"] = stmt.excluded.every_s
    if ok:
        update["last_ok_at"] = stmt.excluded.last_ok_at
        update["failures"] = 0
    else:
        update["failures"] = table.c.failures + 1
    session.execute(stmt.on_conflict_do_update(index_elements=[table.c.name], set_=update))


def beat_now(engine: Engine, name: str, **kw: Any) -> None:
    """:func:`beat` in a transaction of its own."""
    from subsidence.db.session import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        beat(session, name, **kw)
        session.commit()


@dataclass(frozen=True)
class JobState:
    """One job as the health report sees it."""

    name: str
    last_run_at: datetime | None
    last_ok_at: datetime | None
    every_s: int
    failures: int
    detail: dict[str, Any] | None
    last_error: str | None
    overdue: bool
    age_s: float | None  #: seconds since the last successful run (None: never ran)

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "last_ok_at": self.last_ok_at.isoformat() if self.last_ok_at else None,
            "age_s": None if self.age_s is None else round(self.age_s, 1),
            "every_s": self.every_s,
            "overdue_after_s": int(overdue_after(self.every_s).total_seconds()),
            "overdue": self.overdue,
            "failures_in_a_row": self.failures,
            "last_error": self.last_error,
            "detail": self.detail,
        }


def jobs(session: Session, now: datetime | None = None) -> dict[str, JobState]:
    """Every known job's state at ``now`` (a job that never ran is overdue)."""
    now = now or utcnow()
    rows = {h.name: h for h in session.scalars(select(Heartbeat))}
    out: dict[str, JobState] = {}
    for name, default_every in EVERY_S.items():
        h = rows.get(name)
        every = h.every_s if h is not None else default_every
        ok_at = h.last_ok_at if h is not None else None
        age = (now - ok_at).total_seconds() if ok_at is not None else None
        out[name] = JobState(
            name=name,
            last_run_at=h.last_run_at if h else None,
            last_ok_at=ok_at,
            every_s=every,
            failures=h.failures if h else 0,
            detail=h.detail if h else None,
            last_error=h.last_error if h else None,
            overdue=age is None or age > overdue_after(every).total_seconds(),
            age_s=age,
        )
    return out
