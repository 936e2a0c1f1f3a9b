"""Heartbeats, the health report, operations alarms (once per incident, recovery once), the CLI and /api/health
(liveness for everybody, details for the office)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from subsidence.cli.main import app as cli
from subsidence.db.base import utcnow
from subsidence.db.session import make_sessionmaker
from subsidence.monitoring.models import OutboxMessage
from subsidence.ops import health
from subsidence.ops.heartbeat import beat, jobs, overdue_after
from subsidence.settings import Settings, get_settings

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def _beat_all(engine, now) -> None:
    with make_sessionmaker(engine)() as s:
        for name in ("sweep", "dispatch", "backup"):
            beat(s, name, now=now)
        s.commit()


def _ops_keys(engine) -> list[str]:
    with make_sessionmaker(engine)() as s:
        return list(
            s.scalars(
                select(OutboxMessage.idempotency_key)
                .where(OutboxMessage.idempotency_key.like("ops:%"))
                .order_by(OutboxMessage.id)
            )
        )


def test_overdue_thresholds():
    assert overdue_after(60) == timedelta(minutes=2)
    assert overdue_after(10) == timedelta(seconds=70)
    assert overdue_after(86_400) == timedelta(hours=26)


def test_heartbeat_upsert_counts_runs_and_failures(engine):
    t = utcnow()
    with make_sessionmaker(engine)() as s:
        beat(s, "backup", now=t, detail={"path": "/x"})
        beat(s, "backup", ok=False, error="disk full", now=t + timedelta(hours=1))
        beat(s, "backup", ok=False, error="disk full", now=t + timedelta(hours=2))
        s.commit()
        j = jobs(s, now=t + timedelta(hours=2))["backup"]
    assert j.last_ok_at == t and j.failures == 2 and j.last_error == "disk full"
    assert j.last_run_at == t + timedelta(hours=2) and not j.overdue  # the last success is 2 h old
    with make_sessionmaker(engine)() as s:
        assert jobs(s, now=t + timedelta(hours=27))["backup"].overdue


def test_report_and_alarms_once_per_incident_then_recovery(engine, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", ops_email="it@example.org")
    t = utcnow()
    _beat_all(engine, t)
    rep = health.report(settings, engine, now=t + timedelta(seconds=30))
    assert rep["status"] == "ok" and rep["problems"] == [] and rep["database"]["ok"]
    assert rep["outbox"]["pending"] == 0 and rep["disk"][0]["free_bytes"] > 0

    # 3 minutes later nothing ran again: sweep and dispatcher overdue, the backup is not
    later = t + timedelta(minutes=3)
    rep = health.report(settings, engine, now=later)
    assert rep["status"] == "degraded"
    assert {p["check"] for p in rep["problems"]} == {"sweep", "dispatch"}
    with make_sessionmaker(engine)() as s:
        queued = health.raise_alarms(s, rep, settings, now=later)
        s.commit()
    assert {(q["check"], q["channel"]) for q in queued} == {
        ("sweep", "log"),
        ("sweep", "email"),
        ("dispatch", "log"),
        ("dispatch", "email"),
    }
    with make_sessionmaker(engine)() as s:  # the same incident again: nothing new
        assert health.raise_alarms(s, health.report(settings, engine, now=later + timedelta(minutes=5)), settings) == []
        s.commit()
    assert len(_ops_keys(engine)) == 4

    # the jobs run again: one recovery per check, once
    back = later + timedelta(minutes=10)
    _beat_all(engine, back)
    rep = health.report(settings, engine, now=back)
    with make_sessionmaker(engine)() as s:
        queued = health.raise_alarms(s, rep, settings, now=back)
        s.commit()
        assert {(q["check"], q["kind"]) for q in queued} == {("sweep", "ok"), ("dispatch", "ok")}
        assert health.raise_alarms(s, rep, settings, now=back) == []
        msg = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("ops:sweep:%:alarm:log:ops")))
        assert msg.priority == health.OPS_PRIORITY and "alarms evaluate" in msg.subject

    # a day without a backup
    rep = health.report(settings, engine, now=t + timedelta(hours=27))
    assert "backup" in {p["check"] for p in rep["problems"]}


def test_outbox_backlog_and_oldest_message(engine, tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    t = utcnow()
    _beat_all(engine, t)
    with make_sessionmaker(engine)() as s:
        for i, age in enumerate((40, 5)):
            s.add(
                OutboxMessage(
                    idempotency_key=f"k{i}",
                    channel="log",
                    recipient="x",
                    subject="s",
                    body="b",
                    created_at=t - timedelta(minutes=age),
                    next_attempt_at=t,
                )
            )
        s.commit()
    rep = health.report(settings, engine, now=t)
    assert rep["outbox"]["pending"] == 2
    assert abs(rep["outbox"]["oldest_pending_age_s"] - 40 * 60) < 1
    assert [p["check"] for p in rep["problems"]] == ["outbox"]


def test_database_down_is_reported_not_raised(tmp_path):
    from subsidence.db.session import make_engine

    eng = make_engine("postgresql+psycopg://nobody:wrong@127.0.0.1:1/none")
    rep = health.report(Settings(data_dir=tmp_path), eng)
    assert rep["status"] == "down" and not rep["database"]["ok"] and rep["database"]["error"]
    assert health.liveness(eng) == {"status": "down"}


def test_cli_jobs_record_heartbeats_and_health_check_alarms(engine, monkeypatch, tmp_path):
    """The real commands of the units: a sweep, a dispatch pass and a backup each leave their heartbeat; then
    `health --json` is ok (exit 0). With the dispatcher stopped, `health --check` queues the alarm and delivers
    it to the log itself."""
    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    run = CliRunner().invoke
    for args in (["alarms", "evaluate"], ["outbox", "dispatch"], ["backup", "create", str(tmp_path / "b") + "/"]):
        r = run(cli, args)
        assert r.exit_code == 0, (args, r.output)
    r = run(cli, ["health", "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["status"] == "ok"
    assert {rep[n]["overdue"] for n in ("sweep", "dispatch", "backup")} == {False}
    assert rep["backup"]["archive_present"] is True
    assert rep["sweep"]["detail"]["sensors"] == 0

    # the dispatcher's heartbeat ages (moved back in time): the check raises it and delivers through the log
    from sqlalchemy import update

    from subsidence.ops.models import Heartbeat

    with engine.begin() as c:
        c.execute(
            update(Heartbeat).where(Heartbeat.name == "dispatch").values(last_ok_at=utcnow() - timedelta(minutes=5))
        )
    r = run(cli, ["health", "--check", "--json"])
    assert r.exit_code == 1, r.output
    rep = json.loads(r.output[r.output.index("{") :])
    assert [p["check"] for p in rep["problems"]] == ["dispatch"] and rep["delivered"]["sent"] == 1
    log = (Path(get_settings().data_dir) / "alerts.log").read_text(encoding="utf-8")
    assert "ops:dispatch:" in log and "通知发送" in log
    with make_sessionmaker(engine)() as s:
        assert jobs(s)["health"].last_ok_at is not None


def test_api_health_liveness_for_all_details_for_the_office(engine, tmp_path):
    from fastapi.testclient import TestClient

    from subsidence.access import accounts
    from subsidence.access.models import User
    from subsidence.api.app import create_app
    from subsidence.core.models import Unit
    from subsidence.vocabulary import Role, UnitKind

    with make_sessionmaker(engine)() as s:
        office = Unit(code="LGO", name_zh="领导小组办公室", kind=UnitKind.OFFICE)
        bureau = Unit(code="NRB", name_zh="自然资源局", kind=UnitKind.BUREAU)
        s.add_all([office, bureau])
        s.flush()
        uo = User(username="office", role=Role.OFFICE, unit_id=office.id, active=True)
        ud = User(username="dept", role=Role.DEPARTMENT, unit_id=bureau.id, active=True)
        s.add_all([uo, ud])
        s.flush()
        t_office, _ = accounts.issue_token(s, uo, "t")
        t_dept, _ = accounts.issue_token(s, ud, "t")
        s.commit()
    _beat_all(engine, utcnow())
    with TestClient(create_app(get_settings(), engine)) as c:
        anon = c.get("/api/health")
        assert anon.status_code == 200 and anon.json() == {"status": "ok"}
        assert anon.headers["cache-control"] == "no-store"
        dept = c.get("/api/health", headers={"Authorization": f"Bearer {t_dept}"})
        assert dept.json() == {"status": "ok"}
        full = c.get("/api/health", headers={"Authorization": f"Bearer {t_office}"})
        assert full.status_code == 200
        body = full.json()
        assert body["status"] == "ok" and body["database"]["ok"] and "outbox" in body and "sweep" in body
        if engine.url.password:  # the report names the database, never its password
            assert ":***@" in body["database"]["url"] and f":{engine.url.password}@" not in json.dumps(body)
