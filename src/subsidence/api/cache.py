"""Read caches keyed on the audit trail's high-water mark.

Every committed change of an audited record appends to ``audit_event`` (same transaction), so
``max(audit_event.id)`` is a data version that moves exactly when the ledger, the map layers, accounts,
tokens or alarms change, whichever process made the change. Two caches use it:

* the **actor cache**: a bearer token or session cookie (by SHA-256 digest) → its resolved
  :class:`~subsidence.services.authz.Actor`, valid while the version is unchanged, the session unexpired
  and at most :data:`MAX_AGE_S` seconds;
* the **response cache**: the JSON body of a read-only list/dashboard request, keyed by version, actor,
  path and query, language and the business date.

A hit costs one indexed ``max(id)`` query. :data:`MAX_AGE_S` bounds staleness for the few writes that are
not audited (none of the cached views read such tables). Size-bounded LRU per process.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.models import AuditEvent

MAX_AGE_S = 30.0


def data_version(session: Session) -> int:
    """The audit trail's high-water mark (0 for an empty database)."""
    return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


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
    return (_version(request, session), actor.user_id, actor.role.value, request.url.path,
            str(request.url.query), lang, str(today))


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


def store_response(request: Request, session: Session, actor: Any, lang: str, today: Any,
                   response: Response) -> Response:
    """Remember a successful response's body (only small bodies; exports are not cached)."""
    cache: LRU | None = getattr(request.app.state, "response_cache", None)
    if cache is None or response.status_code != 200 or not hasattr(response, "body"):
        return response
    hdrs = tuple((k, v) for k, v in response.headers.items() if k.lower() == "content-disposition")
    cache.put(response_key(request, session, actor, lang, today),
              CachedResponse(bytes(response.body), response.media_type or "application/json", hdrs),
              size=len(response.body))
    response.headers["X-Cache"] = "miss"
    return response
