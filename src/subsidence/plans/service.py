"""Mine treatment plans: plans with revisions, annual plans, reported and verified parcels, the gap
between plan and achievement, and what the gap triggers (a category-1 problem once, a licence-gate reason).

Every function validates first and changes nothing on failure: callers run them inside one transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

import numpy as np
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor, authorize, authorize_action
from subsidence.census.models import SubsidenceArea
from subsidence.core.models import AdminArea, Mine
from subsidence.db.audit import record_event
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.geo import STORAGE_CRS, area_ha, m2_to_ha, transform_geometry
from subsidence.ledger.gate_rules import BASIS, PLAN_BASIS
from subsidence.ledger.problems import open_problem
from subsidence.plans.models import AnnualPlan, PlanParcel, ReclamationPlan, TreatedParcel
from subsidence.plans.rules import ParcelEvidence, VerificationThresholds, judge, stable_fraction, zonal_ndvi
from subsidence.vocabulary import (
    ApplicationType,
    GateReason,
    LandType,
    MovementStage,
    ParcelPurpose,
    ParcelState,
    ProblemCategory,
    ProblemSource,
)

log = logging.getLogger(__name__)

#: a parcel may stick out of the licence by this much (digitising tolerance), metres
LICENCE_TOLERANCE_M = 5.0
#: two parcels overlapping by more than this share of the smaller are "the same land counted twice"
OVERLAP_TOLERANCE = 0.01
#: achievement below this share of the annual target is a shortfall (rounding of reported areas tolerated)
SHORTFALL_RATIO = 0.995
#: days before a plan's validity ends from which the gate warns (unverified default: one quarter)
PLAN_EXPIRY_WARNING_DAYS = 90
#: a year's achievement is judged from this day of the next year (month, day): enterprises report by 31 December
#: (docs/science.md §5), then remote sensing and field acceptance need the first quarter
JUDGED_FROM = (4, 1)


def judgement_date(year: int) -> date:
    """The day from which ``year``'s plan achievement is judged (problems, licence gate)."""
    return date(year + 1, *JUDGED_FROM)


def last_judged_year(today: date) -> int:
    """The latest plan year whose achievement can be judged on ``today``."""
    return today.year - 1 if today >= judgement_date(today.year - 1) else today.year - 2


@dataclass(frozen=True)
class ParcelInput:
    """One polygon of a plan or of a report. ``geometry`` is in the storage CRS (EPSG:4546)."""

    code: str
    land_type: LandType | str
    geometry: BaseGeometry
    purpose: ParcelPurpose | str = ParcelPurpose.RECLAIM
    planned_year: int | None = None
    works: str | None = None
    spending_yuan: int = 0


def _may(session: Session, actor: Actor | None, action: str, resource: str, mine: Mine) -> None:
    """Authorize ``action`` on a plan record of ``mine`` (None: trusted internal caller, e.g. the demo)."""
    if actor is None:
        return
    authorize_action(actor, action, resource)
    authorize(session, actor, "read", mine, "mine")  # the mine must be within the actor's scope


def _multi(g: BaseGeometry) -> MultiPolygon:
    if isinstance(g, MultiPolygon):
        return g
    if isinstance(g, Polygon):
        return MultiPolygon([g])
    raise ValidationFailed(f"expected a polygon, got {g.geom_type}")


