"""Domain enumerations with their Chinese and English labels (the UI is Chinese-first)."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A string enum whose members carry ``zh`` and ``en`` labels in ``_labels``."""

    @classmethod
    def labels(cls) -> dict[str, tuple[str, str]]:
        return getattr(cls, "_LABELS", {})

    def label(self, lang: str = "zh-CN") -> str:
        zh, en = self.labels().get(self.value, (self.value, self.value))
        return zh if lang.startswith("zh") else en

    @classmethod
    def parse(cls, text: str) -> "Labelled":
        """Accept the code, the English label or the Chinese label (as offices type them in Excel)."""
        t = str(text).strip()
        aliases = getattr(cls, "_ALIASES", {})
        if t in aliases:
            return cls(aliases[t])
        for member in cls:
            zh, en = cls.labels().get(member.value, (member.value, member.value))
            if t in (member.value, zh, en) or t.lower() == en.lower():
                return member
        allowed = ", ".join(f"{m.value}/{cls.labels().get(m.value, (m.value,))[0]}" for m in cls)
        raise ValueError(f"{t!r} is not one of: {allowed}")


class AreaLevel(Labelled):
    BANNER = "banner"
    TOWN = "town"
    VILLAGE = "village"


AreaLevel._LABELS = {"banner": ("旗", "banner"), "town": ("镇", "town"), "village": ("村", "village")}


class UnitKind(Labelled):
    OFFICE = "office"
    BUREAU = "bureau"
    TOWN = "town"
    CENTRE = "centre"
    ENTERPRISE = "enterprise"


UnitKind._LABELS = {
    "office": ("领导小组办公室", "leading-group office"),
    "bureau": ("旗直部门", "banner department"),
    "town": ("镇人民政府", "town government"),
    "centre": ("服务中心", "service centre"),
    "enterprise": ("矿山企业", "mining enterprise"),
}


class TaskRole(Labelled):
    LEAD = "lead"
    COOPERATE = "cooperate"


TaskRole._LABELS = {"lead": ("牵头", "lead"), "cooperate": ("配合", "cooperating")}


class MiningMethod(Labelled):
    """Mining method; drives the restoration-fund coefficient (SCIENCE.md §5)."""

    UNDERGROUND_BACKFILL = "underground_backfill"
    UNDERGROUND_NO_SUBSIDENCE = "underground_no_subsidence"
    UNDERGROUND_SUBSIDENCE = "underground_subsidence"
    SURFACE = "surface"


MiningMethod._LABELS = {
    "underground_backfill": ("井工-充填开采", "underground, backfill"),
    "underground_no_subsidence": ("井工-不允许沉陷", "underground, subsidence not allowed"),
    "underground_subsidence": ("井工-允许沉陷", "underground, subsidence allowed (longwall caving)"),
    "surface": ("露天开采", "surface (open pit)"),
}


class MineStatus(Labelled):
    PRODUCING = "producing"
    CONSTRUCTION = "construction"
    SUSPENDED = "suspended"
    CLOSED = "closed"


MineStatus._LABELS = {
    "producing": ("生产", "producing"),
    "construction": ("基建", "under construction"),
    "suspended": ("停产", "suspended"),
    "closed": ("关闭", "closed"),
}


class ProblemCategory(Labelled):
    """The seven key tasks of the plan (DOMAIN.md §3); each is a category of problem."""

    SUBSIDENCE_CRACKS = "1"
    FUNDS = "2"
    VEGETATION = "3"
    BUILDINGS = "4"
    GROUNDWATER = "5"
    GEOHAZARDS = "6"
    MINE_HAZARDS = "7"


ProblemCategory._LABELS = {
    "1": ("地面塌陷、裂缝治理不到位", "ground subsidence pits and cracks"),
    "2": ("治理资金投入不到位", "treatment funds not invested"),
    "3": ("植被恢复不到位", "vegetation not restored"),
    "4": ("建筑物、基础设施损毁", "damaged buildings and infrastructure"),
    "5": ("地下水位下降、水污染", "groundwater decline and water pollution"),
    "6": ("崩塌、滑坡等地质灾害", "natural geohazards made worse"),
    "7": ("矿区范围内致灾因素", "mining-induced hazards inside mine areas"),
}


class ProblemState(Labelled):
    """Lifecycle of a ledger problem (the allowed transitions live in ``services.lifecycle``)."""

    FOUND = "found"
    FIXED_AT_ONCE = "fixed_at_once"
    NOTICE_ISSUED = "notice_issued"
    RECTIFYING = "rectifying"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


