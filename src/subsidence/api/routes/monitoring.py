"""Hazard points, sensors and their series, field observations, the warning feed with acknowledgement.

The monitoring issue's services (observations, alarms) are used when installed; the routes answer a
clear 404 ("not installed") otherwise.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from subsidence.access import policy as authz
from subsidence.api.cache import cached_response, store_response
from subsidence.api.deps import CurrentUser, IdPath, IdQuery, Lang, SessionDep, Today
from subsidence.api.exports import Column, table_response
from subsidence.core.history import audit_trail
from subsidence.core.models import AdminArea
from subsidence.errors import NotFound, ValidationFailed
from subsidence.monitoring.models import HazardPoint, Sensor
from subsidence.vocabulary import HazardType

router = APIRouter(tags=["monitoring"])

HAZARD_COLUMNS = [
    Column("code", "编号", "code"), Column("name", "名称", "name"), Column("hazard_type_label", "类型", "type"),
    Column("town_name", "镇", "town"), Column("village", "村", "village"), Column("scale", "规模", "scale"),
    Column("threatened_households", "威胁户数", "households"), Column("threatened_people", "威胁人数", "people"),
    Column("threatened_property_10k_yuan", "威胁财产（万元）", "property (10k yuan)"),
    Column("warning_level", "预警级别", "warning level"),
]


def _svc(*names: str):
    for n in names:
        try:
            return importlib.import_module(n)
        except ImportError:
            continue
    return None


def hazard_dict(h: HazardPoint, town: str | None, lang: str) -> dict[str, Any]:
    return {"id": h.id, "code": h.code, "name": h.name, "hazard_type": h.hazard_type.value,
            "hazard_type_label": h.hazard_type.label(lang), "town_id": h.town_id, "town_name": town,
            "mine_id": h.mine_id, "village": h.village, "scale": h.scale, "stability": h.stability,
            "threatened_households": h.threatened_households, "threatened_people": h.threatened_people,
            "threatened_property_10k_yuan": h.threatened_property_10k_yuan,
            "monitoring_method": h.monitoring_method, "monitoring_frequency": h.monitoring_frequency,
            "responsible_role": h.responsible_role, "monitor_role": h.monitor_role,
            "warning_signal": h.warning_signal, "rescue_unit": h.rescue_unit, "warning_level": None,
            "illustrative": h.illustrative}


def _levels(session, ids: list[int]) -> dict[int, Any]:
    alarms = _svc("subsidence.monitoring.queries")
    fn = getattr(alarms, "current_levels", None) if alarms else None
    if fn is None or not ids:
        return {}
    try:
        return {k: getattr(v, "value", v) for k, v in fn(session, ids).items()}
    except Exception:  # noqa: BLE001
        return {}


@router.get("/api/hazard-points", summary="隐患点列表 / hazard points (filter, export)")
def list_hazard_points(request: Request, session: SessionDep, actor: CurrentUser, lang: Lang, today: Today,
                       hazard_type: Annotated[str | None, Query(max_length=40)] = None,
                       town_id: IdQuery = None,
                       limit: Annotated[int, Query(ge=1, le=5000)] = 500,
                       offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                       fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json") -> Response:
    authz.authorize_action(actor, "read", "hazard_point")
    if fmt == "json" and (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    t = AdminArea.__table__
    stmt = (select(HazardPoint, t.c.name_zh).outerjoin(t, t.c.id == HazardPoint.town_id)
            .where(authz.scope_clause(actor, "hazard_point")).order_by(HazardPoint.id))
    if hazard_type:
        try:
            stmt = stmt.where(HazardPoint.hazard_type == HazardType.parse(hazard_type))
        except ValueError as exc:
            raise ValidationFailed(f"hazard_type: {exc}") from None
    if town_id is not None:
        stmt = stmt.where(HazardPoint.town_id == town_id)
    if fmt == "json":
        stmt = stmt.offset(offset).limit(limit)
    rows = [hazard_dict(h, town, lang) for h, town in session.execute(stmt)]
    levels = _levels(session, [r["id"] for r in rows])
    for r in rows:
        r["warning_level"] = levels.get(r["id"])
    resp = table_response(rows, HAZARD_COLUMNS, fmt, "hazard-points", lang, envelope={"count": len(rows)})
    return store_response(request, session, actor, lang, today, resp) if fmt == "json" else resp


def sensor_series(session, sensor: Sensor, limit: int = 2000) -> dict[str, Any]:
    """The sensor's newest observations (≤ ``limit``) and its alarm thresholds, from the monitoring service."""
    out: dict[str, Any] = {"sensor": sensor.code, "kind": sensor.kind.value, "unit": sensor.unit,
                           "points": [], "thresholds": []}
    ingest = _svc("subsidence.monitoring.ingest")
    if ingest is not None and hasattr(ingest, "series"):
        t, v = ingest.series(session, sensor.id, limit=limit)
        out["points"] = [{"t": f"{ti!s}Z", "v": float(vi)} for ti, vi in zip(t, v)]
    alarms = _svc("subsidence.monitoring.queries")
    thr = getattr(alarms, "thresholds_for", None) if alarms else None
    if thr is not None:
        try:
            out["thresholds"] = thr(session, sensor)
        except Exception:  # noqa: BLE001 - a sensor without rules simply has no lines
            out["thresholds"] = []
    return out


