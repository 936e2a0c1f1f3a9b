"""The licence gate (task 1): may a mine's application be accepted today, and if not, why.

The gate is a list of rules. Each rule looks at one ledger (problems, plans, fund ...) and returns the
reasons it finds; the gate refuses when any rule returns a reason. Ledgers add their rule with
:func:`gate_rule`, so the gate grows with the system without ``if`` chains here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Sequence

from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.vocabulary import APPLICATION_LABELS, ApplicationType, GateReason

#: a rule: (session, mine, application, today) -> reasons
GateRule = Callable[[Session, Mine, ApplicationType, date], list[GateReason]]

_RULES: dict[str, GateRule] = {}


def gate_rule(name: str) -> Callable[[GateRule], GateRule]:
    """Decorator registering a gate rule under ``name`` (re-registering replaces it)."""

    def deco(fn: GateRule) -> GateRule:
        _RULES[name] = fn
        return fn

    return deco


def registered_rules() -> dict[str, GateRule]:
    return dict(_RULES)


#: modules that define gate rules; imported before the gate is evaluated so their rules register.
#: A ledger that adds a rule appends its module here.
RULE_MODULES: list[str] = ["subsidence.ledger.gate_rules"]
RULE_MODULES += ["subsidence.plans.service"]  # treatment plans (issue 9)
RULE_MODULES += ["subsidence.tasks.fund", "subsidence.tasks.water", "subsidence.tasks.minehazards", "subsidence.tasks.buildings"]  # task ledgers (issue 6)


def load_rules() -> dict[str, GateRule]:
    import importlib

    for name in RULE_MODULES:
        importlib.import_module(name)
    return registered_rules()


# ------------------------------------------------------------------------------------------ evaluation


@dataclass
class GateDecision:
    """The gate's answer for one mine and application on one day, with every reason."""

    mine: Mine
    application: ApplicationType
    today: date
    reasons: list[GateReason]
    rules_checked: list[str]
    not_evaluated: list[str] = field(default_factory=list)
    query_id: int | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict:
        zh, en = APPLICATION_LABELS[self.application]
        return {
            "mine": self.mine.licence_no,
            "mine_name": self.mine.name_zh,
            "application": self.application.value,
            "application_label": f"{zh} / {en}",
            "today": self.today.isoformat(),
            "allowed": self.allowed,
            "reasons": [r.as_dict() for r in self.reasons],
            "rules_checked": self.rules_checked,
            "not_evaluated": self.not_evaluated,
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


def evaluate_gate(session: Session, mine: Mine, application: ApplicationType | str = ApplicationType.NEW_LICENCE,
                  today: date | None = None, actor=None, only: "Sequence[str] | None" = None) -> GateDecision:
    """Run every registered rule for ``mine``; refuse when any gives a reason. The query is logged.

    A rule that fails raises (the gate never answers "allowed" because a rule could not run).
    ``actor`` is an :class:`subsidence.access.policy.Actor` or a plain name for the log. ``only`` limits
    the evaluation to the named rules (a partial answer, e.g. for one ledger's page; logged as such).
    """
    from subsidence.db.audit import acting_as
    from subsidence.errors import ValidationFailed
    from subsidence.ledger.models import GateQuery

    try:
        app = parse_application(application)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    if today is None:
        from subsidence.ledger.lifecycle import today_local

        today = today_local()
    rules = load_rules()
    if only is not None:
        unknown = sorted(set(only) - set(rules))
        if unknown:
            raise ValidationFailed(f"unknown gate rule(s) {', '.join(unknown)}; registered: {', '.join(sorted(rules))}")
        rules = {k: v for k, v in rules.items() if k in set(only)}
    reasons: list[GateReason] = []
    for name in sorted(rules):
        reasons.extend(rules[name](session, mine, app, today))
    reasons.sort(key=lambda r: (r.rule, r.record or ""))
    not_evaluated = []
    if "missing_plan" in rules:
        from subsidence.ledger.gate_rules import plan_rule_evaluated

        if not plan_rule_evaluated():
            not_evaluated.append("missing_plan")
    name = getattr(actor, "audit_name", None) or (str(actor) if actor else session.info.get("actor") or "system")
    decision = GateDecision(mine, app, today, reasons, sorted(rules), not_evaluated)
    with acting_as(session, name, f"许可闸门查询 / licence gate query: {app.value}"):
        row = GateQuery(mine_id=mine.id, application=app.value, as_of=today, allowed=decision.allowed,
                        reasons=[r.as_dict() for r in reasons], actor=name)
        session.add(row)
        session.flush()
    decision.query_id = row.id
    return decision
