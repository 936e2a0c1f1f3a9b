"""Reading the organisation: the roster on a date, the tenure history, who is responsible for a task, the xlsx.

Read-only. The roster row of a position shows its holder on the date, its own powers, and the lead/co-operating
roles per task of the unit it represents (core ``TaskAssignment``, DOMAIN.md §3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import AuditEvent, TaskAssignment, Unit
from subsidence.organisation.models import Position, PositionDuty, PositionHolder
from subsidence.vocabulary import TaskRole


@dataclass
class RosterRow:
    code: str
    body: str
    title_zh: str
    ex_officio: str
    unit: str | None
    unit_name: str | None
    holder: str | None  #: None = vacant on the date
    since: date | None
    powers: list[str]
    lead_tasks: list[int]
    cooperating_tasks: list[int]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["since"] = self.since.isoformat() if self.since else None
        return d


@dataclass
class TenureRow:
    position: str
    title_zh: str
    ex_officio: str
    holder: str
    start_date: date
    end_date: date | None
    document: str | None
    note: str | None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["start_date"] = self.start_date.isoformat()
        d["end_date"] = self.end_date.isoformat() if self.end_date else None
        return d


def _tenure_on(pos: Position, on: date) -> PositionHolder | None:
    for t in pos.holders:
        if t.start_date <= on and (t.end_date is None or t.end_date >= on):
            return t
    return None


def _task_roles(session: Session) -> dict[int, dict[TaskRole, list[int]]]:
    out: dict[int, dict[TaskRole, list[int]]] = {}
    for ta in session.scalars(select(TaskAssignment).order_by(TaskAssignment.task_no)):
        out.setdefault(ta.unit_id, {}).setdefault(ta.role, []).append(ta.task_no)
    return out


def roster(session: Session, on: date | None = None) -> list[RosterRow]:
    """Every position active on ``on`` (default today) in the plan's order, with its holder on that day."""
    on = on or date.today()
    roles = _task_roles(session)
    rows = []
    for pos in session.scalars(select(Position).order_by(Position.body, Position.seq, Position.code)):
        if pos.established > on or (pos.abolished is not None and pos.abolished < on):
            continue
        t = _tenure_on(pos, on)
        r = roles.get(pos.unit_id, {}) if pos.unit_id is not None else {}
        rows.append(
            RosterRow(
                code=pos.code,
                body=pos.body.label(),
                title_zh=pos.title_zh,
                ex_officio=pos.ex_officio,
                unit=pos.unit.code if pos.unit else None,
                unit_name=pos.unit.name_zh if pos.unit else None,
                holder=t.holder if t else None,
                since=t.start_date if t else None,
                powers=[d.power.label() + (f"（任务{d.task_no}）" if d.task_no else "") for d in pos.duties],
                lead_tasks=sorted(r.get(TaskRole.LEAD, [])),
                cooperating_tasks=sorted(r.get(TaskRole.COOPERATE, [])),
            )
        )
    return rows


def tenure_history(session: Session, code: str | None = None) -> list[TenureRow]:
    """Every tenure (of one position, or all), oldest first within each position."""
    q = select(PositionHolder, Position).join(Position, Position.id == PositionHolder.position_id)
    if code is not None:
        q = q.where(Position.code == code)
    q = q.order_by(Position.body, Position.seq, Position.code, PositionHolder.start_date)
    return [
        TenureRow(p.code, p.title_zh, p.ex_officio, t.holder, t.start_date, t.end_date, t.document, t.note)
        for t, p in session.execute(q)
    ]


def handovers(session: Session, code: str | None = None) -> list[AuditEvent]:
    """The handover events of the audit trail (``position.handover``), oldest first."""
    q = select(AuditEvent).where(AuditEvent.entity == "org_position", AuditEvent.action == "position.handover")
    if code is not None:
        q = q.where(AuditEvent.entity_key == code)
    return list(session.scalars(q.order_by(AuditEvent.id)))


def responsible_for(session: Session, task_no: int, on: date | None = None) -> dict:
    """Who answers for key task ``task_no`` on ``on``: lead and co-operating units, and positions with powers."""
    on = on or date.today()
    units: dict[str, list[str]] = {"lead": [], "cooperate": []}
    for ta in session.scalars(select(TaskAssignment).where(TaskAssignment.task_no == task_no)):
        u = session.get(Unit, ta.unit_id)
        if u is not None:
            units["lead" if ta.role == TaskRole.LEAD else "cooperate"].append(u.code)
    positions = []
    q = (
        select(PositionDuty)
        .where((PositionDuty.task_no == task_no) | PositionDuty.task_no.is_(None))
        .order_by(PositionDuty.id)
    )
    for d in session.scalars(q):
        t = _tenure_on(d.position, on)
        positions.append(
            {
                "position": d.position.code,
                "title": d.position.title_zh,
                "power": d.power.value,
                "power_zh": d.power.label(),
                "holder": t.holder if t else None,
            }
        )
    return {
        "task": task_no,
        "on": on.isoformat(),
        "lead_units": sorted(units["lead"]),
        "cooperating_units": sorted(units["cooperate"]),
        "positions": positions,
    }


def export_roster(session: Session, path: str | Path, on: date | None = None) -> Path:
    """The roster on ``on`` (sheet 组织机构) and every tenure (sheet 任职记录) as one xlsx workbook."""
    from openpyxl import load_workbook

    from subsidence.io.excel import FIXED_TIMESTAMP, Column, write_table

    on = on or date.today()
    rows = roster(session, on)
    cols = [
        Column("岗位编号", 18),
        Column("机构", 14),
        Column("职位", 10),
        Column("职务", 34, wrap=True),
        Column("所在单位", 24),
        Column("现任（按职务）", 30, wrap=True),
        Column("任职起", 12, "date"),
        Column("职责与权限", 40, wrap=True),
        Column("牵头任务", 10),
        Column("配合任务", 10),
    ]
    data = [
        [
            r.code,
            r.body,
            r.title_zh,
            r.ex_officio,
            r.unit_name,
            r.holder or "（空缺）",
            r.since,
            "、".join(r.powers) or None,
            "、".join(map(str, r.lead_tasks)) or None,
            "、".join(map(str, r.cooperating_tasks)) or None,
        ]
        for r in rows
    ]
    p = write_table(
        path,
        cols,
        data,
        sheet_title="组织机构",
        title=f"采煤沉陷区专项整治领导小组组织机构（{on.isoformat()}）",
        subtitle="依据伊政办发〔2024〕79号；成员如有变动，由接替其行政职务的人员承担相应工作",
    )
    wb = load_workbook(p)
    ws = wb.create_sheet("任职记录")
    ws.append(["岗位编号", "职位", "职务", "任职人（按职务）", "任职起", "任职止", "文件", "备注"])
    for t in tenure_history(session):
        ws.append([t.position, t.title_zh, t.ex_officio, t.holder, t.start_date, t.end_date, t.document, t.note])
    for col, width in zip("ABCDEFGH", (18, 10, 34, 30, 12, 12, 24, 24)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2, min_col=5, max_col=6):
        for c in row:
            c.number_format = "yyyy-mm-dd"
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP.replace(tzinfo=None)
    wb.save(p)
    return Path(p)
