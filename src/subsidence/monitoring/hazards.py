"""Hazard points, their contacts and threatened households, and the sensor registry.

The danger grade is always derived (:func:`subsidence.monitoring.warning.levels.danger_grade`), never typed in:
:func:`refresh_hazard` recomputes it, and the threatened household/people counts, from the household rows.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.monitoring.ingest import ROW_KEY, conversion_factor
from subsidence.monitoring.models import GroundwaterWell, HazardContact, HazardPoint, Household, Sensor
from subsidence.monitoring.warning.levels import danger_grade
from subsidence.vocabulary import SensorKind

log = logging.getLogger(__name__)

CONTACT_ROLES = {
    "responsible": ("群测群防责任人", "mass-monitoring responsible person"),
    "monitor": ("监测人", "monitor"),
    "warning": ("预警信号发布人", "warning giver"),
    "town": ("镇人民政府", "town government"),
    "bureau": ("旗自然资源局", "natural resources bureau"),
    "rescue": ("抢险救援单位", "rescue unit"),
}

#: canonical unit per sensor kind (values are stored in it; ingest converts)
DEFAULT_UNIT = {
    SensorKind.GNSS: "mm",
    SensorKind.CRACK_METER: "mm",
    SensorKind.INCLINOMETER: "mm",
    SensorKind.RAIN_GAUGE: "mm",
    SensorKind.GROUNDWATER_WELL: "m",
    SensorKind.INSAR_POINT: "mm",
}


def hazard_by_code(session: Session, code: str) -> HazardPoint:
    hp = session.scalar(select(HazardPoint).where(HazardPoint.code == code))
    if hp is None:
        raise NotFound(f"hazard point {code!r} does not exist")
    return hp


def refresh_hazard(session: Session, hp: HazardPoint) -> HazardPoint:
    """Recompute threatened households/people from the household rows (when there are any) and the grade."""
    session.flush()
    n, people, prop = session.execute(
        select(
            func.count(Household.id),
            func.coalesce(func.sum(Household.people), 0),
            func.coalesce(func.sum(Household.property_10k_yuan), 0.0),
        ).where(Household.hazard_point_id == hp.id)
    ).one()
    if n:
        hp.threatened_households, hp.threatened_people = int(n), int(people)
        if prop and not hp.threatened_property_10k_yuan:
            hp.threatened_property_10k_yuan = float(prop)
    relocate = hp.people_to_relocate if hp.people_to_relocate is not None else hp.threatened_people
    hp.danger_grade = danger_grade(relocate, hp.threatened_property_10k_yuan).value
    return hp


def upsert_hazard(session: Session, data: Mapping[str, Any]) -> HazardPoint:
    """Create or update a hazard point by ``code``; unknown fields are refused; the grade is recomputed."""
    code = data.get("code")
    if not code:
        raise ValidationFailed("hazard point: 'code' is required")
    cols = {c.key for c in HazardPoint.__table__.columns} - {"id", "created_at", "updated_at", "danger_grade"}
    unknown = set(data) - cols
    if unknown:
        raise ValidationFailed(f"hazard point {code}: unknown fields {sorted(unknown)}")
    hp = session.scalar(select(HazardPoint).where(HazardPoint.code == code))
    if hp is None:
        hp = HazardPoint(code=code)
        session.add(hp)
    for k, v in data.items():
        setattr(hp, k, v)
    return refresh_hazard(session, hp)


def set_contact(
    session: Session,
    hp: HazardPoint,
    role: str,
    title: str,
    phone: str | None = None,
    email: str | None = None,
    unit_id: int | None = None,
) -> HazardContact:
    if role not in CONTACT_ROLES:
        raise ValidationFailed(f"contact role {role!r}: use one of {', '.join(CONTACT_ROLES)}")
    c = HazardContact(hazard_point_id=hp.id, role=role, title=title, phone=phone, email=email, unit_id=unit_id)
    session.add(c)
    session.flush()
    return c


def add_household(session: Session, hp: HazardPoint, *, code: str, people: int, **kw: Any) -> Household:
    if session.scalar(select(Household.id).where(Household.code == code)) is not None:
        raise Conflict(f"household {code!r} already exists")
    if people < 0:
        raise ValidationFailed(f"household {code}: people must be ≥ 0")
    h = Household(
        code=code,
        hazard_point_id=hp.id,
        people=people,
        town_id=kw.pop("town_id", hp.town_id),
        village=kw.pop("village", hp.village),
        **kw,
    )
    session.add(h)
    session.flush()
    refresh_hazard(session, hp)
    return h


# ----------------------------------------------------------------------------------------------------------------
# sensors


SENSOR_FIELDS = (
    "code",
    "kind",
    "unit",
    "hazard_point",
    "mine",
    "well",
    "x",
    "y",
    "installed",
    "name",
    "expected_interval_s",
    "valid_min",
    "valid_max",
    "resolution",
)


def add_sensor(
    session: Session,
    *,
    code: str,
    kind: str | SensorKind,
    unit: str | None = None,
    hazard_point: str | None = None,
    mine: str | None = None,
    well: str | None = None,
    x: float | None = None,
    y: float | None = None,
    installed: date | str | None = None,
    name: str | None = None,
    expected_interval_s: int | None = None,
    valid_min: float | None = None,
    valid_max: float | None = None,
    resolution: float | None = None,
    config: dict[str, Any] | None = None,
) -> Sensor:
    """Register a sensor tied to a hazard point (code) or a mine (licence no.) or a groundwater well (code).

    x/y are in the storage CRS (EPSG:4546, metres). The unit must fit the kind (e.g. GNSS in a length unit)."""
    try:
        k = kind if isinstance(kind, SensorKind) else SensorKind.parse(str(kind).strip())
    except ValueError as exc:
        try:  # "GNSS", "Rain_Gauge" as typed in spreadsheets
            k = SensorKind.parse(str(kind).strip().lower())
        except ValueError:
            raise ValidationFailed(f"sensor {code}: kind {exc}") from exc
    unit = (unit or DEFAULT_UNIT[k]).strip()
    try:
        conversion_factor(unit, DEFAULT_UNIT[k])
    except ValueError as exc:
        if not (k == SensorKind.INCLINOMETER and unit in ("deg", "mm/m")):
            raise ValidationFailed(
                f"sensor {code}: unit {unit!r} does not fit a {k.label('en')} "
                f"(use {DEFAULT_UNIT[k]} or a convertible unit): {exc}"
            ) from exc
    if session.scalar(select(Sensor.id).where(Sensor.code == code)) is not None:
        raise Conflict(f"sensor {code!r} already exists")
    if not (hazard_point or mine or well):
        raise ValidationFailed(f"sensor {code}: tie it to a hazard point, a mine or a groundwater well")
    s = Sensor(
        code=code,
        kind=k,
        unit=unit,
        name=name,
        expected_interval_s=expected_interval_s,
        valid_min=valid_min,
        valid_max=valid_max,
        resolution=resolution,
        config=config,
    )
    if hazard_point:
        s.hazard_point_id = hazard_by_code(session, hazard_point).id
    if mine:
        m = session.scalar(select(Mine).where(Mine.licence_no == mine))
        if m is None:
            raise NotFound(f"sensor {code}: mine with licence {mine!r} does not exist")
        s.mine_id = m.id
    if well:
        w = session.scalar(select(GroundwaterWell).where(GroundwaterWell.code == well))
        if w is None:
            raise NotFound(f"sensor {code}: groundwater well {well!r} does not exist")
        s.well_id = w.id
    if (x is None) != (y is None):
        raise ValidationFailed(f"sensor {code}: give both x and y (EPSG:4546 metres) or neither")
    if x is not None:
        s.geometry = Point(float(x), float(y))
    if installed:
        s.installed = installed if isinstance(installed, date) else date.fromisoformat(str(installed))
    session.add(s)
    session.flush()
    return s


def _num(v: Any, cast=float):
    return None if v in (None, "") else cast(v)


def import_sensors(session: Session, rows: Iterable[Mapping[str, Any]], source: str = "input") -> list[Sensor]:
    """Register many sensors; any bad row aborts the whole import (the message names the row and field)."""
    out = []
    for n, r in enumerate(rows, start=2):
        i = r.get(ROW_KEY) or n
        r = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in r.items() if k}
        try:
            out.append(
                add_sensor(
                    session,
                    code=r.get("code") or "",
                    kind=r.get("kind") or "",
                    unit=r.get("unit") or None,
                    hazard_point=r.get("hazard_point") or None,
                    mine=r.get("mine") or None,
                    well=r.get("well") or None,
                    x=_num(r.get("x")),
                    y=_num(r.get("y")),
                    installed=r.get("installed") or None,
                    name=r.get("name") or None,
                    expected_interval_s=_num(r.get("expected_interval_s"), int),
                    valid_min=_num(r.get("valid_min")),
                    valid_max=_num(r.get("valid_max")),
                    resolution=_num(r.get("resolution")),
                )
            )
        except (ValueError, KeyError) as exc:
            raise ValidationFailed(f"{source} row {i}: {exc}") from exc
        except (ValidationFailed, NotFound, Conflict) as exc:
            raise type(exc)(f"{source} row {i}: {exc.message}") from exc
    return out


#: Chinese (and alternative English) column headers of a sensor list → field names (matched after
#: :func:`subsidence.io.excel.normalize_header`: case, spaces, full-width brackets and "*" ignored)
SENSOR_HEADERS: dict[str, str] = {
    **{f: f for f in SENSOR_FIELDS},
    "编号": "code",
    "传感器编号": "code",
    "设备编号": "code",
    "测点编号": "code",
    "sensor_code": "code",
    "类型": "kind",
    "传感器类型": "kind",
    "监测类型": "kind",
    "设备类型": "kind",
    "type": "kind",
    "单位": "unit",
    "隐患点": "hazard_point",
    "隐患点编号": "hazard_point",
    "hazard": "hazard_point",
    "矿山": "mine",
    "采矿许可证号": "mine",
    "许可证号": "mine",
    "监测井": "well",
    "监测井编号": "well",
    "井号": "well",
    "东坐标": "x",
    "东坐标(m)": "x",
    "easting": "x",
    "北坐标": "y",
    "北坐标(m)": "y",
    "northing": "y",
    "安装日期": "installed",
    "installed_on": "installed",
    "名称": "name",
    "传感器名称": "name",
    "采样间隔": "expected_interval_s",
    "采样间隔(s)": "expected_interval_s",
    "采样间隔(秒)": "expected_interval_s",
    "有效下限": "valid_min",
    "量程下限": "valid_min",
    "有效上限": "valid_max",
    "量程上限": "valid_max",
    "分辨率": "resolution",
}


def read_sensor_file(path: Path | str) -> list[dict[str, Any]]:
    """Rows of a sensor list: CSV (UTF-8/GBK) or Excel .xlsx with English field names or Chinese headers
    (编号, 类型, 单位, 隐患点编号, 东坐标, 北坐标, 安装日期, 采样间隔(s) ..., see :data:`SENSOR_HEADERS`).

    Raises :class:`ValidationFailed` naming the file when it is missing, of another type, or lacks the
    code/kind columns. Rows carry their file row number under ``ROW_KEY`` (used in error messages)."""
    from datetime import datetime

    from subsidence.monitoring.ingest import read_table

    headers, rows = read_table(
        path,
        what="sensor list (code,kind[,unit,hazard_point,...])",
        known_headers=SENSOR_HEADERS,
        header_map=SENSOR_HEADERS,
    )
    missing = [f for f in ("code", "kind") if f not in headers]
    if missing:
        raise ValidationFailed(
            f"{path}: missing column(s) {', '.join(missing)} (found {[h for h in headers if h]}); "
            f"header must include code,kind[,unit,hazard_point,mine,well,x,y,...] "
            f"(or 编号,类型[,单位,隐患点编号,...])"
        )
    for r in rows:
        if isinstance(r.get("installed"), datetime):
            r["installed"] = r["installed"].date()
    return rows


read_sensor_csv = read_sensor_file  #: former name (CSV only then)


def list_sensors(session: Session, hazard_point: str | None = None) -> list[dict[str, Any]]:
    from subsidence.monitoring.ingest import latest_times

    q = select(Sensor).order_by(Sensor.code)
    if hazard_point:
        q = q.where(Sensor.hazard_point_id == hazard_by_code(session, hazard_point).id)
    sensors = list(session.scalars(q))
    last = latest_times(session, [s.id for s in sensors]) if sensors else {}
    hp_codes = dict(session.execute(select(HazardPoint.id, HazardPoint.code)).all())
    return [
        {
            "code": s.code,
            "kind": s.kind.value,
            "kind_zh": s.kind.label(),
            "unit": s.unit,
            "hazard_point": hp_codes.get(s.hazard_point_id),
            "active": s.active,
            "last_observation": last.get(s.id),
        }
        for s in sensors
    ]


# ----------------------------------------------------------------------------------------------------------------
# bulk import of households and contacts (CSV from the town's survey)


def _read_csv(path: Path | str, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of a .csv or .xlsx table that must hold the ``required`` columns (messages name the file)."""
    from subsidence.monitoring.ingest import read_table

    headers, rows = read_table(path, what=f"table ({','.join(required)}[,...])", known_headers=required)
    missing = [c for c in required if c not in headers]
    if missing:
        raise ValidationFailed(f"{path}: missing column(s) {missing}; found {[h for h in headers if h]}")
    return rows


