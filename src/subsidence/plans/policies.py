"""Who may read and change treatment plans, annual plans and parcels: enterprises report on their own
mines, the bureau verifies."""

from __future__ import annotations

from sqlalchemy import select

from subsidence.access.policy import ALL, Policy, R, mine_scoped, register_policy
from subsidence.plans.models import AnnualPlan, PlanParcel, ReclamationPlan, TreatedParcel

for resource, model, label in (
    ("reclamation_plan", ReclamationPlan, "复垦方案"),
    ("annual_plan", AnnualPlan, "年度计划"),
    ("treated_parcel", TreatedParcel, "治理复垦地块"),
):
    read = {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(model.mine_id)}
    rules = {"read": read}
    if resource == "reclamation_plan":
        rules["register"] = {R.OFFICE: ALL, R.DEPARTMENT: ALL}
    elif resource == "annual_plan":
        rules["set"] = {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(model.mine_id)}
    else:
        rules["report"] = {R.OFFICE: ALL, R.ENTERPRISE: mine_scoped(model.mine_id)}
        rules["verify"] = {R.OFFICE: ALL, R.DEPARTMENT: ALL}
        rules["accept"] = {R.OFFICE: ALL, R.DEPARTMENT: ALL}
    register_policy(Policy(resource, model, label_zh=label, rules=rules))

#: planned parcels belong to the mine of their plan
_plan_mine = select(ReclamationPlan.mine_id).where(ReclamationPlan.id == PlanParcel.plan_id).scalar_subquery()
register_policy(
    Policy(
        "plan_parcel",
        PlanParcel,
        label_zh="方案地块",
        rules={
            "read": {R.OFFICE: ALL, R.DEPARTMENT: ALL, R.ENTERPRISE: mine_scoped(_plan_mine)},
        },
    )
)