def _check_parcels(
    mine: Mine, parcels: list[ParcelInput], *, what: str, existing: Iterable[tuple[str, BaseGeometry]] = ()
) -> list[str]:
    """All problems with a set of parcels: geometry, licence, overlaps (within the set and with ``existing``)."""
    errors: list[str] = []
    seen: list[tuple[str, BaseGeometry]] = list(existing)
    codes: set[str] = set()
    right = mine.geometry
    for i, p in enumerate(parcels, start=1):
        label = f"{what} parcel {i} ({p.code})"
        if p.code in codes:
            errors.append(f"{label}: duplicate code {p.code!r} in the same submission")
        codes.add(p.code)
        g = p.geometry
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            errors.append(f"{label}: geometry must be a non-empty polygon")
            continue
        if not g.is_valid:
            errors.append(f"{label}: invalid geometry (self-intersection?); fix it in GIS")
            continue
        if g.area <= 0:
            errors.append(f"{label}: zero area")
            continue
        try:
            LandType.parse(p.land_type)
            ParcelPurpose.parse(p.purpose)
        except ValueError as exc:
            errors.append(f"{label}: {exc}")
        if p.spending_yuan < 0:
            errors.append(f"{label}: negative spending {p.spending_yuan} yuan")
        if right is not None and not right.buffer(LICENCE_TOLERANCE_M).contains(g):
            outside = area_ha(g.difference(right))
            errors.append(
                f"{label}: {outside:.2f} ha lies outside the mining right of {mine.licence_no} (地块超出采矿权范围)"
            )
        for other_code, other in seen:
            inter = g.intersection(other).area
            if inter > OVERLAP_TOLERANCE * min(g.area, other.area):
                errors.append(
                    f"{label}: overlaps {other_code} by {m2_to_ha(inter):.2f} ha — the same land would be "
                    f"counted twice (地块重叠重复计算)"
                )
        seen.append((p.code, g))
    return errors


def register_plan(
    session: Session,
    mine: Mine,
    *,
    doc_no: str,
    approval_date: date,
    valid_from: date,
    valid_to: date,
    parcels: list[ParcelInput],
    works: str | None = None,
    cost_estimate_yuan: int = 0,
    schedule: dict[str, dict[str, float]] | None = None,
    revision_reason: str | None = None,
    illustrative: bool = False,
    actor: Actor | None = None,
) -> ReclamationPlan:
    """Register a plan, or a revision of the mine's current plan (the old revision is kept, marked not current)."""
    _may(session, actor, "register", "reclamation_plan", mine)
    errors: list[str] = []
    if valid_to <= valid_from:
        errors.append(f"plan {doc_no}: valid_to {valid_to} is not after valid_from {valid_from}")
    if cost_estimate_yuan < 0:
        errors.append(f"plan {doc_no}: negative cost estimate")
    for year, row in (schedule or {}).items():
        for k, v in row.items():
            if v is None or float(v) < 0:
                errors.append(f"plan {doc_no}: schedule {year} {k} = {v} must be ≥ 0")
    # parcels of one purpose must not overlap each other; damaged land may overlap land to be reclaimed
    groups: dict[ParcelPurpose, list[ParcelInput]] = defaultdict(list)
    for i, p in enumerate(parcels, start=1):
        try:
            groups[ParcelPurpose.parse(p.purpose)].append(p)
        except ValueError as exc:
            errors.append(f"plan {doc_no} parcel {i} ({p.code}): {exc}")
    for purpose, group in groups.items():
        errors += _check_parcels(mine, group, what=f"plan {doc_no} {purpose.value}")
    if errors:
        raise ValidationFailed("; ".join(errors))
    previous = session.scalar(
        select(ReclamationPlan).where(ReclamationPlan.mine_id == mine.id, ReclamationPlan.current.is_(True))
    )
    if previous is not None and previous.doc_no == doc_no:
        if _same_plan(previous, approval_date, valid_from, valid_to, parcels):
            return previous  # re-importing the same plan changes nothing
        raise Conflict(
            f"plan {doc_no} of {mine.licence_no} is already registered with other content; a revised "
            "plan needs its own document number and a revision reason"
        )
    revision = 1 if previous is None else previous.revision + 1
    if previous is not None:
        if not revision_reason:
            raise ValidationFailed(
                f"mine {mine.licence_no} already has plan {previous.code}: a revision needs a reason (revision_reason)"
            )
        previous.current = False
    plan = ReclamationPlan(
        code=f"{doc_no}#r{revision}",
        doc_no=doc_no,
        mine_id=mine.id,
        revision=revision,
        supersedes_id=previous.id if previous else None,
        current=True,
        approval_date=approval_date,
        valid_from=valid_from,
        valid_to=valid_to,
        works=works,
        cost_estimate_yuan=int(cost_estimate_yuan),
        schedule=schedule,
        revision_reason=revision_reason,
        illustrative=illustrative,
    )
    for p in parcels:
        g = _multi(p.geometry)
        plan.parcels.append(
            PlanParcel(
                code=p.code,
                purpose=ParcelPurpose.parse(p.purpose),
                land_type=LandType.parse(p.land_type),
                planned_year=p.planned_year,
                area_ha=round(area_ha(g), 4),
                geometry=g,
            )
        )
    session.add(plan)
    session.flush()
    return plan


