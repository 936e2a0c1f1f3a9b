"""Deadline rectification notices (限期整改通知书): numbering, issuing, delivery.

Numbers run per year without gaps: ``伊自然资整改〔2024〕7号`` (GB/T 9704-2012 §7.2.4: 机关代字〔年份〕序号, no 第, no leading zeros). The per-year counter row
(:class:`NoticeCounter`) is incremented inside the issuing transaction:

* PostgreSQL: ``INSERT .. ON CONFLICT DO NOTHING`` then ``UPDATE .. RETURNING`` — the UPDATE takes the row
  lock, so concurrent issuers queue on the year's row and each reads the committed value;
* SQLite: the transaction is started with ``BEGIN IMMEDIATE`` (the database write lock) before the counter
  is read, so concurrent issuers queue on the lock (``busy_timeout``) instead of failing or reusing a number.

A transaction that fails after taking a number rolls the counter back with it, so no number is skipped.
Rendering (PDF/DOCX) is done from the notice's frozen ``snapshot`` by :mod:`subsidence.reports.notice`,
outside the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor
from subsidence.db.audit import acting_as
from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.ledger.lifecycle import (
    NOTICE_STATES,
    Party,
    apply_transition,
    check_transition,
    parties_of,
    server_today,
)
from subsidence.ledger.models import (
    Milestone,
    NoticeCounter,
    NoticeDelivery,
    Problem,
    RectificationNotice,
)
from subsidence.vocabulary import DeliveryMethod, ProblemCategory, Role
from subsidence.workdays import (
    MilestoneSpec,
    WorkCalendar,
    backward_schedule,
    default_calendar,
)

log = logging.getLogger(__name__)

#: document-number prefix of the issuing office (伊金霍洛旗自然资源局 · 整改)
NOTICE_PREFIX = "伊自然资整改"
ISSUER_NAME = "伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室"

LAND_RECLAMATION_ART20 = (
    "《土地复垦条例》第二十条：土地复垦义务人不依法履行土地复垦义务的，在申请新的建设用地时，有批准权的人民政府"
    "不得批准；在申请新的采矿许可证或者申请采矿许可证延续、变更、注销时，有批准权的国土资源主管部门不得批准。"
)
MINE_GEO_ENV = "《矿山地质环境保护规定》（采矿权人应当履行矿山地质环境保护与治理恢复义务）"

#: legal basis printed on a notice, by task (category)
LEGAL_BASIS: dict[ProblemCategory, str] = {
    ProblemCategory.SUBSIDENCE_CRACKS: f"{MINE_GEO_ENV}；{LAND_RECLAMATION_ART20}",
    ProblemCategory.FUNDS: f"{MINE_GEO_ENV}（矿山地质环境治理恢复基金的计提与使用）；{LAND_RECLAMATION_ART20}",
    ProblemCategory.VEGETATION: f"《土地复垦条例》；{MINE_GEO_ENV}",
    ProblemCategory.BUILDINGS: "采煤沉陷区综合治理实施方案（已补偿建筑物、基础设施年底前全部拆除）",
    ProblemCategory.GROUNDWATER: "《中华人民共和国水法》；《地下水管理条例》；保水开采方案的要求",
    ProblemCategory.GEOHAZARDS: "《地质灾害防治条例》；" + MINE_GEO_ENV,
    ProblemCategory.MINE_HAZARDS: "《煤矿安全生产条例》；煤矿隐蔽致灾因素普查的有关规定",
}

#: default requirement (整改要求) by task, when the problem has none
DEFAULT_REQUIREMENT: dict[ProblemCategory, str] = {
    ProblemCategory.SUBSIDENCE_CRACKS: "按照矿山地质环境保护与土地复垦方案及年度计划，对塌陷坑、地裂缝进行充填、平整和复垦治理，"
    "做到“边开采、边治理”。",
    ProblemCategory.FUNDS: "足额计提并使用矿山地质环境治理恢复基金，专款用于治理恢复，报送资金使用情况。",
    ProblemCategory.VEGETATION: "清理采空区枯死树木，按“宜林则林、宜草则草”的原则补植复绿。",
    ProblemCategory.BUILDINGS: "对已补偿、已搬迁的建筑物和基础设施全部拆除，防止群众回流居住。",
    ProblemCategory.GROUNDWATER: "编制并实施保水开采方案，落实地下水保护和水污染防治措施。",
    ProblemCategory.GEOHAZARDS: "开展地质灾害隐患排查，发放明白卡、避险卡，明确群测群防责任人并建立台账。",
    ProblemCategory.MINE_HAZARDS: "开展隐蔽致灾因素普查，一问题一方案，按经审查的方案整改到位。",
}


@dataclass(frozen=True)
class MilestoneInput:
    """A milestone for a notice: a fixed due date, or ``workdays_before`` the deadline (倒排工期)."""

    description: str
    due_date: date | None = None
    workdays_before: int | None = None


def issuer_name(session: Session) -> str:
    """The issuing office as printed: the banner's name + the office unit's name (default :data:`ISSUER_NAME`)."""
    from subsidence.core.models import Unit
    from subsidence.vocabulary import UnitKind

    office = session.scalar(select(Unit).where(Unit.kind == UnitKind.OFFICE).order_by(Unit.code).limit(1))
    if office is None:
        return ISSUER_NAME
    return authority_name(session, office)


def authority_name(session: Session, unit) -> str:
    """A unit's name as printed on a document: prefixed with the banner's name (自然资源局 → 伊金霍洛旗自然资源局)."""
    from subsidence.core.models import AdminArea
    from subsidence.vocabulary import AreaLevel

    banner = session.scalar(
        select(AdminArea).where(AdminArea.level == AreaLevel.BANNER).order_by(AdminArea.code).limit(1)
    )
    name = unit.name_zh
    if banner is None or name.startswith(banner.name_zh):
        return name
    if banner.name_zh.endswith("旗") and name.startswith("旗"):  # 伊金霍洛旗 + 旗自然资源局: one 旗
        name = name[1:]
    return banner.name_zh + name


def competent_authority(session: Session, problem: Problem) -> tuple[str | None, str]:
    """(unit code, printed name) of the authority that orders the rectification: the problem's lead unit when
    it is a bureau or a town government, else the office."""
    from subsidence.vocabulary import UnitKind

    unit = problem.lead_unit
    if unit is not None and unit.kind != UnitKind.OFFICE and unit.kind != UnitKind.ENTERPRISE:
        return unit.code, authority_name(session, unit)
    return None, issuer_name(session)


def format_notice_number(year: int, seq: int, prefix: str = NOTICE_PREFIX) -> str:
    return f"{prefix}〔{year}〕{seq}号"


def _begin_immediate(session: Session) -> None:
    """On SQLite, make sure this transaction holds the database write lock (BEGIN IMMEDIATE)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def allocate_notice_seq(session: Session, year: int) -> int:
    """Take the next notice number of ``year`` inside the caller's transaction (see module doc)."""
    _begin_immediate(session)
    conn = session.connection()
    tbl = NoticeCounter.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(tbl).values(year=year, last_seq=0).on_conflict_do_nothing(index_elements=["year"]))
    seq = conn.execute(
        update(tbl).where(tbl.c.year == year).values(last_seq=tbl.c.last_seq + 1).returning(tbl.c.last_seq)
    ).scalar_one()
    return int(seq)


