"""The demo ledger's rectification stories, told through the ledger's services so each problem has a history.

Each demo problem is registered (:func:`subsidence.ledger.lifecycle.add_problem`) and then moved step by step
with the server's clock set to each step's day (``session.info["server_today"]``): the numbered notice with
its milestones (:func:`~subsidence.ledger.notices.issue_notice`), its delivery, the start, milestones completed
with evidence, the submission (with evidence), the office's acceptance or return, the occasional extension
and withdrawal. So a problem's milestones, submitted date and state always agree, and every date in the
history is one the services accepted. :func:`populate` (after the county) runs the deadline watch on the demo
day: the 督办通知 of every missed date and their outbox notifications. Illustrative, deterministic.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor
from subsidence.core.models import Mine, Unit
from subsidence.ledger.evidence import attach_evidence, record_acceptance
from subsidence.ledger.extensions import decide_extension, request_extension
from subsidence.ledger.lifecycle import transition
from subsidence.ledger.milestones import complete_milestone
from subsidence.ledger.models import Problem
from subsidence.ledger.notices import MilestoneInput, issue_notice, record_delivery
from subsidence.vocabulary import DeliveryMethod, ProblemState, Role, UnitKind
from subsidence.workdays import default_calendar

S = ProblemState
INSPECTORS = ["领导小组办公室检查员1（示例）", "旗自然资源局执法人员2（示例）", "复垦专家3（示例）"]
MILESTONES = ("制定整改方案", "完成主体治理工程", "完成验收准备")


@dataclass
class Cast:
    """Who acts in a problem's story."""

    office: Actor
    lead: Actor
    enterprise: Actor | None  #: None for a problem without a mine (the lead unit reports instead)

    @property
    def doer(self) -> Actor:
        return self.enterprise or self.lead


def cast_for(session: Session, problem: Problem) -> Cast:
    office_unit = session.scalar(select(Unit).where(Unit.kind == UnitKind.OFFICE).order_by(Unit.code).limit(1))
    office = Actor("demo-office", Role.OFFICE, unit_id=office_unit.id if office_unit else None)
    lu = problem.lead_unit
    lead = (
        Actor(f"demo-{lu.code}", Role.TOWN if lu.kind == UnitKind.TOWN else Role.DEPARTMENT, unit_id=lu.id)
        if lu is not None
        else office
    )
    mine = session.get(Mine, problem.mine_id) if problem.mine_id else None
    ent = (
        Actor(f"demo-{mine.licence_no[-4:]}", Role.ENTERPRISE, enterprise_id=mine.enterprise_id)
        if mine is not None and mine.enterprise_id
        else None
    )
    return Cast(office, lead, ent)


def _at(session: Session, day: date) -> date:
    session.info["server_today"] = day
    return day


def _pdf(problem: Problem, what: str) -> bytes:
    return f"%PDF-1.4\n% 示例佐证 {problem.code} {what}\n%%EOF\n".encode()


