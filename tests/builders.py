"""The one builder of test worlds: towns, units, enterprises, mines, panels, hazard points, users and actors.

Every part's fixtures build their small county through :class:`CountyBuilder`, so a change to the core model
(a new required column, a new default) is made here once. Worlds are tiny, deterministic and built in the test's
own database (both backends through the ``session``/``engine`` fixtures).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from subsidence.access.models import User
from subsidence.access.policy import Actor
from subsidence.core.models import AdminArea, Enterprise, Mine, Panel, TaskAssignment, Unit
from subsidence.db.audit import acting_as
from subsidence.monitoring.models import HazardPoint, Sensor
from subsidence.vocabulary import AreaLevel, Role, TaskRole, UnitKind

#: standard unit names of the banner (codes as the ledger's lead-unit table uses them)
BUREAUS = {
    "NRB": "旗自然资源局",
    "AWB": "旗农牧和水利局",
    "EMB": "旗应急管理局",
    "EEB": "生态环境分局",
    "FIN": "旗财政局",
    "ENB": "旗能源局",
    "FGB": "旗林业和草原局",
    "MSC": "矿区生态移民服务中心",
}
OFFICE_NAME = "采煤沉陷区专项整治行动领导小组办公室"


class CountyBuilder:
    """Adds records to ``session`` (flushed, so ids exist) under the audit actor ``actor``."""

    def __init__(self, session: Session, actor: str = "test:setup") -> None:
        self.session = session
        self.audit_actor = actor
        self.units: dict[str, Unit] = {}

    def _add(self, obj: Any) -> Any:
        with acting_as(self.session, self.audit_actor):
            self.session.add(obj)
            self.session.flush()
        return obj

    # ------------------------------------------------------------------ places and bodies
    def area(
        self,
        code: str,
        name_zh: str,
        level: AreaLevel = AreaLevel.TOWN,
        *,
        name_en: str | None = None,
        geometry=None,
        parent: AdminArea | None = None,
    ) -> AdminArea:
        return self._add(
            AdminArea(code=code, name_zh=name_zh, name_en=name_en, level=level, geometry=geometry, parent=parent)
        )

    def town(self, code: str, name_zh: str, **kw) -> AdminArea:
        return self.area(code, name_zh, AreaLevel.TOWN, **kw)

    def unit(
        self,
        code: str,
        name_zh: str | None = None,
        kind: UnitKind = UnitKind.BUREAU,
        *,
        name_en: str | None = None,
        town: AdminArea | None = None,
        enterprise: Enterprise | None = None,
        tasks: dict[int, TaskRole] | None = None,
    ) -> Unit:
        name = name_zh or BUREAUS.get(code) or (OFFICE_NAME if kind is UnitKind.OFFICE else code)
        u = self._add(
            Unit(
                code=code,
                name_zh=name,
                name_en=name_en,
                kind=kind,
                town_id=town.id if town is not None else None,
                enterprise_id=enterprise.id if enterprise is not None else None,
            )
        )
        for task_no, role in (tasks or {}).items():
            self._add(TaskAssignment(unit_id=u.id, task_no=task_no, role=role))
        self.units[code] = u
        return u

    def office(self, code: str = "LGO", name_zh: str | None = None) -> Unit:
        return self.unit(code, name_zh or OFFICE_NAME, UnitKind.OFFICE)

    def bureaus(self, *codes: str) -> dict[str, Unit]:
        return {c: self.unit(c) for c in codes}

    def town_government(self, code: str, town: AdminArea, name_zh: str | None = None) -> Unit:
        return self.unit(code, name_zh or f"{town.name_zh}人民政府", UnitKind.TOWN, town=town)

    def enterprise(
        self, credit_code: str, name_zh: str, *, name_en: str | None = None, unit_code: str | None = None
    ) -> Enterprise:
        ent = self._add(Enterprise(credit_code=credit_code, name_zh=name_zh, name_en=name_en))
        if unit_code:
            self.unit(unit_code, name_zh, UnitKind.ENTERPRISE, enterprise=ent)
        return ent

    def mine(
        self,
        licence_no: str,
        name_zh: str,
        *,
        enterprise: Enterprise | None = None,
        town: AdminArea | None = None,
        **columns,
    ) -> Mine:
        return self._add(
            Mine(
                licence_no=licence_no,
                name_zh=name_zh,
                enterprise_id=enterprise.id if enterprise is not None else None,
                town_id=town.id if town is not None else None,
                **columns,
            )
        )

    def panel(self, code: str, mine: Mine, **columns) -> Panel:
        return self._add(Panel(code=code, mine_id=mine.id, **columns))

    def hazard_point(
        self, code: str, name: str, hazard_type, *, town: AdminArea | None = None, mine: Mine | None = None, **columns
    ) -> HazardPoint:
        return self._add(
            HazardPoint(
                code=code,
                name=name,
                hazard_type=hazard_type,
                town_id=town.id if town is not None else None,
                mine_id=mine.id if mine is not None else None,
                **columns,
            )
        )

    def sensor(self, code: str, kind, *, hazard_point: HazardPoint | None = None, **columns) -> Sensor:
        return self._add(
            Sensor(
                code=code, kind=kind, hazard_point_id=hazard_point.id if hazard_point is not None else None, **columns
            )
        )

    # ------------------------------------------------------------------ people
    def user(
        self,
        username: str,
        role: Role,
        *,
        unit: Unit | None = None,
        enterprise: Enterprise | None = None,
        password_hash: str | None = None,
    ) -> User:
        return self._add(
            User(
                username=username,
                role=role,
                unit_id=unit.id if unit is not None else None,
                enterprise_id=enterprise.id if enterprise is not None else None,
                password_hash=password_hash,
                active=True,
            )
        )

    @staticmethod
    def actor(
        username: str,
        role: Role,
        unit: Unit | None = None,
        *,
        tasks: set[int] | None = None,
        town: AdminArea | None = None,
        enterprise: Enterprise | None = None,
    ) -> Actor:
        """An :class:`Actor` with the policy facts given (what ``actor_for`` resolves from a user)."""
        return Actor(
            username,
            role,
            unit_id=unit.id if unit is not None else None,
            task_nos=frozenset(tasks or ()),
            town_id=town.id if town is not None else None,
            enterprise_id=enterprise.id if enterprise is not None else None,
        )
