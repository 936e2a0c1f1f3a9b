"""Read caches keyed on the audit trail's high-water mark.

Every committed change of an audited record appends to ``audit_event`` (same transaction), so
``max(audit_event.id)`` is a data version that moves exactly when the ledger, the map layers, accounts,
tokens or alarms change, whichever process made the change. Two caches use it:

* the **actor cache**: a bearer token or session cookie (by SHA-256 digest) → its resolved
  :class:`~subsidence.access.policy.Actor`, valid while the version is unchanged, the session unexpired
  and at most :data:`MAX_AGE_S` seconds;
* the **response cache**: the JSON body of a read-only list/dashboard request, keyed by version, actor,
  path and query, language and the business date.

A hit costs one indexed ``max(id)`` query. :data:`MAX_AGE_S` bounds staleness for the few writes that are
not audited (none of the cached views read such tables). Size-bounded LRU per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import AuditEvent

MAX_AGE_S = 30.0

#: audit entities that are logs of reads, not changes of what a cached view shows: a licence-gate lookup
#: (a GET) records its query and answer, and must not empty every caller's cache
READ_LOG_ENTITIES = ("gate_query",)


def data_version(session: Session) -> int:
    """The audit trail's high-water mark, read logs left out (0 for an empty database).

    ``ORDER BY id DESC LIMIT 1`` walks the primary key from the newest row and stops at the first change,
    on SQLite and PostgreSQL alike."""
    return int(
        session.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.entity.not_in(READ_LOG_ENTITIES))
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        or 0
    )


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LRU:
    """A thread-safe LRU bounded by entry count and total bytes."""

    def __init__(self, max_entries: int = 2048, max_bytes: int = 64 * 2**20) -> None:
        self._data: OrderedDict[Any, tuple[float, int, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries, self.max_bytes, self.bytes = max_entries, max_bytes, 0
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] < now:
                if item is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[2]

    def put(self, key: Any, value: Any, size: int = 1, ttl: float = MAX_AGE_S) -> None:
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._data:
                self._drop(key)
            self._data[key] = (time.monotonic() + ttl, size, value)
            self.bytes += size
            while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
                self._drop(next(iter(self._data)))

    def _drop(self, key: Any) -> None:
        _, size, _ = self._data.pop(key)
        self.bytes -= size

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.bytes = 0


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...]


def _version(request: Request, session: Session) -> int:
    v = getattr(request.state, "data_version", None)
    if v is None:
        v = data_version(session)
        request.state.data_version = v
    return v


def response_key(request: Request, session: Session, actor: Any, lang: str, today: Any) -> tuple:
    return (
        _version(request, session),
        actor.user_id,
        actor.role.value,
        request.url.path,
        str(request.url.query),
        lang,
        str(today),
    )


class ReadCacheMiddleware:
    """Serve cached GET responses on the event loop, before routing and the worker-thread pool.

    Only when the credentials already resolve through the actor cache at the current data version (so
    authentication and authorization were done by the full path for this actor and version); everything
    else, including every miss, goes through the application unchanged.
    """

    def __init__(self, app, fastapi_app) -> None:
        self.app, self.fastapi_app = app, fastapi_app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        state = self.fastapi_app.state
        rc, ac = getattr(state, "response_cache", None), getattr(state, "actor_cache", None)
        if rc is None or ac is None:
            await self.app(scope, receive, send)
            return
        hit = self._lookup(scope, state, rc, ac)
        if hit is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", hit.media_type.encode()),
            (b"content-length", str(len(hit.body)).encode()),
            (b"x-cache", b"hit"),
        ] + [(k.encode(), v.encode()) for k, v in hit.headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": hit.body})

    _raw = None  # a DBAPI connection owned by the event-loop thread
    _version_sql = (
        f"SELECT id FROM {AuditEvent.__tablename__} WHERE entity NOT IN "
        f"({', '.join(repr(e) for e in READ_LOG_ENTITIES)}) ORDER BY id DESC LIMIT 1"
    )

    def _version(self, state) -> int | None:
        """The data version through one connection owned by the event-loop thread (never the shared pool,
        whose connections the worker threads hold: waiting for one here would stall the loop).

        A plain DBAPI cursor, no SQLAlchemy statement machinery: this runs on every cached GET, and the
        indexed ``max(id)`` costs some 10 µs on SQLite, less than building a Core statement would. No read
        transaction stays open (PostgreSQL: autocommit; SQLite's driver opens none for a SELECT), so every
        call sees the commits made before it, in this process or any other."""
        try:
            if self._raw is None:
                from sqlalchemy.pool import NullPool

                from subsidence.db.session import make_engine

                url = state.engine.url.render_as_string(hide_password=False)
                raw = make_engine(url, poolclass=NullPool).raw_connection()
                if state.engine.dialect.name != "sqlite":
                    raw.driver_connection.autocommit = True
                self._raw = raw
            dbapi = self._raw.driver_connection
            cur = dbapi.cursor()
            try:
                cur.execute(self._version_sql)
                row = cur.fetchone()
            finally:
                cur.close()
            if getattr(dbapi, "in_transaction", False):
                dbapi.rollback()
            return int(row[0] or 0) if row else 0
        except Exception:  # noqa: BLE001 - no version, no cache: the request takes the normal path
            raw, self._raw = self._raw, None
            if raw is not None:
                with contextlib.suppress(Exception):  # a broken connection: dropped either way
                    raw.invalidate()
            return None

    def _lookup(self, scope, state, rc: LRU, ac: LRU) -> CachedResponse | None:
        from datetime import datetime
        from http.cookies import SimpleCookie
        from urllib.parse import parse_qs

        from subsidence.db.base import utcnow

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header takes the normal path
            return None
        if scheme.lower() == "bearer" and token.strip():
            key = ("t", digest(token.strip()))
        elif "subsidence_session" in cookies:
            key = ("c", digest(cookies["subsidence_session"].value))
        else:
            return None
        entry = ac.get(key)
        if entry is None or (entry.expires_at is not None and entry.expires_at <= utcnow()):
            return None
        version = self._version(state)
        if version is None or entry.version != version:
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        q = parse_qs(query).get("lang", [None])[0]
        lang_val = q or (cookies["lang"].value if "lang" in cookies else None) or state.settings.language
        lang = "en" if str(lang_val).lower().startswith("en") else "zh-CN"
        today = state.today or datetime.now(state.settings.tz).date()
        actor = entry.actor
        return rc.get((version, actor.user_id, actor.role.value, scope["path"], query, lang, str(today)))


def cached_response(request: Request, session: Session, actor: Any, lang: str, today: Any) -> Response | None:
    """The cached response for this request, if any (callers return it as is)."""
    cache: LRU | None = getattr(request.app.state, "response_cache", None)
    if cache is None:
        return None
    hit = cache.get(response_key(request, session, actor, lang, today))
    if hit is None:
        return None
    resp = Response(hit.body, media_type=hit.media_type, headers=dict(hit.headers))
    resp.headers["X-Cache"] = "hit"
    return resp


def store_response(
    request: Request, session: Session, actor: Any, lang: str, today: Any, response: Response
) -> Response:
    """Remember a successful response's body (only small bodies; exports are not cached)."""
    cache: LRU | None = getattr(request.app.state, "response_cache", None)
    if cache is None or response.status_code != 200 or not hasattr(response, "body"):
        return response
    hdrs = tuple((k, v) for k, v in response.headers.items() if k.lower() == "content-disposition")
    cache.put(
        response_key(request, session, actor, lang, today),
        CachedResponse(bytes(response.body), response.media_type or "application/json", hdrs),
        size=len(response.body),
    )
    response.headers["X-Cache"] = "miss"
    return response
