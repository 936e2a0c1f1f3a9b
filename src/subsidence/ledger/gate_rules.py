"""The rectification ledger's licence-gate rule (task 1).

A mine that has not fulfilled its rectification duty gets no new mining licence, extension, change or
cancellation and no new construction land (《土地复垦条例》第二十条; 《矿山地质环境保护规定》). The plan bars
applications from mines that **missed a rectification deadline or rectified inadequately** (逾期不整改或整改不
到位). This rule reports every unsettled problem of the mine with the facts the gate judges by
(:mod:`subsidence.ledger.enforcement`): its deadline, the notice or extension that set it, and whether an
in-time submission awaits the office's acceptance. The gate (:mod:`subsidence.gate.service`) decides
refusal / warning; this module does not import the gate.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.ledger.enforcement import SETTLED_STATES, problem_facts
from subsidence.ledger.models import Problem
from subsidence.vocabulary import (
    APPLICATION_LABELS,
    ApplicationType,
    GateReason,
    ProblemState,
)

S = ProblemState

ART20 = (
    "《土地复垦条例》第二十条：土地复垦义务人不依法履行土地复垦义务的，申请新的采矿许可证或者申请采矿许可证延续、变更、"
    "注销时不得批准，申请新的建设用地时不得批准 / Land Reclamation Regulations art. 20"
)
MGEP = (
    "《矿山地质环境保护规定》：采矿权人应当履行矿山地质环境保护与治理恢复义务 / Mine Geological Environment "
    "Protection Provisions"
)
PLAN_BASIS = (
    "《矿山地质环境保护规定》《土地复垦条例》：采矿权人应当编制矿山地质环境保护与土地复垦方案并按方案实施 / "
    "the mine must hold and carry out its protection and reclamation plan"
)
BASIS = f"{ART20}；{MGEP}"

#: finding names by problem state
RULE_BY_STATE = {
    S.FOUND: "rectification_problem",
    S.NOTICE_ISSUED: "rectification_problem",
    S.RECTIFYING: "rectification_problem",
    S.RETURNED: "returned_problem",
    S.SUBMITTED: "awaiting_acceptance",
    S.FIXED_AT_ONCE: "awaiting_acceptance",
}


def ledger_problems(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    """Every unsettled ledger problem of ``mine`` (found by ``today``) with its deadline facts."""
    q = (
        select(Problem)
        .where(Problem.mine_id == mine.id, Problem.found_date <= today, Problem.state.not_in(sorted(SETTLED_STATES)))
        .order_by(Problem.code)
    )
    out = []
    for p in session.scalars(q):
        what = {
            "rectification_problem": "整改",
            "returned_problem": "验收未通过被退回（整改不到位），重新整改",
            "awaiting_acceptance": "已申请验收",
        }[RULE_BY_STATE[p.state]]
        base = GateReason(
            rule=RULE_BY_STATE[p.state],
            legal_basis=BASIS,
            record=p.code,
            record_kind="problem",
            details={"category": p.category.value, "title": p.title},
            message=f"问题 {p.code}“{p.title}”{what}（{p.state.label()}） / problem {p.code} ({p.state.value})",
        )
        finding = problem_facts(session, p, base)
        if finding is not None:
            out.append(finding)
    return out


def application_label(app: ApplicationType) -> str:
    zh, en = APPLICATION_LABELS[app]
    return f"{zh} / {en}"
