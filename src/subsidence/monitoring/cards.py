"""Issuing the 工作明白卡 (per hazard point) and 避险明白卡 (per household), their three copies and signed
receipts, and the one query that answers "which households still lack a card".

A household *has* its card when its current (not superseded) household card exists **and the household's
copy is signed for**; a card printed but not handed over does not protect anyone.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from subsidence.core.models import AdminArea
from subsidence.db.base import utcnow
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.monitoring.hazards import hazard_by_code, refresh_hazard
from subsidence.monitoring.models import Card, CardCopy, HazardContact, HazardPoint, Household, Sensor
from subsidence.monitoring.warning.levels import DangerGrade

log = logging.getLogger(__name__)

HOLDERS = ("household", "village", "issuer")
HOLDER_LABELS = {"household": "住户", "village": "村委会", "issuer": "发卡单位"}
SCALE_LABELS = {"small": "小型", "medium": "中型", "large": "大型", "giant": "特大型"}


def _context(session: Session, hp: HazardPoint) -> dict[str, Any]:
    refresh_hazard(session, hp)
    contacts = [
        {"role": c.role, "title": c.title, "phone": c.phone}
        for c in session.scalars(
            select(HazardContact).where(HazardContact.hazard_point_id == hp.id).order_by(HazardContact.id)
        )
    ]
    sensors = session.scalars(
        select(Sensor).where(Sensor.hazard_point_id == hp.id, Sensor.active.is_(True)).order_by(Sensor.code)
    ).all()
    town = session.get(AdminArea, hp.town_id) if hp.town_id else None
    location = hp.location_text or "".join(x for x in ((town.name_zh if town else ""), hp.village or "") if x) or "—"
    scale = SCALE_LABELS.get(hp.scale or "", hp.scale or "—")
    if hp.volume_m3:
        scale += f"（约 {hp.volume_m3:,.0f} m³）"
    grade = DangerGrade(hp.danger_grade).label() if hp.danger_grade else "—"
    return {
        "hp": hp,
        "hazard_type": hp.hazard_type.label(),
        "scale": scale,
        "grade": grade,
        "location": location,
        "contacts": contacts,
        "illustrative": hp.illustrative,
        "sensors": "、".join(f"{s.kind.label()} {s.code}" for s in sensors),
    }


def _next_version(session: Session, **where: Any) -> int:
    q = select(func.max(Card.version))
    for k, v in where.items():
        q = q.where(getattr(Card, k) == v)
    return int(session.scalar(q) or 0) + 1


def _write(pdf: bytes, out_dir: Path, name: str) -> tuple[str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_bytes(pdf)
    return str(path), hashlib.sha256(pdf).hexdigest()


def _supersede(session: Session, **where: Any) -> None:
    q = select(Card).where(Card.superseded.is_(False))
    for k, v in where.items():
        q = q.where(getattr(Card, k) == v)
    for old in session.scalars(q):
        old.superseded = True


def issue_work_card(
    session: Session, hazard_code: str, *, issuing_unit: str, out_dir: Path, issued: date | None = None
) -> Card:
    """Render and record the work card of a hazard point (a new version supersedes the previous card)."""
    from subsidence.render.cards import work_card_html
    from subsidence.render.pdf import html_to_pdf

    hp = hazard_by_code(session, hazard_code)
    issued = issued or date.today()
    version = _next_version(session, kind="work", hazard_point_id=hp.id)
    code = f"GZ-{hp.code}-v{version}"
    ctx = _context(session, hp) | {"card_code": code, "issued": issued.isoformat(), "issuing_unit": issuing_unit}
    path, digest = _write(html_to_pdf(work_card_html(ctx)), Path(out_dir), f"{code}.pdf")
    _supersede(session, kind="work", hazard_point_id=hp.id)
    card = Card(
        code=code,
        kind="work",
        hazard_point_id=hp.id,
        version=version,
        issued_date=issued,
        issuing_unit=issuing_unit,
        pdf_sha256=digest,
        pdf_path=path,
    )
    session.add(card)
    session.flush()
    return card


def issue_household_card(
    session: Session, household_code: str, *, issuing_unit: str, out_dir: Path, issued: date | None = None
) -> Card:
    """Render the household's evacuation card (three copies in one PDF) and create the three copy records."""
    from subsidence.render.cards import household_card_html
    from subsidence.render.pdf import html_to_pdf

    h = session.scalar(select(Household).where(Household.code == household_code))
    if h is None:
        raise NotFound(f"household {household_code!r} does not exist")
    hp = session.get(HazardPoint, h.hazard_point_id)
    issued = issued or date.today()
    version = _next_version(session, kind="household", household_id=h.id)
    code = f"BX-{h.code}-v{version}"
    town = session.get(AdminArea, h.town_id) if h.town_id else None
    address = h.address or "".join(x for x in ((town.name_zh if town else ""), h.village or "") if x) or "—"
    ctx = _context(session, hp) | {
        "h": h,
        "address": address,
        "card_code": code,
        "issued": issued.isoformat(),
        "issuing_unit": issuing_unit,
        "holders": HOLDERS,
    }
    path, digest = _write(html_to_pdf(household_card_html(ctx)), Path(out_dir), f"{code}.pdf")
    _supersede(session, kind="household", household_id=h.id)
    card = Card(
        code=code,
        kind="household",
        hazard_point_id=hp.id,
        household_id=h.id,
        version=version,
        issued_date=issued,
        issuing_unit=issuing_unit,
        pdf_sha256=digest,
        pdf_path=path,
        copies=[CardCopy(holder=x) for x in HOLDERS],
    )
    session.add(card)
    session.flush()
    return card


