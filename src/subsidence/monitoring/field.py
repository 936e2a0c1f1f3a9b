"""Field reports of the mass-monitoring network (群测群防) as warning data.

A hazard point's responsible person or monitor walks the slope or the subsidence basin and reports what
they see: a note, a photo, the phone's position, a crack width measured with a tape or a ruler, and the
macro signs they are trained to recognise (new cracks, bulging, seepage or muddy springs, sounds, tilting
trees or walls). A report enters the alarm engine (:func:`subsidence.monitoring.evaluation.evaluate`) as
observations of two *manual sensors* of the hazard point, created on first use:

``<code>-QCQF-W``  crack width in mm (kind ``crack_meter``), value thresholds :data:`CRACK_WIDTH_MM`;
``<code>-QCQF-S``  macro-sign level 0–4 (:func:`sign_level`), thresholds 1/2/3/4.

so a report is levelled, confirmed (a manual reading is a checked observation: ``confirm_samples`` 1, and an
automatic sensor of the same rule at the hazard point corroborates), escalated and notified exactly like a
sensor, and clears when later reports fall back. The office tunes the rules in the manual sensors'
``Sensor.config`` like any other sensor. The report itself, its photo and the alarms it raised or changed are
one ``field_observation`` event in the hazard point's audit trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import AuditEvent
from subsidence.db.audit import record_event
from subsidence.db.base import utcnow
from subsidence.errors import NotFound, ValidationFailed
from subsidence.io.files import atomic_write_bytes
from subsidence.monitoring.models import Alarm, HazardPoint, Sensor
from subsidence.vocabulary import SensorKind

#: the macro signs a mass-monitoring person reports, with the level each one alone indicates
#: (1 blue … 4 red). [verify] Defaults after the precursor lists taught to 群测群防 staff (cracks that are new or
#: widen, bulging at the toe, springs that appear, dry up or turn muddy, cracking sounds, "drunken" trees and
#: tilting walls); settled by the county's 地质灾害群测群防 manual or the Natural Resources Bureau's duty rules.
SIGNS: dict[str, tuple[str, str, int]] = {
    "new_cracks": ("新增裂缝或裂缝加宽", "new or widening cracks", 2),
    "bulging": ("地面鼓胀、隆起", "ground bulging", 3),
    "seepage": ("渗水、泉水突现或浑浊", "seepage or muddy springs", 3),
    "sounds": ("岩土体异响", "cracking sounds from the ground", 3),
    "tilting": ("树木歪斜、墙体倾斜开裂", "tilting trees or walls", 2),
}
#: crack width thresholds (mm) for blue, yellow, orange, red. [verify] Settled by the hazard point's own
#: monitoring plan (监测预警方案); the office sets them per hazard point in the manual sensor's config.
CRACK_WIDTH_MM = (10.0, 20.0, 30.0, 50.0)
#: a report clears a field alarm only after readings stay below it this long (patrols are days apart)
FIELD_CLEAR_DELAY = timedelta(days=3)

PHOTO_TYPES = {b"\xff\xd8\xff": ("image/jpeg", "jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", "png")}
MAX_PHOTO_BYTES = 20 * 1024 * 1024


def sign_level(signs: Iterable[str]) -> int:
    """Level 0–4 the reported macro signs indicate: the highest single sign, one level more when three or
    more different signs are seen together (red at most). Unknown names raise :class:`ValidationFailed`."""
    names = set(signs)
    unknown = names - set(SIGNS)
    if unknown:
        raise ValidationFailed(f"unknown sign(s) {sorted(unknown)}; use {sorted(SIGNS)}")
    if not names:
        return 0
    level = max(SIGNS[n][2] for n in names)
    return min(4, level + 1) if len(names) >= 3 else level


def _manual_sensor(
    session: Session, hp: HazardPoint, suffix: str, unit: str, name: str, thresholds: tuple[float, ...]
) -> Sensor:
    code = f"{hp.code}-QCQF-{suffix}"
    sensor = session.scalar(select(Sensor).where(Sensor.code == code))
    if sensor is None:
        sensor = Sensor(
            code=code,
            kind=SensorKind.CRACK_METER,
            unit=unit,
            name=name,
            hazard_point_id=hp.id,
            mine_id=hp.mine_id,
            geometry=hp.geometry,
            active=True,
            illustrative=hp.illustrative,
            config={
                "manual": True,
                "confirm_samples": 1,
                "clear_delay_s": FIELD_CLEAR_DELAY.total_seconds(),
                "threshold": {"value": list(thresholds)},
            },
        )
        session.add(sensor)
        session.flush()
    return sensor


def store_photo(data: bytes, filename: str, data_dir: Path) -> dict[str, Any]:
    """Content-addressed photo store under ``data_dir/field-photos`` (type sniffed from the bytes)."""
    if not data:
        raise ValidationFailed(f"photo {filename!r} is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(f"photo {filename!r} is over {MAX_PHOTO_BYTES // 2**20} MiB")
    kind = next((v for k, v in PHOTO_TYPES.items() if data.startswith(k)), None)
    if kind is None:
        raise ValidationFailed(f"photo {filename!r} is not a JPEG or PNG image (照片须为 JPEG 或 PNG)")
    digest = hashlib.sha256(data).hexdigest()
    root = data_dir / "field-photos" / digest[:2]
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{digest}.{kind[1]}"
    if not path.exists():
        atomic_write_bytes(path, data)
    return {"sha256": digest, "media_type": kind[0], "size_bytes": len(data), "filename": filename[:200]}


def record_report(
    session: Session,
    hp: HazardPoint,
    *,
    actor: str,
    note: str,
    observed_at: datetime | None = None,
    crack_width_mm: float | None = None,
    signs: Iterable[str] = (),
    lon: float | None = None,
    lat: float | None = None,
    accuracy_m: float | None = None,
    photo: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record a field report and run it through the alarm engine; returns the report as stored, with the
    alarms it raised or changed (``alarms``: id, level, event).

    Readings are stored at the time the server receives them (``now``), so a report typed up late never
    lands behind readings the engine has already evaluated; ``observed_at`` (the patrol time, with its time
    zone) is kept in the report. Width in mm (≥ 0); signs from :data:`SIGNS`.
    """
    from subsidence.monitoring.evaluation import evaluate
    from subsidence.monitoring.ingest import store_observations

    signs = sorted(set(signs))
    level = sign_level(signs)
    if crack_width_mm is not None and not 0 <= crack_width_mm <= 10_000:
        raise ValidationFailed(f"crack_width_mm={crack_width_mm}: give 0–10000 mm")
    now = now or utcnow()
    rows = []
    sensors = [_manual_sensor(session, hp, "S", "级", "宏观变形迹象（群测群防）", (1, 2, 3, 4))]
    rows.append({"sensor_id": sensors[0].id, "time": now, "value": float(level)})
    if crack_width_mm is not None:
        w = _manual_sensor(session, hp, "W", "mm", "裂缝宽度（群测群防人工测量）", CRACK_WIDTH_MM)
        sensors.append(w)
        rows.append({"sensor_id": w.id, "time": now, "value": float(crack_width_mm)})
    store_observations(session, rows)
    report = evaluate(session, now=now, sensor_ids=[s.id for s in sensors], actor=actor)
    event_of = {next(s.id for s in sensors if s.code == t["sensor"]): t["event"] for t in report.transitions}
    alarm_rows = session.execute(
        select(Alarm.id, Alarm.level, Alarm.sensor_id).where(
            Alarm.sensor_id.in_([s.id for s in sensors]), Alarm.open_key.is_not(None)
        )
    ).all()
    # every alarm open at the manual sensors after this report: raised/upgraded by it, or still open
    alarms = [{"id": a_id, "level": lvl, "event": event_of.get(sid, "still_open")} for a_id, lvl, sid in alarm_rows]
    after = {
        "note": note,
        "lon": lon,
        "lat": lat,
        "accuracy_m": accuracy_m,
        "observed_at": (observed_at or now).isoformat(),
        "received_at": now.isoformat(),
        "crack_width_mm": crack_width_mm,
        "signs": signs,
        "sign_level": level,
        "photo": photo,
        "alarms": alarms,
    }
    record_event(
        session,
        entity="hazard_point",
        entity_id=hp.id,
        entity_key=hp.code,
        action="field_observation",
        after=after,
        actor=actor,
        reason="群测群防巡查 / field patrol",
    )
    for a in alarms:  # the alarm points back at the report that raised it (and its photo)
        alarm = session.get(Alarm, a["id"])
        alarm.details = {
            **(alarm.details or {}),
            "field_report": {
                "received_at": now.isoformat(),
                "by": actor,
                "photo": (photo or {}).get("sha256"),
                "note": note[:200],
            },
        }
    session.flush()
    return after


