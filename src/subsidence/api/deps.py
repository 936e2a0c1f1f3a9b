"""Request dependencies: database session (one unit of work), the acting user, language, CSRF.

``SessionDep`` yields a session that commits after the handler returns and rolls back on any error, so a
refused request changes nothing. ``CurrentUser`` resolves a session cookie (with CSRF on unsafe methods)
or a bearer token to an :class:`~subsidence.access.policy.Actor`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from subsidence.access import accounts
from subsidence.access import policy as authz
from subsidence.errors import Forbidden
from subsidence.settings import Settings

SESSION_COOKIE = "subsidence_session"
CSRF_COOKIE = "subsidence_csrf"
CSRF_HEADER = "X-CSRF-Token"
LANG_COOKIE = "lang"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CSRFFailed(Forbidden):
    """A cookie-authenticated unsafe request without the matching CSRF token."""


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    factory = request.app.state.sessionmaker
    with factory() as session:
        if getattr(request.app.state, "today", None) is not None:  # the server's date, pinned (tests, demo)
            session.info["server_today"] = request.app.state.today
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@dataclass(frozen=True)
class _ActorEntry:
    version: int
    actor: authz.Actor
    csrf_token: str | None
    expires_at: datetime | None


def _resolve(request: Request, session: Session, token: str | None, cookie: str | None) -> _ActorEntry:
    if token is not None:
        from sqlalchemy import select

        from subsidence.access.models import ApiToken
        from subsidence.api.cache import digest

        user = accounts.resolve_token(session, token)
        tok_exp = session.scalar(select(ApiToken.expires_at).where(ApiToken.secret_sha256 == digest(token)))
        return _ActorEntry(0, authz.actor_for(session, user), None, tok_exp)
    ws = accounts.resolve_session(session, cookie or "")
    return _ActorEntry(0, authz.actor_for(session, ws.user), ws.csrf_token, ws.expires_at)


def optional_actor(request: Request, session: SessionDep) -> authz.Actor:
    """The signed-in actor, or the anonymous public actor (for pages the public may see).

    Resolved credentials are cached (by digest) until the data version moves (any audited change, e.g. a
    revoked token, a disabled account, a logout) or the session expires; see :mod:`subsidence.api.cache`.
    """
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    token = _bearer(request)
    cookie = None if token is not None else request.cookies.get(SESSION_COOKIE)
    if token is None and not cookie:
        request.state.actor = authz.ANONYMOUS
        return authz.ANONYMOUS
    from subsidence.api import cache as cache_mod
    from subsidence.db.base import utcnow

    lru = getattr(request.app.state, "actor_cache", None)
    key = ("t", cache_mod.digest(token)) if token is not None else ("c", cache_mod.digest(cookie))
    version = cache_mod._version(request, session)
    entry = lru.get(key) if lru is not None else None
    if entry is None or entry.version != version or (entry.expires_at is not None and entry.expires_at <= utcnow()):
        entry = _resolve(request, session, token, cookie)
        entry = _ActorEntry(version, entry.actor, entry.csrf_token, entry.expires_at)
        if lru is not None:
            lru.put(key, entry)
    if cookie is not None:
        if request.method in UNSAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(sent, entry.csrf_token or ""):
                raise CSRFFailed(
                    "CSRF 校验失败：请刷新页面后重试 / CSRF check failed: missing or wrong "
                    f"{CSRF_HEADER} header; reload the page and try again"
                )
        request.state.csrf_token = entry.csrf_token
    request.state.actor = entry.actor
    session.info["actor"] = entry.actor.audit_name
    return entry.actor


async def current_actor(actor: Annotated[authz.Actor, Depends(optional_actor)]) -> authz.Actor:
    """The signed-in actor; 401 when nobody is signed in. (Cheap dependencies are ``async`` so that they run
    on the event loop instead of costing a worker-thread hop each.)"""
    if actor.user_id is None:
        raise accounts.NotAuthenticated("请先登录 / sign in first (cookie session or Authorization: Bearer token)")
    return actor


OptionalUser = Annotated[authz.Actor, Depends(optional_actor)]
CurrentUser = Annotated[authz.Actor, Depends(current_actor)]


async def get_lang(request: Request) -> str:
    q = request.query_params.get("lang")
    value = q or request.cookies.get(LANG_COOKIE) or request.app.state.settings.language
    return "en" if str(value).lower().startswith("en") else "zh-CN"


Lang = Annotated[str, Depends(get_lang)]


async def get_today(request: Request) -> date:
    """Today in the configured time zone (``app.state.today`` pins it for tests and the demo)."""
    pinned = getattr(request.app.state, "today", None)
    if pinned is not None:
        return pinned
    return datetime.now(request.app.state.settings.tz).date()


Today = Annotated[date, Depends(get_today)]

#: database ids in paths and filters: positive 32-bit integers (larger values are refused with 422, never
#: passed to the database driver)
MAX_ID = 2_147_483_647
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
