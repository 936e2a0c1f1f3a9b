"""Census service: saving censuses, expert review (专家评审), the baseline, change, vegetation and PV land.

Rules that live here (shared by CLI and API):

* A saved census's areas are **candidates** (待评审). Reviewers confirm, reject, merge or split candidates,
  always with a reason and a reviewer (by role/unit); every decision is a :class:`ReviewDecision` row and
  every area change goes to the audit trail with the reviewer as actor and the reason.
* **Confirmed** areas form the baseline (摸清底数), and never count the same ground twice: a confirmation that
  overlaps a confirmed area is refused with the overlap named (ha, 亩), or, when asked, merged into one new
  confirmed area (:func:`confirm` ``merge_overlapping``). The numbers are :func:`subsidence.census.queries.baseline_summary`.
* Confirming an untreated area opens a category-1 problem (地面塌陷、裂缝治理不到位) in the ledger for its
  principal mine — the mine whose panels lie under it, else the mine with most overlap — with the origin
  key ``subsidence-area:{code}``. Never twice for the same ground: area codes are per census, so before
  opening, an open (not accepted/withdrawn) category-1 problem of an earlier census area of the same mine
  (or, outside every right, the same town) whose geometry overlaps this area by more than
  :data:`SAME_GROUND_OVERLAP` of the smaller one is looked for; if found, the area is linked to it (area
  attribute ``problem_code``, audit event ``problem.linked``) and no new problem opens. An area outside every
  mining right has no mine; its problem is opened for the town and says that mining beyond a licence is
  suspected (疑似越界开采).
* Vegetation loss over goaf opens one category-3 problem (植被恢复不到位) per town and image pair.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.census.kernels.attribution import (
    AttributionParams,
    Attributor,
    MineRight,
    PanelFootprint,
    Town,
)
from subsidence.census.kernels.basins import _as_multipolygon
from subsidence.census.kernels.change import AreaChange, AreaSnapshot, ChangeParams, compare
from subsidence.census.kernels.pipeline import Census
from subsidence.census.kernels.pv import PVParams, PVResult, StableArea, pv_candidates
from subsidence.census.kernels.vegetation import VegetationChangeResult
from subsidence.census.models import (
    CensusRun,
    ReviewDecision,
    SubsidenceArea,
    SubsidenceAreaMine,
    SubsidenceAreaPanel,
    SubsidenceAreaTown,
    VegetationChange,
)
from subsidence.core.models import AdminArea, Mine, Panel
from subsidence.db.audit import acting_as, record_event
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.geo import STORAGE_CRS, ha_to_mu, m2_to_ha, transform_geometry
from subsidence.ledger.models import Problem
from subsidence.ledger.problems import open_problem
from subsidence.vocabulary import (
    CLOSED_STATES,
    AreaLevel,
    MovementStage,
    ProblemCategory,
    ProblemSource,
    ReviewAction,
    ReviewState,
    SubsidenceSource,
    VegetationChangeKind,
)

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------ reference layers
def reference_layers(session: Session) -> tuple[list[MineRight], list[PanelFootprint], list[Town]]:
    """Mines (mining rights), panels and towns from the database, as attribution inputs (storage CRS)."""
    mines = [
        MineRight(key=m.licence_no, name=m.name_zh, geometry=m.geometry, id=m.id)
        for m in session.scalars(select(Mine).where(Mine.geometry.is_not(None)).order_by(Mine.id))
    ]
    lic = dict(session.execute(select(Mine.id, Mine.licence_no)).all())
    panels = [
        PanelFootprint(
            code=p.code,
            mine_key=lic.get(p.mine_id),
            geometry=p.geometry,
            start_date=p.start_date,
            end_date=p.end_date,
            id=p.id,
        )
        for p in session.scalars(select(Panel).where(Panel.geometry.is_not(None)).order_by(Panel.id))
    ]
    towns = [
        Town(key=t.code, name=t.name_zh, geometry=t.geometry, id=t.id)
        for t in session.scalars(
            select(AdminArea)
            .where(AdminArea.level == AreaLevel.TOWN, AdminArea.geometry.is_not(None))
            .order_by(AdminArea.id)
        )
    ]
    return mines, panels, towns


def _ids(session: Session, model, key_col, keys: Sequence[str]) -> dict[str, int]:
    if not keys:
        return {}
    return {k: i for i, k in session.execute(select(model.id, key_col).where(key_col.in_(list(keys)))).all()}


# ------------------------------------------------------------------------------------------ saving a census
def _next_run_code(session: Session, census_date: date) -> str:
    prefix = f"CEN-{census_date:%Y%m%d}-"
    last = session.scalar(select(func.max(CensusRun.code)).where(CensusRun.code.like(prefix + "%")))
    n = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{n:02d}"


def save_census(
    session: Session,
    census: Census,
    *,
    census_date: date,
    actor: str,
    source: SubsidenceSource = SubsidenceSource.REMOTE_SENSING,
    illustrative: bool = False,
) -> CensusRun:
    """Store a census and its areas as review candidates, with mine/town/panel overlaps. Flushes, no commit."""
    d = census.deformation
    with acting_as(session, actor, f"census of {d.source}"):
        run = CensusRun(
            code=_next_run_code(session, census_date),
            census_date=census_date,
            period_start=(d.observed or (None, None))[0],
            source_file=str(d.source)[:500],
            kind=census.basins.kind,
            raster_crs=d.grid.crs.to_string()[:80],
            pixel_size_m=d.grid.pixel_size_m,
            parameters=census.parameters(),
            notes=census.notes,
            created_by=actor,
            n_areas=len(census.areas),
        )
        session.add(run)
        session.flush()
        mine_ids = _ids(
            session,
            Mine,
            Mine.licence_no,
            sorted(
                {o.key for a in census.areas for o in a.attribution.mines}
                | {k for a in census.areas for k in a.attribution.causing_mines}
            ),
        )
        town_ids = _ids(
            session, AdminArea, AdminArea.code, sorted({o.key for a in census.areas for o in a.attribution.towns})
        )
        panel_ids = _ids(
            session, Panel, Panel.code, sorted({o.key for a in census.areas for o in a.attribution.panels})
        )
        for k, a in enumerate(census.areas, start=1):
            b, at = a.basin, a.attribution
            area = SubsidenceArea(
                code=f"{run.code}-A{k:03d}",
                source=source,
                review_state=ReviewState.CANDIDATE,
                stability=b.stage,
                area_ha=b.area_ha,
                max_subsidence_mm=_num(b.max_subsidence_mm),
                mean_subsidence_mm=_num(b.mean_subsidence_mm),
                volume_m3=_num(b.volume_m3),
                mean_rate_mm_per_yr=b.mean_rate_mm_per_yr,
                first_seen=b.first_seen,
                last_seen=b.last_seen,
                mine_id=mine_ids.get(at.principal_mine or ""),
                town_id=town_ids.get(at.principal_town or ""),
                geometry=_as_multipolygon(a.geometry),
                census_id=run.id,
                source_detail=str(b.source)[:300],
                n_pixels=b.n_pixels,
                max_is_lower_bound=b.max_is_lower_bound,
                decorrelated_ha=b.decorrelated_ha,
                filled_fraction=b.filled_fraction,
                filled_geometry=_as_multipolygon(a.filled_geometry) if a.filled_geometry is not None else None,
                outside_mining_right=at.outside_mining_right,
                outside_mining_right_ha=at.outside_all_rights_ha,
                beyond_licence=at.beyond_licence,
                beyond_licence_ha=at.beyond_licence_ha,
                attributes={
                    "stage_fractions": b.stage_fractions,
                    "peak_xy_storage": _peak(b, d),
                    "panels_outside_own_licence": at.panels_outside_own_licence,
                    "causing_mines": at.causing_mines,
                    **b.extra,
                    "outside_causing_licence_ha": round(at.outside_causing_licence_ha, 4),
                    "mining_rights_checked": at.rights_checked,
                },
                illustrative=illustrative,
            )
            session.add(area)
            session.flush()
            causing = set(at.causing_mines)
            for o in at.mines:
                if o.key in mine_ids:
                    session.add(
                        SubsidenceAreaMine(
                            area_id=area.id, mine_id=mine_ids[o.key], overlap_ha=o.overlap_ha, causing=o.key in causing
                        )
                    )
            for key in causing - {o.key for o in at.mines}:  # causing mine whose right does not overlap at all
                if key in mine_ids:
                    session.add(
                        SubsidenceAreaMine(area_id=area.id, mine_id=mine_ids[key], overlap_ha=0.0, causing=True)
                    )
            for o in at.towns:
                if o.key in town_ids:
                    session.add(SubsidenceAreaTown(area_id=area.id, town_id=town_ids[o.key], overlap_ha=o.overlap_ha))
            for o in at.panels:
                if o.key in panel_ids:
                    session.add(
                        SubsidenceAreaPanel(area_id=area.id, panel_id=panel_ids[o.key], overlap_ha=o.overlap_ha)
                    )
        session.flush()
    log.info("census %s saved: %d candidate areas", run.code, len(census.areas))
    return run


def _num(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else float(v)


def _peak(b, d) -> list[float] | None:
    if b.peak_xy is None:
        return None
    pt = transform_geometry(shapely.Point(*b.peak_xy), d.grid.crs, STORAGE_CRS)
    return [round(pt.x, 2), round(pt.y, 2)]


# ------------------------------------------------------------------------------------------ review
def get_area(session: Session, code: str) -> SubsidenceArea:
    area = session.scalar(select(SubsidenceArea).where(SubsidenceArea.code == code))
    if area is None:
        raise NotFound(f"沉陷区 {code} 不存在 / subsidence area {code} not found")
    return area


def list_areas(
    session: Session, *, state: ReviewState | None = None, census: str | None = None
) -> list[SubsidenceArea]:
    q = select(SubsidenceArea).order_by(SubsidenceArea.code)
    if state is not None:
        q = q.where(SubsidenceArea.review_state == state)
    if census is not None:
        run = session.scalar(select(CensusRun).where(CensusRun.code == census))
        if run is None:
            raise NotFound(f"普查 {census} 不存在 / census {census} not found")
        q = q.where(SubsidenceArea.census_id == run.id)
    return list(session.scalars(q))


def baseline(session: Session) -> list[SubsidenceArea]:
    """The reviewed baseline: all confirmed areas (the areas; the numbers: :func:`census.queries.baseline_summary`)."""
    return list_areas(session, state=ReviewState.CONFIRMED)


def _check(reason: str, reviewer: str) -> None:
    if not reason or not reason.strip():
        raise ValidationFailed("评审意见必填 / a reason is required for every review decision")
    if not reviewer or not reviewer.strip():
        raise ValidationFailed("评审人必填（按角色/单位） / the reviewer (role and unit) is required")


def _authorize(session: Session, actor, area: SubsidenceArea) -> None:
    if actor is not None:
        from subsidence.access.policy import authorize

        authorize(session, actor, "review", area)


def _candidate(session: Session, code: str, actor) -> SubsidenceArea:
    area = get_area(session, code)
    _authorize(session, actor, area)
    if area.review_state != ReviewState.CANDIDATE:
        raise Conflict(
            f"沉陷区 {code} 已评审（{area.review_state.label('zh')}），不能再次评审 / "
            f"area {code} is {area.review_state.value}, only candidates can be reviewed"
        )
    return area


def _decision(
    session: Session,
    action: ReviewAction,
    codes: list[str],
    reason: str,
    reviewer: str,
    results: list[str] | None = None,
    meeting: str | None = None,
) -> ReviewDecision:
    dec = ReviewDecision(
        action=action, area_codes=codes, result_codes=results, reason=reason, reviewer=reviewer, meeting=meeting
    )
    session.add(dec)
    session.flush()
    for c in codes:
        a = get_area(session, c)
        record_event(
            session,
            entity="subsidence_area",
            entity_id=a.id,
            entity_key=c,
            action=f"review.{action.value}",
            after={"decision_id": dec.id, "results": results},
            reason=reason,
            actor=reviewer,
        )
    return dec


#: an earlier area "is the same ground" when the overlap exceeds this fraction of the smaller of the two
SAME_GROUND_OVERLAP = 0.30


@dataclass
class ReviewOutcome:
    decision: ReviewDecision
    areas: list[SubsidenceArea]
    problem: Problem | None = None
    problem_created: bool = False
    #: an open problem of the same ground (from an earlier census) was linked instead of opening one
    problem_linked: bool = False


class OverlapRefused(Conflict):
    """A confirmation would count confirmed ground twice; ``overlaps`` names each area and its overlap (ha)."""

    def __init__(self, code: str, overlaps: list, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.overlaps = overlaps


def _overlap_text(overlaps) -> str:
    return "、".join(f"{o.code}（{o.overlap_ha:.2f} 公顷 / {o.overlap_mu:.1f} 亩）" for o in overlaps)


def confirm(
    session: Session,
    code: str,
    *,
    reviewer: str,
    reason: str,
    today: date,
    meeting: str | None = None,
    actor=None,
    merge_overlapping: bool = False,
) -> ReviewOutcome:
    """Confirm a candidate; an untreated area opens its category-1 problem, or is linked to the open one of
    the same ground from an earlier census (never twice).

    The baseline never counts the same ground twice: when the candidate overlaps an already confirmed area by more
    than :data:`~subsidence.census.queries.OVERLAP_TOLERANCE_HA`, the confirmation is refused
    (:class:`OverlapRefused`, naming each area and the overlap in ha and 亩) unless ``merge_overlapping``: then a new
    confirmed area (``{code}-M1``) covers the union, the candidate and the overlapped areas become 已合并 (merged),
    and the new area carries the candidate's (the later census's) measurements. A treated area is never merged
    into: split the candidate to leave the treated ground out, or reject it.
    """
    from subsidence.census.queries import confirmed_overlaps

    _check(reason, reviewer)
    area = _candidate(session, code, actor)
    overlaps = confirmed_overlaps(session, area.geometry, exclude=[area.id])
    if overlaps:
        text = _overlap_text(overlaps)
        treated = [o for o in overlaps if o.treated]
        if treated or not merge_overlapping:
            fix = (
                (
                    "已治理区域不能合并：请拆分该沉陷区以排除已治理部分，或予以否定 / treated ground is never merged into: split "
                    "the candidate to leave it out, or reject it"
                )
                if treated
                else (
                    "请选择合并确认（--merge），或拆分/否定该沉陷区 / confirm with merge (--merge) to replace them by the "
                    "union, or split or reject the candidate"
                )
            )
            raise OverlapRefused(
                code,
                overlaps,
                f"沉陷区 {code} 与已确认的沉陷区重叠：{text}，同一地面不能重复计入底数。{fix} / area {code} "
                f"overlaps confirmed area(s) {', '.join(f'{o.code} by {o.overlap_ha:.2f} ha' for o in overlaps)}",
            )
        return _confirm_merged(session, area, overlaps, reviewer=reviewer, reason=reason, today=today, meeting=meeting)
    with acting_as(session, reviewer, reason):
        area.review_state = ReviewState.CONFIRMED
        session.flush()
        dec = _decision(session, ReviewAction.CONFIRM, [code], reason, reviewer, meeting=meeting)
        problem, created = open_area_problem(session, area, today)
        linked = problem is not None and not created and problem.subsidence_area_id != area.id
        if problem is not None:
            record_event(
                session,
                entity="review_decision",
                entity_id=dec.id,
                entity_key=code,
                action="review.confirm.problem_linked" if linked else "review.confirm.problem",
                after={"problem": problem.code, "created": created, "linked_existing": linked},
                reason=reason,
                actor=reviewer,
            )
    return ReviewOutcome(decision=dec, areas=[area], problem=problem, problem_created=created, problem_linked=linked)


def _confirm_merged(
    session: Session, area: SubsidenceArea, overlaps, *, reviewer: str, reason: str, today: date, meeting: str | None
) -> ReviewOutcome:
    """Confirm ``area`` merged with the confirmed areas it overlaps: one new confirmed area covers the union."""
    olds = [get_area(session, o.code) for o in overlaps]
    census = session.get(CensusRun, area.census_id) if area.census_id is not None else None
    with acting_as(session, reviewer, reason):
        geom = shapely.union_all([area.geometry, *[a.geometry for a in olds]])
        codes = [area.code, *[a.code for a in olds]]
        new = _child(
            session,
            area,
            _next_child_code(session, area.code, "M"),
            geom,
            codes,
            max_subsidence_mm=max(
                (a.max_subsidence_mm for a in [area, *olds] if a.max_subsidence_mm is not None), default=None
            ),
            mean_subsidence_mm=area.mean_subsidence_mm,
            mean_rate_mm_per_yr=area.mean_rate_mm_per_yr,
            max_is_lower_bound=area.max_is_lower_bound,
            filled_fraction=area.filled_fraction,
            notes=f"确认时与已确认沉陷区 {'、'.join(a.code for a in olds)} 合并（重叠 {_overlap_text(overlaps)}）；"
            f"量测值取 {area.code}（较新一期普查） / merged on confirmation with the confirmed area(s) "
            f"it overlaps; measurements are those of {area.code}",
        )
        new.stability = area.stability
        new.first_seen = min((a.first_seen for a in [area, *olds] if a.first_seen), default=None)
        new.last_seen = max((a.last_seen for a in [area, *olds] if a.last_seen), default=None)
        new.review_state = ReviewState.CONFIRMED
        new.attributes = {
            "merged_on_confirmation": [{"code": o.code, "overlap_ha": round(o.overlap_ha, 4)} for o in overlaps]
        }
        superseded_on = (census.census_date if census is not None else today).isoformat()
        area.review_state = ReviewState.MERGED
        for a in olds:
            a.review_state = ReviewState.MERGED
            a.attributes = {**(a.attributes or {}), "superseded_by": new.code, "superseded_on": superseded_on}
        session.flush()
        _reattribute(session, new, None)
        dec = _decision(session, ReviewAction.MERGE, codes, reason, reviewer, results=[new.code], meeting=meeting)
        record_event(
            session,
            entity="subsidence_area",
            entity_id=new.id,
            entity_key=new.code,
            action="review.confirm.merged",
            after={"from": codes, "overlaps_ha": {o.code: round(o.overlap_ha, 4) for o in overlaps}},
            reason=reason,
            actor=reviewer,
        )
        problem, created = open_area_problem(session, new, today)
        linked = problem is not None and not created
        if problem is not None:
            record_event(
                session,
                entity="review_decision",
                entity_id=dec.id,
                entity_key=new.code,
                action="review.confirm.problem_linked" if linked else "review.confirm.problem",
                after={"problem": problem.code, "created": created, "linked_existing": linked},
                reason=reason,
                actor=reviewer,
            )
    return ReviewOutcome(decision=dec, areas=[new], problem=problem, problem_created=created, problem_linked=linked)


def open_area_problem(session: Session, area: SubsidenceArea, today: date) -> tuple[Problem | None, bool]:
    """The category-1 problem of a confirmed, untreated area (never twice for the same ground).

    Returns (problem, created): the area's own problem (``subsidence-area:{code}``), else an open problem of
    the same ground from an earlier census (linked, not created), else a new one.
    """
    if area.treated or area.review_state != ReviewState.CONFIRMED:
        return None, False
    mine = session.get(Mine, area.mine_id) if area.mine_id is not None else None
    if mine is None and not area.outside_mining_right:
        return None, False
    own = session.scalar(select(Problem).where(Problem.origin_key == f"subsidence-area:{area.code}"))
    if own is not None:
        return own, False
    same = same_ground_problem(session, area, mine)
    if same is not None:
        problem, overlap = same
        area.attributes = {
            **(area.attributes or {}),
            "problem_code": problem.code,
            "problem_same_ground_overlap": round(overlap, 3),
        }
        session.flush()
        record_event(
            session,
            entity="problem",
            entity_id=problem.id,
            entity_key=problem.code,
            action="problem.linked",
            after={"subsidence_area": area.code, "overlap_of_smaller": round(overlap, 3)},
            reason=f"沉陷区 {area.code} 与已立案问题 {problem.code} 为同一沉陷（重叠 {overlap:.0%}），不重复立案 / "
            f"area {area.code} is the same ground as open problem {problem.code}; not opened twice",
        )
        log.info("area %s linked to open problem %s (overlap %.0f %%)", area.code, problem.code, overlap * 100)
        return problem, False
    facts = (
        f"面积 {area.area_ha:.2f} 公顷（{ha_to_mu(area.area_ha):.1f} 亩），最大下沉 {area.max_subsidence_mm or 0:.0f} mm"
        + ("（下限，中心失相干）" if area.max_is_lower_bound else "")
    )
    if area.beyond_licence:
        facts += f"；疑似越界开采，矿权外面积 {area.beyond_licence_ha or 0:.2f} 公顷"
    title = (
        f"沉陷区 {area.code} 未治理（{mine.name_zh}）"
        if mine is not None
        else f"沉陷区 {area.code} 位于采矿权范围外，疑似越界开采，需核查"
    )
    problem, created = open_problem(
        session,
        category=ProblemCategory.SUBSIDENCE_CRACKS,
        title=title[:300],
        source=ProblemSource.REMOTE_SENSING,
        found_date=today,
        origin_key=f"subsidence-area:{area.code}",
        mine=mine,
        town_id=area.town_id,
        description=f"遥感监测经专家评审确认的沉陷区：{facts}。",
        geometry=area.geometry,
        requirement="按矿山地质环境保护与土地复垦方案及年度计划治理（边开采、边治理）。",
    )
    if created:
        problem.subsidence_area_id = area.id
        session.flush()
    return problem, created


def same_ground_problem(session: Session, area: SubsidenceArea, mine: Mine | None) -> tuple[Problem, float] | None:
    """An open category-1 problem opened from another subsidence area on the same ground, with its overlap.

    Same mine (or, for an area outside every right, same town and no mine), geometry overlap above
    :data:`SAME_GROUND_OVERLAP` of the smaller geometry; the largest overlap wins.
    """
    if area.geometry is None or area.geometry.is_empty:
        return None
    q = select(Problem).where(
        Problem.category == ProblemCategory.SUBSIDENCE_CRACKS,
        Problem.state.not_in(list(CLOSED_STATES)),
        Problem.origin_key.like("subsidence-area:%"),
    )
    if mine is not None:
        q = q.where(Problem.mine_id == mine.id)
    else:
        q = q.where(
            Problem.mine_id.is_(None),
            Problem.town_id == area.town_id if area.town_id is not None else Problem.town_id.is_(None),
        )
    best: tuple[Problem, float] | None = None
    for p in session.scalars(q.order_by(Problem.id)):
        geom = p.geometry
        if p.subsidence_area_id is not None:
            src = session.get(SubsidenceArea, p.subsidence_area_id)
            if src is not None and src.geometry is not None:
                geom = src.geometry
        if geom is None or geom.is_empty:
            continue
        smaller = min(geom.area, area.geometry.area)
        if smaller <= 0:
            continue
        overlap = shapely.intersection(geom, area.geometry).area / smaller
        if overlap > SAME_GROUND_OVERLAP and (best is None or overlap > best[1]):
            best = (p, overlap)
    return best


def reject(
    session: Session, code: str, *, reviewer: str, reason: str, meeting: str | None = None, actor=None
) -> ReviewOutcome:
    """Reject a candidate (e.g. atmospheric artefact, not mining subsidence)."""
    _check(reason, reviewer)
    area = _candidate(session, code, actor)
    with acting_as(session, reviewer, reason):
        area.review_state = ReviewState.REJECTED
        session.flush()
        dec = _decision(session, ReviewAction.REJECT, [code], reason, reviewer, meeting=meeting)
    return ReviewOutcome(decision=dec, areas=[area])


def _next_child_code(session: Session, base: str, tag: str) -> str:
    n = 1
    while session.scalar(select(SubsidenceArea.id).where(SubsidenceArea.code == f"{base}-{tag}{n}")) is not None:
        n += 1
    return f"{base}-{tag}{n}"[:60]


def _child(
    session: Session, parent_like: SubsidenceArea, code: str, geometry: BaseGeometry, parents: list[str], **stats
) -> SubsidenceArea:
    a = SubsidenceArea(
        code=code,
        source=parent_like.source,
        review_state=ReviewState.CANDIDATE,
        stability=parent_like.stability,
        census_id=parent_like.census_id,
        source_detail=parent_like.source_detail,
        geometry=_as_multipolygon(geometry),
        area_ha=m2_to_ha(geometry.area),
        parent_codes=parents,
        first_seen=parent_like.first_seen,
        last_seen=parent_like.last_seen,
        illustrative=parent_like.illustrative,
        **stats,
    )
    session.add(a)
    return a


def _reattribute(session: Session, area: SubsidenceArea, attributor: Attributor | None) -> None:
    if attributor is None:
        mines, panels, towns = reference_layers(session)
        attributor = Attributor(mines, panels, towns, AttributionParams())
    at = attributor.attribute(area.geometry)
    mid = _ids(session, Mine, Mine.licence_no, [at.principal_mine] if at.principal_mine else [])
    tid = _ids(session, AdminArea, AdminArea.code, [at.principal_town] if at.principal_town else [])
    area.mine_id = mid.get(at.principal_mine or "")
    area.town_id = tid.get(at.principal_town or "")
    area.outside_mining_right = at.outside_mining_right
    area.outside_mining_right_ha = at.outside_all_rights_ha
    area.beyond_licence = at.beyond_licence
    area.beyond_licence_ha = at.beyond_licence_ha
    session.flush()
    for model in (SubsidenceAreaMine, SubsidenceAreaTown, SubsidenceAreaPanel):
        for row in session.scalars(select(model).where(model.area_id == area.id)):
            session.delete(row)
    ids_m = _ids(session, Mine, Mine.licence_no, [o.key for o in at.mines] + at.causing_mines)
    for o in at.mines:
        if o.key in ids_m:
            session.add(
                SubsidenceAreaMine(
                    area_id=area.id, mine_id=ids_m[o.key], overlap_ha=o.overlap_ha, causing=o.key in at.causing_mines
                )
            )
    ids_t = _ids(session, AdminArea, AdminArea.code, [o.key for o in at.towns])
    for o in at.towns:
        if o.key in ids_t:
            session.add(SubsidenceAreaTown(area_id=area.id, town_id=ids_t[o.key], overlap_ha=o.overlap_ha))
    ids_p = _ids(session, Panel, Panel.code, [o.key for o in at.panels])
    for o in at.panels:
        if o.key in ids_p:
            session.add(SubsidenceAreaPanel(area_id=area.id, panel_id=ids_p[o.key], overlap_ha=o.overlap_ha))
    session.flush()


def merge(
    session: Session, codes: Sequence[str], *, reviewer: str, reason: str, meeting: str | None = None, actor=None
) -> ReviewOutcome:
    """Merge candidates into one new candidate (union geometry; volumes add, maxima take the larger)."""
    _check(reason, reviewer)
    codes = list(dict.fromkeys(codes))
    if len(codes) < 2:
        raise ValidationFailed("合并至少需要两个沉陷区 / merging needs at least two areas")
    areas = [_candidate(session, c, actor) for c in codes]
    with acting_as(session, reviewer, reason):
        geom = shapely.union_all([a.geometry for a in areas])
        total = sum(a.area_ha or 0.0 for a in areas)
        vol = [a.volume_m3 for a in areas if a.volume_m3 is not None]
        mean = sum((a.mean_subsidence_mm or 0.0) * (a.area_ha or 0.0) for a in areas) / total if total else None
        rates = [(a.mean_rate_mm_per_yr, a.area_ha or 0.0) for a in areas if a.mean_rate_mm_per_yr is not None]
        stages = [a.stability for a in areas if a.stability is not None]
        order = [MovementStage.ACTIVE, MovementStage.DECLINING, MovementStage.STABLE, MovementStage.NOT_STARTED]
        first = areas[0]
        new = _child(
            session,
            first,
            _next_child_code(session, first.code, "M"),
            geom,
            codes,
            max_subsidence_mm=max(
                (a.max_subsidence_mm for a in areas if a.max_subsidence_mm is not None), default=None
            ),
            mean_subsidence_mm=mean,
            volume_m3=sum(vol) if vol else None,
            mean_rate_mm_per_yr=(
                sum(r * w for r, w in rates) / sum(w for _, w in rates) if rates and sum(w for _, w in rates) else None
            ),
            max_is_lower_bound=any(a.max_is_lower_bound for a in areas),
            decorrelated_ha=sum(a.decorrelated_ha or 0.0 for a in areas),
            filled_fraction=(
                sum((a.filled_fraction or 0.0) * (a.area_ha or 0.0) for a in areas) / total if total else None
            ),
            n_pixels=sum(a.n_pixels or 0 for a in areas),
        )
        new.stability = min(stages, key=order.index) if stages else None
        new.first_seen = min((a.first_seen for a in areas if a.first_seen), default=None)
        new.last_seen = max((a.last_seen for a in areas if a.last_seen), default=None)
        for a in areas:
            a.review_state = ReviewState.MERGED
        session.flush()
        _reattribute(session, new, None)
        dec = _decision(session, ReviewAction.MERGE, codes, reason, reviewer, results=[new.code], meeting=meeting)
    return ReviewOutcome(decision=dec, areas=[new])


def split(
    session: Session,
    code: str,
    parts: Sequence[BaseGeometry],
    *,
    reviewer: str,
    reason: str,
    meeting: str | None = None,
    actor=None,
    parts_crs: str = STORAGE_CRS,
) -> ReviewOutcome:
    """Split a candidate by the given part polygons (or one dividing line) into new candidates.

    Each part is clipped to the area; the parts must not overlap and must cover the area within 1 %.
    Statistics not recomputable without the raster (volume, mean) are apportioned by area; the maximum
    is kept as an upper bound and noted.
    """
    _check(reason, reviewer)
    area = _candidate(session, code, actor)
    parts = [transform_geometry(p, parts_crs, STORAGE_CRS) for p in parts]
    if len(parts) == 1 and parts[0].geom_type in ("LineString", "MultiLineString"):
        from shapely.ops import split as split_by

        pieces = (
            list(split_by(area.geometry, parts[0]).geoms)
            if not isinstance(area.geometry, MultiPolygon)
            else [g for poly in area.geometry.geoms for g in split_by(poly, parts[0]).geoms]
        )
        parts = [
            shapely.union_all([p for p in pieces if p.representative_point().within(side)])
            for side in _sides(area.geometry, parts[0])
        ]
        parts = [p for p in parts if not p.is_empty]
    clipped = [shapely.intersection(area.geometry, p) for p in parts]
    clipped = [c for c in clipped if c.area > 0]
    if len(clipped) < 2:
        raise ValidationFailed("拆分需要至少两个与沉陷区相交的部分 / a split needs at least two parts inside the area")
    overlap = sum(c.area for c in clipped) - shapely.union_all(clipped).area
    if overlap > 0.001 * area.geometry.area:
        raise ValidationFailed("拆分的各部分相互重叠 / the split parts overlap")
    covered = shapely.union_all(clipped).area / area.geometry.area
    if covered < 0.99:
        raise ValidationFailed(
            f"拆分的各部分只覆盖沉陷区的 {covered:.1%} / the parts cover only {covered:.1%} of the area"
        )
    with acting_as(session, reviewer, reason):
        total = area.geometry.area
        news = []
        for c in clipped:
            f = c.area / total
            news.append(
                _child(
                    session,
                    area,
                    _next_child_code(session, area.code, "S"),
                    c,
                    [code],
                    max_subsidence_mm=area.max_subsidence_mm,
                    mean_subsidence_mm=area.mean_subsidence_mm,
                    volume_m3=None if area.volume_m3 is None else area.volume_m3 * f,
                    mean_rate_mm_per_yr=area.mean_rate_mm_per_yr,
                    max_is_lower_bound=area.max_is_lower_bound,
                    filled_fraction=area.filled_fraction,
                    notes=f"拆分自 {code}：体积按面积分摊，最大下沉为上限 / split from {code}: volume apportioned by "
                    "area, maximum is an upper bound",
                )
            )
            session.flush()
        area.review_state = ReviewState.SPLIT
        session.flush()
        for n in news:
            _reattribute(session, n, None)
        dec = _decision(
            session, ReviewAction.SPLIT, [code], reason, reviewer, results=[n.code for n in news], meeting=meeting
        )
    return ReviewOutcome(decision=dec, areas=news)


def _sides(geom: BaseGeometry, line: BaseGeometry) -> list[BaseGeometry]:
    """The two half-planes of the area's bounding box on either side of a dividing line."""
    from shapely.ops import split as split_by

    minx, miny, maxx, maxy = geom.buffer(1.0).bounds
    box = shapely.box(minx - 1, miny - 1, maxx + 1, maxy + 1)
    ext = shapely.intersection(line, box)
    halves = list(split_by(box, _extend(line, box)).geoms) if not ext.is_empty else [box]
    return halves


