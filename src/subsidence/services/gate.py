"""The licence gate (task 1): may a mine's application be accepted today, and if not, why.

The gate is a list of rules. Each rule looks at one ledger (problems, plans, fund ...) and returns the
reasons it finds; the gate refuses when any rule returns a reason. Ledgers add their rule with
:func:`gate_rule`, so the gate grows with the system without ``if`` chains here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Callable

from sqlalchemy.orm import Session

from subsidence.models import Mine


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
class GateReason:
    """One reason to refuse, with the record it rests on and its legal basis."""

    rule: str  #: machine name of the rule, e.g. "overdue_problem"
    message: str  #: Chinese-first human text naming the record
    legal_basis: str
    record: str | None = None  #: business key of the record (problem code, plan number ...)
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


#: a rule: (session, mine, application, today) -> reasons
GateRule = Callable[[Session, Mine, ApplicationType, date], list[GateReason]]

_RULES: dict[str, GateRule] = {}


def gate_rule(name: str) -> Callable[[GateRule], GateRule]:
    """Decorator registering a gate rule under ``name`` (re-registering replaces it)."""

    def deco(fn: GateRule) -> GateRule:
        _RULES[name] = fn
        return fn

    return deco


def registered_rules() -> dict[str, GateRule]:
    return dict(_RULES)


#: modules that define gate rules; imported before the gate is evaluated so their rules register.
#: A ledger that adds a rule appends its module here.
RULE_MODULES: list[str] = []


def load_rules() -> dict[str, GateRule]:
    import importlib

    for name in RULE_MODULES:
        importlib.import_module(name)
    return registered_rules()