def _same_plan(
    plan: ReclamationPlan, approval_date: date, valid_from: date, valid_to: date, parcels: list[ParcelInput]
) -> bool:
    if (plan.approval_date, plan.valid_from, plan.valid_to) != (approval_date, valid_from, valid_to):
        return False
    stored = {p.code: p for p in plan.parcels}
    if set(stored) != {p.code for p in parcels}:
        return False
    return all(stored[p.code].geometry.equals_exact(_multi(p.geometry), 0.01) for p in parcels)


def current_plan(session: Session, mine: Mine) -> ReclamationPlan | None:
    return session.scalar(
        select(ReclamationPlan).where(ReclamationPlan.mine_id == mine.id, ReclamationPlan.current.is_(True))
    )


def plan_revisions(session: Session, mine: Mine) -> list[ReclamationPlan]:
    """All revisions of the mine's plan, oldest first."""
    return list(
        session.scalars(
            select(ReclamationPlan).where(ReclamationPlan.mine_id == mine.id).order_by(ReclamationPlan.revision)
        )
    )


def set_annual_plan(
    session: Session,
    mine: Mine,
    year: int,
    *,
    target_treat_ha: float,
    target_reclaim_ha: float,
    targets_by_land_type: dict[str, float] | None = None,
    works: str | None = None,
    budget_yuan: int = 0,
    required_fund_accrual_yuan: int = 0,
    illustrative: bool = False,
    actor: Actor | None = None,
) -> AnnualPlan:
    """Create or update (same mine and year) the annual plan; negative targets are refused."""
    _may(session, actor, "set", "annual_plan", mine)
    errors = []
    for name, v in (
        ("target_treat_ha", target_treat_ha),
        ("target_reclaim_ha", target_reclaim_ha),
        ("budget_yuan", budget_yuan),
        ("required_fund_accrual_yuan", required_fund_accrual_yuan),
    ):
        if v is None or v < 0:
            errors.append(f"annual plan {mine.licence_no} {year}: {name} = {v} must be ≥ 0")
    by_type: dict[str, float] = {}
    for k, v in (targets_by_land_type or {}).items():
        try:
            lt = LandType.parse(k).value
        except ValueError as exc:
            errors.append(f"annual plan {mine.licence_no} {year}: {exc}")
            continue
        if v is None or v < 0:
            errors.append(f"annual plan {mine.licence_no} {year}: target for {lt} = {v} must be ≥ 0")
        by_type[lt] = float(v or 0)
    if by_type and sum(by_type.values()) > target_treat_ha + target_reclaim_ha + 1e-6:
        errors.append(
            f"annual plan {mine.licence_no} {year}: targets by land type ({sum(by_type.values()):.2f} ha) "
            f"exceed the total target ({target_treat_ha + target_reclaim_ha:.2f} ha)"
        )
    if errors:
        raise ValidationFailed("; ".join(errors))
    plan = current_plan(session, mine)
    ap = session.scalar(select(AnnualPlan).where(AnnualPlan.mine_id == mine.id, AnnualPlan.year == year))
    if ap is None:
        ap = AnnualPlan(mine_id=mine.id, year=year)
        session.add(ap)
    ap.plan_id = plan.id if plan else None
    ap.target_treat_ha, ap.target_reclaim_ha = float(target_treat_ha), float(target_reclaim_ha)
    ap.targets_by_land_type = by_type or None
    ap.works, ap.budget_yuan = works, int(budget_yuan)
    ap.required_fund_accrual_yuan = int(required_fund_accrual_yuan)
    ap.illustrative = illustrative
    session.flush()
    return ap


