"""Who may read, observe and acknowledge at hazard points, sensors and groundwater wells."""

from __future__ import annotations

from sqlalchemy import false, or_, select

from subsidence.access.policy import (
    ALL,
    Policy,
    R,
    hazard_scoped,
    mine_scoped,
    register_policy,
    town_scoped,
)
from subsidence.core.models import Mine
from subsidence.monitoring.models import GroundwaterWell, HazardPoint, Sensor

_county = {R.OFFICE: ALL, R.DEPARTMENT: ALL}

register_policy(
    Policy(
        "hazard_point",
        HazardPoint,
        label_zh="隐患点",
        rules={
            "read": {
                **_county,
                R.TOWN: town_scoped(HazardPoint.town_id),
                R.ENTERPRISE: mine_scoped(HazardPoint.mine_id),
                R.MONITOR: hazard_scoped(HazardPoint.id),
            },
            "observe": {
                R.OFFICE: ALL,
                R.TOWN: town_scoped(HazardPoint.town_id),
                R.MONITOR: hazard_scoped(HazardPoint.id),
            },
            "acknowledge": {
                **_county,
                R.TOWN: town_scoped(HazardPoint.town_id),
                R.MONITOR: hazard_scoped(HazardPoint.id),
            },
        },
    )
)

register_policy(
    Policy(
        "sensor",
        Sensor,
        label_zh="监测设备",
        rules={
            "read": {
                **_county,
                R.TOWN: lambda a: (
                    or_(
                        Sensor.hazard_point_id.in_(select(HazardPoint.id).where(HazardPoint.town_id == a.town_id)),
                        Sensor.mine_id.in_(select(Mine.id).where(Mine.town_id == a.town_id)),
                    )
                    if a.town_id is not None
                    else false()
                ),
                R.ENTERPRISE: mine_scoped(Sensor.mine_id),
                R.MONITOR: hazard_scoped(Sensor.hazard_point_id),
            },
            "observe": {R.OFFICE: ALL, R.MONITOR: hazard_scoped(Sensor.hazard_point_id)},
            # alarms of a sensor without a hazard point (a groundwater well, a mine's own sensor): the county's
            # duty staff and the town where it stands (the enterprise reads them, the duty chain acknowledges)
            "acknowledge": {
                **_county,
                R.TOWN: lambda a: (
                    or_(
                        Sensor.hazard_point_id.in_(select(HazardPoint.id).where(HazardPoint.town_id == a.town_id)),
                        Sensor.mine_id.in_(select(Mine.id).where(Mine.town_id == a.town_id)),
                        Sensor.well_id.in_(select(GroundwaterWell.id).where(GroundwaterWell.town_id == a.town_id)),
                    )
                    if a.town_id is not None
                    else false()
                ),
                R.MONITOR: hazard_scoped(Sensor.hazard_point_id),
            },
        },
    )
)

register_policy(
    Policy(
        "well",
        GroundwaterWell,
        label_zh="地下水监测井",
        rules={
            "read": {
                **_county,
                R.TOWN: town_scoped(GroundwaterWell.town_id),
                R.ENTERPRISE: mine_scoped(GroundwaterWell.mine_id),
            },
        },
    )
)
