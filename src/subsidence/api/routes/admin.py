"""Accounts administration (the office only) and a record's audit trail for anyone who may read it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from subsidence.access import accounts
from subsidence.access import policy as authz
from subsidence.access.models import MonitorAssignment, User
from subsidence.api.deps import CurrentUser, IdPath, SessionDep
from subsidence.core.history import audit_trail
from subsidence.vocabulary import Role

router = APIRouter(tags=["admin"])


class UserIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=80)]
    password: Annotated[str, Field(min_length=accounts.MIN_PASSWORD_LENGTH, max_length=200)]
    role: Literal["office", "department", "town", "enterprise", "monitor", "public"]
    unit_code: Annotated[str | None, Field(max_length=40)] = None
    enterprise_credit_code: Annotated[str | None, Field(max_length=40)] = None
    display_name: Annotated[str | None, Field(max_length=200)] = None
    hazard_point_ids: Annotated[list[Annotated[int, Field(ge=1, le=2_147_483_647)]], Field(max_length=500)] = []


def _user_dict(u: User) -> dict:
    return {
        "id": u.id,
        "username": u.username,
        "role": u.role.value,
        "role_zh": u.role.label("zh-CN"),
        "unit_id": u.unit_id,
        "enterprise_id": u.enterprise_id,
        "active": u.active,
        "display_name": u.display_name,
    }


@router.get("/api/users", summary="账户列表（办公室）/ accounts (office only)")
def list_users(session: SessionDep, actor: CurrentUser) -> dict:
    authz.authorize_action(actor, "read", "user")
    return {"items": [_user_dict(u) for u in session.scalars(authz.visible(actor, "user").order_by(User.username))]}


@router.post("/api/users", status_code=201, summary="新建账户（办公室）/ create an account (office only)")
def create_user(body: UserIn, session: SessionDep, actor: CurrentUser) -> dict:
    authz.authorize_action(actor, "create", "user")
    user = accounts.create_user(
        session,
        username=body.username,
        password=body.password,
        role=Role(body.role),
        unit_code=body.unit_code,
        enterprise_credit_code=body.enterprise_credit_code,
        display_name=body.display_name,
    )
    for hp_id in body.hazard_point_ids:
        authz.get_visible(session, actor, "hazard_point", hp_id)
        session.add(MonitorAssignment(user_id=user.id, hazard_point_id=hp_id))
    session.flush()
    return _user_dict(user)


@router.post("/api/users/{user_id}/unlock", summary="解除登录限制（办公室）/ clear an account's failed sign-ins")
def unlock_user(user_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    """Forget the failed sign-ins of the account from every client (the office's unlock)."""
    authz.authorize_action(actor, "create", "user")
    user = authz.get_visible(session, actor, "user", user_id)
    return {"ok": True, "username": user.username, "cleared": accounts.unlock(user.username)}


#: audit entity (table) name per policy resource
ENTITY = {
    "problem": "problem",
    "mine": "mine",
    "subsidence_area": "subsidence_area",
    "hazard_point": "hazard_point",
    "panel": "panel",
    "well": "groundwater_well",
    "building": "compensated_building",
    "town": "admin_area",
    "enterprise": "enterprise",
    "sensor": "sensor",
    "treated_parcel": "treated_parcel",
    "plan_parcel": "plan_parcel",
}


@router.get("/api/history/{resource}/{record_id}", summary="任一记录的审计记录 / audit trail of a record")
def record_history(resource: str, record_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    """Who changed what and when, for any record the caller may read (404 otherwise)."""
    if resource not in ENTITY:
        from subsidence.errors import NotFound

        raise NotFound(f"no history for {resource!r}; one of {sorted(ENTITY)}")
    obj = authz.get_visible(session, actor, resource, record_id)
    return {"resource": resource, "id": obj.id, "items": audit_trail(session, ENTITY[resource], obj.id)}