def _resolve_milestones(
    milestones: Sequence[MilestoneInput], issued: date, deadline: date, cal: WorkCalendar
) -> list[tuple[str, date]]:
    out: list[tuple[str, date]] = []
    backward = [m for m in milestones if m.due_date is None]
    for m in backward:
        if m.workdays_before is None:
            raise ValidationFailed(f"milestone {m.description!r}: give a due date or working days before the deadline")
    try:
        sched = backward_schedule(
            deadline, [MilestoneSpec(m.description, int(m.workdays_before)) for m in backward], cal, start=issued
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    out.extend((s.description, s.latest_date) for s in sched)
    for m in milestones:
        if m.due_date is not None:
            if not (issued < m.due_date <= deadline):
                raise ValidationFailed(
                    f"时间节点“{m.description}”的日期 {m.due_date} 须在发文日 {issued} 之后、整改期限 {deadline} 之前 / "
                    f"milestone {m.description!r} on {m.due_date} must fall after {issued} and by {deadline}"
                )
            out.append((m.description, m.due_date))
    if any(not d.strip() for d, _ in out):
        raise ValidationFailed("a milestone has an empty description")
    out.sort(key=lambda t: t[1])
    return out


def build_snapshot(
    problem: Problem,
    *,
    code: str,
    issued_date: date,
    deadline: date,
    recipient: str,
    requirement: str,
    legal_basis: str,
    milestones: Sequence[tuple[str, date]],
    cal: WorkCalendar | None = None,
    issuer: str = ISSUER_NAME,
) -> dict:
    """Everything printed on the notice, frozen at issue time."""
    cal = cal or default_calendar()
    mine = problem.mine
    return {
        "code": code,
        "issuer": issuer,
        "issued_date": issued_date.isoformat(),
        "deadline": deadline.isoformat(),
        "workdays": cal.workdays_between(issued_date, deadline),
        "recipient": recipient,
        "enterprise": mine.enterprise.name_zh if mine is not None and mine.enterprise is not None else None,
        "mine": mine.name_zh if mine is not None else None,
        "licence_no": mine.licence_no if mine is not None else None,
        "problem_code": problem.code,
        "problem_title": problem.title,
        "problem_description": problem.description or "",
        "category": problem.category.value,
        "category_zh": problem.category.label(),
        "found_date": problem.found_date.isoformat(),
        "source_zh": problem.source.label(),
        "town": problem.town.name_zh if problem.town is not None else None,
        "requirement": requirement,
        "legal_basis": legal_basis,
        "milestones": [
            {"seq": i, "description": d, "due_date": dd.isoformat()} for i, (d, dd) in enumerate(milestones, start=1)
        ],
        "illustrative": bool(problem.illustrative or (mine is not None and mine.illustrative)),
    }


def issue_notice(
    session: Session,
    problem: Problem,
    actor: Actor,
    *,
    issued_date: date | None = None,
    deadline: date | None = None,
    workdays: int | None = None,
    requirement: str | None = None,
    legal_basis: str | None = None,
    milestones: Sequence[MilestoneInput] = (),
    recipient: str | None = None,
    prefix: str = NOTICE_PREFIX,
    cal: WorkCalendar | None = None,
) -> RectificationNotice:
    """Issue a numbered deadline notice for ``problem`` and move it to ``notice_issued``.

    The deadline is ``deadline`` or ``workdays`` working days after ``issued_date``. Milestones are fixed
    dates or working days before the deadline (backward scheduling). They replace the problem's
    unfinished milestones. Refused (nothing changed) for a closed or already-noticed problem, by someone
    who is neither the office nor the lead unit, or with inconsistent dates.
    """
    cal = cal or default_calendar()
    issued_date = issued_date or server_today(session)
    if problem.state not in NOTICE_STATES:
        raise Conflict(
            f"问题 {problem.code} 当前状态为“{problem.state.label()}”，不能下达整改通知书 / cannot issue a notice for "
            f"problem {problem.code} in state {problem.state.value} (only when {', '.join(sorted(NOTICE_STATES))})"
        )
    check_transition(problem, actor, "issue_notice")
    if issued_date > server_today(session):
        raise ValidationFailed(f"notice date {issued_date} is in the future (today is {server_today(session)})")
    if issued_date < problem.found_date:
        raise ValidationFailed(f"notice date {issued_date} is before the problem's found date {problem.found_date}")
    if (deadline is None) == (workdays is None):
        raise ValidationFailed(
            "give exactly one of a deadline date (--deadline) or a number of working days (--workdays)"
        )
    if workdays is not None:
        if workdays < 1:
            raise ValidationFailed(f"--workdays must be at least 1, got {workdays}")
        deadline = cal.add_workdays(issued_date, workdays)
    assert deadline is not None
    if deadline <= issued_date:
        raise ValidationFailed(
            f"整改期限 {deadline} 必须晚于发文日期 {issued_date} / deadline {deadline} must be after "
            f"the notice date {issued_date}"
        )
    if deadline < problem.found_date:
        raise ValidationFailed(f"deadline {deadline} is before the found date {problem.found_date}")
    resolved = _resolve_milestones(milestones, issued_date, deadline, cal)
    mine = problem.mine
    if recipient is None:
        if mine is None:
            raise ValidationFailed(f"problem {problem.code} has no mine: name the recipient (--recipient)")
        recipient = mine.name_zh
    requirement = (requirement or problem.requirement or DEFAULT_REQUIREMENT[problem.category]).strip()
    legal_basis = (legal_basis or LEGAL_BASIS[problem.category]).strip()

    # --- from here on we write: take the number first (the lock), then re-read the problem under it
    seq = allocate_notice_seq(session, issued_date.year)
    session.refresh(problem, with_for_update=True)
    if problem.state not in NOTICE_STATES:  # someone else issued one while we waited for the lock
        raise Conflict(f"problem {problem.code} changed to {problem.state.value} meanwhile; no notice issued")
    code = format_notice_number(issued_date.year, seq, prefix)
    issuer_unit_id = actor.unit_id
    snapshot = build_snapshot(
        problem,
        code=code,
        issued_date=issued_date,
        deadline=deadline,
        recipient=recipient,
        requirement=requirement,
        legal_basis=legal_basis,
        milestones=resolved,
        cal=cal,
        issuer=issuer_name(session),
    )
    snapshot["authority"], snapshot["authority_name"] = competent_authority(session, problem)
    reason = f"下达限期整改通知书 {code}"
    with acting_as(session, actor.audit_name, reason):
        notice = RectificationNotice(
            code=code,
            year=issued_date.year,
            seq=seq,
            problem_id=problem.id,
            mine_id=mine.id if mine is not None else None,
            issuer_unit_id=issuer_unit_id,
            issued_by=actor.audit_name,
            issued_date=issued_date,
            deadline=deadline,
            recipient=recipient,
            requirement=requirement,
            legal_basis=legal_basis,
            snapshot=snapshot,
        )
        session.add(notice)
        problem.deadline = deadline
        if problem.requirement is None:
            problem.requirement = requirement
        for m in [m for m in problem.milestones if m.done_date is None]:
            problem.milestones.remove(m)
        base = max((m.seq for m in problem.milestones), default=0)
        for i, (desc, due) in enumerate(resolved, start=1):
            problem.milestones.append(Milestone(seq=base + i, description=desc, due_date=due))
        session.flush()
        apply_transition(
            session,
            problem,
            actor,
            "issue_notice",
            on=issued_date,
            reason=reason,
            extra={"notice": code, "deadline": deadline.isoformat()},
        )
    log.info("issued %s for %s (deadline %s)", code, problem.code, deadline)
    return notice


def find_notice(session: Session, key: str) -> RectificationNotice:
    from subsidence.errors import NotFound

    text = str(key).strip()
    notice = session.scalar(select(RectificationNotice).where(RectificationNotice.code == text))
    if notice is None and text.isdigit():
        notice = session.get(RectificationNotice, int(text))
    if notice is None:
        # the problem's latest notice
        notice = session.scalar(
            select(RectificationNotice)
            .join(Problem)
            .where(Problem.code == text)
            .order_by(RectificationNotice.id.desc())
            .limit(1)
        )
    if notice is None:
        raise NotFound(f"整改通知书 {text} 不存在 / no notice with number, id or problem code {text!r}")
    return notice


def notices_of(session: Session, problem: Problem) -> list[RectificationNotice]:
    return list(
        session.scalars(
            select(RectificationNotice)
            .where(RectificationNotice.problem_id == problem.id)
            .order_by(RectificationNotice.id)
        )
    )


def record_delivery(
    session: Session,
    notice: RectificationNotice,
    actor: Actor,
    *,
    delivered_date: date | None = None,
    method: DeliveryMethod | str,
    receiving_role: str,
    note: str | None = None,
    date_reason: str | None = None,
) -> NoticeDelivery:
    """Record service of a notice (送达): date, method and the receiving role (office or lead unit records it).

    The receipt date is the server's date; only the office may record an earlier one, with ``date_reason``,
    not before the notice date (:func:`subsidence.ledger.lifecycle.business_date`); the correction is kept
    in the delivery's note and in the audit trail.
    """
    from subsidence.ledger.lifecycle import business_date

    method = method if isinstance(method, DeliveryMethod) else DeliveryMethod.parse(str(method))
    if not (parties_of(notice.problem, actor) & {Party.OFFICE, Party.LEAD_UNIT}) and actor.role != Role.OFFICE:
        raise Forbidden(f"only the office or the lead unit records the delivery of {notice.code}")
    if delivered_date is not None and delivered_date < notice.issued_date:
        raise ValidationFailed(
            f"送达日期 {delivered_date} 早于发文日期 {notice.issued_date} / delivery date "
            f"{delivered_date} is before the notice date {notice.issued_date}"
        )
    if not receiving_role or not receiving_role.strip():
        raise ValidationFailed("name the receiving role (e.g. 矿长 / mine manager) with --receiver")
    delivered_date, correction = business_date(
        session, None, actor, delivered_date, date_reason, what="送达", previous=notice.issued_date
    )
    if correction.get("date_corrected"):
        note = "；".join(x for x in (note, f"补录送达日期（记录于 {correction['recorded_on']}）：{date_reason}") if x)
    with acting_as(
        session,
        actor.audit_name,
        f"送达 {notice.code}" + (f"（补录日期：{date_reason}）" if correction.get("date_corrected") else ""),
    ):
        delivery = NoticeDelivery(
            notice=notice,
            delivered_date=delivered_date,
            method=method,
            receiving_role=receiving_role.strip(),
            recorded_by=actor.audit_name,
            note=note,
        )
        session.add(delivery)
        session.flush()
    return delivery


def notice_summary(notice: RectificationNotice) -> dict:
    return {
        "code": notice.code,
        "id": notice.id,
        "year": notice.year,
        "seq": notice.seq,
        "problem": notice.snapshot.get("problem_code"),
        "recipient": notice.recipient,
        "issued_date": notice.issued_date.isoformat(),
        "deadline": notice.deadline.isoformat(),
        "milestones": notice.snapshot.get("milestones", []),
        "deliveries": [
            {
                "date": d.delivered_date.isoformat(),
                "method": d.method.value,
                "method_zh": d.method.label(),
                "receiving_role": d.receiving_role,
            }
            for d in notice.deliveries
        ],
    }
