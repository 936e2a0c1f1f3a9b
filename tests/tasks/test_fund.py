from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from subsidence.errors import Conflict, ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.ledger.problems import open_problem
from subsidence.tasks import fund
from subsidence.tasks.models import FundEntry
from subsidence.vocabulary import FundEntryKind, ProblemCategory, ProblemSource

MT = 10_000_000  # t


def test_worked_example_pure():
    """docs/science.md §5: 10 Mt × 5.5 × 1.2 × 1.0 (other two coefficients 1) = 66 million yuan/yr."""
    t = fund.coefficient_table()
    factors = [
        t.get("category_base", "coal"),
        t.get("mining_method", "underground_subsidence"),
        t.get("land_type", "grassland"),
        t.get("regional", "default"),
        t.get("coal_price", "default"),
    ]
    acc = fund.annual_accrual(MT, factors)
    assert acc.formula_fen == 66_000_000 * 100
    assert acc.required_fen == acc.formula_fen and not acc.plan_governs
    assert fund.format_yuan(acc.required_fen) == "66,000,000.00"
    # never less than the plan's requirement
    acc2 = fund.annual_accrual(MT, factors, plan_required_fen=70_000_000 * 100)
    assert acc2.required_fen == 70_000_000 * 100 and acc2.plan_governs


def test_coefficients_table_has_sources_and_published_values():
    t = fund.coefficient_table()
    expected = {
        ("mining_method", "underground_backfill"): "0.5",
        ("mining_method", "underground_no_subsidence"): "0.8",
        ("mining_method", "underground_subsidence"): "1.2",
        ("mining_method", "surface"): "2.0",
        ("mining_method", "surface_high"): "2.5",
        ("land_type", "cropland"): "1.4",
        ("land_type", "forest"): "1.2",
        ("land_type", "grassland"): "1.0",
        ("land_type", "other"): "0.8",
        ("category_base", "coal"): "5.5",
    }
    for k, v in expected.items():
        assert t.rows[k].value == Decimal(v)
    with fund.DEFAULT_COEFFICIENTS.open(encoding="utf-8") as fh:
        assert all(row["source"].strip() for row in csv.DictReader(fh))


