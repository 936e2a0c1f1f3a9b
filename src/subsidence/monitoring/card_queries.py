"""The reading side of the cards (明白卡) for the web: cards in the actor's scope with their copies, and the
households of the actor's hazard points that still lack a signed card (no writes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.monitoring.cards import HOLDER_LABELS, households_missing_cards
from subsidence.monitoring.models import Card, HazardPoint, Household

KIND_LABELS = {"work": "工作明白卡", "household": "避险明白卡"}


def card_row(card: Card, actor: Any = None, session: Session | None = None) -> dict[str, Any]:
    from subsidence.access import policy as authz

    can_receipt = bool(actor is not None and session is not None and authz.can(session, actor, "receipt", card, "card"))
    return {
        "id": card.id,
        "code": card.code,
        "kind": card.kind,
        "kind_zh": KIND_LABELS.get(card.kind, card.kind),
        "version": card.version,
        "issued": card.issued_date.isoformat(),
        "issuing_unit": card.issuing_unit,
        "superseded": card.superseded,
        "pdf": f"/api/cards/{card.id}/pdf" if card.pdf_path else None,
        "can_receipt": can_receipt and not card.superseded,
        "copies": [
            {
                "holder": c.holder,
                "holder_zh": HOLDER_LABELS[c.holder],
                "signed_by": c.receipt_signed_by,
                "signed_at": c.receipt_signed_at.isoformat() if c.receipt_signed_at else None,
            }
            for c in card.copies
        ],
    }


def cards_overview(session: Session, actor: Any) -> dict[str, Any]:
    """Per hazard point in scope: its households, each with its current card and which copies are signed."""
    from subsidence.access import policy as authz

    points = session.scalars(authz.visible(actor, "hazard_point").order_by(HazardPoint.code)).all()
    can_issue = authz.policy("card").allows_role(actor, "issue")
    visible_cards = {c.id for c in session.scalars(authz.visible(actor, "card"))}
    out = []
    for hp in points:
        cards = [
            c
            for c in session.scalars(
                select(Card).where(Card.hazard_point_id == hp.id, Card.superseded.is_(False)).order_by(Card.code)
            )
            if c.id in visible_cards
        ]
        by_household = {c.household_id: c for c in cards if c.kind == "household"}
        households = session.scalars(
            select(Household).where(Household.hazard_point_id == hp.id).order_by(Household.code)
        ).all()
        missing = {r["household"]: r["status"] for r in households_missing_cards(session, hp.code)}
        out.append(
            {
                "id": hp.id,
                "code": hp.code,
                "name": hp.name,
                "work_card": next((card_row(c, actor, session) for c in cards if c.kind == "work"), None),
                "households": [
                    {
                        "id": h.id,
                        "code": h.code,
                        "village": h.village,
                        "people": h.people,
                        "status": missing.get(h.code, "signed"),
                        "card": card_row(by_household[h.id], actor, session) if h.id in by_household else None,
                    }
                    for h in households
                ],
            }
        )
    return {
        "hazard_points": out,
        "can_issue": can_issue,
        "missing": sum(1 for p in out for h in p["households"] if h["status"] != "signed"),
    }
