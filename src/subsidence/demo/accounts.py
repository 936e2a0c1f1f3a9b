"""Demo accounts: one per role (two enterprises), passwords ``<username>-demo-2024`` (demo only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access.accounts import hash_password
from subsidence.access.models import MonitorAssignment, User
from subsidence.core.models import Enterprise, Mine, Unit
from subsidence.monitoring.models import HazardPoint
from subsidence.vocabulary import Role, UnitKind


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    return {"demo accounts": len(ensure_demo_accounts(session))}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    scope: str  #: what the account sees, in words (zh)


def _demo_password(username: str) -> str:
    return f"{username}-demo-2024"


def ensure_demo_accounts(session: Session) -> list[DemoAccount]:
    """One account per role (two enterprises, to show tenant separation) on the demo county; idempotent.

    Works on any database: accounts whose unit is missing are tied to nothing (and so see nothing
    beyond their role's public scope). Passwords are ``<username>-demo-2024``: demo use only.
    """
    units = {u.code: u for u in session.scalars(select(Unit))}
    office = next(
        (u for u in sorted(units.values(), key=lambda u: u.code) if u.kind is UnitKind.OFFICE), None
    ) or units.get("NRB")
    department = (
        units.get("EMB") or units.get("AWB") or next((u for u in units.values() if u.kind is UnitKind.BUREAU), None)
    )
    town_units = sorted((u for u in units.values() if u.kind is UnitKind.TOWN), key=lambda u: u.code)
    # the town with the most mines shows the most on the map
    town = None
    if town_units:
        counts = {t.town_id: session.query(Mine).filter(Mine.town_id == t.town_id).count() for t in town_units}
        town = max(town_units, key=lambda t: (counts.get(t.town_id, 0), t.code))
    enterprises = list(session.scalars(select(Enterprise).order_by(Enterprise.credit_code)))
    with_mines = [e for e in enterprises if e.mines]
    ents = (with_mines or enterprises)[:2]

    plan: list[tuple[str, Role, Unit | None, Enterprise | None, str]] = [
        ("office", Role.OFFICE, office, None, "全旗全部数据（领导小组办公室）"),
        (
            "department",
            Role.DEPARTMENT,
            department,
            None,
            f"{department.name_zh if department else '部门'}牵头/配合任务的问题",
        ),
        ("town", Role.TOWN, town, None, f"{town.name_zh if town else '镇'}辖区"),
    ]
    for i, ent in enumerate(ents):
        plan.append((f"enterprise-{'ab'[i]}", Role.ENTERPRISE, None, ent, f"{ent.name_zh} 自有矿山"))
    plan.append(("monitor", Role.MONITOR, town, None, "指定隐患点的监测数据"))
    plan.append(("public", Role.PUBLIC, None, None, "公开的检查结果、表扬/曝光名单"))

    out: list[DemoAccount] = []
    for username, role, unit, ent, scope in plan:
        user = session.scalar(select(User).where(User.username == username))
        password = _demo_password(username)
        if user is None:
            user = User(
                username=username,
                role=role,
                password_hash=hash_password(password),
                unit_id=unit.id if unit else None,
                active=True,
                enterprise_id=ent.id if ent else (unit.enterprise_id if unit else None),
                display_name=f"演示账户：{role.label('zh-CN')}",
            )
            if ent is not None:
                ent_unit = next((u for u in units.values() if u.enterprise_id == ent.id), None)
                user.unit_id = ent_unit.id if ent_unit else None
            session.add(user)
            session.flush()
        out.append(DemoAccount(username, password, role, scope))
        if role is Role.MONITOR and town is not None and town.town_id is not None:
            has = session.scalar(select(MonitorAssignment.id).where(MonitorAssignment.user_id == user.id))
            if has is None:
                for hp_id in session.scalars(
                    select(HazardPoint.id).where(HazardPoint.town_id == town.town_id).order_by(HazardPoint.id).limit(10)
                ):
                    session.add(MonitorAssignment(user_id=user.id, hazard_point_id=hp_id))
                session.flush()
    return out
