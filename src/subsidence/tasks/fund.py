"""Restoration fund (task 2, 矿山地质环境治理恢复基金): accounts, the Ordos accrual rule, entries, findings, gate.

Money is integer **fen** (1 yuan = 100 fen) everywhere below the user interface; arithmetic on rates and
coefficients is done in :class:`~decimal.Decimal` and rounded half-up to the fen once, at the end.
Float never touches money.

The annual accrual (docs/science.md §5, Ordos 2025 rule)::

    accrual (yuan/yr) = category base (yuan/t) × mining-method coeff × land-type coeff
                        × regional coeff × coal-price coeff × last year's output (t)
    required          = max(accrual, the accrual the mine's plan requires)

Worked example: 10 Mt × 5.5 × 1.2 (underground, subsidence allowed) × 1.0 (grassland) × 1 × 1 = 66,000,000 yuan.

The coefficients live in ``subsidence/data/fund_coefficients.csv`` (factor, key, value, labels, source) so the
office can edit them when the city publishes new values. :func:`annual_accrual` is pure (no DB, no files);
the rest of this module is the persistence and the rules.

Findings (each opens one category-2 problem and gives a licence-gate reason):

* **under-accrued** (计提不足): for a year that has ended, deposits counted for that year < the required accrual;
* **unused** (基金闲置): the mine has open treatment problems (categories 1, 2, 3) older than
  ``FundRules.grace_days`` while its fund over the trailing 365 days was used below
  ``FundRules.min_utilisation`` (spending / (balance a year ago + deposits since)) and the balance is positive.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.tasks.models import FundAccount, FundEntry, FundObligation
from subsidence.vocabulary import (
    CLOSED_STATES,
    ApplicationType,
    FundEntryKind,
    GateReason,
    MiningMethod,
    ProblemCategory,
    ProblemSource,
)

log = logging.getLogger(__name__)

DEFAULT_COEFFICIENTS = Path(__file__).resolve().parent.parent / "data" / "fund_coefficients.csv"
FACTORS = ("category_base", "mining_method", "land_type", "regional", "coal_price")
FACTOR_LABELS = {
    "category_base": ("类别基数（元/吨）", "category base (yuan/t)"),
    "mining_method": ("开采方式系数", "mining-method coefficient"),
    "land_type": ("土地类型系数", "land-type coefficient"),
    "regional": ("区域系数", "regional coefficient"),
    "coal_price": ("煤价系数", "coal-price coefficient"),
}
FEN_PER_YUAN = 100
LEGAL_BASIS = (
    "《土地复垦条例》第二十条；《矿山地质环境保护规定》；财建〔2017〕638号（建立矿山地质环境治理恢复基金）；"
    "伊政办发〔2024〕79号 任务二"
)
#: problem categories whose open problems the fund should be paying for
TREATMENT_CATEGORIES = (ProblemCategory.SUBSIDENCE_CRACKS, ProblemCategory.FUNDS, ProblemCategory.VEGETATION)

# ------------------------------------------------------------------------------------------ money


def yuan_to_fen(yuan: Decimal | int | str) -> int:
    """Yuan (exact decimal) to integer fen, rounded half-up."""
    return int((Decimal(yuan) * FEN_PER_YUAN).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def format_yuan(fen: int) -> str:
    """``6600000000`` fen → ``'66,000,000.00'``."""
    return f"{fen_to_yuan(fen):,.2f}"


def parse_yuan(text: str | int | Decimal, *, field_name: str = "amount") -> int:
    """Parse a user-typed amount in yuan (at most 2 decimals, > 0) to fen; refuse anything else clearly."""
    raw = str(text).strip().replace(",", "").replace("，", "").removesuffix("元")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed(f"{field_name}: {text!r} is not an amount in yuan (e.g. 1250000.00)") from None
    if not value.is_finite():
        raise ValidationFailed(f"{field_name}: {text!r} is not a finite amount")
    if value <= 0:
        raise ValidationFailed(
            f"{field_name}: amounts must be positive (got {text!r}); "
            "to correct an entry, reverse it (冲正) instead of entering a negative amount"
        )
    if value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{field_name}: {text!r} has more than 2 decimals (fen is the smallest unit)")
    return yuan_to_fen(value)


# ----------------------------------------------------------------------------- coefficient table


@dataclass(frozen=True)
class Coefficient:
    factor: str
    key: str
    value: Decimal
    label_zh: str
    label_en: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {
            "factor": self.factor,
            "key": self.key,
            "value": str(self.value),
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "source": self.source,
        }


@dataclass(frozen=True)
class CoefficientTable:
    rows: dict[tuple[str, str], Coefficient]
    path: str

    @classmethod
    def load(cls, path: Path | str | None = None) -> CoefficientTable:
        """Read and validate the CSV (columns factor,key,value,label_zh,label_en,source)."""
        p = Path(path or DEFAULT_COEFFICIENTS)
        rows: dict[tuple[str, str], Coefficient] = {}
        with p.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            need = {"factor", "key", "value", "label_zh", "label_en", "source"}
            missing = need - set(reader.fieldnames or [])
            if missing:
                raise ValidationFailed(f"{p}: missing column(s) {sorted(missing)}; expected {sorted(need)}")
            for line, row in enumerate(reader, start=2):
                factor, key = row["factor"].strip(), row["key"].strip()
                if factor not in FACTORS:
                    raise ValidationFailed(f"{p} line {line}: factor {factor!r} unknown; use one of {FACTORS}")
                try:
                    value = Decimal(row["value"].strip())
                except InvalidOperation:
                    raise ValidationFailed(f"{p} line {line}: value {row['value']!r} is not a number") from None
                if not value.is_finite() or value <= 0:
                    raise ValidationFailed(f"{p} line {line}: value must be a positive number")
                if not row["source"].strip():
                    raise ValidationFailed(f"{p} line {line}: every coefficient needs its source")
                if (factor, key) in rows:
                    raise ValidationFailed(f"{p} line {line}: duplicate {factor}/{key}")
                rows[(factor, key)] = Coefficient(
                    factor, key, value, row["label_zh"].strip(), row["label_en"].strip(), row["source"].strip()
                )
        for factor in FACTORS:
            if not any(f == factor for f, _ in rows):
                raise ValidationFailed(f"{p}: no row for factor {factor!r}")
        return cls(rows, str(p))

    def get(self, factor: str, key: str) -> Coefficient:
        try:
            return self.rows[(factor, key)]
        except KeyError:
            keys = sorted(k for f, k in self.rows if f == factor)
            raise ValidationFailed(
                f"{FACTOR_LABELS.get(factor, (factor,))[0]} ({factor}): no coefficient for {key!r} in {self.path}; "
                f"use one of {keys} or add a row"
            ) from None

    def keys(self, factor: str) -> list[str]:
        return sorted(k for f, k in self.rows if f == factor)


@lru_cache(maxsize=4)
def _cached_table(path: str) -> CoefficientTable:
    return CoefficientTable.load(path)


def coefficient_table(path: Path | str | None = None) -> CoefficientTable:
    return _cached_table(str(Path(path or DEFAULT_COEFFICIENTS).resolve()))


# ------------------------------------------------------------------------------- pure formula


@dataclass(frozen=True)
class Accrual:
    """The result of the accrual formula, with every factor shown."""

    output_t: Decimal
    factors: tuple[Coefficient, ...]
    formula_yuan: Decimal
    formula_fen: int
    plan_required_fen: int
    required_fen: int

    @property
    def plan_governs(self) -> bool:
        return self.plan_required_fen > self.formula_fen

    def as_dict(self) -> dict[str, Any]:
        return {
            "output_t": str(self.output_t),
            "factors": [c.as_dict() for c in self.factors],
            "formula_yuan": str(fen_to_yuan(self.formula_fen)),
            "formula_fen": self.formula_fen,
            "plan_required_fen": self.plan_required_fen,
            "required_fen": self.required_fen,
            "required_yuan": str(fen_to_yuan(self.required_fen)),
            "plan_governs": self.plan_governs,
        }


def annual_accrual(
    output_t: Decimal | int | str, factors: list[Coefficient] | tuple[Coefficient, ...], plan_required_fen: int = 0
) -> Accrual:
    """Required annual accrual = Π coefficients × output (t), never less than the plan's requirement.

    ``factors`` must contain exactly one coefficient of each factor in :data:`FACTORS`
    (the category base is in yuan/t, the others are dimensionless).
    """
    out = Decimal(str(output_t))
    if not out.is_finite() or out < 0:
        raise ValidationFailed(f"output: {output_t!r} t is not a non-negative number of tonnes")
    if plan_required_fen < 0:
        raise ValidationFailed("plan requirement must not be negative")
    by_factor = {c.factor: c for c in factors}
    missing = [f for f in FACTORS if f not in by_factor]
    if missing or len(factors) != len(FACTORS):
        raise ValidationFailed(f"accrual needs one coefficient of each factor {FACTORS}; missing {missing}")
    yuan = out
    for f in FACTORS:
        yuan *= by_factor[f].value
    formula_fen = yuan_to_fen(yuan)
    return Accrual(
        out,
        tuple(by_factor[f] for f in FACTORS),
        yuan,
        formula_fen,
        int(plan_required_fen),
        max(formula_fen, int(plan_required_fen)),
    )


def default_method_key(method: MiningMethod | str | None) -> str:
    return MiningMethod(method).value if method else MiningMethod.UNDERGROUND_SUBSIDENCE.value


# ------------------------------------------------------------------------------- persistence


def resolve_mine(session: Session, key: str | int | Mine) -> Mine:
    """A mine by licence number, Chinese or English name, or id; NotFound names what was asked."""
    if isinstance(key, Mine):
        return key
    text = str(key).strip()
    mine = session.scalar(select(Mine).where(or_(Mine.licence_no == text, Mine.name_zh == text, Mine.name_en == text)))
    if mine is None and text.isdigit():
        mine = session.get(Mine, int(text))
    if mine is None:
        raise NotFound(f"mine {text!r} not found (give its licence number or name)")
    return mine


def get_account(session: Session, mine: Mine) -> FundAccount:
    acct = session.scalar(select(FundAccount).where(FundAccount.mine_id == mine.id))
    if acct is None:
        raise NotFound(
            f"mine {mine.licence_no} ({mine.name_zh}) has no fund account; open one first (subsidence fund open)"
        )
    return acct


def open_account(
    session: Session,
    mine: Mine,
    *,
    land_type: str = "other",
    region_key: str = "default",
    method_key: str | None = None,
    bank_account: str | None = None,
    opened: date | None = None,
    code: str | None = None,
    table: CoefficientTable | None = None,
) -> FundAccount:
    """Open the fund account of ``mine`` (one per mine); the coefficient keys are checked against the table."""
    table = table or coefficient_table()
    if session.scalar(select(FundAccount.id).where(FundAccount.mine_id == mine.id)) is not None:
        raise Conflict(f"mine {mine.licence_no} already has a fund account")
    table.get("land_type", land_type)
    table.get("regional", region_key)
    if method_key is not None:
        table.get("mining_method", method_key)
    acct = FundAccount(
        code=code or f"FA-{mine.licence_no}",
        mine_id=mine.id,
        land_type=land_type,
        region_key=region_key,
        method_key=method_key,
        bank_account=bank_account,
        opened=opened,
    )
    session.add(acct)
    session.flush()
    return acct


def plan_required_fen_for(session: Session, mine: Mine, year: int) -> int:
    """The accrual the mine's annual treatment plan requires (plans ledger), in fen; 0 without a plan."""
    from subsidence.plans.models import AnnualPlan

    yuan = session.scalar(
        select(AnnualPlan.required_fund_accrual_yuan).where(AnnualPlan.mine_id == mine.id, AnnualPlan.year == year)
    )
    return yuan_to_fen(yuan) if yuan else 0


