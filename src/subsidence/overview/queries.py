"""The plan's core numbers for a period and cumulatively, read from the domains' tables (read-only).

One function per number, each returning a :class:`Metric` (or rows) for the period ``[start, end]`` (both
inclusive, local dates) and cumulatively up to the end of ``end``. The report upward (工作上报,
:mod:`subsidence.reports.upward`) and the dashboard print these; nothing here writes.

Conventions: areas in hectares (公顷) with 亩 beside them (1 ha = 15 亩, the statutory conversion);
money in 元 from integer 分 (fund entries); a reversal entry (冲正) counts against the kind it reverses, on the
reversal's date; alarm timestamps are UTC and compared with the period's local dates at 00:00 UTC+8.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subsidence.census.queries import baseline_summary
from subsidence.geo import MU_PER_HA

_LOCAL = timezone(timedelta(hours=8))  # Asia/Shanghai has no DST


@dataclass(frozen=True)
class Metric:
    """One number of the plan: ``period`` (in [start, end]) and ``cumulative`` (up to ``end``)."""

    key: str
    label: str  #: Chinese label as printed
    unit: str  #: 公顷 / 个 / 份 / 元 / 栋 ...
    period: float | int | None
    cumulative: float | int | None
    source: str  #: table or query it comes from
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, time.min, _LOCAL).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, _LOCAL).astimezone(UTC)
    return lo, hi


def _count(session: Session, stmt) -> int:
    return int(session.scalar(stmt) or 0)


# ------------------------------------------------------------------------------------------ subsidence areas


def _area_totals(session: Session, as_of: date) -> dict[str, float]:
    """found / confirmed / treated hectares as of ``as_of`` (the baseline query of census.queries)."""
    t = baseline_summary(session, as_of).total
    return {"found": float(t.found_ha), "confirmed": float(t.confirmed_ha), "treated": float(t.treated_ha)}


def subsidence_area(session: Session, start: date, end: date, what: str) -> Metric:
    """Subsidence area ``what`` = found (发现) / confirmed (专家确认) / treated (治理完成), in hectares; the
    period value is the change of the cumulative value over the period."""
    labels = {"found": "发现沉陷区面积", "confirmed": "确认沉陷区面积（底数）", "treated": "沉陷区治理完成面积"}
    if what not in labels:
        raise ValueError(f"what must be one of {', '.join(labels)}, not {what!r}")
    now = _area_totals(session, end)[what]
    before = _area_totals(session, start - timedelta(days=1))[what]
    return Metric(
        f"area_{what}",
        labels[what],
        "公顷",
        round(now - before, 2),
        round(now, 2),
        "census.queries.baseline_summary",
        {"period_mu": round((now - before) * MU_PER_HA, 1), "cumulative_mu": round(now * MU_PER_HA, 1)},
    )


# ------------------------------------------------------------------------------------------ ledger


def problems_found(session: Session, start: date, end: date) -> Metric:
    from subsidence.ledger.models import Problem

    q = select(func.count()).select_from(Problem)
    return Metric(
        "problems_found",
        "台账登记问题",
        "个",
        _count(session, q.where(Problem.found_date >= start, Problem.found_date <= end)),
        _count(session, q.where(Problem.found_date <= end)),
        "ledger.models.Problem",
    )


def notices_issued(session: Session, start: date, end: date) -> Metric:
    from subsidence.ledger.models import RectificationNotice as N

    q = select(func.count()).select_from(N)
    return Metric(
        "notices",
        "下达限期整改通知书",
        "份",
        _count(session, q.where(N.issued_date >= start, N.issued_date <= end)),
        _count(session, q.where(N.issued_date <= end)),
        "ledger.models.RectificationNotice",
    )


def acceptances(session: Session, start: date, end: date) -> Metric:
    """验收 decisions; ``extra`` splits passed (销号) and returned (退回)."""
    from subsidence.ledger.models import AcceptanceRecord as A

    def n(lo: date | None, result: str | None = None) -> int:
        q = select(func.count()).select_from(A).where(A.decided_date <= end)
        if lo is not None:
            q = q.where(A.decided_date >= lo)
        if result is not None:
            q = q.where(A.result == result)
        return _count(session, q)

    from subsidence.vocabulary import AcceptanceResult

    passed = AcceptanceResult.PASSED
    return Metric(
        "acceptances",
        "组织验收",
        "次",
        n(start),
        n(None),
        "ledger.models.AcceptanceRecord",
        {"passed_period": n(start, passed), "passed_cumulative": n(None, passed)},
    )


def escalations(session: Session, start: date, end: date) -> Metric:
    from subsidence.ledger.models import Escalation as E

    q = select(func.count()).select_from(E)
    return Metric(
        "escalations",
        "逾期督办",
        "次",
        _count(session, q.where(E.escalated_date >= start, E.escalated_date <= end)),
        _count(session, q.where(E.escalated_date <= end)),
        "ledger.models.Escalation",
    )


def progress(session: Session, end: date):
    """The ledger as it stood at the end of ``end`` (states rebuilt from the audit trail)."""
    from subsidence.ledger.progress import compute_progress

    return compute_progress(session, end)


def changes(session: Session, start: date, end: date) -> list[dict]:
    """Every state change of a problem in the period (from the audit trail), oldest first."""
    from subsidence.ledger.progress import changes_between

    return changes_between(session, start, end)


# ------------------------------------------------------------------------------------------ tasks


def _fund_sums(session: Session, start: date | None, end: date) -> dict[str, int]:
    from subsidence.tasks.models import FundEntry
    from subsidence.vocabulary import FundEntryKind

    q = select(FundEntry).where(FundEntry.entry_date <= end)
    if start is not None:
        q = q.where(FundEntry.entry_date >= start)
    out = {"deposit": 0, "spending": 0, "withdrawal": 0}
    for e in session.scalars(q):
        if e.kind == FundEntryKind.REVERSAL:
            orig = session.get(FundEntry, e.reverses_id) if e.reverses_id else None
            if orig is not None and orig.kind.value in out:
                out[orig.kind.value] -= e.amount_fen
            continue
        if e.kind.value in out:
            out[e.kind.value] += e.amount_fen
    return out


def fund_accrued(session: Session, start: date, end: date) -> Metric:
    """Restoration fund deposited (计提存入), 元."""
    p, c = _fund_sums(session, start, end), _fund_sums(session, None, end)
    return Metric(
        "fund_accrued", "治理恢复基金计提", "元", p["deposit"] / 100, c["deposit"] / 100, "tasks.models.FundEntry"
    )


def fund_used(session: Session, start: date, end: date) -> Metric:
    """Restoration fund spent on treatment (治理支出), 元."""
    p, c = _fund_sums(session, start, end), _fund_sums(session, None, end)
    return Metric(
        "fund_used", "治理恢复基金使用", "元", p["spending"] / 100, c["spending"] / 100, "tasks.models.FundEntry"
    )


def buildings_demolished(session: Session, start: date, end: date) -> Metric:
    """Compensated buildings demolished; ``extra.total`` = compensated buildings on the list."""
    from subsidence.tasks.models import CompensatedBuilding as B

    q = select(func.count()).select_from(B).where(B.compensated.is_(True))
    return Metric(
        "buildings_demolished",
        "已补偿建（构）筑物拆除",
        "处",
        _count(session, q.where(B.demolished_date >= start, B.demolished_date <= end)),
        _count(session, q.where(B.demolished_date <= end)),
        "tasks.models.CompensatedBuilding",
        {"total": _count(session, q)},
    )


def water_plans_approved(session: Session, start: date, end: date) -> Metric:
    """Water-preserving mining plans approved; ``extra.required`` = plans required."""
    from subsidence.tasks.models import WaterPlan as W

    q = select(func.count()).select_from(W)
    return Metric(
        "water_plans",
        "保水开采方案批复",
        "个",
        _count(session, q.where(W.approved_date >= start, W.approved_date <= end)),
        _count(session, q.where(W.approved_date <= end)),
        "tasks.models.WaterPlan",
        {"required": _count(session, q), "implemented": _count(session, q.where(W.implemented_date <= end))},
    )


def hidden_factor_plans_approved(session: Session, start: date, end: date) -> Metric:
    """Rectification plans of hidden disaster-causing factors approved (reviewed and passed)."""
    from subsidence.tasks.models import HiddenFactor
    from subsidence.tasks.models import RectificationPlan as R
    from subsidence.vocabulary import PlanReviewState

    ok = (PlanReviewState.APPROVED, PlanReviewState.COMPLETED)
    q = select(func.count()).select_from(R).where(R.state.in_(ok))
    return Metric(
        "hidden_factor_plans",
        "隐蔽致灾因素整改方案审查通过",
        "个",
        _count(session, q.where(R.reviewed_date >= start, R.reviewed_date <= end)),
        _count(session, q.where(R.reviewed_date <= end)),
        "tasks.models.RectificationPlan",
        {
            "factors": _count(
                session,
                select(func.count())
                .select_from(HiddenFactor)
                .where(HiddenFactor.is_problem.is_(True), HiddenFactor.surveyed_date <= end),
            )
        },
    )


# ------------------------------------------------------------------------------------------ monitoring


def hazard_points(session: Session, start: date, end: date) -> Metric:
    """Geological hazard points on the register (cumulative) and the people they threaten."""
    from subsidence.monitoring.models import HazardPoint as H

    n = _count(session, select(func.count()).select_from(H))
    people = int(session.scalar(select(func.coalesce(func.sum(H.threatened_people), 0))) or 0)
    households = int(session.scalar(select(func.coalesce(func.sum(H.threatened_households), 0))) or 0)
    return Metric(
        "hazard_points",
        "地质灾害隐患点",
        "处",
        None,
        n,
        "monitoring.models.HazardPoint",
        {"people": people, "households": households},
    )


def cards_issued(session: Session, start: date, end: date) -> Metric:
    """明白卡 issued (current versions) and household copies received against a signed receipt."""
    from subsidence.monitoring.models import Card, CardCopy

    q = select(func.count()).select_from(Card)
    lo, hi = _utc_bounds(start, end)
    rq = (
        select(func.count())
        .select_from(CardCopy)
        .join(Card, Card.id == CardCopy.card_id)
        .where(CardCopy.holder == "household", CardCopy.receipt_signed_at.is_not(None))
    )
    return Metric(
        "cards",
        "发放明白卡",
        "张",
        _count(session, q.where(Card.issued_date >= start, Card.issued_date <= end)),
        _count(session, q.where(Card.issued_date <= end)),
        "monitoring.models.Card",
        {
            "received_period": _count(
                session, rq.where(CardCopy.receipt_signed_at >= lo, CardCopy.receipt_signed_at < hi)
            ),
            "received_cumulative": _count(session, rq.where(CardCopy.receipt_signed_at < hi)),
            "household_cards": _count(session, q.where(Card.kind == "household", Card.issued_date <= end)),
        },
    )


def alarms(session: Session, start: date, end: date) -> Metric:
    """Alarms raised (data-quality alarms apart); ``extra.open_at_end`` = not cleared at the end of ``end``."""
    from subsidence.monitoring.models import Alarm

    lo, hi = _utc_bounds(start, end)
    q = select(func.count()).select_from(Alarm).where(Alarm.data_quality.is_(False))
    return Metric(
        "alarms",
        "监测预警",
        "次",
        _count(session, q.where(Alarm.opened_at >= lo, Alarm.opened_at < hi)),
        _count(session, q.where(Alarm.opened_at < hi)),
        "monitoring.models.Alarm",
        {
            "open_at_end": _count(
                session, q.where(Alarm.opened_at < hi).where((Alarm.cleared_at.is_(None)) | (Alarm.cleared_at >= hi))
            ),
            "red_period": _count(session, q.where(Alarm.opened_at >= lo, Alarm.opened_at < hi, Alarm.max_level >= 4)),
        },
    )


# ------------------------------------------------------------------------------------------ plans


def plan_achievement(session: Session, year: int, by: str = "mine") -> list[dict[str, Any]]:
    """Plan against achievement for ``year`` per mine or town (plans.service.plan_gap), as dicts."""
    from subsidence.plans.service import plan_gap

    return [r.as_dict() for r in plan_gap(session, year, by=by)]


def core_numbers(session: Session, start: date, end: date) -> list[Metric]:
    """Every scalar number of the report upward, in print order."""
    return [
        subsidence_area(session, start, end, "found"),
        subsidence_area(session, start, end, "confirmed"),
        subsidence_area(session, start, end, "treated"),
        problems_found(session, start, end),
        notices_issued(session, start, end),
        acceptances(session, start, end),
        escalations(session, start, end),
        fund_accrued(session, start, end),
        fund_used(session, start, end),
        buildings_demolished(session, start, end),
        water_plans_approved(session, start, end),
        hidden_factor_plans_approved(session, start, end),
        hazard_points(session, start, end),
        cards_issued(session, start, end),
        alarms(session, start, end),
    ]


# ------------------------------------------------------------------------------------------ what changed


@dataclass(frozen=True)
class ProblemChange:
    """One problem whose standing differs between the end of the previous period and the end of this one."""

    code: str
    title: str
    lead_unit: str
    what: str  #: 新发现 / 状态变化 / 新增逾期 / 验收销号 ...
    before: str  #: state label at the end of the day before ``start`` ("" for a new problem)
    after: str  #: state label at the end of ``end``
    on: str  #: the business date of the last transition in the period, else ""


def problem_states(session: Session, on: date) -> dict[str, tuple[Any, bool, Any]]:
    """code → (state, overdue, problem) at the end of ``on`` (states rebuilt from the audit trail)."""
    from subsidence.ledger.progress import ledger_problems, states_as_of
    from subsidence.ledger.queries import is_overdue_on

    problems = ledger_problems(session, on)
    states = states_as_of(session, problems, on)
    return {p.code: (states[p.id], is_overdue_on(states[p.id], p.deadline, on), p) for p in problems}


def changes_since(session: Session, start: date, end: date) -> list[ProblemChange]:
    """What changed in the ledger over ``[start, end]``: problems found in the period, every change of state
    between the day before ``start`` and ``end`` (also for problems without transition events, such as
    imported or demo ones: their found date and deadline still move them), and problems that became overdue."""
    from subsidence.vocabulary import ProblemState

    before = problem_states(session, start - timedelta(days=1))
    after = problem_states(session, end)
    last_on = {c["problem"]: c["on"] for c in changes(session, start, end)}
    out: list[ProblemChange] = []
    for code, (state, overdue, p) in sorted(after.items()):
        unit = p.lead_unit.name_zh if p.lead_unit is not None else ""
        if code not in before:
            what = "新发现" + ("（已逾期）" if overdue else "")
            out.append(ProblemChange(code, p.title, unit, what, "", state.label(), p.found_date.isoformat()))
            continue
        s0, o0, _ = before[code]
        if s0 != state:
            what = "验收销号" if state == ProblemState.ACCEPTED else "状态变化"
            out.append(ProblemChange(code, p.title, unit, what, s0.label(), state.label(), last_on.get(code, "")))
        elif overdue and not o0:
            out.append(
                ProblemChange(
                    code,
                    p.title,
                    unit,
                    "新增逾期",
                    s0.label(),
                    state.label(),
                    p.deadline.isoformat() if p.deadline else "",
                )
            )
        elif o0 and not overdue:
            out.append(ProblemChange(code, p.title, unit, "解除逾期", s0.label(), state.label(), last_on.get(code, "")))
    return out
