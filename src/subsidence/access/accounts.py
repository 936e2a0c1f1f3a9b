"""Accounts: Argon2id password hashing, sign-in, server-side sessions, bearer tokens, demo accounts.

Secrets (session cookies, API tokens) are random 256-bit values shown once; only their SHA-256 digests
are stored. A session carries its own CSRF token, which browsers must echo in the ``X-CSRF-Token`` header
on unsafe requests (double submit: the token also sits in a readable cookie).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from subsidence.access.models import ApiToken, User, WebSession
from subsidence.core.models import Enterprise, Unit
from subsidence.db.audit import record_event
from subsidence.db.base import utcnow
from subsidence.errors import Conflict, ServiceError, ValidationFailed
from subsidence.vocabulary import Role

log = logging.getLogger(__name__)

#: browser session lifetime (sliding: renewed on use while more than half has passed)
SESSION_TTL = timedelta(hours=8)
#: default lifetime of a bearer token
TOKEN_TTL = timedelta(days=90)
TOKEN_PREFIX = "sbt_"
MIN_PASSWORD_LENGTH = 10

# RFC 9106 second recommended option (memory-constrained): Argon2id, t=3, m=64 MiB, p=4.
PRODUCTION_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
_HASHER = PRODUCTION_HASHER
_DUMMY: dict[str, str] = {}


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the Argon2id parameters (tests use cheaper ones; existing hashes keep verifying)."""
    global _HASHER
    _HASHER = hasher
    _DUMMY.clear()


def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that timing does not reveal valid user names."""
    if "h" not in _DUMMY:
        _DUMMY["h"] = _HASHER.hash("timing-equaliser-not-a-password")
    return _DUMMY["h"]


class NotAuthenticated(ServiceError):
    """No valid sign-in (missing, wrong, expired or revoked credentials)."""

    http_status = 401


def hash_password(password: str) -> str:
    """Argon2id hash (PHC string with its own salt and parameters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password too short: {len(password)} characters; use at least {MIN_PASSWORD_LENGTH} "
            f"(密码至少 {MIN_PASSWORD_LENGTH} 位)"
        )
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash`` (constant work also for a missing hash)."""
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    unit_code: str | None = None,
    enterprise_credit_code: str | None = None,
    display_name: str | None = None,
) -> User:
    """Create an account; the unit (or enterprise) ties it to its scope. Raises Conflict on a taken name."""
    role = Role.parse(role) if not isinstance(role, Role) else role
    username = username.strip()
    if not username or len(username) > 80:
        raise ValidationFailed("username: give 1–80 characters (用户名 1–80 个字符)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken (用户名已存在)")
    unit = None
    if unit_code:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise ValidationFailed(f"unit {unit_code!r} does not exist; list units with `subsidence db status`")
    enterprise_id = unit.enterprise_id if unit is not None else None
    if enterprise_credit_code:
        ent = session.scalar(select(Enterprise).where(Enterprise.credit_code == enterprise_credit_code))
        if ent is None:
            raise ValidationFailed(f"enterprise {enterprise_credit_code!r} does not exist")
        enterprise_id = ent.id
    if role is Role.ENTERPRISE and enterprise_id is None:
        raise ValidationFailed("an enterprise account needs its enterprise (unit of kind enterprise or credit code)")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit.id if unit is not None else None,
        enterprise_id=enterprise_id,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()


class TooManyAttempts(ServiceError):
    http_status = 429


#: sign-in throttle: at most this many failures per user name within the window (per process)
MAX_FAILURES, FAILURE_WINDOW_S = 5, 900.0
_failures: dict[str, list[float]] = {}


def _recent_failures(username: str, now: float) -> list[float]:
    times = [t for t in _failures.get(username, []) if now - t < FAILURE_WINDOW_S]
    _failures[username] = times
    return times


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials, or :class:`NotAuthenticated` (one message for every cause).

    After :data:`MAX_FAILURES` failed attempts for a user name within 15 minutes, further attempts are
    refused with :class:`TooManyAttempts` (429) until the window passes, so passwords cannot be guessed online.
    """
    import time

    key, now = username.strip().lower(), time.monotonic()
    if len(_recent_failures(key, now)) >= MAX_FAILURES:
        raise TooManyAttempts("登录失败次数过多，请 15 分钟后再试 / too many failed sign-ins for this user; "
                              "try again in 15 minutes")
    user = session.scalar(select(User).where(User.username == username.strip()))
    ok = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not ok or not user.active:
        _failures.setdefault(key, []).append(now)
        raise NotAuthenticated("用户名或密码错误 / wrong username or password")
    _failures.pop(key, None)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