def compute_obligation(
    session: Session,
    mine: Mine,
    year: int,
    output_t: Decimal | int | str,
    *,
    price_key: str = "default",
    plan_required_fen: int | None = None,
    table: CoefficientTable | None = None,
) -> FundObligation:
    """Compute and store (or recompute) the required accrual of ``mine`` for ``year`` from year-1's output."""
    table = table or coefficient_table()
    acct = get_account(session, mine)
    method_key = acct.method_key or default_method_key(mine.mining_method)
    factors = [
        table.get("category_base", "coal"),
        table.get("mining_method", method_key),
        table.get("land_type", acct.land_type),
        table.get("regional", acct.region_key),
        table.get("coal_price", price_key),
    ]
    if plan_required_fen is None:
        plan_required_fen = plan_required_fen_for(session, mine, year)
    acc = annual_accrual(output_t, factors, plan_required_fen)
    ob = session.scalar(select(FundObligation).where(FundObligation.account_id == acct.id, FundObligation.year == year))
    if ob is None:
        ob = FundObligation(account_id=acct.id, year=year)
        session.add(ob)
    ob.output_kg = int((acc.output_t * 1000).to_integral_value(rounding=ROUND_HALF_UP))
    ob.price_key = price_key
    ob.coefficients = {c.factor: {"key": c.key, "value": str(c.value), "source": c.source} for c in acc.factors}
    ob.formula_fen, ob.plan_required_fen, ob.required_fen = acc.formula_fen, acc.plan_required_fen, acc.required_fen
    session.flush()
    return ob


