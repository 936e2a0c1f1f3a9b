"""The problems layer of the battle map: one point per ledger problem in the caller's scope (CRS84 GeoJSON).

A problem has no outline of its own; it is drawn at the centroid of its subsidence area, else of its mine's
mining-right area, else of its town. Problems at the same place are spread on a small ring
(:data:`RING_M` metres) so that each stays clickable. Properties carry the state (word and code) and whether
it is overdue (the ledger's one definition, :func:`subsidence.ledger.queries.is_overdue_on`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import date
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access import policy as authz
from subsidence.census.models import SubsidenceArea
from subsidence.core.models import AdminArea, Mine
from subsidence.ledger.models import Problem
from subsidence.ledger.queries import is_overdue_on
from subsidence.mapping.layers import to_lonlat_geoms
from subsidence.vocabulary import ProblemState

#: radius (m, storage CRS) of the ring on which problems sharing a place are spread
RING_M = 300.0


def problem_features(session: Session, actor: authz.Actor, *, today: date, lang: str = "zh-CN") -> dict[str, Any]:
    """The FeatureCollection of the actor's problems (withdrawn ones left out)."""
    p = Problem.__table__
    rows = session.execute(
        select(
            p.c.id,
            p.c.code,
            p.c.title,
            p.c.state,
            p.c.deadline,
            p.c.category,
            p.c.mine_id,
            p.c.town_id,
            p.c.subsidence_area_id,
            Mine.name_zh,
        )
        .select_from(p.outerjoin(Mine, Mine.id == p.c.mine_id))
        .where(authz.scope_clause(actor, "problem"), p.c.state != ProblemState.WITHDRAWN)
        .order_by(p.c.id)
    ).all()
    if not rows:
        return {"type": "FeatureCollection", "features": []}

    def centroids(model, ids):
        ids = sorted({i for i in ids if i is not None})
        if not ids:
            return {}
        return {
            i: shapely.centroid(g)
            for i, g in session.execute(select(model.id, model.geometry).where(model.id.in_(ids)))
            if g is not None
        }

    areas = centroids(SubsidenceArea, [r.subsidence_area_id for r in rows])
    mines = centroids(Mine, [r.mine_id for r in rows])
    towns = centroids(AdminArea, [r.town_id for r in rows])
    placed: list[tuple[Any, Any]] = []
    for r in rows:
        pt = areas.get(r.subsidence_area_id) or mines.get(r.mine_id) or towns.get(r.town_id)
        if pt is not None:
            placed.append((r, pt))
    groups: dict[tuple[float, float], list[int]] = defaultdict(list)
    for i, (_, pt) in enumerate(placed):
        groups[(round(pt.x, 1), round(pt.y, 1))].append(i)
    points = [pt for _, pt in placed]
    for members in groups.values():
        if len(members) > 1:
            for k, i in enumerate(members):
                a = 2 * math.pi * k / len(members)
                pt = points[i]
                points[i] = shapely.Point(pt.x + RING_M * math.cos(a), pt.y + RING_M * math.sin(a))
    lonlat = to_lonlat_geoms(points)
    features = []
    for (r, _), g in zip(placed, lonlat):
        st = ProblemState(r.state)
        features.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": json.loads(shapely.to_geojson(g)),
                "properties": {
                    "id": r.id,
                    "code": r.code,
                    "name": r.title,
                    "state": st.value,
                    "state_label": st.label(lang),
                    "overdue": is_overdue_on(st, r.deadline, today),
                    "deadline": r.deadline.isoformat() if r.deadline else None,
                    "category": str(r.category.value if hasattr(r.category, "value") else r.category),
                    "mine_name": r.name_zh,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "numberReturned": len(features),
    }
