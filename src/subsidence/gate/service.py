"""The licence gate (task 1): may a mine's application be accepted today, and if not, why.

The plan bars applications only from mines that **missed a rectification deadline or rectified
inadequately** (逾期不整改或整改不到位). Every rule in :data:`subsidence.gate.rules.RULES` reports its
findings with their facts; this module judges them all the same way:

* **refusal** — the finding has a deadline, set by a notice, an approved extension, a rule of the plan or
  an approved plan of the mine (``deadline_set_by``), the deadline is before the query date, and nothing
  suspends it (an in-time submission awaiting the office's acceptance, parcels awaiting verification);
* **warning** — still inside its deadline, no enforceable deadline yet (the remedy names the notice that
  would set one), or pending the office;
* **not evaluable** — the rule cannot judge the mine until something is entered ("enter X").

Outcome: refused if any refusal; else "cannot be evaluated" if any rule could not judge; else allowed
(warnings listed). A refused query can be issued as a numbered 不予受理告知书
(:func:`issue_refusal_notice`); its data for printing is :func:`refusal_document_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.vocabulary import (
    APPLICATION_LABELS,
    NOT_EVALUABLE,
    REFUSAL,
    WARNING,
    ApplicationType,
    GateReason,
)

ALLOWED, REFUSED, NOT_EVALUATED = "allowed", "refused", "not_evaluable"
OUTCOME_LABELS = {
    ALLOWED: ("准予受理", "may be accepted"),
    REFUSED: ("不予受理", "refused"),
    NOT_EVALUATED: ("无法判定：须补录数据", "cannot be evaluated: data missing"),
}

#: statement of the applicant's rights printed on a refusal (《行政复议法》第二十条: 60 days;
#: 《行政诉讼法》第四十六条: six months from knowing of the act)
#: where a review is applied for (the banner government, for a decision of its bureau) and which court hears a
#: suit; unverified defaults printed on the refusal (settle with the county's legal office)
REVIEW_BODY = "伊金霍洛旗人民政府"
COURT = "有管辖权的人民法院"
REVIEW_RIGHTS = (
    "如不服本告知，可以自收到本告知书之日起六十日内依法申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。"
    "（《中华人民共和国行政复议法》第二十条；《中华人民共和国行政诉讼法》第四十六条）"
)


def severity(finding: GateReason, today: date) -> str:
    """The gate's one judgement of a finding (see the module doc)."""
    if finding.enter:
        return NOT_EVALUABLE
    if finding.pending:
        return WARNING
    if finding.deadline is not None and finding.deadline_set_by is not None and finding.deadline < today:
        return REFUSAL
    return WARNING


def _explain(f: GateReason, sev: str, today: date) -> GateReason:
    """The finding with its severity and a sentence saying why (the deadline and what set it)."""
    from subsidence.ledger.enforcement import workdays_late

    src = f.deadline_set_by
    by = f"（{src.title} {src.code}{'，' + src.date.isoformat() if src.date else ''}）" if src else ""
    details = dict(f.details)
    if sev == NOT_EVALUABLE:
        why = f"无法判定：请{f.enter}"
    elif f.pending == "acceptance" and f.details.get("state") == "fixed_at_once":
        why = "已立行立改，待办公室验收，不作为不予受理理由 / fixed at once, awaiting the office's acceptance"
    elif f.pending == "acceptance":
        why = (
            f"已在期限内申请验收，待办公室验收（验收期限 {f.details.get('acceptance_due') or '—'}），不作为不予受理理由 / "
            "submitted in time, awaiting the office's acceptance"
        )
    elif f.pending == "extension":
        why = (
            f"已于 {f.details.get('extension_requested')} 在期限内申请延期，待审批，不作为不予受理理由 / a timely "
            "extension request awaits its decision"
        )
    elif f.pending:
        why = "待核查，不作为不予受理理由 / awaiting verification"
    elif sev == REFUSAL:
        details |= {"days_overdue": (today - f.deadline).days, "workdays_overdue": workdays_late(f.deadline, today)}
        why = (
            f"期限 {f.deadline}{by}已过（逾期 {details['days_overdue']} 天） / deadline {f.deadline} passed "
            f"({details['days_overdue']} days)"
        )
    elif f.deadline is not None and src is not None:
        why = f"期限 {f.deadline}{by}未到，提示 / deadline {f.deadline} not yet reached"
    elif f.deadline is not None:
        why = (
            f"台账期限 {f.deadline} 未经限期整改通知书告知，不作为不予受理理由 / deadline {f.deadline} was never "
            "notified"
        )
    else:
        why = "尚未设定整改期限 / no deadline set yet"
    return replace(f, severity=sev, message=f"{f.message}；{why}", details=details)