def _signed(kind: FundEntryKind, amount: int, reversed_kind: FundEntryKind | None = None) -> int:
    if kind == FundEntryKind.DEPOSIT:
        return amount
    if kind in (FundEntryKind.SPENDING, FundEntryKind.WITHDRAWAL):
        return -amount
    # a reversal undoes the entry it reverses
    return -_signed(reversed_kind, amount) if reversed_kind is not None else 0


def _entries(session: Session, acct: FundAccount, until: date | None = None) -> list[FundEntry]:
    q = select(FundEntry).where(FundEntry.account_id == acct.id)
    if until is not None:
        q = q.where(FundEntry.entry_date <= until)
    return list(session.scalars(q.order_by(FundEntry.entry_date, FundEntry.id)))


def _effects(session: Session, entries: list[FundEntry]) -> list[tuple[FundEntry, FundEntryKind, int]]:
    """(entry, effective kind, signed fen): a reversal counts as the negative of what it reverses."""
    out = []
    for e in entries:
        if e.kind == FundEntryKind.REVERSAL:
            orig = session.get(FundEntry, e.reverses_id)
            out.append((e, orig.kind, -_signed(orig.kind, e.amount_fen)))
        else:
            out.append((e, e.kind, _signed(e.kind, e.amount_fen)))
    return out


