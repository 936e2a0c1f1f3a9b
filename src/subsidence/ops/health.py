"""Is the warning pipeline alive? One report of the database, free disk, the alarm sweep, the outbox and the
last backup, and operations alarms when one of them is not well.

:func:`report` gathers the facts (read only). :func:`raise_alarms` turns its problems into outbox messages to
the operations contacts (``SUBSIDENCE_OPS_EMAIL``, ``SUBSIDENCE_OPS_PHONE``; the log channel always) and log
lines (journald), one message per incident: the idempotency key names the check and the incident (the stale
heartbeat's time), so a check that stays failing is not re-sent every run, and a recovery is sent once when it
passes again. ``subsidence health --check`` runs both from a timer (deploy/): a sweep that has died cannot report
its own death, so the watcher runs on its own timer. When the dispatcher itself is overdue, the check also
delivers due messages (the dispatcher's own code, safe to run beside it), or an alarm about a dead dispatcher
would wait in the outbox for the dispatcher.

Thresholds (defaults that no standard fixes; an office may change them here): free disk below
:data:`MIN_FREE_BYTES` or :data:`MIN_FREE_FRACTION` of the file system; the oldest pending outbox message older
than :data:`MAX_OUTBOX_AGE_S`; jobs as in :mod:`subsidence.ops.heartbeat`.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from subsidence.db.base import utcnow
from subsidence.settings import Settings

log = logging.getLogger("subsidence.ops.health")

#: free space below which the disk is "low", bytes (a night's backup of a county is a few hundred MB)
MIN_FREE_BYTES = 5 * 2**30
#: ... or below this fraction of the file system
MIN_FREE_FRACTION = 0.05
#: the oldest pending notification may wait this long before the outbox counts as stuck, seconds
MAX_OUTBOX_AGE_S = 15 * 60
#: outbox priority of operations alarms (above every sensor alarm: levels give at most 9)
OPS_PRIORITY = 20

CHECKS = ("database", "disk", "sweep", "dispatch", "outbox", "backup")
LABELS = {
    "database": ("数据库不可用", "database unreachable"),
    "disk": ("磁盘空间不足", "disk space low"),
    "sweep": ("预警巡检（alarms evaluate）未按时运行", "alarm sweep (alarms evaluate) overdue"),
    "dispatch": ("通知发送（outbox dispatch）未按时运行", "outbox dispatcher overdue"),
    "outbox": ("通知积压", "notifications stuck in the outbox"),
    "backup": ("备份超过一天未完成", "no backup for more than a day"),
}


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _disk(path: Path) -> dict[str, Any]:
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    usage = shutil.disk_usage(p)
    frac = usage.free / usage.total if usage.total else 0.0
    return {
        "path": str(path),
        "free_bytes": usage.free,
        "total_bytes": usage.total,
        "free_fraction": round(frac, 4),
        "low": usage.free < MIN_FREE_BYTES or frac < MIN_FREE_FRACTION,
    }


def database_alive(engine: Engine) -> tuple[bool, float | None, str | None]:
    """(reachable, round-trip ms, error) by one ``SELECT 1``."""
    t0 = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return False, None, str(exc.__cause__ or exc).strip().splitlines()[0][:300]
    return True, round((time.perf_counter() - t0) * 1000, 2), None


def report(settings: Settings, engine: Engine, *, now: datetime | None = None) -> dict[str, Any]:
    """The health report (read only). ``status``: ``ok``; ``degraded`` (something needs attention, see
    ``problems``); ``down`` (the database is unreachable)."""
    from subsidence.db.migrate import current_revision, head_revision
    from subsidence.monitoring.models import OutboxMessage
    from subsidence.ops.heartbeat import jobs

    now = now or utcnow()
    problems: list[dict[str, Any]] = []
    alive, ms, error = database_alive(engine)
    db: dict[str, Any] = {
        "ok": alive,
        "dialect": engine.dialect.name,
        "url": engine.url.render_as_string(hide_password=True),
        "latency_ms": ms,
        "error": error,
    }
    out: dict[str, Any] = {"status": "ok", "checked_at": now.isoformat(), "database": db}
    disks = [_disk(Path(settings.data_dir).resolve())]
    if engine.dialect.name == "sqlite" and engine.url.database:
        db_dir = Path(engine.url.database).resolve().parent
        if db_dir != Path(settings.data_dir).resolve():
            disks.append(_disk(db_dir))
    if not alive:
        problems.append({"check": "database", "incident": "down", "message": error or "unreachable"})
    else:
        try:
            db["revision"], db["head"] = current_revision(engine), head_revision()
            db["schema_current"] = db["revision"] == db["head"]
            with Session(engine) as session:
                js = jobs(session, now)
                q = select(func.count(), func.min(OutboxMessage.created_at), func.min(OutboxMessage.id)).where(
                    OutboxMessage.state == "pending", OutboxMessage.sent_at.is_(None)
                )
                pending, oldest_at, oldest_id = session.execute(q).one()
                dead = session.scalar(select(func.count()).where(OutboxMessage.state == "dead"))
        except SQLAlchemyError as exc:
            db["ok"], db["error"] = False, str(exc.__cause__ or exc).splitlines()[0][:300]
            problems.append(
                {
                    "check": "database",
                    "incident": "schema",
                    "message": f"cannot read the operations tables ({db['error']}); run `subsidence db upgrade`",
                }
            )
        else:
            if oldest_at is not None and oldest_at.tzinfo is None:
                oldest_at = oldest_at.replace(tzinfo=UTC)
            age = (now - oldest_at).total_seconds() if oldest_at is not None else None
            out["outbox"] = {
                "pending": int(pending),
                "dead": int(dead or 0),
                "oldest_pending_at": _iso(oldest_at),
                "oldest_pending_age_s": None if age is None else round(age, 1),
                "stuck_after_s": MAX_OUTBOX_AGE_S,
            }
            for name in ("sweep", "dispatch", "backup", "health"):
                out[name] = js[name].to_dict()
            for name in ("sweep", "dispatch", "backup"):
                j = js[name]
                if j.overdue:
                    since = j.last_ok_at
                    when = f"last ran {since.isoformat()}" if since else "never ran"
                    problems.append(
                        {
                            "check": name,
                            "incident": since.strftime("%Y%m%dT%H%M%SZ") if since else "never",
                            "message": f"{when}; expected every {j.every_s} s"
                            + (f"; last error: {j.last_error}" if j.last_error else ""),
                        }
                    )
            if age is not None and age > MAX_OUTBOX_AGE_S:
                problems.append(
                    {
                        "check": "outbox",
                        "incident": f"m{oldest_id}",
                        "message": f"{pending} notifications pending, the oldest for {age / 60:.0f} min",
                    }
                )
            last = (js["backup"].detail or {}).get("path")
            if last:
                out["backup"]["archive"] = last
                out["backup"]["archive_present"] = Path(last).is_file()
                disks.append(_disk(Path(last).parent))
    out["disk"] = disks
    for d in disks:
        if d["low"]:
            problems.append(
                {
                    "check": "disk",
                    "incident": f"{d['path']}@{now:%Y%m%d}",
                    "message": f"{d['path']}: {d['free_bytes'] / 2**30:.1f} GiB free ({d['free_fraction']:.0%})",
                }
            )
    out["problems"] = problems
    out["status"] = (
        "down" if not db["ok"] and any(p["incident"] == "down" for p in problems) else "degraded" if problems else "ok"
    )
    return out


def liveness(engine: Engine) -> dict[str, Any]:
    """What anybody may see: ``ok`` when this process answers and reaches the database, else ``down``."""
    alive, _, _ = database_alive(engine)
    return {"status": "ok" if alive else "down"}


def may_see_details(actor: Any) -> bool:
    """The policy of this resource: the full report is for the office (领导小组办公室) only; everybody else,
    signed in or not, gets liveness (it would otherwise tell outsiders about backups and disks)."""
    from subsidence.vocabulary import Role

    return getattr(actor, "role", None) == Role.OFFICE and getattr(actor, "user_id", None) is not None


def _recipients(settings: Settings) -> list[tuple[str, str]]:
    out = [("log", "ops")]
    if settings.ops_email:
        out.append(("email", settings.ops_email))
    if settings.ops_phone:
        out.append(("sms", settings.ops_phone))
    return out


def raise_alarms(
    session: Session, rep: dict[str, Any], settings: Settings, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Queue an operations alarm for each new incident in ``rep['problems']`` and a recovery notice for each
    check whose last incident has passed (in ``session``; the caller commits). Returns what was queued.

    Nothing is queued about the database being down (the outbox lives in it): that goes to the log only."""
    from subsidence.monitoring.models import OutboxMessage

    now = now or utcnow()
    queued: list[dict[str, Any]] = []
    failing = {p["check"]: p for p in rep["problems"]}
    for check, p in failing.items():
        zh, en = LABELS[check]
        log.error("OPS ALARM %s: %s — %s", check, en, p["message"])
        if check == "database":
            continue
        for channel, addr in _recipients(settings):
            key = f"ops:{check}:{p['incident']}:alarm:{channel}:{addr}"[:120]
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None:
                continue
            session.add(
                OutboxMessage(
                    idempotency_key=key,
                    channel=channel,
                    recipient=addr,
                    recipient_role="运维 / operations",
                    subject=f"【运维告警】{zh} / ops alarm: {en}"[:300],
                    priority=OPS_PRIORITY,
                    body=f"{zh}：{p['message']}\n{en}: {p['message']}\n检查时间 checked at {now.isoformat()}；"
                    "见 `subsidence health` / see `subsidence health`.",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            queued.append({"check": check, "kind": "alarm", "channel": channel, "key": key})
    if not rep["database"]["ok"]:
        return queued
    for check in ("sweep", "dispatch", "backup", "outbox", "disk"):
        if check in failing:
            continue
        last = session.scalar(
            select(OutboxMessage.idempotency_key)
            .where(OutboxMessage.idempotency_key.like(f"ops:{check}:%:log:ops"))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        if last is None or ":alarm:" not in last:
            continue
        incident = last[len(f"ops:{check}:") : last.index(":alarm:")]
        zh, en = LABELS[check]
        log.warning("OPS RECOVERED %s: %s is well again", check, en)
        for channel, addr in _recipients(settings):
            key = f"ops:{check}:{incident}:ok:{channel}:{addr}"[:120]
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None:
                continue
            session.add(
                OutboxMessage(
                    idempotency_key=key,
                    channel=channel,
                    recipient=addr,
                    recipient_role="运维 / operations",
                    subject=f"【运维恢复】{zh}已恢复 / ops recovered: {en}"[:300],
                    priority=OPS_PRIORITY,
                    body=f"已恢复 recovered at {now.isoformat()}",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            queued.append({"check": check, "kind": "ok", "channel": channel, "key": key})
    return queued


def check(settings: Settings, engine: Engine, *, now: datetime | None = None, deliver: bool = True) -> dict[str, Any]:
    """``subsidence health --check``: report, queue operations alarms, record the health heartbeat, and deliver
    due messages when the dispatcher is overdue. Returns the report with ``alarms`` (and ``delivered``)."""
    from subsidence.db.session import make_sessionmaker
    from subsidence.ops.heartbeat import beat

    now = now or utcnow()
    rep = report(settings, engine, now=now)
    if not rep["database"]["ok"]:
        rep["alarms"] = []  # the outbox lives in the database: the log (journald) only
        for p in rep["problems"]:
            log.error("OPS ALARM %s: %s — %s", p["check"], LABELS[p["check"]][1], p["message"])
        return rep
    with make_sessionmaker(engine)() as session:
        rep["alarms"] = raise_alarms(session, rep, settings, now=now)
        beat(
            session,
            "health",
            detail={"status": rep["status"], "problems": [p["check"] for p in rep["problems"]]},
            now=now,
        )
        session.commit()
    if deliver and any(p["check"] == "dispatch" for p in rep["problems"]):
        from subsidence.monitoring.channels import channels_from_settings
        from subsidence.monitoring.outbox import dispatch

        log.warning("the dispatcher is overdue: delivering due notifications from the health check")
        rep["delivered"] = dispatch(engine, channels_from_settings(), limit=200).to_dict()
    return rep
