"""Water (task 5, 地下水位下降): water-preserving mining plans (保水开采方案) and declining wells per mine.

A well *declines* when, over the last ``window_months`` of its record, its depth to water (m below ground,
positive down) deseasonalised against the pre-mining baseline (the well's ``baseline_depth_to_water_m`` or a
12-month seasonal baseline) falls at ``min_rate_m_per_month`` or faster **and** the recent drawdown is at least
``min_drawdown_m`` (docs/science.md §4: track drawdown against a seasonal pre-mining baseline and the monthly rate).
The thresholds are working defaults **[verify]** kept in :class:`DeclineCriteria`.

A mine with a declining well and no approved (or carried-out) plan gets a category-5 problem once, a plan
record in state *required*, and a licence-gate reason. A required plan not approved by its due date is a
gate reason too.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine, Unit
from subsidence.errors import NotFound, ValidationFailed
from subsidence.monitoring.models import GroundwaterWell, Sensor
from subsidence.tasks.models import WaterPlan, WellAssessment
from subsidence.vocabulary import (
    ApplicationType,
    GateReason,
    ProblemCategory,
    ProblemSource,
    SensorKind,
    WaterPlanState,
)

log = logging.getLogger(__name__)

LEGAL_BASIS = "《地下水管理条例》；《土地复垦条例》第二十条；伊政办发〔2024〕79号 任务五（保水开采方案）"
DAYS_PER_MONTH = 30.4375
APPROVED_STATES = (WaterPlanState.APPROVED, WaterPlanState.IMPLEMENTED)
#: allowed plan transitions
TRANSITIONS = {
    WaterPlanState.REQUIRED: {WaterPlanState.SUBMITTED},
    WaterPlanState.SUBMITTED: {WaterPlanState.APPROVED, WaterPlanState.RETURNED},
    WaterPlanState.RETURNED: {WaterPlanState.SUBMITTED},
    WaterPlanState.APPROVED: {WaterPlanState.IMPLEMENTED},
    WaterPlanState.IMPLEMENTED: set(),
}


# ------------------------------------------------------------------------------------ pure evaluation


@dataclass(frozen=True)
class DeclineCriteria:
    window_months: int = 12
    min_points: int = 6
    min_rate_m_per_month: float = 0.05  #: 0.6 m/yr [verify]
    min_drawdown_m: float = 0.5  #: [verify]
    recent_points: int = 3  #: drawdown = mean of the last few readings


@dataclass(frozen=True)
class DeclineResult:
    declining: bool
    rate_m_per_month: float | None  #: positive = water table falling
    drawdown_m: float | None  #: positive = deeper than baseline
    n_points: int
    window_start: date | None
    window_end: date | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["window_start"] = self.window_start.isoformat() if self.window_start else None
        d["window_end"] = self.window_end.isoformat() if self.window_end else None
        return d


def _month_of(times: np.ndarray) -> np.ndarray:
    return (times.astype("datetime64[M]").astype(int) % 12) + 1


def evaluate_decline(
    times: Sequence | np.ndarray,
    depth_m: Sequence | np.ndarray,
    baseline_m: float | Sequence[float] | np.ndarray | None,
    criteria: DeclineCriteria = DeclineCriteria(),
) -> DeclineResult:
    """Judge a well's series: monthly decline rate of the deseasonalised depth and the recent drawdown.

    ``times``: datetime64 or ISO strings, strictly increasing; ``depth_m``: depth to water, m below ground
    (positive down); ``baseline_m``: a scalar pre-mining depth, or 12 monthly values (Jan..Dec), or None to
    take the seasonal baseline from the first 12 months of the record itself.
    """
    from subsidence.monitoring.warning.methods import MethodError, check_series, drawdown, monthly_baseline

    t = np.asarray(times, dtype="datetime64[D]")
    y = np.asarray(depth_m, dtype=float)
    days = (t - t[0]).astype(float) if t.size else np.array([])
    try:
        check_series(days, y, min_points=1, what="groundwater series")
    except MethodError as exc:
        raise ValidationFailed(str(exc)) from None
    months = _month_of(t)
    if baseline_m is None:
        first_year = t < t[0] + np.timedelta64(365, "D")
        base = monthly_baseline(months[first_year], y[first_year])
        note = "baseline: first 12 months of the record"
    elif np.ndim(baseline_m) == 0:
        base = np.full(12, float(baseline_m))
        note = "baseline: pre-mining depth of the well"
    else:
        base = np.asarray(baseline_m, dtype=float)
        if base.shape != (12,):
            raise ValidationFailed("a seasonal baseline needs 12 monthly values (Jan..Dec)")
        note = "baseline: seasonal pre-mining baseline"
    if np.isnan(base).any():  # months without a baseline value use the mean of the others
        base = np.where(np.isnan(base), np.nanmean(base), base)
    start = t[-1] - np.timedelta64(int(round(criteria.window_months * DAYS_PER_MONTH)), "D")
    w = t >= start
    n = int(w.sum())
    ws = t[w][0].astype(object) if n else None
    we = t[-1].astype(object)
    if n < criteria.min_points:
        return DeclineResult(
            False,
            None,
            None,
            n,
            ws,
            we,
            f"{n} readings in the last {criteria.window_months} months; "
            f"{criteria.min_points} needed to judge a decline",
        )
    dd = drawdown(months[w], y[w], base)
    rate = float(np.polyfit(days[w], dd, 1)[0] * DAYS_PER_MONTH)
    recent = float(np.mean(dd[-criteria.recent_points :]))
    declining = rate >= criteria.min_rate_m_per_month and recent >= criteria.min_drawdown_m
    return DeclineResult(bool(declining), round(rate, 4), round(recent, 3), n, ws, we, note)


# ------------------------------------------------------------------------------------ wells


def get_well(session: Session, code: str) -> GroundwaterWell:
    well = session.scalar(select(GroundwaterWell).where(GroundwaterWell.code == code))
    if well is None:
        raise NotFound(f"groundwater well {code!r} not found")
    return well


def well_series(session: Session, well: GroundwaterWell) -> tuple[np.ndarray, np.ndarray]:
    """The well's depth-to-water readings (m) from the monitoring observations, if any (times as datetime64[D],
    one value per day: the daily mean)."""
    from subsidence.monitoring.models import Observation

    sensor_ids = list(
        session.scalars(select(Sensor.id).where(Sensor.well_id == well.id, Sensor.kind == SensorKind.GROUNDWATER_WELL))
    )
    if not sensor_ids:
        return np.array([], dtype="datetime64[D]"), np.array([])
    rows = session.execute(
        select(Observation.time, Observation.value)
        .where(Observation.sensor_id.in_(sensor_ids))
        .order_by(Observation.time)
    ).all()
    if not rows:
        return np.array([], dtype="datetime64[D]"), np.array([])
    days = np.array([r[0].date().isoformat() for r in rows], dtype="datetime64[D]")
    vals = np.array([r[1] for r in rows], dtype=float)
    uniq, inv = np.unique(days, return_inverse=True)
    means = np.bincount(inv, weights=vals) / np.bincount(inv)
    return uniq, means


def assess_well(
    session: Session,
    well: GroundwaterWell,
    today: date,
    *,
    times=None,
    depths=None,
    baseline=None,
    criteria: DeclineCriteria = DeclineCriteria(),
) -> WellAssessment:
    """Evaluate and store the decline of one well (series given, or read from the monitoring observations)."""
    if times is None:
        times, depths = well_series(session, well)
    if len(times) == 0:
        raise ValidationFailed(
            f"well {well.code} has no readings; import its series (subsidence water assess "
            "--series FILE) or ingest sensor data first"
        )
    if baseline is None:
        baseline = well.baseline_depth_to_water_m
    res = evaluate_decline(times, depths, baseline, criteria)
    a = WellAssessment(
        well_id=well.id,
        assessed_on=today,
        declining=res.declining,
        rate_m_per_month=res.rate_m_per_month,
        drawdown_m=res.drawdown_m,
        n_points=res.n_points,
        window_start=res.window_start,
        window_end=res.window_end,
        criteria=asdict(criteria) | {"note": res.note},
    )
    session.add(a)
    session.flush()
    return a


def latest_assessments(session: Session, mine: Mine) -> list[WellAssessment]:
    out = []
    for well in session.scalars(
        select(GroundwaterWell).where(GroundwaterWell.mine_id == mine.id).order_by(GroundwaterWell.code)
    ):
        a = session.scalar(
            select(WellAssessment)
            .where(WellAssessment.well_id == well.id)
            .order_by(WellAssessment.assessed_on.desc(), WellAssessment.id.desc())
            .limit(1)
        )
        if a is not None:
            out.append(a)
    return out


# ------------------------------------------------------------------------------------ plans


def get_plan(session: Session, code: str) -> WaterPlan:
    plan = session.scalar(select(WaterPlan).where(WaterPlan.code == code))
    if plan is None:
        raise NotFound(f"water-preserving plan {code!r} not found")
    return plan


def current_plan(session: Session, mine: Mine) -> WaterPlan | None:
    """The mine's newest plan (approved ones first)."""
    plans = list(session.scalars(select(WaterPlan).where(WaterPlan.mine_id == mine.id).order_by(WaterPlan.id)))
    approved = [p for p in plans if p.state in APPROVED_STATES]
    return (approved or plans or [None])[-1]


