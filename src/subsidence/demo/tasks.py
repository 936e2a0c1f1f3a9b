"""Demo data of the task ledgers (illustrative): fund accounts and entries, water plans and well assessments,
hidden factors with plans, a double-random draw with results, the annual assessment. Works on the demo county."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine, Unit
from subsidence.ledger.models import Problem
from subsidence.monitoring.models import GroundwaterWell
from subsidence.tasks import assessment, fund, minehazards, water
from subsidence.tasks.inspections import service as inspections
from subsidence.vocabulary import MiningMethod

LAND = ["grassland", "grassland", "forest", "other", "cropland"]
FACTOR_TYPES = ["goaf_water", "old_workings", "fire_zone", "fault", "gas", "collapse_column"]


def _fund(session: Session, mines: list[Mine], rng: np.random.Generator, today: date) -> dict[str, int]:
    n_entries = 0
    for i, m in enumerate(mines):
        fund.open_account(
            session, m, land_type=LAND[i % len(LAND)], opened=date(2019, 1, 1), bank_account=f"示例银行 6222{i:08d}"
        )
        cap_t = int((m.capacity_mt_per_yr or 5.0) * 1e6)
        for year in (today.year - 2, today.year - 1, today.year):
            output = int(cap_t * rng.uniform(0.8, 1.05))
            ob = fund.compute_obligation(session, m, year, output)
            share = 1.0 if i % 5 else 0.7  # every fifth mine accrues too little
            dep = ob.required_fen if share == 1.0 else int(ob.required_fen * share) // 100 * 100
            fund.add_entry(
                session, m, "deposit", dep, min(date(year, 3, 31), today), year=year, reference=f"回单 {year}-{i:03d}"
            )
            n_entries += 1
            if i % 4 != 3:  # every fourth mine sits on its fund
                problem = session.scalar(select(Problem).where(Problem.mine_id == m.id).order_by(Problem.id).limit(1))
                spend = int(dep * rng.uniform(0.35, 0.8)) // 100 * 100
                fund.add_entry(
                    session,
                    m,
                    "spending",
                    spend,
                    min(date(year, 9, 30), today),
                    year=year,
                    problem=problem,
                    works="裂缝充填、土地平整、植被恢复（示例）",
                )
                n_entries += 1
    fund.sync_fund_problems(session, today)
    return {"fund_accounts": len(mines), "fund_entries": n_entries}


def _water(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    wells = list(
        session.scalars(
            select(GroundwaterWell).where(GroundwaterWell.mine_id.is_not(None)).order_by(GroundwaterWell.code)
        )
    )
    months = 24
    t = np.array([np.datetime64(today - timedelta(days=int(30.4375 * (months - k)))) for k in range(months)])
    n = 0
    for i, w in enumerate(wells):
        rate = 0.12 if i % 3 == 0 else 0.0
        base = w.baseline_depth_to_water_m or 1.5
        depth = (
            base
            + 0.15 * np.sin(2 * np.pi * np.arange(months) / 12)
            + rate * np.arange(months)
            + rng.normal(0, 0.03, months)
        )
        water.assess_well(
            session,
            w,
            today,
            times=t,
            depths=depth,
            baseline=base
            + 0.15 * np.sin(2 * np.pi * (np.arange(12) - (t[0].astype("datetime64[M]").astype(int) % 12)) / 12),
        )
        n += 1
    plans = 0
    for i, w in enumerate(wells[::3]):
        if i % 2 == 0:  # half of the declining mines already have an approved plan
            mine = session.get(Mine, w.mine_id)
            p = water.require_plan(session, mine, reason="地下水位持续下降（示例）", due=today - timedelta(days=200))
            water.submit_plan(session, p.code, today - timedelta(days=230))
            water.review_plan(
                session,
                p.code,
                approve=True,
                reviewed=today - timedelta(days=210),
                approval_no=f"伊农水保〔{today.year - 1}〕{i + 1}号（示例）",
            )
            water.link_wells(session, p.code, [w.code])
            plans += 1
    water.sync_water_problems(session, today)
    return {"well_assessments": n, "water_plans": plans}


def _hazards(session: Session, mines: list[Mine], rng: np.random.Generator, today: date) -> dict[str, int]:
    from subsidence.demo.county import is_compliant

    n = 0
    for i, m in enumerate(mines):
        for k in range(1 + i % 3):
            code = f"HF-{m.licence_no[-4:]}-{k + 1}"
            surveyed = date(2024, 10, 8) + timedelta(days=int(rng.integers(0, 40)))
            minehazards.register_factor(
                session,
                m,
                code,
                FACTOR_TYPES[(i + k) % len(FACTOR_TYPES)],
                census_year=2024,
                surveyed=surveyed,
                location=f"{22301 + k}工作面周边（示例）",
                risk_level=["一般", "较大", "重大"][(i + k) % 3],
                plan_due=surveyed + timedelta(days=30),
            )
            n += 1
            stage = 3 if is_compliant(m, mines) else (i + k) % 4  # compliant mines: approved and carried out
            if stage == 0:
                continue  # no plan yet: past due -> gate reason
            plan_code = f"RP-{m.licence_no[-4:]}-{k + 1}"
            minehazards.submit_plan(
                session,
                code,
                plan_code,
                measures="探放水/注浆封堵/加强监测（示例）",
                submitted=surveyed + timedelta(days=10),
                rectify_deadline=surveyed + timedelta(days=200),
            )
            if stage >= 2:
                minehazards.review_plan(
                    session,
                    plan_code,
                    reviewer_unit="EMB",
                    approve=True,
                    result="同意实施（示例）",
                    reviewed=surveyed + timedelta(days=20),
                )
            if stage == 3:
                minehazards.complete_plan(session, plan_code, surveyed + timedelta(days=150))
    return {"hidden_factors": n}


def _inspections(session: Session, mines: list[Mine], today: date) -> dict[str, int]:
    grades = ["high", "medium", "low"]
    for i, m in enumerate(mines):
        grade = "high" if m.mining_method == MiningMethod.SURFACE else grades[i % 3]
        inspections.set_object(session, m, grade)
    units = [u for u in session.scalars(select(Unit).where(Unit.code.in_(["NRB", "EMB", "EEB", "FGB", "AWB"])))]
    k = 0
    for u in units:
        for j in range(3):
            k += 1
            inspections.add_inspector(session, f"{u.code}-{j + 1:02d}", u.code, role_title="行政执法人员")
    inspections.declare_conflict(session, "NRB-01", mines[0], "近亲属在该矿任职（示例）", today - timedelta(days=90))
    inspections.add_item(
        session,
        "DR-RECL",
        "土地复垦义务履行情况抽查",
        ratio_high_pct=30,
        ratio_medium_pct=30,
        ratio_low_pct=30,
        lead_unit_code="NRB",
        basis="《土地复垦条例》；年度抽查比例 30 %",
    )
    inspections.add_item(session, "DR-GEO", "矿山地质环境治理恢复抽查", lead_unit_code="NRB")
    tz = timezone(timedelta(hours=8))
    day0 = today - timedelta(days=40)
    published = datetime.combine(day0, time(9, 0), tz)
    source = "中国福利彩票双色球开奖号码（示例期）"
    rec = inspections.publish_draw(
        session, "DR-RECL", seed_source=source, seed_not_before=published + timedelta(hours=12), now=published
    )
    inspections.enter_seed(
        session,
        rec.code,
        source=source,
        value="03 09 14 21 26 30 + 07",
        source_time=datetime.combine(day0, time(21, 30), tz),
        now=datetime.combine(day0 + timedelta(days=1), time(9, 0), tz),
    )
    res = inspections.run_draw(session, rec.code, now=datetime.combine(day0 + timedelta(days=1), time(9, 5), tz))
    n = 0
    for j, o in enumerate(res.result["objects"]):
        mine = fund.resolve_mine(session, o["key"])
        inspected = day0 + timedelta(days=7 + j)
        problems = j % 3 == 1
        inspections.record_result(
            session,
            rec.code,
            mine,
            inspected=inspected,
            outcome="problems" if problems else "compliant",
            findings="复垦区部分地块植被成活率低于方案要求（示例）" if problems else None,
            public_summary="发现问题，已责令限期整改" if problems else "未发现问题",
            problem_category="3" if problems else None,
        )
        if j % 2 == 0:
            inspections.publish_result(session, rec.code, mine, inspected + timedelta(days=10))
        n += 1
    return {"inspectors": k, "draws": 1, "inspection_results": n}


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    mines = list(session.scalars(select(Mine).order_by(Mine.licence_no)))
    if not mines:
        return {}
    counts: dict[str, int] = {}
    counts |= _fund(session, mines, rng, today)
    counts |= _water(session, rng, today)
    counts |= _hazards(session, mines, rng, today)
    counts |= _inspections(session, mines, today)
    scores = assessment.run_assessment(session, today.year - 1, today)
    counts["assessment_scores"] = len(scores)
    # the office signs off what the public sees: nothing is public before a sign-off
    from subsidence.access.policy import Actor
    from subsidence.tasks import publication
    from subsidence.vocabulary import Role

    office = Actor("office", Role.OFFICE)
    publication.sign_off(session, office, "assessment_lists", year=today.year - 1, note="演示：年度评估名单签发")
    publication.sign_off(session, office, "inspection_results", note="演示：双随机抽查结果签发")
    counts["publications"] = 2
    session.flush()
    return counts
