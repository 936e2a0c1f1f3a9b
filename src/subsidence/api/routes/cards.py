"""Cards in the web (工作明白卡 per hazard point, 避险明白卡 per household): the office or the point's town issues
them; the town or the point's monitor records the signed receipt of each copy in the field.
Thin adapter over monitoring.cards."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep, SettingsDep, Today
from subsidence.errors import NotFound
from subsidence.monitoring import card_queries as cq
from subsidence.monitoring import cards
from subsidence.monitoring.models import HazardPoint, Household

router = APIRouter(tags=["monitoring"])


class ReceiptIn(BaseModel):
    holder: Literal["household", "village", "issuer"]
    signed_by: Annotated[str, Field(min_length=1, max_length=200, description="signer by role, e.g. 户主")]
    reference: Annotated[str | None, Field(max_length=300)] = None


class IssueIn(BaseModel):
    issuing_unit: Annotated[str | None, Field(max_length=200)] = None


@router.get("/api/cards", summary="明白卡发放与签收 / cards and receipts in your scope")
def list_cards(session: SessionDep, actor: CurrentUser) -> dict:
    return cq.cards_overview(session, actor)


def _issuing_unit(session, actor, given: str | None) -> str:
    from subsidence.core.models import Unit

    unit = session.get(Unit, actor.unit_id) if actor.unit_id else None
    return (given or "").strip() or (unit.name_zh if unit is not None else "采煤沉陷区专项整治办公室")


@router.post("/api/households/{household_id}/card", status_code=201, summary="发放避险明白卡 / issue a household card")
def issue_household(
    household_id: IdPath, body: IssueIn, session: SessionDep, actor: CurrentUser, settings: SettingsDep, today: Today
) -> dict:
    authz.authorize_action(actor, "issue", "card")
    h = session.get(Household, household_id)
    hp = (
        None
        if h is None
        else session.scalar(authz.visible(actor, "hazard_point").where(HazardPoint.id == h.hazard_point_id))
    )
    if h is None or hp is None:
        raise NotFound(f"受威胁户 {household_id} 不存在或不在您的权限范围内 / household {household_id} not found")
    card = cards.issue_household_card(
        session,
        h.code,
        issuing_unit=_issuing_unit(session, actor, body.issuing_unit),
        out_dir=settings.data_dir / "cards",
        issued=today,
    )
    authz.authorize(session, actor, "issue", card, "card")
    return {"card": cq.card_row(card, actor, session)}


@router.post(
    "/api/hazard-points/{hazard_point_id}/work-card",
    status_code=201,
    summary="发放工作明白卡 / issue the hazard point's work card",
)
def issue_work(
    hazard_point_id: IdPath, body: IssueIn, session: SessionDep, actor: CurrentUser, settings: SettingsDep, today: Today
) -> dict:
    authz.authorize_action(actor, "issue", "card")
    hp = authz.get_visible(session, actor, "hazard_point", hazard_point_id)
    card = cards.issue_work_card(
        session,
        hp.code,
        issuing_unit=_issuing_unit(session, actor, body.issuing_unit),
        out_dir=settings.data_dir / "cards",
        issued=today,
    )
    authz.authorize(session, actor, "issue", card, "card")
    return {"card": cq.card_row(card, actor, session)}


@router.post("/api/cards/{card_id}/receipts", summary="记录签收 / record a copy's signed receipt")
def post_receipt(card_id: IdPath, body: ReceiptIn, session: SessionDep, actor: CurrentUser) -> dict:
    card = authz.get_visible(session, actor, "card", card_id, action="receipt")
    cards.record_receipt(session, card.code, body.holder, signed_by=body.signed_by, reference=body.reference)
    session.refresh(card)
    return {"card": cq.card_row(card, actor, session)}


@router.get("/api/cards/{card_id}/pdf", summary="明白卡 PDF / the card as printed")
def card_pdf(card_id: IdPath, session: SessionDep, actor: CurrentUser) -> FileResponse:
    from pathlib import Path

    card = authz.get_visible(session, actor, "card", card_id)
    if not card.pdf_path or not Path(card.pdf_path).is_file():
        raise NotFound(f"明白卡 {card.code} 的 PDF 文件缺失 / the card's PDF is missing; issue it again")
    return FileResponse(card.pdf_path, media_type="application/pdf", filename=f"{card.code}.pdf")
