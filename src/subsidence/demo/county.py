"""Build the illustrative demo county in the database: deterministic for a given seed.

Everything created here carries ``illustrative=True`` (and "（示例）" in names where shown to people).
"""

from __future__ import annotations

import importlib
import logging
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import AdminArea, Enterprise, Mine, Panel, TaskAssignment, Unit
from subsidence.demo.geography import (
    BANNER_CODE,
    BANNER_OUTLINE_LONLAT,
    ENTERPRISES,
    MINES,
    TASKS,
    TOWNS,
    UNITS,
)
from subsidence.geo import CGCS2000, STORAGE_CRS, transform_geometry
from subsidence.monitoring.models import GroundwaterWell, HazardPoint, Sensor
from subsidence.tasks.models import CompensatedBuilding
from subsidence.vocabulary import (
    AreaLevel,
    DemolitionStatus,
    HazardType,
    MineStatus,
    MiningMethod,
    ProblemCategory,
    ProblemSource,
    ProblemState,
    SensorKind,
    TaskRole,
    UnitKind,
)

log = logging.getLogger(__name__)

DEMO_SEED = 20240912  # the plan's issue date, 2024-09-12
#: mines (by position in licence-number order) that keep every deadline in the demo story: their own problems
#: are accepted or still inside their deadlines, their hidden-factor plans approved and carried out, their
#: compensated buildings demolished. The licence gate allows them (with warnings), or - mine 11, which has no
#: reclamation plan entered (demo.plans) - cannot evaluate them; every other mine is refused for something late.
COMPLIANT_MINES = frozenset({2, 4, 7, 11})


def is_compliant(mine: Mine, mines: list[Mine]) -> bool:
    """Whether ``mine`` is one of :data:`COMPLIANT_MINES` among ``mines``."""
    order = sorted(m.licence_no for m in mines)
    return order.index(mine.licence_no) in COMPLIANT_MINES


#: optional modules of other parts of the product that add their demo data: each has populate(session, rng, today)
#: plans before tasks: the fund obligations take what the annual plans require
DEMO_EXTENSIONS = ["ledger", "census", "monitoring", "plans", "tasks", "accounts", "organisation"]


@dataclass
class DemoCounts:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def _proj(geom):
    return transform_geometry(geom, CGCS2000, STORAGE_CRS)


def _multi(geom) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(polys)


def is_built(session: Session) -> bool:
    return session.scalar(select(AdminArea.id).where(AdminArea.code == BANNER_CODE)) is not None