ProblemState._LABELS = {
    "found": ("已发现", "found"),
    "fixed_at_once": ("立行立改", "fixed at once"),
    "notice_issued": ("已下达整改通知", "notice issued"),
    "rectifying": ("整改中", "rectifying"),
    "submitted": ("申请验收", "submitted for acceptance"),
    "accepted": ("已验收销号", "accepted (closed)"),
    "returned": ("验收退回", "returned"),
    "withdrawn": ("已撤销", "withdrawn"),
}

#: states in which a problem is finished and no deadline applies
CLOSED_STATES = frozenset({ProblemState.ACCEPTED, ProblemState.WITHDRAWN})


class ProblemSource(Labelled):
    REMOTE_SENSING = "remote_sensing"
    ANNUAL_ASSESSMENT = "annual_assessment"
    DOUBLE_RANDOM = "double_random"
    FIELD_SURVEY = "field_survey"
    REPORT = "report"
    MONITORING = "monitoring"
    SELF_CHECK = "self_check"


ProblemSource._LABELS = {
    "remote_sensing": ("遥感监测", "remote sensing"),
    "annual_assessment": ("年度评估", "annual assessment"),
    "double_random": ("双随机、一公开", "double-random inspection"),
    "field_survey": ("排查", "field investigation"),
    "report": ("群众举报", "public report"),
    "monitoring": ("监测预警", "monitoring"),
    "self_check": ("企业自查", "enterprise self-check"),
}


class SubsidenceSource(Labelled):
    REMOTE_SENSING = "remote_sensing"
    PREDICTION = "prediction"
    SURVEY = "survey"


SubsidenceSource._LABELS = {
    "remote_sensing": ("遥感监测", "remote sensing"),
    "prediction": ("预计", "prediction"),
    "survey": ("实测", "survey"),
}


class ReviewState(Labelled):
    CANDIDATE = "candidate"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    MERGED = "merged"
    SPLIT = "split"


ReviewState._LABELS = {
    "candidate": ("待评审", "candidate"),
    "confirmed": ("专家确认", "confirmed"),
    "rejected": ("已否定", "rejected"),
    "merged": ("已合并", "merged"),
    "split": ("已拆分", "split"),
}


class MovementStage(Labelled):
    NOT_STARTED = "not_started"
    ACTIVE = "active"
    DECLINING = "declining"
    STABLE = "stable"


MovementStage._LABELS = {
    "not_started": ("未开始", "not started"),
    "active": ("活跃期", "active"),
    "declining": ("衰退期", "declining"),
    "stable": ("稳定", "stable"),
}


class HazardType(Labelled):
    LANDSLIDE = "landslide"
    COLLAPSE = "collapse"
    DEBRIS_FLOW = "debris_flow"
    GROUND_FISSURE = "ground_fissure"
    SUBSIDENCE_PIT = "subsidence_pit"
    ROAD_COLLAPSE = "road_collapse"


HazardType._LABELS = {
    "landslide": ("滑坡", "landslide"),
    "collapse": ("崩塌", "collapse"),
    "debris_flow": ("泥石流", "debris flow"),
    "ground_fissure": ("地裂缝", "ground fissure"),
    "subsidence_pit": ("塌陷坑", "subsidence pit"),
    "road_collapse": ("道路塌陷", "road collapse"),
}


class SensorKind(Labelled):
    GNSS = "gnss"
    CRACK_METER = "crack_meter"
    INCLINOMETER = "inclinometer"
    RAIN_GAUGE = "rain_gauge"
    GROUNDWATER_WELL = "groundwater_well"
    INSAR_POINT = "insar_point"


SensorKind._LABELS = {
    "gnss": ("GNSS位移监测", "GNSS displacement"),
    "crack_meter": ("裂缝计", "crack meter"),
    "inclinometer": ("测斜仪", "inclinometer"),
    "rain_gauge": ("雨量计", "rain gauge"),
    "groundwater_well": ("地下水位监测井", "groundwater well"),
    "insar_point": ("InSAR监测点", "InSAR point"),
}


class DemolitionStatus(Labelled):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DEMOLISHED = "demolished"


DemolitionStatus._LABELS = {
    "not_started": ("未拆除", "not demolished"),
    "in_progress": ("拆除中", "being demolished"),
    "demolished": ("已拆除", "demolished"),
}


class Role(Labelled):
    """Account roles (authorization policy lives in the service layer)."""

    OFFICE = "office"
    DEPARTMENT = "department"
    TOWN = "town"
    ENTERPRISE = "enterprise"
    MONITOR = "monitor"
    PUBLIC = "public"


Role._LABELS = {
    "office": ("领导小组办公室", "leading-group office"),
    "department": ("旗直部门", "department"),
    "town": ("镇", "town"),
    "enterprise": ("矿山企业", "enterprise"),
    "monitor": ("监测员", "field monitor"),
    "public": ("公众", "public"),
}