@dataclass(frozen=True)
class IssuedSession:
    secret: str  #: the cookie value (shown once)
    csrf_token: str
    expires_at: datetime
    session_id: int


def start_session(session: Session, user: User, *, user_agent: str | None = None,
                  ttl: timedelta = SESSION_TTL) -> IssuedSession:
    """Sign ``user`` in: a new server-side session (old expired sessions of everyone are purged)."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    secret = secrets.token_urlsafe(32)
    ws = WebSession(secret_sha256=_digest(secret), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                    created_at=now, last_seen_at=now, expires_at=now + ttl, user_agent=(user_agent or "")[:300])
    session.add(ws)
    session.flush()
    record_event(session, entity="user_account", entity_id=user.id, entity_key=user.username, action="login",
                 actor=user.username)
    return IssuedSession(secret, ws.csrf_token, ws.expires_at, ws.id)


def resolve_session(session: Session, secret: str, *, ttl: timedelta = SESSION_TTL) -> WebSession:
    """The live session for a cookie value; renews it when half its lifetime has passed."""
    ws = session.scalar(select(WebSession).where(WebSession.secret_sha256 == _digest(secret)))
    now = utcnow()
    if ws is None:
        raise NotAuthenticated("未登录或会话无效，请重新登录 / not signed in or session unknown; sign in again")
    if ws.expires_at <= now:
        raise NotAuthenticated("会话已过期，请重新登录 / session expired; sign in again")
    if not ws.user.active:
        raise NotAuthenticated("账户已停用 / account disabled")
    if ws.expires_at - now < ttl / 2:
        ws.expires_at = now + ttl
        ws.last_seen_at = now
    return ws


def end_session(session: Session, secret: str) -> None:
    ws = session.scalar(select(WebSession).where(WebSession.secret_sha256 == _digest(secret)))
    if ws is not None:
        record_event(session, entity="user_account", entity_id=ws.user_id, entity_key=ws.user.username,
                     action="logout", actor=ws.user.username)
        session.delete(ws)
        session.flush()


def issue_token(session: Session, user: User, name: str, *, ttl: timedelta | None = TOKEN_TTL) -> tuple[str, ApiToken]:
    """A new bearer token for scripts/QGIS; the secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tok = ApiToken(secret_sha256=_digest(secret), prefix=secret[:10], name=name[:120] or "token",
                   user_id=user.id, created_at=utcnow(), expires_at=utcnow() + ttl if ttl else None)
    session.add(tok)
    session.flush()
    return secret, tok


def resolve_token(session: Session, secret: str) -> User:
    tok = session.scalar(select(ApiToken).where(ApiToken.secret_sha256 == _digest(secret)))
    if tok is None or tok.revoked:
        raise NotAuthenticated("令牌无效或已吊销 / token unknown or revoked")
    if tok.expires_at is not None and tok.expires_at <= utcnow():
        raise NotAuthenticated("令牌已过期 / token expired; issue a new one")
    if not tok.user.active:
        raise NotAuthenticated("账户已停用 / account disabled")
    return tok.user


def revoke_token(session: Session, user: User, token_id: int) -> None:
    tok = session.get(ApiToken, token_id)
    if tok is None or tok.user_id != user.id:
        from subsidence.errors import NotFound

        raise NotFound(f"token {token_id} not found among your tokens")
    tok.revoked = True
    session.flush()


# --------------------------------------------------------------------------------------------- demo
