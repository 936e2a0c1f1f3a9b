"""The plan's phases and tasks, progress statistics, deadline watch and escalation (督办).

Progress is computed *as of* a date from the transition events in the audit trail, so a report for a
past period shows the ledger as it stood then (a problem with no recorded transitions counts in its
current state). Groupings: by task (category 1–7), by town, by lead department.

Counts per group (a problem counts once in each of these, as of the date):

``found``       problems found by the date (not withdrawn)
``noticed``     of those, problems that had a deadline notice issued
``rectifying``  being rectified (notice issued, rectifying, returned)
``submitted``   waiting for acceptance
``accepted``    closed by acceptance (incl. fixed at once, then accepted)
``fixed_at_once`` reported fixed at once, not yet accepted
``overdue``     still being worked on past the deadline
``on_time`` / ``late``  accepted problems closed by / after their deadline
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from subsidence.core.models import AdminArea, AuditEvent
from subsidence.ledger.escalation import ESCALATE_LEAD_AFTER, ESCALATE_OFFICE_AFTER  # noqa: F401 (old names)
from subsidence.ledger.lifecycle import WORKING_STATES
from subsidence.ledger.models import Escalation, Problem, RectificationNotice
from subsidence.ledger.queries import due_soon_until, is_due_soon_on, is_overdue_on
from subsidence.vocabulary import (
    ProblemCategory,
    ProblemState,
)
from subsidence.workdays import WorkCalendar, default_calendar

S = ProblemState


@dataclass(frozen=True)
class Phase:
    no: int
    name_zh: str
    name_en: str
    start: date
    end: date | None  #: None: long term

    def contains(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)

    def as_dict(self) -> dict:
        return {
            "no": self.no,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
        }


#: the plan's time plan (docs/domain.md §4)
PHASES: tuple[Phase, ...] = (
    Phase(1, "前期准备", "preparation", date(2024, 8, 24), date(2024, 9, 9)),
    Phase(2, "排查整治", "investigation and rectification", date(2024, 9, 10), date(2024, 12, 30)),
    Phase(3, "巩固提升", "consolidation", date(2024, 12, 31), None),
)


def phase_on(d: date) -> Phase | None:
    return next((p for p in PHASES if p.contains(d)), None)


@dataclass(frozen=True)
class Task:
    no: int
    category: ProblemCategory
    lead: tuple[str, ...]  #: unit codes ("TOWNS" = the town governments)
    cooperating: tuple[str, ...]
    goal_zh: str

    def as_dict(self) -> dict:
        return {
            "no": self.no,
            "category": self.category.value,
            "name_zh": self.category.label("zh"),
            "name_en": self.category.label("en"),
            "lead": list(self.lead),
            "cooperating": list(self.cooperating),
            "goal_zh": self.goal_zh,
        }


TOWNS = "TOWNS"
#: the seven key tasks with lead and cooperating units (docs/domain.md §3)
TASKS: tuple[Task, ...] = (
    Task(1, ProblemCategory.SUBSIDENCE_CRACKS, ("NRB",), (TOWNS, "EMB", "EEB"), "边开采、边治理，限期整改"),
    Task(2, ProblemCategory.FUNDS, ("NRB",), ("FIN", "EEB"), "足额使用矿山地质环境治理恢复基金"),
    Task(3, ProblemCategory.VEGETATION, (TOWNS,), ("NRB",), "清理枯死树木，宜林则林、宜草则草"),
    Task(4, ProblemCategory.BUILDINGS, (TOWNS, "MSC", "EMB"), (), "已补偿建筑物、基础设施年底前全部拆除"),
    Task(5, ProblemCategory.GROUNDWATER, ("AWB", "EEB"), (TOWNS,), "问题矿山编制并实施保水开采方案"),
    Task(6, ProblemCategory.GEOHAZARDS, ("NRB",), (TOWNS, "EMB"), "隐患排查，发放明白卡、避险卡，落实群测群防"),
    Task(7, ProblemCategory.MINE_HAZARDS, ("EMB",), ("ENB", TOWNS), "隐蔽致灾因素普查，一问题一方案"),
)

COUNT_KEYS = ("found", "noticed", "rectifying", "submitted", "fixed_at_once", "accepted", "overdue", "on_time", "late")


def states_as_of(session: Session, problems: Iterable[Problem], as_of: date) -> dict[int, ProblemState]:
    """Each problem's state at the end of ``as_of``, rebuilt from its transition events.

    A problem without transition events (imported, demo) counts in its current state, except that one
    closed after ``as_of`` counts as still open (rectifying when it has a deadline, else found).
    """
    problems = list(problems)
    ids = [p.id for p in problems]
    events: dict[int, list[AuditEvent]] = defaultdict(list)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for ev in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "problem", AuditEvent.action == "transition", AuditEvent.entity_id.in_(chunk))
            .order_by(AuditEvent.id)
        ):
            events[ev.entity_id].append(ev)
    out = {}
    for p in problems:
        evs = events.get(p.id)
        if not evs:  # no recorded transitions (imported or demo data): current state, unless closed later
            if p.state in (S.ACCEPTED, S.WITHDRAWN) and p.closed_date is not None and p.closed_date > as_of:
                out[p.id] = S.RECTIFYING if p.deadline is not None else S.FOUND
            else:
                out[p.id] = p.state
            continue
        state = ProblemState((evs[0].before or {}).get("state", "found"))
        after_all = True
        for ev in evs:
            if date.fromisoformat((ev.after or {}).get("on", "9999-12-31")) <= as_of:
                state = ProblemState((ev.after or {})["state"])
            else:
                after_all = False
        if after_all and state != p.state:
            state = p.state  # changed outside the lifecycle (import, data fix) after its last transition
        out[p.id] = state
    return out


def noticed_ids(session: Session, as_of: date) -> set[int]:
    return set(session.scalars(select(RectificationNotice.problem_id).where(RectificationNotice.issued_date <= as_of)))


@dataclass
class Counts:
    found: int = 0
    noticed: int = 0
    rectifying: int = 0
    submitted: int = 0
    fixed_at_once: int = 0
    accepted: int = 0
    overdue: int = 0
    on_time: int = 0
    late: int = 0

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in COUNT_KEYS}

    @property
    def accepted_pct(self) -> float:
        return round(100.0 * self.accepted / self.found, 1) if self.found else 0.0


@dataclass
class ProgressRow:
    key: str
    label_zh: str
    label_en: str
    counts: Counts = field(default_factory=Counts)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            **self.counts.as_dict(),
            "accepted_pct": self.counts.accepted_pct,
        }


@dataclass
class ProblemView:
    """A problem as it stood on the progress date (for lists in reports)."""

    code: str
    category: str
    title: str
    mine: str
    town: str
    lead_unit: str
    state: ProblemState
    found_date: date
    deadline: date | None
    workdays_overdue: int = 0
    days_overdue: int = 0


@dataclass
class Progress:
    as_of: date
    total: Counts
    by_task: list[ProgressRow]
    by_town: list[ProgressRow]
    by_department: list[ProgressRow]
    overdue: list[ProblemView]
    due_soon: list[ProblemView]
    phase: Phase | None

    def as_dict(self) -> dict:
        def pv(v: ProblemView) -> dict:
            return {
                "code": v.code,
                "category": v.category,
                "title": v.title,
                "mine": v.mine,
                "town": v.town,
                "lead_unit": v.lead_unit,
                "state": v.state.value,
                "deadline": v.deadline.isoformat() if v.deadline else None,
                "workdays_overdue": v.workdays_overdue,
                "days_overdue": v.days_overdue,
            }

        return {
            "as_of": self.as_of.isoformat(),
            "phase": self.phase.as_dict() if self.phase else None,
            "total": {**self.total.as_dict(), "accepted_pct": self.total.accepted_pct},
            "by_task": [r.as_dict() for r in self.by_task],
            "by_town": [r.as_dict() for r in self.by_town],
            "by_department": [r.as_dict() for r in self.by_department],
            "overdue": [pv(v) for v in self.overdue],
            "due_soon": [pv(v) for v in self.due_soon],
        }


WORKING = WORKING_STATES


def _count(c: Counts, p: Problem, state: ProblemState, noticed: bool, as_of: date) -> None:
    c.found += 1
    c.noticed += noticed
    if state in (S.NOTICE_ISSUED, S.RECTIFYING, S.RETURNED):
        c.rectifying += 1
    elif state == S.SUBMITTED:
        c.submitted += 1
    elif state == S.FIXED_AT_ONCE:
        c.fixed_at_once += 1
    elif state == S.ACCEPTED:
        c.accepted += 1
        closed = p.closed_date or as_of
        if p.deadline is None or closed <= p.deadline:
            c.on_time += 1
        else:
            c.late += 1
    if is_overdue_on(state, p.deadline, as_of):
        c.overdue += 1


def ledger_problems(session: Session, as_of: date | None = None, where: Any = None) -> list[Problem]:
    """Problems found by ``as_of`` (all when None), deterministic order (by code), relations loaded.

    ``where``: an extra clause on the problem table (a caller's scope, :func:`subsidence.access.policy.scope_clause`).
    """
    q = (
        select(Problem)
        .options(
            selectinload(Problem.mine),
            selectinload(Problem.town),
            selectinload(Problem.lead_unit),
            selectinload(Problem.milestones),
        )
        .order_by(Problem.code)
    )
    if as_of is not None:
        q = q.where(Problem.found_date <= as_of)
    if where is not None:
        q = q.where(where)
    return list(session.scalars(q))


def compute_progress(session: Session, as_of: date, cal: WorkCalendar | None = None, where: Any = None) -> Progress:
    """Progress of the ledger as of the end of ``as_of`` (only the problems matching ``where`` when given)."""
    cal = cal or default_calendar()
    problems = ledger_problems(session, as_of, where)
    states = states_as_of(session, problems, as_of)
    noticed = noticed_ids(session, as_of)
    total = Counts()
    by_task = {t.category: ProgressRow(str(t.no), t.category.label("zh"), t.category.label("en")) for t in TASKS}
    by_town: dict[str, ProgressRow] = {}
    by_dept: dict[str, ProgressRow] = {}
    overdue: list[ProblemView] = []
    due_soon: list[ProblemView] = []
    soon_until = due_soon_until(as_of, cal)
    for p in problems:
        state = states[p.id]
        if state == S.WITHDRAWN:
            continue
        n = p.id in noticed
        _count(total, p, state, n, as_of)
        _count(by_task[p.category].counts, p, state, n, as_of)
        tk = p.town.code if p.town else "-"
        town_row = by_town.setdefault(
            tk,
            ProgressRow(
                tk,
                p.town.name_zh if p.town else "（未指定镇）",
                (p.town.name_en or p.town.code) if p.town else "(no town)",
            ),
        )
        _count(town_row.counts, p, state, n, as_of)
        dk = p.lead_unit.code if p.lead_unit else "-"
        dept_row = by_dept.setdefault(
            dk,
            ProgressRow(
                dk,
                p.lead_unit.name_zh if p.lead_unit else "（未指定）",
                (p.lead_unit.name_en or p.lead_unit.code) if p.lead_unit else "(none)",
            ),
        )
        _count(dept_row.counts, p, state, n, as_of)
        if is_overdue_on(state, p.deadline, as_of) or is_due_soon_on(state, p.deadline, as_of, soon_until):
            view = ProblemView(
                p.code,
                p.category.value,
                p.title,
                p.mine.name_zh if p.mine else "",
                p.town.name_zh if p.town else "",
                p.lead_unit.name_zh if p.lead_unit else "",
                state,
                p.found_date,
                p.deadline,
            )
            if is_overdue_on(state, p.deadline, as_of):
                view.workdays_overdue = cal.workdays_between(p.deadline, as_of)
                view.days_overdue = (as_of - p.deadline).days
                overdue.append(view)
            else:
                due_soon.append(view)
    overdue.sort(key=lambda v: (-v.days_overdue, v.code))
    due_soon.sort(key=lambda v: (v.deadline, v.code))
    return Progress(
        as_of,
        total,
        list(by_task.values()),
        sorted(by_town.values(), key=lambda r: r.key),
        sorted(by_dept.values(), key=lambda r: r.key),
        overdue,
        due_soon,
        phase_on(as_of),
    )


def changes_between(session: Session, start: date, end: date, problem_ids: set[int] | None = None) -> list[dict]:
    """Transitions with a business date in ``[start, end]`` (the period's changes, from the audit trail);
    only those of ``problem_ids`` when given."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "problem", AuditEvent.action == "transition")
        .order_by(AuditEvent.id)
    ).all()
    if problem_ids is not None:
        rows = [r for r in rows if r.entity_id in problem_ids]
    out = []
    for r in rows:
        on = (r.after or {}).get("on")
        if on is None or not (start.isoformat() <= on <= end.isoformat()):
            continue
        out.append(
            {
                "on": on,
                "problem": r.entity_key,
                "from": (r.before or {}).get("state"),
                "to": (r.after or {}).get("state"),
                "transition": (r.after or {}).get("transition"),
                "actor": r.actor,
                "reason": r.reason or "",
                "notice": (r.after or {}).get("notice"),
            }
        )
    out.sort(key=lambda c: (c["on"], c["problem"] or "", c["transition"] or ""))
    return out


# ------------------------------------------------------------------------------------------ escalation


def escalate_overdue(
    session: Session, today: date, *, actor_name: str = "system:deadline-watch", cal: WorkCalendar | None = None
) -> list[Escalation]:
    """The escalations due on ``today`` (:func:`subsidence.ledger.escalation.escalate_due`) without the
    outbox; the deadline watch (:func:`subsidence.gate.watch.run_deadline_watch`) also notifies."""
    from subsidence.ledger.escalation import escalate_due

    return escalate_due(session, today, actor_name=actor_name, cal=cal)


def deadline_watch(session: Session, today: date, cal: WorkCalendar | None = None) -> dict:
    """On ``today``: overdue and due-soon problems, and submissions the office has not decided within the
    60-working-day acceptance window (``acceptance_overdue``: the office's own deadline)."""
    prog = compute_progress(session, today, cal).as_dict()
    from subsidence.ledger.milestones import overdue_milestones

    waiting = session.scalars(
        select(Problem)
        .where(Problem.state == S.SUBMITTED, Problem.acceptance_due.is_not(None), Problem.acceptance_due < today)
        .order_by(Problem.code)
    ).all()
    return {
        "today": today.isoformat(),
        "overdue": prog["overdue"],
        "due_soon": prog["due_soon"],
        "milestones_overdue": [
            {"problem": m.problem.code, "seq": m.seq, "description": m.description, "due_date": m.due_date.isoformat()}
            for m in overdue_milestones(session, today)
        ],
        "acceptance_overdue": [
            {
                "code": p.code,
                "title": p.title,
                "submitted_date": p.submitted_date.isoformat() if p.submitted_date else None,
                "acceptance_due": p.acceptance_due.isoformat(),
            }
            for p in waiting
        ],
    }


def towns(session: Session) -> list[AdminArea]:
    return list(session.scalars(select(AdminArea).order_by(AdminArea.code)))
