"""Excel import, export and templates for the task ledgers (Chinese headers), through the service rules.

Reuses the import engineer's machinery — :func:`subsidence.io.excel.read_sheet` / ``write_table`` and the
:class:`~subsidence.interchange.fieldspecs.FieldSpec` value parsers — but each row goes through the ledger's own
service function (so a fund withdrawal beyond the balance, an unknown mine or a plan without its approval number
is refused exactly as on the command line). The compensated-buildings ledger is one of the importer's own kinds
(``subsidence import buildings FILE``).

Rules: every row is validated and applied inside one savepoint; any error (all are collected, with the Excel row
and the field) rolls the whole file back — nothing changes. Rows are keyed (voucher number, plan code,
inspector code …): importing the same file twice changes nothing the second time (idempotent), and a key that
appears twice in one file is refused, naming both rows (a mine in a key is the mine, by licence number or name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.errors import ServiceError, ValidationFailed
from subsidence.io.fields import CLEAR_MARK, CLEAR_MARKS, FieldSpec, enum_choices, parse_value
from subsidence.tasks.models import FundEntry, InspectorConflict, WaterPlan
from subsidence.vocabulary import (
    FundEntryKind,
    HiddenFactorType,
    InspectionOutcome,
    PlanReviewState,
    RiskGrade,
    WaterPlanState,
)

log = logging.getLogger(__name__)
_F = FieldSpec


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    fields: tuple[FieldSpec, ...]
    apply: Callable[[Session, dict[str, Any]], str]  #: returns "created" | "updated" | "unchanged"
    export: Callable[[Session], list[dict[str, Any]]]


@dataclass
class ImportResult:
    table: str
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _mine(s: Session, key: str):
    from subsidence.tasks.fund import resolve_mine

    return resolve_mine(s, key)


# ------------------------------------------------------------------------------------------ fund entries


def _apply_fund_entry(s: Session, v: dict[str, Any]) -> str:
    from subsidence.ledger.models import Problem
    from subsidence.tasks import fund

    amount = fund.parse_yuan(v["amount"], field_name="金额(元)")
    existing = s.scalar(select(FundEntry).where(FundEntry.code == v["code"]))
    if existing is not None:
        same = existing.amount_fen == amount and existing.kind == v["kind"] and existing.entry_date == v["entry_date"]
        if same:
            return "unchanged"
        raise ValidationFailed(
            f"凭证号 {v['code']} 已入账且金额/类型/日期不同：基金收支不可修改，请冲正后重新录入 "
            "(entries are never changed; reverse it)"
        )
    problem = None
    if v.get("problem"):
        problem = s.scalar(select(Problem).where(Problem.code == v["problem"]))
        if problem is None:
            raise ValidationFailed(f"问题编号 {v['problem']} 不存在 (problem not found)")
    fund.add_entry(
        s,
        _mine(s, v["mine"]),
        v["kind"],
        amount,
        v["entry_date"],
        year=v.get("year"),
        problem=problem,
        works=v.get("works"),
        reference=v.get("reference"),
        note=v.get("note"),
        code=v["code"],
    )
    return "created"


def _export_fund_entries(s: Session) -> list[dict[str, Any]]:
    out = []
    for e in s.scalars(select(FundEntry).order_by(FundEntry.code)):
        out.append(
            {
                "code": e.code,
                "mine": e.account.mine.licence_no,
                "kind": e.kind.label(),
                "amount": f"{e.amount_fen / 100:.2f}",
                "entry_date": e.entry_date,
                "year": e.year,
                "problem": e.problem.code if e.problem else None,
                "works": e.works,
                "reference": e.reference,
                "note": e.note,
            }
        )
    return out


FUND_ENTRIES = Table(
    "fund-entries",
    "基金收支台账",
    (
        _F("code", "凭证号", required=True, key=True),
        _F("mine", "采矿许可证号", required=True, width=22),
        _F("kind", "收支类型", "enum", enum=FundEntryKind, required=True, help="计提存入 / 治理支出 / 其他支取"),
        _F("amount", "金额(元)", required=True, unit="元", help="正数，最多两位小数"),
        _F("entry_date", "日期", "date", required=True),
        _F("year", "所属年度", "int", min=2000, max=2100),
        _F("problem", "问题编号", help="治理支出对应的台账问题"),
        _F("works", "治理工程", width=28),
        _F("reference", "凭证/批文", width=20),
        _F("note", "备注", width=20),
    ),
    _apply_fund_entry,
    _export_fund_entries,
)


# ------------------------------------------------------------------------------------------ fund obligations


def _apply_obligation(s: Session, v: dict[str, Any]) -> str:
    from subsidence.tasks import fund
    from subsidence.tasks.models import FundAccount, FundObligation

    mine = _mine(s, v["mine"])
    acct = s.scalar(select(FundAccount).where(FundAccount.mine_id == mine.id))
    status = "updated"
    if acct is None:
        fund.open_account(s, mine, land_type=v.get("land_type") or "other")
        status = "created"
    elif v.get("land_type") and v["land_type"] != acct.land_type:
        fund.coefficient_table().get("land_type", v["land_type"])
        acct.land_type = v["land_type"]
    plan = fund.parse_yuan(v["plan_required"], field_name="方案要求计提(元)") if v.get("plan_required") else None
    acct = s.scalar(select(FundAccount).where(FundAccount.mine_id == mine.id))
    before = s.scalar(
        select(FundObligation).where(FundObligation.account_id == acct.id, FundObligation.year == v["year"])
    )
    snap = (
        None if before is None else (before.output_kg, before.required_fen, before.price_key, before.plan_required_fen)
    )
    ob = fund.compute_obligation(
        s, mine, v["year"], str(v["output_t"]), price_key=v.get("price_key") or "default", plan_required_fen=plan
    )
    if snap is None:
        return "created"
    now = (ob.output_kg, ob.required_fen, ob.price_key, ob.plan_required_fen)
    return "unchanged" if snap == now and status != "created" else status


def _export_obligations(s: Session) -> list[dict[str, Any]]:
    from subsidence.tasks.models import FundObligation

    return [
        {
            "mine": o.account.mine.licence_no,
            "year": o.year,
            "output_t": float(o.output_t),
            "land_type": o.account.land_type,
            "price_key": o.price_key,
            "plan_required": f"{o.plan_required_fen / 100:.2f}" if o.plan_required_fen else None,
            "required": f"{o.required_fen / 100:.2f}",
        }
        for o in s.scalars(select(FundObligation).order_by(FundObligation.year, FundObligation.id))
    ]


FUND_OBLIGATIONS = Table(
    "fund-obligations",
    "基金应计提核定",
    (
        _F("mine", "采矿许可证号", required=True, key=True, width=22),
        _F("year", "年度", "int", required=True, key=True, min=2000, max=2100),
        _F("output_t", "上年度原煤产量(吨)", "float", required=True, min=0, unit="t"),
        _F("land_type", "土地类型", help="cropland/耕地、forest/林地、grassland/草地、other/其他 (系数表的档位)"),
        _F("price_key", "煤价系数档位", help="default"),
        _F("plan_required", "方案要求计提(元)", unit="元"),
        _F("required", "应计提额(元)", export_only=True),
    ),
    _apply_obligation,
    _export_obligations,
)


# ------------------------------------------------------------------------------------------ water plans


_WATER_PLAN_FIELDS = (
    "required_reason",
    "due_date",
    "submitted_date",
    "approved_date",
    "approval_no",
    "implemented_date",
)


def _apply_water_plan(s: Session, v: dict[str, Any]) -> str:
    from subsidence.core.models import Unit
    from subsidence.tasks import water

    mine = _mine(s, v["mine"])
    plan = s.scalar(select(WaterPlan).where(WaterPlan.code == v["code"]))
    if plan is not None:  # a blank cell leaves the stored value unchanged (（清空） clears it)
        v = {**{k: getattr(plan, k) for k in _WATER_PLAN_FIELDS}, **v}
    state = v["state"]
    if state in (WaterPlanState.APPROVED, WaterPlanState.IMPLEMENTED) and not (
        v.get("approval_no") and v.get("approved_date")
    ):
        raise ValidationFailed("已批复/已实施的方案须填写批复日期和批复文号")
    if state == WaterPlanState.IMPLEMENTED and not v.get("implemented_date"):
        raise ValidationFailed("已实施的方案须填写实施日期")
    if v.get("submitted_date") and v.get("approved_date") and v["approved_date"] < v["submitted_date"]:
        raise ValidationFailed("批复日期早于报送日期")
    new = plan is None
    if new:
        plan = WaterPlan(code=v["code"], mine_id=mine.id)
        s.add(plan)
    elif plan.mine_id != mine.id:
        raise ValidationFailed(f"方案 {v['code']} 属于另一矿山")
    vals = {
        "state": state,
        "required_reason": v.get("required_reason"),
        "due_date": v.get("due_date"),
        "submitted_date": v.get("submitted_date"),
        "approved_date": v.get("approved_date"),
        "approval_no": v.get("approval_no"),
        "implemented_date": v.get("implemented_date"),
    }
    changed = any(getattr(plan, k) != val for k, val in vals.items())
    for k, val in vals.items():
        setattr(plan, k, val)
    if state in (WaterPlanState.APPROVED, WaterPlanState.IMPLEMENTED) and plan.approving_unit_id is None:
        awb = s.scalar(select(Unit).where(Unit.code == "AWB"))
        plan.approving_unit_id = awb.id if awb else None
    s.flush()
    wells = v.get("wells") or []
    if wells and sorted(w.code for w in plan.wells) != sorted(wells):
        water.link_wells(s, plan.code, wells)
        changed = True
    return "created" if new else ("updated" if changed else "unchanged")


def _export_water_plans(s: Session) -> list[dict[str, Any]]:
    return [
        {
            "code": p.code,
            "mine": p.mine.licence_no,
            "state": p.state.label(),
            "required_reason": p.required_reason,
            "due_date": p.due_date,
            "submitted_date": p.submitted_date,
            "approved_date": p.approved_date,
            "approval_no": p.approval_no,
            "implemented_date": p.implemented_date,
            "wells": "、".join(w.code for w in p.wells) or None,
        }
        for p in s.scalars(select(WaterPlan).order_by(WaterPlan.code))
    ]


WATER_PLANS = Table(
    "water-plans",
    "保水开采方案台账",
    (
        _F("code", "方案编号", required=True, key=True),
        _F("mine", "采矿许可证号", required=True, width=22),
        _F("state", "方案状态", "enum", enum=WaterPlanState, required=True),
        _F("required_reason", "应编制原因", width=28),
        _F("due_date", "批复期限", "date"),
        _F("submitted_date", "报送日期", "date"),
        _F("approved_date", "批复日期", "date"),
        _F("approval_no", "批复文号", width=22),
        _F("implemented_date", "实施日期", "date"),
        _F("wells", "关联监测井", "refs", help="多个用、分隔"),
    ),
    _apply_water_plan,
    _export_water_plans,
)


# ------------------------------------------------------------------------------------------ hidden factors


_PLAN_FIELDS = ("submitted_date", "reviewed_date", "review_result", "rectify_deadline", "completed_date")


def _apply_factor(s: Session, v: dict[str, Any]) -> str:
    from subsidence.core.models import Unit
    from subsidence.tasks import minehazards as mh
    from subsidence.tasks.models import HiddenFactor, RectificationPlan

    mine = _mine(s, v["mine"])
    f = s.scalar(select(HiddenFactor).where(HiddenFactor.code == v["code"]))
    status = "unchanged"
    if f is None:
        f = mh.register_factor(
            s,
            mine,
            v["code"],
            v["factor_type"],
            census_year=v["census_year"],
            surveyed=v["surveyed_date"],
            location=v.get("location"),
            description=v.get("description"),
            risk_level=v.get("risk_level"),
            is_problem=v.get("is_problem", True),
            plan_due=v.get("plan_due"),
        )
        status = "created"
    else:
        if f.mine_id != mine.id:
            raise ValidationFailed(f"因素 {v['code']} 属于另一矿山")
        for k in ("location", "description", "risk_level"):
            if v.get(k) is not None and getattr(f, k) != v[k]:
                setattr(f, k, v[k])
                status = "updated"
    if v.get("plan_code"):
        if f.plan is not None and f.plan.code == v["plan_code"]:  # blank = leave unchanged (（清空） clears)
            v = {**{k: getattr(f.plan, k) for k in _PLAN_FIELDS}, "plan_state": f.plan.state, **v}
        state = v.get("plan_state") or PlanReviewState.SUBMITTED
        if state in (PlanReviewState.APPROVED, PlanReviewState.RETURNED, PlanReviewState.COMPLETED) and not (
            v.get("reviewed_date") and v.get("review_result")
        ):
            raise ValidationFailed("已审查的方案须填写审查日期和审查意见（应急管理局）")
        plan = f.plan
        if plan is None:
            plan = RectificationPlan(code=v["plan_code"], factor_id=f.id, measures=v.get("measures") or "")
            s.add(plan)
            status = "created" if status == "created" else "updated"
        elif plan.code != v["plan_code"]:
            raise ValidationFailed(f"因素 {f.code} 已有方案 {plan.code}（一患一方案）")
        vals = {
            "measures": v.get("measures") or plan.measures,
            "state": state,
            "submitted_date": v.get("submitted_date"),
            "reviewed_date": v.get("reviewed_date"),
            "review_result": v.get("review_result"),
            "rectify_deadline": v.get("rectify_deadline"),
            "completed_date": v.get("completed_date"),
        }
        if not vals["measures"]:
            raise ValidationFailed("方案须填写整改措施")
        if any(getattr(plan, k) != val for k, val in vals.items()):
            status = "updated" if status == "unchanged" else status
        for k, val in vals.items():
            setattr(plan, k, val)
        if plan.reviewed_date is not None:
            emb = s.scalar(select(Unit).where(Unit.code == mh.SUPERVISOR_UNIT))
            plan.reviewer_unit_id = emb.id if emb else None
    s.flush()
    return status


def _export_factors(s: Session) -> list[dict[str, Any]]:
    from subsidence.tasks.models import HiddenFactor

    out = []
    for f in s.scalars(select(HiddenFactor).order_by(HiddenFactor.code)):
        p = f.plan
        out.append(
            {
                "code": f.code,
                "mine": f.mine.licence_no,
                "factor_type": f.factor_type.label(),
                "census_year": f.census_year,
                "surveyed_date": f.surveyed_date,
                "location": f.location,
                "description": f.description,
                "risk_level": f.risk_level,
                "is_problem": "是" if f.is_problem else "否",
                "plan_due": f.plan_due,
                "plan_code": p.code if p else None,
                "measures": p.measures if p else None,
                "plan_state": p.state.label() if p else None,
                "submitted_date": p.submitted_date if p else None,
                "reviewed_date": p.reviewed_date if p else None,
                "review_result": p.review_result if p else None,
                "rectify_deadline": p.rectify_deadline if p else None,
                "completed_date": p.completed_date if p else None,
            }
        )
    return out


HIDDEN_FACTORS = Table(
    "hidden-factors",
    "隐蔽致灾因素普查台账",
    (
        _F("code", "因素编号", required=True, key=True),
        _F("mine", "采矿许可证号", required=True, width=22),
        _F("factor_type", "因素类型", "enum", enum=HiddenFactorType, required=True),
        _F("census_year", "普查年度", "int", required=True, min=2000, max=2100),
        _F("surveyed_date", "普查日期", "date", required=True),
        _F("location", "位置", width=24),
        _F("description", "情况描述", width=30),
        _F("risk_level", "风险等级"),
        _F("is_problem", "是否需整改", "bool"),
        _F("plan_due", "方案批复期限", "date"),
        _F("plan_code", "整改方案编号"),
        _F("measures", "整改措施", width=30),
        _F("plan_state", "方案状态", "enum", enum=PlanReviewState),
        _F("submitted_date", "报审日期", "date"),
        _F("reviewed_date", "审查日期", "date"),
        _F("review_result", "审查意见", width=24),
        _F("rectify_deadline", "整改期限", "date"),
        _F("completed_date", "完成日期", "date"),
    ),
    _apply_factor,
    _export_factors,
)


# ------------------------------------------------------------------------------------------ directories


def _apply_inspector(s: Session, v: dict[str, Any]) -> str:
    from subsidence.tasks.inspections import service as svc
    from subsidence.tasks.models import Inspector

    old = s.scalar(select(Inspector).where(Inspector.code == v["code"]))
    snap = None if old is None else (old.unit.code, old.role_title, old.active)
    i = svc.add_inspector(s, v["code"], v["unit"], role_title=v.get("role_title"), active=v.get("active", True))
    if snap is None:
        return "created"
    return "unchanged" if snap == (v["unit"], i.role_title, i.active) else "updated"


def _export_inspectors(s: Session) -> list[dict[str, Any]]:
    from subsidence.tasks.models import Inspector

    return [
        {"code": i.code, "unit": i.unit.code, "role_title": i.role_title, "active": "是" if i.active else "否"}
        for i in s.scalars(select(Inspector).order_by(Inspector.code))
    ]


INSPECTORS = Table(
    "inspectors",
    "执法检查人员名录",
    (
        _F("code", "执法证号", required=True, key=True),
        _F("unit", "所属单位代码", required=True, help="NRB、EMB …"),
        _F("role_title", "职务"),
        _F("active", "是否在岗", "bool"),
    ),
    _apply_inspector,
    _export_inspectors,
)


def _apply_object(s: Session, v: dict[str, Any]) -> str:
    from subsidence.tasks.inspections import service as svc
    from subsidence.tasks.models import InspectionObject

    mine = _mine(s, v["mine"])
    old = s.scalar(select(InspectionObject).where(InspectionObject.mine_id == mine.id))
    snap = None if old is None else (old.risk_grade, old.active)
    o = svc.set_object(s, mine, v["risk_grade"], active=v.get("active", True))
    return "created" if snap is None else ("unchanged" if snap == (o.risk_grade, o.active) else "updated")


def _export_objects(s: Session) -> list[dict[str, Any]]:
    from subsidence.tasks.models import InspectionObject

    return [
        {
            "mine": o.mine.licence_no,
            "mine_name": o.mine.name_zh,
            "risk_grade": o.risk_grade.label(),
            "active": "是" if o.active else "否",
        }
        for o in s.scalars(select(InspectionObject).order_by(InspectionObject.id))
    ]


INSPECTION_OBJECTS = Table(
    "inspection-objects",
    "检查对象名录",
    (
        _F("mine", "采矿许可证号", required=True, key=True, width=22),
        _F("mine_name", "矿山名称", export_only=True, width=20),
        _F("risk_grade", "风险等级", "enum", enum=RiskGrade, required=True),
        _F("active", "是否纳入抽查", "bool"),
    ),
    _apply_object,
    _export_objects,
)


def _apply_conflict(s: Session, v: dict[str, Any]) -> str:
    from subsidence.tasks.inspections import service as svc
    from subsidence.tasks.models import Inspector

    mine = _mine(s, v["mine"])
    ins = s.scalar(select(Inspector).where(Inspector.code == v["inspector"]))
    if ins is not None and s.scalar(
        select(InspectorConflict.id).where(
            InspectorConflict.inspector_id == ins.id, InspectorConflict.mine_id == mine.id
        )
    ):
        return "unchanged"
    svc.declare_conflict(s, v["inspector"], mine, v["reason"], v["declared_date"])
    return "created"


def _export_conflicts(s: Session) -> list[dict[str, Any]]:
    return [
        {"inspector": c.inspector.code, "mine": c.mine.licence_no, "reason": c.reason, "declared_date": c.declared_date}
        for c in s.scalars(select(InspectorConflict).order_by(InspectorConflict.id))
    ]


CONFLICTS = Table(
    "inspector-conflicts",
    "检查人员回避事项",
    (
        _F("inspector", "执法证号", required=True, key=True),
        _F("mine", "采矿许可证号", required=True, key=True, width=22),
        _F("reason", "回避事由", required=True, width=28),
        _F("declared_date", "申报日期", "date", required=True),
    ),
    _apply_conflict,
    _export_conflicts,
)


def _apply_result(s: Session, v: dict[str, Any]) -> str:
    from subsidence.tasks.inspections import service as svc
    from subsidence.tasks.models import InspectionResult

    mine = _mine(s, v["mine"])
    rec = svc.get_draw(s, v["draw"])
    old = s.scalar(
        select(InspectionResult).where(InspectionResult.draw_id == rec.id, InspectionResult.mine_id == mine.id)
    )
    if old is not None and (old.inspected_date, old.outcome, old.findings, old.published_date) == (
        v["inspected_date"],
        v["outcome"],
        v.get("findings"),
        v.get("published_date"),
    ):
        return "unchanged"
    if old is None or old.published_date is None:
        svc.record_result(
            s,
            v["draw"],
            mine,
            inspected=v["inspected_date"],
            outcome=v["outcome"],
            findings=v.get("findings"),
            public_summary=v.get("public_summary"),
            problem_category=v.get("category"),
        )
    if v.get("published_date") and (old is None or old.published_date is None):
        svc.publish_result(s, v["draw"], mine, v["published_date"])
    elif old is not None and old.published_date is not None:
        raise ValidationFailed("该结果已公开，不可修改 (already published)")
    return "created" if old is None else "updated"


def _export_results(s: Session) -> list[dict[str, Any]]:
    from subsidence.tasks.models import InspectionResult

    return [
        {
            "draw": r.draw.code,
            "mine": r.mine.licence_no,
            "inspected_date": r.inspected_date,
            "outcome": r.outcome.label(),
            "findings": r.findings,
            "public_summary": r.public_summary,
            "category": None,
            "publish_deadline": r.publish_deadline,
            "published_date": r.published_date,
        }
        for r in s.scalars(select(InspectionResult).order_by(InspectionResult.id))
    ]


RESULTS = Table(
    "inspection-results",
    "双随机抽查结果",
    (
        _F("draw", "抽取编号", required=True, key=True),
        _F("mine", "采矿许可证号", required=True, key=True, width=22),
        _F("inspected_date", "检查日期", "date", required=True),
        _F("outcome", "检查结果", "enum", enum=InspectionOutcome, required=True),
        _F("findings", "发现问题", width=30),
        _F("public_summary", "公开内容", width=30),
        _F("category", "问题类别", help="1–7，发现问题时登记台账"),
        _F("publish_deadline", "公开期限", "date", export_only=True),
        _F("published_date", "公开日期", "date"),
    ),
    _apply_result,
    _export_results,
)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        FUND_ENTRIES,
        FUND_OBLIGATIONS,
        WATER_PLANS,
        HIDDEN_FACTORS,
        INSPECTORS,
        INSPECTION_OBJECTS,
        CONFLICTS,
        RESULTS,
    )
}


def get_table(name: str) -> Table:
    t = TABLES.get(name) or next((t for t in TABLES.values() if t.zh == name), None)
    if t is None:
        raise ValidationFailed(f"unknown table {name!r}; one of: {', '.join(TABLES)}")
    return t


# ------------------------------------------------------------------------------------------ engine


def _columns(t: Table):
    from subsidence.io.excel import Column

    cols = []
    for f in t.fields:
        choices = enum_choices(f.enum) if f.enum is not None else (("是", "否") if f.type == "bool" else ())
        cols.append(
            Column(
                f.zh,
                f.width,
                "date" if f.type == "date" else "str",
                wrap=f.width > 20,
                required=f.required,
                comment=f.help or None,
                choices=choices,
            )
        )
    return cols


def write_template(name: str, path: str | Path) -> Path:
    """A blank workbook with the Chinese headers (required in red), dropdowns and instructions."""
    t = get_table(name)
    instr = [["列名 (header)", "field", "必填", "类型", "说明 (notes)"]]
    for f in t.fields:
        notes = [f.help] if f.help else []
        if f.enum is not None:
            notes.append("可选：" + "、".join(enum_choices(f.enum)))
        if f.export_only:
            notes.append("导出时计算，导入时忽略")
        instr.append([f.zh, f.name, "是" if f.required else "", f.type, "；".join(notes)])
    instr += [
        [],
        [
            "空白单元格",
            "blank cell",
            "",
            "",
            f"空白单元格表示“保持不变”；要清空非必填的值，请填写“{CLEAR_MARK}”。"
            "/ a blank cell leaves the stored value unchanged",
        ],
        [
            "说明",
            "",
            "",
            "",
            (f"导入：subsidence tasks import {t.name} 文件.xlsx（整表校验，有错误则不导入；重复导入不重复登记）"),
        ],
    ]
    from subsidence.io.excel import write_table

    return write_table(path, _columns(t), [], sheet_title=t.zh, title=t.zh, instructions=instr)


def export_table(session: Session, name: str, path: str | Path) -> int:
    from subsidence.io.excel import write_table

    t = get_table(name)
    data = t.export(session)
    rows = [[d.get(f.name) for f in t.fields] for d in data]
    write_table(path, _columns(t), rows, sheet_title=t.zh, title=t.zh)
    return len(rows)


def _row_key(session: Session, key_fields: list[FieldSpec], values: dict[str, Any]) -> tuple | None:
    """The row's key; a mine compares as the mine (licence number and name of one mine are the same key)."""
    if not key_fields or any(values.get(f.name) is None for f in key_fields):
        return None
    out = []
    for f in key_fields:
        v = values[f.name]
        if f.name == "mine":
            try:
                v = ("mine", _mine(session, v).id)
            except ServiceError:
                pass  # the row's own apply reports the unknown mine
        out.append(v)
    return tuple(out)