def _extend(line: BaseGeometry, box: BaseGeometry) -> BaseGeometry:
    """Extend a line's end segments far enough to cross the whole box."""
    import numpy as np

    coords = np.asarray(line.coords if line.geom_type == "LineString" else line.geoms[0].coords, dtype=float)
    span = max(box.bounds[2] - box.bounds[0], box.bounds[3] - box.bounds[1]) * 4
    a, b = coords[0], coords[1]
    c, d = coords[-2], coords[-1]
    start = a - (b - a) / max(np.hypot(*(b - a)), 1e-9) * span
    end = d + (d - c) / max(np.hypot(*(d - c)), 1e-9) * span
    return shapely.LineString([start, *coords, end])


def mark_treated(session: Session, code: str, *, actor: str, reason: str) -> SubsidenceArea:
    """Record that an area has been treated (治理完成), e.g. after acceptance."""
    area = get_area(session, code)
    with acting_as(session, actor, reason):
        area.treated = True
        session.flush()
    return area


# ------------------------------------------------------------------------------------------ change
def snapshots(session: Session, census_code: str, *, include_rejected: bool = False) -> list[AreaSnapshot]:
    areas = list_areas(session, census=census_code)
    return [
        AreaSnapshot(
            key=a.code,
            geometry=a.geometry,
            area_ha=a.area_ha or 0.0,
            max_subsidence_mm=a.max_subsidence_mm,
            stage=a.stability,
        )
        for a in areas
        if a.geometry is not None
        and (include_rejected or a.review_state in (ReviewState.CANDIDATE, ReviewState.CONFIRMED))
    ]


