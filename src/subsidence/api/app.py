"""The application factory. Nothing is created at import time: ``create_app(settings, engine)`` builds it.

Run with ``uvicorn --factory subsidence.api.asgi:app`` or ``subsidence serve``.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import subsidence.schema  # noqa: F401  (every table and policy, before the first request)
from subsidence.access import accounts
from subsidence.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    ValidationFailed,
)
from subsidence.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: largest JSON/form body (bytes) and largest upload (multipart) accepted
MAX_JSON_BYTES = 1 * 1024 * 1024
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: larger JSON bodies where a route documents them: a batch of 20,000 observations is about 2 MB
PATH_LIMITS = {"/api/observations/batch": 8 * 1024 * 1024}

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

TAGS = [
    {"name": "auth", "description": "登录、会话与令牌 / sign-in, sessions, bearer tokens"},
    {"name": "problems", "description": "问题台账 / the problem ledger"},
    {"name": "mines", "description": "矿山、企业与审批闸门 / mines, enterprises, licence gate"},
    {"name": "monitoring", "description": "隐患点、监测与预警 / hazard points, sensors, alarms"},
    {"name": "census", "description": "沉陷区 / subsidence areas"},
    {"name": "map", "description": "挂图作战图层 / battle-map layers (GeoJSON, CRS84)"},
    {"name": "dashboard", "description": "进度与督办 / progress, overdue, timeline, warnings"},
    {"name": "history", "description": "审计记录 / audit trail"},
    {"name": "health", "description": "运行状态 / health of the database, disk, sweep, dispatcher and backups"},
    {"name": "public", "description": "公开信息 / published results"},
    {
        "name": "tasks",
        "description": "任务台账：基金、保水、隐蔽致灾因素、建筑物拆除、双随机、评估、公开签发 / task ledgers",
    },
    {"name": "ogc", "description": "OGC API – Features (QGIS)"},
    {"name": "admin", "description": "账户管理 / accounts"},
]


class BodySizeLimit:
    """Refuse request bodies over the limit with 413 before the handler reads them (also when chunked)."""

    def __init__(
        self,
        app: ASGIApp,
        json_limit: int = MAX_JSON_BYTES,
        upload_limit: int = MAX_UPLOAD_BYTES,
        path_limits: dict[str, int] | None = None,
    ):
        self.app, self.json_limit, self.upload_limit = app, json_limit, upload_limit
        self.path_limits = PATH_LIMITS if path_limits is None else path_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        ctype = headers.get("content-type", "")
        limit = (
            self.upload_limit
            if ctype.startswith("multipart/")
            else self.path_limits.get(scope["path"], self.json_limit)
        )
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._too_large(send, limit)
            return
        seen = 0
        responded = exceeded = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _TooLarge()
            return msg

        async def guarded_send(message: Message) -> None:
            # a body parser that catches the exception answers 400 ("error parsing the body"): past the
            # limit the answer is 413, whatever the handler made of it
            nonlocal responded
            if exceeded:
                if not responded:
                    responded = True
                    await self._too_large(send, limit)
                return
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not responded:
                await self._too_large(send, limit)

    @staticmethod
    async def _too_large(send: Send, limit: int) -> None:
        import json

        body = json.dumps(
            {
                "error": "PayloadTooLarge",
                "message": f"请求体超过上限 {limit // 1024} KiB / request body over the {limit // 1024} KiB "
                "limit; upload a smaller file",
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class AdmissionLimit:
    """At most ``limit`` requests at a time past this point (the ones that may use the database); the rest
    wait here, on the event loop.

    Each request holds one pooled connection from its first query until its session closes, across several
    hops between the event loop and the worker threads (the actor dependency, the handler, the commit). With
    more requests in flight than the pool has connections, worker threads would block waiting for a
    connection while the requests holding the connections wait for a free thread to finish: under 50
    concurrent uncached requests that stalled the server until the pool's 30 s timeout and answered 500.
    Keeping the number in flight below the pool size means a thread never waits for a connection. Cache
    hits are answered before this point (see :class:`~subsidence.api.cache.ReadCacheMiddleware`); static
    files do not count.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self._sems: dict[int, Any] = {}  # per event loop (test clients run one loop each)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        import asyncio

        loop = id(asyncio.get_running_loop())
        sem = self._sems.get(loop)
        if sem is None:
            if len(self._sems) > 8:
                self._sems.clear()
            sem = self._sems[loop] = asyncio.Semaphore(self.limit)
        async with sem:
            await self.app(scope, receive, send)


def admission_limit(engine: Engine) -> int | None:
    """Requests admitted at once for ``engine``'s connection pool (``None``: the pool does not bound it)."""
    from sqlalchemy.pool import QueuePool

    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    capacity = pool.size() + max(0, getattr(pool, "_max_overflow", 0))
    return max(1, capacity * 2 // 3)  # headroom for a request that needs a second connection


class SecurityHeaders:
    """Same-origin only: no CDN, no outside requests (MapLibre's worker is a blob: URL)."""

    CSP = (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "worker-src 'self' blob:; child-src blob:; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                hdrs = list(message.get("headers", []))
                names = {k.lower() for k, _ in hdrs}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", self.CSP.encode()),
                ]
                hdrs.extend((k, v) for k, v in extra if k not in names)
                message = {**message, "headers": hdrs}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message, **extra}, status_code=status)


