"""Exporting records to GeoJSON, GeoPackage, Shapefile and Excel, and the blank Excel templates.

Columns come from :mod:`subsidence.interchange.fieldspecs`, so every export imports back with
``subsidence import`` (round trip). Excel uses the Chinese headers and labels; vector files use the English
field names (or the Chinese ones with ``field_names="zh"``), Shapefiles the ≤10-character names, UTF-8 with a
``.cpg``. GeoJSON is RFC 7946 (WGS84 lon/lat) unless another CRS is asked for; GeoPackage and Shapefile keep
the storage CRS (CGCS2000 GK CM 111E) unless asked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from subsidence.geo import STORAGE_CRS, WGS84, area_ha, parse_crs, transform_geometry
from subsidence.interchange.fieldspecs import (
    DATE_HELP,
    PROBLEMS,
    KindSpec,
    enum_choices,
    format_milestones,
    get_kind,
)
from subsidence.io import excel
from subsidence.io.excel import Column, write_table
from subsidence.io.sniff import FormatError
from subsidence.io.vector import geometry_type_name, write_vector
from subsidence.ledger.models import Problem

log = logging.getLogger(__name__)

LEDGER_TITLE = "伊金霍洛旗采煤沉陷区专项整治问题台账"


@dataclass
class ExportReport:
    kind: str
    file: str
    format: str
    count: int
    crs: str | None = None

    def summary(self) -> str:
        crs = f" ({self.crs})" if self.crs else ""
        return f"{self.file}: {self.count} {self.kind} written as {self.format}{crs}"


def _value(spec: KindSpec, f, obj: Any, *, labels: bool) -> Any:
    """A field's value as written to a file (labels: Chinese enum labels and display names, for Excel)."""
    if f.type == "area_ha":
        return round(area_ha(obj.geometry), 4) if obj.geometry is not None else None
    if f.name == "mine_name":
        return obj.mine.name_zh if getattr(obj, "mine", None) is not None else None
    if f.name == "remarks":
        return "示例数据（illustrative）" if getattr(obj, "illustrative", False) else None
    if f.type == "milestones":
        return format_milestones(obj.milestones)
    if f.type in ("ref", "refs"):
        attr = f.ref.display if labels else f.ref.key
        if f.type == "refs":
            return "、".join(str(getattr(u, attr)) for u in getattr(obj, f.model_attr)) or None
        fk = getattr(obj, f.model_attr)
        if fk is None:
            return None
        target = object_session(obj).get(f.ref.model, fk)
        return getattr(target, attr) if target is not None else None
    value = getattr(obj, f.model_attr)
    if f.type == "enum" and value is not None:
        return value.label("zh-CN") if labels else value.value
    if f.type == "bool" and value is not None and labels:
        return "是" if value else "否"
    return value


def _load(session: Session, spec: KindSpec) -> list[Any]:
    stmt = select(spec.model).order_by(getattr(spec.model, spec.key.model_attr))
    if spec is PROBLEMS:
        stmt = stmt.options(
            selectinload(Problem.milestones), selectinload(Problem.cooperating_units), selectinload(Problem.mine)
        )
    return list(session.scalars(stmt))


def excel_sheet(spec: KindSpec, objs: Sequence[Any]) -> tuple[list[Column], list[list[Any]]]:
    """The Excel columns (序号 first, Chinese headers) and rows for ``objs`` of ``spec``."""
    columns = [Column("序号", width=6, kind="int")]
    for f in spec.fields:
        columns.append(_column(f))
    point = spec.lonlat
    if point:
        columns += [
            Column("经度", width=12, kind="float", comment="CGCS2000 longitude, degrees"),
            Column("纬度", width=12, kind="float", comment="CGCS2000 latitude, degrees"),
        ]
    rows = []
    for i, obj in enumerate(objs, start=1):
        row = [i] + [_value(spec, f, obj, labels=True) for f in spec.fields]
        if point:
            g = obj.geometry
            if g is not None and g.geom_type == "Point":
                ll = transform_geometry(g, STORAGE_CRS, "EPSG:4490")
                row += [round(ll.x, 7), round(ll.y, 7)]
            else:
                row += [None, None]
        rows.append(row)
    return columns, rows


def _column(f) -> Column:
    kind = {"date": "date", "int": "int", "float": "float", "area_ha": "float"}.get(f.type, "str")
    lines = [f"{f.name}" + (" — required (必填)" if f.required else "")]
    if f.key:
        lines.append("stable key: re-importing updates the record with this key")
    if f.unit:
        lines.append(f"unit: {f.unit}")
    if f.enum is not None:
        lines.append("one of: " + "、".join(enum_choices(f.enum)))
    if f.type == "date":
        lines.append(DATE_HELP)
    if f.help:
        lines.append(f.help)
    if f.export_only:
        lines.append("computed on export; ignored on import")
    return Column(
        f.zh,
        width=f.width,
        kind=kind,
        wrap=f.type in ("milestones",) or f.width >= 24,
        required=f.required,
        comment="\n".join(lines),
        choices=enum_choices(f.enum) if f.enum is not None else (("是", "否") if f.type == "bool" else ()),
    )


def ledger_sheet(problems: Sequence[Problem]) -> tuple[list[Column], list[list[Any]], str]:
    """The ledger layout (columns, rows in ledger-number order, default title) for :func:`write_ledger`."""
    ordered = sorted(problems, key=lambda p: p.code)
    columns, rows = excel_sheet(PROBLEMS, ordered)
    return columns, rows, LEDGER_TITLE


