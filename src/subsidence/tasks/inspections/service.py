"""Double random, one public (双随机、一公开, goal 2): directories, items, the verifiable draw, results, publication.

The draw itself is the pure procedure of :mod:`subsidence.tasks.inspections.draw`; this module freezes the pool from
the directories, stores each stage once (publication → seed → result; rows are insert-only), and keeps the
results with their 20-working-day publication deadline. A redo is a new draw that names the old one and why.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine, Unit
from subsidence.db.audit import record_event
from subsidence.db.base import utcnow
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.tasks.fund import resolve_mine
from subsidence.tasks.inspections import draw as drawlib
from subsidence.tasks.models import (
    DrawRecord,
    DrawResult,
    DrawSeed,
    InspectionItem,
    InspectionObject,
    InspectionResult,
    Inspector,
    InspectorConflict,
)
from subsidence.vocabulary import InspectionOutcome, ProblemCategory, ProblemSource, RiskGrade

log = logging.getLogger(__name__)

#: results must be made public within this many working days of the inspection (docs/science.md §5)
PUBLICATION_WORKDAYS = 20


def _aware(t: datetime, name: str) -> datetime:
    if t.tzinfo is None:
        raise ValidationFailed(f"{name}: {t.isoformat()} has no time zone; give e.g. 2026-12-03T21:30+08:00")
    return t.astimezone(UTC)


# ------------------------------------------------------------------------------------ directories


def set_object(session: Session, mine: Mine, grade: RiskGrade | str, *, active: bool = True) -> InspectionObject:
    """Add a mine to the object directory or change its risk grade."""
    grade = grade if isinstance(grade, RiskGrade) else RiskGrade.parse(grade)
    obj = session.scalar(select(InspectionObject).where(InspectionObject.mine_id == mine.id))
    if obj is None:
        obj = InspectionObject(mine_id=mine.id, risk_grade=grade, active=active)
        session.add(obj)
    else:
        obj.risk_grade, obj.active = grade, active
    session.flush()
    return obj


def add_inspector(
    session: Session, code: str, unit_code: str, *, role_title: str | None = None, active: bool = True
) -> Inspector:
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise NotFound(f"unit {unit_code!r} not found (inspectors belong to a unit: NRB, EMB, ...)")
    ins = session.scalar(select(Inspector).where(Inspector.code == code))
    if ins is None:
        ins = Inspector(code=code, unit_id=unit.id, role_title=role_title, active=active)
        session.add(ins)
    else:
        ins.unit_id, ins.role_title, ins.active = unit.id, role_title, active
    session.flush()
    return ins


def declare_conflict(
    session: Session, inspector_code: str, mine: Mine, reason: str, declared: date
) -> InspectorConflict:
    """Record an inspector's declared conflict with a mine; it excludes him from that mine in every later draw.

    The reason is published with the pool (verifiability): write its category, not personal details.
    """
    if not (reason or "").strip():
        raise ValidationFailed("a declared conflict needs its reason (回避事由)")
    ins = session.scalar(select(Inspector).where(Inspector.code == inspector_code))
    if ins is None:
        raise NotFound(f"inspector {inspector_code!r} not found")
    existing = session.scalar(
        select(InspectorConflict).where(InspectorConflict.inspector_id == ins.id, InspectorConflict.mine_id == mine.id)
    )
    if existing is not None:
        return existing
    c = InspectorConflict(inspector_id=ins.id, mine_id=mine.id, reason=reason.strip(), declared_date=declared)
    session.add(c)
    session.flush()
    return c


def add_item(
    session: Session,
    code: str,
    name: str,
    *,
    ratio_high_pct: int = 100,
    ratio_medium_pct: int = 70,
    ratio_low_pct: int = 50,
    per_year: int = 1,
    inspectors_per_object: int = 2,
    lead_unit_code: str | None = None,
    basis: str | None = None,
) -> InspectionItem:
    """Create or update an inspection item (e.g. reclamation check: 30 % of mines a year → all ratios 30)."""
    for name_, v in (
        ("ratio_high_pct", ratio_high_pct),
        ("ratio_medium_pct", ratio_medium_pct),
        ("ratio_low_pct", ratio_low_pct),
    ):
        if not 0 <= v <= 100:
            raise ValidationFailed(f"{name_}: {v} is not a percentage 0–100")
    if inspectors_per_object < drawlib.MIN_INSPECTORS:
        raise ValidationFailed(f"inspectors_per_object: at least {drawlib.MIN_INSPECTORS} inspectors per object")
    if per_year < 1:
        raise ValidationFailed("per_year: at least once a year")
    lead = None
    if lead_unit_code:
        lead = session.scalar(select(Unit).where(Unit.code == lead_unit_code))
        if lead is None:
            raise NotFound(f"unit {lead_unit_code!r} not found")
    item = session.scalar(select(InspectionItem).where(InspectionItem.code == code))
    if item is None:
        item = InspectionItem(code=code)
        session.add(item)
    item.name, item.ratio_high_pct, item.ratio_medium_pct, item.ratio_low_pct = (
        name,
        ratio_high_pct,
        ratio_medium_pct,
        ratio_low_pct,
    )
    item.per_year, item.inspectors_per_object, item.basis = per_year, inspectors_per_object, basis
    item.lead_unit_id = lead.id if lead is not None else None
    session.flush()
    return item


# ------------------------------------------------------------------------------------ the draw


def get_draw(session: Session, code: str) -> DrawRecord:
    rec = session.scalar(select(DrawRecord).where(DrawRecord.code == code))
    if rec is None:
        raise NotFound(f"draw {code!r} not found")
    return rec


def _next_draw_code(session: Session, year: int) -> str:
    prefix = f"DR-{year}-"
    last = session.scalar(select(func.max(DrawRecord.code)).where(DrawRecord.code.like(prefix + "%")))
    return f"{prefix}{(int(last.removeprefix(prefix)) + 1) if last else 1:04d}"


def build_pool(
    session: Session,
    item: InspectionItem,
    code: str,
    seed_source: str,
    seed_not_before: datetime,
    published_at: datetime,
    supersedes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Freeze the pool from the directories as they are now (active objects and inspectors; declared recusals)."""
    objects = [
        {"key": o.mine.licence_no, "name": o.mine.name_zh, "grade": o.risk_grade.value}
        for o in session.scalars(select(InspectionObject).where(InspectionObject.active.is_(True)))
    ]
    inspectors = [
        {"key": i.code, "unit": i.unit.code}
        for i in session.scalars(select(Inspector).where(Inspector.active.is_(True)))
    ]
    recusals = [
        {"inspector": c.inspector.code, "object": c.mine.licence_no, "reason": c.reason}
        for c in session.scalars(select(InspectorConflict))
    ]
    item_d = {
        "code": item.code,
        "name": item.name,
        "inspectors_per_object": item.inspectors_per_object,
        "ratios_pct": {"high": item.ratio_high_pct, "medium": item.ratio_medium_pct, "low": item.ratio_low_pct},
    }
    try:
        return drawlib.make_pool(
            draw=code,
            item=item_d,
            objects=objects,
            inspectors=inspectors,
            recusals=recusals,
            seed_source=seed_source,
            seed_not_before=seed_not_before.isoformat(),
            published_at=published_at.isoformat(),
            supersedes=supersedes,
        )
    except drawlib.DrawError as exc:
        raise ValidationFailed(f"draw {code} cannot be published: {exc}") from None


