"""Helpers for the import/export tests: seeding, DB snapshots, input file writers (imported as ``iokit``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import box
from sqlalchemy import func, select

from subsidence.core.models import AdminArea, AuditEvent, Enterprise, Mine, Panel, Unit
from subsidence.db.session import make_sessionmaker
from subsidence.ledger.models import Problem
from subsidence.vocabulary import AreaLevel
from tests.builders import CountyBuilder

DATA = Path(__file__).resolve().parents[1] / "data"
LICENCE = "C1500002009011120034567"
OTHER_LICENCE = "C1500002010021120045678"


def ll2gk(g):
    tr = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True)
    return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def seed_county(engine) -> dict[str, Any]:
    """Banner (with boundary), one town, three units, one enterprise, two mines with mining rights."""
    with make_sessionmaker(engine)() as s:
        b = CountyBuilder(s, actor="seed")
        banner = b.area(
            "150627",
            "伊金霍洛旗",
            AreaLevel.BANNER,
            geometry=shapely.MultiPolygon([ll2gk(box(109.0, 38.8, 110.6, 39.9))]),
        )
        town = b.town(
            "150627101",
            "乌兰木伦镇",
            parent=banner,
            geometry=shapely.MultiPolygon([ll2gk(box(109.9, 39.3, 110.2, 39.6))]),
        )
        ent = b.enterprise("91150627MA0N000001", "示例能源有限公司")
        b.bureaus("NRB", "EMB", "AWB")
        b.town_government("T-WLML", town)
        b.mine(
            LICENCE,
            "示例补连塔煤矿",
            enterprise=ent,
            town=town,
            geometry=shapely.MultiPolygon([ll2gk(box(110.0, 39.4, 110.06, 39.46))]),
        )
        b.mine(
            OTHER_LICENCE,
            "示例上湾煤矿",
            town=town,
            geometry=shapely.MultiPolygon([ll2gk(box(110.07, 39.46, 110.1, 39.5))]),
        )
        s.commit()
    return {"engine": engine, "town": "150627101"}


def snapshot(engine) -> dict[str, int]:
    """Row counts of every table an import can touch, plus the audit trail (to prove 'nothing changed')."""
    from subsidence.ledger.models import Milestone
    from subsidence.monitoring.models import GroundwaterWell, HazardPoint
    from subsidence.tasks.models import CompensatedBuilding

    with make_sessionmaker(engine)() as s:
        out = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (
                AdminArea,
                Unit,
                Enterprise,
                Mine,
                Panel,
                Problem,
                Milestone,
                HazardPoint,
                GroundwaterWell,
                CompensatedBuilding,
                AuditEvent,
            )
        }
        out["max_updated"] = str(s.scalar(select(func.max(Mine.updated_at))))
    return out


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    """A plain workbook as an office would type it (first row = headers unless a title row is given)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def write_geojson(path: Path, features: list[tuple[dict[str, Any], dict | None]], crs: str | None = None) -> Path:
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def lonlat_polygon(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


PANEL_HEADERS = [
    "工作面编号",
    "采矿许可证号",
    "工作面名称",
    "采厚(m)",
    "下山采深(m)",
    "上山采深(m)",
    "开采开始日期",
    "开采结束日期",
]


def panel_rows() -> list[list[Any]]:
    return [
        PANEL_HEADERS,
        [f"{LICENCE}-22301", LICENCE, "22301工作面", 4.5, 240, 220, date(2021, 3, 1), "2022/6/30"],
        [f"{LICENCE}-22302", LICENCE, "22302工作面", 5.0, 250, 230, "2022-07-15", "2023年9月1日"],
        [f"{OTHER_LICENCE}-12201", "示例上湾煤矿", "12201工作面", 6.2, 180, 170, "2023-01-01", None],
    ]
