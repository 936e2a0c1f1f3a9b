"""Transactional outbox: a dispatcher killed between send and mark loses nothing and sends nothing twice."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from subsidence.monitoring import channels as ch
from subsidence.monitoring import evaluation as A
from subsidence.monitoring import ingest as I
from subsidence.monitoring import outbox
from subsidence.monitoring.models import OutboxMessage

T0 = datetime(2025, 6, 1, tzinfo=UTC)


class Gateway:
    """A stand-in SMS gateway over real HTTP: it honours Idempotency-Key like real gateways do."""

    def __init__(self) -> None:
        self.delivered: dict[str, dict] = {}
        self.requests: list[str] = []
        self.fail_next = 0
        gw = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                gw.requests.append(key)
                if gw.fail_next:
                    gw.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                gw.delivered.setdefault(key, body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def gateway():
    g = Gateway()
    yield g
    g.close()


def raise_red(session, sensors):
    sensors["gnss"].config = {"threshold": {"value": [10, 20, 30, 40]}}
    rows = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(minutes=10 * i)).isoformat(), "value": 50.0 + i} for i in range(4)
    ]
    I.ingest_batch(session, rows, "x", now=T0 + timedelta(hours=1))
    A.evaluate(session, now=T0 + timedelta(hours=1), sensor_ids=[sensors["gnss"].id])
    session.commit()


CHILD = """
import os, sys
from datetime import datetime
from pathlib import Path
from subsidence.db.session import make_engine
from subsidence.monitoring.channels import LogChannel, SmsWebhookChannel
from subsidence.monitoring.outbox import dispatch
url, log_path, gw, now = sys.argv[1:5]
eng = make_engine(url)
channels = {"log": LogChannel(Path(log_path)), "sms": SmsWebhookChannel(gw)}
def crash(msg):
    os._exit(137)  # killed after the gateway accepted the message, before the outbox row is marked sent
