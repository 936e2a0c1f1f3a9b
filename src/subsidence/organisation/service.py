"""Positions and handovers (组织机构): the rules that change the roster.

* A position is created once (stable ``code``); it is never deleted, only abolished with a date.
* A position has at most one holder on any day. :func:`appoint` fills a vacant position; :func:`handover` ends the
  current tenure the day before ``on`` and starts the successor's on ``on``; :func:`vacate` ends it without one.
  Dates: ``on`` may not be in the future (server date) nor on or before the current holder's start; every change
  is in the audit trail with actor and reason (``position.handover`` events carry before/after).
* Duties (responsibilities and powers, :class:`PositionDuty`) belong to the position, so a handover moves all of
  them to the successor without touching a duty row; :func:`may` answers "may this account exercise POWER for
  task N on DATE" from the tenures.
* :func:`seed_plan_composition` builds the leading group of 伊政办发〔2024〕79号 §2 (组长 副旗长; 副组长 旗政府办公室
  副主任 and 自然资源局局长; 成员 by unit) and its office, holders written by role — never personal names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Unit
from subsidence.db.audit import acting_as, record_event
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.organisation.models import Position, PositionDuty, PositionHolder
from subsidence.vocabulary import OrgBody, PositionPower, PositionRank

PLAN_BASIS = "伊政办发〔2024〕79号"
PLAN_DATE = date(2024, 9, 12)


def get_position(session: Session, code: str) -> Position:
    pos = session.scalar(select(Position).where(Position.code == code))
    if pos is None:
        raise NotFound(f"岗位 {code} 不存在 / position {code!r} not found (list them: subsidence positions roster)")
    return pos


def _unit(session: Session, unit: str | Unit | None) -> Unit | None:
    if unit is None or isinstance(unit, Unit):
        return unit
    u = session.scalar(select(Unit).where(Unit.code == unit)) or session.scalar(
        select(Unit).where(Unit.name_zh == unit)
    )
    if u is None:
        raise NotFound(f"单位 {unit} 不存在 / unit {unit!r} not found (by code or name)")
    return u


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise ValidationFailed("变动原因必填 / a reason (e.g. the appointment document) is required")
    return reason.strip()


def create_position(
    session: Session,
    *,
    code: str,
    body: OrgBody,
    rank: PositionRank,
    title_zh: str,
    ex_officio: str,
    established: date,
    actor: str,
    unit: str | Unit | None = None,
    seq: int = 0,
    basis: str | None = None,
) -> Position:
    """A new position (refused when the code exists)."""
    if session.scalar(select(Position.id).where(Position.code == code)) is not None:
        raise Conflict(f"岗位 {code} 已存在 / position {code!r} already exists")
    if not ex_officio.strip():
        raise ValidationFailed("职务必填 / the ex-officio post (职务) is required: membership goes with the post")
    with acting_as(session, actor, f"设立岗位 {code}"):
        pos = Position(
            code=code,
            body=body,
            rank=rank,
            title_zh=title_zh,
            ex_officio=ex_officio.strip(),
            unit=_unit(session, unit),
            seq=seq,
            basis=basis,
            established=established,
            active=True,
        )
        session.add(pos)
        session.flush()
    return pos


def current_tenure(session: Session, pos: Position, on: date | None = None) -> PositionHolder | None:
    """The tenure covering ``on`` (``None``: the open one)."""
    q = select(PositionHolder).where(PositionHolder.position_id == pos.id)
    if on is None:
        q = q.where(PositionHolder.end_date.is_(None))
    else:
        q = q.where(
            PositionHolder.start_date <= on, (PositionHolder.end_date.is_(None)) | (PositionHolder.end_date >= on)
        )
    return session.scalar(q.order_by(PositionHolder.start_date.desc()).limit(1))


def _check_date(on: date, today: date | None) -> None:
    today = today or date.today()
    if on > today:
        raise ValidationFailed(f"日期 {on} 晚于今天 {today}，不能预先登记 / {on} is in the future (today {today})")


def appoint(
    session: Session,
    code: str,
    holder: str,
    *,
    start: date,
    actor: str,
    reason: str,
    user_id: int | None = None,
    document: str | None = None,
    today: date | None = None,
) -> PositionHolder:
    """Fill a vacant position from ``start``."""
    reason = _reason(reason)
    pos = get_position(session, code)
    _check_date(start, today)
    if not holder or not holder.strip():
        raise ValidationFailed("任职人必填（按职务填写） / the holder is required (by role)")
    if not pos.active:
        raise Conflict(f"岗位 {code} 已撤销 / position {code} is abolished")
    if start < pos.established:
        raise ValidationFailed(f"{start} 早于岗位设立日期 {pos.established} / before the position was established")
    cur = current_tenure(session, pos)
    if cur is not None:
        raise Conflict(
            f"岗位 {code} 现由 {cur.holder} 担任（自 {cur.start_date}）：请办理交接 / position {code} is held; "
            "use a handover (subsidence positions handover)"
        )
    last = session.scalar(
        select(PositionHolder)
        .where(PositionHolder.position_id == pos.id)
        .order_by(PositionHolder.end_date.desc())
        .limit(1)
    )
    if last is not None and last.end_date is not None and start <= last.end_date:
        raise ValidationFailed(f"{start} 不晚于上一任期结束日期 {last.end_date} / overlaps the previous tenure")
    with acting_as(session, actor, reason):
        t = PositionHolder(
            position_id=pos.id, holder=holder.strip(), user_id=user_id, start_date=start, document=document
        )
        session.add(t)
        session.flush()
        record_event(
            session,
            entity="org_position",
            entity_id=pos.id,
            entity_key=pos.code,
            action="position.appoint",
            after={"holder": t.holder, "from": start.isoformat(), "user_id": user_id, "document": document},
            reason=reason,
            actor=actor,
        )
    return t


@dataclass
class Handover:
    position: Position
    outgoing: PositionHolder
    incoming: PositionHolder
    duties: list[PositionDuty]  #: what moved to the incoming holder (every duty of the position)


def handover(
    session: Session,
    code: str,
    holder: str,
    *,
    on: date,
    actor: str,
    reason: str,
    user_id: int | None = None,
    document: str | None = None,
    today: date | None = None,
) -> Handover:
    """交接: the current holder's tenure ends the day before ``on``; ``holder`` holds the position from ``on``.

    Every duty of the position goes with it (duties belong to the position). Refused when the position is vacant
    (appoint instead), when ``on`` is in the future or not after the current holder's start.
    """
    reason = _reason(reason)
    pos = get_position(session, code)
    _check_date(on, today)
    if not holder or not holder.strip():
        raise ValidationFailed("接任人必填（按职务填写） / the incoming holder is required (by role)")
    cur = current_tenure(session, pos)
    if cur is None:
        raise Conflict(f"岗位 {code} 空缺，请直接任命 / position {code} is vacant: appoint instead")
    if on <= cur.start_date:
        raise ValidationFailed(
            f"交接日期 {on} 须晚于现任 {cur.holder} 的任职开始日期 {cur.start_date} / the handover "
            "date must be after the current holder's start"
        )
    if holder.strip() == cur.holder and user_id == cur.user_id:
        raise ValidationFailed(f"接任人与现任相同（{cur.holder}） / the incoming holder is the current one")
    with acting_as(session, actor, reason):
        cur.end_date = on - timedelta(days=1)
        new = PositionHolder(
            position_id=pos.id,
            holder=holder.strip(),
            user_id=user_id,
            start_date=on,
            document=document,
            note=f"接替 {cur.holder}",
        )
        session.add(new)
        session.flush()
        duties = list(
            session.scalars(select(PositionDuty).where(PositionDuty.position_id == pos.id).order_by(PositionDuty.id))
        )
        record_event(
            session,
            entity="org_position",
            entity_id=pos.id,
            entity_key=pos.code,
            action="position.handover",
            before={
                "holder": cur.holder,
                "user_id": cur.user_id,
                "from": cur.start_date.isoformat(),
                "to": cur.end_date.isoformat(),
            },
            after={
                "holder": new.holder,
                "user_id": user_id,
                "from": on.isoformat(),
                "document": document,
                "duties": [_duty_text(d) for d in duties],
            },
            reason=reason,
            actor=actor,
        )
    return Handover(pos, cur, new, duties)


def vacate(
    session: Session, code: str, *, on: date, actor: str, reason: str, today: date | None = None
) -> PositionHolder:
    """End the current tenure on ``on`` (inclusive) without a successor; the duties wait for the next holder."""
    reason = _reason(reason)
    pos = get_position(session, code)
    _check_date(on, today)
    cur = current_tenure(session, pos)
    if cur is None:
        raise Conflict(f"岗位 {code} 已空缺 / position {code} is already vacant")
    if on < cur.start_date:
        raise ValidationFailed(f"{on} 早于任职开始日期 {cur.start_date} / before the tenure started")
    with acting_as(session, actor, reason):
        cur.end_date = on
        session.flush()
        record_event(
            session,
            entity="org_position",
            entity_id=pos.id,
            entity_key=pos.code,
            action="position.vacate",
            before={"holder": cur.holder, "from": cur.start_date.isoformat()},
            after={"to": on.isoformat()},
            reason=reason,
            actor=actor,
        )
    return cur


def _duty_text(d: PositionDuty) -> str:
    return d.power.label() + (f"（任务{d.task_no}）" if d.task_no else "")


def add_duty(
    session: Session,
    code: str,
    power: PositionPower,
    *,
    actor: str,
    task_no: int | None = None,
    note: str | None = None,
) -> PositionDuty:
    """Attach a responsibility or power to a position (per task 1–7 or general); a duplicate is refused."""
    pos = get_position(session, code)
    if task_no is not None and not 1 <= task_no <= 7:
        raise ValidationFailed(f"任务编号 {task_no} 须为 1–7 / task must be 1..7 (DOMAIN.md §3)")
    q = select(PositionDuty.id).where(PositionDuty.position_id == pos.id, PositionDuty.power == power)
    q = q.where(PositionDuty.task_no.is_(None) if task_no is None else PositionDuty.task_no == task_no)
    if session.scalar(q) is not None:
        raise Conflict(f"岗位 {code} 已有职责 {power.label()}" + (f"（任务{task_no}）" if task_no else ""))
    with acting_as(session, actor, f"岗位职责 {code}"):
        d = PositionDuty(position_id=pos.id, power=power, task_no=task_no, note=note)
        session.add(d)
        session.flush()
    return d


def positions_held(session: Session, user_id: int, on: date) -> list[Position]:
    """Positions the account holds on ``on``."""
    q = (
        select(Position)
        .join(PositionHolder, PositionHolder.position_id == Position.id)
        .where(
            PositionHolder.user_id == user_id,
            PositionHolder.start_date <= on,
            (PositionHolder.end_date.is_(None)) | (PositionHolder.end_date >= on),
            Position.active.is_(True),
        )
        .order_by(Position.seq, Position.code)
    )
    return list(session.scalars(q))


def may(session: Session, user_id: int, power: PositionPower, *, on: date, task_no: int | None = None) -> bool:
    """Whether the account, through a position it holds on ``on``, has ``power`` (for ``task_no``, or general)."""
    for pos in positions_held(session, user_id, on):
        for d in pos.duties:
            if d.power == power and (d.task_no is None or task_no is None or d.task_no == task_no):
                return True
    return False


# ------------------------------------------------------------------------------------------ the plan's composition
@dataclass(frozen=True)
class PositionSeed:
    code: str
    body: OrgBody
    rank: PositionRank
    title_zh: str
    ex_officio: str
    unit: tuple[str, ...]  #: unit codes or names to look for (first found wins; none found: no unit)
    powers: tuple[tuple[PositionPower, int | None], ...] = ()


_GROUP = (PositionPower.DIRECT, None), (PositionPower.SUPERVISE, None)
_OFFICE = tuple(
    (p, None)
    for p in (
        PositionPower.SCHEDULE,
        PositionPower.AGGREGATE,
        PositionPower.REPORT,
        PositionPower.LIAISE,
        PositionPower.SUPERVISE,
        PositionPower.ACCEPT,
    )
)
_G, _O = OrgBody.LEADING_GROUP, OrgBody.OFFICE
_L, _D, _M = PositionRank.LEADER, PositionRank.DEPUTY, PositionRank.MEMBER

#: 伊政办发〔2024〕79号 §2, in the plan's order; persons are not recorded, only the posts (DOMAIN.md: by role and unit).
#: Powers are the plan's words: the group 组织领导、安排部署、任务落实、督查指导; the office 统筹安排、工作调度、数据汇总、
#: 工作上报、部门联络、督查指导、整治验收. Lead/co-operating roles per task belong to the units (core TaskAssignment, §3)
#: and show on each member's row through its unit.
PLAN_COMPOSITION: tuple[PositionSeed, ...] = (
    PositionSeed("LG-LEADER", _G, _L, "组长", "旗人民政府副旗长", ("GOV", "旗人民政府"), _GROUP),
    PositionSeed(
        "LG-DEPUTY-GOVOFFICE", _G, _D, "副组长", "旗人民政府办公室副主任", ("GOVO", "旗人民政府办公室"), _GROUP
    ),
    PositionSeed("LG-DEPUTY-NRB", _G, _D, "副组长", "旗自然资源局局长", ("NRB", "旗自然资源局"), _GROUP),
    PositionSeed("LG-M-WLML", _G, _M, "成员", "乌兰木伦镇镇长", ("U-T-WLML", "乌兰木伦镇人民政府")),
    PositionSeed("LG-M-AWB", _G, _M, "成员", "旗农牧和水利局局长", ("AWB", "旗农牧和水利局")),
    PositionSeed("LG-M-ENB", _G, _M, "成员", "旗能源局局长", ("ENB", "旗能源局")),
    PositionSeed(
        "LG-M-EEB",
        _G,
        _M,
        "成员",
        "鄂尔多斯市生态环境局伊金霍洛旗生态环境分局局长",
        ("EEB", "市生态环境局伊金霍洛旗分局"),
    ),
    PositionSeed("LG-M-FGB", _G, _M, "成员", "旗林业和草原局局长", ("FGB", "旗林业和草原局")),
    PositionSeed("LG-M-ZSK", _G, _M, "成员", "札萨克镇镇长", ("U-T-ZSK", "札萨克镇人民政府")),
    PositionSeed("LG-M-NLTH", _G, _M, "成员", "纳林陶亥镇镇长", ("U-T-NLTH", "纳林陶亥镇人民政府")),
    PositionSeed("LG-M-ALTX", _G, _M, "成员", "阿勒腾席热镇镇长", ("U-T-ALTX", "阿勒腾席热镇人民政府")),
    PositionSeed("LG-M-NRB-DEPUTY", _G, _M, "成员", "旗自然资源局副局长", ("NRB", "旗自然资源局")),
    # the office sits in the Natural Resources Bureau; the plan names its duties, not its head: the head's post is a
    # default to confirm (listed in the closing note)
    PositionSeed(
        "LGO-HEAD", _O, PositionRank.OFFICE_HEAD, "办公室主任", "旗自然资源局副局长（兼）", ("LGO", "NRB"), _OFFICE
    ),
)


def seed_plan_composition(
    session: Session, *, actor: str, on: date = PLAN_DATE, holders: bool = True
) -> list[Position]:
    """Create the plan's positions (skipping codes that exist) with their duties; holders by role when asked."""
    out = []
    for i, s in enumerate(PLAN_COMPOSITION, start=1):
        existing = session.scalar(select(Position).where(Position.code == s.code))
        if existing is not None:
            out.append(existing)
            continue
        unit = None
        for key in s.unit:
            unit = session.scalar(select(Unit).where((Unit.code == key) | (Unit.name_zh == key)))
            if unit is not None:
                break
        pos = create_position(
            session,
            code=s.code,
            body=s.body,
            rank=s.rank,
            title_zh=s.title_zh,
            ex_officio=s.ex_officio,
            established=on,
            actor=actor,
            unit=unit,
            seq=i,
            basis=PLAN_BASIS,
        )
        for power, task in s.powers:
            add_duty(session, s.code, power, actor=actor, task_no=task)
        if holders:
            appoint(
                session,
                s.code,
                f"{s.ex_officio}（现任）",
                start=on,
                actor=actor,
                reason=f"{PLAN_BASIS} 成立领导小组",
                document=PLAN_BASIS,
                today=max(on, date.today()),
            )
        out.append(pos)
    return out
