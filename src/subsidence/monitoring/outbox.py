"""The transactional outbox's dispatcher: deliver committed notifications, never lose one.

Messages are written with the alarm (or escalation) that caused them, in one transaction. :func:`dispatch` claims
due messages with an atomic conditional UPDATE (so two dispatchers never send the same one), sends each through its
channel (:mod:`subsidence.monitoring.channels`) and records the result; a failed delivery is retried with back-off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Engine, or_, select, update

from subsidence.db.base import utcnow
from subsidence.errors import ValidationFailed
from subsidence.monitoring.channels import Channel
from subsidence.monitoring.models import (
    OutboxMessage,
)

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    skipped_no_channel: int = 0
    claimed_elsewhere: int = 0  #: due when listed, but claimed or delivered by another dispatcher first
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "no_channel": self.skipped_no_channel,
            "claimed_elsewhere": self.claimed_elsewhere,
            "errors": self.errors,
        }


def dispatch(
    engine: Engine,
    channels: dict[str, Channel],
    *,
    now: datetime | None = None,
    limit: int = 500,
    lease: timedelta = timedelta(minutes=2),
    after_send: Callable[[OutboxMessage], None] | None = None,
) -> DispatchReport:
    """Deliver due outbox messages, one at a time: claim (own committed transaction), send, mark sent.

    Claiming is a conditional ``UPDATE outbox_message SET claimed_until = now + lease, attempts = attempts + 1
    WHERE id = ? AND state = 'pending' AND sent_at IS NULL AND next_attempt_at <= now AND (claimed_until IS NULL
    OR claimed_until < now)``; a message is sent only when that statement changed exactly one row. The
    database serialises the two updates of a row (SQLite's write lock, PostgreSQL's row lock followed by a
    re-check of the WHERE clause), so when several dispatchers run at once (a ``--loop`` service and a
    manual ``alarms dispatch``) each due message is claimed, and sent, by one of them only — on both
    dialects, without ``SELECT ... FOR UPDATE``. The claim is committed before the channel is called, so no
    database transaction stays open during network I/O.

    A message whose channel is not configured falls back to the log channel, so it is never silently
    dropped. A failed send is retried with exponential back-off (capped at 10 min), never abandoned.
    ``after_send`` runs between delivery and marking (tests use it to kill the process there).

    Delivery guarantee — at least once, *exactly* once only where the channel deduplicates:
    a crash (or a lease that expires because a send took longer than ``lease``) between a successful send
    and the "sent" mark leaves the row pending, and the next dispatcher sends it again with the same
    ``idempotency_key``. The SMS webhook (``Idempotency-Key`` header) and the log channel drop a key they
    have already seen, so nothing arrives twice there. **E-mail can arrive twice**: SMTP has no idempotency
    key. The Message-ID derived from the key lets mail clients and some servers collapse the copies, but
    the protocol does not guarantee it; operators should expect an occasional duplicate e-mail after a
    dispatcher crash, never a lost one.
    """
    from sqlalchemy import func

    from subsidence.db.session import make_sessionmaker

    now = now or utcnow()
    factory = make_sessionmaker(engine)
    report = DispatchReport()
    due = (
        OutboxMessage.state == "pending",
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )
    with factory() as s:
        ids = list(
            s.scalars(
                select(OutboxMessage.id)
                .where(*due)
                .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
                .limit(limit)
            )
        )
        s.commit()  # end the read transaction before claiming (SQLite: no shared lock held while writing)
        for mid in ids:
            claimed = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mid, *due)
                .values(claimed_until=now + lease, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # another dispatcher claimed or delivered it since the SELECT
                s.rollback()
                report.claimed_elsewhere += 1
                continue
            s.commit()  # the claim is durable before anything leaves the building
            m = s.get(OutboxMessage, mid, populate_existing=True)
            s.commit()
            channel = channels.get(m.channel)
            note = None
            if channel is None:
                report.skipped_no_channel += 1
                note = f"channel {m.channel!r} not configured: delivered to the log only"
                channel = channels.get("log")
                if channel is None:
                    raise ValidationFailed("outbox dispatch needs at least the 'log' channel")
            try:
                channel.send(m)
            except Exception as exc:  # noqa: BLE001 - any channel failure is retried, and recorded
                report.failed += 1
                report.errors.append(f"{m.idempotency_key}: {exc}")
                backoff = min(timedelta(seconds=30 * 2 ** min(m.attempts - 1, 8)), timedelta(minutes=10))
                s.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == m.id, OutboxMessage.sent_at.is_(None))
                    .values(last_error=str(exc)[:2000], next_attempt_at=now + backoff, claimed_until=None)
                    .execution_options(synchronize_session=False)
                )
                s.commit()
                log.error(
                    "outbox: sending %s via %s failed (attempt %d): %s", m.idempotency_key, m.channel, m.attempts, exc
                )
                continue
            if after_send is not None:
                after_send(m)
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == m.id)
                .values(
                    state="sent",
                    sent_at=func.coalesce(OutboxMessage.sent_at, utcnow()),
                    claimed_until=None,
                    last_error=note,
                )
                .execution_options(synchronize_session=False)
            )
            s.commit()
            report.sent += 1
    return report
