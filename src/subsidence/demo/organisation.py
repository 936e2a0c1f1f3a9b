"""Demo organisation: the plan's leading group and office as positions (through the services), one handover.

Holders are written by role (never personal names). The office head is linked to the demo ``office`` account, so
its acceptance power (整治验收) is exercised through the position; a member's handover shows in the history.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access.models import User
from subsidence.organisation import service as org
from subsidence.organisation.models import PositionHolder

ACTOR = "领导小组办公室（示例）"
#: a member's handover the demo shows (the successor takes the post, and every duty with it)
HANDOVER_ON = date(2025, 5, 6)


def populate(session: Session, rng, today: date) -> dict[str, int]:
    on = org.PLAN_DATE
    if today < on:
        return {}
    positions = org.seed_plan_composition(session, actor=ACTOR, on=on, holders=False)
    office = session.scalar(select(User).where(User.username == "office"))
    for seed in org.PLAN_COMPOSITION:
        holder = f"{seed.ex_officio}（示例）"
        uid = office.id if (seed.code == "LGO-HEAD" and office is not None) else None
        pos = org.get_position(session, seed.code)
        if session.scalar(select(PositionHolder.id).where(PositionHolder.position_id == pos.id).limit(1)) is None:
            org.appoint(
                session,
                seed.code,
                holder,
                start=on,
                actor=ACTOR,
                reason=f"{org.PLAN_BASIS} 成立领导小组（示例）",
                user_id=uid,
                document=org.PLAN_BASIS,
                today=today,
            )
    n = 0
    if today >= HANDOVER_ON:
        cur = org.current_tenure(session, org.get_position(session, "LG-M-ENB"))
        if cur is not None and cur.start_date < HANDOVER_ON:
            org.handover(
                session,
                "LG-M-ENB",
                "旗能源局局长（接任，示例）",
                on=HANDOVER_ON,
                actor=ACTOR,
                reason="职务调整（示例）",
                document="示例任免文件",
                today=today,
            )
            n = 1
    return {"positions": len(positions), "position_handovers": n}
