"""Pages of the task ledgers: ``/tasks`` — each role's part of the fund, water plans, hidden
factors, compensated buildings, double-random draws and the assessment with its publication sign-off; ``/cards``
— the phone page where cards are issued and receipts recorded in the field. Sections are chosen by the same
policies the API checks; the data and the actions go through the JSON API (``static/js/tasks.js``, ``cards.js``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from subsidence.access import policy as authz
from subsidence.api.deps import Lang, OptionalUser, Today

router = APIRouter(include_in_schema=False)

#: section -> (policy resource, action the section needs)
SECTIONS = [
    ("fund", "fund_account", "read"),
    ("water", "water_plan", "read"),
    ("hazards", "hidden_factor", "read"),
    ("buildings", "building", "read"),
    ("draws", "draw", "run"),
    ("results", "inspection_result", "read"),
    ("publication", "publication", "sign_off"),
]


def sections_for(actor: authz.Actor) -> list[str]:
    return [name for name, resource, action in SECTIONS if authz.policy(resource).allows_role(actor, action)]


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, actor: OptionalUser, lang: Lang, today: Today) -> Response:
    from subsidence.web.pages import _login_redirect, render

    if actor.user_id is None:
        return _login_redirect(request)
    secs = sections_for(actor)
    if not secs:
        from subsidence.errors import Forbidden

        raise Forbidden("您的角色没有任务台账 / your role has no task ledgers")
    return render(request, "tasks/ledgers.html", actor, lang, sections=secs, year=today.year)


@router.get("/cards", response_class=HTMLResponse)
def cards_page(request: Request, actor: OptionalUser, lang: Lang) -> Response:
    from subsidence.web.pages import _login_redirect, render

    if actor.user_id is None:
        return _login_redirect(request)
    authz.authorize_action(actor, "read", "card")
    return render(request, "tasks/cards.html", actor, lang)