@dataclass
class GateDecision:
    """The gate's answer for one mine and application on one day."""

    mine: Mine
    application: ApplicationType
    today: date
    reasons: list[GateReason]  #: refusals
    rules_checked: list[str]
    warnings: list[GateReason] = field(default_factory=list)
    not_evaluated: list[GateReason] = field(default_factory=list)
    query_id: int | None = None

    @property
    def outcome(self) -> str:
        return REFUSED if self.reasons else (NOT_EVALUATED if self.not_evaluated else ALLOWED)

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    def as_dict(self) -> dict:
        zh, en = APPLICATION_LABELS[self.application]
        return {
            "mine": self.mine.licence_no,
            "mine_name": self.mine.name_zh,
            "application": self.application.value,
            "application_label": f"{zh} / {en}",
            "today": self.today.isoformat(),
            "outcome": self.outcome,
            "outcome_label": " / ".join(OUTCOME_LABELS[self.outcome]),
            "allowed": self.allowed,
            "reasons": [r.as_dict() for r in self.reasons],
            "warnings": [r.as_dict() for r in self.warnings],
            "not_evaluable": [r.as_dict() for r in self.not_evaluated],
            "rules_checked": self.rules_checked,
            "query_id": self.query_id,
        }


def parse_application(text: str | ApplicationType) -> ApplicationType:
    """An application type from its code, Chinese or English label."""
    if isinstance(text, ApplicationType):
        return text
    t = str(text).strip()
    for app, (zh, en) in APPLICATION_LABELS.items():
        if t in (app.value, zh, en) or t.lower() == en.lower():
            return app
    allowed = ", ".join(f"{a.value}/{APPLICATION_LABELS[a][0]}" for a in ApplicationType)
    raise ValueError(f"unknown application type {t!r}; one of: {allowed}")


def evaluate_gate(
    session: Session,
    mine: Mine,
    application: ApplicationType | str = ApplicationType.NEW_LICENCE,
    today: date | None = None,
    actor=None,
    only: Sequence[str] | None = None,
) -> GateDecision:
    """Run the rules of :data:`subsidence.gate.rules.RULES` for ``mine`` and judge every finding. The query
    and its answer are logged (:class:`GateQuery`).

    A rule that fails raises (the gate never answers "allowed" because a rule could not run). ``actor`` is
    an :class:`subsidence.access.policy.Actor` or a plain name for the log. ``only`` limits the evaluation
    to the named rules (a partial answer, e.g. for one ledger's page).
    """
    from subsidence.db.audit import acting_as
    from subsidence.errors import ValidationFailed
    from subsidence.gate.rules import RULES
    from subsidence.ledger.models import GateQuery

    try:
        app = parse_application(application)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    if today is None:
        from subsidence.ledger.lifecycle import today_local

        today = today_local()
    rules = list(RULES)
    if only is not None:
        names = [n for n, _ in RULES]
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValidationFailed(f"unknown gate rule(s) {', '.join(unknown)}; the rules: {', '.join(names)}")
        rules = [(n, fn) for n, fn in RULES if n in set(only)]
    findings: list[GateReason] = []
    for _, fn in rules:
        findings.extend(fn(session, mine, app, today))
    # a problem reported by its own ledger's rule is not repeated by the general ledger rule
    specific = {f.problem for f in findings if f.problem and f.rule not in _GENERAL}
    findings = [f for f in findings if not (f.rule in _GENERAL and f.problem in specific)]
    judged = [_explain(f, severity(f, today), today) for f in findings]
    key = lambda r: (r.deadline or date.max, r.rule, r.record or "")
    refusals = sorted((f for f in judged if f.severity == REFUSAL), key=key)
    warnings = sorted((f for f in judged if f.severity == WARNING), key=key)
    missing = sorted((f for f in judged if f.severity == NOT_EVALUABLE), key=key)
    name = getattr(actor, "audit_name", None) or (str(actor) if actor else session.info.get("actor") or "system")
    decision = GateDecision(mine, app, today, refusals, [n for n, _ in rules], warnings, missing)
    with acting_as(session, name, f"许可闸门查询 / licence gate query: {app.value}"):
        row = GateQuery(
            mine_id=mine.id,
            application=app.value,
            as_of=today,
            allowed=decision.allowed,
            outcome=decision.outcome,
            reasons=[r.as_dict() for r in refusals],
            warnings=[r.as_dict() for r in warnings],
            not_evaluable=[r.as_dict() for r in missing],
            actor=name,
        )
        session.add(row)
        session.flush()
    decision.query_id = row.id
    return decision


#: finding names of the general ledger rule (deduplicated against the task ledgers' own findings)
_GENERAL = frozenset({"rectification_problem", "returned_problem", "awaiting_acceptance"})


# ------------------------------------------------------------------------------------ refusal notice

#: document-number prefix by issuing unit code (others: the unit's code)
AUTHORITY_PREFIX = {"NRB": "伊自然资不予受理"}
#: the unit that decides licence and construction-land applications (自然资源主管部门)
DEFAULT_AUTHORITY = "NRB"