def issue_missing_household_cards(session: Session, hazard_code: str | None = None, **kw: Any) -> list[Card]:
    """Issue a card to every household of the hazard point (or all) that has no current card yet."""
    has_card = exists().where(Card.household_id == Household.id, Card.kind == "household", Card.superseded.is_(False))
    q = select(Household.code).where(~has_card).order_by(Household.code)
    if hazard_code:
        q = q.where(Household.hazard_point_id == hazard_by_code(session, hazard_code).id)
    return [issue_household_card(session, code, **kw) for code in session.scalars(q).all()]


def record_receipt(
    session: Session,
    card_code: str,
    holder: str,
    *,
    signed_by: str,
    signed_at: datetime | None = None,
    reference: str | None = None,
) -> CardCopy:
    """Record the signed receipt of one copy (household / village / issuer)."""
    if holder not in HOLDERS:
        raise ValidationFailed(f"holder {holder!r}: use one of {', '.join(HOLDERS)} (住户/村委会/发卡单位)")
    if not signed_by or not signed_by.strip():
        raise ValidationFailed("a receipt needs the signer (by role, e.g. 户主 / 村委会文书)")
    card = session.scalar(select(Card).where(Card.code == card_code))
    if card is None:
        raise NotFound(f"card {card_code!r} does not exist")
    if card.superseded:
        raise Conflict(f"card {card_code} was superseded by a newer version; have the new card signed")
    copy = session.scalar(select(CardCopy).where(CardCopy.card_id == card.id, CardCopy.holder == holder))
    if copy is None:
        raise NotFound(f"card {card_code} has no {holder} copy (work cards are single copies)")
    if copy.receipt_signed_at is not None:
        raise Conflict(
            f"card {card_code} {holder} copy was already signed for by {copy.receipt_signed_by} "
            f"at {copy.receipt_signed_at.isoformat()}"
        )
    copy.receipt_signed_by, copy.receipt_signed_at = signed_by.strip(), signed_at or utcnow()
    copy.receipt_reference = reference
    session.flush()
    return copy


def households_missing_cards(
    session: Session, hazard_code: str | None = None, town_id: int | None = None
) -> list[dict[str, Any]]:
    """Households that do not hold a signed, current evacuation card — one SQL query.

    ``status``: ``no_card`` (never issued or only superseded ones) or ``not_signed`` (issued, household copy
    not signed for); ``copies_signed`` counts the signed copies of the current card (of 3)."""
    cur = aliased(Card)
    hh_copy = aliased(CardCopy)
    signed = (
        select(func.count(CardCopy.id))
        .where(CardCopy.card_id == cur.id, CardCopy.receipt_signed_at.is_not(None))
        .correlate(cur)
        .scalar_subquery()
    )
    q = (
        select(
            Household.code,
            Household.village,
            Household.people,
            HazardPoint.code,
            cur.code,
            hh_copy.receipt_signed_at,
            signed,
        )
        .join(HazardPoint, HazardPoint.id == Household.hazard_point_id)
        .outerjoin(cur, and_(cur.household_id == Household.id, cur.kind == "household", cur.superseded.is_(False)))
        .outerjoin(hh_copy, and_(hh_copy.card_id == cur.id, hh_copy.holder == "household"))
        .where(hh_copy.receipt_signed_at.is_(None))
        .order_by(HazardPoint.code, Household.code)
    )
    if hazard_code:
        q = q.where(HazardPoint.code == hazard_code)
    if town_id is not None:
        q = q.where(Household.town_id == town_id)
    return [
        {
            "household": h,
            "village": v,
            "people": p,
            "hazard_point": hpc,
            "card": card,
            "status": "no_card" if card is None else "not_signed",
            "copies_signed": int(n or 0) if card else 0,
        }
        for h, v, p, hpc, card, _, n in session.execute(q)
    ]


def card_status(session: Session, card_code: str) -> dict[str, Any]:
    card = session.scalar(select(Card).where(Card.code == card_code))
    if card is None:
        raise NotFound(f"card {card_code!r} does not exist")
    return {
        "card": card.code,
        "kind": card.kind,
        "version": card.version,
        "superseded": card.superseded,
        "issued": card.issued_date.isoformat(),
        "issuing_unit": card.issuing_unit,
        "pdf": card.pdf_path,
        "sha256": card.pdf_sha256,
        "copies": [
            {
                "holder": c.holder,
                "holder_zh": HOLDER_LABELS[c.holder],
                "signed_by": c.receipt_signed_by,
                "signed_at": c.receipt_signed_at,
            }
            for c in card.copies
        ],
    }
