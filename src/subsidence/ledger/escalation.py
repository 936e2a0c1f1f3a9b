"""Escalation (督办): every missed date gets a numbered 督办通知 to the unit responsible for it.

Three kinds, each once per problem, subject and level (idempotent: run it every day):

* ``deadline`` — a problem still owed (the one overdue definition, :func:`subsidence.ledger.queries.
  overdue_clause`) goes to its lead unit after :data:`ESCALATE_LEAD_AFTER` working days past the deadline
  (as extended) and to the office after :data:`ESCALATE_OFFICE_AFTER`;
* ``milestone`` — a milestone past due and not done (:func:`subsidence.ledger.milestones.overdue_milestones`)
  goes to the lead unit after :data:`ESCALATE_LEAD_AFTER` working days;
* ``acceptance`` — a submission the office has not decided inside its 60-working-day acceptance window goes
  to the office, issued in the leading group's name (the office's own deadline);
* ``extension`` — an extension request not decided within ``extensions.DECISION_WORKDAYS`` goes to the lead unit
  (the request keeps the gate from refusing for that deadline until it is decided).

Each escalation carries its printed content (``snapshot`` = :func:`supervision_data`) and a notification
(:func:`notification`) that the deadline watch (:func:`subsidence.gate.watch.run_deadline_watch`) queues
in the monitoring outbox in the same transaction. The documents helper renders the 督办通知 from
:func:`supervision_data`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Unit
from subsidence.db.audit import acting_as
from subsidence.errors import NotFound
from subsidence.ledger.enforcement import deadline_source
from subsidence.ledger.models import Escalation, Milestone, Problem
from subsidence.ledger.numbering import allocate_seq, format_number
from subsidence.ledger.queries import overdue_clause
from subsidence.vocabulary import EscalationLevel, ProblemState, UnitKind
from subsidence.workdays import WorkCalendar, default_calendar

S = ProblemState
#: working days past the deadline after which an overdue problem goes to the lead unit / the office
ESCALATE_LEAD_AFTER = 1
ESCALATE_OFFICE_AFTER = 10
#: working days the escalated unit has to report back (unverified default; settle with the office's rules)
REPLY_WORKDAYS = 5

KIND_LABELS = {
    "deadline": "整改逾期督办",
    "milestone": "时间节点逾期督办",
    "acceptance": "验收逾期督办",
    "extension": "延期审批逾期督办",
}
REQUIREMENT = {
    "deadline": "请督促责任主体立即整改，并于回复期限前书面报告整改进展；确有困难的说明原因和措施。",
    "milestone": "请督促责任主体按整改通知书确定的时间节点完成整改任务，并于回复期限前书面报告完成情况。",
    "acceptance": "请在回复期限前完成验收（通过销号或退回并说明理由），逾期未验收的说明原因。",
    "extension": "企业的延期申请已超过审批期限，请在回复期限前作出批准或不予批准的决定并说明理由。",
}
LEGAL_BASIS = (
    "采煤沉陷区综合治理实施方案（建立问题台账，实行清单化管理、销号制，对逾期未完成的进行督办）；"
    "《土地复垦条例》第二十条；《矿山地质环境保护规定》"
)


def escalate_due(
    session: Session, today: date, *, actor_name: str = "system:deadline-watch", cal: WorkCalendar | None = None
) -> list[Escalation]:
    """Create the escalations due on ``today`` (see the module doc); returns those created now, each with
    its number, snapshot and outbox key. Nothing else changes."""
    cal = cal or default_calendar()
    office = session.scalar(select(Unit).where(Unit.kind == UnitKind.OFFICE).order_by(Unit.code).limit(1))
    existing = {(e.problem_id, e.subject, e.level) for e in session.scalars(select(Escalation))}
    todo: list[tuple[Problem, str, str, EscalationLevel, Unit | None, date, int, Milestone | None]] = []
    from subsidence.ledger.extensions import DECISION_WORKDAYS
    from subsidence.ledger.models import DeadlineExtension

    asked = set(session.scalars(select(DeadlineExtension.problem_id).where(DeadlineExtension.state == "pending")))
    overdue = session.scalars(select(Problem).where(overdue_clause(today)).order_by(Problem.code)).all()
    for p in overdue:
        if p.id in asked:
            continue  # a timely extension request is pending: its decision is escalated instead (below)
        late = cal.workdays_between(p.deadline, today)
        for level, after, unit in (
            (EscalationLevel.LEAD_UNIT, ESCALATE_LEAD_AFTER, p.lead_unit),
            (EscalationLevel.OFFICE, ESCALATE_OFFICE_AFTER, office),
        ):
            if late >= after:
                todo.append((p, "deadline", "deadline", level, unit, p.deadline, late, None))
    from subsidence.ledger.milestones import overdue_milestones

    for m in overdue_milestones(session, today):
        late = cal.workdays_between(m.due_date, today)
        if late >= ESCALATE_LEAD_AFTER:
            todo.append(
                (
                    m.problem,
                    "milestone",
                    f"milestone:{m.seq}",
                    EscalationLevel.LEAD_UNIT,
                    m.problem.lead_unit,
                    m.due_date,
                    late,
                    m,
                )
            )
    waiting = session.scalars(
        select(Problem)
        .where(Problem.state == S.SUBMITTED, Problem.acceptance_due.is_not(None), Problem.acceptance_due < today)
        .order_by(Problem.code)
    ).all()
    for p in waiting:
        todo.append(
            (
                p,
                "acceptance",
                "acceptance",
                EscalationLevel.OFFICE,
                office,
                p.acceptance_due,
                cal.workdays_between(p.acceptance_due, today),
                None,
            )
        )
    for x in session.scalars(
        select(DeadlineExtension).where(DeadlineExtension.state == "pending").order_by(DeadlineExtension.id)
    ):
        due = cal.add_workdays(x.requested_date, DECISION_WORKDAYS)
        if due < today:
            todo.append(
                (
                    x.problem,
                    "extension",
                    f"extension:{x.seq}",
                    EscalationLevel.LEAD_UNIT,
                    x.problem.lead_unit,
                    due,
                    cal.workdays_between(due, today),
                    None,
                )
            )
    created = []
    authority = office.code if office is not None else "OFFICE"
    with acting_as(session, actor_name, "逾期督办 / escalation"):
        for p, kind, subject, level, unit, missed, late, m in todo:
            if (p.id, subject, level) in existing:
                continue
            seq = allocate_seq(session, "supervision", authority, today.year)
            esc = Escalation(
                problem_id=p.id,
                level=level,
                unit_id=unit.id if unit else None,
                escalated_date=today,
                deadline=missed,
                workdays_overdue=late,
                kind=kind,
                subject=subject,
                milestone_id=m.id if m is not None else None,
                code=format_number("supervision", today.year, seq),
                year=today.year,
                seq=seq,
                reply_due=cal.add_workdays(today, REPLY_WORKDAYS),
            )
            session.add(esc)
            session.flush()
            esc.outbox_key = f"escalation:{esc.id}"
            esc.snapshot = _snapshot(session, esc, p, unit, m)
            existing.add((p.id, subject, level))
            created.append(esc)
        session.flush()
    return created


def _issuer(session: Session, level: EscalationLevel, kind: str) -> str:
    from subsidence.ledger.notices import issuer_name

    office = issuer_name(session)
    if kind == "acceptance" or level == EscalationLevel.OFFICE:
        return office.removesuffix("办公室")  # the leading group itself
    return office


def _snapshot(session: Session, esc: Escalation, p: Problem, unit: Unit | None, m: Milestone | None) -> dict:
    src = deadline_source(session, p) if esc.kind == "deadline" else None
    mine = p.mine
    return {
        "code": esc.code,
        "year": esc.year,
        "seq": esc.seq,
        "issuer": _issuer(session, esc.level, esc.kind),
        "issued_date": esc.escalated_date.isoformat(),
        "kind": esc.kind,
        "kind_zh": KIND_LABELS[esc.kind],
        "level": esc.level.value,
        "level_zh": esc.level.label(),
        "recipient_unit": unit.code if unit else None,
        "recipient_unit_name": unit.name_zh if unit else None,
        "problem": p.code,
        "problem_title": p.title,
        "mine": mine.name_zh if mine else None,
        "licence_no": mine.licence_no if mine else None,
        "category_zh": p.category.label(),
        "deadline": esc.deadline.isoformat(),
        "deadline_set_by": src.as_dict() if src else None,
        "workdays_overdue": esc.workdays_overdue,
        "milestone": {"seq": m.seq, "description": m.description, "due_date": m.due_date.isoformat()}
        if m is not None
        else None,
        "requirement": REQUIREMENT[esc.kind],
        "reply_due": esc.reply_due.isoformat() if esc.reply_due else None,
        "legal_basis": LEGAL_BASIS,
        "illustrative": bool(p.illustrative or (mine is not None and mine.illustrative)),
    }


def supervision_data(session: Session, escalation_id: int) -> dict:
    """Everything printed on the 督办通知 of an escalation (its frozen snapshot); read-only."""
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise NotFound(f"escalation {escalation_id} does not exist")
    if esc.snapshot is None:  # escalated before numbered 督办通知 existed: build it, unnumbered
        return {
            **_snapshot(
                session,
                esc,
                esc.problem,
                esc.unit,
                session.get(Milestone, esc.milestone_id) if esc.milestone_id else None,
            ),
            "code": None,
        }
    return dict(esc.snapshot)


def notification(esc: Escalation) -> dict:
    """The outbox notification of an escalation: ``{"key", "recipient", "recipient_role", "subject", "body"}``
    (recipient ``unit:<code>``: the unit's in-app inbox / log channel)."""
    snap = esc.snapshot or {}
    what = {
        "deadline": f"整改期限 {snap.get('deadline')} 已过 {esc.workdays_overdue} 个工作日",
        "milestone": f"时间节点“{(snap.get('milestone') or {}).get('description', '')}”应于 {snap.get('deadline')} 完成，"
        f"已逾期 {esc.workdays_overdue} 个工作日",
        "acceptance": f"验收期限 {snap.get('deadline')} 已过 {esc.workdays_overdue} 个工作日，尚未验收",
        "extension": f"延期申请应于 {snap.get('deadline')} 前审批，已逾期 {esc.workdays_overdue} 个工作日",
    }[esc.kind]
    body = (
        f"{snap.get('recipient_unit_name') or '责任单位'}：\n问题 {snap.get('problem')}“{snap.get('problem_title')}”"
        f"{'（' + snap['mine'] + '）' if snap.get('mine') else ''}{what}。{snap.get('requirement')}"
        f"请于 {snap.get('reply_due')} 前回复。\n{snap.get('issuer')}  {snap.get('issued_date')}  {esc.code}"
    )
    return {
        "key": esc.outbox_key or f"escalation:{esc.id}",
        "recipient": f"unit:{snap.get('recipient_unit') or 'office'}",
        "recipient_role": snap.get("recipient_unit_name") or "",
        "subject": f"【{snap.get('kind_zh')}】{esc.code} {snap.get('problem')}",
        "body": body,
    }