def issue_refusal_notice(
    session: Session, gate_query_id: int, actor, *, issued_date: date | None = None, authority: str | None = None
):
    """Number and freeze the 不予受理告知书 of a refused gate query (once: issuing again returns it).

    Numbers run per issuing authority (unit code) and year without gaps. Refused (nothing changes) when
    the query was not a refusal. ``actor`` must be the office or a department.
    """
    from subsidence.access.policy import Actor
    from subsidence.core.models import Unit
    from subsidence.db.audit import acting_as
    from subsidence.errors import Conflict, Forbidden, NotFound, ValidationFailed
    from subsidence.ledger.lifecycle import server_today
    from subsidence.ledger.models import GateQuery, RefusalNotice
    from subsidence.ledger.numbering import allocate_seq, format_number
    from subsidence.vocabulary import Role

    q = session.get(GateQuery, gate_query_id)
    if q is None:
        raise NotFound(f"gate query {gate_query_id} does not exist")
    existing = session.scalar(select(RefusalNotice).where(RefusalNotice.gate_query_id == q.id))
    if existing is not None:
        return existing
    if isinstance(actor, Actor) and actor.role not in (Role.OFFICE, Role.DEPARTMENT):
        raise Forbidden(f"{actor.audit_name} may not issue a 不予受理告知书 (office or department only)")
    if q.outcome != REFUSED or not q.reasons:
        raise Conflict(
            f"gate query {q.id} was {q.outcome or ('allowed' if q.allowed else 'refused')}: only a refused "
            "application gets a 不予受理告知书"
        )
    today = server_today(session)
    issued_date = issued_date or today
    if issued_date > today or issued_date < q.as_of:
        raise ValidationFailed(f"issue date {issued_date} must be between the query date {q.as_of} and today {today}")
    code_unit = authority or DEFAULT_AUTHORITY
    unit = session.scalar(select(Unit).where(Unit.code == code_unit))
    if unit is None:
        raise NotFound(f"issuing unit {code_unit!r} does not exist (give the unit code of the deciding authority)")
    seq = allocate_seq(session, "refusal", unit.code, issued_date.year)
    code = format_number("refusal", issued_date.year, seq, AUTHORITY_PREFIX.get(unit.code, f"{unit.code}不予受理"))
    name = getattr(actor, "audit_name", None) or str(actor)
    snap = _refusal_snapshot(session, q, code=code, unit=unit, year=issued_date.year, seq=seq, issued=issued_date)
    with acting_as(session, name, f"不予受理告知书 {code}"):
        n = RefusalNotice(
            code=code,
            authority=unit.code,
            year=issued_date.year,
            seq=seq,
            gate_query_id=q.id,
            mine_id=q.mine_id,
            issued_date=issued_date,
            issued_by=name,
            snapshot=snap,
        )
        session.add(n)
        session.flush()
    return n


def _refusal_snapshot(session: Session, q, *, code: str, unit, year: int, seq: int, issued: date) -> dict:
    from subsidence.ledger.gate_rules import BASIS
    from subsidence.ledger.notices import authority_name

    mine = session.get(Mine, q.mine_id)
    app = ApplicationType(q.application)
    zh, en = APPLICATION_LABELS[app]
    remedies = []
    for r in q.reasons:
        if r.get("remedy") and r["remedy"] not in remedies:
            remedies.append(r["remedy"])
    return {
        "code": code,
        "authority": unit.code,
        "authority_name": authority_name(session, unit),
        "year": year,
        "seq": seq,
        "issued_date": issued.isoformat(),
        "applicant": mine.enterprise.name_zh if mine.enterprise is not None else mine.name_zh,
        "mine": mine.name_zh,
        "licence_no": mine.licence_no,
        "application": app.value,
        "application_label": f"{zh} / {en}",
        "query_date": q.as_of.isoformat(),
        "gate_query_id": q.id,
        "reasons": list(q.reasons),
        "warnings": list(q.warnings or []),
        "legal_basis": BASIS,
        "remedy_summary": "；".join(remedies),
        "review_rights": REVIEW_RIGHTS,
        "review_body": REVIEW_BODY,
        "court": COURT,
        "illustrative": bool(mine.illustrative),
    }


def refusal_document_data(session: Session, gate_query_id: int) -> dict:
    """Everything printed on the 不予受理告知书 of a gate query (its frozen snapshot); read-only."""
    from subsidence.errors import Conflict, NotFound
    from subsidence.ledger.models import GateQuery, RefusalNotice

    q = session.get(GateQuery, gate_query_id)
    if q is None:
        raise NotFound(f"gate query {gate_query_id} does not exist")
    n = session.scalar(select(RefusalNotice).where(RefusalNotice.gate_query_id == q.id))
    if n is None:
        raise Conflict(
            f"gate query {q.id} has no 不予受理告知书 yet"
            + (" (issue it: subsidence gate refuse)" if q.outcome == REFUSED else " (it was not refused)")
        )
    return dict(n.snapshot)
