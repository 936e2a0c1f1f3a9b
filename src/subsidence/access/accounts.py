"""Accounts: Argon2id password hashing, sign-in, server-side sessions, bearer tokens, demo accounts.

Secrets (session cookies, API tokens) are random 256-bit values shown once; only their SHA-256 digests
are stored. A session carries its own CSRF token, which browsers must echo in the ``X-CSRF-Token`` header
on unsafe requests (double submit: the token also sits in a readable cookie).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
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

# OWASP Password Storage Cheat Sheet, Argon2id minimum configuration: m=19 MiB, t=2, p=1. RFC 9106's
# 64 MiB option cost ~64 MiB and ~1.7 s of server time per failed sign-in; with the bounded slots below
# at most HASH_SLOTS * 19 MiB are ever in use for hashing. Hashes made with the old parameters keep
# verifying and are re-hashed at the next successful sign-in.
PRODUCTION_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
#: password hashes computed at once (each holds memory_cost KiB); further sign-ins wait for a slot
HASH_SLOTS = 2
#: longest wait for a hashing slot before the sign-in is answered "busy, try again" (seconds)
HASH_SLOT_WAIT_S = 10.0
_hash_slots = threading.BoundedSemaphore(HASH_SLOTS)
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
    target = stored_hash or _dummy_hash()
    if not _hash_slots.acquire(timeout=HASH_SLOT_WAIT_S):
        raise TooManyAttempts("登录繁忙，请稍后再试 / sign-in is busy; try again in a few seconds", retry_after=5)
    try:
        return _HASHER.verify(target, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    finally:
        _hash_slots.release()


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


class TooManyAttempts(ServiceError):
    """Sign-in refused for now (429); ``retry_after``: seconds until the next attempt is looked at."""

    http_status = 429

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


#: sign-in throttle (per process). Failures count per (account, client) and per client: the first
#: FREE_FAILURES are free, then each further attempt waits BACKOFF_BASE_S * 2**(n - FREE_FAILURES) seconds
#: after the previous failure (at most BACKOFF_MAX_S). An attempt inside the wait is answered 429 without
#: looking at the password. A wrong password typed elsewhere never blocks the owner's own client, and an
#: office account can clear an account's failures (:func:`unlock`). Failures older than FAILURE_WINDOW_S
#: are forgotten. Per client across accounts (password spraying): SPRAY_FREE_FAILURES free, then the same
#: backoff.
FREE_FAILURES = 3
SPRAY_FREE_FAILURES = 10
BACKOFF_BASE_S, BACKOFF_MAX_S = 1.0, 300.0
FAILURE_WINDOW_S = 900.0
#: the most (account, client) and client entries kept (oldest forgotten first), so the table stays small
MAX_TRACKED = 100_000
_failures: dict[tuple[str, str], tuple[int, float]] = {}
_lock = threading.Lock()


def _wait_s(count: int, free: int) -> float:
    return 0.0 if count < free else min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (count - free))


def _state(key: tuple[str, str], now: float) -> tuple[int, float]:
    count, last = _failures.get(key, (0, 0.0))
    if count and now - last > FAILURE_WINDOW_S:
        _failures.pop(key, None)
        return 0, 0.0
    return count, last


def _note_failure(key: tuple[str, str], now: float) -> None:
    count, _ = _state(key, now)
    _failures.pop(key, None)
    _failures[key] = (count + 1, now)
    while len(_failures) > MAX_TRACKED:
        _failures.pop(next(iter(_failures)))


def sign_in_wait(username: str, client: str = "-", *, now: float | None = None) -> float:
    """Seconds before ``client`` may try ``username`` again (0: now)."""
    now = time.monotonic() if now is None else now
    key = username.strip().lower()
    with _lock:
        n_acc, last_acc = _state((key, client), now)
        n_cli, last_cli = _state(("*", client), now)
    return max(
        0.0,
        last_acc + _wait_s(n_acc, FREE_FAILURES) - now if n_acc else 0.0,
        last_cli + _wait_s(n_cli, SPRAY_FREE_FAILURES) - now if n_cli else 0.0,
    )


def unlock(username: str) -> int:
    """Forget every client's failed sign-ins for ``username`` (the office's unlock); the number forgotten."""
    key = username.strip().lower()
    with _lock:
        gone = [k for k in _failures if k[0] == key]
        for k in gone:
            del _failures[k]
    return len(gone)


def authenticate(session: Session, username: str, password: str, *, client: str = "-") -> User:
    """The active user with these credentials, or :class:`NotAuthenticated` (one message for every cause).

    ``client``: the caller's address. Repeated failures from one client slow that client down (exponential
    backoff, see :data:`FREE_FAILURES`), for this account and, when spraying, for every account; other
    clients, and the owner's own, are unaffected. Raises :class:`TooManyAttempts` (429, ``Retry-After``).
    """
    key, now = username.strip().lower(), time.monotonic()
    wait = sign_in_wait(username, client, now=now)
    if wait > 0:
        raise TooManyAttempts(
            f"登录失败次数过多，请 {int(wait) + 1} 秒后再试 / too many failed sign-ins from "
            f"here; try again in {int(wait) + 1} s",
            retry_after=int(wait) + 1,
        )
    user = session.scalar(select(User).where(User.username == username.strip()))
    ok = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not ok or not user.active:
        with _lock:
            _note_failure((key, client), now)
            _note_failure(("*", client), now)
        raise NotAuthenticated("用户名或密码错误 / wrong username or password")
    with _lock:
        _failures.pop((key, client), None)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


@dataclass(frozen=True)
class IssuedSession:
    secret: str  #: the cookie value (shown once)
    csrf_token: str
    expires_at: datetime
    session_id: int


def start_session(
    session: Session, user: User, *, user_agent: str | None = None, ttl: timedelta = SESSION_TTL
) -> IssuedSession:
    """Sign ``user`` in: a new server-side session (old expired sessions of everyone are purged)."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    secret = secrets.token_urlsafe(32)
    ws = WebSession(
        secret_sha256=_digest(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + ttl,
        user_agent=(user_agent or "")[:300],
    )
    session.add(ws)
    session.flush()
    record_event(
        session, entity="user_account", entity_id=user.id, entity_key=user.username, action="login", actor=user.username
    )
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
        record_event(
            session,
            entity="user_account",
            entity_id=ws.user_id,
            entity_key=ws.user.username,
            action="logout",
            actor=ws.user.username,
        )
        session.delete(ws)
        session.flush()


def issue_token(session: Session, user: User, name: str, *, ttl: timedelta | None = TOKEN_TTL) -> tuple[str, ApiToken]:
    """A new bearer token for scripts/QGIS; the secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tok = ApiToken(
        secret_sha256=_digest(secret),
        prefix=secret[:10],
        name=name[:120] or "token",
        user_id=user.id,
        created_at=utcnow(),
        expires_at=utcnow() + ttl if ttl else None,
    )
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
