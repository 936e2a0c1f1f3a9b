"""County summary: the numbers the office looks at first (used by ``subsidence demo`` and the dashboard)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.core.models import AdminArea, Mine, Panel
from subsidence.geo import area_ha
from subsidence.ledger.models import Problem
from subsidence.ledger.queries import deadline_counts
from subsidence.vocabulary import AreaLevel


def county_summary(session: Session, today: date) -> dict:
    """Counts of mines, panels, problems by category and state, overdue / due-soon / acceptance-overdue counts
    (:func:`subsidence.ledger.queries.deadline_counts`), mining-right area per town (ha)."""
    by_cat = Counter()
    by_state = Counter()
    for cat, state, n in session.execute(
        select(Problem.category, Problem.state, func.count()).group_by(Problem.category, Problem.state)
    ):
        by_cat[cat.value] += n
        by_state[state.value] += n
    deadlines = deadline_counts(session, today)  # the ledger's one overdue / due-soon definition
    towns = session.scalars(select(AdminArea).where(AdminArea.level == AreaLevel.TOWN).order_by(AdminArea.code)).all()
    rights = [m.geometry for m in session.scalars(select(Mine)) if m.geometry is not None]
    per_town = {}
    for t in towns:
        if t.geometry is None:
            continue
        per_town[t.code] = {
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "mining_right_ha": round(sum(area_ha(t.geometry.intersection(r)) for r in rights), 1),
            "town_area_ha": round(area_ha(t.geometry), 1),
        }
    return {
        "as_of": today.isoformat(),
        "mines": session.scalar(select(func.count()).select_from(Mine)),
        "panels": session.scalar(select(func.count()).select_from(Panel)),
        "problems": sum(by_cat.values()),
        "problems_by_category": dict(sorted(by_cat.items())),
        "problems_by_state": dict(sorted(by_state.items())),
        "overdue": deadlines["overdue"],
        "due_soon": deadlines["due_soon"],
        "acceptance_overdue": deadlines["acceptance_overdue"],
        "mining_right_area_by_town": per_town,
    }
