"""Hazard points, sensors and their series, field reports, the warning feed with acknowledgement.

Thin adapters over :mod:`subsidence.monitoring.queries` (reading), :mod:`subsidence.monitoring.evaluation`
(acknowledging) and :mod:`subsidence.monitoring.field` (a monitor's report, which enters the alarm engine).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from subsidence.access import policy as authz
from subsidence.api.cache import cached_response, store_response
from subsidence.api.deps import (
    CurrentUser,
    IdPath,
    IdQuery,
    Lang,
    SessionDep,
    SettingsDep,
    Today,
)
from subsidence.api.exports import Column, table_response
from subsidence.core.history import audit_trail
from subsidence.core.models import AdminArea
from subsidence.errors import ValidationFailed
from subsidence.monitoring import evaluation, field, ingest
from subsidence.monitoring import queries as mq
from subsidence.monitoring.models import HazardPoint, Sensor
from subsidence.vocabulary import HazardType

router = APIRouter(tags=["monitoring"])

HAZARD_COLUMNS = [
    Column("code", "编号", "code"),
    Column("name", "名称", "name"),
    Column("hazard_type_label", "类型", "type"),
    Column("town_name", "镇", "town"),
    Column("village", "村", "village"),
    Column("scale", "规模", "scale"),
    Column("threatened_households", "威胁户数", "households"),
    Column("threatened_people", "威胁人数", "people"),
    Column("threatened_property_10k_yuan", "威胁财产（万元）", "property (10k yuan)"),
    Column("warning_level", "预警级别", "warning level"),
]


def hazard_dict(h: HazardPoint, town: str | None, lang: str) -> dict[str, Any]:
    return {
        "id": h.id,
        "code": h.code,
        "name": h.name,
        "hazard_type": h.hazard_type.value,
        "hazard_type_label": h.hazard_type.label(lang),
        "town_id": h.town_id,
        "town_name": town,
        "mine_id": h.mine_id,
        "village": h.village,
        "scale": h.scale,
        "stability": h.stability,
        "threatened_households": h.threatened_households,
        "threatened_people": h.threatened_people,
        "threatened_property_10k_yuan": h.threatened_property_10k_yuan,
        "monitoring_method": h.monitoring_method,
        "monitoring_frequency": h.monitoring_frequency,
        "responsible_role": h.responsible_role,
        "monitor_role": h.monitor_role,
        "warning_signal": h.warning_signal,
        "rescue_unit": h.rescue_unit,
        "warning_level": None,
        "illustrative": h.illustrative,
    }


def _levels(session, ids: list[int]) -> dict[int, Any]:
    return mq.current_levels(session, ids)


@router.get("/api/hazard-points", summary="隐患点列表 / hazard points (filter, export)")
def list_hazard_points(
    request: Request,
    session: SessionDep,
    actor: CurrentUser,
    lang: Lang,
    today: Today,
    hazard_type: Annotated[str | None, Query(max_length=40)] = None,
    town_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
) -> Response:
    authz.authorize_action(actor, "read", "hazard_point")
    if fmt == "json" and (hit := cached_response(request, session, actor, lang, today)) is not None:
        return hit
    t = AdminArea.__table__
    stmt = (
        select(HazardPoint, t.c.name_zh)
        .outerjoin(t, t.c.id == HazardPoint.town_id)
        .where(authz.scope_clause(actor, "hazard_point"))
        .order_by(HazardPoint.id)
    )
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
    out: dict[str, Any] = {
        "sensor": sensor.code,
        "kind": sensor.kind.value,
        "unit": sensor.unit,
        "points": [],
        "thresholds": [],
    }
    t, v = ingest.series(session, sensor.id, limit=limit)
    out["points"] = [{"t": f"{ti!s}Z", "v": float(vi)} for ti, vi in zip(t, v)]
    out["thresholds"] = mq.thresholds_for(session, sensor)
    return out


@router.get("/api/hazard-points/{hp_id}", summary="隐患点详情（记录、历史、监测曲线）/ a hazard point")
def get_hazard_point(hp_id: IdPath, session: SessionDep, actor: CurrentUser, lang: Lang) -> dict:
    hp = authz.get_visible(session, actor, "hazard_point", hp_id)
    town = session.get(AdminArea, hp.town_id).name_zh if hp.town_id else None
    out = hazard_dict(hp, town, lang)
    out["warning_level"] = _levels(session, [hp.id]).get(hp.id)
    sensors = list(
        session.scalars(authz.visible(actor, "sensor").where(Sensor.hazard_point_id == hp.id).order_by(Sensor.code))
    )
    out["sensors"] = [
        {
            "id": s.id,
            "code": s.code,
            "kind": s.kind.value,
            "kind_label": s.kind.label(lang),
            "unit": s.unit,
            "active": s.active,
        }
        for s in sensors
    ]
    out["series"] = [sensor_series(session, s) for s in sensors[:6]]
    out["history"] = audit_trail(session, "hazard_point", hp.id)
    out["can_observe"] = authz.can(session, actor, "observe", hp, "hazard_point")
    return out


@router.get("/api/sensors/{sensor_id}/series", summary="监测曲线与预警阈值 / sensor series with alarm levels")
def get_sensor_series(
    sensor_id: IdPath, session: SessionDep, actor: CurrentUser, limit: Annotated[int, Query(ge=1, le=100_000)] = 2000
) -> dict:
    sensor = authz.get_visible(session, actor, "sensor", sensor_id)
    return sensor_series(session, sensor, limit)


#: the macro signs of :data:`subsidence.monitoring.field.SIGNS`
SignName = Literal["new_cracks", "bulging", "seepage", "sounds", "tilting"]


@router.post(
    "/api/hazard-points/{hp_id}/observations",
    status_code=201,
    summary="群测群防巡查报告（进入预警）/ field report: note, crack width, macro signs, photo, location",
)
async def post_observation(
    hp_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    settings: SettingsDep,
    note: Annotated[str, Form(min_length=1, max_length=2000, description="what was seen")],
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    accuracy_m: Annotated[float | None, Form(ge=0, le=100_000)] = None,
    observed_at: Annotated[datetime | None, Form()] = None,
    crack_width_mm: Annotated[float | None, Form(ge=0, le=10_000)] = None,
    signs: Annotated[list[SignName] | None, Form(description="macro signs seen; repeatable")] = None,
    photo: Annotated[UploadFile | None, File(description="JPEG or PNG, ≤ 20 MiB")] = None,
) -> dict:
    """A monitor's patrol report. The crack width and the macro signs enter the alarm engine as readings of
    the hazard point (levels, confirmation, escalation as for a sensor); the report, its photo and the alarms
    it raised are one event in the hazard point's history."""
    hp = authz.get_visible(session, actor, "hazard_point", hp_id, action="observe")
    if (lon is None) != (lat is None):
        raise ValidationFailed("give both lon and lat, or neither (位置需同时包含经度和纬度)")
    if observed_at is not None and observed_at.tzinfo is None:
        raise ValidationFailed("observed_at needs a time zone, e.g. 2024-10-01T09:30:00+08:00")
    photo_info = None
    if photo is not None and photo.filename:
        photo_info = field.store_photo(await photo.read(), photo.filename, settings.data_dir)
    out = field.record_report(
        session,
        hp,
        actor=actor.audit_name,
        note=note,
        observed_at=observed_at,
        crack_width_mm=crack_width_mm,
        signs=signs or (),
        lon=lon,
        lat=lat,
        accuracy_m=accuracy_m,
        photo=photo_info,
    )
    return {"ok": True, "hazard_point": hp.code, "observation": out}