def import_households(session: Session, path: Path | str) -> int:
    """CSV code,hazard_point,people[,village,address,head_role,house_type,phone,property_10k_yuan,to_relocate].
    All rows or none; the grade and counts of every hazard point touched are recomputed."""
    touched: dict[int, HazardPoint] = {}
    n = 0
    for r in _read_csv(path, ("code", "hazard_point", "people")):
        i = r[ROW_KEY]
        try:
            hp = hazard_by_code(session, r["hazard_point"])
            people = int(r["people"])
            prop = _num(r.get("property_10k_yuan"))
            relocate = (r.get("to_relocate") or "").lower() in ("1", "true", "yes", "是", "y")
            add_household(
                session,
                hp,
                code=r["code"],
                people=people,
                village=r.get("village") or hp.village,
                address=r.get("address") or None,
                head_role=r.get("head_role") or None,
                house_type=r.get("house_type") or None,
                phone=r.get("phone") or None,
                property_10k_yuan=prop,
                to_relocate=relocate,
            )
            touched[hp.id] = hp
            n += 1
        except ValueError as exc:
            raise ValidationFailed(f"{path} row {i}: {exc}") from exc
        except (ValidationFailed, NotFound, Conflict) as exc:
            raise type(exc)(f"{path} row {i}: {exc.message}") from exc
    for hp in touched.values():
        refresh_hazard(session, hp)
    return n


