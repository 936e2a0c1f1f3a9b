"""The domain model. Importing this package registers every table on ``Base.metadata``."""

from subsidence.models.accounts import User
from subsidence.models.admin import AdminArea, TaskAssignment, Unit
from subsidence.models.audit import AuditEvent
from subsidence.models.census import SubsidenceArea
from subsidence.models.census_runs import (CensusRun, ReviewDecision, SubsidenceAreaMine, SubsidenceAreaPanel,  # noqa: E402
                                            SubsidenceAreaTown, VegetationChange)
from subsidence.models.hazards import CompensatedBuilding, GroundwaterWell, HazardPoint, Sensor
from subsidence.models.hazards import HazardContact  # noqa: E402  (issue 7)
from subsidence.models.monitoring import (Alarm, AlarmEvent, AlarmTrack, Card, CardCopy, Household,  # noqa: E402
                                         IngestBatch, Observation, OutboxMessage)
from subsidence.models.ledger import Milestone, Problem, problem_cooperating_unit
from subsidence.models.ledger import (AcceptanceRecord, Escalation, Evidence, GateQuery, NoticeCounter,
                                     NoticeDelivery, RectificationNotice)
from subsidence.models.mining import Enterprise, Mine, Panel
from subsidence.models.tasks import (  # noqa: E402  (task ledgers, issue 6)
    AssessmentScore,
    DrawRecord,
    DrawResult,
    DrawSeed,
    FundAccount,
    FundEntry,
    FundObligation,
    HiddenFactor,
    InspectionItem,
    InspectionObject,
    InspectionResult,
    Inspector,
    InspectorConflict,
    RectificationPlan,
    WaterPlan,
    WellAssessment,
    water_plan_well,
)
from subsidence.models.web import ApiToken, MonitorAssignment, WebSession
from subsidence.models.plans import AnnualPlan, PlanParcel, ReclamationPlan, TreatedParcel  # noqa: E402 (issue 9)

__all__ = [
    "AnnualPlan", "PlanParcel", "ReclamationPlan", "TreatedParcel",
    "HazardContact", "Alarm", "AlarmEvent", "AlarmTrack", "Card", "CardCopy", "Household", "IngestBatch",
    "Observation", "OutboxMessage",
    "CensusRun", "ReviewDecision", "SubsidenceAreaMine", "SubsidenceAreaPanel", "SubsidenceAreaTown",
    "VegetationChange",
    "AcceptanceRecord",
    "Escalation",
    "Evidence",
    "GateQuery",
    "NoticeCounter",
    "NoticeDelivery",
    "RectificationNotice",
    "AssessmentScore",
    "DrawRecord",
    "DrawResult",
    "DrawSeed",
    "FundAccount",
    "FundEntry",
    "FundObligation",
    "HiddenFactor",
    "InspectionItem",
    "InspectionObject",
    "InspectionResult",
    "Inspector",
    "InspectorConflict",
    "RectificationPlan",
    "WaterPlan",
    "WellAssessment",
    "water_plan_well",
    "ApiToken",
    "MonitorAssignment",
    "WebSession",
    "AdminArea",
    "AuditEvent",
    "CompensatedBuilding",
    "Enterprise",
    "GroundwaterWell",
    "HazardPoint",
    "Milestone",
    "Mine",
    "Panel",
    "Problem",
    "Sensor",
    "SubsidenceArea",
    "TaskAssignment",
    "Unit",
    "User",
    "problem_cooperating_unit",
]