def require_plan(
    session: Session, mine: Mine, *, reason: str, due: date | None = None, code: str | None = None
) -> WaterPlan:
    """Mark that the mine must write a plan (state *required*); returns the open plan if one exists."""
    existing = [
        p
        for p in session.scalars(select(WaterPlan).where(WaterPlan.mine_id == mine.id))
        if p.state != WaterPlanState.IMPLEMENTED
    ]
    if existing:
        return existing[-1]
    plan = WaterPlan(
        code=code or f"WP-{mine.licence_no}",
        mine_id=mine.id,
        state=WaterPlanState.REQUIRED,
        required_reason=reason,
        due_date=due,
    )
    session.add(plan)
    session.flush()
    return plan


def _move(plan: WaterPlan, to: WaterPlanState) -> None:
    if to not in TRANSITIONS[plan.state]:
        allowed = ", ".join(s.label() for s in TRANSITIONS[plan.state]) or "none"
        raise ValidationFailed(
            f"plan {plan.code} is {plan.state.label()} ({plan.state.value}); it cannot become "
            f"{to.label()} — allowed next: {allowed}"
        )
    plan.state = to


def submit_plan(session: Session, code: str, submitted: date) -> WaterPlan:
    plan = get_plan(session, code)
    _move(plan, WaterPlanState.SUBMITTED)
    plan.submitted_date = submitted
    session.flush()
    return plan


