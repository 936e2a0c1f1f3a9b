"""Compensated buildings and infrastructure (task 4, 已补偿搬迁建筑物和基础设施台账).

Buildings and facilities over goaf that were compensated and resettled must all be demolished by the year end
(31 December of the campaign year, or of the year of compensation if later). Residents who return and live in
them again (re-occupation, 回流居住) are the urgent case: each re-occupied building opens a category-4 problem
once. After the deadline, a town with buildings still standing gets a category-4 problem once per year, and a
mine whose compensated buildings still stand gets a licence-gate reason.

The map layer is a GeoJSON FeatureCollection in WGS84 lon/lat (the storage CRS is projected metres).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import AdminArea, Mine
from subsidence.errors import NotFound, ValidationFailed
from subsidence.tasks.models import CompensatedBuilding
from subsidence.vocabulary import ApplicationType, DemolitionStatus, GateReason, ProblemCategory, ProblemSource

log = logging.getLogger(__name__)

#: the plan (伊政办发〔2024〕79号) was issued in 2024: "all demolished by year end"
CAMPAIGN_YEAR = 2024
LEGAL_BASIS = "伊政办发〔2024〕79号 任务四（已补偿搬迁建筑物年底前全部拆除）"
STATUS_COLOURS = {
    DemolitionStatus.NOT_STARTED: "#d7301f",
    DemolitionStatus.IN_PROGRESS: "#fc8d59",
    DemolitionStatus.DEMOLISHED: "#1a9850",
}


def deadline_for(b: CompensatedBuilding) -> date:
    year = max(b.compensation_date.year if b.compensation_date else CAMPAIGN_YEAR, CAMPAIGN_YEAR)
    return date(year, 12, 31)


def get_building(session: Session, code: str) -> CompensatedBuilding:
    b = session.scalar(select(CompensatedBuilding).where(CompensatedBuilding.code == code))
    if b is None:
        raise NotFound(f"compensated building {code!r} not found")
    return b


def register_building(
    session: Session,
    code: str,
    *,
    kind: str,
    town: AdminArea,
    household_code: str | None = None,
    village: str | None = None,
    mine: Mine | None = None,
    compensation_date: date | None = None,
    compensation_yuan: float | None = None,
    compensation_record: str | None = None,
    geometry=None,
    notes: str | None = None,
) -> CompensatedBuilding:
    """Add (or update) a building in the ledger. Owner households by code, never by name."""
    if compensation_yuan is not None and compensation_yuan < 0:
        raise ValidationFailed(f"building {code}: compensation amount must not be negative")
    b = session.scalar(select(CompensatedBuilding).where(CompensatedBuilding.code == code))
    if b is None:
        b = CompensatedBuilding(code=code, kind=kind)
        session.add(b)
    b.kind, b.town_id, b.household_code, b.village = kind, town.id, household_code, village
    b.mine_id = mine.id if mine is not None else None
    b.compensation_date, b.compensation_yuan, b.compensation_record = (
        compensation_date,
        compensation_yuan,
        compensation_record,
    )
    b.compensated, b.resettled = True, True
    if geometry is not None:
        b.geometry = geometry
    b.notes = notes
    session.flush()
    return b


def record_demolition(
    session: Session, code: str, status: DemolitionStatus | str, *, on: date, today: date | None = None
) -> CompensatedBuilding:
    """Record demolition progress. A demolished building needs its date; it cannot be un-demolished."""
    status = status if isinstance(status, DemolitionStatus) else DemolitionStatus.parse(status)
    b = get_building(session, code)
    if today is not None and on > today:
        raise ValidationFailed(f"building {code}: demolition date {on} is in the future")
    if b.demolition_status == DemolitionStatus.DEMOLISHED and status != DemolitionStatus.DEMOLISHED:
        raise ValidationFailed(
            f"building {code} was recorded demolished on {b.demolished_date}; "
            "correct it with a note and the office's approval, not by un-demolishing"
        )
    b.demolition_status = status
    if status == DemolitionStatus.DEMOLISHED:
        b.demolished_date = on
        b.reoccupied = False
    session.flush()
    return b


def record_reoccupation(
    session: Session, code: str, *, reoccupied: bool, observed: date, note: str | None = None
) -> CompensatedBuilding:
    """Residents returned (or left again). Re-occupation opens one category-4 problem for the building."""
    from subsidence.ledger.problems import open_problem

    b = get_building(session, code)
    if reoccupied and b.demolition_status == DemolitionStatus.DEMOLISHED:
        raise ValidationFailed(f"building {code} is demolished; it cannot be re-occupied")
    b.reoccupied = reoccupied
    if note:
        b.notes = ((b.notes + "\n") if b.notes else "") + f"{observed.isoformat()} {note}"
    session.flush()
    if reoccupied:
        town = session.get(AdminArea, b.town_id) if b.town_id else None
        problem, _ = open_problem(
            session,
            category=ProblemCategory.BUILDINGS,
            title=f"已补偿搬迁建筑物 {b.code} 回流居住（{town.name_zh if town else ''}{b.village or ''}）",
            source=ProblemSource.FIELD_SURVEY,
            found_date=observed,
            origin_key=f"building-reoccupied:{b.code}",
            town_id=b.town_id,
            mine=session.get(Mine, b.mine_id) if b.mine_id else None,
            description=note,
            requirement="劝离回流人员，年底前拆除",
            deadline=max(deadline_for(b), observed),
            geometry=b.geometry,
        )
    return b


def progress_by_town(session: Session, today: date, year: int | None = None) -> list[dict[str, Any]]:
    """Per town: total, demolished, in progress, not started, re-occupied and standing; against the deadline."""
    year = year or max(today.year, CAMPAIGN_YEAR)
    deadline = date(year, 12, 31)
    start = date(year, 1, 1)
    elapsed = min(max((today - start).days / ((deadline - start).days or 1), 0.0), 1.0)
    rows: dict[int | None, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for b in session.scalars(select(CompensatedBuilding).where(CompensatedBuilding.compensated.is_(True))):
        if deadline_for(b) != deadline:
            continue
        r = rows[b.town_id]
        r["total"] += 1
        r[b.demolition_status.value] += 1
        if b.reoccupied and b.demolition_status != DemolitionStatus.DEMOLISHED:
            r["reoccupied_standing"] += 1
    out = []
    for town_id, r in rows.items():
        town = session.get(AdminArea, town_id) if town_id else None
        done = r[DemolitionStatus.DEMOLISHED.value]
        pct = done / r["total"] if r["total"] else 1.0
        out.append(
            {
                "town": town.code if town else None,
                "town_name": town.name_zh if town else "（未指定镇）",
                "total": r["total"],
                "demolished": done,
                "in_progress": r[DemolitionStatus.IN_PROGRESS.value],
                "not_started": r[DemolitionStatus.NOT_STARTED.value],
                "reoccupied_standing": r["reoccupied_standing"],
                "remaining": r["total"] - done,
                "percent_demolished": round(100 * pct, 1),
                "deadline": deadline.isoformat(),
                "days_left": (deadline - today).days,
                "expected_percent_by_now": round(100 * elapsed, 1),
                "behind_schedule": pct < elapsed and done < r["total"],
                "overdue": today > deadline and done < r["total"],
            }
        )
    return sorted(out, key=lambda r: r["town"] or "")


def reoccupied_standing(session: Session) -> list[dict[str, Any]]:
    q = select(CompensatedBuilding).where(
        CompensatedBuilding.reoccupied.is_(True), CompensatedBuilding.demolition_status != DemolitionStatus.DEMOLISHED
    )
    return [_props(session, b) for b in session.scalars(q.order_by(CompensatedBuilding.code))]


def _props(session: Session, b: CompensatedBuilding) -> dict[str, Any]:
    town = session.get(AdminArea, b.town_id) if b.town_id else None
    mine = session.get(Mine, b.mine_id) if b.mine_id else None
    return {
        "code": b.code,
        "kind": b.kind,
        "household": b.household_code,
        "town": town.code if town else None,
        "town_name": town.name_zh if town else None,
        "village": b.village,
        "mine": mine.licence_no if mine else None,
        "compensation_record": b.compensation_record,
        "compensation_date": b.compensation_date.isoformat() if b.compensation_date else None,
        "reoccupied": b.reoccupied,
        "status": b.demolition_status.value,
        "status_zh": b.demolition_status.label(),
        "demolished_date": b.demolished_date.isoformat() if b.demolished_date else None,
        "deadline": deadline_for(b).isoformat(),
        "colour": STATUS_COLOURS[b.demolition_status],
    }


def geojson(session: Session, town_code: str | None = None) -> dict[str, Any]:
    """The map layer: a FeatureCollection (WGS84 lon/lat) of the ledger's buildings; ones without a location are
    listed in ``unlocated``."""
    from shapely.geometry import mapping

    from subsidence.geo import to_lonlat

    q = select(CompensatedBuilding).order_by(CompensatedBuilding.code)
    if town_code:
        town = session.scalar(select(AdminArea).where(AdminArea.code == town_code))
        if town is None:
            raise NotFound(f"town {town_code!r} not found")
        q = q.where(CompensatedBuilding.town_id == town.id)
    features, unlocated = [], []
    for b in session.scalars(q):
        if b.geometry is None:
            unlocated.append(b.code)
            continue
        features.append(
            {
                "type": "Feature",
                "id": b.code,
                "geometry": mapping(to_lonlat(b.geometry)),
                "properties": _props(session, b),
            }
        )
    return {"type": "FeatureCollection", "name": "compensated_buildings", "features": features, "unlocated": unlocated}


def sync_building_problems(session: Session, today: date) -> list[tuple[Any, bool]]:
    """After the deadline, one category-4 problem per town (and year) with buildings still standing."""
    from subsidence.ledger.problems import open_problem

    out = []
    years = sorted({deadline_for(b).year for b in session.scalars(select(CompensatedBuilding))})
    rows = [r for y in years if date(y, 12, 31) < today for r in progress_by_town(session, today, year=y)]
    for r in rows:
        if not r["overdue"] or r["town"] is None:
            continue
        town = session.scalar(select(AdminArea).where(AdminArea.code == r["town"]))
        year = int(r["deadline"][:4])
        out.append(
            open_problem(
                session,
                category=ProblemCategory.BUILDINGS,
                title=f"{town.name_zh}已补偿搬迁建筑物未按期拆除（{r['remaining']}/{r['total']}，期限 {r['deadline']}）",
                source=ProblemSource.FIELD_SURVEY,
                found_date=today,
                origin_key=f"buildings-deadline:{town.code}:{year}",
                town_id=town.id,
                requirement="尽快完成拆除并报送拆除台账",
            )
        )
    return out


def gate_buildings(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    """Buildings the mine's subsidence damaged, compensated but still standing: due by the year's end the
    plan sets (《实施方案》：已补偿建筑物年底前全部拆除). One finding per deadline year."""
    from subsidence.vocabulary import DeadlineSource

    q = select(CompensatedBuilding).where(
        CompensatedBuilding.mine_id == mine.id, CompensatedBuilding.demolition_status != DemolitionStatus.DEMOLISHED
    )
    by_deadline: dict[date, list[str]] = {}
    for b in session.scalars(q.order_by(CompensatedBuilding.code)):
        by_deadline.setdefault(deadline_for(b), []).append(b.code)
    out = []
    for due, codes in sorted(by_deadline.items()):
        out.append(
            GateReason(
                "buildings_not_demolished",
                f"{mine.name_zh}采空区已补偿搬迁建筑物 {len(codes)} 处未拆除（{'、'.join(codes[:10])}"
                f"{'等' if len(codes) > 10 else ''}），应于 {due} 前拆除 / compensated buildings to be demolished by {due}",
                LEGAL_BASIS,
                record=codes[0],
                record_kind="building",
                details={"buildings": codes},
                deadline=due,
                deadline_set_by=DeadlineSource(
                    "rule",
                    f"实施方案·任务4·{due.year}",
                    None,
                    "采煤沉陷区综合治理实施方案：已补偿建筑物、基础设施年底前全部拆除",
                ),
                remedy="完成拆除并报送拆除台账（镇人民政府核实）后解除 / lifted when demolition is recorded",
            )
        )
    return out


#: what a building photo documents
PHOTO_PURPOSES = {"demolition": "拆除", "reoccupation": "回流居住"}


def attach_photo(
    session: Session,
    b: CompensatedBuilding,
    *,
    data: bytes,
    filename: str,
    purpose: str,
    uploaded_by: str,
    taken_on: date | None = None,
    data_dir: Any = None,
) -> Any:
    """Store a photo of the building (JPEG or PNG, recognised by content) under ``data_dir`` (default: the
    settings' data dir) and link it."""
    from subsidence.ledger.evidence import sniff, store_blob
    from subsidence.tasks.models import BuildingPhoto

    if purpose not in PHOTO_PURPOSES:
        raise ValidationFailed(f"photo purpose {purpose!r}: use one of {sorted(PHOTO_PURPOSES)}")
    ftype = sniff(data)
    if ftype is None or ftype.kind != "photo":
        raise ValidationFailed(f"{filename}: 不是 JPEG 或 PNG 照片 / not a JPEG or PNG photo (recognised by content)")
    from pathlib import Path

    digest, rel = store_blob(data, ftype, root=Path(data_dir) / "evidence" if data_dir is not None else None)
    existing = session.scalar(
        select(BuildingPhoto).where(BuildingPhoto.building_id == b.id, BuildingPhoto.sha256 == digest)
    )
    if existing is not None:
        return existing
    photo = BuildingPhoto(
        building_id=b.id,
        purpose=purpose,
        sha256=digest,
        media_type=ftype.media_type,
        size_bytes=len(data),
        filename=(filename or "photo")[:255],
        storage_path=rel,
        uploaded_by=uploaded_by,
        taken_on=taken_on,
    )
    session.add(photo)
    session.flush()
    return photo