@router.get("/api/hazard-points/{hp_id}", summary="隐患点详情（记录、历史、监测曲线）/ a hazard point")
def get_hazard_point(hp_id: IdPath, session: SessionDep, actor: CurrentUser, lang: Lang) -> dict:
    hp = authz.get_visible(session, actor, "hazard_point", hp_id)
    town = session.get(AdminArea, hp.town_id).name_zh if hp.town_id else None
    out = hazard_dict(hp, town, lang)
    out["warning_level"] = _levels(session, [hp.id]).get(hp.id)
    sensors = list(session.scalars(authz.visible(actor, "sensor").where(Sensor.hazard_point_id == hp.id)
                                   .order_by(Sensor.code)))
    out["sensors"] = [{"id": s.id, "code": s.code, "kind": s.kind.value, "kind_label": s.kind.label(lang),
                       "unit": s.unit, "active": s.active} for s in sensors]
    out["series"] = [sensor_series(session, s) for s in sensors[:6]]
    out["history"] = audit_trail(session, "hazard_point", hp.id)
    out["can_observe"] = authz.can(session, actor, "observe", hp, "hazard_point")
    return out


@router.get("/api/sensors/{sensor_id}/series", summary="监测曲线与预警阈值 / sensor series with alarm levels")
def get_sensor_series(sensor_id: IdPath, session: SessionDep, actor: CurrentUser,
                      limit: Annotated[int, Query(ge=1, le=100_000)] = 2000) -> dict:
    sensor = authz.get_visible(session, actor, "sensor", sensor_id)
    return sensor_series(session, sensor, limit)


@router.post("/api/hazard-points/{hp_id}/observations", status_code=201,
             summary="现场巡查记录（监测员）/ field observation with photo and location")
async def post_observation(
    hp_id: IdPath, session: SessionDep, actor: CurrentUser, today: Today,
    note: Annotated[str, Form(min_length=1, max_length=2000, description="what was seen")],
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    accuracy_m: Annotated[float | None, Form(ge=0, le=100_000)] = None,
    observed_at: Annotated[datetime | None, Form()] = None,
    crack_width_mm: Annotated[float | None, Form(ge=0, le=10_000)] = None,
    photo: Annotated[UploadFile | None, File(description="JPEG or PNG, ≤ 20 MiB")] = None,
) -> dict:
    """A monitor's patrol record: note, optional measurement, photo and the phone's location. Stored in the
    audit trail of the hazard point (and as an observation when the monitoring service is installed)."""
    hp = authz.get_visible(session, actor, "hazard_point", hp_id, action="observe")
    if (lon is None) != (lat is None):
        raise ValidationFailed("give both lon and lat, or neither (位置需同时包含经度和纬度)")
    if observed_at is not None and observed_at.tzinfo is None:
        raise ValidationFailed("observed_at needs a time zone, e.g. 2024-10-01T09:30:00+08:00")
    photo_info = None
    if photo is not None and photo.filename:
        data = await photo.read()
        photo_info = _store_photo(data, photo.filename)
    from subsidence.db.audit import record_event
    from subsidence.db.base import utcnow

    after = {"note": note, "lon": lon, "lat": lat, "accuracy_m": accuracy_m,
             "observed_at": (observed_at or utcnow()).isoformat(), "crack_width_mm": crack_width_mm,
             "photo": photo_info}
    record_event(session, entity="hazard_point", entity_id=hp.id, entity_key=hp.code, action="field_observation",
                 after=after, actor=actor.audit_name, reason="现场巡查 / field patrol")
    return {"ok": True, "hazard_point": hp.code, "observation": after}


