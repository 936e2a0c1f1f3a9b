"""Publication is a decision: what the public sees is a signed-off snapshot.

Two public lists, each published by the office's sign-off (签发) of a frozen snapshot:

* ``assessment_lists`` per assessment year — the praise (表扬) and exposure (曝光) lists with each listed mine's
  score and the indicators behind it (:func:`subsidence.tasks.assessment.published_lists`);
* ``inspection_results`` (scope ``all``) — the double-random results marked for publication
  (:func:`subsidence.tasks.inspections.service.public_results`, internal findings left out).

:func:`draft` computes what would be published now, with its SHA-256 (of the canonical JSON: keys sorted,
UTF-8, no spaces); :func:`sign_off` stores it as the next version with who signed and when, refusing when the
draft changed since the signer looked at it (``expected_sha256``) or is unchanged from the published version.
The public reads only :func:`published`; re-running the assessment changes the draft, not the public lists.
Basis: 《政府信息公开条例》第十七条（行政机关应当建立健全政府信息公开审查机制，明确审查的程序和责任）;
国办发〔2019〕5号 双随机、一公开（抽查结果及时向社会公开）.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.errors import Conflict, ValidationFailed
from subsidence.tasks.models import Publication

KINDS = {"assessment_lists": "年度评估表扬和曝光名单", "inspection_results": "双随机抽查结果"}
LEGAL_BASIS = "《政府信息公开条例》第十七条（公开前审查）；国办发〔2019〕5号（抽查结果向社会公开）"


def canonical(snapshot: Any) -> bytes:
    return json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(snapshot: Any) -> str:
    return hashlib.sha256(canonical(snapshot)).hexdigest()


def _scope(kind: str, year: int | None) -> str:
    if kind not in KINDS:
        raise ValidationFailed(f"公开内容 {kind!r} 未知 / unknown publication {kind!r}; use one of {sorted(KINDS)}")
    if kind == "assessment_lists":
        if year is None:
            raise ValidationFailed("签发评估名单需指定年度 / the assessment lists are signed off per year")
        return str(int(year))
    return "all"


def draft(session: Session, kind: str, year: int | None = None) -> dict[str, Any]:
    """What would be published now: ``{"kind", "scope", "snapshot", "sha256"}``."""
    from subsidence.tasks import assessment
    from subsidence.tasks.inspections import service as inspections

    scope = _scope(kind, year)
    if kind == "assessment_lists":
        snap = assessment.published_lists(session, year=int(scope))
    else:
        snap = {"results": inspections.public_results(session)}
    return {"kind": kind, "scope": scope, "snapshot": snap, "sha256": digest(snap)}


def latest(session: Session, kind: str, scope: str) -> Publication | None:
    return session.scalar(
        select(Publication)
        .where(Publication.kind == kind, Publication.scope == scope)
        .order_by(Publication.version.desc())
        .limit(1)
    )


def sign_off(
    session: Session,
    actor: Any,
    kind: str,
    *,
    year: int | None = None,
    expected_sha256: str | None = None,
    note: str | None = None,
) -> Publication:
    """Sign off the current draft as the next published version (office only; see tasks/policies.py).

    ``expected_sha256``: the hash of the draft the signer reviewed; a different current draft is refused
    (Conflict), so nobody signs what they did not see. An unchanged draft is refused as well."""
    from subsidence.access.policy import authorize_action

    authorize_action(actor, "sign_off", "publication")
    d = draft(session, kind, year)
    if expected_sha256 is not None and expected_sha256 != d["sha256"]:
        raise Conflict(
            f"待签发内容已变化（{d['sha256'][:12]}…，您审阅的是 {expected_sha256[:12]}…），请重新审阅 / "
            "the draft changed since you reviewed it; review it again"
        )
    if kind == "assessment_lists" and d["snapshot"].get("year") is None:
        raise ValidationFailed(f"{year} 年度尚未评估 / no assessment for {year}; run it first")
    prev = latest(session, kind, d["scope"])
    if prev is not None and prev.sha256 == d["sha256"]:
        raise Conflict(
            f"内容与已签发的第 {prev.version} 版相同 / unchanged since version {prev.version} "
            f"signed by {prev.signed_by} at {prev.signed_at.isoformat()}"
        )
    version = (
        int(
            session.scalar(
                select(func.max(Publication.version)).where(Publication.kind == kind, Publication.scope == d["scope"])
            )
            or 0
        )
        + 1
    )
    pub = Publication(
        kind=kind,
        scope=d["scope"],
        version=version,
        snapshot=d["snapshot"],
        sha256=d["sha256"],
        signed_by=actor.audit_name,
        signed_by_user_id=actor.user_id,
        note=note,
    )
    session.add(pub)
    session.flush()
    return pub


def record(pub: Publication) -> dict[str, Any]:
    return {
        "kind": pub.kind,
        "kind_zh": KINDS[pub.kind],
        "scope": pub.scope,
        "version": pub.version,
        "sha256": pub.sha256,
        "signed_by": pub.signed_by,
        "signed_at": pub.signed_at.isoformat(),
        "note": pub.note,
    }


def published(session: Session, kind: str, year: int | None = None) -> Publication | None:
    """The newest signed-off version the public sees (for ``assessment_lists`` the given year, or the newest
    signed-off year when ``year`` is None)."""
    q = select(Publication).where(Publication.kind == kind)
    if year is not None:
        q = q.where(Publication.scope == _scope(kind, year))
    if kind == "assessment_lists" and year is None:
        rows = session.scalars(q).all()
        if not rows:
            return None
        top = max(int(r.scope) for r in rows)
        return max((r for r in rows if int(r.scope) == top), key=lambda r: r.version)
    return session.scalar(q.order_by(Publication.version.desc()).limit(1))


def public_lists(session: Session, today: date | None = None) -> dict[str, Any]:
    """The praise/exposure lists the public sees: the newest signed-off year (≤ today's year)."""
    q = select(Publication).where(Publication.kind == "assessment_lists")
    rows = [r for r in session.scalars(q) if today is None or int(r.scope) <= today.year]
    if not rows:
        return {"year": None, "praise": [], "exposure": [], "publication": None}
    top = max(int(r.scope) for r in rows)
    pub = max((r for r in rows if int(r.scope) == top), key=lambda r: r.version)
    return dict(pub.snapshot) | {"publication": record(pub)}


def public_results(session: Session) -> list[dict[str, Any]]:
    """The inspection results the public sees: the newest signed-off snapshot (empty before the first)."""
    pub = published(session, "inspection_results")
    return list(pub.snapshot.get("results", [])) if pub is not None else []


def status(session: Session, kind: str, year: int | None = None) -> dict[str, Any]:
    """The draft beside the published version: whether the public sees what the data now says."""
    d = draft(session, kind, year)
    pub = latest(session, kind, d["scope"])
    return {
        "kind": kind,
        "kind_zh": KINDS[kind],
        "scope": d["scope"],
        "draft": d["snapshot"],
        "draft_sha256": d["sha256"],
        "published": record(pub) if pub is not None else None,
        "up_to_date": pub is not None and pub.sha256 == d["sha256"],
        "history": [
            record(p)
            for p in session.scalars(
                select(Publication)
                .where(Publication.kind == kind, Publication.scope == d["scope"])
                .order_by(Publication.version.desc())
            )
        ],
    }