def publish_draw(
    session: Session,
    item_code: str,
    *,
    seed_source: str,
    seed_not_before: datetime,
    now: datetime | None = None,
    supersedes: str | None = None,
    redo_reason: str | None = None,
    actor: Any = None,
) -> DrawRecord:
    """Freeze and publish the pool with its SHA-256 (step 1). A redo names the draw it supersedes and why."""
    if actor is not None:
        from subsidence.access.policy import authorize_action

        authorize_action(actor, "publish", "draw")
    now = _aware(now or utcnow(), "now")
    seed_not_before = _aware(seed_not_before, "seed_not_before")
    if seed_not_before < now:
        raise ValidationFailed(
            "seed_not_before must not be earlier than the publication: the seed must come "
            "from a public event after the pool is published"
        )
    item = session.scalar(select(InspectionItem).where(InspectionItem.code == item_code))
    if item is None:
        raise NotFound(f"inspection item {item_code!r} not found")
    sup = None
    old = None
    if supersedes is not None:
        old = get_draw(session, supersedes)
        if not (redo_reason or "").strip():
            raise ValidationFailed(f"a redo of {supersedes} needs its reason; the old draw stays on record")
        sup = {"draw": old.code, "pool_sha256": old.pool_sha256, "reason": redo_reason.strip()}
    elif redo_reason:
        raise ValidationFailed("redo_reason given without the draw it supersedes")
    if old is None:
        this_year = [
            r
            for r in session.scalars(select(DrawRecord).where(DrawRecord.item_id == item.id))
            if r.published_at.astimezone(UTC).year == now.year
        ]
        superseded = {r.supersedes_id for r in this_year if r.supersedes_id is not None}
        live = [r.code for r in this_year if r.id not in superseded]
        if len(live) >= item.per_year:
            raise ValidationFailed(
                f"item {item.code} is drawn {item.per_year}× a year and {now.year} already has "
                f"{', '.join(live)}; a repeat must be a redo (--supersedes with a reason)"
            )
    code = _next_draw_code(session, now.year)
    pool = build_pool(session, item, code, seed_source, seed_not_before, now, sup)
    rec = DrawRecord(
        code=code,
        item_id=item.id,
        pool=pool,
        pool_sha256=drawlib.sha256_hex(drawlib.canonical_json(pool)),
        published_at=now,
        supersedes_id=old.id if old is not None else None,
        redo_reason=sup["reason"] if sup else None,
    )
    session.add(rec)
    session.flush()
    for r in pool["recusals"]:
        record_event(
            session,
            entity="draw_record",
            entity_id=rec.id,
            entity_key=code,
            action="recusal",
            after=r,
            reason=r["reason"],
        )
    log.debug(
        "published draw %s (pool %s, %d objects, %d inspectors, %d recusals)",
        code,
        rec.pool_sha256,
        len(pool["objects"]),
        len(pool["inspectors"]),
        len(pool["recusals"]),
    )
    return rec