def report_treated(
    session: Session,
    mine: Mine,
    year: int,
    parcels: list[ParcelInput],
    *,
    reported_date: date,
    illustrative: bool = False,
    actor: Actor | None = None,
) -> list[TreatedParcel]:
    """The enterprise reports treated parcels for ``year``. Refused (nothing stored) when no annual plan exists
    for that year, a parcel lies outside the licence, or it overlaps a parcel already reported (counted twice).
    A parcel reported again unchanged (same code, mine, year, polygon) is skipped: re-importing is idempotent.
    Returns the newly stored parcels."""
    _may(session, actor, "report", "treated_parcel", mine)
    ap = session.scalar(select(AnnualPlan).where(AnnualPlan.mine_id == mine.id, AnnualPlan.year == year))
    if ap is None:
        raise ValidationFailed(
            f"mine {mine.licence_no} has no annual plan for {year}: enter the annual plan "
            "before reporting achievement (无年度计划，不能上报完成情况)"
        )
    already = {
        t.code: t
        for t in session.scalars(select(TreatedParcel).where(TreatedParcel.code.in_([p.code for p in parcels])))
    }
    errors = []
    fresh = []
    for p in parcels:
        old = already.get(p.code)
        if old is None:
            fresh.append(p)
        elif old.mine_id == mine.id and old.year == year and old.geometry.equals_exact(_multi(p.geometry), 0.01):
            continue  # the same parcel reported again (re-import): unchanged
        else:
            errors.append(f"parcel {p.code}: already reported with other content (mine, year or polygon differ)")
    parcels = fresh
    # land may be treated and then reclaimed: overlaps count twice only within one purpose
    groups: dict[ParcelPurpose, list[ParcelInput]] = defaultdict(list)
    for p in parcels:
        try:
            groups[ParcelPurpose.parse(p.purpose)].append(p)
        except ValueError as exc:
            errors.append(f"parcel {p.code}: {exc}")
    for purpose, group in groups.items():
        existing = [
            (t.code, t.geometry)
            for t in session.scalars(
                select(TreatedParcel).where(
                    TreatedParcel.mine_id == mine.id,
                    TreatedParcel.purpose == purpose,
                    TreatedParcel.state != ParcelState.REJECTED,
                )
            )
        ]
        errors += _check_parcels(
            mine, group, what=f"report {mine.licence_no} {year} {purpose.value}", existing=existing
        )
    if errors:
        raise ValidationFailed("; ".join(errors))
    out = []
    for p in parcels:
        g = _multi(p.geometry)
        t = TreatedParcel(
            code=p.code,
            mine_id=mine.id,
            annual_plan_id=ap.id,
            year=year,
            purpose=ParcelPurpose.parse(p.purpose),
            land_type=LandType.parse(p.land_type),
            works=p.works,
            spending_yuan=int(p.spending_yuan),
            reported_date=reported_date,
            area_ha=round(area_ha(g), 4),
            geometry=g,
            state=ParcelState.REPORTED,
            illustrative=illustrative,
        )
        session.add(t)
        out.append(t)
    session.flush()
    return out


def unstable_areas(session: Session) -> list[BaseGeometry]:
    """Confirmed or candidate subsidence areas whose ground is still moving (active or declining)."""
    return [
        a.geometry
        for a in session.scalars(
            select(SubsidenceArea).where(SubsidenceArea.stability.in_([MovementStage.ACTIVE, MovementStage.DECLINING]))
        )
        if a.geometry is not None
    ]


