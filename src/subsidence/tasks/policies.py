"""Who may read compensated buildings (the task ledgers add their own policies)."""

from __future__ import annotations

from subsidence.access.policy import ALL, Policy, R, mine_scoped, register_policy, town_scoped
from subsidence.tasks.models import CompensatedBuilding

_county = {R.OFFICE: ALL, R.DEPARTMENT: ALL}

register_policy(Policy("building", CompensatedBuilding, label_zh="已补偿建筑物", rules={
    "read": {**_county, R.TOWN: town_scoped(CompensatedBuilding.town_id),
             R.ENTERPRISE: mine_scoped(CompensatedBuilding.mine_id)},
}))