def review_plan(
    session: Session,
    code: str,
    *,
    approve: bool,
    reviewed: date,
    unit_code: str = "AWB",
    approval_no: str | None = None,
    note: str | None = None,
    actor: Any = None,
) -> WaterPlan:
    """Approve (with the approval document number) or return (with the reason) a submitted plan."""
    plan = get_plan(session, code)
    if actor is not None:
        from subsidence.access.policy import authorize

        authorize(session, actor, "review", plan, "water_plan")
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise NotFound(f"unit {unit_code!r} not found")
    if approve:
        if not (approval_no or "").strip():
            raise ValidationFailed("an approval needs its document number (批复文号)")
        _move(plan, WaterPlanState.APPROVED)
        plan.approved_date, plan.approval_no, plan.approving_unit_id = reviewed, approval_no.strip(), unit.id
    else:
        if not (note or "").strip():
            raise ValidationFailed("returning a plan needs the reason")
        _move(plan, WaterPlanState.RETURNED)
    if plan.submitted_date and reviewed < plan.submitted_date:
        raise ValidationFailed("review date before the submission date")
    plan.review_note = note
    session.flush()
    return plan


def record_implemented(session: Session, code: str, implemented: date) -> WaterPlan:
    plan = get_plan(session, code)
    _move(plan, WaterPlanState.IMPLEMENTED)
    plan.implemented_date = implemented
    session.flush()
    return plan


