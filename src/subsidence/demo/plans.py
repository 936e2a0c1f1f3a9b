"""Demo treatment plans: one plan per mine (reclaim parcels over its mined panels), annual plans for 2024–2026,
and 2024–2025 reported parcels in every state. Illustrative."""

from __future__ import annotations

from datetime import date

import numpy as np
from shapely.geometry import box
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine, Panel
from subsidence.plans.models import TreatedParcel
from subsidence.plans.service import ParcelInput, register_plan, set_annual_plan
from subsidence.vocabulary import LandType, ParcelState

LAND_TYPES = [LandType.GRASSLAND, LandType.FOREST, LandType.GRASSLAND, LandType.CROPLAND]


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    counts = {"plans": 0, "annual_plans": 0, "treated_parcels": 0}
    for i, mine in enumerate(session.scalars(select(Mine).order_by(Mine.licence_no))):
        if i % 6 == 5:
            continue  # a few mines have no plan registered: the licence gate says so
        panels = list(session.scalars(select(Panel).where(Panel.mine_id == mine.id).order_by(Panel.code)))
        parcels = []
        for k, p in enumerate(panels):
            parcels.append(
                ParcelInput(
                    f"{mine.licence_no[-4:]}-R{k + 1}",
                    LAND_TYPES[k % 4],
                    p.geometry.buffer(-20).intersection(mine.geometry),
                    purpose="reclaim",
                    planned_year=2024 + k % 3,
                )
            )
        from shapely.ops import unary_union

        damaged = unary_union([p.geometry.buffer(60) for p in panels]).intersection(mine.geometry.buffer(-1))
        parcels.append(ParcelInput(f"{mine.licence_no[-4:]}-D", LandType.GRASSLAND, damaged, purpose="damaged"))
        total_ha = sum(x.geometry.area for x in parcels if x.purpose == "reclaim") / 1e4
        register_plan(
            session,
            mine,
            doc_no=f"伊自然资复垦〔2022〕{i + 1:02d}号（示例）",
            approval_date=date(2022, 6, 1),
            valid_from=date(2022, 6, 1),
            valid_to=date(2027, 5, 31),
            cost_estimate_yuan=int(total_ha * 60_000),
            works="裂缝充填、土地平整、植被恢复（示例）",
            illustrative=True,
            parcels=parcels,
            schedule={
                str(y): {"reclaim_ha": round(total_ha / 3, 1), "cost_yuan": int(total_ha * 20_000)}
                for y in (2024, 2025, 2026)
            },
        )
        counts["plans"] += 1
        for year in (2024, 2025, 2026):
            target = round(float(rng.uniform(20, 60)), 1)
            set_annual_plan(
                session,
                mine,
                year,
                target_treat_ha=round(target * 0.4, 1),
                target_reclaim_ha=round(target * 0.6, 1),
                targets_by_land_type={"grassland": target * 0.6},
                works="裂缝充填、平整、补植（示例）",
                budget_yuan=int(target * 45_000),
                required_fund_accrual_yuan=int(target * 30_000),
                illustrative=True,
            )
            counts["annual_plans"] += 1
        # achievement: a few parcels along the first panels, states spread
        session.flush()
        from subsidence.plans.models import AnnualPlan

        for year in (2024, 2025):
            ap = session.scalar(select(AnnualPlan).where(AnnualPlan.mine_id == mine.id, AnnualPlan.year == year))
            p = panels[(year - 2024) % len(panels)]
            minx, miny, maxx, maxy = p.geometry.bounds
            for k in range(int(rng.integers(2, 5))):
                cx, cy = p.geometry.centroid.x, miny + (maxy - miny) * (k + 1) / 6
                g = box(cx - 120, cy - 150, cx + 120, cy + 150).intersection(p.geometry)
                state = (
                    [ParcelState.ACCEPTED, ParcelState.VERIFIED_RS, ParcelState.REPORTED, ParcelState.REJECTED][
                        int(rng.integers(0, 4))
                    ]
                    if year == 2024
                    else ParcelState.REPORTED
                )
                session.add(
                    TreatedParcel(
                        code=f"{mine.licence_no[-4:]}-{year}-T{k + 1}",
                        mine_id=mine.id,
                        annual_plan_id=ap.id,
                        year=year,
                        land_type=LandType.GRASSLAND,
                        works="裂缝充填+补植（示例）",
                        spending_yuan=int(g.area / 1e4 * 40_000),
                        reported_date=date(year, 11, 15),
                        area_ha=round(g.area / 1e4, 3),
                        state=state,
                        state_reason="植被未恢复（示例）" if state == ParcelState.REJECTED else None,
                        geometry=g if g.geom_type == "MultiPolygon" else __import__("shapely").MultiPolygon([g]),
                        illustrative=True,
                    )
                )
                counts["treated_parcels"] += 1
    session.flush()
    from subsidence.plans.service import open_shortfall_problems

    counts["problems"] = len(open_shortfall_problems(session, 2024, today))
    return counts
