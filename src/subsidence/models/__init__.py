"""The domain model. Importing this package registers every table on ``Base.metadata``."""

from subsidence.models.accounts import User
from subsidence.models.admin import AdminArea, TaskAssignment, Unit
from subsidence.models.audit import AuditEvent
from subsidence.models.census import SubsidenceArea
from subsidence.models.hazards import CompensatedBuilding, GroundwaterWell, HazardPoint, Sensor
from subsidence.models.ledger import Milestone, Problem, problem_cooperating_unit
from subsidence.models.mining import Enterprise, Mine, Panel

__all__ = [
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