@router.get("/api/field-reports/mine", summary="我的巡查报告 / the caller's own field reports")
def my_field_reports(session: SessionDep, actor: CurrentUser, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict:
    authz.authorize_action(actor, "observe", "hazard_point")
    return {"items": field.reports_by(session, actor.audit_name, limit=limit)}


@router.get("/api/field-photos/{sha256}", summary="巡查照片 / a field report's photo")
def field_photo(
    sha256: Annotated[str, Path(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")],
    session: SessionDep,
    actor: CurrentUser,
    settings: SettingsDep,
) -> FileResponse:
    """The photo of a field report at a hazard point the caller may read (404 otherwise)."""
    visible = authz.visible(actor, "hazard_point").with_only_columns(HazardPoint.id)
    path, media = field.photo_file(session, visible, sha256, settings.data_dir)
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=86400"})


ALARM_COLUMNS = [
    Column("id", "编号", "id"),
    Column("level_label", "级别", "level"),
    Column("kind_label", "类别", "kind"),
    Column("state_label", "状态", "state"),
    Column("hazard_point", "隐患点", "hazard point"),
    Column("sensor", "设备", "sensor"),
    Column("raised_at", "时间", "raised"),
    Column("message", "内容", "message"),
    Column("acknowledged_by", "确认人", "acknowledged by"),
]


@router.get("/api/alarms", summary="预警信息流 / the warning feed (your scope)")
def list_alarms(
    session: SessionDep,
    actor: CurrentUser,
    lang: Lang,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
) -> Response:
    """Alarms of the hazard points and sensors the caller may read; ``can_ack``: whether it may acknowledge."""
    authz.authorize_action(actor, "read", "hazard_point")
    rows = mq.feed_for(session, actor, limit=limit)
    return table_response(rows, ALARM_COLUMNS, fmt, "alarms", lang, envelope={"count": len(rows)})


@router.post("/api/alarms/{alarm_id}/ack", summary="确认预警 / acknowledge an alarm")
def ack_alarm(
    alarm_id: IdPath, session: SessionDep, actor: CurrentUser, note: Annotated[str | None, Query(max_length=500)] = None
) -> dict:
    """Acknowledge an open alarm of a hazard point or sensor the caller is on duty for (404 for any other)."""
    alarm = mq.alarm_to_acknowledge(session, actor, alarm_id)
    evaluation.acknowledge(session, alarm, actor=actor.audit_name, note=note)
    return {"ok": True, "alarm": alarm.id, "state": alarm.state}
