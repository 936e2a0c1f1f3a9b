"""Field specifications: one table per importable KIND, the single source for imports, exports and templates.

Each :class:`FieldSpec` maps the Chinese header offices use (``zh``), the English field name (``name``, also
the GeoJSON/GeoPackage property), the ≤10-character Shapefile field (``shp``) and the model attribute, with
its type and whether it is required. Headers in files may use any of those spellings (or an alias).

Values are parsed by :func:`parse_value`; every parser raises ``ValueError`` with a message written for the
user (what is wrong and how to write it), which the importer prefixes with file, row and field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from subsidence.census.models import SubsidenceArea
from subsidence.core.models import AdminArea, Enterprise, Mine, Panel, Unit
from subsidence.io.fields import (  # noqa: F401  (re-exported: the field machinery lives in io.fields)
    DATE_HELP,
    FieldSpec,
    KindSpec,
    Ref,
    as_text,
    enum_choices,
    format_milestones,
    parse_bool,
    parse_date,
    parse_enum,
    parse_milestones,
    parse_number,
    parse_value,
    split_refs,
)
from subsidence.ledger.models import Problem
from subsidence.monitoring.models import GroundwaterWell, HazardPoint
from subsidence.tasks.models import CompensatedBuilding
from subsidence.vocabulary import (
    AreaLevel,
    DemolitionStatus,
    HazardType,
    MineStatus,
    MiningMethod,
    MovementStage,
    ProblemCategory,
    ProblemSource,
    ProblemState,
    ReviewState,
    SubsidenceSource,
    UnitKind,
)


def _order(a: str, b: str, what: str) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    def check(values: dict[str, Any]) -> list[tuple[str, str]]:
        x, y = values.get(a), values.get(b)
        if x is not None and y is not None and y < x:
            return [(b, f"{y.isoformat()} is before {x.isoformat()} ({what})")]
        return []

    return check


# ---------------------------------------------------------------------------------------------------- the kinds

_TOWN = Ref(AdminArea, ("code", "name_zh"), display="name_zh")
_PARENT = Ref(AdminArea, ("code", "name_zh"), display="code", relationship="parent")
_MINE = Ref(Mine, ("licence_no", "name_zh"), display="licence_no")
_MINE_BY_NAME = Ref(Mine, ("name_zh",), display="name_zh")
_ENTERPRISE = Ref(Enterprise, ("credit_code", "name_zh"), display="credit_code")
_UNIT = Ref(Unit, ("code", "name_zh"), display="name_zh")

_F = FieldSpec

TOWNS = KindSpec(
    "towns",
    "行政区",
    "administrative areas (banner, towns, villages)",
    AdminArea,
    (
        _F("code", "行政区划代码", required=True, key=True, help="stable key, e.g. 150627101", width=16),
        _F("name_zh", "名称", required=True, shp="name_zh", aliases=("行政区名称", "镇名称")),
        _F("name_en", "英文名称", aliases=("name",)),
        _F("level", "级别", "enum", enum=AreaLevel, required=True, help="旗 / 镇 / 村"),
        _F(
            "parent",
            "上级区划",
            "ref",
            attr="parent_id",
            ref=_PARENT,
            shp="parent",
            help="code or name of the banner/town it belongs to",
            aliases=("所属镇", "上级代码"),
        ),
        _F("area_ha", "面积(公顷)", "area_ha", export_only=True, unit="ha"),
    ),
    geometry="MULTIPOLYGON",
    aliases=("town", "admin-areas", "admin", "villages", "areas"),
)

UNITS = KindSpec(
    "units",
    "单位",
    "units (office, bureaus, towns, centre, enterprises)",
    Unit,
    (
        _F("code", "单位代码", required=True, key=True, help="stable key, e.g. NRB"),
        _F("name_zh", "单位名称", required=True, width=28),
        _F("name_en", "英文名称", width=28),
        _F("kind", "单位类型", "enum", enum=UnitKind, required=True),
        _F("town", "所在镇", "ref", attr="town_id", ref=_TOWN, shp="town", help="for town governments"),
        _F(
            "enterprise",
            "企业信用代码",
            "ref",
            attr="enterprise_id",
            ref=_ENTERPRISE,
            shp="enterprise",
            help="for enterprises: unified social credit code",
            width=22,
        ),
    ),
    aliases=("unit",),
)

ENTERPRISES = KindSpec(
    "enterprises",
    "矿山企业",
    "mining enterprises",
    Enterprise,
    (
        _F(
            "credit_code",
            "统一社会信用代码",
            required=True,
            key=True,
            shp="credit",
            width=22,
            help="18-character unified social credit code",
            aliases=("信用代码",),
        ),
        _F("name_zh", "企业名称", required=True, width=30),
        _F("name_en", "英文名称", width=30),
        _F("contact_role", "联系人职务", shp="contact", help="by role, never a personal name", width=18),
    ),
    aliases=("enterprise", "companies"),
)

MINES = KindSpec(
    "mines",
    "矿山",
    "mines (mining rights)",
    Mine,
    (
        _F(
            "licence_no",
            "采矿许可证号",
            required=True,
            key=True,
            shp="licence",
            width=26,
            aliases=("许可证号", "license_no", "采矿证号"),
        ),
        _F("name_zh", "矿山名称", required=True, width=24),
        _F("name_en", "英文名称", width=24),
        _F("enterprise", "企业信用代码", "ref", attr="enterprise_id", ref=_ENTERPRISE, shp="enterprise", width=22),
        _F("town", "所在镇", "ref", attr="town_id", ref=_TOWN, shp="town"),
        _F("licence_valid_from", "有效期起", "date", shp="valid_from", help=DATE_HELP),
        _F("licence_valid_to", "有效期止", "date", shp="valid_to", help=DATE_HELP),
        _F(
            "capacity_mt_per_yr",
            "核定生产能力(Mt/a)",
            "float",
            shp="cap_mt",
            min=0,
            max=100,
            unit="Mt/yr",
            help="approved capacity in Mt/yr (百万吨/年; 1 Mt = 100 万吨)",
            aliases=("生产能力(Mt/a)", "capacity"),
            width=16,
        ),
        _F("mining_method", "开采方式", "enum", enum=MiningMethod, shp="method", width=18),
        _F("status", "矿山状态", "enum", enum=MineStatus),
        _F("notes", "备注", width=30),
        _F("area_ha", "面积(公顷)", "area_ha", export_only=True, unit="ha"),
    ),
    geometry="MULTIPOLYGON",
    aliases=("mine", "mining-rights"),
    checks=(_order("licence_valid_from", "licence_valid_to", "licence ends before it starts"),),
)

PANELS = KindSpec(
    "panels",
    "工作面",
    "longwall panels (working faces)",
    Panel,
    (
        _F("code", "工作面编号", required=True, key=True, help="stable key, e.g. C1500000000001-22307"),
        _F(
            "mine",
            "采矿许可证号",
            "ref",
            attr="mine_id",
            ref=_MINE,
            required=True,
            shp="licence",
            width=26,
            aliases=("矿山", "矿山名称", "mine_licence"),
        ),
        _F("name", "工作面名称"),
        _F("seam", "煤层"),
        _F(
            "thickness_m",
            "采厚(m)",
            "float",
            required=True,
            shp="thick_m",
            min=0.1,
            max=30,
            unit="m",
            aliases=("采高", "煤层厚度"),
        ),
        _F("depth_dip_m", "下山采深(m)", "float", required=True, shp="depth_dip", min=1, max=2000, unit="m"),
        _F("depth_rise_m", "上山采深(m)", "float", required=True, shp="depth_rise", min=1, max=2000, unit="m"),
        _F("dip_deg", "倾角(°)", "float", shp="dip_deg", min=0, max=90, unit="°", aliases=("倾角",)),
        _F("dip_azimuth_deg", "倾向(°)", "float", shp="dip_az", min=0, max=360, unit="°", aliases=("倾向方位角",)),
        _F("start_date", "开采开始日期", "date", shp="start", help=DATE_HELP),
        _F("end_date", "开采结束日期", "date", shp="end", help=DATE_HELP),
        _F("advance_m_per_day", "推进速度(m/d)", "float", shp="advance", min=0, max=100, unit="m/d"),
        _F("area_ha", "面积(公顷)", "area_ha", export_only=True, unit="ha"),
    ),
    geometry="POLYGON",
    aliases=("panel", "working-faces", "faces"),
    checks=(_order("start_date", "end_date", "mining ends before it starts"),),
)

PROBLEMS = KindSpec(
    "problems",
    "问题台账",
    "ledger problems",
    Problem,
    (
        _F("code", "问题编号", required=True, key=True, help="ledger number, e.g. TZ-2024-0001", width=15),
        _F(
            "category",
            "问题类别",
            "enum",
            enum=ProblemCategory,
            required=True,
            width=22,
            help="1–7 or the category name",
        ),
        _F("title", "问题名称", width=24, aliases=("问题标题",), help="blank: the first line of 问题描述"),
        _F("description", "问题描述", shp="descr", width=36),
        _F("requirement", "整改要求", shp="require", width=30),
        _F(
            "mine_name",
            "矿山名称",
            "ref",
            attr="mine_id",
            ref=_MINE_BY_NAME,
            width=18,
            help="exact name; or give 矿山/采矿许可证号 (both given, they must name the same mine)",
        ),
        _F(
            "mine",
            "矿山/采矿许可证号",
            "ref",
            attr="mine_id",
            ref=_MINE,
            shp="licence",
            width=24,
            aliases=("采矿许可证号", "矿山", "mine_licence"),
        ),
        _F("town", "所在镇", "ref", attr="town_id", ref=_TOWN, shp="town", width=12),
        _F(
            "lead_unit",
            "牵头单位",
            "ref",
            attr="lead_unit_id",
            ref=_UNIT,
            shp="lead_unit",
            width=16,
            help="blank: the task's lead unit (docs/domain.md §3)",
        ),
        _F(
            "cooperating_units",
            "配合单位",
            "refs",
            attr="cooperating_units",
            ref=_UNIT,
            shp="coop_units",
            width=20,
            help="several separated by 、",
        ),
        _F("source", "发现方式", "enum", enum=ProblemSource, required=True, width=14, aliases=("问题来源",)),
        _F("found_date", "发现日期", "date", required=True, shp="found", help=DATE_HELP, width=12),
        _F("deadline", "整改时限", "date", shp="deadline", help=DATE_HELP, width=12),
        _F(
            "milestones",
            "时间节点",
            "milestones",
            shp="milestones",
            width=34,
            help="one per line: 2024-10-15 完成方案编制 [已完成 2024-10-12]",
        ),
        _F("state", "整改状态", "enum", enum=ProblemState, width=14),
        _F("closed_date", "销号日期", "date", shp="closed", help=DATE_HELP, width=12),
        _F("remarks", "备注", export_only=True, width=16),
    ),
    geometry="GEOMETRY",
    aliases=("problem", "ledger"),
    checks=(
        _order("found_date", "deadline", "the deadline is before the problem was found"),
        _order("found_date", "closed_date", "closed before it was found"),
    ),
)

HAZARD_POINTS = KindSpec(
    "hazard-points",
    "地质灾害隐患点",
    "geological hazard points",
    HazardPoint,
    (
        _F("code", "隐患点编号", required=True, key=True),
        _F("name", "隐患点名称", required=True, width=22),
        _F("hazard_type", "灾害类型", "enum", enum=HazardType, required=True, shp="type"),
        _F("town", "所在镇", "ref", attr="town_id", ref=_TOWN, shp="town"),
        _F("village", "所在村"),
        _F("mine", "采矿许可证号", "ref", attr="mine_id", ref=_MINE, shp="licence", width=24),
        _F("scale", "规模等级", help="小型 / 中型 / 大型 / 特大型"),
        _F("volume_m3", "体积(m³)", "float", shp="volume_m3", min=0, unit="m³"),
        _F("triggers", "诱发因素"),
        _F("stability", "稳定性"),
        _F("threatened_households", "威胁户数", "int", shp="households", min=0),
        _F("threatened_people", "威胁人数", "int", shp="people", min=0),
        _F("threatened_property_10k_yuan", "威胁财产(万元)", "float", shp="property", min=0, unit="10⁴ yuan"),
        _F("monitoring_method", "监测方法", shp="mon_method"),
        _F("monitoring_frequency", "监测频次", shp="mon_freq"),
        _F("responsible_role", "群测群防责任人(职务)", shp="resp_role", aliases=("群测群防责任人",), width=18),
        _F("monitor_role", "监测人(职务)", shp="mon_role", aliases=("监测人",)),
        _F("warning_signal", "预警信号", shp="warn_sig"),
        _F("warning_giver_role", "预警信号发布人(职务)", shp="warn_role", aliases=("预警信号发布人",), width=18),
        _F("rescue_unit", "抢险救援单位", shp="rescue"),
    ),
    geometry="POINT",
    lonlat=True,
    aliases=("hazards", "hazard_points", "hazard-point"),
)

WELLS = KindSpec(
    "wells",
    "地下水监测井",
    "groundwater observation wells",
    GroundwaterWell,
    (
        _F("code", "监测井编号", required=True, key=True),
        _F("name", "监测井名称", width=20),
        _F("town", "所在镇", "ref", attr="town_id", ref=_TOWN, shp="town"),
        _F("mine", "采矿许可证号", "ref", attr="mine_id", ref=_MINE, shp="licence", width=24),
        _F("aquifer", "含水层"),
        _F("well_depth_m", "井深(m)", "float", shp="depth_m", min=0, max=3000, unit="m"),
        _F(
            "baseline_depth_to_water_m",
            "基准水位埋深(m)",
            "float",
            shp="base_dtw",
            min=-50,
            max=3000,
            unit="m",
            help="pre-mining depth to water, m below ground (positive down)",
        ),
    ),
    geometry="POINT",
    lonlat=True,
    aliases=("well", "groundwater-wells"),
)

BUILDINGS = KindSpec(
    "buildings",
    "已补偿建筑物",
    "compensated buildings and facilities",
    CompensatedBuilding,
    (
        _F("code", "建筑物编号", required=True, key=True),
        _F("kind", "类型", required=True, help="房屋、棚圈、道路、学校 …"),
        _F("household_code", "户编号", shp="household", help="owner household by code, never by name"),
        _F("town", "所在镇", "ref", attr="town_id", ref=_TOWN, shp="town"),
        _F("village", "所在村"),
        _F("mine", "采矿许可证号", "ref", attr="mine_id", ref=_MINE, shp="licence", width=24),
        _F("compensated", "是否已补偿", "bool", shp="compensate"),
        _F("compensation_date", "补偿日期", "date", shp="comp_date", help=DATE_HELP),
        _F("compensation_yuan", "补偿金额(元)", "float", shp="comp_yuan", min=0, unit="yuan"),
        _F("compensation_record", "补偿凭证号", shp="comp_rec"),
        _F("resettled", "是否已搬迁", "bool", shp="resettled"),
        _F("reoccupied", "是否回流居住", "bool", shp="reoccupied"),
        _F("demolition_status", "拆除状态", "enum", enum=DemolitionStatus, shp="demolition"),
        _F("demolished_date", "拆除日期", "date", shp="demol_date", help=DATE_HELP),
        _F("stability", "地表稳定性", "enum", enum=MovementStage, shp="stability"),
        _F("notes", "备注", width=24),
    ),
    geometry="GEOMETRY",
    lonlat=True,
    aliases=("building", "compensated-buildings"),
    checks=(_order("compensation_date", "demolished_date", "demolished before compensation"),),
)

SUBSIDENCE_AREAS = KindSpec(
    "subsidence-areas",
    "沉陷区",
    "subsidence areas",
    SubsidenceArea,
    (
        _F("code", "沉陷区编号", required=True, key=True),
        _F("source", "来源", "enum", enum=SubsidenceSource, required=True),
        _F("review_state", "评审状态", "enum", enum=ReviewState, shp="review"),
        _F("stability", "稳定性", "enum", enum=MovementStage),
        _F("area_ha", "面积(公顷)", "float", min=0, unit="ha"),
        _F("max_subsidence_mm", "最大下沉(mm)", "float", shp="max_mm", min=0, unit="mm"),
        _F("mean_subsidence_mm", "平均下沉(mm)", "float", shp="mean_mm", min=0, unit="mm"),
        _F("volume_m3", "下沉体积(m³)", "float", shp="volume_m3", min=0, unit="m³"),
        _F("mean_rate_mm_per_yr", "平均速率(mm/a)", "float", shp="rate_mm_yr", unit="mm/yr"),
        _F("first_seen", "首次发现日期", "date", shp="first_seen", help=DATE_HELP),
        _F("last_seen", "最近观测日期", "date", shp="last_seen", help=DATE_HELP),
        _F("treated", "是否已治理", "bool"),
        _F("mine", "采矿许可证号", "ref", attr="mine_id", ref=_MINE, shp="licence", width=24),
        _F("town", "所在镇", "ref", attr="town_id", ref=_TOWN, shp="town"),
        _F("notes", "备注", width=24),
    ),
    geometry="MULTIPOLYGON",
    aliases=("subsidence", "areas-subsidence"),
    checks=(_order("first_seen", "last_seen", "last seen before first seen"),),
)

KINDS: dict[str, KindSpec] = {
    k.name: k
    for k in (TOWNS, UNITS, ENTERPRISES, MINES, PANELS, PROBLEMS, HAZARD_POINTS, WELLS, BUILDINGS, SUBSIDENCE_AREAS)
}

#: headers that carry no data (row numbers, GIS housekeeping) and are ignored silently
IGNORED_HEADERS = frozenset(
    {
        "序号",
        "no",
        "no.",
        "fid",
        "objectid",
        "id",
        "shape_leng",
        "shape_area",
        "shape_length",
        "经度",
        "纬度",
        "lon",
        "lat",
        "longitude",
        "latitude",
        "x",
        "y",
    }
)

#: Excel point coordinates (CGCS2000 lon/lat) for point kinds
LON_HEADERS = ("经度", "lon", "longitude")
LAT_HEADERS = ("纬度", "lat", "latitude")


def get_kind(name: str) -> KindSpec:
    """The KindSpec for a CLI KIND name or alias (``ledger`` is the problems ledger)."""
    n = name.strip().lower().replace("_", "-")
    for spec in KINDS.values():
        if n == spec.name or n in spec.aliases or name.strip() == spec.zh:
            return spec
    import difflib

    names = sorted(KINDS)
    close = difflib.get_close_matches(n, names + [a for s in KINDS.values() for a in s.aliases], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown kind {name!r}{hint} (kinds: {', '.join(names)})")
