"""Fixtures for the monitoring tests: a hazard point with contacts, households and sensors."""

from __future__ import annotations

import pytest

from subsidence.monitoring import hazards as H
from subsidence.vocabulary import HazardType


@pytest.fixture
def hazard(session):
    hp = H.upsert_hazard(
        session,
        {
            "code": "HP-T-001",
            "name": "测试村北侧滑坡",
            "hazard_type": HazardType.LANDSLIDE,
            "village": "测试村",
            "scale": "medium",
            "volume_m3": 12000.0,
            "triggers": "降雨、采动",
            "stability": "欠稳定",
            "threatened_property_10k_yuan": 300.0,
            "monitoring_method": "GNSS + 裂缝计 + 雨量计",
            "monitoring_frequency": "自动 1 次/10 分钟；人工 1 次/日（汛期加密）",
            "responsible_role": "村委会主任",
            "monitor_role": "村监测员",
            "warning_signal": "鸣锣、喇叭、电话",
            "warning_giver_role": "村监测员",
            "rescue_unit": "旗应急管理局救援队",
            "location_text": "测试村北侧 200 m 黄土斜坡",
            "evacuation_route_text": "沿村道向南撤至村委会广场",
            "shelter_name": "村委会广场",
        },
    )
    H.set_contact(session, hp, "responsible", "村委会主任（群测群防责任人）", phone="13800000001")
    H.set_contact(session, hp, "monitor", "村监测员", phone="13800000002", email="monitor@example.org")
    H.set_contact(session, hp, "town", "镇人民政府值班室", phone="0477-0000001")
    H.set_contact(session, hp, "bureau", "旗自然资源局地灾股", email="nrb@example.org")
    session.flush()
    return hp


@pytest.fixture
def sensors(session, hazard):
    out = {
        "gnss": H.add_sensor(
            session,
            code="GNSS-01",
            kind="gnss",
            hazard_point="HP-T-001",
            expected_interval_s=600,
            valid_min=-5000,
            valid_max=5000,
            resolution=0.5,
        ),
        "gnss2": H.add_sensor(session, code="GNSS-02", kind="gnss", hazard_point="HP-T-001", expected_interval_s=600),
        "rain": H.add_sensor(
            session,
            code="RAIN-01",
            kind="rain_gauge",
            hazard_point="HP-T-001",
            expected_interval_s=3600,
            valid_min=0,
            valid_max=300,
        ),
        "crack": H.add_sensor(
            session,
            code="CRK-01",
            kind="裂缝计",
            hazard_point="HP-T-001",
            unit="mm",
            expected_interval_s=60,
            resolution=0.01,
        ),
    }
    session.flush()
    return out