def test_coefficient_table_refuses_bad_rows(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("factor,key,value,label_zh,label_en,source\ncategory_base,coal,-1,x,x,src\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="line 2"):
        fund.CoefficientTable.load(p)
    p.write_text("factor,key,value,label_zh,label_en,source\ncategory_base,coal,5.5,x,x,\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="source"):
        fund.CoefficientTable.load(p)


def test_money_parsing():
    assert fund.parse_yuan("1,250,000.50") == 125_000_050
    for bad in ("-5", "0", "abc", "1.001", "NaN"):
        with pytest.raises(ValidationFailed):
            fund.parse_yuan(bad)


def test_obligation_stored_and_summary(session, county):
    mine = county.mines[0]
    fund.open_account(session, mine, land_type="grassland")
    ob = fund.compute_obligation(session, mine, 2025, MT)
    assert ob.required_fen == 6_600_000_000
    assert ob.coefficients["mining_method"]["value"] == "1.2"
    fund.add_entry(session, mine, "deposit", 6_600_000_000, date(2025, 3, 1), year=2025)
    fund.add_entry(session, mine, "spending", 1_000_000_000, date(2025, 6, 1), works="裂缝充填 12 ha")
    s = fund.year_summary(session, mine, 2025)
    assert s["closing_fen"] == 5_600_000_000 and s["accrual_ratio"] == 1.0
    assert s["utilisation"] == round(1 / 6.6, 4)


def test_bad_entries_change_nothing(session, county):
    mine = county.mines[0]
    fund.open_account(session, mine)
    fund.add_entry(session, mine, FundEntryKind.DEPOSIT, 100_00, date(2025, 1, 10))
    n = session.scalar(select(func.count(FundEntry.id)))
    with pytest.raises(ValidationFailed, match="positive"):
        fund.add_entry(session, mine, FundEntryKind.DEPOSIT, -5, date(2025, 1, 11))
    with pytest.raises(ValidationFailed, match="exceeds the fund balance"):
        fund.add_entry(session, mine, FundEntryKind.WITHDRAWAL, 100_01, date(2025, 1, 12))
    with pytest.raises(ValidationFailed, match="exceeds"):  # the money was not there yet on that date
        fund.add_entry(session, mine, FundEntryKind.SPENDING, 50_00, date(2025, 1, 5), works="x")
    with pytest.raises(ValidationFailed, match="problem"):
        fund.add_entry(session, mine, FundEntryKind.SPENDING, 50_00, date(2025, 2, 1))
    assert session.scalar(select(func.count(FundEntry.id))) == n
    assert fund.balance_fen(session, mine) == 100_00
    with pytest.raises(Conflict):
        fund.open_account(session, mine)


def test_spending_linked_to_problem_and_reversal(session, county):
    mine, other = county.mines[0], county.mines[1]
    fund.open_account(session, mine)
    p, _ = open_problem(
        session,
        category=ProblemCategory.SUBSIDENCE_CRACKS,
        title="裂缝",
        source=ProblemSource.FIELD_SURVEY,
        found_date=date(2025, 1, 1),
        mine=mine,
    )
    q, _ = open_problem(
        session,
        category=ProblemCategory.SUBSIDENCE_CRACKS,
        title="裂缝",
        source=ProblemSource.FIELD_SURVEY,
        found_date=date(2025, 1, 1),
        mine=other,
    )
    fund.add_entry(session, mine, "deposit", 1_000_00, date(2025, 1, 10))
    e = fund.add_entry(session, mine, "spending", 400_00, date(2025, 2, 1), problem=p)
    with pytest.raises(ValidationFailed, match="another mine"):
        fund.add_entry(session, mine, "spending", 1_00, date(2025, 2, 1), problem=q)
    assert fund.year_summary(session, mine, 2025)["spending_by_problem_fen"] == {p.code: 400_00}
    fund.reverse_entry(session, e.code, date(2025, 2, 2), "录入错误")
    assert fund.balance_fen(session, mine) == 1_000_00
    with pytest.raises(Conflict):
        fund.reverse_entry(session, e.code, date(2025, 2, 3), "again")


def test_under_accrued_opens_problem_once_and_gates(session, county, gate_rules_hit):
    from subsidence.gate.rules import RULES

    assert "fund" in dict(RULES)
    mine = county.mines[0]
    fund.open_account(session, mine, land_type="grassland")
    fund.compute_obligation(session, mine, 2025, MT)
    fund.add_entry(session, mine, "deposit", 5_000_000_000, date(2025, 12, 1), year=2025)
    # during 2025 the year has not ended: no finding
    assert fund.fund_findings(session, mine, date(2025, 12, 15)) == []
    today = date(2026, 1, 10)
    f = fund.fund_findings(session, mine, today)
    assert [x.kind for x in f] == ["under_accrued"] and f[0].details["shortfall_fen"] == 1_600_000_000
    created = fund.sync_fund_problems(session, today)
    again = fund.sync_fund_problems(session, today)
    assert [c for _, c in created] == [True] and [c for _, c in again] == [False]
    probs = session.scalars(select(Problem).where(Problem.category == ProblemCategory.FUNDS)).all()
    assert len(probs) == 1 and probs[0].mine_id == mine.id
    # no rectification deadline yet: a warning, not a refusal (issue 13: the gate refuses only what is overdue)
    assert "fund_under_accrued" in gate_rules_hit(session, mine, today, "warning")
    assert "fund_under_accrued" not in gate_rules_hit(session, mine, today)
    _notice(session, probs[0], date(2026, 1, 12), date(2026, 2, 27))
    assert "fund_under_accrued" in gate_rules_hit(session, mine, date(2026, 2, 27), "warning")
    assert "fund_under_accrued" in gate_rules_hit(session, mine, date(2026, 3, 2))  # the notice's deadline passed
    # topping up removes the finding
    fund.add_entry(session, mine, "deposit", 1_600_000_000, date(2026, 1, 11), year=2025)
    assert "fund_under_accrued" not in gate_rules_hit(session, mine, date(2026, 3, 2))


def _notice(session, problem, issued, deadline):
    """Issue the rectification notice that makes a finding enforceable (the office, server date ``issued``)."""
    from subsidence.access.policy import Actor
    from subsidence.ledger.notices import issue_notice
    from subsidence.vocabulary import Role

    session.info["server_today"] = issued
    return issue_notice(
        session,
        problem,
        Actor("office", Role.OFFICE),
        issued_date=issued,
        deadline=deadline,
        recipient=problem.mine.name_zh,
    )


def test_unused_fund_against_open_problems(session, county, gate_rules_hit):
    mine = county.mines[1]
    fund.open_account(session, mine)
    fund.add_entry(session, mine, "deposit", 10_000_000_00, date(2025, 1, 5))
    open_problem(
        session,
        category=ProblemCategory.VEGETATION,
        title="植被未恢复",
        source=ProblemSource.REMOTE_SENSING,
        found_date=date(2025, 2, 1),
        mine=mine,
    )
    today = date(2025, 9, 1)
    kinds = [f.kind for f in fund.fund_findings(session, mine, today)]
    assert kinds == ["unused"]
    assert "fund_unused" in gate_rules_hit(session, mine, today, "warning")
    fund.sync_fund_problems(session, today)
    fund.sync_fund_problems(session, today)
    assert session.scalar(select(func.count(Problem.id)).where(Problem.origin_key.like("fund-unused:%"))) == 1
    # spending 40 % of it on the problem clears the finding
    fund.add_entry(session, mine, "spending", 4_000_000_00, date(2025, 8, 1), works="补植")
    assert fund.fund_findings(session, mine, today) == []


def test_plan_requirement_from_annual_plan(session, county):
    """Never less than what the mine's annual plan requires (plans ledger)."""
    from subsidence.plans.service import set_annual_plan

    mine = county.mines[1]  # backfill: 1 Mt × 5.5 × 0.5 × 0.8 (other land) = 2.2 M yuan
    fund.open_account(session, mine)
    set_annual_plan(session, mine, 2025, target_treat_ha=10, target_reclaim_ha=5, required_fund_accrual_yuan=3_000_000)
    ob = fund.compute_obligation(session, mine, 2025, 1_000_000)
    assert ob.formula_fen == 2_200_000_00 and ob.plan_required_fen == 3_000_000_00
    assert ob.required_fen == 3_000_000_00


def test_backdated_spending_cannot_overdraw_later(session, county):
    """Jan +100, Apr −90, Jun +100: a spending of 50 dated March would leave −40 in April → refused."""
    mine = county.mines[0]
    fund.open_account(session, mine)
    fund.add_entry(session, mine, "deposit", 100_00, date(2025, 1, 1))
    fund.add_entry(session, mine, "spending", 90_00, date(2025, 4, 1), works="x")
    fund.add_entry(session, mine, "deposit", 100_00, date(2025, 6, 1))
    with pytest.raises(ValidationFailed, match="exceeds"):
        fund.add_entry(session, mine, "spending", 50_00, date(2025, 3, 1), works="y")
    fund.add_entry(session, mine, "spending", 10_00, date(2025, 3, 1), works="y")
    fund.add_entry(session, mine, "spending", 100_00, date(2025, 7, 1), works="z")
    assert fund.balance_fen(session, mine) == 0