PHOTO_TYPES = {b"\xff\xd8\xff": ("image/jpeg", "jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", "png")}
MAX_PHOTO_BYTES = 20 * 1024 * 1024


def _store_photo(data: bytes, filename: str) -> dict[str, Any]:
    """Content-addressed photo store under data_dir/field-photos (type sniffed from the bytes)."""
    import hashlib

    from subsidence.settings import get_settings

    if not data:
        raise ValidationFailed(f"photo {filename!r} is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(f"photo {filename!r} is over {MAX_PHOTO_BYTES // 2**20} MiB")
    kind = next((v for k, v in PHOTO_TYPES.items() if data.startswith(k)), None)
    if kind is None:
        raise ValidationFailed(f"photo {filename!r} is not a JPEG or PNG image (照片须为 JPEG 或 PNG)")
    digest = hashlib.sha256(data).hexdigest()
    root = get_settings().data_dir / "field-photos" / digest[:2]
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{digest}.{kind[1]}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return {"sha256": digest, "media_type": kind[0], "size_bytes": len(data), "filename": filename[:200]}


@router.get("/api/alarms", summary="预警信息流 / the warning feed (your scope)")
def list_alarms(session: SessionDep, actor: CurrentUser, lang: Lang,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json") -> Response:
    authz.authorize_action(actor, "read", "hazard_point")
    alarms = _svc("subsidence.monitoring.queries")
    feed = getattr(alarms, "feed", None) if alarms else None
    rows: list[dict[str, Any]] = []
    if feed is not None:
        visible_hp = set(session.scalars(authz.visible(actor, "hazard_point").with_only_columns(HazardPoint.id)))
        visible_sensors = set(session.scalars(authz.visible(actor, "sensor").with_only_columns(Sensor.id)))
        for a in feed(session, limit=limit * 5):
            hp_id, s_id = a.get("hazard_point_id"), a.get("sensor_id")
            if (hp_id is not None and hp_id in visible_hp) or (s_id is not None and s_id in visible_sensors):
                rows.append(a)
            if len(rows) >= limit:
                break
    cols = [Column("id", "编号", "id"), Column("level", "级别", "level"), Column("kind", "类别", "kind"),
            Column("hazard_point", "隐患点", "hazard point"), Column("sensor", "设备", "sensor"),
            Column("raised_at", "时间", "raised"), Column("message", "内容", "message"),
            Column("acknowledged_by", "确认人", "acknowledged by")]
    return table_response(rows, cols, fmt, "alarms", lang, envelope={"installed": feed is not None})


@router.post("/api/alarms/{alarm_id}/ack", summary="确认预警 / acknowledge an alarm")
def ack_alarm(alarm_id: IdPath, session: SessionDep, actor: CurrentUser,
              note: Annotated[str | None, Query(max_length=500)] = None) -> dict:
    alarms = _svc("subsidence.monitoring.evaluation")
    fn = getattr(alarms, "acknowledge", None) if alarms else None
    get = getattr(alarms, "get_alarm", None) if alarms else None
    if fn is None or get is None:
        raise NotFound("the alarm service is not installed yet")
    alarm = get(session, alarm_id)
    hp_id = getattr(alarm, "hazard_point_id", None)
    if hp_id is None and getattr(alarm, "sensor_id", None) is not None:
        hp_id = session.scalar(select(Sensor.hazard_point_id).where(Sensor.id == alarm.sensor_id))
    if hp_id is None:
        raise NotFound(f"alarm {alarm_id} is not tied to a hazard point you may see")
    hp = authz.get_visible(session, actor, "hazard_point", hp_id, action="acknowledge")
    fn(session, alarm, actor=actor.audit_name, note=note)
    return {"ok": True, "alarm": alarm_id, "hazard_point": hp.code}