def export_kind(
    session: Session,
    kind: str | KindSpec,
    path: str | Path,
    *,
    crs: str | None = None,
    field_names: str = "en",
    as_of: date | None = None,
) -> ExportReport:
    """Write every record of ``kind`` to ``path`` (format by extension: .xlsx, .geojson/.json, .gpkg, .shp)."""
    spec = kind if isinstance(kind, KindSpec) else get_kind(kind)
    p = Path(path)
    suffix = p.suffix.lower()
    objs = _load(session, spec)
    if suffix == ".xlsx":
        if spec is PROBLEMS:
            write_ledger(objs, p, as_of=as_of)
        else:
            columns, rows = excel_sheet(spec, objs)
            write_table(p, columns, rows, sheet_title=spec.zh, title=f"{spec.zh}（{spec.en}）")
        return ExportReport(spec.name, str(p), "xlsx", len(objs))
    if suffix not in (".geojson", ".json", ".gpkg", ".shp"):
        raise FormatError(
            f"{p}: cannot export to {suffix or 'a file without extension'}; use .xlsx, .geojson, .gpkg or .shp"
        )
    if spec.geometry is None:
        raise FormatError(f"{p}: {spec.name} have no geometry; export them to .xlsx")
    geojson = suffix in (".geojson", ".json")
    target = parse_crs(crs, source="--crs") if crs else parse_crs(WGS84 if geojson else STORAGE_CRS)
    rfc7946 = geojson and target.equals(parse_crs(WGS84))
    fields = [f for f in spec.fields if f.name not in ("mine_name", "remarks")]
    if suffix == ".shp":
        names = [f.shp_name for f in fields]
    elif field_names == "zh":
        names = [f.zh for f in fields]
    else:
        names = [f.name for f in fields]
    labels = field_names == "zh"
    kinds = [
        {"date": "date", "int": "int", "float": "float", "area_ha": "float", "bool": "bool"}.get(f.type, "str")
        for f in fields
    ]
    rows = [[_value(spec, f, o, labels=labels) for f in fields] for o in objs]
    geoms = [None if o.geometry is None else transform_geometry(o.geometry, STORAGE_CRS, target) for o in objs]
    gtype = geometry_type_name(geoms, spec.geometry)
    if suffix == ".shp" and gtype == "Unknown":
        raise FormatError(f"{p}: {spec.name} mix geometry types, which a Shapefile cannot hold; use .gpkg")
    epsg = target.to_epsg()
    write_vector(
        p,
        columns=names,
        kinds=kinds,
        rows=rows,
        geometries=geoms,
        crs=f"EPSG:{epsg}" if epsg else target.to_wkt(),
        geometry_type=gtype,
        layer=spec.name.replace("-", "_"),
        rfc7946=rfc7946,
    )
    fmt = {".gpkg": "gpkg", ".shp": "shp"}.get(suffix, "geojson")
    return ExportReport(spec.name, str(p), fmt, len(objs), f"EPSG:{epsg}" if epsg else target.name)


def write_template(kind: str | KindSpec, path: str | Path) -> Path:
    """A blank Excel template for ``kind`` (``ledger`` = problems): headers, dropdowns, comments, instructions."""
    spec = kind if isinstance(kind, KindSpec) else get_kind(kind)
    columns, _ = excel_sheet(spec, [])
    instructions: list[list[str]] = [["列名 (header)", "field", "必填", "类型", "说明 (notes)"]]
    for f in spec.fields:
        notes = []
        if f.key:
            notes.append("唯一编号：再次导入时按此更新 (stable key)")
        if f.enum is not None:
            notes.append("可选：" + "、".join(enum_choices(f.enum)))
        if f.type == "date":
            notes.append(DATE_HELP)
        if f.unit:
            notes.append(f"单位 {f.unit}")
        if f.help:
            notes.append(f.help)
        if f.export_only:
            notes.append("导出时计算，导入时忽略 (export only)")
        instructions.append([f.zh, f.name, "是" if f.required else "", f.type, "；".join(notes)])
    if spec.lonlat:
        instructions.append(["经度 / 纬度", "lon / lat", "", "float", "CGCS2000 经纬度（十进制度）"])
    instructions.append([])
    instructions.append(
        [
            "空白单元格",
            "blank cell",
            "",
            "",
            (
                "空白单元格表示“保持不变”：再次导入时不修改已有的值（新建记录时取默认值）。"
                "要清空一个非必填的值，在单元格中填写“（清空）”。同一文件重复导入不产生任何修改和历史记录。 / "
                "A blank cell leaves the stored value unchanged; write （清空） to clear an optional value."
            ),
        ]
    )
    instructions.append(
        [
            "说明",
            "",
            "",
            "",
            (
                f"红色列为必填。首行标题可保留；序号列导入时忽略。导入：subsidence import "
                f"{spec.name} 文件.xlsx（先用 --dry-run 检查）"
            ),
        ]
    )
    return write_table(
        path, columns, [], sheet_title=spec.zh, title=f"{spec.zh}（{spec.en}）", instructions=instructions
    )


def write_ledger(
    problems: Sequence[Any], path: str | Path, *, title: str | None = None, as_of: date | None = None
) -> Path:
    """Write problems as THE ledger workbook that offices exchange (问题台账), byte-identical for the same data.

    Columns: 序号, 问题编号, 问题类别, 问题名称, 问题描述, 整改要求, 矿山名称, 矿山/采矿许可证号, 所在镇, 牵头单位,
    配合单位, 发现方式, 发现日期, 整改时限, 时间节点, 整改状态, 销号日期, 备注. Problems are written in ledger-number
    order; their mine, town, units and milestones must be loadable (pass ORM objects from an open session).
    The file imports back with ``subsidence import problems``.
    """
    columns, rows, default_title = ledger_sheet(problems)
    subtitle = f"截至 {as_of.isoformat()}" if as_of else None
    return excel.write_table(
        path, columns, rows, sheet_title="问题台账", title=title or default_title, subtitle=subtitle
    )
