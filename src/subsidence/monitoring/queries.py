"""The reading side of monitoring: alarm lists and the warning feed, current levels per hazard point, the
thresholds drawn on a sensor's chart, an alarm's history, the outbox backlog and a sensor's chart series."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.errors import NotFound
from subsidence.monitoring.evaluation import SensorRules
from subsidence.monitoring.models import (
    Alarm,
    AlarmEvent,
    HazardPoint,
    OutboxMessage,
    Sensor,
)
from subsidence.monitoring.warning.levels import AlarmKind, Level

log = logging.getLogger(__name__)


def list_alarms(
    session: Session, *, state: str | None = "active", hazard_point: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    q = (
        select(Alarm, Sensor.code, HazardPoint.code)
        .outerjoin(Sensor, Sensor.id == Alarm.sensor_id)
        .outerjoin(HazardPoint, HazardPoint.id == Alarm.hazard_point_id)
    )
    if state == "active":
        q = q.where(Alarm.state.in_(("open", "acknowledged")))
    elif state:
        q = q.where(Alarm.state == state)
    if hazard_point:
        q = q.where(HazardPoint.code == hazard_point)
    q = q.order_by(Alarm.level.desc(), Alarm.opened_at.desc()).limit(limit)
    out = []
    for a, scode, hcode in session.execute(q):
        out.append(
            {
                "id": a.id,
                "sensor": scode,
                "hazard_point": hcode,
                "kind": a.kind,
                "kind_zh": AlarmKind(a.kind).label(),
                "level": Level(a.level).code,
                "level_zh": Level(a.level).label(),
                "data_quality": a.data_quality,
                "state": a.state,
                "opened_at": a.opened_at,
                "level_since": a.level_since,
                "acknowledged_by": a.acknowledged_by,
                "acknowledged_at": a.acknowledged_at,
                "escalation_stage": a.escalation_stage,
                "next_escalation_at": a.next_escalation_at,
                "message": a.message,
            }
        )
    return out


def feed(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Newest alarms first (open and recently cleared), as plain dicts for the web feed."""
    q = (
        select(Alarm, Sensor.code, HazardPoint.code)
        .outerjoin(Sensor, Sensor.id == Alarm.sensor_id)
        .outerjoin(HazardPoint, HazardPoint.id == Alarm.hazard_point_id)
        .order_by(Alarm.open_key.is_(None), Alarm.level.desc(), Alarm.opened_at.desc())
        .limit(limit)
    )
    return [
        {
            "id": a.id,
            "level": Level(a.level).code,
            "level_label": Level(a.level).label(),
            "kind": a.kind,
            "kind_label": AlarmKind(a.kind).label(),
            "data_quality": a.data_quality,
            "state": a.state,
            "hazard_point_id": a.hazard_point_id,
            "hazard_point": hcode,
            "sensor_id": a.sensor_id,
            "sensor": scode,
            "raised_at": a.opened_at.isoformat(),
            "message": a.message,
            "acknowledged_by": a.acknowledged_by,
            "escalation_stage": a.escalation_stage,
            "forecast": (a.details or {}).get("forecast"),
        }
        for a, scode, hcode in session.execute(q)
    ]


def current_levels(session: Session, hazard_ids: Iterable[int]) -> dict[int, str]:
    """Highest open ground-movement alarm level per hazard point (data-quality alarms excluded)."""
    ids = list(hazard_ids)
    if not ids:
        return {}
    from sqlalchemy import func

    q = (
        select(Alarm.hazard_point_id, func.max(Alarm.level))
        .where(Alarm.hazard_point_id.in_(ids), Alarm.open_key.is_not(None), Alarm.data_quality.is_(False))
        .group_by(Alarm.hazard_point_id)
    )
    return {hp: Level(int(lvl)).code for hp, lvl in session.execute(q) if lvl}


def thresholds_for(session: Session, sensor: Sensor) -> list[dict[str, Any]]:
    """The value thresholds of a sensor in its unit (for drawing on its chart)."""
    rules = SensorRules.for_sensor(sensor)
    out = []
    spec = (rules.threshold or {}).get("value") or (rules.groundwater or {}).get("depth")
    if spec:
        for lvl, v in zip((Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED), spec):
            if v is not None:
                out.append({"level": lvl.code, "label": lvl.label(), "value": float(v), "unit": sensor.unit})
    return out


def alarm_history(session: Session, alarm_id: int) -> list[dict[str, Any]]:
    if session.get(Alarm, alarm_id) is None:
        raise NotFound(f"alarm {alarm_id} does not exist")
    return [
        {"at": e.at, "event": e.event, "level": Level(e.level).code, "actor": e.actor, "details": e.details}
        for e in session.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id))
    ]