def enter_seed(
    session: Session, code: str, *, source: str, value: str, source_time: datetime, now: datetime | None = None
) -> DrawSeed:
    """Enter the public seed (step 2). Refused before publication, from another source, or twice."""
    now = _aware(now or utcnow(), "now")
    source_time = _aware(source_time, "source_time")
    rec = get_draw(session, code)
    if rec.seed is not None:
        raise Conflict(
            f"draw {code} already has its seed (entered {rec.seed.entered_at.isoformat()}); "
            "a seed is never replaced — publish a redo with a reason instead"
        )
    if source.strip() != rec.pool["seed_source"]:
        raise ValidationFailed(
            f"seed source {source!r} is not the one announced with the pool ({rec.pool['seed_source']!r})"
        )
    published = rec.published_at
    if now <= published:
        raise ValidationFailed(
            f"draw {code}: a seed cannot be entered before the pool is published ({published.isoformat()})"
        )
    not_before = datetime.fromisoformat(rec.pool["seed_not_before"])
    if source_time <= published or source_time < not_before:
        raise ValidationFailed(
            f"draw {code}: the seed value dates from {source_time.isoformat()}, before the pool "
            f"was published ({published.isoformat()}) or the announced time "
            f"({not_before.isoformat()}); use the value the source produces afterwards"
        )
    if source_time > now:
        raise ValidationFailed(f"seed source_time {source_time.isoformat()} is in the future")
    try:
        value = drawlib.normalise_seed(value)
    except drawlib.DrawError as exc:
        raise ValidationFailed(str(exc)) from None
    seed = DrawSeed(draw_id=rec.id, source=source.strip(), value=value, source_time=source_time, entered_at=now)
    session.add(seed)
    session.flush()
    session.refresh(rec)
    return seed