def verify_by_remote_sensing(
    session: Session,
    parcels: list[TreatedParcel],
    *,
    ndvi_before: np.ndarray,
    ndvi_after: np.ndarray,
    grid,
    on: date,
    thresholds: VerificationThresholds = VerificationThresholds(),
    actor: Actor | None = None,
) -> list[dict[str, Any]]:
    """Check reported parcels against NDVI before/after (same grid, storage CRS) and ground stability from the
    census; each parcel becomes verified_rs or rejected with its reasons. Returns one result dict per parcel."""
    unstable = unstable_areas(session)
    results = []
    for t in parcels:
        if actor is not None:
            authorize(session, actor, "verify", t, "treated_parcel")
        if t.state != ParcelState.REPORTED:
            raise Conflict(f"parcel {t.code} is {t.state.value}; only reported parcels are checked by remote sensing")
    for t in parcels:
        # the NDVI grid may be in another projected CRS than the storage CRS: bring the parcel to the grid
        b, a, valid, n = zonal_ndvi(
            transform_geometry(t.geometry, STORAGE_CRS, grid.crs), ndvi_before, ndvi_after, grid
        )
        evidence = ParcelEvidence(
            ndvi_before=b,
            ndvi_after=a,
            valid_fraction=valid,
            n_pixels=n,
            stable_fraction=stable_fraction(t.geometry, unstable),
        )
        verdict = judge(evidence, t.land_type.value, thresholds)
        t.rs_ndvi_before = None if np.isnan(b) else round(b, 4)
        t.rs_ndvi_after = None if np.isnan(a) else round(a, 4)
        t.rs_stable_fraction = round(evidence.stable_fraction, 4)
        t.verified_date = on
        t.state = ParcelState.VERIFIED_RS if verdict.verified else ParcelState.REJECTED
        t.state_reason = None if verdict.verified else "；".join(verdict.reasons)
        results.append(
            {
                "parcel": t.code,
                "state": t.state.value,
                "reasons": verdict.reasons,
                "ndvi_before": t.rs_ndvi_before,
                "ndvi_after": t.rs_ndvi_after,
                "valid_fraction": round(valid, 3),
                "stable_fraction": t.rs_stable_fraction,
            }
        )
    session.flush()
    return results


def field_acceptance(
    session: Session,
    parcel: TreatedParcel,
    *,
    passed: bool,
    on: date,
    reason: str | None = None,
    inspectors: list[str] | None = None,
    actor: Actor | None = None,
) -> TreatedParcel:
    """The bureau's field acceptance of a parcel already verified by remote sensing (at least two inspectors)."""
    if actor is not None:
        authorize(session, actor, "accept", parcel, "treated_parcel")
    if len(set(inspectors or [])) < 2:
        raise ValidationFailed(
            f"parcel {parcel.code}: field acceptance needs at least two inspectors present (现场验收至少两名检查人员)"
        )
    if parcel.state != ParcelState.VERIFIED_RS:
        raise Conflict(
            f"parcel {parcel.code} is {parcel.state.value}: field acceptance follows remote-sensing verification"
        )
    if not passed and not reason:
        raise ValidationFailed(f"parcel {parcel.code}: a rejection needs a reason")
    before = parcel.state.value
    parcel.state = ParcelState.ACCEPTED if passed else ParcelState.REJECTED
    parcel.accepted_date = on if passed else None
    parcel.state_reason = reason
    session.flush()
    record_event(
        session,
        entity="treated_parcel",
        entity_id=parcel.id,
        entity_key=parcel.code,
        action="field_acceptance",
        before={"state": before},
        after={"state": parcel.state.value, "inspectors": inspectors or []},
        reason=reason,
    )
    return parcel


# ------------------------------------------------------------------------------------------------ the gap

COUNTED_STATES = (ParcelState.VERIFIED_RS, ParcelState.ACCEPTED)


@dataclass
class GapRow:
    """Planned against achieved for one group (mine, town) and year. Areas ha, money yuan."""

    key: str
    name: str
    year: int
    planned_ha: float = 0.0
    reported_ha: float = 0.0
    achieved_ha: float = 0.0  #: verified by remote sensing or accepted
    rejected_ha: float = 0.0
    budget_yuan: int = 0
    spent_yuan: int = 0
    late_ha: float = 0.0  #: achieved but reported after the year's end
    planned_treat_ha: float = 0.0
    planned_reclaim_ha: float = 0.0
    achieved_treat_ha: float = 0.0
    achieved_reclaim_ha: float = 0.0
    by_land_type: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def gap_ha(self) -> float:
        return max(0.0, self.planned_ha - self.achieved_ha)

    @property
    def ratio(self) -> float | None:
        return None if self.planned_ha == 0 else self.achieved_ha / self.planned_ha

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "year": self.year,
            "planned_ha": round(self.planned_ha, 2),
            "reported_ha": round(self.reported_ha, 2),
            "achieved_ha": round(self.achieved_ha, 2),
            "rejected_ha": round(self.rejected_ha, 2),
            "gap_ha": round(self.gap_ha, 2),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "budget_yuan": self.budget_yuan,
            "spent_yuan": self.spent_yuan,
            "late_ha": round(self.late_ha, 2),
            "planned_treat_ha": round(self.planned_treat_ha, 2),
            "planned_reclaim_ha": round(self.planned_reclaim_ha, 2),
            "achieved_treat_ha": round(self.achieved_treat_ha, 2),
            "achieved_reclaim_ha": round(self.achieved_reclaim_ha, 2),
            "on_time": self.late_ha == 0,
            "by_land_type": self.by_land_type,
        }