def link_wells(session: Session, code: str, well_codes: list[str]) -> WaterPlan:
    plan = get_plan(session, code)
    for wc in well_codes:
        well = get_well(session, wc)
        if well.mine_id not in (None, plan.mine_id):
            raise ValidationFailed(f"well {wc} belongs to another mine")
        if well not in plan.wells:
            plan.wells.append(well)
    session.flush()
    return plan


# ------------------------------------------------------------------------------------ findings, rules


@dataclass
class WaterFinding:
    kind: str  #: "declining_no_plan" | "plan_overdue"
    mine: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def origin_key(self) -> str:
        return f"water-{self.kind.replace('_', '-')}:{self.mine}"


def water_findings(session: Session, mine: Mine, today: date) -> list[WaterFinding]:
    out: list[WaterFinding] = []
    plan = current_plan(session, mine)
    has_approved = plan is not None and plan.state in APPROVED_STATES
    declining = [a for a in latest_assessments(session, mine) if a.declining and a.assessed_on <= today]
    if declining and not has_approved:
        wells = [a.well.code for a in declining]
        out.append(
            WaterFinding(
                "declining_no_plan",
                mine.licence_no,
                f"{mine.name_zh}（{mine.licence_no}）监测井 {'、'.join(wells)} 地下水位持续下降，尚无批复的保水开采方案 / "
                "declining groundwater and no approved water-preserving mining plan",
                {
                    "wells": [
                        {
                            "well": a.well.code,
                            "rate_m_per_month": a.rate_m_per_month,
                            "drawdown_m": a.drawdown_m,
                            "assessed_on": a.assessed_on.isoformat(),
                        }
                        for a in declining
                    ],
                    "plan": plan.code if plan else None,
                    "plan_state": plan.state.value if plan else None,
                },
            )
        )
    if plan is not None and not has_approved and plan.due_date is not None and plan.due_date < today:
        out.append(
            WaterFinding(
                "plan_overdue",
                mine.licence_no,
                f"{mine.name_zh}（{mine.licence_no}）保水开采方案 {plan.code} 应于 {plan.due_date} 前批复，现为"
                f"“{plan.state.label()}” / water plan not approved by its due date",
                {"plan": plan.code, "due": plan.due_date.isoformat(), "state": plan.state.value},
            )
        )
    return out


def sync_water_problems(session: Session, today: date, plan_due_days: int = 90) -> list[tuple[Any, bool]]:
    """Open the category-5 problem (once) for each mine with declining wells and no approved plan, and mark the
    plan as required (due in ``plan_due_days``)."""
    from subsidence.ledger.problems import open_problem

    out = []
    for mine in session.scalars(select(Mine).order_by(Mine.licence_no)):
        for f in water_findings(session, mine, today):
            if f.kind != "declining_no_plan":
                continue
            plan = require_plan(session, mine, reason=f.message, due=today + timedelta(days=plan_due_days))
            problem, created = open_problem(
                session,
                category=ProblemCategory.GROUNDWATER,
                title=f.message[:300],
                source=ProblemSource.MONITORING,
                found_date=today,
                origin_key=f.origin_key,
                mine=mine,
                description=f.message,
                requirement="编制并报批保水开采方案，按批复实施",
                deadline=plan.due_date,
            )
            if plan.problem_id is None:
                plan.problem_id = problem.id
            out.append((problem, created))
    session.flush()
    return out


