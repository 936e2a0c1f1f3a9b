"""Sign-in (cookie session with CSRF token), sign-out, who am I, bearer tokens for scripts and QGIS."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from subsidence.access import accounts
from subsidence.access import policy as authz
from subsidence.access.models import User
from subsidence.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    IdPath,
    SessionDep,
)

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=80)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenIn(LoginIn):
    name: Annotated[str, Field(min_length=1, max_length=120)] = "script"
    days: Annotated[int, Field(ge=1, le=365)] = 90


def actor_dict(actor: authz.Actor) -> dict:
    return {
        "username": actor.username,
        "role": actor.role.value,
        "role_zh": actor.role.label("zh-CN"),
        "role_en": actor.role.label("en"),
        "unit_id": actor.unit_id,
        "enterprise_id": actor.enterprise_id,
        "town_id": actor.town_id,
        "display_name": actor.display_name,
    }


def _client(request: Request) -> str:
    """The caller's address as the server sees it (behind a reverse proxy: run uvicorn with
    ``--proxy-headers --forwarded-allow-ips`` so that this is the browser's address)."""
    return request.client.host if request.client else "-"


@router.post("/login", summary="登录（浏览器会话）/ sign in with a cookie session")
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> dict:
    """Checks the password (Argon2id) and sets an HttpOnly, SameSite=Lax session cookie plus a readable
    CSRF cookie; send the CSRF token back in ``X-CSRF-Token`` on every POST/PUT/PATCH/DELETE."""
    user = accounts.authenticate(session, body.username, body.password, client=_client(request))
    issued = accounts.start_session(session, user, user_agent=request.headers.get("user-agent"))
    secure = request.url.scheme == "https"
    max_age = int(accounts.SESSION_TTL.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, issued.secret, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, issued.csrf_token, max_age=max_age, httponly=False, samesite="lax", secure=secure, path="/"
    )
    return {
        "user": actor_dict(authz.actor_for(session, user)),
        "csrf_token": issued.csrf_token,
        "expires_at": issued.expires_at.isoformat(),
    }


@router.post("/logout", summary="退出登录 / sign out")
def logout(request: Request, response: Response, session: SessionDep, actor: CurrentUser) -> dict:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_session(session, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ok": True}


@router.get("/me", summary="当前用户 / who am I")
def me(actor: CurrentUser, request: Request) -> dict:
    return {"user": actor_dict(actor), "csrf_token": getattr(request.state, "csrf_token", None)}


@router.post("/token", summary="签发访问令牌（脚本、QGIS）/ issue a bearer token")
def issue_token(body: TokenIn, request: Request, session: SessionDep) -> dict:
    """Exchange username and password for a bearer token (shown once; only its digest is stored)."""
    user = accounts.authenticate(session, body.username, body.password, client=_client(request))
    secret, tok = accounts.issue_token(session, user, body.name, ttl=timedelta(days=body.days))
    return {
        "token": secret,
        "id": tok.id,
        "name": tok.name,
        "expires_at": tok.expires_at.isoformat() if tok.expires_at else None,
    }


@router.delete("/token/{token_id}", summary="吊销令牌 / revoke one of your tokens")
def revoke_token(token_id: IdPath, session: SessionDep, actor: CurrentUser) -> dict:
    user = session.get(User, actor.user_id)
    accounts.revoke_token(session, user, token_id)
    return {"ok": True}
