"""Licence-gate rules of the rectification ledger (task 1).

A mine that has not fulfilled its rectification duty gets no new mining licence, extension, change or
cancellation and no new construction land (Land Reclamation Regulations art. 20; Mine Geological
Environment Protection Provisions). The ledger's rules:

* ``overdue_problem`` — a problem of the mine is still being worked on (found / notice issued /
  rectifying / returned) and its deadline has passed (逾期未整改);
* ``returned_problem`` — the office returned the mine's rectification as inadequate and it has not been
  accepted since (整改不到位);
* ``unaccepted_past_deadline`` — submitted for acceptance but not accepted, and the deadline has passed
  (the duty is not yet shown to be fulfilled);
* ``missing_plan`` — the mine's *Mine Geological Environment Protection and Land Reclamation Plan*
  (矿山地质环境保护与土地复垦方案) is missing or expired. The plan ledger does not exist yet: a later
  ledger registers a lookup with :func:`register_plan_lookup`; until then the rule reports nothing and the
  gate lists it as not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.gate.service import gate_rule
from subsidence.ledger.lifecycle import WORKING_STATES
from subsidence.ledger.models import Problem
from subsidence.vocabulary import APPLICATION_LABELS, ApplicationType, GateReason, ProblemState

S = ProblemState

ART20 = ("《土地复垦条例》第二十条：土地复垦义务人不依法履行土地复垦义务的，申请新的采矿许可证或者申请采矿许可证延续、变更、"
         "注销时不得批准，申请新的建设用地时不得批准 / Land Reclamation Regulations art. 20")
MGEP = ("《矿山地质环境保护规定》：采矿权人应当履行矿山地质环境保护与治理恢复义务 / Mine Geological Environment "
        "Protection Provisions")
PLAN_BASIS = ("《矿山地质环境保护规定》《土地复垦条例》：采矿权人应当编制矿山地质环境保护与土地复垦方案并按方案实施 / "
              "the mine must hold and carry out its protection and reclamation plan")
BASIS = f"{ART20}；{MGEP}"


def _problems(session: Session, mine: Mine, states) -> list[Problem]:
    return list(session.scalars(select(Problem).where(Problem.mine_id == mine.id, Problem.state.in_(sorted(states)))
                                .order_by(Problem.code)))


def _details(p: Problem, today: date) -> dict:
    from subsidence.ledger.calendar import default_calendar

    d = {"problem": p.code, "category": p.category.value, "title": p.title, "state": p.state.value,
         "deadline": p.deadline.isoformat() if p.deadline else None}
    if p.deadline is not None and today > p.deadline:
        d["workdays_overdue"] = default_calendar().workdays_between(p.deadline, today)
        d["days_overdue"] = (today - p.deadline).days
    return d


@gate_rule("overdue_problem")
def overdue_problem(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    out = []
    for p in _problems(session, mine, WORKING_STATES - {S.RETURNED}):
        if p.deadline is not None and today > p.deadline:
            det = _details(p, today)
            out.append(GateReason(
                rule="overdue_problem", record=p.code, legal_basis=BASIS, details=det,
                message=(f"问题 {p.code}“{p.title}”整改期限 {p.deadline} 已过（逾期 {det['days_overdue']} 天），"
                         f"仍为“{p.state.label()}” / problem {p.code} is overdue since {p.deadline} "
                         f"({p.state.value})")))
    return out


@gate_rule("returned_problem")
def returned_problem(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    return [GateReason(
        rule="returned_problem", record=p.code, legal_basis=BASIS, details=_details(p, today),
        message=(f"问题 {p.code}“{p.title}”验收未通过被退回，整改不到位 / rectification of {p.code} was returned "
                 "as inadequate and has not been accepted since"))
        for p in _problems(session, mine, {S.RETURNED})]


@gate_rule("unaccepted_past_deadline")
def unaccepted_past_deadline(session: Session, mine: Mine, application: ApplicationType,
                             today: date) -> list[GateReason]:
    return [GateReason(
        rule="unaccepted_past_deadline", record=p.code, legal_basis=BASIS, details=_details(p, today),
        message=(f"问题 {p.code}“{p.title}”已申请验收但尚未验收通过，整改期限 {p.deadline} 已过 / {p.code} is "
                 f"submitted but not accepted, deadline {p.deadline} has passed"))
        for p in _problems(session, mine, {S.SUBMITTED}) if p.deadline is not None and today > p.deadline]


# ------------------------------------------------------------------------------------ plan hook


@dataclass(frozen=True)
class PlanStatus:
    """What a plan ledger knows about a mine's protection and reclamation plan."""

    present: bool
    record: str | None = None  #: plan number
    valid_to: date | None = None
    note: str = ""


#: lookups registered by the plan ledger: (session, mine, today) -> PlanStatus | None (None: no opinion)
PlanLookup = Callable[[Session, Mine, date], "PlanStatus | None"]
_PLAN_LOOKUPS: list[PlanLookup] = []


def register_plan_lookup(fn: PlanLookup) -> PlanLookup:
    """Called by the plan ledger (when it exists) so that ``missing_plan`` can judge a mine."""
    if fn not in _PLAN_LOOKUPS:
        _PLAN_LOOKUPS.append(fn)
    return fn


def plan_rule_evaluated() -> bool:
    return bool(_PLAN_LOOKUPS)


@gate_rule("missing_plan")
def missing_plan(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    out = []
    for lookup in _PLAN_LOOKUPS:
        status = lookup(session, mine, today)
        if status is None:
            continue
        if not status.present:
            out.append(GateReason(rule="missing_plan", record=status.record, legal_basis=PLAN_BASIS,
                                  details={"note": status.note},
                                  message=f"矿山 {mine.name_zh} 无矿山地质环境保护与土地复垦方案 / the mine has no "
                                          f"protection and reclamation plan{': ' + status.note if status.note else ''}"))
        elif status.valid_to is not None and status.valid_to < today:
            out.append(GateReason(rule="missing_plan", record=status.record, legal_basis=PLAN_BASIS,
                                  details={"valid_to": status.valid_to.isoformat()},
                                  message=f"矿山地质环境保护与土地复垦方案 {status.record or ''} 已于 {status.valid_to} 到期 / "
                                          f"the plan expired on {status.valid_to}"))
    return out


def application_label(app: ApplicationType) -> str:
    zh, en = APPLICATION_LABELS[app]
    return f"{zh} / {en}"