def build_demo(
    session: Session, *, seed: int = DEMO_SEED, today: date | None = None, on_step: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Create the demo county in ``session`` (caller commits). Returns counts of what was created.

    ``on_step(name)`` is called after each step (the county itself, then each extension) for progress display.
    """
    step = on_step or (lambda name: None)
    rng = np.random.default_rng(seed)
    today = today or date(2026, 11, 30)
    out = DemoCounts()

    banner_geom = _proj(Polygon(BANNER_OUTLINE_LONLAT))
    banner = AdminArea(
        code=BANNER_CODE,
        name_zh="伊金霍洛旗",
        name_en="Ejin Horo Banner",
        level=AreaLevel.BANNER,
        geometry=_multi(banner_geom),
        illustrative=True,
    )
    session.add(banner)
    session.flush()
    out.add("banner")

    # Towns: Voronoi cells of the (approximate) town seats, clipped to the banner outline.
    seats = {t.code: _proj(Point(t.lon, t.lat)) for t in TOWNS}
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(seats.values())), extend_to=banner_geom.buffer(50_000))
    towns: dict[str, AdminArea] = {}
    for t in TOWNS:
        cell = next(c for c in cells.geoms if c.contains(seats[t.code]))
        town = AdminArea(
            code=t.code,
            name_zh=t.name_zh,
            name_en=t.name_en,
            level=AreaLevel.TOWN,
            parent_id=banner.id,
            geometry=_multi(cell.intersection(banner_geom)),
            illustrative=True,
        )
        session.add(town)
        towns[t.code] = town
        out.add("towns")
    session.flush()

    # Villages: three per town, Voronoi cells of random points inside the town.
    for t in TOWNS:
        town = towns[t.code]
        minx, miny, maxx, maxy = town.geometry.bounds
        pts: list[Point] = []
        while len(pts) < 3:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if town.geometry.contains(p):
                pts.append(p)
        vcells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=town.geometry.buffer(10_000))
        for i, p in enumerate(pts, start=1):
            cell = next(c for c in vcells.geoms if c.contains(p))
            session.add(
                AdminArea(
                    code=f"{t.code}-V{i}",
                    name_zh=f"{t.name_zh[:-1]}第{i}村（示例）",
                    name_en=f"{t.name_en} village {i} (illustrative)",
                    level=AreaLevel.VILLAGE,
                    parent_id=town.id,
                    geometry=_multi(cell.intersection(town.geometry)),
                    illustrative=True,
                )
            )
            out.add("villages")

    # Units and their roles in the seven tasks.
    units: dict[str, Unit] = {}
    for code, zh, en, kind in UNITS:
        units[code] = Unit(code=code, name_zh=zh, name_en=en, kind=UnitKind(kind))
        session.add(units[code])
    for t in TOWNS:
        units[t.code] = Unit(
            code=f"U-{t.code}",
            name_zh=f"{t.name_zh}人民政府",
            name_en=f"{t.name_en} town government",
            kind=UnitKind.TOWN,
            town_id=towns[t.code].id,
        )
        session.add(units[t.code])
    session.flush()
    town_unit_codes = [t.code for t in TOWNS]
    for task_no, (leads, coops) in TASKS.items():
        for role, codes in ((TaskRole.LEAD, leads), (TaskRole.COOPERATE, coops)):
            for code in codes:
                for c in town_unit_codes if code == "TOWNS" else [code]:
                    session.add(TaskAssignment(unit_id=units[c].id, task_no=task_no, role=role))
    out.add("units", len(units))

    # Enterprises and their units.
    enterprises: dict[str, Enterprise] = {}
    for key, (credit, zh, en) in ENTERPRISES.items():
        e = Enterprise(credit_code=credit, name_zh=zh, name_en=en, contact_role="安全环保部负责人", illustrative=True)
        session.add(e)
        enterprises[key] = e
    session.flush()
    for key, e in enterprises.items():
        session.add(
            Unit(code=f"E-{key}", name_zh=e.name_zh, name_en=e.name_en, kind=UnitKind.ENTERPRISE, enterprise_id=e.id)
        )
    out.add("enterprises", len(enterprises))

    # Mines with mining rights; panels inside them.
    mines: list[Mine] = []
    panels: list[Panel] = []
    for i, m in enumerate(MINES):
        centre = seats[m.town]
        cx, cy = centre.x + m.dx_km * 1000, centre.y + m.dy_km * 1000
        width = float(rng.uniform(3800, 4600))
        length = float(rng.uniform(6200, 7400))
        angle = float(rng.uniform(-15, 15))
        right = affinity.rotate(
            box(cx - width / 2, cy - length / 2, cx + width / 2, cy + length / 2), angle, origin=(cx, cy)
        )
        valid_from = date(2006 + i % 8, 1 + i % 12, 1)
        method = (
            MiningMethod.UNDERGROUND_SUBSIDENCE if m.key not in ("LT", "CCT") else MiningMethod.UNDERGROUND_BACKFILL
        )
        town_of = max(towns.values(), key=lambda t: t.geometry.intersection(right).area)
        mine = Mine(
            licence_no=f"C1500002010{i + 1:02d}1120{100 + i}",
            name_zh=m.name_zh,
            name_en=m.name_en,
            enterprise_id=enterprises[m.enterprise].id,
            town_id=town_of.id,
            licence_valid_from=valid_from,
            licence_valid_to=date(valid_from.year + 30, valid_from.month, 1),
            capacity_mt_per_yr=m.capacity_mt,
            mining_method=method,
            status=MineStatus.PRODUCING,
            geometry=_multi(right),
            illustrative=True,
        )
        session.add(mine)
        session.flush()
        mines.append(mine)
        out.add("mines")

        # Five longwall panels side by side along the long axis, mined in sequence.
        base_depth = float(rng.uniform(120, 320))
        dip = float(rng.uniform(1, 5))
        dip_az = float(rng.uniform(0, 360))
        start = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 1300)))
        x0 = cx - width / 2 + 300
        for k in range(5):
            pw = float(rng.uniform(300, 450))
            pl = float(rng.uniform(3000, min(5500, length - 900)))
            gap = float(rng.uniform(20, 30))
            px0 = x0
            x0 = px0 + pw + gap
            py0 = cy - pl / 2 + float(rng.uniform(-200, 200))
            poly = affinity.rotate(box(px0, py0, px0 + pw, py0 + pl), angle, origin=(cx, cy))
            advance = float(rng.uniform(10, 20))
            duration = int(math.ceil(pl / advance))
            half = pw / 2 * math.tan(math.radians(dip))
            thickness = float(np.round(rng.uniform(2.0, 7.0), 1))
            p = Panel(
                code=f"{m.key}-{22301 + k}",
                mine_id=mine.id,
                name=f"{22301 + k}工作面",
                seam="2-2",
                thickness_m=thickness,
                depth_dip_m=round(base_depth + half, 1),
                depth_rise_m=round(base_depth - half, 1),
                dip_deg=round(dip, 1),
                dip_azimuth_deg=round(dip_az, 1),
                start_date=start,
                end_date=start + timedelta(days=duration),
                advance_m_per_day=round(advance, 1),
                geometry=poly,
                illustrative=True,
            )
            session.add(p)
            panels.append(p)
            out.add("panels")
            start = start + timedelta(days=duration + int(rng.integers(20, 60)))
    session.flush()

    _problems(session, rng, today, mines, towns, units, out)
    _hazards_wells_buildings(session, rng, mines, panels, towns, out)
    session.flush()
    step("county")

    for name in DEMO_EXTENSIONS:
        try:
            module = importlib.import_module(f"subsidence.demo.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"subsidence.demo.{name}":
                continue
            raise
        counts = module.populate(session, np.random.default_rng(seed + len(name)), today)
        for k, v in (counts or {}).items():
            out.add(k, v)
        session.flush()
        step(name)
    from subsidence.demo.ledger import refuse_one

    out.add("refusal_notices", refuse_one(session, today))  # after every ledger's data: the gate sees them all
    session.info.pop("server_today", None)  # the demo's clock: from here on the server's own date
    return out.counts


PROBLEM_TEMPLATES: dict[ProblemCategory, list[tuple[str, str]]] = {
    ProblemCategory.SUBSIDENCE_CRACKS: [
        ("{mine}{panel}工作面上方地表裂缝未及时充填", "按矿山地质环境保护与土地复垦方案充填裂缝、平整土地"),
        ("{mine}采空区塌陷坑未治理", "回填塌陷坑并恢复植被，边采边治"),
        ("{mine}沉陷区治理进度滞后于年度计划", "按年度治理计划完成治理面积"),
    ],
    ProblemCategory.FUNDS: [("{mine}矿山地质环境治理恢复基金计提不足", "足额计提并专款用于治理")],
    ProblemCategory.VEGETATION: [("{town}采空区枯死树木未清理", "清理枯死树木，宜林则林、宜草则草补植")],
    ProblemCategory.BUILDINGS: [("{town}已补偿搬迁房屋有返迁居住", "年底前全部拆除并劝离返迁人员")],
    ProblemCategory.GROUNDWATER: [("{mine}周边地下水位持续下降", "编制并落实保水开采方案")],
    ProblemCategory.GEOHAZARDS: [("{town}沉陷区边坡存在滑坡隐患", "开展隐患排查，发放明白卡和避险卡，落实群测群防")],
    ProblemCategory.MINE_HAZARDS: [("{mine}隐蔽致灾因素普查未完成", "完成普查，一问题一整改方案并报监管部门审核")],
}

CATEGORY_COUNTS = {
    ProblemCategory.SUBSIDENCE_CRACKS: 12,
    ProblemCategory.FUNDS: 5,
    ProblemCategory.VEGETATION: 6,
    ProblemCategory.BUILDINGS: 5,
    ProblemCategory.GROUNDWATER: 4,
    ProblemCategory.GEOHAZARDS: 5,
    ProblemCategory.MINE_HAZARDS: 3,
}
TOWN_LED = {ProblemCategory.VEGETATION, ProblemCategory.BUILDINGS}
LEAD_UNIT = {
    ProblemCategory.SUBSIDENCE_CRACKS: "NRB",
    ProblemCategory.FUNDS: "NRB",
    ProblemCategory.GROUNDWATER: "AWB",
    ProblemCategory.GEOHAZARDS: "NRB",
    ProblemCategory.MINE_HAZARDS: "EMB",
}
COOPERATING = {
    ProblemCategory.SUBSIDENCE_CRACKS: ["EMB", "EEB"],
    ProblemCategory.FUNDS: ["FIN", "EEB"],
    ProblemCategory.VEGETATION: ["NRB"],
    ProblemCategory.BUILDINGS: ["MSC", "EMB"],
    ProblemCategory.GROUNDWATER: ["EEB"],
    ProblemCategory.GEOHAZARDS: ["EMB"],
    ProblemCategory.MINE_HAZARDS: ["ENB"],
}
STATES = [
    ProblemState.FOUND,
    ProblemState.FIXED_AT_ONCE,
    ProblemState.NOTICE_ISSUED,
    ProblemState.RECTIFYING,
    ProblemState.SUBMITTED,
    ProblemState.ACCEPTED,
    ProblemState.RETURNED,
    ProblemState.WITHDRAWN,
]
STATE_WEIGHTS = [0.08, 0.07, 0.15, 0.30, 0.10, 0.20, 0.06, 0.04]
SOURCES = [
    ProblemSource.REMOTE_SENSING,
    ProblemSource.FIELD_SURVEY,
    ProblemSource.ANNUAL_ASSESSMENT,
    ProblemSource.DOUBLE_RANDOM,
    ProblemSource.REPORT,
]


def _problems(session, rng, today, mines, towns, units, out) -> None:
    """The county's own problems, registered and moved through the ledger's services (:mod:`subsidence.demo.ledger`),
    so each has its history and its milestones, dates and state agree."""
    from subsidence.access.policy import Actor
    from subsidence.demo.ledger import tell_story
    from subsidence.ledger.extensions import extensions_of
    from subsidence.ledger.lifecycle import add_problem
    from subsidence.vocabulary import Role

    office_unit = next(u for u in units.values() if u.kind == UnitKind.OFFICE)
    office = Actor("demo-office", Role.OFFICE, unit_id=office_unit.id)
    start, end = date(2024, 9, 10), min(today, date(2026, 10, 31))
    span = (end - start).days
    town_list = list(towns.values())
    drafts = []
    for category, n in CATEGORY_COUNTS.items():
        templates = PROBLEM_TEMPLATES[category]
        for j in range(n):
            mine = mines[int(rng.integers(0, len(mines)))]
            town = (
                next(t for t in town_list if t.id == mine.town_id)
                if category not in TOWN_LED or j % 2 == 0
                else town_list[int(rng.integers(0, len(town_list)))]
            )
            title_t, req = templates[j % len(templates)]
            panel_no = 22301 + int(rng.integers(0, 5))
            title = title_t.format(mine=mine.name_zh.replace("（示例）", ""), town=town.name_zh, panel=panel_no)
            found = start + timedelta(days=int(rng.integers(0, span)))
            # older findings are mostly closed by now; recent ones are mostly in progress
            weights = np.array(STATE_WEIGHTS)
            if (today - found).days > 365:
                weights[STATES.index(ProblemState.ACCEPTED)] += 0.45
            state = STATES[int(rng.choice(len(STATES), p=weights / weights.sum()))]
            window = int(rng.choice([60, 90, 120, 180, 240]))
            drafts.append(
                (found, category, j, mine, town, title, req, state, window, SOURCES[int(rng.integers(0, len(SOURCES)))])
            )
    drafts.sort(key=lambda d: (d[0], d[1].value, d[2]))  # registered in the order they were found
    flagged = extended = 0
    for found, category, j, mine, town, title, req, state, window, source in drafts:
        session.info["server_today"] = found
        with_mine = not (category in TOWN_LED and j % 2)
        p = add_problem(
            session,
            office,
            category=category,
            title=title + "（示例）",
            found_date=found,
            source=source,
            mine=mine if with_mine else None,
            town_id=town.id,
            description=f"示例数据：{title}。",
            requirement=req,
            cooperating=[units[c] for c in COOPERATING[category]],
        )
        p.illustrative = True
        p.geometry = (
            town.geometry.representative_point() if category in TOWN_LED else mine.geometry.representative_point()
        )
        session.flush()
        want_flag = state == ProblemState.ACCEPTED and category == ProblemCategory.SUBSIDENCE_CRACKS and flagged == 0
        want_ext = state == ProblemState.RECTIFYING and extended < 2
        if (
            with_mine
            and is_compliant(mine, mines)
            and state in (ProblemState.NOTICE_ISSUED, ProblemState.RECTIFYING, ProblemState.RETURNED)
        ):
            # a compliant mine: old findings were rectified and accepted, recent ones are inside their deadline
            if (today - found).days > 200:
                state = ProblemState.ACCEPTED
            else:
                window = max(window, (today - found).days + 45)
        reached = tell_story(
            session,
            p,
            state,
            rng,
            today,
            window,
            flagged_photo=want_flag,
            extension=want_ext,
            in_time=with_mine and is_compliant(mine, mines),
        )
        flagged += want_flag and reached == ProblemState.ACCEPTED
        extended += bool(want_ext and extensions_of(session, p))
        out.add("problems")
    session.info["server_today"] = today


def _hazards_wells_buildings(session, rng, mines, panels, towns, out) -> None:
    town_list = list(towns.values())
    types = list(HazardType)
    for i in range(14):
        mine = mines[i % len(mines)]
        c = mine.geometry.centroid
        pt = Point(c.x + rng.uniform(-4000, 4000), c.y + rng.uniform(-4500, 4500))
        town = next((t for t in town_list if t.geometry.contains(pt)), town_list[0])
        people = int(rng.choice([6, 15, 40, 120, 260, 650]))
        shelter = Point(pt.x + rng.uniform(800, 1500), pt.y + rng.uniform(-500, 500))
        h = HazardPoint(
            code=f"YH-{i + 1:03d}",
            name=f"{town.name_zh}{types[i % len(types)].label()}隐患点{i + 1}（示例）",
            hazard_type=types[i % len(types)],
            town_id=town.id,
            mine_id=mine.id,
            village=f"{town.name_zh[:-1]}第{1 + i % 3}村",
            scale=["小型", "中型", "大型"][i % 3],
            volume_m3=float(rng.integers(2, 80)) * 1000,
            triggers="采煤沉陷、降雨",
            stability=["稳定性差", "欠稳定", "基本稳定"][i % 3],
            threatened_households=max(1, people // 3),
            threatened_people=people,
            threatened_property_10k_yuan=float(people * rng.uniform(3, 12)),
            monitoring_method="群测群防+专业监测",
            monitoring_frequency="汛期每日一次，非汛期每周一次",
            responsible_role=f"{town.name_zh}分管副镇长",
            monitor_role=f"{town.name_zh[:-1]}村监测员",
            warning_signal="鸣锣、手摇报警器、电话",
            warning_giver_role="村监测员",
            rescue_unit="旗应急管理局救援队",
            geometry=pt,
            extent=pt.buffer(float(rng.uniform(60, 200)), quad_segs=4),
            evacuation_route=LineString([pt, shelter]),
            shelter=shelter,
            illustrative=True,
        )
        session.add(h)
        session.flush()
        out.add("hazard_points")
        for kind, unit in ((SensorKind.GNSS, "mm"), (SensorKind.CRACK_METER, "mm"), (SensorKind.RAIN_GAUGE, "mm")):
            if kind == SensorKind.RAIN_GAUGE and i % 3:
                continue
            session.add(
                Sensor(
                    code=f"{h.code}-{kind.value.upper()}",
                    kind=kind,
                    unit=unit,
                    hazard_point_id=h.id,
                    mine_id=mine.id,
                    installed=date(2024, 10, 1),
                    geometry=pt,
                    illustrative=True,
                )
            )
            out.add("sensors")
    for i in range(10):
        mine = mines[i]
        c = mine.geometry.centroid
        pt = Point(c.x + rng.uniform(-2500, 2500), c.y + rng.uniform(-3000, 3000))
        town = next((t for t in town_list if t.geometry.contains(pt)), town_list[0])
        w = GroundwaterWell(
            code=f"GW-{i + 1:03d}",
            name=f"{mine.name_zh[:-4]}观测井（示例）",
            town_id=town.id,
            mine_id=mine.id,
            aquifer="萨拉乌苏组潜水",
            well_depth_m=float(rng.uniform(30, 80)),
            baseline_depth_to_water_m=round(float(rng.uniform(1.0, 3.5)), 2),
            geometry=pt,
            illustrative=True,
        )
        session.add(w)
        session.flush()
        session.add(
            Sensor(
                code=f"{w.code}-LEVEL",
                kind=SensorKind.GROUNDWATER_WELL,
                unit="m",
                well_id=w.id,
                mine_id=mine.id,
                installed=date(2023, 5, 1),
                geometry=pt,
                illustrative=True,
            )
        )
        out.add("wells")
        out.add("sensors")
    kinds = ["住房", "住房", "住房", "畜棚", "村道", "学校（已停用）"]
    for i in range(26):
        panel = panels[int(rng.integers(0, len(panels)))]
        c = panel.geometry.centroid
        pt = Point(c.x + rng.uniform(-300, 300), c.y + rng.uniform(-1200, 1200))
        town = next((t for t in town_list if t.geometry.contains(pt)), town_list[0])
        status = [DemolitionStatus.DEMOLISHED, DemolitionStatus.NOT_STARTED, DemolitionStatus.IN_PROGRESS][i % 3]
        if is_compliant(next(m for m in mines if m.id == panel.mine_id), mines):
            status = DemolitionStatus.DEMOLISHED
        comp = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 1800)))
        session.add(
            CompensatedBuilding(
                code=f"BC-{i + 1:03d}",
                kind=kinds[i % len(kinds)],
                household_code=f"HH-{town.code}-{i + 1:03d}",
                town_id=town.id,
                village=f"{town.name_zh[:-1]}第{1 + i % 3}村",
                mine_id=panel.mine_id,
                compensated=True,
                compensation_date=comp,
                compensation_yuan=float(rng.integers(8, 60)) * 10_000,
                compensation_record=f"补偿协议 BC-{comp.year}-{i + 1:03d}",
                resettled=True,
                reoccupied=(i % 5 == 1),
                demolition_status=status,
                demolished_date=comp + timedelta(days=int(rng.integers(30, 400)))
                if status == DemolitionStatus.DEMOLISHED
                else None,
                geometry=pt.buffer(9, quad_segs=1),
                illustrative=True,
            )
        )
        out.add("buildings")