def plan_gap(session: Session, year: int, *, by: str = "mine") -> list[GapRow]:
    """Plan against achievement for ``year``, per mine or per town (``by`` = "mine" | "town")."""
    if by not in ("mine", "town"):
        raise ValidationFailed(f"group by 'mine' or 'town', not {by!r}")
    rows: dict[str, GapRow] = {}
    mines = {m.id: m for m in session.scalars(select(Mine))}
    towns = {t.id: t for t in session.scalars(select(AdminArea))}

    def row_for(mine: Mine) -> GapRow:
        if by == "mine":
            key, name = mine.licence_no, mine.name_zh
        else:
            town = towns.get(mine.town_id)
            key, name = (town.code, town.name_zh) if town else ("-", "未定")
        return rows.setdefault(key, GapRow(key=key, name=name, year=year))

    for ap in session.scalars(select(AnnualPlan).where(AnnualPlan.year == year)):
        r = row_for(mines[ap.mine_id])
        r.planned_ha += ap.target_treat_ha + ap.target_reclaim_ha
        r.planned_treat_ha += ap.target_treat_ha
        r.planned_reclaim_ha += ap.target_reclaim_ha
        r.budget_yuan += ap.budget_yuan
        for lt, ha in (ap.targets_by_land_type or {}).items():
            r.by_land_type.setdefault(lt, {"planned_ha": 0.0, "achieved_ha": 0.0})["planned_ha"] += ha
    year_end = date(year, 12, 31)
    for t in session.scalars(select(TreatedParcel).where(TreatedParcel.year == year)):
        r = row_for(mines[t.mine_id])
        r.reported_ha += t.area_ha
        r.spent_yuan += t.spending_yuan
        if t.state in COUNTED_STATES:
            r.achieved_ha += t.area_ha
            if t.purpose == ParcelPurpose.TREAT:
                r.achieved_treat_ha += t.area_ha
            else:
                r.achieved_reclaim_ha += t.area_ha
            r.by_land_type.setdefault(t.land_type.value, {"planned_ha": 0.0, "achieved_ha": 0.0})["achieved_ha"] += (
                t.area_ha
            )
            if t.reported_date > year_end:
                r.late_ha += t.area_ha
        elif t.state == ParcelState.REJECTED:
            r.rejected_ha += t.area_ha
    return sorted(rows.values(), key=lambda r: r.key)


def open_shortfall_problems(session: Session, year: int, today: date) -> list[str]:
    """From :func:`judgement_date` (1 April of the next year), a mine whose verified achievement falls short of
    its annual plan gets one category-1 problem (never twice for the same mine and year). Returns the codes of
    problems opened now."""
    if today < judgement_date(year):
        return []
    opened = []
    mines = {m.licence_no: m for m in session.scalars(select(Mine))}
    for row in plan_gap(session, year, by="mine"):
        if row.planned_ha <= 0 or row.achieved_ha >= SHORTFALL_RATIO * row.planned_ha:
            continue
        mine = mines[row.key]
        problem, created = open_problem(
            session,
            category=ProblemCategory.SUBSIDENCE_CRACKS,
            source=ProblemSource.ANNUAL_ASSESSMENT,
            found_date=today,
            mine=mine,
            origin_key=f"plan-gap:{mine.licence_no}:{year}",
            title=f"{mine.name_zh}{year}年度治理与复垦计划未完成（完成 {row.achieved_ha:.1f}/{row.planned_ha:.1f} 公顷）",
            description=(
                f"{year}年度计划治理复垦 {row.planned_ha:.2f} 公顷，经遥感核查和验收确认完成 "
                f"{row.achieved_ha:.2f} 公顷，差 {row.gap_ha:.2f} 公顷。"
            ),
            requirement="按矿山地质环境保护与土地复垦方案及年度计划完成治理复垦任务",
        )
        if created:
            opened.append(problem.code)
    return opened