def compare_censuses(
    session: Session, before: str, after: str, params: ChangeParams = ChangeParams()
) -> list[AreaChange]:  # noqa: B008 (frozen)
    """Change between two saved censuses (rejected, merged-away and split-away areas left out)."""
    return compare(snapshots(session, before), snapshots(session, after), params)


# ------------------------------------------------------------------------------------------ vegetation
@dataclass
class VegetationOutcome:
    rows: list[VegetationChange]
    problems: list[Problem]
    loss_over_goaf_by_town_ha: dict[str, float]


def save_vegetation(
    session: Session,
    result: VegetationChangeResult,
    *,
    date_before: date,
    date_after: date,
    actor: str,
    today: date,
    sources: Sequence[str] = (),
    open_problems: bool = True,
    min_goaf_loss_ha: float | None = None,
    replace: bool = False,
) -> VegetationOutcome:
    """Store loss/recovery polygons (transformed to the storage CRS) and open cat-3 problems for loss over goaf.

    One set of polygons per image pair: saving the same pair again is refused unless ``replace`` (the old
    polygons are deleted, with audit rows; problems already opened are kept and reused).
    """
    mines, panels, towns = reference_layers(session)
    goaf = shapely.union_all([p.geometry for p in panels]) if panels else None
    at = Attributor(mines, [], towns)
    min_goaf = result.params.min_area_ha if min_goaf_loss_ha is None else min_goaf_loss_ha
    tag = f"VEG-{date_before:%Y%m%d}-{date_after:%Y%m%d}"
    old_rows = list(session.scalars(select(VegetationChange).where(VegetationChange.code.like(tag + "-%"))))
    if old_rows and not replace:
        raise Conflict(
            f"{date_before}～{date_after} 的植被变化已入库（{len(old_rows)} 个图斑）/ vegetation change "
            f"{date_before}..{date_after} already saved ({len(old_rows)} polygons); use replace to redo it"
        )
    with acting_as(session, actor, f"vegetation change {date_before}..{date_after} recomputed"):
        for r in old_rows:
            session.delete(r)
        session.flush()
    n0 = 0
    rows: list[VegetationChange] = []
    loss_by_town: dict[str, float] = {}
    loss_geom: dict[str, list[BaseGeometry]] = {}
    with acting_as(session, actor, f"vegetation change {date_before}..{date_after}"):
        town_ids = {t.key: t.id for t in towns}
        town_by_key = {t.key: t for t in towns}
        mine_ids = {m.key: m.id for m in mines}
        for i, p in enumerate(result.patches, start=n0 + 1):
            g = transform_geometry(p.geometry, result.grid.crs, STORAGE_CRS)
            a = at.attribute(g)
            over = m2_to_ha(shapely.intersection(g, goaf).area) if goaf is not None else 0.0
            row = VegetationChange(
                code=f"{tag}-{i:03d}",
                kind=VegetationChangeKind(p.kind),
                date_before=date_before,
                date_after=date_after,
                area_ha=p.area_ha,
                over_goaf_ha=over,
                mean_delta_ndvi=p.mean_delta_ndvi,
                town_id=town_ids.get(a.principal_town or ""),
                mine_id=mine_ids.get(a.principal_mine or ""),
                source_files=list(sources),
                parameters={k: getattr(result.params, k) for k in result.params.__dataclass_fields__},
                geometry=_as_multipolygon(g),
            )
            session.add(row)
            rows.append(row)
            if p.kind == "loss" and over > 0 and goaf is not None:
                for o in a.towns:
                    part = shapely.intersection(shapely.intersection(g, goaf), town_by_key[o.key].geometry)
                    loss_by_town[o.key] = loss_by_town.get(o.key, 0.0) + m2_to_ha(part.area)
                    loss_geom.setdefault(o.key, []).append(part)
        session.flush()
        problems: list[Problem] = []
        if open_problems:
            for town_key, ha in sorted(loss_by_town.items()):
                if ha < min_goaf:
                    continue
                town = town_by_key[town_key]
                prob, _created = open_problem(
                    session,
                    category=ProblemCategory.VEGETATION,
                    title=f"{town.name} 采空区植被退化 {ha:.2f} 公顷（{date_before}～{date_after}）"[:300],
                    source=ProblemSource.REMOTE_SENSING,
                    found_date=today,
                    origin_key=f"vegetation-loss:{town_key}:{date_before:%Y%m%d}:{date_after:%Y%m%d}",
                    town_id=town.id,
                    description=f"遥感NDVI变化检测：采空区上方植被退化面积 {ha:.2f} 公顷（{ha_to_mu(ha):.1f} 亩）。",
                    requirement="清理采空区枯死树木，宜林则林、宜草则草，恢复植被。",
                    geometry=shapely.union_all(loss_geom[town_key]),
                )
                problems.append(prob)
                for r in rows:
                    if r.kind == VegetationChangeKind.LOSS and r.town_id == town.id:
                        r.problem_id = prob.id
            session.flush()
    return VegetationOutcome(rows=rows, problems=problems, loss_over_goaf_by_town_ha=loss_by_town)


# ------------------------------------------------------------------------------------------ PV land
def pv_land(session: Session, as_of: date, params: PVParams = PVParams(), *, confirmed_only: bool = True) -> PVResult:  # noqa: B008
    """Candidate PV land on the (confirmed) stable subsidence areas, per town."""
    _mines, panels, towns = reference_layers(session)
    areas = baseline(session) if confirmed_only else list_areas(session)
    stable = [StableArea(key=a.code, geometry=a.geometry, stage=a.stability) for a in areas if a.geometry is not None]
    return pv_candidates(stable, panels, towns, as_of, params)
