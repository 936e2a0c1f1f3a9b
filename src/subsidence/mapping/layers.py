"""Map layers as GeoJSON feature collections (CRS84 lon/lat), shared by the battle map and OGC API – Features.

Each :class:`LayerDef` names a model, the policy resource that scopes it (an enterprise's map shows only its
own mines), the properties shown in popups and used for styling, and the filters users may apply.
Geometry is reprojected from the storage CRS in one vectorised call per request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.access import policy as authz
from subsidence.census.models import SubsidenceArea
from subsidence.core.models import AdminArea, Mine, Panel
from subsidence.errors import NotFound, ValidationFailed
from subsidence.geo import STORAGE_CRS
from subsidence.monitoring.models import GroundwaterWell, HazardPoint
from subsidence.tasks.models import CompensatedBuilding
from subsidence.vocabulary import AreaLevel, Labelled

log = logging.getLogger(__name__)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000


@lru_cache(maxsize=1)
def _to_lonlat() -> Transformer:
    return Transformer.from_crs(STORAGE_CRS, "OGC:CRS84", always_xy=True)


@lru_cache(maxsize=1)
def _from_lonlat() -> Transformer:
    return Transformer.from_crs("OGC:CRS84", STORAGE_CRS, always_xy=True)


def _project(coords: np.ndarray) -> np.ndarray:
    x, y = _to_lonlat().transform(coords[:, 0], coords[:, 1])
    return np.round(np.column_stack([x, y]), 7)


def lonlat_bbox_to_storage(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A CRS84 bbox (minlon, minlat, maxlon, maxlat) as bounds in the storage CRS (densified edges)."""
    x0, y0, x1, y1 = bbox
    xs = np.concatenate([np.linspace(x0, x1, 11), np.full(11, x1), np.linspace(x1, x0, 11), np.full(11, x0)])
    ys = np.concatenate([np.full(11, y0), np.linspace(y0, y1, 11), np.full(11, y1), np.linspace(y1, y0, 11)])
    ex, ey = _from_lonlat().transform(xs, ys)
    return float(np.min(ex)), float(np.min(ey)), float(np.max(ex)), float(np.max(ey))


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` (CRS84) → tuple; a clear error for anything else."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    try:
        vals = tuple(float(p) for p in parts)
    except ValueError:
        raise ValidationFailed(f"bbox={text!r}: give four numbers minlon,minlat,maxlon,maxlat") from None
    if len(vals) == 6:  # 3-D bbox: drop heights
        vals = (vals[0], vals[1], vals[3], vals[4])
    if len(vals) != 4 or not all(np.isfinite(vals)):
        raise ValidationFailed(f"bbox={text!r}: give four numbers minlon,minlat,maxlon,maxlat")
    x0, y0, x1, y1 = vals
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise ValidationFailed(f"bbox={text!r}: need -180 ≤ minlon ≤ maxlon ≤ 180 and -90 ≤ minlat ≤ maxlat ≤ 90")
    return vals  # type: ignore[return-value]


def _lbl(value: Any, lang: str) -> Any:
    return value.label(lang) if isinstance(value, Labelled) else value


def _v(value: Any) -> Any:
    if isinstance(value, Labelled):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class LayerDef:
    id: str
    title_zh: str
    title_en: str
    resource: str  #: authz policy resource that scopes the rows
    model: Any
    geom_attr: str
    props: Callable[[Any, str], dict[str, Any]]
    filters: tuple[str, ...] = ()  #: model attributes users may filter on (equality)
    where: Callable[[], Any] | None = None
    geometry_type: str = "Unknown"
    description: str = ""
    extra: Callable[[Session, list[Any], list[dict[str, Any]]], None] | None = None

    def title(self, lang: str) -> str:
        return self.title_zh if lang.startswith("zh") else self.title_en


def _town_props(o: AdminArea, lang: str) -> dict[str, Any]:
    return {
        "code": o.code,
        "name": o.name_zh if lang.startswith("zh") else (o.name_en or o.name_zh),
        "name_zh": o.name_zh,
        "illustrative": o.illustrative,
    }


def _mine_props(o: Mine, lang: str) -> dict[str, Any]:
    return {
        "code": o.licence_no,
        "name": o.name_zh if lang.startswith("zh") else (o.name_en or o.name_zh),
        "name_zh": o.name_zh,
        "enterprise_id": o.enterprise_id,
        "town_id": o.town_id,
        "status": _v(o.status),
        "status_label": _lbl(o.status, lang),
        "mining_method": _v(o.mining_method),
        "capacity_mt_per_yr": o.capacity_mt_per_yr,
        "licence_valid_to": _v(o.licence_valid_to),
        "illustrative": o.illustrative,
    }


def _panel_props(o: Panel, lang: str) -> dict[str, Any]:
    return {
        "code": o.code,
        "name": o.name or o.code,
        "mine_id": o.mine_id,
        "seam": o.seam,
        "thickness_m": o.thickness_m,
        "depth_dip_m": o.depth_dip_m,
        "start_date": _v(o.start_date),
        "end_date": _v(o.end_date),
        "illustrative": o.illustrative,
    }


def _area_props(o: SubsidenceArea, lang: str) -> dict[str, Any]:
    return {
        "code": o.code,
        "name": o.code,
        "source": _v(o.source),
        "source_label": _lbl(o.source, lang),
        "review_state": _v(o.review_state),
        "review_state_label": _lbl(o.review_state, lang),
        "stability": _v(o.stability),
        "stability_label": _lbl(o.stability, lang),
        "area_ha": o.area_ha,
        "max_subsidence_mm": o.max_subsidence_mm,
        "mean_rate_mm_per_yr": o.mean_rate_mm_per_yr,
        "mine_id": o.mine_id,
        "town_id": o.town_id,
        "treated": o.treated,
        "first_seen": _v(o.first_seen),
        "last_seen": _v(o.last_seen),
        "illustrative": o.illustrative,
    }


def _hazard_props(o: HazardPoint, lang: str) -> dict[str, Any]:
    return {
        "code": o.code,
        "name": o.name,
        "hazard_type": _v(o.hazard_type),
        "hazard_type_label": _lbl(o.hazard_type, lang),
        "town_id": o.town_id,
        "mine_id": o.mine_id,
        "village": o.village,
        "scale": o.scale,
        "threatened_people": o.threatened_people,
        "threatened_households": o.threatened_households,
        "warning_level": None,
        "illustrative": o.illustrative,
    }


def _well_props(o: GroundwaterWell, lang: str) -> dict[str, Any]:
    return {
        "code": o.code,
        "name": o.name or o.code,
        "aquifer": o.aquifer,
        "town_id": o.town_id,
        "mine_id": o.mine_id,
        "baseline_depth_to_water_m": o.baseline_depth_to_water_m,
        "illustrative": o.illustrative,
    }


def _building_props(o: CompensatedBuilding, lang: str) -> dict[str, Any]:
    return {
        "code": o.code,
        "name": o.code,
        "kind": o.kind,
        "village": o.village,
        "town_id": o.town_id,
        "mine_id": o.mine_id,
        "reoccupied": o.reoccupied,
        "demolition_status": _v(o.demolition_status),
        "demolition_status_label": _lbl(o.demolition_status, lang),
        "illustrative": o.illustrative,
    }


def _hazard_levels(session: Session, rows: list[Any], props: list[dict[str, Any]]) -> None:
    """Current warning level per hazard point (the monitoring queries)."""
    from subsidence.monitoring.queries import current_levels

    try:
        levels = current_levels(session, [r.id for r in rows])
    except Exception:
        log.exception("current warning levels unavailable")
        return
    for r, p in zip(rows, props):
        lvl = levels.get(r.id)
        p["warning_level"] = getattr(lvl, "value", lvl)


LAYERS: dict[str, LayerDef] = {}


def register_layer(layer: LayerDef) -> LayerDef:
    LAYERS[layer.id] = layer
    return layer


register_layer(
    LayerDef(
        "towns",
        "镇界",
        "Towns",
        "town",
        AdminArea,
        "geometry",
        _town_props,
        where=lambda: AdminArea.level == AreaLevel.TOWN,
        geometry_type="MultiPolygon",
        description="镇级行政区界线（示意）/ town boundaries (illustrative)",
    )
)
register_layer(
    LayerDef(
        "mining_rights",
        "采矿权范围",
        "Mining rights",
        "mine",
        Mine,
        "geometry",
        _mine_props,
        filters=("town_id", "enterprise_id", "status"),
        geometry_type="MultiPolygon",
    )
)
register_layer(
    LayerDef(
        "panels",
        "工作面",
        "Panels",
        "panel",
        Panel,
        "geometry",
        _panel_props,
        filters=("mine_id",),
        geometry_type="Polygon",
    )
)
register_layer(
    LayerDef(
        "subsidence_areas",
        "沉陷区",
        "Subsidence areas",
        "subsidence_area",
        SubsidenceArea,
        "geometry",
        _area_props,
        filters=("review_state", "stability", "town_id", "mine_id"),
        geometry_type="MultiPolygon",
    )
)
register_layer(
    LayerDef(
        "hazard_points",
        "地质灾害隐患点",
        "Hazard points",
        "hazard_point",
        HazardPoint,
        "geometry",
        _hazard_props,
        filters=("hazard_type", "town_id"),
        geometry_type="Point",
        extra=_hazard_levels,
    )
)
register_layer(
    LayerDef(
        "wells",
        "地下水监测井",
        "Groundwater wells",
        "well",
        GroundwaterWell,
        "geometry",
        _well_props,
        filters=("town_id", "mine_id"),
        geometry_type="Point",
    )
)
register_layer(
    LayerDef(
        "buildings",
        "已补偿建筑物",
        "Compensated buildings",
        "building",
        CompensatedBuilding,
        "geometry",
        _building_props,
        filters=("town_id", "demolition_status"),
        geometry_type="Geometry",
    )
)


def _plan_layers() -> None:
    """Treatment plans: planned parcels of current plans, reported and verified treated parcels."""
    from sqlalchemy import select as _select

    from subsidence.plans.models import PlanParcel, ReclamationPlan, TreatedParcel
    from subsidence.vocabulary import ParcelState

    def planned(o: Any, lang: str) -> dict[str, Any]:
        return {
            "code": o.code,
            "name": o.code,
            "purpose": _v(o.purpose),
            "purpose_label": _lbl(o.purpose, lang),
            "land_type": _v(o.land_type),
            "land_type_label": _lbl(o.land_type, lang),
            "area_ha": o.area_ha,
            "planned_year": o.planned_year,
            "plan_id": o.plan_id,
        }

    def treated(o: Any, lang: str) -> dict[str, Any]:
        return {
            "code": o.code,
            "name": o.code,
            "year": o.year,
            "purpose": _v(o.purpose),
            "land_type": _v(o.land_type),
            "land_type_label": _lbl(o.land_type, lang),
            "area_ha": o.area_ha,
            "state": _v(o.state),
            "state_label": _lbl(o.state, lang),
            "reason": o.state_reason,
            "spending_yuan": o.spending_yuan,
            "mine_id": o.mine_id,
        }

    current = _select(ReclamationPlan.id).where(ReclamationPlan.current.is_(True))
    register_layer(
        LayerDef(
            "planned_parcels",
            "方案治理复垦地块",
            "Planned parcels",
            "plan_parcel",
            PlanParcel,
            "geometry",
            planned,
            filters=("purpose", "land_type", "planned_year"),
            where=lambda: PlanParcel.plan_id.in_(current),
            geometry_type="MultiPolygon",
        )
    )
    register_layer(
        LayerDef(
            "reported_parcels",
            "企业上报治理地块",
            "Reported parcels",
            "treated_parcel",
            TreatedParcel,
            "geometry",
            treated,
            filters=("year", "state", "mine_id"),
            where=lambda: TreatedParcel.state.in_([ParcelState.REPORTED, ParcelState.REJECTED]),
            geometry_type="MultiPolygon",
        )
    )
    register_layer(
        LayerDef(
            "verified_parcels",
            "核查通过治理地块",
            "Verified parcels",
            "treated_parcel",
            TreatedParcel,
            "geometry",
            treated,
            filters=("year", "state", "mine_id"),
            where=lambda: TreatedParcel.state.in_([ParcelState.VERIFIED_RS, ParcelState.ACCEPTED]),
            geometry_type="MultiPolygon",
        )
    )


_plan_layers()


def _vegetation_layer() -> None:
    """Vegetation-change polygons of the census (loss / recovery)."""
    from subsidence.census.models import VegetationChange as model

    def props(o: Any, lang: str) -> dict[str, Any]:
        return {
            "code": o.code,
            "name": o.code,
            "kind": _v(o.kind),
            "kind_label": _lbl(o.kind, lang),
            "area_ha": o.area_ha,
            "over_goaf_ha": o.over_goaf_ha,
            "mean_delta_ndvi": o.mean_delta_ndvi,
            "date_before": _v(o.date_before),
            "date_after": _v(o.date_after),
            "town_id": o.town_id,
            "mine_id": o.mine_id,
        }

    register_layer(
        LayerDef(
            "vegetation",
            "植被变化",
            "Vegetation change",
            "vegetation",
            model,
            "geometry",
            props,
            filters=("kind", "town_id", "mine_id"),
            geometry_type="MultiPolygon",
        )
    )


def layer_defs() -> dict[str, LayerDef]:
    _vegetation_layer()
    return dict(LAYERS)


def get_layer(layer_id: str) -> LayerDef:
    defs = layer_defs()
    if layer_id not in defs:
        raise NotFound(f"图层 {layer_id!r} 不存在 / no layer {layer_id!r}; layers: {', '.join(defs)}")
    return defs[layer_id]


def _filter_clause(layer: LayerDef, name: str, value: str):
    col = getattr(layer.model, name)
    enum_cls = getattr(col.type, "enum_class", None)
    if enum_cls is not None:
        try:
            return col == enum_cls.parse(value) if hasattr(enum_cls, "parse") else col == enum_cls(value)
        except ValueError as exc:
            raise ValidationFailed(f"filter {name}: {exc}") from None
    python_type = None
    try:
        python_type = col.type.python_type
    except NotImplementedError:
        pass
    if python_type is int:
        try:
            number = int(value)
        except ValueError:
            raise ValidationFailed(f"filter {name}={value!r}: give a whole number") from None
        if not 0 <= number <= 2_147_483_647:
            raise ValidationFailed(f"filter {name}={value!r}: out of range")
        return col == number
    return col == value


@dataclass
class LayerPage:
    layer: LayerDef
    rows: list[Any]
    geoms: list[Any]
    number_matched: int
    props: list[dict[str, Any]] = field(default_factory=list)


def query_layer(
    session: Session,
    actor: authz.Actor,
    layer_id: str,
    *,
    bbox=None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    filters: dict[str, str] | None = None,
    lang: str = "zh-CN",
) -> LayerPage:
    """The features of ``layer_id`` that ``actor`` may see, optionally within a CRS84 ``bbox``."""
    layer = get_layer(layer_id)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit={limit}: give 1–{MAX_LIMIT}")
    if offset < 0:
        raise ValidationFailed(f"offset={offset}: must be ≥ 0")
    gcol = getattr(layer.model, layer.geom_attr)
    stmt = authz.visible(actor, layer.resource).where(gcol.is_not(None))
    if layer.where is not None:
        stmt = stmt.where(layer.where())
    for name, value in (filters or {}).items():
        if name not in layer.filters:
            raise ValidationFailed(
                f"filter {name!r} not available on layer {layer_id}; use one of {list(layer.filters)}"
            )
        stmt = stmt.where(_filter_clause(layer, name, value))
    stmt = stmt.order_by(layer.model.id)
    env = lonlat_bbox_to_storage(bbox) if bbox is not None else None
    pg = session.get_bind().dialect.name == "postgresql"
    if env is not None and pg:
        stmt = stmt.where(func.ST_Intersects(gcol, func.ST_MakeEnvelope(*env, 4546)))
    if env is None or pg:
        matched = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        rows = list(session.scalars(stmt.offset(offset).limit(limit)))
    else:  # SQLite stores WKB: filter the (county-sized) layer in Python, vectorised
        all_rows = list(session.scalars(stmt))
        geoms = np.array([getattr(r, layer.geom_attr) for r in all_rows], dtype=object)
        keep = shapely.intersects(geoms, shapely.box(*env)) if len(geoms) else np.zeros(0, bool)
        sel = [r for r, k in zip(all_rows, keep) if k]
        matched, rows = len(sel), sel[offset : offset + limit]
    geoms = [getattr(r, layer.geom_attr) for r in rows]
    props = [layer.props(r, lang) for r in rows]
    if layer.extra is not None and rows:
        layer.extra(session, rows, props)
    return LayerPage(layer, rows, geoms, matched, props)


def get_feature(session: Session, actor: authz.Actor, layer_id: str, feature_id: int, lang: str = "zh-CN") -> LayerPage:
    """One feature of ``layer_id`` as a one-row page: only when it is in the layer (its ``where``, e.g. towns
    only in ``towns``), visible to ``actor`` and has a geometry; :class:`NotFound` otherwise, alike for all."""
    layer = get_layer(layer_id)
    gcol = getattr(layer.model, layer.geom_attr)
    stmt = authz.visible(actor, layer.resource).where(layer.model.id == feature_id, gcol.is_not(None))
    if layer.where is not None:
        stmt = stmt.where(layer.where())
    obj = session.scalar(stmt)
    if obj is None:
        raise NotFound(f"要素 {feature_id} 不在图层 {layer.title_zh} 中 / feature {feature_id} not found in {layer_id}")
    page = LayerPage(layer, [obj], [getattr(obj, layer.geom_attr)], 1, [layer.props(obj, lang)])
    if layer.extra is not None:
        layer.extra(session, page.rows, page.props)
    return page


def to_lonlat_geoms(geoms: list[Any]) -> np.ndarray:
    arr = np.array(geoms, dtype=object)
    if not len(arr):
        return arr
    return shapely.transform(arr, _project)


def feature_collection(page: LayerPage) -> dict[str, Any]:
    """GeoJSON FeatureCollection (CRS84) of a queried page."""
    lonlat = to_lonlat_geoms(page.geoms)
    gj = shapely.to_geojson(lonlat) if len(lonlat) else []
    features = [
        {"type": "Feature", "id": r.id, "geometry": json.loads(g), "properties": {"id": r.id, **p}}
        for r, g, p in zip(page.rows, gj, page.props)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": page.number_matched,
        "numberReturned": len(features),
    }


def layer_extent(session: Session, actor: authz.Actor, layer_id: str) -> list[float] | None:
    """CRS84 bbox of everything the actor sees in the layer (None when empty)."""
    page = query_layer(session, actor, layer_id, limit=MAX_LIMIT)
    if not page.geoms:
        return None
    b = shapely.total_bounds(to_lonlat_geoms(page.geoms))
    return [round(float(v), 6) for v in b]


def write_geopackage(session: Session, actor: authz.Actor, layer_id: str, out_path: Path, lang: str = "zh-CN") -> int:
    """Write the actor's view of a layer to a GeoPackage in the storage CRS (EPSG:4546). Returns the count."""
    import pyogrio.raw

    page = query_layer(session, actor, layer_id, limit=MAX_LIMIT, lang=lang)
    if not page.rows:
        raise NotFound(f"图层 {layer_id} 中没有可导出的要素 / layer {layer_id} has no features for you")
    names = list(page.props[0].keys())
    names = ["id"] + [n for n in names if n != "id"]
    field_data = []
    for n in names:
        vals = [(r.id if n == "id" else p.get(n)) for r, p in zip(page.rows, page.props)]
        if all(isinstance(v, bool) or v is None for v in vals) and any(v is not None for v in vals):
            field_data.append(np.array([int(v) if v is not None else -1 for v in vals], dtype=np.int32))
        elif all(isinstance(v, int) and not isinstance(v, bool) or v is None for v in vals) and all(
            v is not None for v in vals
        ):
            field_data.append(np.array(vals, dtype=np.int64))
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in vals):
            field_data.append(np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64))
        else:
            field_data.append(np.array(["" if v is None else str(v) for v in vals], dtype=object))
    geoms = np.array(page.geoms, dtype=object)
    multi = page.layer.geometry_type.startswith("Multi") or page.layer.geometry_type == "Geometry"
    if page.layer.geometry_type == "Geometry":
        geom_type = "Unknown"
    else:
        geom_type = page.layer.geometry_type
    out_path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.raw.write(
        str(out_path),
        shapely.to_wkb(geoms),
        field_data,
        names,
        layer=layer_id,
        driver="GPKG",
        geometry_type=geom_type,
        crs=STORAGE_CRS,
        promote_to_multi=multi and geom_type != "Unknown",
        encoding="UTF-8",
    )
    return len(page.rows)
