"""Compensated buildings in the web (task 4): the town where a building stands records its demolition with
photos, and residents living there again (回流居住); everyone in scope sees the list and the town progress.
Thin adapter over tasks.buildings."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep, SettingsDep, Today
from subsidence.errors import NotFound, ValidationFailed
from subsidence.tasks import buildings
from subsidence.tasks import queries as tq
from subsidence.tasks.models import CompensatedBuilding
from subsidence.vocabulary import DemolitionStatus

router = APIRouter(tags=["tasks"])
MAX_PHOTOS = 6


async def _photos(files: list[UploadFile] | None) -> list[tuple[str, bytes]]:
    out = []
    for f in (files or [])[: MAX_PHOTOS + 1]:
        data = await f.read()
        if data:
            out.append((f.filename or "photo", data))
    if len(out) > MAX_PHOTOS:
        raise ValidationFailed(f"一次最多上传 {MAX_PHOTOS} 张照片 / at most {MAX_PHOTOS} photos at a time")
    return out


@router.get("/api/buildings", summary="已补偿搬迁建筑物 / compensated buildings in your scope")
def list_buildings(session: SessionDep, actor: CurrentUser, today: Today) -> dict:
    rows = session.scalars(authz.visible(actor, "building").order_by(CompensatedBuilding.code)).all()
    return {
        "buildings": [tq.building_row(session, actor, b) for b in rows],
        "progress": tq.building_progress(session, actor, today),
        "statuses": [{"value": s.value, "label": s.label()} for s in DemolitionStatus],
    }


@router.post("/api/buildings/{building_id}/demolition", summary="记录拆除进度（附照片）/ record demolition with photos")
async def post_demolition(
    building_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    settings: SettingsDep,
    status: Annotated[Literal["not_started", "in_progress", "demolished"], Form()],
    on: Annotated[date | None, Form()] = None,
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> dict:
    b = authz.get_visible(session, actor, "building", building_id, action="record_demolition")
    files = await _photos(photos)
    st = DemolitionStatus.parse(status)
    if st == DemolitionStatus.DEMOLISHED and not files:
        raise ValidationFailed("记录已拆除需附拆除后照片 / a demolition needs at least one photo of the cleared site")
    buildings.record_demolition(session, b.code, st, on=on or today, today=today)
    for name, data in files:
        buildings.attach_photo(
            session,
            b,
            data=data,
            filename=name,
            purpose="demolition",
            uploaded_by=actor.audit_name,
            taken_on=on or today,
            data_dir=settings.data_dir,
        )
    return {"building": tq.building_row(session, actor, b)}


@router.post("/api/buildings/{building_id}/reoccupation", summary="记录回流居住 / record residents living there again")
async def post_reoccupation(
    building_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    today: Today,
    settings: SettingsDep,
    reoccupied: Annotated[bool, Form()],
    note: Annotated[str | None, Form(max_length=2000)] = None,
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> dict:
    b = authz.get_visible(session, actor, "building", building_id, action="record_reoccupation")
    files = await _photos(photos)
    buildings.record_reoccupation(session, b.code, reoccupied=reoccupied, observed=today, note=note)
    for name, data in files:
        buildings.attach_photo(
            session,
            b,
            data=data,
            filename=name,
            purpose="reoccupation",
            uploaded_by=actor.audit_name,
            taken_on=today,
            data_dir=settings.data_dir,
        )
    return {"building": tq.building_row(session, actor, b)}


@router.get("/api/building-photos/{photo_id}", summary="建筑物照片 / a building photo")
def get_photo(photo_id: IdPath, session: SessionDep, actor: CurrentUser, settings: SettingsDep) -> FileResponse:

    photo = authz.get_visible(session, actor, "building_photo", photo_id)
    path = settings.data_dir / photo.storage_path
    if not path.is_file():
        raise NotFound(f"照片文件缺失 / photo file {photo.sha256[:12]} is missing from the store")
    return FileResponse(path, media_type=photo.media_type)