def outbox_status(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    return {
        state: n
        for state, n in session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    }


def series(session, sensor: Sensor, limit: int = 2000) -> dict[str, Any]:
    """The newest ``limit`` samples, or time-bucket means when the sensor has more (so charts stay light)."""

    from subsidence.monitoring.ingest import bucketed, latest_times
    from subsidence.monitoring.ingest import series as raw_series

    last = latest_times(session, [sensor.id]).get(sensor.id)
    if last is None:
        return {"points": []}
    t, v = raw_series(session, sensor.id, start=last - timedelta(days=30))
    if t.size <= limit:
        return {"points": [{"t": f"{x.astype('datetime64[s]')}Z", "v": float(y)} for x, y in zip(t, v)]}
    span = (t[-1] - t[0]).astype("timedelta64[s]").astype(int)
    bucket = max(60, int(span // limit) + 1)
    rows = bucketed(session, sensor.id, last - timedelta(days=30), last + timedelta(seconds=1), bucket)
    return {
        "points": [{"t": r["time"].isoformat(), "v": r["mean"], "min": r["min"], "max": r["max"]} for r in rows],
        "bucket_s": bucket,
    }


# ------------------------------------------------------------------------------- the caller's view


def _alarm_scope(actor: Any, action: str = "read") -> Any:
    """Alarms of the hazard points and sensors ``actor`` may ``action`` (read or acknowledge)."""
    from sqlalchemy import or_

    from subsidence.access import policy as authz

    hp = authz.visible(actor, "hazard_point", action).with_only_columns(HazardPoint.id)
    sensors = authz.visible(actor, "sensor", action).with_only_columns(Sensor.id)
    return or_(Alarm.hazard_point_id.in_(hp), Alarm.hazard_point_id.is_(None) & Alarm.sensor_id.in_(sensors))


def feed_for(session: Session, actor: Any, limit: int = 100) -> list[dict[str, Any]]:
    """The warning feed within ``actor``'s scope, newest and highest first; ``can_ack`` tells whether the
    actor may acknowledge each one (an alarm of a hazard point by the hazard point's rule, else by the
    sensor's)."""
    from subsidence.access import policy as authz

    roles_may = authz.policy("hazard_point").allows_role(actor, "acknowledge") or authz.policy("sensor").allows_role(
        actor, "acknowledge"
    )
    q = (
        select(Alarm, Sensor.code, HazardPoint.code)
        .outerjoin(Sensor, Sensor.id == Alarm.sensor_id)
        .outerjoin(HazardPoint, HazardPoint.id == Alarm.hazard_point_id)
        .where(_alarm_scope(actor))
        .order_by(Alarm.open_key.is_(None), Alarm.level.desc(), Alarm.opened_at.desc())
        .limit(limit)
    )
    rows = session.execute(q).all()
    ackable: set[int] = set()
    if roles_may and rows:
        ids = [a.id for a, _, _ in rows]
        ackable = set(session.scalars(select(Alarm.id).where(Alarm.id.in_(ids), _alarm_scope(actor, "acknowledge"))))
    return [
        {
            "id": a.id,
            "level": Level(a.level).code,
            "level_label": Level(a.level).label(),
            "kind": a.kind,
            "kind_label": AlarmKind(a.kind).label(),
            "data_quality": a.data_quality,
            "state": a.state,
            "state_label": ALARM_STATE_ZH.get(a.state, a.state),
            "hazard_point_id": a.hazard_point_id,
            "hazard_point": hcode,
            "sensor_id": a.sensor_id,
            "sensor": scode,
            "raised_at": a.opened_at.isoformat(),
            "message": a.message,
            "acknowledged_by": a.acknowledged_by,
            "escalation_stage": a.escalation_stage,
            "forecast": (a.details or {}).get("forecast"),
            "can_ack": a.id in ackable and a.state == "open",
        }
        for a, scode, hcode in rows
    ]


#: alarm states in words
ALARM_STATE_ZH = {"open": "未确认", "acknowledged": "已确认", "cleared": "已解除"}


def alarm_to_acknowledge(session: Session, actor: Any, alarm_id: int) -> Alarm:
    """The alarm ``alarm_id`` if ``actor`` may acknowledge it; otherwise :class:`NotFound` with one message for
    every cause (missing, outside the scope, not allowed), so an error never tells whose alarm it is."""
    alarm = session.scalar(select(Alarm).where(Alarm.id == alarm_id, _alarm_scope(actor, "acknowledge")))
    if alarm is None:
        raise NotFound(f"预警 {alarm_id} 不存在或不在您的权限范围内 / alarm {alarm_id} not found")
    return alarm