def balance_fen(session: Session, mine: Mine, as_of: date | None = None) -> int:
    """Balance of the mine's fund (fen) at the end of ``as_of`` (default: all entries)."""
    acct = get_account(session, mine)
    return sum(s for _, _, s in _effects(session, _entries(session, acct, as_of)))


def available_fen(session: Session, acct: FundAccount, on: date) -> int:
    """The most that can leave the fund on ``on`` without the balance going negative on any later date
    (the minimum running balance from the end of ``on`` onwards; backdated entries are checked too)."""
    effects = _effects(session, _entries(session, acct))
    running = sum(sgn for e, _, sgn in effects if e.entry_date <= on)
    lowest = running
    for e, _, sgn in effects:
        if e.entry_date > on:
            running += sgn
            lowest = min(lowest, running)
    return lowest


def _next_entry_code(session: Session, acct: FundAccount) -> str:
    n = session.scalar(select(func.count(FundEntry.id)).where(FundEntry.account_id == acct.id)) or 0
    return f"FE-{acct.code}-{n + 1:05d}"


def add_entry(
    session: Session,
    mine: Mine,
    kind: FundEntryKind | str,
    amount_fen: int,
    entry_date: date,
    *,
    year: int | None = None,
    problem: Problem | None = None,
    works: str | None = None,
    reference: str | None = None,
    note: str | None = None,
    code: str | None = None,
    actor: Any = None,
) -> FundEntry:
    """Record a deposit, spending or withdrawal. Refuses non-positive amounts and overdrafts; changes nothing then.

    Spending must name the problem it treats or the works it paid for; a problem must be the mine's own.
    """
    kind = FundEntryKind.parse(kind) if not isinstance(kind, FundEntryKind) else kind
    if kind == FundEntryKind.REVERSAL:
        raise ValidationFailed("use reverse_entry() / `subsidence fund reverse` to reverse an entry")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise ValidationFailed(f"amount must be integer fen, got {amount_fen!r}")
    if amount_fen <= 0:
        raise ValidationFailed(
            f"amount must be positive (got {format_yuan(amount_fen)} yuan); to correct an entry, reverse it (冲正)"
        )
    acct = get_account(session, mine)
    if actor is not None:
        from subsidence.access.policy import authorize

        authorize(session, actor, "enter", acct, "fund_account")
    if kind == FundEntryKind.SPENDING and problem is None and not (works or "").strip():
        raise ValidationFailed("spending must name the problem (--problem) or the works (--works) it paid for")
    if problem is not None and problem.mine_id not in (None, mine.id):
        raise ValidationFailed(f"problem {problem.code} belongs to another mine; spending must be the mine's own")
    if kind in (FundEntryKind.SPENDING, FundEntryKind.WITHDRAWAL):
        avail = available_fen(session, acct, entry_date)
        if amount_fen > avail:
            raise ValidationFailed(
                f"{kind.label()} of {format_yuan(amount_fen)} yuan exceeds the fund balance of "
                f"{format_yuan(avail)} yuan (mine {mine.licence_no}, {entry_date}); nothing recorded"
            )
    entry = FundEntry(
        code=code or _next_entry_code(session, acct),
        account_id=acct.id,
        kind=kind,
        amount_fen=amount_fen,
        entry_date=entry_date,
        year=year or entry_date.year,
        problem_id=problem.id if problem is not None else None,
        works=works,
        reference=reference,
        note=note,
    )
    session.add(entry)
    session.flush()
    return entry


