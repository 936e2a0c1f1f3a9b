"""Authorization: one mechanism, a policy per resource, applied in the service layer.

A :class:`Policy` maps each action to the roles that may attempt it and, per role, a *scope*: a SQL
condition on the resource's table that selects the rows the actor may act on. The same scope serves
lists (``visible(...)`` adds it to the query), single records (``get_visible`` answers 404 for a record
outside the read scope, so a tenant cannot even learn it exists) and writes (``authorize`` answers 403
when the record is readable but the action is not allowed on it).

Roles and their read scopes (docs/domain.md §2):

=============  ===========================================================================
office         everything
department     problems of the tasks its unit leads or cooperates on (or leads/cooperates on directly);
               mines, areas, hazard points county-wide (they need them to do their tasks)
town           everything inside its territory (town_id)
enterprise     only its own mines and what hangs on them: problems, notices, deadlines, evidence, fund
monitor        the hazard points assigned to the account, their sensors and observations
public         published inspection results and praise/exposure lists only
=============  ===========================================================================

Handlers never test roles: they call ``visible``/``get_visible``/``authorize`` (or services that do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import ColumnElement, Select, column, exists, false, select, table, true
from sqlalchemy.orm import Session

from subsidence.access.models import MonitorAssignment, User
from subsidence.core.models import AdminArea, AuditEvent, Enterprise, Mine, Panel, TaskAssignment, Unit
from subsidence.errors import Forbidden, NotFound
from subsidence.vocabulary import Role


@dataclass(frozen=True)
class Actor:
    """Who is acting, with the facts the policies need (resolved once per request)."""

    username: str
    role: Role
    user_id: int | None = None
    unit_id: int | None = None
    enterprise_id: int | None = None
    town_id: int | None = None
    task_nos: frozenset[int] = field(default_factory=frozenset)
    hazard_point_ids: frozenset[int] = field(default_factory=frozenset)
    display_name: str | None = None

    @property
    def audit_name(self) -> str:
        """How the audit trail names this actor: ``role:username``."""
        return f"{self.role.value}:{self.username}"


ANONYMOUS = Actor(username="anonymous", role=Role.PUBLIC)


def actor_for(session: Session, user: User) -> Actor:
    """Resolve the policy facts of ``user`` (unit's town, enterprise, task numbers, monitored points)."""
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    tasks = (
        frozenset(session.scalars(select(TaskAssignment.task_no).where(TaskAssignment.unit_id == unit.id)))
        if unit
        else frozenset()
    )
    points = frozenset(
        session.scalars(select(MonitorAssignment.hazard_point_id).where(MonitorAssignment.user_id == user.id))
    )
    return Actor(
        username=user.username,
        role=user.role,
        user_id=user.id,
        unit_id=unit.id if unit else None,
        enterprise_id=user.enterprise_id or (unit.enterprise_id if unit else None),
        town_id=unit.town_id if unit else None,
        task_nos=tasks,
        hazard_point_ids=points,
        display_name=user.display_name,
    )


Scope = Callable[[Actor], ColumnElement[bool]]


def ALL(actor: Actor) -> ColumnElement[bool]:  # noqa: N802 - reads as a constant in policy tables
    return true()


def _id_in(col, ids) -> ColumnElement[bool]:
    return col.in_(sorted(ids)) if ids else false()


def _own_mines(actor: Actor):
    return select(Mine.id).where(Mine.enterprise_id == actor.enterprise_id) if actor.enterprise_id else None


def mine_scoped(mine_col) -> Scope:
    """Rows whose mine belongs to the actor's enterprise."""

    def scope(actor: Actor) -> ColumnElement[bool]:
        sub = _own_mines(actor)
        return mine_col.in_(sub) if sub is not None else false()

    return scope


def town_scoped(town_col) -> Scope:
    def scope(actor: Actor) -> ColumnElement[bool]:
        return town_col == actor.town_id if actor.town_id is not None else false()

    return scope


def hazard_scoped(hp_col) -> Scope:
    def scope(actor: Actor) -> ColumnElement[bool]:
        return _id_in(hp_col, actor.hazard_point_ids)

    return scope


@dataclass
class Policy:
    """Per action: role → scope. A role absent from an action may not attempt it at all."""

    resource: str
    model: Any
    rules: dict[str, dict[Role, Scope]]
    label_zh: str = ""

    def scope(self, actor: Actor, action: str = "read") -> ColumnElement[bool]:
        by_role = self.rules.get(action, {})
        fn = by_role.get(actor.role)
        return fn(actor) if fn is not None else false()

    def allows_role(self, actor: Actor, action: str) -> bool:
        return actor.role in self.rules.get(action, {})


_POLICIES: dict[str, Policy] = {}


def register_policy(policy: Policy) -> Policy:
    _POLICIES[policy.resource] = policy
    return policy


def policy(resource: str) -> Policy:
    try:
        return _POLICIES[resource]
    except KeyError:
        raise NotFound(f"unknown resource {resource!r}") from None


def policies() -> dict[str, Policy]:
    return dict(_POLICIES)


def resource_of(obj: Any) -> str:
    for name, pol in _POLICIES.items():
        if type(obj) is pol.model:
            return name
    raise NotFound(f"no policy for {type(obj).__name__}")


R = Role
#: the hazard-point table by name only (monitoring owns the model; a monitor reads the towns of its points)
_HAZARD_POINT = table("hazard_point", column("id"), column("town_id"))
_county = {R.OFFICE: ALL, R.DEPARTMENT: ALL}

register_policy(
    Policy(
        "mine",
        Mine,
        label_zh="矿山（采矿权）",
        rules={
            "read": {**_county, R.TOWN: town_scoped(Mine.town_id), R.ENTERPRISE: mine_scoped(Mine.id)},
            "gate_query": {**_county, R.TOWN: town_scoped(Mine.town_id), R.ENTERPRISE: mine_scoped(Mine.id)},
            "update": {R.OFFICE: ALL},
        },
    )
)

register_policy(
    Policy(
        "enterprise",
        Enterprise,
        label_zh="矿山企业",
        rules={
            "read": {
                **_county,
                R.TOWN: lambda a: (
                    Enterprise.id.in_(select(Mine.enterprise_id).where(Mine.town_id == a.town_id))
                    if a.town_id is not None
                    else false()
                ),
                R.ENTERPRISE: lambda a: Enterprise.id == a.enterprise_id if a.enterprise_id else false(),
            },
        },
    )
)

register_policy(
    Policy(
        "panel",
        Panel,
        label_zh="工作面",
        rules={
            "read": {
                **_county,
                R.TOWN: lambda a: (
                    Panel.mine_id.in_(select(Mine.id).where(Mine.town_id == a.town_id))
                    if a.town_id is not None
                    else false()
                ),
                R.ENTERPRISE: mine_scoped(Panel.mine_id),
            },
        },
    )
)

register_policy(
    Policy(
        "town",
        AdminArea,
        label_zh="行政区",
        rules={
            "read": {
                **_county,
                R.TOWN: lambda a: AdminArea.id == a.town_id if a.town_id is not None else false(),
                R.ENTERPRISE: lambda a: (
                    AdminArea.id.in_(select(Mine.town_id).where(Mine.enterprise_id == a.enterprise_id))
                    if a.enterprise_id
                    else false()
                ),
                R.MONITOR: lambda a: AdminArea.id.in_(
                    select(_HAZARD_POINT.c.town_id).where(_HAZARD_POINT.c.id.in_(sorted(a.hazard_point_ids) or [-1]))
                ),
            },
        },
    )
)

register_policy(
    Policy(
        "user",
        User,
        label_zh="账户",
        rules={
            "read": {R.OFFICE: ALL},
            "create": {R.OFFICE: ALL},
        },
    )
)

#: the public scope: lists that are published (inspection results, praise/exposure lists)
register_policy(
    Policy(
        "published",
        AuditEvent,
        label_zh="公开信息",
        rules={
            "read": {r: ALL for r in Role},
        },
    )
)


# ------------------------------------------------------------------------------------------- API


def visible(actor: Actor, resource: str, action: str = "read") -> Select:
    """``select(model)`` limited to what ``actor`` may do ``action`` on (empty for roles without it)."""
    pol = policy(resource)
    return select(pol.model).where(pol.scope(actor, action))


def scope_clause(actor: Actor, resource: str, action: str = "read") -> ColumnElement[bool]:
    return policy(resource).scope(actor, action)


def can(session: Session, actor: Actor, action: str, obj: Any, resource: str | None = None) -> bool:
    pol = policy(resource or resource_of(obj))
    if not pol.allows_role(actor, action):
        return False
    clause = pol.scope(actor, action)
    return bool(session.scalar(select(exists().where(pol.model.id == obj.id, clause))))


def authorize(session: Session, actor: Actor, action: str, obj: Any, resource: str | None = None) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may do ``action`` on ``obj``."""
    pol = policy(resource or resource_of(obj))
    if not can(session, actor, action, obj, pol.resource):
        key = getattr(obj, "code", None) or getattr(obj, "licence_no", None) or obj.id
        raise Forbidden(
            f"无权对{pol.label_zh} {key} 执行“{action}”（角色：{actor.role.label('zh-CN')}）/ "
            f"role {actor.role.value} may not {action} {pol.resource} {key}"
        )


def authorize_action(actor: Actor, action: str, resource: str) -> None:
    """Raise :class:`Forbidden` when the actor's role may not attempt ``action`` on ``resource`` at all."""
    pol = policy(resource)
    if not pol.allows_role(actor, action):
        raise Forbidden(
            f"角色“{actor.role.label('zh-CN')}”无权执行：{pol.label_zh} {action} / "
            f"role {actor.role.value} may not {action} {resource}"
        )


def get_visible(session: Session, actor: Actor, resource: str, ident: int, action: str = "read") -> Any:
    """The record ``ident`` if the actor may read it (404 otherwise), then checked for ``action`` (403)."""
    pol = policy(resource)
    obj = session.scalar(select(pol.model).where(pol.model.id == ident, pol.scope(actor, "read")))
    if obj is None:
        raise NotFound(f"{pol.label_zh} {ident} 不存在或不在您的权限范围内 / {resource} {ident} not found")
    if action != "read":
        authorize(session, actor, action, obj, resource)
    return obj