def import_table(session: Session, name: str, path: str | Path) -> ImportResult:
    """Validate and apply every row in one savepoint; any error rolls the whole file back (raises)."""
    from subsidence.io.excel import normalize_header, read_sheet
    from subsidence.io.sniff import FormatError

    t = get_table(name)
    p = Path(path)
    res = ImportResult(t.name, str(p))
    fields = [f for f in t.fields if not f.export_only]
    by_header = {normalize_header(h): f for f in fields for h in f.headers()}
    try:
        sheet = read_sheet(p, known_headers=[h for f in fields for h in f.headers()])
    except FormatError as exc:
        raise ValidationFailed(str(exc)) from None
    colmap: dict[int, FieldSpec] = {}
    for j, h in enumerate(sheet.headers):
        f = by_header.get(normalize_header(h))
        if f is not None:
            colmap[j] = f
    missing = [f.zh for f in fields if f.required and f not in colmap.values()]
    if missing:
        raise ValidationFailed(
            f"{p}: missing required column(s) {missing} (headers found: {sheet.headers}); "
            f"start from the template: subsidence tasks template {t.name} FILE.xlsx"
        )
    key_fields = [f for f in fields if f.key]
    seen_keys: dict[tuple, int] = {}
    savepoint = session.begin_nested()
    for excel_row, cells in sheet.rows:
        res.rows += 1
        values: dict[str, Any] = {}
        bad = False
        for j, f in colmap.items():
            raw = cells[j] if j < len(cells) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if f.required:
                    res.errors.append(f"{p.name} row {excel_row}, {f.label}: required, empty")
                    bad = True
                continue  # blank = leave unchanged (the row's apply keeps the stored value)
            if isinstance(raw, str) and raw.strip() in CLEAR_MARKS:
                if f.required or f.key:
                    res.errors.append(f"{p.name} row {excel_row}, {f.label}: a required value cannot be cleared")
                    bad = True
                    continue
                values[f.name] = [] if f.type == "refs" else None
                continue
            try:
                values[f.name] = parse_value(f, raw)
            except ValueError as exc:
                res.errors.append(f"{p.name} row {excel_row}, {f.label}: {exc}")
                bad = True
        if bad:
            continue
        key = _row_key(session, key_fields, values)
        if key is not None:
            if key in seen_keys:
                res.errors.append(
                    f"{p.name} row {excel_row}, {' + '.join(f.label for f in key_fields)}: duplicate key "
                    f"{' + '.join(str(values.get(f.name)) for f in key_fields)} in the file (first at row "
                    f"{seen_keys[key]}); keep one row per key"
                )
                continue
            seen_keys[key] = excel_row
        row_sp = session.begin_nested()
        try:
            outcome = t.apply(session, values)
            row_sp.commit()
        except ServiceError as exc:
            row_sp.rollback()
            res.errors.append(f"{p.name} row {excel_row}: {exc.message}")
            continue
        except ValueError as exc:
            row_sp.rollback()
            res.errors.append(f"{p.name} row {excel_row}: {exc}")
            continue
        setattr(res, outcome, getattr(res, outcome) + 1)
    if res.errors:
        savepoint.rollback()
        raise ValidationFailed(f"{p}: {len(res.errors)} error(s), nothing imported:\n" + "\n".join(res.errors[:200]))
    savepoint.commit()
    session.flush()
    log.debug(
        "imported %s from %s: %d created, %d updated, %d unchanged", t.name, p, res.created, res.updated, res.unchanged
    )
    return res
