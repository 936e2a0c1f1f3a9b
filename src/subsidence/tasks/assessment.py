"""Annual assessment of mine geological-environment treatment (地质环境治理年度评估, goal 2).

Each mine gets a score 0–100 from configurable indicators; each indicator gives a sub-score 0–1 (or ``None``
when it does not apply, e.g. a mine not drawn for inspection — its weight is then shared among the others) and
its contribution ``100 × weight × sub-score / Σ weights applied`` is shown. Mines are ranked; the praise list
(表扬) and the exposure list (曝光) follow thresholds in :class:`AssessmentConfig`.

Indicators (default weights, editable with a JSON file ``{"weights": {...}, "praise_min": 90, ...}``):

* ``problems_on_time`` 30 — share of the mine's problems due in the year that were accepted by their deadline;
* ``fund_accrual`` 10 — deposits counted for the year / required accrual (capped at 1);
* ``fund_use`` 10 — fund utilisation in the year / target utilisation (capped at 1);
* ``vegetation`` 15 — share of the mine's vegetation problems (category 3) found by year end that are closed;
* ``hazards`` 15 — share of hidden-factor plans approved by their due date (and geohazard problems closed);
* ``water_plan`` 10 — water-preserving plan: not required or approved/carried out 1, submitted 0.5, missing 0;
* ``inspections`` 10 — double-random results of the year: compliant 1, problems found ``problems_score``;
* ``plan_achievement`` 15 — hectares verified by remote sensing or accepted / hectares of the annual treatment
  and reclamation plan (capped at 1; not applicable without an annual plan) — the plan gap of.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.errors import ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.tasks.models import AssessmentScore, FundAccount, FundObligation, HiddenFactor, InspectionResult
from subsidence.vocabulary import (
    CLOSED_STATES,
    InspectionOutcome,
    MineStatus,
    PlanReviewState,
    ProblemCategory,
    ProblemState,
    WaterPlanState,
)

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = {
    "problems_on_time": 30.0,
    "fund_accrual": 10.0,
    "fund_use": 10.0,
    "vegetation": 15.0,
    "hazards": 15.0,
    "water_plan": 10.0,
    "inspections": 10.0,
    "plan_achievement": 15.0,
}
INDICATOR_LABELS = {
    "problems_on_time": ("问题按期整改", "problems rectified on time"),
    "fund_accrual": ("基金足额计提", "fund accrued in full"),
    "fund_use": ("基金使用", "fund used"),
    "vegetation": ("植被恢复", "vegetation restored"),
    "hazards": ("致灾因素与地灾隐患治理", "hazards treated"),
    "water_plan": ("保水开采方案", "water-preserving plan"),
    "inspections": ("双随机抽查结果", "inspection results"),
    "plan_achievement": ("年度治理复垦计划完成", "annual treatment plan achieved"),
}


@dataclass
class AssessmentConfig:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    praise_min: float = 90.0  #: score at or above → praise list
    praise_max_count: int = 10
    exposure_below: float = 60.0  #: score below → exposure list
    target_utilisation: float = 0.5
    problems_score: float = 0.4  #: sub-score of an inspection that found problems

    @classmethod
    def load(cls, path: str | Path | None) -> AssessmentConfig:
        if path is None:
            return cls()
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValidationFailed(f"{p}: not a readable JSON config ({exc})") from None
        cfg = cls()
        for k, v in raw.items():
            if k == "weights":
                unknown = set(v) - set(DEFAULT_WEIGHTS)
                if unknown:
                    raise ValidationFailed(
                        f"{p}: unknown indicator(s) {sorted(unknown)}; known: {sorted(DEFAULT_WEIGHTS)}"
                    )
                if any(float(w) < 0 for w in v.values()):
                    raise ValidationFailed(f"{p}: weights must not be negative")
                cfg.weights.update({kk: float(w) for kk, w in v.items()})
            elif hasattr(cfg, k):
                setattr(cfg, k, type(getattr(cfg, k))(v))
            else:
                raise ValidationFailed(f"{p}: unknown setting {k!r}")
        return cfg


Indicator = Callable[[Session, Mine, int, date, AssessmentConfig], tuple[float | None, str]]


def _problems_on_time(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    end = min(date(year, 12, 31), today)
    due = list(
        session.scalars(
            select(Problem).where(
                Problem.mine_id == mine.id,
                Problem.deadline.is_not(None),
                Problem.deadline >= date(year, 1, 1),
                Problem.deadline <= end,
                Problem.state != ProblemState.WITHDRAWN,
            )
        )
    )
    if not due:
        return None, "本年度无到期问题"
    on_time = [p for p in due if p.state in CLOSED_STATES and p.closed_date and p.closed_date <= p.deadline]
    return len(on_time) / len(due), f"到期 {len(due)} 个，按期销号 {len(on_time)} 个"


def _fund_accrual(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    from subsidence.tasks.fund import format_yuan, year_summary

    acct = session.scalar(select(FundAccount).where(FundAccount.mine_id == mine.id))
    if acct is None:
        return 0.0, "未设立基金账户"
    ob = session.scalar(select(FundObligation).where(FundObligation.account_id == acct.id, FundObligation.year == year))
    if ob is None or ob.required_fen == 0:
        return None, "未核定本年度应计提额"
    s = year_summary(session, mine, year)
    ratio = s["deposits_counted_for_year_fen"] / ob.required_fen
    return min(ratio, 1.0), (
        f"应提 {format_yuan(ob.required_fen)} 元，已提 "
        f"{format_yuan(s['deposits_counted_for_year_fen'])} 元（{ratio:.0%}）"
    )


def _fund_use(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    from subsidence.tasks.fund import year_summary

    if session.scalar(select(FundAccount.id).where(FundAccount.mine_id == mine.id)) is None:
        return 0.0, "未设立基金账户"
    s = year_summary(session, mine, year)
    if s["utilisation"] is None:
        return None, "基金无可用余额"
    return min(
        s["utilisation"] / cfg.target_utilisation, 1.0
    ), f"使用率 {s['utilisation']:.0%}（目标 {cfg.target_utilisation:.0%}）"


def _closed_share(session: Session, mine: Mine, year: int, cats: tuple[ProblemCategory, ...]) -> tuple[int, int]:
    ps = list(
        session.scalars(
            select(Problem).where(
                Problem.mine_id == mine.id,
                Problem.category.in_(cats),
                Problem.found_date <= date(year, 12, 31),
                Problem.state != ProblemState.WITHDRAWN,
            )
        )
    )
    closed = [p for p in ps if p.state in CLOSED_STATES and p.closed_date and p.closed_date <= date(year, 12, 31)]
    return len(closed), len(ps)


def _vegetation(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    closed, total = _closed_share(session, mine, year, (ProblemCategory.VEGETATION,))
    if total == 0:
        return 1.0, "无植被恢复问题"
    return closed / total, f"植被恢复问题 {total} 个，已销号 {closed} 个"


def _hazards(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    end = min(date(year, 12, 31), today)
    factors = [
        f
        for f in session.scalars(
            select(HiddenFactor).where(HiddenFactor.mine_id == mine.id, HiddenFactor.is_problem.is_(True))
        )
        if f.plan_due is not None and f.plan_due <= end
    ]
    ok = [
        f
        for f in factors
        if f.plan is not None
        and f.plan.state in (PlanReviewState.APPROVED, PlanReviewState.COMPLETED)
        and f.plan.reviewed_date is not None
        and f.plan.reviewed_date <= f.plan_due
    ]
    closed, total = _closed_share(session, mine, year, (ProblemCategory.GEOHAZARDS,))
    n, good = len(factors) + total, len(ok) + closed
    if n == 0:
        return 1.0, "无到期的致灾因素方案或地灾隐患问题"
    return good / n, f"致灾因素方案按期批准 {len(ok)}/{len(factors)}，地灾隐患问题销号 {closed}/{total}"


def _water(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    from subsidence.tasks.water import current_plan, latest_assessments

    plan = current_plan(session, mine)
    declining = any(a.declining for a in latest_assessments(session, mine))
    if plan is None:
        return (0.0, "水位下降且未编制保水开采方案") if declining else (1.0, "无需编制保水开采方案")
    if plan.state in (WaterPlanState.APPROVED, WaterPlanState.IMPLEMENTED):
        return 1.0, f"方案{plan.state.label()}（{plan.approval_no or plan.code}）"
    if plan.state == WaterPlanState.SUBMITTED:
        return 0.5, "方案已报送待批复"
    return 0.0, f"方案{plan.state.label()}"


def _inspections(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    rs = [
        r
        for r in session.scalars(select(InspectionResult).where(InspectionResult.mine_id == mine.id))
        if r.inspected_date.year == year and r.outcome != InspectionOutcome.NOT_INSPECTED
    ]
    if not rs:
        return None, "本年度未被抽中"
    subs = [1.0 if r.outcome == InspectionOutcome.COMPLIANT else cfg.problems_score for r in rs]
    bad = sum(1 for r in rs if r.outcome == InspectionOutcome.PROBLEMS)
    return sum(subs) / len(subs), f"抽查 {len(rs)} 次，发现问题 {bad} 次"


def _plan_achievement(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig):
    from subsidence.plans.service import plan_gap

    row = next((r for r in plan_gap(session, year, by="mine") if r.key == mine.licence_no), None)
    if row is None or row.planned_ha <= 0:
        return None, "无年度治理复垦计划"
    return min(1.0, row.achieved_ha / row.planned_ha), (
        f"计划 {row.planned_ha:.1f} 公顷，核查完成 {row.achieved_ha:.1f} 公顷"
    )


INDICATORS: dict[str, Indicator] = {
    "problems_on_time": _problems_on_time,
    "fund_accrual": _fund_accrual,
    "fund_use": _fund_use,
    "vegetation": _vegetation,
    "hazards": _hazards,
    "water_plan": _water,
    "inspections": _inspections,
    "plan_achievement": _plan_achievement,
}


def score_mine(session: Session, mine: Mine, year: int, today: date, cfg: AssessmentConfig) -> tuple[float, list[dict]]:
    """Score 0–100 and the indicator table (sub-score, weight, contribution, basis) of one mine."""
    parts = []
    for key, fn in INDICATORS.items():
        w = cfg.weights.get(key, 0.0)
        if w <= 0:
            continue
        sub, basis = fn(session, mine, year, today, cfg)
        parts.append(
            {
                "key": key,
                "zh": INDICATOR_LABELS[key][0],
                "en": INDICATOR_LABELS[key][1],
                "weight": w,
                "sub_score": None if sub is None else round(sub, 4),
                "basis": basis,
            }
        )
    applied = sum(p["weight"] for p in parts if p["sub_score"] is not None)
    total = 0.0
    for p in parts:
        c = 0.0 if p["sub_score"] is None or applied == 0 else 100.0 * p["weight"] * p["sub_score"] / applied
        p["contribution"] = round(c, 2)
        total += c
    return round(total if applied else 0.0, 2), parts


def run_assessment(
    session: Session, year: int, today: date, cfg: AssessmentConfig | None = None
) -> list[AssessmentScore]:
    """Score every mine (not closed) for ``year``, rank, list, and store (re-running replaces the year's scores)."""
    cfg = cfg or AssessmentConfig()
    mines = list(session.scalars(select(Mine).where(Mine.status != MineStatus.CLOSED).order_by(Mine.licence_no)))
    scored = [(m, *score_mine(session, m, year, today, cfg)) for m in mines]
    scored.sort(key=lambda t: (-t[1], t[0].licence_no))
    out = []
    praised = 0
    for rank, (m, score, parts) in enumerate(scored, start=1):
        listing = None
        if score >= cfg.praise_min and praised < cfg.praise_max_count:
            listing, praised = "praise", praised + 1
        elif score < cfg.exposure_below:
            listing = "exposure"
        row = session.scalar(
            select(AssessmentScore).where(AssessmentScore.year == year, AssessmentScore.mine_id == m.id)
        )
        if row is None:
            row = AssessmentScore(year=year, mine_id=m.id)
            session.add(row)
        row.score, row.rank, row.listing, row.indicators, row.computed_on = score, rank, listing, parts, today
        out.append(row)
    session.flush()
    log.debug(
        "assessed %d mines for %d (%d praised, %d exposed)",
        len(out),
        year,
        sum(r.listing == "praise" for r in out),
        sum(r.listing == "exposure" for r in out),
    )
    return out


def ranking(session: Session, year: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(AssessmentScore).where(AssessmentScore.year == year).order_by(AssessmentScore.rank))
    return [
        {
            "rank": r.rank,
            "mine": r.mine.licence_no,
            "mine_name": r.mine.name_zh,
            "enterprise": r.mine.enterprise.name_zh if r.mine.enterprise else None,
            "score": r.score,
            "listing": r.listing,
            "indicators": r.indicators,
            "computed_on": r.computed_on.isoformat(),
        }
        for r in rows
    ]


def published_lists(session: Session, today: date | None = None, year: int | None = None) -> dict[str, Any]:
    """The praise (表扬) and exposure (曝光) lists the public sees: the newest assessed year (≤ today's year),
    with each listed mine's score and the indicators behind it (no other mine's score)."""
    from sqlalchemy import func

    if year is None:
        q = select(func.max(AssessmentScore.year))
        if today is not None:
            q = q.where(AssessmentScore.year <= today.year)
        year = session.scalar(q)
    if year is None:
        return {"year": None, "praise": [], "exposure": []}
    rows = ranking(session, year)

    def public(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "rank": r["rank"],
            "mine": r["mine"],
            "mine_name": r["mine_name"],
            "enterprise": r["enterprise"],
            "score": r["score"],
            "basis": "；".join(f"{i['zh']}：{i['basis']}" for i in r["indicators"] if i["sub_score"] is not None),
        }

    return {
        "year": year,
        "praise": [public(r) for r in rows if r["listing"] == "praise"],
        "exposure": [public(r) for r in rows if r["listing"] == "exposure"],
    }