def reverse_entry(session: Session, code: str, entry_date: date, reason: str) -> FundEntry:
    """Reverse (冲正) an entry with a new entry; the original stays. A reversal cannot be reversed twice."""
    if not (reason or "").strip():
        raise ValidationFailed("a reversal needs a reason")
    orig = session.scalar(select(FundEntry).where(FundEntry.code == code))
    if orig is None:
        raise NotFound(f"fund entry {code!r} not found")
    if orig.kind == FundEntryKind.REVERSAL:
        raise ValidationFailed(f"{code} is itself a reversal; enter a new entry instead")
    if session.scalar(select(FundEntry.id).where(FundEntry.reverses_id == orig.id)) is not None:
        raise Conflict(f"{code} has already been reversed")
    acct = session.get(FundAccount, orig.account_id)
    if orig.kind == FundEntryKind.DEPOSIT and available_fen(session, acct, entry_date) < orig.amount_fen:
        raise ValidationFailed(f"reversing deposit {code} would make the balance negative; nothing recorded")
    entry = FundEntry(
        code=_next_entry_code(session, acct),
        account_id=acct.id,
        kind=FundEntryKind.REVERSAL,
        amount_fen=orig.amount_fen,
        entry_date=entry_date,
        year=orig.year,
        reverses_id=orig.id,
        problem_id=orig.problem_id,
        note=reason,
    )
    session.add(entry)
    session.flush()
    return entry


# ------------------------------------------------------------------------------- summaries


def year_summary(session: Session, mine: Mine, year: int) -> dict[str, Any]:
    """Opening/closing balance, deposits, spending, withdrawals, required accrual, accrual and utilisation ratios."""
    acct = get_account(session, mine)
    effects = _effects(session, _entries(session, acct))
    start, end = date(year, 1, 1), date(year, 12, 31)
    opening = sum(s for e, _, s in effects if e.entry_date < start)
    deposits_counted = sum(s for e, k, s in effects if k == FundEntryKind.DEPOSIT and e.year == year)
    in_year = [(e, k, s) for e, k, s in effects if start <= e.entry_date <= end]
    deposits = sum(s for _, k, s in in_year if k == FundEntryKind.DEPOSIT)
    spending = -sum(s for _, k, s in in_year if k == FundEntryKind.SPENDING)
    withdrawals = -sum(s for _, k, s in in_year if k == FundEntryKind.WITHDRAWAL)
    closing = opening + deposits - spending - withdrawals
    ob = session.scalar(select(FundObligation).where(FundObligation.account_id == acct.id, FundObligation.year == year))
    required = ob.required_fen if ob is not None else None
    available = opening + deposits
    by_problem: dict[str, int] = {}
    for e, k, s in in_year:
        if k == FundEntryKind.SPENDING:
            key = e.problem.code if e.problem is not None else (e.works or "—")
            by_problem[key] = by_problem.get(key, 0) - s
    return {
        "mine": mine.licence_no,
        "mine_name": mine.name_zh,
        "account": acct.code,
        "year": year,
        "opening_fen": opening,
        "deposits_fen": deposits,
        "deposits_counted_for_year_fen": deposits_counted,
        "spending_fen": spending,
        "withdrawals_fen": withdrawals,
        "closing_fen": closing,
        "required_fen": required,
        "obligation": (
            {
                "output_t": str(ob.output_t),
                "coefficients": ob.coefficients,
                "formula_fen": ob.formula_fen,
                "plan_required_fen": ob.plan_required_fen,
            }
            if ob is not None
            else None
        ),
        "accrual_ratio": (round(deposits_counted / required, 4) if required else None),
        "utilisation": (round(spending / available, 4) if available > 0 else None),
        "spending_by_problem_fen": by_problem,
        "entries": [
            {
                "code": e.code,
                "date": e.entry_date.isoformat(),
                "kind": e.kind.value,
                "kind_zh": e.kind.label(),
                "amount_fen": e.amount_fen,
                "signed_fen": s,
                "year": e.year,
                "problem": e.problem.code if e.problem is not None else None,
                "works": e.works,
                "reference": e.reference,
                "note": e.note,
            }
            for e, _, s in in_year
        ],
    }