def run_draw(session: Session, code: str, *, now: datetime | None = None) -> DrawResult:
    """Derive the picks (steps 3–6) and store them once."""
    now = _aware(now or utcnow(), "now")
    rec = get_draw(session, code)
    if rec.seed is None:
        raise ValidationFailed(f"draw {code} has no seed yet: enter the public seed first")
    if rec.result is not None:
        raise Conflict(f"draw {code} was already run at {rec.result.drawn_at.isoformat()}; its result stands")
    result = drawlib.derive(rec.pool, rec.seed.value)
    for o in result["objects"]:
        bad = [i for i in o["inspectors"] if i not in drawlib.eligible_inspectors(rec.pool, o["key"])]
        if bad:  # cannot happen with derive(); kept as a guard on the invariant
            raise ValidationFailed(f"inspector(s) {bad} drawn for {o['key']} despite a declared conflict")
    res = DrawResult(
        draw_id=rec.id,
        result=result,
        result_sha256=drawlib.sha256_hex(drawlib.canonical_json(result)),
        drawn_at=max(now, rec.seed.entered_at),
    )
    session.add(res)
    session.flush()
    session.refresh(rec)
    return res


def export_record(session: Session, code: str) -> dict[str, Any]:
    """The draw as one self-contained JSON record (what ``subsidence draw verify`` checks)."""
    rec = get_draw(session, code)
    out: dict[str, Any] = {
        "format": drawlib.RECORD_FORMAT,
        "code": rec.code,
        "pool": rec.pool,
        "pool_sha256": rec.pool_sha256,
        "published_at": rec.published_at.isoformat(),
        "supersedes": rec.pool.get("supersedes"),
        "seed": None,
        "result": None,
        "result_sha256": None,
        "drawn_at": None,
    }
    if rec.seed is not None:
        out["seed"] = {
            "source": rec.seed.source,
            "value": rec.seed.value,
            "source_time": rec.seed.source_time.isoformat(),
            "entered_at": rec.seed.entered_at.isoformat(),
        }
    if rec.result is not None:
        out["result"], out["result_sha256"] = rec.result.result, rec.result.result_sha256
        out["drawn_at"] = rec.result.drawn_at.isoformat()
    superseded_by = session.scalars(select(DrawRecord.code).where(DrawRecord.supersedes_id == rec.id)).all()
    out["superseded_by"] = list(superseded_by)
    return out


def public_draws(session: Session) -> list[dict[str, Any]]:
    """Every draw's full record (pool, hash, seed, result) for public verification — old and redone ones too.

    The pool holds the recusal pairs with their reasons (so anyone can check no conflicted inspector was
    drawn): record reasons as categories (亲属关系、曾在该矿任职 …), never personal details.
    """
    return [export_record(session, code) for code in session.scalars(select(DrawRecord.code).order_by(DrawRecord.code))]


def list_draws(session: Session) -> list[dict[str, Any]]:
    out = []
    for rec in session.scalars(select(DrawRecord).order_by(DrawRecord.code)):
        state = "drawn" if rec.result is not None else "seeded" if rec.seed is not None else "published"
        out.append(
            {
                "code": rec.code,
                "item": rec.pool["item"]["code"],
                "state": state,
                "pool_sha256": rec.pool_sha256,
                "published_at": rec.published_at.isoformat(),
                "objects": len(rec.pool["objects"]),
                "drawn": len(rec.result.result["objects"]) if rec.result is not None else None,
                "supersedes": rec.pool.get("supersedes"),
            }
        )
    return out


# ------------------------------------------------------------------------------------ results


def publication_deadline(inspected: date) -> date:
    """20 working days after the inspection, on the working-day calendar."""
    from subsidence.workdays import default_calendar

    return default_calendar().add_workdays(inspected, PUBLICATION_WORKDAYS)


