"""Domain enumerations with their Chinese and English labels (the UI is Chinese-first)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import ClassVar


class Labelled(StrEnum):
    """A string enum whose members carry ``zh`` and ``en`` labels in ``_LABELS`` (and Excel spellings in
    ``_ALIASES``), set after each class body."""

    _LABELS: ClassVar[dict[str, tuple[str, str]]]
    _ALIASES: ClassVar[dict[str, str]]

    @classmethod
    def labels(cls) -> dict[str, tuple[str, str]]:
        return getattr(cls, "_LABELS", {})

    def label(self, lang: str = "zh-CN") -> str:
        zh, en = self.labels().get(self.value, (self.value, self.value))
        return zh if lang.startswith("zh") else en

    @classmethod
    def parse(cls, text: str) -> Labelled:
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
    """Mining method; drives the restoration-fund coefficient (docs/science.md §5)."""

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
    """The seven key tasks of the plan (docs/domain.md §3); each is a category of problem."""

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


class DeliveryMethod(Labelled):
    """How a notice reached the mine (送达方式)."""

    IN_PERSON = "in_person"
    POST = "post"
    ELECTRONIC = "electronic"
    LEFT_AT_PREMISES = "left_at_premises"
    PUBLIC_ANNOUNCEMENT = "public_announcement"


DeliveryMethod._LABELS = {
    "in_person": ("直接送达", "in person"),
    "post": ("邮寄送达", "by post"),
    "electronic": ("电子送达", "electronic"),
    "left_at_premises": ("留置送达", "left at the premises"),
    "public_announcement": ("公告送达", "public announcement"),
}


class AcceptanceResult(Labelled):
    PASSED = "passed"
    RETURNED = "returned"


AcceptanceResult._LABELS = {"passed": ("验收通过", "passed"), "returned": ("验收退回", "returned")}


class EscalationLevel(Labelled):
    LEAD_UNIT = "lead_unit"
    OFFICE = "office"


EscalationLevel._LABELS = {"lead_unit": ("牵头单位督办", "lead unit"), "office": ("领导小组办公室督办", "office")}


# --------------------------------------------------------------------------------------------- enums


class FundEntryKind(Labelled):
    """Kinds of movement on a restoration-fund account. Amounts are always positive; the kind gives the sign."""

    DEPOSIT = "deposit"  # 计提存入: +
    SPENDING = "spending"  # 治理支出 (linked to a problem / works): −
    WITHDRAWAL = "withdrawal"  # 其他支取 (approved transfer out, refund on closure ...): −
    REVERSAL = "reversal"  # 冲正: the opposite of the entry it reverses


FundEntryKind._LABELS = {
    "deposit": ("计提存入", "deposit (accrual)"),
    "spending": ("治理支出", "treatment spending"),
    "withdrawal": ("其他支取", "withdrawal"),
    "reversal": ("冲正", "reversal"),
}


class WaterPlanState(Labelled):
    REQUIRED = "required"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    IMPLEMENTED = "implemented"


WaterPlanState._LABELS = {
    "required": ("应编制", "required"),
    "submitted": ("已报送", "submitted"),
    "approved": ("已批复", "approved"),
    "returned": ("退回修改", "returned"),
    "implemented": ("已实施", "carried out"),
}


class HiddenFactorType(Labelled):
    GOAF_WATER = "goaf_water"
    GAS = "gas"
    FIRE_ZONE = "fire_zone"
    FAULT = "fault"
    OLD_WORKINGS = "old_workings"
    COLLAPSE_COLUMN = "collapse_column"
    AQUIFER = "aquifer"
    UNSEALED_BOREHOLE = "unsealed_borehole"
    OTHER = "other"


HiddenFactorType._LABELS = {
    "goaf_water": ("采空区积水", "goaf water"),
    "gas": ("瓦斯富集区", "gas"),
    "fire_zone": ("火区", "fire zone"),
    "fault": ("断层", "fault"),
    "old_workings": ("老窑及废弃巷道", "old workings"),
    "collapse_column": ("陷落柱", "karst collapse column"),
    "aquifer": ("富含水层", "water-rich aquifer"),
    "unsealed_borehole": ("封闭不良钻孔", "poorly sealed borehole"),
    "other": ("其他", "other"),
}


class PlanReviewState(Labelled):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    COMPLETED = "completed"


PlanReviewState._LABELS = {
    "draft": ("编制中", "draft"),
    "submitted": ("已报审", "submitted for review"),
    "approved": ("审查通过", "approved"),
    "returned": ("审查退回", "returned"),
    "completed": ("整改完成", "rectification completed"),
}


class RiskGrade(Labelled):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


RiskGrade._LABELS = {
    "high": ("高风险", "high risk"),
    "medium": ("中风险", "medium risk"),
    "low": ("低风险", "low risk"),
}


class InspectionOutcome(Labelled):
    COMPLIANT = "compliant"
    PROBLEMS = "problems"
    NOT_INSPECTED = "not_inspected"


InspectionOutcome._LABELS = {
    "compliant": ("未发现问题", "compliant"),
    "problems": ("发现问题", "problems found"),
    "not_inspected": ("未能检查", "not inspected"),
}


class LandType(Labelled):
    """Land use classes of reclamation targets (fund land-type coefficients use the same classes)."""

    CROPLAND = "cropland"
    FOREST = "forest"
    GRASSLAND = "grassland"
    OTHER = "other"


LandType._LABELS = {
    "cropland": ("耕地", "cropland"),
    "forest": ("林地", "forest"),
    "grassland": ("草地", "grassland"),
    "other": ("其他", "other"),
}


class ParcelPurpose(Labelled):
    DAMAGED = "damaged"
    TREAT = "treat"
    RECLAIM = "reclaim"


ParcelPurpose._LABELS = {
    "damaged": ("拟损毁区", "to be damaged"),
    "treat": ("地质环境治理区", "to be treated"),
    "reclaim": ("土地复垦区", "to be reclaimed"),
}
ParcelPurpose._ALIASES = {"损毁": "damaged", "拟损毁": "damaged", "治理": "treat", "复垦": "reclaim"}


class ParcelState(Labelled):
    """State of a treated parcel reported by an enterprise."""

    REPORTED = "reported"
    VERIFIED_RS = "verified_rs"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


ParcelState._LABELS = {
    "reported": ("企业已上报", "reported"),
    "verified_rs": ("遥感核查通过", "verified by remote sensing"),
    "accepted": ("现场验收通过", "accepted in the field"),
    "rejected": ("核查不通过", "rejected"),
}


class ReviewAction(Labelled):
    CONFIRM = "confirm"
    REJECT = "reject"
    MERGE = "merge"
    SPLIT = "split"


ReviewAction._LABELS = {
    "confirm": ("确认", "confirm"),
    "reject": ("否定", "reject"),
    "merge": ("合并", "merge"),
    "split": ("拆分", "split"),
}


class VegetationChangeKind(Labelled):
    LOSS = "loss"
    RECOVERY = "recovery"


VegetationChangeKind._LABELS = {"loss": ("植被退化", "vegetation loss"), "recovery": ("植被恢复", "recovery")}


class ApplicationType(StrEnum):
    NEW_LICENCE = "new_licence"
    EXTENSION = "extension"
    CHANGE = "change"
    CANCELLATION = "cancellation"
    CONSTRUCTION_LAND = "construction_land"


APPLICATION_LABELS = {
    ApplicationType.NEW_LICENCE: ("新立采矿权申请", "new mining licence"),
    ApplicationType.EXTENSION: ("采矿权延续", "licence extension"),
    ApplicationType.CHANGE: ("采矿权变更", "licence change"),
    ApplicationType.CANCELLATION: ("采矿权注销", "licence cancellation"),
    ApplicationType.CONSTRUCTION_LAND: ("新增建设用地申请", "new construction land"),
}


@dataclass(frozen=True)
class DeadlineSource:
    """What set a deadline: a notice (限期整改通知书), an approved extension, a rule of the plan, or an approved
    plan of the mine. Only such a deadline, once passed, lets the licence gate refuse."""

    kind: str  #: notice | extension | rule | plan
    code: str  #: notice number, extension key, rule id, plan code
    date: date | None = None  #: when it was set (issued / approved)
    title: str = ""  #: e.g. 限期整改通知书

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "code": self.code,
            "date": self.date.isoformat() if self.date else None,
            "title": self.title,
        }


#: severities of a licence-gate finding
REFUSAL, WARNING, NOT_EVALUABLE = "refusal", "warning", "not_evaluable"


@dataclass(frozen=True)
class GateReason:
    """One licence-gate finding with the record it rests on, its deadline and legal basis.

    Domain rules report facts (``deadline``, ``deadline_set_by``, ``pending``, ``enter``); the gate sets
    ``severity``: a refusal only for a deadline set by a notice, rule or plan that has passed, nothing pending.
    """

    rule: str  #: machine name of the rule, e.g. "rectification_problem"
    message: str  #: Chinese-first human text naming the record
    legal_basis: str
    record: str | None = None  #: business key of the record (problem code, plan number ...)
    details: dict = field(default_factory=dict)
    record_kind: str | None = None  #: problem | fund_account | water_plan | rectification_plan | building | ...
    problem: str | None = None  #: the ledger problem the finding is tracked as
    deadline: date | None = None  #: the deadline that applies (extended, when an extension was granted)
    deadline_set_by: DeadlineSource | None = None
    remedy: str = ""  #: what lifts it (Chinese first)
    pending: str | None = None  #: "acceptance": submitted in time, waiting for the office (never a refusal)
    enter: str | None = None  #: set when the rule cannot judge: what must be entered first
    severity: str | None = None  #: refusal | warning | not_evaluable (set by the gate)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["deadline"] = self.deadline.isoformat() if self.deadline else None
        d["deadline_set_by"] = self.deadline_set_by.as_dict() if self.deadline_set_by else None
        return d


# ---------------------------------------------------------------------------- organisation (组织机构)
class OrgBody(Labelled):
    """The body a position belongs to (伊政办发〔2024〕79号 §2 组织机构)."""

    LEADING_GROUP = "leading_group"
    OFFICE = "office"


OrgBody._LABELS = {"leading_group": ("领导小组", "leading group"), "office": ("领导小组办公室", "leading-group office")}


class PositionRank(Labelled):
    LEADER = "leader"
    DEPUTY = "deputy"
    MEMBER = "member"
    OFFICE_HEAD = "office_head"
    OFFICE_STAFF = "office_staff"


PositionRank._LABELS = {
    "leader": ("组长", "group leader"),
    "deputy": ("副组长", "deputy leader"),
    "member": ("成员", "member"),
    "office_head": ("办公室主任", "office head"),
    "office_staff": ("办公室工作人员", "office staff"),
}


class PositionPower(Labelled):
    """A responsibility or power that attaches to a position (and follows it from holder to holder)."""

    LEAD = "lead"
    COOPERATE = "cooperate"
    DIRECT = "direct"
    SCHEDULE = "schedule"
    AGGREGATE = "aggregate"
    REPORT = "report"
    LIAISE = "liaise"
    SUPERVISE = "supervise"
    REVIEW = "review"
    ACCEPT = "accept"


PositionPower._LABELS = {
    "lead": ("牵头", "lead"),
    "cooperate": ("配合", "cooperate"),
    "direct": ("组织领导、安排部署", "direct and deploy"),
    "schedule": ("统筹安排、工作调度", "arrange and schedule"),
    "aggregate": ("数据汇总", "aggregate data"),
    "report": ("工作上报", "report upward"),
    "liaise": ("部门联络", "liaise between departments"),
    "supervise": ("督查指导", "supervise and guide"),
    "review": ("审查", "review"),
    "accept": ("整治验收", "accept rectification"),
}