def _photo(problem: Problem, taken: datetime, offset_m: float = 0.0) -> bytes:
    """A small JPEG whose EXIF carries the time and the problem's position (``offset_m`` east of it)."""
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational
    from shapely.geometry import Point

    from subsidence.geo import STORAGE_CRS, transform_geometry

    where = problem.geometry if problem.geometry is not None else (problem.mine.geometry if problem.mine else None)

    def dms(v: float):
        d = int(v)
        m = int((v - d) * 60)
        return (IFDRational(d), IFDRational(m), IFDRational(round(((v - d) * 60 - m) * 6000), 100))

    ex = Image.Exif()
    ex.get_ifd(0x8769)[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")
    ex.get_ifd(0x8769)[36881] = "+08:00"
    if where is not None:  # a problem without a location: a photo with its time only
        c = where.centroid
        ll = transform_geometry(Point(c.x + offset_m, c.y), STORAGE_CRS, "EPSG:4490")
        ex[0x8825] = {1: "N", 2: dms(ll.y), 3: "E", 4: dms(ll.x)}
    buf = io.BytesIO()
    seed = sum(problem.code.encode()) % 200
    Image.new("RGB", (24, 16), (40 + seed % 60, 90 + seed % 80, 60)).save(buf, "JPEG", exif=ex, quality=80)
    return buf.getvalue()


def tell_story(
    session: Session,
    problem: Problem,
    target: ProblemState,
    rng: np.random.Generator,
    today: date,
    window_days: int,
    *,
    flagged_photo: bool = False,
    extension: bool = False,
    in_time: bool = False,
) -> ProblemState:
    """Move ``problem`` (found) towards ``target`` through the services, every step dated by the clock and
    never after ``today``. A story that would need days after ``today`` stops where the calendar ends.
    Returns the state reached."""
    cal = default_calendar()
    cast = cast_for(session, problem)
    found = problem.found_date
    if target == S.WITHDRAWN:
        day = min(found + timedelta(days=int(rng.integers(5, 60))), today)
        _at(session, day)
        transition(session, problem, cast.office, "withdraw", reason="经核实与其他问题重复登记，予以撤销（示例）")
        return problem.state
    if target == S.FIXED_AT_ONCE:
        _at(session, min(found + timedelta(days=int(rng.integers(1, 6))), today))
        attach_evidence(session, problem, cast.doer, data=_pdf(problem, "立行立改"), filename="立行立改情况说明.pdf")
        transition(session, problem, cast.doer, "fix_at_once")
        return problem.state
    if target == S.FOUND:
        return problem.state
    issued = cal.next_workday(found + timedelta(days=int(rng.integers(3, 15))))
    if issued >= today:
        return problem.state
    deadline = issued + timedelta(days=window_days)
    third = (deadline - issued) / 3
    _at(session, issued)
    recipient = None if problem.mine_id else (problem.town.name_zh + "人民政府" if problem.town else "责任单位")
    issue_notice(
        session,
        problem,
        cast.lead,
        issued_date=issued,
        deadline=deadline,
        recipient=recipient,
        milestones=[
            MilestoneInput(MILESTONES[0], due_date=issued + third),
            MilestoneInput(MILESTONES[1], due_date=issued + 2 * third),
            MilestoneInput(MILESTONES[2], due_date=deadline),
        ],
    )
    delivered = issued + timedelta(days=int(rng.integers(0, 4)))
    if delivered <= today:
        _at(session, delivered)
        record_delivery(
            session,
            problem_notice(session, problem),
            cast.lead,
            method=[DeliveryMethod.IN_PERSON, DeliveryMethod.POST, DeliveryMethod.ELECTRONIC][int(rng.integers(0, 3))],
            receiving_role="矿长" if problem.mine_id else "镇分管负责人",
        )
    start = issued + timedelta(days=int(rng.integers(2, 9)))
    if target == S.NOTICE_ISSUED or start > today:
        return problem.state
    _at(session, start)
    transition(session, problem, cast.doer, "start")
    if extension and start < deadline - timedelta(days=7) and deadline - timedelta(days=5) <= today:
        asked = _at(session, deadline - timedelta(days=5))
        x = request_extension(
            session,
            problem,
            cast.doer,
            requested_deadline=cal.add_workdays(deadline, 15),
            reason="冬季冻土无法施工，申请延长整改期限（示例）",
        )
        if asked + timedelta(days=2) <= today:
            _at(session, asked + timedelta(days=2))
            decide_extension(session, x, cast.lead, approve=True, reason="情况属实，同意延期一次（示例）")
        deadline = problem.deadline
    # the submission day: mostly in time, sometimes late; the milestones are done by then
    late = rng.random() < 0.15 and not in_time
    submit = (
        (deadline + timedelta(days=int(rng.integers(3, 20))))
        if late
        else (deadline - timedelta(days=int(rng.integers(0, max(1, min(20, (deadline - start).days - 3))))))
    )
    submit = max(submit, start + timedelta(days=3))
    wants_submission = target in (S.SUBMITTED, S.ACCEPTED, S.RETURNED) and submit <= today
    for m in problem.milestones:
        done = max(min(m.due_date - timedelta(days=int(rng.integers(0, 4))), submit), start)
        if not wants_submission and (done > today or (rng.random() >= 0.6 and not in_time)):
            break  # still rectifying: the later milestones wait (and are escalated once overdue)
        if done > today:
            break
        _at(session, done)
        ev = attach_evidence(
            session, problem, cast.doer, data=_pdf(problem, m.description), filename=f"{m.description}佐证.pdf"
        )
        complete_milestone(session, problem, cast.doer, m.seq, evidence_ids=[ev.id])
    if not wants_submission:
        return problem.state
    _at(session, submit)
    attach_evidence(
        session,
        problem,
        cast.doer,
        data=_photo(problem, datetime(submit.year, submit.month, submit.day, 10)),
        filename="整改后现场照片.jpg",
    )
    if flagged_photo:  # a photo from before the problem was found: the inspector must look
        attach_evidence(
            session,
            problem,
            cast.doer,
            filename="现场照片2.jpg",
            data=_photo(problem, datetime(found.year, found.month, found.day, 9) - timedelta(days=30)),
        )
    transition(session, problem, cast.doer, "submit")
    if target == S.SUBMITTED:
        return problem.state
    decided = submit + timedelta(days=int(rng.integers(5, 40)))
    if decided > today:
        return problem.state
    _at(session, decided)
    k = int(rng.integers(0, 3))
    if target == S.ACCEPTED:
        record_acceptance(
            session,
            problem,
            cast.office,
            passed=True,
            inspectors=[INSPECTORS[k], INSPECTORS[(k + 1) % 3]],
            flag_note="现场照片2为整改前对比照片，经现场核实整改到位（示例）" if flagged_photo else None,
        )
    else:
        record_acceptance(
            session,
            problem,
            cast.office,
            passed=False,
            inspectors=[INSPECTORS[k], INSPECTORS[(k + 1) % 3]],
            reasons="整改不到位：裂缝未完全充填，植被未恢复（示例）",
        )
    return problem.state


def problem_notice(session: Session, problem: Problem):
    from subsidence.ledger.notices import notices_of

    return notices_of(session, problem)[-1]


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    """The deadline watch on the demo day: 督办通知 of every missed date, with their outbox notifications."""
    from subsidence.gate.watch import run_deadline_watch

    _at(session, today)
    out = run_deadline_watch(session, today, actor_name="system:deadline-watch")
    return {"escalations": len(out["escalated"])}


def refuse_one(session: Session, today: date) -> int:
    """The first refused mine's licence-extension application gets its numbered 不予受理告知书 (the demo of the
    refusal document); run after every ledger has its demo data. Returns the number of notices issued."""
    from subsidence.gate.service import evaluate_gate, issue_refusal_notice

    office_unit = session.scalar(select(Unit).where(Unit.kind == UnitKind.OFFICE).order_by(Unit.code).limit(1))
    office = Actor("demo-office", Role.OFFICE, unit_id=office_unit.id if office_unit else None)
    _at(session, today)
    for mine in session.scalars(select(Mine).order_by(Mine.licence_no)):
        d = evaluate_gate(session, mine, "extension", today, actor=office)
        if d.outcome == "refused":
            issue_refusal_notice(session, d.query_id, office)
            return 1
    return 0