def record_result(
    session: Session,
    code: str,
    mine: Mine,
    *,
    inspected: date,
    outcome: InspectionOutcome | str,
    findings: str | None = None,
    public_summary: str | None = None,
    problem_category: ProblemCategory | str | None = None,
) -> InspectionResult:
    """Enter the result of inspecting a drawn mine; problems found open a ledger problem (once)."""
    from subsidence.ledger.problems import open_problem

    outcome = outcome if isinstance(outcome, InspectionOutcome) else InspectionOutcome.parse(outcome)
    rec = get_draw(session, code)
    if rec.result is None:
        raise ValidationFailed(f"draw {code} has not been run; results can only be entered for drawn mines")
    drawn = {o["key"] for o in rec.result.result["objects"]}
    if mine.licence_no not in drawn:
        raise ValidationFailed(f"mine {mine.licence_no} was not drawn in {code}; drawn: {sorted(drawn)}")
    if inspected < rec.result.drawn_at.date():
        raise ValidationFailed(f"inspection date {inspected} is before the draw ({rec.result.drawn_at.date()})")
    if outcome == InspectionOutcome.PROBLEMS and not (findings or "").strip():
        raise ValidationFailed("outcome 'problems found' needs the findings")
    existing = session.scalar(
        select(InspectionResult).where(InspectionResult.draw_id == rec.id, InspectionResult.mine_id == mine.id)
    )
    if existing is not None and existing.published_date is not None:
        raise Conflict(f"the result for {mine.licence_no} in {code} is already published; it cannot be changed")
    res = existing or InspectionResult(draw_id=rec.id, mine_id=mine.id)
    res.inspected_date, res.outcome, res.findings = inspected, outcome, findings
    res.public_summary = public_summary or f"{rec.pool['item']['name']}：{outcome.label()}"
    res.publish_deadline = publication_deadline(inspected)
    if existing is None:
        session.add(res)
    session.flush()
    if outcome == InspectionOutcome.PROBLEMS:
        cat = (
            problem_category
            if isinstance(problem_category, ProblemCategory)
            else ProblemCategory.parse(problem_category)
            if problem_category
            else ProblemCategory.SUBSIDENCE_CRACKS
        )
        problem, _ = open_problem(
            session,
            category=cat,
            title=f"双随机抽查发现问题：{mine.name_zh}（{code}）",
            source=ProblemSource.DOUBLE_RANDOM,
            found_date=inspected,
            origin_key=f"inspection:{code}:{mine.licence_no}",
            mine=mine,
            description=findings,
        )
        res.problem_id = problem.id
        session.flush()
    return res


def publish_result(session: Session, code: str, mine: Mine, published: date) -> InspectionResult:
    rec = get_draw(session, code)
    res = session.scalar(
        select(InspectionResult).where(InspectionResult.draw_id == rec.id, InspectionResult.mine_id == mine.id)
    )
    if res is None:
        raise NotFound(f"no result for {mine.licence_no} in {code}; enter it first")
    if res.published_date is not None:
        raise Conflict(f"already published on {res.published_date}")
    if published < res.inspected_date:
        raise ValidationFailed("publication date before the inspection date")
    res.published_date = published
    session.flush()
    return res


def _result_dict(res: InspectionResult, today: date | None = None, public: bool = False) -> dict[str, Any]:
    d = {
        "draw": res.draw.code,
        "item": res.draw.pool["item"]["name"],
        "mine": res.mine.licence_no,
        "mine_name": res.mine.name_zh,
        "inspected_date": res.inspected_date.isoformat(),
        "outcome": res.outcome.value,
        "outcome_zh": res.outcome.label(),
        "summary": res.public_summary,
        "published_date": res.published_date.isoformat() if res.published_date else None,
    }
    if not public:
        d |= {
            "findings": res.findings,
            "publish_deadline": res.publish_deadline.isoformat(),
            "overdue": bool(today and res.published_date is None and today > res.publish_deadline),
            "problem_id": res.problem_id,
        }
    return d


def results(session: Session, today: date, code: str | None = None) -> list[dict[str, Any]]:
    q = select(InspectionResult).order_by(InspectionResult.id)
    if code:
        q = q.where(InspectionResult.draw_id == get_draw(session, code).id)
    return [_result_dict(r, today) for r in session.scalars(q)]


def public_results(session: Session) -> list[dict[str, Any]]:
    """What the public sees: published results only, without internal findings."""
    q = (
        select(InspectionResult)
        .where(InspectionResult.published_date.is_not(None))
        .order_by(InspectionResult.published_date.desc(), InspectionResult.id)
    )
    return [_result_dict(r, public=True) for r in session.scalars(q)]


def overdue_publications(session: Session, today: date) -> list[dict[str, Any]]:
    return [r for r in results(session, today) if r["overdue"]]


def resolve(session: Session, key: str) -> Mine:
    return resolve_mine(session, key)
