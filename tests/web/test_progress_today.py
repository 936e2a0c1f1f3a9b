"""The dashboard's one-query progress for today equals the ledger's ``compute_progress`` (as of today)."""

from __future__ import annotations

from datetime import timedelta

from subsidence.access.models import User
from subsidence.access.policy import actor_for
from subsidence.ledger.lifecycle import transition
from subsidence.ledger.models import Problem
from subsidence.ledger.notices import issue_notice
from subsidence.ledger.progress import compute_progress
from subsidence.ledger.today import KEYS, progress_today
from tests.web.conftest import TODAY


def _same(session):
    fast = progress_today(session, TODAY)
    ref = compute_progress(session, TODAY).as_dict()
    assert {k: fast["total"][k] for k in KEYS} == {k: ref["total"][k] for k in KEYS}
    for group in ("by_task", "by_town", "by_department"):
        a = [(r["key"], r["label_zh"], *[r[k] for k in KEYS], r["accepted_pct"]) for r in fast[group]]
        b = [(r["key"], r["label_zh"], *[r[k] for k in KEYS], r["accepted_pct"]) for r in ref[group]]
        assert a == b, group


def test_progress_today_matches_ledger(session, world):
    _same(session)
    office = actor_for(session, session.query(User).filter_by(username="office").one())
    pa, pb, pw = (session.get(Problem, world.ids[k]) for k in ("pa", "pb", "pw"))
    session.info["server_today"] = TODAY  # the server's date (issue 13: steps are dated by the server)
    issue_notice(session, pa, office, issued_date=TODAY - timedelta(days=2), deadline=TODAY + timedelta(days=20))
    transition(session, pa, office, "start", on=TODAY - timedelta(days=1), date_reason="补录")
    transition(session, pb, office, "fix_at_once", on=TODAY - timedelta(days=1), date_reason="补录")
    transition(session, pw, office, "withdraw", on=TODAY, reason="duplicate")
    session.commit()
    _same(session)