# ------------------------------------------------------------------------------------- gate integration


def gate_plan(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    """The mine's protection and reclamation plan (矿山地质环境保护与土地复垦方案): none entered → the gate
    cannot judge the mine ("enter the plan"); a current plan whose validity ended → refused from the day
    after ``valid_to`` (the date the approved plan set), a warning within 90 days before it."""
    from subsidence.vocabulary import DeadlineSource

    plan = current_plan(session, mine)
    if plan is None:
        return [
            GateReason(
                rule="missing_plan",
                record=mine.licence_no,
                record_kind="mine",
                legal_basis=PLAN_BASIS,
                message=f"矿山 {mine.name_zh} 未录入矿山地质环境保护与土地复垦方案 / no protection and reclamation plan entered",
                enter="录入矿山地质环境保护与土地复垦方案（文号、批复日期、适用期限、年度计划） / enter the mine's plan",
            )
        ]
    if (plan.valid_to - today).days > PLAN_EXPIRY_WARNING_DAYS:
        return []
    return [
        GateReason(
            rule="missing_plan",
            record=plan.code,
            record_kind="reclamation_plan",
            legal_basis=PLAN_BASIS,
            details={"valid_to": plan.valid_to.isoformat(), "doc_no": plan.doc_no},
            message=f"矿山地质环境保护与土地复垦方案 {plan.code} 适用期至 {plan.valid_to} / the plan is valid to {plan.valid_to}",
            deadline=plan.valid_to,
            deadline_set_by=DeadlineSource(
                "plan", plan.doc_no, plan.approval_date, "矿山地质环境保护与土地复垦方案批复"
            ),
            remedy="修编方案并经批准后录入新版本 / revise the plan and enter the approved revision",
        )
    ]


def gate_annual_plan(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    """The last judged year's annual plan against achievement. Reported parcels still awaiting verification
    count as pending, not as 0: if they would close the gap the finding waits for verification. A real
    shortfall is judged by the problem opened for it (``plan-gap:<licence>:<year>``; its notice sets the
    deadline)."""
    from dataclasses import replace

    from subsidence.ledger.enforcement import tracked_finding

    year = last_judged_year(today)
    for row in plan_gap(session, year, by="mine"):
        if row.key != mine.licence_no or row.planned_ha <= 0 or row.achieved_ha >= SHORTFALL_RATIO * row.planned_ha:
            continue
        pending_ha = max(0.0, row.reported_ha - row.achieved_ha - row.rejected_ha)
        details = {**row.as_dict(), "pending_ha": round(pending_ha, 4)}
        base = GateReason(
            rule="annual_plan_shortfall",
            record=f"{mine.licence_no}:{year}",
            record_kind="annual_plan",
            legal_basis=BASIS,
            details=details,
            message=(
                f"{year}年度治理与复垦计划经核查完成 {row.achieved_ha:.1f}/{row.planned_ha:.1f} 公顷，"
                f"另有 {pending_ha:.1f} 公顷已上报待核查 / {year} annual plan: {row.achieved_ha:.1f} of "
                f"{row.planned_ha:.1f} ha verified, {pending_ha:.1f} ha reported and awaiting verification"
            ),
        )
        if row.achieved_ha + pending_ha >= SHORTFALL_RATIO * row.planned_ha:
            return [
                replace(
                    base,
                    pending="verification",
                    remedy="待遥感核查和验收确认已上报的地块 / verify the reported parcels",
                )
            ]
        finding = tracked_finding(session, f"plan-gap:{mine.licence_no}:{year}", base)
        return [finding] if finding is not None else []
    return []


def find_parcel(session: Session, code: str) -> TreatedParcel:
    t = session.scalar(select(TreatedParcel).where(TreatedParcel.code == code))
    if t is None:
        raise NotFound(f"no treated parcel {code!r}")
    return t