# ------------------------------------------------------------------------------- findings and rules


@dataclass(frozen=True)
class FundRules:
    """Thresholds of the 'unused fund' finding (configurable; defaults are the office's working practice)."""

    grace_days: int = 90  #: an open treatment problem older than this should be drawing on the fund
    min_utilisation: Decimal = Decimal("0.30")  #: spending / available over the trailing 365 days
    min_balance_fen: int = 1


@dataclass
class FundFinding:
    kind: str  #: "under_accrued" | "unused"
    mine: str
    year: int
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def origin_key(self) -> str:
        return f"fund-{self.kind.replace('_', '-')}:{self.mine}:{self.year}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"origin_key": self.origin_key}


def _open_treatment_problems(session: Session, mine: Mine, today: date, grace_days: int) -> list[Problem]:
    cutoff = today - timedelta(days=grace_days)
    return list(
        session.scalars(
            select(Problem)
            .where(
                Problem.mine_id == mine.id,
                Problem.category.in_(TREATMENT_CATEGORIES),
                Problem.state.not_in(list(CLOSED_STATES)),
                Problem.found_date <= cutoff,
            )
            .order_by(Problem.code)
        )
    )


def fund_findings(session: Session, mine: Mine, today: date, rules: FundRules = FundRules()) -> list[FundFinding]:
    """What is wrong with the mine's fund today (empty when nothing is); a mine without an account has none here
    (the plans ledger reports a missing account)."""
    acct = session.scalar(select(FundAccount).where(FundAccount.mine_id == mine.id))
    if acct is None:
        return []
    out: list[FundFinding] = []
    effects = _effects(session, _entries(session, acct, today))
    obligations = session.scalars(
        select(FundObligation)
        .where(FundObligation.account_id == acct.id, FundObligation.year < today.year)
        .order_by(FundObligation.year)
    )
    for ob in obligations:
        counted = sum(s for e, k, s in effects if k == FundEntryKind.DEPOSIT and e.year == ob.year)
        if counted < ob.required_fen:
            short = ob.required_fen - counted
            out.append(
                FundFinding(
                    "under_accrued",
                    mine.licence_no,
                    ob.year,
                    f"{mine.name_zh}（{mine.licence_no}）{ob.year}年度治理恢复基金应计提 {format_yuan(ob.required_fen)} 元，"
                    f"实际计提 {format_yuan(counted)} 元，少提 {format_yuan(short)} 元 / fund under-accrued for {ob.year}",
                    {"required_fen": ob.required_fen, "deposited_fen": counted, "shortfall_fen": short},
                )
            )
    problems = _open_treatment_problems(session, mine, today, rules.grace_days)
    if problems:
        window_start = today - timedelta(days=365)
        bal_then = sum(s for e, _, s in effects if e.entry_date <= window_start)
        window = [(e, k, s) for e, k, s in effects if window_start < e.entry_date <= today]
        deposits = sum(s for _, k, s in window if k == FundEntryKind.DEPOSIT)
        spending = -sum(s for _, k, s in window if k == FundEntryKind.SPENDING)
        balance = sum(s for _, _, s in effects)
        available = bal_then + deposits
        util = (Decimal(spending) / Decimal(available)) if available > 0 else Decimal(1)
        if balance >= rules.min_balance_fen and util < rules.min_utilisation:
            codes = [p.code for p in problems]
            out.append(
                FundFinding(
                    "unused",
                    mine.licence_no,
                    today.year,
                    f"{mine.name_zh}（{mine.licence_no}）有 {len(codes)} 个超过 {rules.grace_days} 天未整改的治理问题，"
                    f"基金余额 {format_yuan(balance)} 元，近一年使用率 {util:.0%} 低于 {rules.min_utilisation:.0%} / "
                    f"fund unused against open problems",
                    {
                        "problems": codes,
                        "balance_fen": balance,
                        "utilisation": str(util.quantize(Decimal("0.0001"))),
                        "spending_fen": spending,
                        "available_fen": available,
                    },
                )
            )
    return out