def water_status(session: Session, mine: Mine, today: date) -> dict[str, Any]:
    plan = current_plan(session, mine)
    return {
        "mine": mine.licence_no,
        "mine_name": mine.name_zh,
        "plan": None
        if plan is None
        else {
            "code": plan.code,
            "state": plan.state.value,
            "state_zh": plan.state.label(),
            "required": True,
            "submitted": plan.submitted_date.isoformat() if plan.submitted_date else None,
            "approved": plan.approved_date.isoformat() if plan.approved_date else None,
            "approval_no": plan.approval_no,
            "implemented": plan.implemented_date.isoformat() if plan.implemented_date else None,
            "due": plan.due_date.isoformat() if plan.due_date else None,
            "wells": [w.code for w in plan.wells],
        },
        "wells": [
            {
                "well": a.well.code,
                "declining": a.declining,
                "rate_m_per_month": a.rate_m_per_month,
                "drawdown_m": a.drawdown_m,
                "assessed_on": a.assessed_on.isoformat(),
            }
            for a in latest_assessments(session, mine)
        ],
        "findings": [f.message for f in water_findings(session, mine, today)],
    }


def gate_water(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    """Licence-gate findings of the water ledger. Declining wells without an approved plan are judged by the
    problem opened for them (its notice sets the deadline); a required plan is due on the date the
    requirement set (``due_date``): before it a warning, after it (not approved) a refusal."""
    from subsidence.ledger.enforcement import tracked_finding
    from subsidence.vocabulary import DeadlineSource

    out = []
    for f in water_findings(session, mine, today):
        if f.kind == "declining_no_plan":
            finding = tracked_finding(
                session,
                f.origin_key,
                GateReason(
                    "water_plan_missing",
                    f.message,
                    LEGAL_BASIS,
                    record=f.origin_key,
                    record_kind="mine",
                    details=f.details,
                ),
            )
            if finding is not None:
                out.append(finding)
    plan = current_plan(session, mine)
    if plan is not None and plan.state not in APPROVED_STATES and plan.due_date is not None:
        out.append(
            GateReason(
                "water_plan_overdue",
                f"{mine.name_zh}（{mine.licence_no}）保水开采方案 {plan.code} 应于 {plan.due_date} 前批复，现为"
                f"“{plan.state.label()}” / water-preserving plan {plan.code} due {plan.due_date} ({plan.state.value})",
                LEGAL_BASIS,
                record=plan.code,
                record_kind="water_plan",
                details={"plan": plan.code, "due": plan.due_date.isoformat(), "state": plan.state.value},
                deadline=plan.due_date,
                deadline_set_by=DeadlineSource(
                    "plan",
                    plan.code,
                    plan.created_at.date() if plan.created_at else None,
                    f"保水开采方案编制要求：{plan.required_reason or ''}"[:200],
                ),
                remedy="报送保水开采方案并经水利部门批复后解除 / lifted when the plan is approved",
            )
        )
    return out


def parse_series_csv(path, well_code: str | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read ``well,date,depth_m`` (or ``date,depth_m`` with ``well_code``) CSV into per-well series."""
    import csv
    from pathlib import Path

    p = Path(path)
    series: dict[str, list[tuple[str, float]]] = {}
    with p.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or [])
        if not {"date", "depth_m"} <= cols or ("well" not in cols and not well_code):
            raise ValidationFailed(
                f"{p}: columns must be well,date,depth_m (or date,depth_m with --well); found {sorted(cols)}"
            )
        for line, row in enumerate(reader, start=2):
            try:
                d = datetime.fromisoformat(row["date"].strip()).date().isoformat()
                v = float(row["depth_m"])
            except (ValueError, AttributeError):
                raise ValidationFailed(
                    f"{p} line {line}: date must be ISO (2026-01-31) and depth_m a number "
                    "(m below ground, positive down)"
                ) from None
            if not np.isfinite(v):
                raise ValidationFailed(f"{p} line {line}: depth_m is not finite")
            series.setdefault(row.get("well") or well_code, []).append((d, v))
    out = {}
    for code, rows in series.items():
        rows.sort()
        out[code] = (np.array([r[0] for r in rows], dtype="datetime64[D]"), np.array([r[1] for r in rows]))
    return out
