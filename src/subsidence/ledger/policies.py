"""Who may read and change ledger problems (one policy per resource; see :mod:`subsidence.access.policy`)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_

from subsidence.access.policy import ALL, Actor, Policy, R, mine_scoped, register_policy, town_scoped
from subsidence.ledger.models import Problem, problem_cooperating_unit
from subsidence.vocabulary import ProblemCategory


def _problem_department(actor: Actor) -> ColumnElement[bool]:
    if actor.unit_id is None:
        return false()
    cats = [ProblemCategory(str(n)) for n in sorted(actor.task_nos) if str(n) in {c.value for c in ProblemCategory}]
    coop = exists().where(
        problem_cooperating_unit.c.problem_id == Problem.id, problem_cooperating_unit.c.unit_id == actor.unit_id
    )
    terms = [Problem.lead_unit_id == actor.unit_id, coop]
    if cats:
        terms.append(Problem.category.in_(cats))
    return or_(*terms)


def _problem_lead(actor: Actor) -> ColumnElement[bool]:
    return Problem.lead_unit_id == actor.unit_id if actor.unit_id is not None else false()


register_policy(
    Policy(
        "problem",
        Problem,
        label_zh="问题",
        rules={
            "read": {
                R.OFFICE: ALL,
                R.DEPARTMENT: _problem_department,
                R.TOWN: town_scoped(Problem.town_id),
                R.ENTERPRISE: mine_scoped(Problem.mine_id),
            },
            "create": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: ALL},
            "update": {R.OFFICE: ALL, R.DEPARTMENT: _problem_lead, R.TOWN: _problem_lead},
            # the lead unit of a task issues notices for it too (services.lifecycle's transition table)
            "issue_notice": {R.OFFICE: ALL, R.DEPARTMENT: _problem_lead, R.TOWN: _problem_lead},
            "transition": {
                R.OFFICE: ALL,
                R.DEPARTMENT: _problem_lead,
                R.TOWN: _problem_lead,
                R.ENTERPRISE: mine_scoped(Problem.mine_id),
            },
            "accept": {R.OFFICE: ALL},
            # deadline extensions (申请延期): the mine asks (or the office for it); the lead unit or the office decides
            "request_extension": {R.OFFICE: ALL, R.ENTERPRISE: mine_scoped(Problem.mine_id)},
            "decide_extension": {R.OFFICE: ALL, R.DEPARTMENT: _problem_lead, R.TOWN: _problem_lead},
            "complete_milestone": {
                R.OFFICE: ALL,
                R.DEPARTMENT: _problem_lead,
                R.TOWN: _problem_lead,
                R.ENTERPRISE: mine_scoped(Problem.mine_id),
            },
            "upload_evidence": {
                R.OFFICE: ALL,
                R.DEPARTMENT: _problem_lead,
                R.TOWN: _problem_lead,
                R.ENTERPRISE: mine_scoped(Problem.mine_id),
            },
            "export": {
                R.OFFICE: ALL,
                R.DEPARTMENT: _problem_department,
                R.TOWN: town_scoped(Problem.town_id),
                R.ENTERPRISE: mine_scoped(Problem.mine_id),
            },
        },
    )
)

#: county-wide aggregate dashboards (progress tables): government roles
register_policy(
    Policy(
        "dashboard",
        Problem,
        label_zh="进度统计",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.TOWN: ALL},
        },
    )
)

#: county-wide documents (the ledger workbook in the exchange layout): the office
register_policy(
    Policy(
        "report",
        Problem,
        label_zh="报表",
        rules={
            "export_all": {R.OFFICE: ALL},
        },
    )
)
