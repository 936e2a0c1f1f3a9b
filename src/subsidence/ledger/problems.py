"""Opening problems in the ledger from other parts of the system (census, fund, water, plans ...).

Automatic findings call :func:`open_problem` with an ``origin_key`` that names what caused them, so the
same finding never opens a second problem.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine, Unit
from subsidence.ledger.models import Problem
from subsidence.vocabulary import ProblemCategory, ProblemSource, ProblemState

#: lead unit code per task (docs/domain.md §3); the demo and imports create units with these codes
TASK_LEAD_UNIT = {
    ProblemCategory.SUBSIDENCE_CRACKS: "NRB",
    ProblemCategory.FUNDS: "NRB",
    ProblemCategory.VEGETATION: None,  # the town where it lies
    ProblemCategory.BUILDINGS: None,  # the town where it lies
    ProblemCategory.GROUNDWATER: "AWB",
    ProblemCategory.GEOHAZARDS: "NRB",
    ProblemCategory.MINE_HAZARDS: "EMB",
}


def next_problem_code(session: Session, year: int) -> str:
    """Ledger numbers ``TZ-YYYY-NNNN``, sequential per year."""
    prefix = f"TZ-{year}-"
    codes = session.scalars(select(Problem.code).where(Problem.code.like(prefix + "%")))
    numbers = [int(c.removeprefix(prefix)) for c in codes if c.removeprefix(prefix).isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def lead_unit_for(session: Session, category: ProblemCategory, town_id: int | None) -> Unit | None:
    code = TASK_LEAD_UNIT[category]
    if code is not None:
        return session.scalar(select(Unit).where(Unit.code == code))
    if town_id is not None:
        return session.scalar(select(Unit).where(Unit.town_id == town_id))
    return None


def open_problem(
    session: Session,
    *,
    category: ProblemCategory,
    title: str,
    source: ProblemSource,
    found_date: date,
    origin_key: str | None = None,
    mine: Mine | None = None,
    town_id: int | None = None,
    description: str | None = None,
    requirement: str | None = None,
    deadline: date | None = None,
    geometry=None,
) -> tuple[Problem, bool]:
    """Open a problem unless one with the same ``origin_key`` exists. Returns (problem, created)."""
    if origin_key is not None:
        existing = session.scalar(select(Problem).where(Problem.origin_key == origin_key))
        if existing is not None:
            return existing, False
    town_id = town_id if town_id is not None else (mine.town_id if mine is not None else None)
    lead = lead_unit_for(session, category, town_id)
    problem = Problem(
        code=next_problem_code(session, found_date.year),
        category=category,
        title=title,
        description=description,
        requirement=requirement,
        source=source,
        found_date=found_date,
        deadline=deadline,
        state=ProblemState.FOUND,
        mine_id=mine.id if mine is not None else None,
        town_id=town_id,
        lead_unit_id=lead.id if lead is not None else None,
        origin_key=origin_key,
        geometry=geometry,
    )
    session.add(problem)
    session.flush()
    return problem, True
