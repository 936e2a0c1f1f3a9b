"""Demo rectification records for the demo county's problems: numbered notices (with milestones as printed),
deliveries, acceptance decisions and escalations of overdue problems. Illustrative, deterministic."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.ledger.models import AcceptanceRecord, NoticeDelivery, Problem, RectificationNotice
from subsidence.core.models import Unit
from subsidence.vocabulary import ProblemState, UnitKind
from subsidence.vocabulary import AcceptanceResult, DeliveryMethod
from subsidence.ledger.notices import DEFAULT_REQUIREMENT, LEGAL_BASIS, allocate_notice_seq, build_snapshot, format_notice_number, issuer_name
from subsidence.ledger.progress import escalate_overdue
from subsidence.ledger.calendar import default_calendar

S = ProblemState
NOTICED = {S.NOTICE_ISSUED, S.RECTIFYING, S.SUBMITTED, S.RETURNED, S.ACCEPTED}
ACTOR = "office:demo"
INSPECTORS = ["领导小组办公室检查员1（示例）", "旗自然资源局执法人员2（示例）", "复垦专家3（示例）"]


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    cal = default_calendar()
    issuer = issuer_name(session)
    counts = {"notices": 0, "notice_deliveries": 0, "acceptance_records": 0, "escalations": 0}
    office = session.scalar(select(Unit).where(Unit.kind == UnitKind.OFFICE).order_by(Unit.code).limit(1))
    problems = session.scalars(select(Problem).where(Problem.state.in_(sorted(NOTICED)),
                                                     Problem.deadline.is_not(None)).order_by(Problem.found_date,
                                                                                              Problem.code)).all()
    for p in problems:
        issued = cal.next_workday(p.found_date + timedelta(days=int(rng.integers(3, 15))))
        if issued >= p.deadline or issued > today:
            continue
        recipient = p.mine.name_zh if p.mine is not None else (p.lead_unit.name_zh if p.lead_unit else "责任单位")
        seq = allocate_notice_seq(session, issued.year)
        code = format_notice_number(issued.year, seq)
        milestones = [(m.description, m.due_date) for m in p.milestones if issued < m.due_date <= p.deadline]
        snap = build_snapshot(p, code=code, issued_date=issued, deadline=p.deadline, recipient=recipient,
                              requirement=p.requirement or DEFAULT_REQUIREMENT[p.category],
                              legal_basis=LEGAL_BASIS[p.category], milestones=milestones, cal=cal,
                              issuer=issuer)
        n = RectificationNotice(code=code, year=issued.year, seq=seq, problem_id=p.id, mine_id=p.mine_id,
                                issuer_unit_id=office.id if office else None, issued_by=ACTOR, issued_date=issued,
                                deadline=p.deadline, recipient=recipient, requirement=snap["requirement"],
                                legal_basis=snap["legal_basis"], snapshot=snap)
        session.add(n)
        counts["notices"] += 1
        delivered = issued + timedelta(days=int(rng.integers(0, 4)))
        if delivered <= today:
            session.add(NoticeDelivery(notice=n, delivered_date=delivered,
                                       method=[DeliveryMethod.IN_PERSON, DeliveryMethod.POST,
                                               DeliveryMethod.ELECTRONIC][int(rng.integers(0, 3))],
                                       receiving_role="矿长" if p.mine_id else "镇分管负责人", recorded_by=ACTOR))
            counts["notice_deliveries"] += 1
        if p.state in (S.ACCEPTED, S.RETURNED):
            decided = p.closed_date or min(p.deadline, today)
            passed = p.state == S.ACCEPTED
            k = int(rng.integers(0, 3))
            session.add(AcceptanceRecord(
                problem_id=p.id, decided_date=max(decided, issued), result=AcceptanceResult.PASSED if passed
                else AcceptanceResult.RETURNED, reasons=None if passed else "整改不到位：裂缝未完全充填，植被未恢复（示例）",
                inspectors=[INSPECTORS[k], INSPECTORS[(k + 1) % 3]], site_visit=True, decided_by=ACTOR,
                within_window=True))
            counts["acceptance_records"] += 1
    session.flush()
    counts["escalations"] = len(escalate_overdue(session, today, actor_name=ACTOR, cal=cal))
    return counts