def sync_fund_problems(session: Session, today: date, rules: FundRules = FundRules()) -> list[tuple[Problem, bool]]:
    """Open one category-2 problem per finding (never twice: keyed by origin); returns (problem, created)."""
    from subsidence.ledger.problems import open_problem

    out = []
    for acct in session.scalars(select(FundAccount).order_by(FundAccount.code)):
        mine = session.get(Mine, acct.mine_id)
        for f in fund_findings(session, mine, today, rules):
            requirement = (
                "按规定足额计提基金并说明原因"
                if f.kind == "under_accrued"
                else "按方案使用基金开展治理，报送基金使用计划"
            )
            out.append(
                open_problem(
                    session,
                    category=ProblemCategory.FUNDS,
                    title=f.message[:300],
                    source=ProblemSource.ANNUAL_ASSESSMENT,
                    found_date=today,
                    origin_key=f.origin_key,
                    mine=mine,
                    description=f.message,
                    requirement=requirement,
                )
            )
    return out


def gate_fund(session: Session, mine: Mine, application: ApplicationType, today: date) -> list[GateReason]:
    """Licence-gate findings of the fund ledger: an under-accrued ended year, an unused fund against open
    problems. Each is judged by the ledger problem opened for it (its notice sets the deadline); a mine with
    no fund account cannot be judged."""
    from subsidence.ledger.enforcement import tracked_finding

    if session.scalar(select(FundAccount.id).where(FundAccount.mine_id == mine.id)) is None:
        return [
            GateReason(
                "fund_account_missing",
                f"{mine.name_zh}未录入矿山地质环境治理恢复基金账户 / no fund account",
                LEGAL_BASIS,
                record=mine.licence_no,
                record_kind="mine",
                enter="录入治理恢复基金账户及年度计提义务 / enter the fund account and its yearly obligations",
            )
        ]
    out = []
    for f in fund_findings(session, mine, today):
        rule = "fund_under_accrued" if f.kind == "under_accrued" else "fund_unused"
        finding = tracked_finding(
            session,
            f.origin_key,
            GateReason(
                rule, f.message, LEGAL_BASIS, record=f.origin_key, record_kind="fund_account", details=f.details
            ),
        )
        if finding is not None:
            out.append(finding)
    return out


# ------------------------------------------------------------------------------------------ authorization


def review_entry(session: Session, entry: FundEntry, actor: Any, *, confirmed: bool, note: str | None = None) -> Any:
    """The Natural Resources Bureau's check (核实) of an entry an enterprise reported: confirmed, or returned
    with the reason (then corrected by a reversal and a new entry). One review per entry, never changed."""
    from subsidence.access.policy import authorize
    from subsidence.tasks.models import FundEntryReview

    authorize(session, actor, "review", entry, "fund_entry")
    if entry.kind == FundEntryKind.REVERSAL:
        raise ValidationFailed(f"{entry.code} is a reversal (冲正); reversals are not reviewed")
    if session.scalar(select(FundEntryReview.id).where(FundEntryReview.entry_id == entry.id)) is not None:
        raise Conflict(f"基金收支 {entry.code} 已核实 / entry {entry.code} was already reviewed")
    if not confirmed and not (note or "").strip():
        raise ValidationFailed("退回需写明原因 / returning an entry needs the reason")
    rev = FundEntryReview(
        entry_id=entry.id,
        confirmed=confirmed,
        note=(note or "").strip() or None,
        reviewer=actor.audit_name,
        reviewer_unit_id=actor.unit_id,
    )
    session.add(rev)
    session.flush()
    return rev