def import_contacts(session: Session, path: Path | str) -> int:
    """CSV hazard_point,role,title[,phone,email] (role: responsible, monitor, warning, town, bureau, rescue)."""
    n = 0
    for r in _read_csv(path, ("hazard_point", "role", "title")):
        i = r[ROW_KEY]
        try:
            set_contact(
                session,
                hazard_by_code(session, r["hazard_point"]),
                r["role"],
                r["title"],
                phone=r.get("phone") or None,
                email=r.get("email") or None,
            )
        except (ValidationFailed, NotFound) as exc:
            raise type(exc)(f"{path} row {i}: {exc.message}") from exc
        n += 1
    return n


def hazard_summary(session: Session, code: str | None = None) -> list[dict[str, Any]]:
    q = select(HazardPoint).order_by(HazardPoint.code)
    if code:
        q = q.where(HazardPoint.code == code)
    out = []
    for hp in session.scalars(q):
        refresh_hazard(session, hp)
        out.append(
            {
                "code": hp.code,
                "name": hp.name,
                "type": hp.hazard_type.label(),
                "households": hp.threatened_households,
                "people": hp.threatened_people,
                "people_to_relocate": hp.people_to_relocate,
                "property_10k_yuan": hp.threatened_property_10k_yuan,
                "danger_grade": hp.danger_grade,
                "warning_level": hp.warning_level,
            }
        )
    if code and not out:
        raise NotFound(f"hazard point {code!r} does not exist")
    return out