def reports_by(session: Session, actor: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """The field reports ``actor`` (its audit name) filed, newest first, with the hazard point's code."""
    rows = session.execute(
        select(AuditEvent.id, AuditEvent.at, AuditEvent.entity_key, AuditEvent.entity_id, AuditEvent.after)
        .where(AuditEvent.entity == "hazard_point", AuditEvent.action == "field_observation", AuditEvent.actor == actor)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    from subsidence.settings import get_settings

    tz = get_settings().tz  # stored in UTC, shown in the office's time zone
    return [
        {"id": i, "at": at.astimezone(tz).isoformat(), "hazard_point": key, "hazard_point_id": hp_id, **(after or {})}
        for i, at, key, hp_id, after in rows
    ]


def photo_file(session: Session, visible_hazard_points: Any, sha256: str, data_dir: Path) -> tuple[Path, str]:
    """The stored photo ``sha256`` if it belongs to a field report of a hazard point in
    ``visible_hazard_points`` (a select of ids); :class:`NotFound` otherwise."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound("照片不存在 / photo not found")
    events = session.scalars(
        select(AuditEvent.after)
        .where(
            AuditEvent.entity == "hazard_point",
            AuditEvent.action == "field_observation",
            AuditEvent.entity_id.in_(visible_hazard_points),
        )
        .order_by(AuditEvent.id.desc())
        .limit(5000)
    )
    media = next(
        (
            (ev.get("photo") or {}).get("media_type")
            for ev in events
            if ev and (ev.get("photo") or {}).get("sha256") == sha256
        ),
        None,
    )
    if media is None:
        raise NotFound("照片不存在 / photo not found")
    path = data_dir / "field-photos" / sha256[:2] / f"{sha256}.{'png' if media == 'image/png' else 'jpg'}"
    if not path.is_file():
        raise NotFound("照片文件缺失 / photo file missing on disk")
    return path, media
