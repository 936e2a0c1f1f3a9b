"""Server-rendered pages (Jinja2). Data comes from the same service functions as the API, scoped by the
same policies; the small ES modules in ``static/js`` call the JSON API for actions and the map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from subsidence.access import policy as authz
from subsidence.api.deps import LANG_COOKIE, Lang, OptionalUser, SessionDep, Today
from subsidence.core.models import Mine
from subsidence.monitoring.models import HazardPoint
from subsidence.vocabulary import HazardType, MovementStage, ReviewState
from subsidence.web.i18n import catalogue, translate

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))

#: top navigation: (path, message key, policy resource whose read the link needs)
NAV = [
    ("/map", "nav.map", "mine"),
    ("/dashboard", "nav.dashboard", "dashboard"),
    ("/problems", "nav.problems", "problem"),
    ("/gate", "nav.gate", "mine"),
    ("/portal", "nav.portal", "enterprise_portal"),
    ("/field", "nav.field", "field"),
    ("/tasks", "nav.tasks", "building"),
    ("/cards", "nav.cards", "card"),
    ("/public", "nav.public", "published"),
]


def _nav(actor: authz.Actor) -> list[tuple[str, str]]:
    out = []
    for path, key, resource in NAV:
        if path == "/map":  # any battle-map layer: a monitor sees the hazard points it watches
            ok = actor.user_id is not None and any(
                authz.policy(r).allows_role(actor, "read") for r in ("mine", "hazard_point")
            )
        elif resource == "enterprise_portal":
            ok = (
                actor.enterprise_id is not None
                and authz.policy("mine").allows_role(actor, "read")
                and not authz.policy("dashboard").allows_role(actor, "read")
            )
        elif resource == "field":
            ok = authz.policy("hazard_point").allows_role(actor, "observe") and actor.user_id is not None
        else:
            ok = authz.policy(resource).allows_role(actor, "read") and (
                actor.user_id is not None or resource == "published"
            )
        if ok:
            out.append((path, key))
    return out


def render(request: Request, name: str, actor: authz.Actor, lang: str, **ctx: Any) -> HTMLResponse:
    csrf = getattr(request.state, "csrf_token", None) or request.cookies.get("subsidence_csrf", "")
    other = "en" if lang.startswith("zh") else "zh-CN"
    base = {
        "request": request,
        "actor": actor,
        "lang": lang,
        "t": lambda k: translate(k, lang),
        "nav": _nav(actor),
        "path": request.url.path,
        "csrf": csrf,
        "switch_lang": other,
        "messages_json": json.dumps(catalogue(lang), ensure_ascii=False),
    }
    base.update(ctx)
    resp = TEMPLATES.TemplateResponse(request, name, base)
    if request.query_params.get("lang"):
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def render_error(request: Request, status: int, titles: tuple[str, str], message: str) -> HTMLResponse:
    """An error page in the page's language (the service's "中文 / English" message split at " / ")."""
    from subsidence.api.deps import LANG_COOKIE as _LC

    value = request.query_params.get("lang") or request.cookies.get(_LC) or request.app.state.settings.language
    lang = "en" if str(value).lower().startswith("en") else "zh-CN"
    actor = getattr(request.state, "actor", None) or authz.ANONYMOUS
    zh, _, en = message.partition(" / ")
    text = (zh if lang.startswith("zh") else (en or zh)) if en else message
    resp = render(
        request,
        "error.html",
        actor,
        lang,
        status=status,
        message=text,
        title=titles[0] if lang.startswith("zh") else titles[1],
    )
    resp.status_code = status
    return resp


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@router.get("/")
def home(actor: OptionalUser) -> Response:
    if actor.user_id is None:
        return RedirectResponse("/login", status_code=303)
    first = _nav(actor)
    return RedirectResponse(first[0][0] if first else "/public", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, actor: OptionalUser, lang: Lang) -> Response:
    return render(request, "login.html", actor, lang, next=safe_next(request.query_params.get("next")))


def safe_next(nxt: str | None) -> str:
    """``nxt`` when it is a path on this site, else ``/``.

    Browsers read ``\\`` as ``/`` and drop tabs and newlines, so ``/\\evil.example`` and ``/\t/evil.example``
    leave the site like ``//evil.example``: only a plain absolute path without a scheme or host passes.
    """
    from urllib.parse import urlsplit

    if not nxt or not nxt.startswith("/") or "\\" in nxt or any(ord(c) < 0x21 or ord(c) == 0x7F for c in nxt):
        return "/"
    parts = urlsplit(nxt)
    if parts.scheme or parts.netloc or nxt.startswith("//"):
        return "/"
    return nxt


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, actor: OptionalUser, lang: Lang) -> Response:
    if actor.user_id is None:
        return _login_redirect(request)
    filters = {
        "review_state": [(m.value, m.label(lang)) for m in ReviewState],
        "stability": [(m.value, m.label(lang)) for m in MovementStage],
        "hazard_type": [(m.value, m.label(lang)) for m in HazardType],
    }
    return render(request, "map.html", actor, lang, filters=filters)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, actor: OptionalUser, lang: Lang) -> Response:
    if actor.user_id is None:
        return _login_redirect(request)
    return render(
        request,
        "dashboard.html",
        actor,
        lang,
        can_progress=authz.policy("dashboard").allows_role(actor, "read"),
        can_ledger=authz.policy("report").allows_role(actor, "export_all"),
    )


@router.get("/problems", response_class=HTMLResponse)
def problems_page(request: Request, session: SessionDep, actor: OptionalUser, lang: Lang) -> Response:
    if actor.user_id is None:
        return _login_redirect(request)
    from subsidence.ledger.queries import filter_options

    return render(request, "problems.html", actor, lang, options=filter_options(session, actor, lang))


@router.get("/problems/{problem_id}", response_class=HTMLResponse)
def problem_page(
    problem_id: int, request: Request, session: SessionDep, actor: OptionalUser, today: Today, lang: Lang
) -> Response:
    if actor.user_id is None:
        return _login_redirect(request)
    from subsidence.ledger.queries import problem_detail

    problem = authz.get_visible(session, actor, "problem", problem_id)
    return render(request, "problem.html", actor, lang, p=problem_detail(session, actor, problem, today, lang))


@router.get("/gate", response_class=HTMLResponse)
def gate_page(request: Request, session: SessionDep, actor: OptionalUser, lang: Lang) -> Response:
    if actor.user_id is None:
        return _login_redirect(request)
    from subsidence.vocabulary import APPLICATION_LABELS

    mines = [(m.licence_no, m.name_zh) for m in session.scalars(authz.visible(actor, "mine").order_by(Mine.licence_no))]
    apps = [(a.value, zh if lang.startswith("zh") else en) for a, (zh, en) in APPLICATION_LABELS.items()]
    return render(request, "gate.html", actor, lang, mines=mines, apps=apps)


@router.get("/portal", response_class=HTMLResponse)
def portal_page(request: Request, session: SessionDep, actor: OptionalUser, today: Today, lang: Lang) -> Response:
    if actor.user_id is None:
        return _login_redirect(request)
    from subsidence.ledger.queries import mine_rows, work_list
    from subsidence.tasks.queries import fund_summary

    mines = mine_rows(session, actor, lang)
    problems = work_list(session, actor, today=today, lang=lang)
    total = len(problems)
    funds = []
    for m in mines:
        mine = session.get(Mine, m["id"])
        f = fund_summary(session, mine, today)
        if f:
            funds.append({"mine": m["name"], **f})
    from subsidence.ledger.models import Problem, RectificationNotice

    notices = [
        {
            "code": n.code,
            "problem_id": n.problem_id,
            "issued_date": n.issued_date.isoformat(),
            "deadline": n.deadline.isoformat(),
            "delivered": bool(n.deliveries),
        }
        for n in session.scalars(
            select(RectificationNotice)
            .where(RectificationNotice.problem_id.in_(authz.visible(actor, "problem").with_only_columns(Problem.id)))
            .order_by(RectificationNotice.deadline)
        )
    ]
    return render(
        request, "portal.html", actor, lang, mines=mines, problems=problems, total=total, funds=funds, notices=notices
    )


@router.get("/field", response_class=HTMLResponse)
def field_page(request: Request, session: SessionDep, actor: OptionalUser, lang: Lang) -> Response:
    if actor.user_id is None:
        return _login_redirect(request)
    from subsidence.monitoring.field import SIGNS, reports_by

    points = [
        (h.id, h.code, h.name)
        for h in session.scalars(authz.visible(actor, "hazard_point", "observe").order_by(HazardPoint.code))
    ]
    signs = [(k, zh if lang.startswith("zh") else en) for k, (zh, en, _) in SIGNS.items()]
    return render(
        request,
        "field.html",
        actor,
        lang,
        points=points,
        signs=signs,
        sign_words=dict(signs),
        reports=reports_by(session, actor.audit_name, limit=30),
    )


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, actor: OptionalUser, lang: Lang) -> Response:
    """The API reference rendered here from the OpenAPI document (no Swagger UI from a CDN)."""
    spec = request.app.openapi()
    ops = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                {
                    "name": p_["name"],
                    "in": p_["in"],
                    "required": p_.get("required", False),
                    "type": _schema_type(p_.get("schema", {})),
                    "description": p_.get("description", ""),
                }
                for p_ in op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {})
            ops.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or ["other"])[0],
                    "params": params,
                    "body": ", ".join(body),
                }
            )
    tags = [(t["name"], t.get("description", "")) for t in spec.get("tags", [])]
    return render(request, "apidocs.html", actor, lang, spec=spec, ops=ops, tags=tags)


def _schema_type(schema: dict) -> str:
    if "anyOf" in schema:
        return " | ".join(_schema_type(x) for x in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array[{_schema_type(schema.get('items', {}))}]"
    return str(schema.get("type") or schema.get("$ref", "").rsplit("/", 1)[-1] or "any")


@router.get("/public", response_class=HTMLResponse)
def public_page(request: Request, session: SessionDep, actor: OptionalUser, today: Today, lang: Lang) -> Response:
    from subsidence.api.routes.public import praise_exposure, published_results

    return render(
        request, "public.html", actor, lang, results=published_results(session), lists=praise_exposure(session, today)
    )
