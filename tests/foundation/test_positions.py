"""Positions, not persons: the plan's leading group as positions, handovers recorded, duties
following the position, roster and history exported. Runs on SQLite and PostgreSQL (``session`` fixture)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from subsidence.access.models import User
from subsidence.core.models import AuditEvent, TaskAssignment, Unit
from subsidence.db.audit import acting_as
from subsidence.errors import Conflict, ValidationFailed
from subsidence.organisation import queries as q
from subsidence.organisation import service as org
from subsidence.organisation.models import PositionHolder
from subsidence.vocabulary import PositionPower, Role, TaskRole, UnitKind

TODAY = date(2026, 12, 4)


def _units(session):
    with acting_as(session, "setup"):
        units = {
            c: Unit(code=c, name_zh=zh, kind=k)
            for c, zh, k in (
                ("LGO", "领导小组办公室", UnitKind.OFFICE),
                ("NRB", "旗自然资源局", UnitKind.BUREAU),
                ("AWB", "旗农牧和水利局", UnitKind.BUREAU),
                ("ENB", "旗能源局", UnitKind.BUREAU),
                ("EEB", "市生态环境局伊金霍洛旗分局", UnitKind.BUREAU),
                ("FGB", "旗林业和草原局", UnitKind.BUREAU),
                ("U-T-WLML", "乌兰木伦镇人民政府", UnitKind.TOWN),
            )
        }
        session.add_all(units.values())
        session.flush()
        session.add_all(
            [TaskAssignment(unit_id=units["NRB"].id, task_no=n, role=TaskRole.LEAD) for n in (1, 2, 6)]
            + [
                TaskAssignment(unit_id=units["AWB"].id, task_no=5, role=TaskRole.LEAD),
                TaskAssignment(unit_id=units["NRB"].id, task_no=3, role=TaskRole.COOPERATE),
            ]
        )
        a = User(username="lgo-head-1", display_name="办公室主任（前任）", role=Role.OFFICE, unit_id=units["NRB"].id)
        b = User(username="lgo-head-2", display_name="办公室主任（接任）", role=Role.OFFICE, unit_id=units["NRB"].id)
        session.add_all([a, b])
        session.flush()
    return units, a, b


def test_plan_composition_as_positions(session):
    _units(session)
    org.seed_plan_composition(session, actor="office:LGO")
    rows = q.roster(session, on=date(2024, 10, 1))
    group = [r for r in rows if r.body == "领导小组"]
    assert [r.title_zh for r in group].count("组长") == 1 and [r.title_zh for r in group].count("副组长") == 2
    assert [r.title_zh for r in group].count("成员") == 9  # as listed in 伊政办发〔2024〕79号 §2
    leader = next(r for r in group if r.title_zh == "组长")
    assert leader.ex_officio == "旗人民政府副旗长" and leader.holder == "旗人民政府副旗长（现任）"
    nrb = next(r for r in group if r.code == "LG-DEPUTY-NRB")
    assert nrb.unit == "NRB" and nrb.lead_tasks == [1, 2, 6] and nrb.cooperating_tasks == [3]
    office = next(r for r in rows if r.code == "LGO-HEAD")
    assert "整治验收" in office.powers and office.unit == "LGO"
    # a unit the county has not entered: the post is still there, without a unit
    assert next(r for r in group if r.code == "LG-M-ZSK").unit is None
    # before the plan the group did not exist; seeding twice adds nothing
    assert q.roster(session, on=date(2024, 9, 1)) == []
    n = session.scalar(select(func.count()).select_from(PositionHolder))
    org.seed_plan_composition(session, actor="office:LGO")
    assert session.scalar(select(func.count()).select_from(PositionHolder)) == n


def test_handover_moves_every_duty_and_is_in_the_history(session):
    _, a, b = _units(session)
    org.seed_plan_composition(session, actor="office:LGO", holders=False)
    org.add_duty(session, "LGO-HEAD", PositionPower.REVIEW, task_no=1, actor="office:LGO")
    org.appoint(
        session,
        "LGO-HEAD",
        "旗自然资源局副局长（兼）",
        start=date(2024, 9, 12),
        user_id=a.id,
        actor="office:LGO",
        reason="伊政办发〔2024〕79号",
        today=TODAY,
    )
    assert org.may(session, a.id, PositionPower.ACCEPT, on=date(2025, 1, 10), task_no=1)
    assert org.may(session, a.id, PositionPower.REVIEW, on=date(2025, 1, 10), task_no=1)
    assert not org.may(session, a.id, PositionPower.REVIEW, on=date(2025, 1, 10), task_no=2)
    assert not org.may(session, b.id, PositionPower.ACCEPT, on=date(2025, 1, 10))

    h = org.handover(
        session,
        "LGO-HEAD",
        "旗自然资源局副局长（兼，接任）",
        on=date(2025, 3, 1),
        user_id=b.id,
        actor="office:LGO",
        reason="职务调整",
        document="伊自然资任〔2025〕3号",
        today=TODAY,
    )
    assert h.outgoing.end_date == date(2025, 2, 28) and h.incoming.start_date == date(2025, 3, 1)
    assert {d.power for d in h.duties} >= {PositionPower.ACCEPT, PositionPower.REVIEW}
    # everything assigned to the position follows it: the powers moved, the past stays the past
    assert org.may(session, b.id, PositionPower.ACCEPT, on=date(2025, 3, 1))
    assert not org.may(session, a.id, PositionPower.ACCEPT, on=date(2025, 3, 1))
    assert org.may(session, a.id, PositionPower.ACCEPT, on=date(2025, 2, 28))
    assert org.may(session, b.id, PositionPower.REVIEW, on=date(2025, 3, 2), task_no=1)
    row = next(r for r in q.roster(session, on=date(2025, 3, 1)) if r.code == "LGO-HEAD")
    assert row.holder == "旗自然资源局副局长（兼，接任）" and row.since == date(2025, 3, 1)
    hist = q.tenure_history(session, "LGO-HEAD")
    assert [(t.holder, t.start_date, t.end_date) for t in hist] == [
        ("旗自然资源局副局长（兼）", date(2024, 9, 12), date(2025, 2, 28)),
        ("旗自然资源局副局长（兼，接任）", date(2025, 3, 1), None),
    ]
    ev = q.handovers(session, "LGO-HEAD")
    assert len(ev) == 1 and ev[0].actor == "office:LGO" and ev[0].reason == "职务调整"
    assert ev[0].before["holder"] == "旗自然资源局副局长（兼）" and ev[0].after["document"] == "伊自然资任〔2025〕3号"
    assert "整治验收" in ev[0].after["duties"]
    resp = q.responsible_for(session, 1, on=date(2025, 3, 1))
    assert {
        "position": "LGO-HEAD",
        "title": "办公室主任",
        "power": "review",
        "power_zh": "审查",
        "holder": "旗自然资源局副局长（兼，接任）",
    } in resp["positions"]


def test_handover_refusals_change_nothing(session):
    _units(session)
    org.seed_plan_composition(session, actor="office:LGO", on=date(2024, 9, 12))
    tenures = session.scalar(select(func.count()).select_from(PositionHolder))
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(ValidationFailed, match="future|晚于今天"):
        org.handover(session, "LG-LEADER", "副旗长（接任）", on=date(2027, 1, 4), actor="o", reason="调整", today=TODAY)
    with pytest.raises(ValidationFailed, match="须晚于"):
        org.handover(
            session, "LG-LEADER", "副旗长（接任）", on=date(2024, 9, 12), actor="o", reason="调整", today=TODAY
        )
    with pytest.raises(ValidationFailed, match="reason"):
        org.handover(session, "LG-LEADER", "副旗长（接任）", on=date(2025, 1, 6), actor="o", reason=" ", today=TODAY)
    with pytest.raises(Conflict, match="handover"):
        org.appoint(session, "LG-LEADER", "另一人", start=date(2025, 1, 6), actor="o", reason="任命", today=TODAY)
    org.vacate(session, "LG-M-FGB", on=date(2025, 6, 30), actor="o", reason="机构改革", today=TODAY)
    with pytest.raises(Conflict, match="vacant"):
        org.handover(session, "LG-M-FGB", "局长（接任）", on=date(2025, 7, 1), actor="o", reason="调整", today=TODAY)
    assert session.scalar(select(func.count()).select_from(PositionHolder)) == tenures
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events + 2  # the vacancy (row + event)
    assert next(r for r in q.roster(session, on=date(2025, 7, 1)) if r.code == "LG-M-FGB").holder is None


def test_roster_and_history_export(session, tmp_path):
    from openpyxl import load_workbook

    _units(session)
    org.seed_plan_composition(session, actor="office:LGO")
    org.handover(
        session,
        "LG-M-ENB",
        "旗能源局局长（接任）",
        on=date(2025, 5, 6),
        actor="office:LGO",
        reason="职务调整",
        today=TODAY,
    )
    out = q.export_roster(session, tmp_path / "roster.xlsx", on=TODAY)
    wb = load_workbook(out)
    assert wb.sheetnames == ["组织机构", "任职记录"]
    ws = wb["组织机构"]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    header = next(i for i, r in enumerate(values) if r[0] == "岗位编号")
    body = [r for r in values[header + 1 :] if r[0]]
    assert len(body) == 13 and body[0][2] == "组长"
    enb = next(r for r in body if r[0] == "LG-M-ENB")
    assert enb[5] == "旗能源局局长（接任）"
    hist = [[c.value for c in r] for r in wb["任职记录"].iter_rows(min_row=2)]
    enb_hist = [r for r in hist if r[0] == "LG-M-ENB"]
    assert [(r[3], r[4].date(), r[5] and r[5].date()) for r in enb_hist] == [
        ("旗能源局局长（现任）", date(2024, 9, 12), date(2025, 5, 5)),
        ("旗能源局局长（接任）", date(2025, 5, 6), None),
    ]