dispatch(eng, channels, now=datetime.fromisoformat(now), after_send=crash)
"""


def test_dispatcher_killed_between_send_and_mark(engine, session, sensors, gateway, tmp_path, db_url):
    raise_red(session, sensors)
    pending = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")).all()
    assert len(pending) >= 3  # two SMS to responsible + monitor, an e-mail, the log line
    log_path = tmp_path / "alerts.log"
    now = T0 + timedelta(hours=1, minutes=1)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, str(log_path), gateway.url, now.isoformat()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 137, proc.stderr
    first_key = pending[0].idempotency_key
    session.expire_all()
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == first_key))
    assert row.state == "pending" and row.attempts == 1  # sent but not marked: the crash window
    # a restarted dispatcher (after the lease expired) finishes the job; e-mail is not configured → log
    channels = {"log": ch.LogChannel(log_path), "sms": ch.SmsWebhookChannel(gateway.url)}
    rep = outbox.dispatch(engine, channels, now=now + timedelta(minutes=5))
    assert rep.failed == 0
    session.expire_all()
    states = session.scalars(select(OutboxMessage.state)).all()
    assert set(states) == {"sent"}
    sms_keys = [m.idempotency_key for m in pending if m.channel == "sms"]
    assert sorted(gateway.delivered) == sorted(sms_keys)  # every SMS delivered exactly once …
    assert len(gateway.requests) == len(set(gateway.requests)) + (1 if pending[0].channel == "sms" else 0)
    logged = [json.loads(x)["key"] for x in log_path.read_text(encoding="utf-8").splitlines()]
    assert len(logged) == len(set(logged))  # … and no log line twice
    # nothing is sent again by later runs
    assert outbox.dispatch(engine, channels, now=now + timedelta(hours=1)).sent == 0


def test_failed_delivery_is_retried_not_lost(engine, session, sensors, gateway, tmp_path):
    raise_red(session, sensors)
    gateway.fail_next = 100
    channels = {"log": ch.LogChannel(tmp_path / "a.log"), "sms": ch.SmsWebhookChannel(gateway.url)}
    now = T0 + timedelta(hours=2)
    rep = outbox.dispatch(engine, channels, now=now)
    assert rep.failed >= 2 and rep.sent >= 1
    session.expire_all()
    failing = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")).all()
    assert failing and all(m.last_error and m.next_attempt_at > now for m in failing)
    assert outbox.dispatch(engine, channels, now=now + timedelta(seconds=1)).sent == 0  # back-off respected
    gateway.fail_next = 0
    rep = outbox.dispatch(engine, channels, now=now + timedelta(minutes=15))
    assert rep.sent == len(failing)
    session.expire_all()
    assert set(session.scalars(select(OutboxMessage.state)).all()) == {"sent"}


def test_alarm_and_outbox_roll_back_together(engine, session, sensors):
    sensors["gnss"].config = {"threshold": {"value": [10, 20, 30, 40]}}
    rows = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(minutes=10 * i)).isoformat(), "value": 50.0} for i in range(4)
    ]
    I.ingest_batch(session, rows, "x", now=T0 + timedelta(hours=1))
    A.evaluate(session, now=T0 + timedelta(hours=1), sensor_ids=[sensors["gnss"].id])
    assert session.scalars(select(OutboxMessage)).all()
    session.rollback()  # the transaction fails after evaluation: no alarm, no message, no orphan
    assert session.scalars(select(OutboxMessage)).all() == []


def test_red_is_delivered_before_older_lower_levels(engine, session, sensors, tmp_path):
    from subsidence.monitoring.models import Alarm

    a = Alarm(kind="threshold", level=1, max_level=4, state="open", opened_at=T0, level_since=T0, message="x")
    session.add(a)
    session.flush()
    for key, prio in (("old-blue", 3), ("dq", 0), ("new-red", 9)):
        session.add(
            OutboxMessage(
                idempotency_key=key,
                alarm_id=a.id,
                channel="log",
                recipient="r",
                subject=key,
                body=key,
                priority=prio,
                created_at=T0,
                next_attempt_at=T0,
            )
        )
    session.commit()
    log = tmp_path / "order.log"
    for _ in range(3):
        outbox.dispatch(engine, {"log": ch.LogChannel(log)}, now=T0 + timedelta(minutes=1), limit=1)
    assert [json.loads(x)["key"] for x in log.read_text(encoding="utf-8").splitlines()] == ["new-red", "old-blue", "dq"]


def test_blue_goes_to_the_monitor_only_yellow_to_the_responsible(session, sensors):
    sensors["gnss"].config = {"threshold": {"value": [10, 20, 30, 40]}}
    rows = [
        {"sensor": "GNSS-01", "time": (T0 + timedelta(minutes=10 * i)).isoformat(), "value": v}
        for i, v in enumerate([12, 12, 12, 25, 25, 25])
    ]
    I.ingest_batch(session, rows[:3], "x", now=T0 + timedelta(hours=1))
    A.evaluate(session, now=T0 + timedelta(hours=1), sensor_ids=[sensors["gnss"].id])
    blue = {m.recipient for m in session.scalars(select(OutboxMessage)) if m.channel == "sms"}
    assert blue == {"13800000002"}  # the monitor
    I.ingest_batch(session, rows[3:], "y", now=T0 + timedelta(hours=2))
    A.evaluate(session, now=T0 + timedelta(hours=2), sensor_ids=[sensors["gnss"].id])
    sms = {
        m.recipient
        for m in session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("%黄色%")))
        if m.channel == "sms"
    }
    assert sms == {"13800000001", "13800000002"}


class RecordingChannel:
    """Counts every delivery attempt per idempotency key (a channel without deduplication, like SMTP)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def send(self, msg) -> None:
        with self._lock:
            self.calls.append(msg.idempotency_key)


def test_two_concurrent_dispatchers_send_each_message_once(engine, session, sensors):
    """A ``--loop`` service and a manual run list the same due messages; each message is still sent once.

    The interleaving is forced: both dispatchers must have run their candidate SELECT before either claims
    anything (a barrier in the engine's ``after_cursor_execute`` hook), the worst case for a select-then-mark
    claim."""
    from sqlalchemy import event

    raise_red(session, sensors)
    pending = session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.state == "pending")).all()
    assert len(pending) >= 3
    barrier = threading.Barrier(2, timeout=30)
    selects: list[int] = []

    def both_listed(conn, cursor, statement, params, context, executemany):  # noqa: ARG001
        s = statement.lstrip().upper()
        if s.startswith("SELECT") and "FROM OUTBOX_MESSAGE" in s and "ORDER BY OUTBOX_MESSAGE.PRIORITY" in s:
            selects.append(1)
            barrier.wait()

    channels = {name: RecordingChannel(name) for name in ("log", "sms", "email")}
    reports: list = []
    errors: list[BaseException] = []

    def run():
        try:
            reports.append(outbox.dispatch(engine, channels, now=T0 + timedelta(hours=1, minutes=1)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    event.listen(engine, "after_cursor_execute", both_listed)
    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        event.remove(engine, "after_cursor_execute", both_listed)
    assert not errors, errors
    assert len(selects) == 2
    sent = [k for ch in channels.values() for k in ch.calls]
    assert sorted(sent) == sorted(pending)  # every message exactly once, none twice
    assert sum(r.sent for r in reports) == len(pending)
    assert sum(r.claimed_elsewhere for r in reports) == len(pending)  # both listed all, each lost the other's
    session.expire_all()
    rows = session.scalars(select(OutboxMessage)).all()
    assert {m.state for m in rows} == {"sent"} and {m.attempts for m in rows} == {1}