#: every domain error's HTTP status, in this one place (a subclass takes its nearest listed base's status)
ERROR_STATUS: dict[type[ServiceError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    accounts.NotAuthenticated: 401,
    accounts.TooManyAttempts: 429,
    ServiceError: 400,
}


def status_of(exc: ServiceError) -> int:
    """The HTTP status of a domain error (by :data:`ERROR_STATUS`, nearest class in the MRO)."""
    return next(ERROR_STATUS[c] for c in type(exc).__mro__ if c in ERROR_STATUS)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError):
        status = status_of(exc)
        if status == 401 and _wants_html(request):
            from urllib.parse import quote

            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if _wants_html(request):
            return _html_error(request, status, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if getattr(exc, "retry_after", None):
            headers = {"Retry-After": str(exc.retry_after)}
        resp = _error(status, type(exc).__name__, exc.message)
        if headers:
            resp.headers.update(headers)
        return resp

    from subsidence.workdays import CalendarError

    @app.exception_handler(CalendarError)
    async def calendar_error(request: Request, exc: CalendarError):
        """A date outside the working-day calendar's years (or a broken calendar file): the input's fault."""
        if _wants_html(request):
            return _html_error(request, 422, str(exc))
        return _error(422, "ValidationFailed", str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            pos = next((e.get("ctx", {}).get("error") for e in errors if e.get("type") == "json_invalid"), "")
            return _error(400, "MalformedJSON", f"请求体不是合法的 JSON / request body is not valid JSON: {pos}")
        parts = []
        for e in errors[:10]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{loc}: {e.get('msg')}")
        return _error(
            422,
            "ValidationFailed",
            "; ".join(parts) or "invalid request",
            details=[
                {"loc": list(map(str, e.get("loc", ()))), "msg": e.get("msg"), "type": e.get("type")}
                for e in errors[:20]
            ],
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        messages = {404: "不存在 / not found", 405: "方法不允许 / method not allowed"}
        msg = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed")
            else messages.get(exc.status_code, str(exc.detail))
        )
        if _wants_html(request):
            return _html_error(request, exc.status_code, msg)
        return _error(exc.status_code, "HTTPError", msg)

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        msg = "服务器内部错误，已记录 / internal error (logged); nothing was changed"
        if _wants_html(request):
            return _html_error(request, 500, msg)
        return _error(500, "InternalError", msg)


#: page titles of the HTML error pages
ERROR_TITLES = {
    400: ("请求有误", "Bad request"),
    403: ("无权访问", "Not allowed"),
    404: ("页面不存在", "Not found"),
    405: ("操作不允许", "Not allowed"),
    409: ("与现有记录冲突", "Conflict"),
    422: ("填写内容有误", "Invalid input"),
    429: ("请稍后再试", "Too many requests"),
    500: ("服务器内部错误", "Server error"),
}


def _html_error(request: Request, status: int, message: str):
    """An error as a page of the site (browsers), in the page's language: the bilingual message split."""
    from subsidence.web.pages import render_error

    return render_error(request, status, ERROR_TITLES.get(status, ("出错了", "Error")), message)


def _wants_html(request: Request) -> bool:
    return (
        request.method == "GET"
        and not request.url.path.startswith(("/api", "/ogc"))
        and "text/html" in request.headers.get("accept", "")
    )


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, *, today: date | None = None, cache: bool = True
) -> FastAPI:
    """Build the web application on ``engine`` (default: the settings' database).

    ``today`` pins the business date (tests, the demo county); default: today in the settings' zone.
    ``cache``: the read caches keyed on the audit trail (see :mod:`subsidence.api.cache`).
    """
    from subsidence.db.session import make_engine, make_sessionmaker

    settings = settings or get_settings()
    engine = engine or make_engine(settings=settings)
    app = FastAPI(
        title="采煤沉陷区专项整治 / Subsidence governance API",
        version="0.1.0",
        description=(
            "挂图作战、问题台账、监测预警的接口。认证：浏览器会话（Cookie + X-CSRF-Token）或 "
            "`Authorization: Bearer <token>`（脚本、QGIS）。\n\nThe API of the battle map, the ledger and "
            "the warning system. Errors are JSON `{error, message}`; messages are Chinese first."
        ),
        openapi_tags=TAGS,
        docs_url=None,  # the stock pages load Swagger UI / ReDoc from a CDN; /docs is served locally instead
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.today = today
    from subsidence.api.cache import LRU

    app.state.actor_cache = LRU(max_entries=4096, max_bytes=4096) if cache else None
    app.state.response_cache = LRU() if cache else None

    _install_error_handlers(app)

    from subsidence.api.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)

    from subsidence.web.pages import router as pages_router
    from subsidence.web.task_pages import router as task_pages_router  # the task-ledger pages

    app.include_router(pages_router)
    app.include_router(task_pages_router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    if (limit := admission_limit(engine)) is not None:
        app.add_middleware(AdmissionLimit, limit=limit)
    if cache:
        from subsidence.api.cache import ReadCacheMiddleware

        app.add_middleware(ReadCacheMiddleware, fastapi_app=app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit)
    return app
