"""Who may read and review subsidence areas."""

from __future__ import annotations

from subsidence.access.policy import ALL, Policy, R, mine_scoped, register_policy, town_scoped
from subsidence.census.models import SubsidenceArea, VegetationChange

_county = {R.OFFICE: ALL, R.DEPARTMENT: ALL}

register_policy(
    Policy(
        "subsidence_area",
        SubsidenceArea,
        label_zh="沉陷区",
        rules={
            "read": {
                **_county,
                R.TOWN: town_scoped(SubsidenceArea.town_id),
                R.ENTERPRISE: mine_scoped(SubsidenceArea.mine_id),
            },
            "review": {R.OFFICE: ALL},
        },
    )
)

register_policy(
    Policy(
        "vegetation",
        VegetationChange,
        label_zh="植被变化",
        rules={
            "read": {
                **_county,
                R.TOWN: town_scoped(VegetationChange.town_id),
                R.ENTERPRISE: mine_scoped(VegetationChange.mine_id),
            },
        },
    )
)
