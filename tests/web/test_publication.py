"""Publication is a decision: the public lists (/api/public/*, /public) show only a signed-off
snapshot (who, when, SHA-256 of the canonical JSON); re-running the assessment changes the draft, not what the
public sees, until the office signs off again; the signer must have seen the draft they sign."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import func, select

from subsidence.core.models import Mine
from subsidence.db.audit import acting_as
from subsidence.tasks import publication
from subsidence.tasks.models import AssessmentScore, Publication
from tests.web.conftest import TODAY, auth

YEAR = TODAY.year - 1


def _scores(session, world, a: float, b: float) -> None:
    """Stand-in for an assessment run: stored scores of the two mines (MA praised or exposed by ``a``)."""
    with acting_as(session, "test:setup"):
        for key, score in (("ma", a), ("mb", b)):
            m = session.get(Mine, world.ids[key])
            row = session.scalar(
                select(AssessmentScore).where(AssessmentScore.year == YEAR, AssessmentScore.mine_id == m.id)
            )
            if row is None:
                row = AssessmentScore(year=YEAR, mine_id=m.id)
                session.add(row)
            row.score, row.rank = score, 1 if score >= max(a, b) else 2
            row.listing = "praise" if score >= 90 else "exposure" if score < 60 else None
            row.indicators = [
                {
                    "key": "fund_accrual",
                    "zh": "基金足额计提",
                    "en": "fund",
                    "weight": 10,
                    "sub_score": score / 100,
                    "basis": f"计提率 {score:.0f}%",
                    "contribution": score,
                }
            ]
            row.computed_on = TODAY
    session.commit()


def test_nothing_public_before_sign_off_and_rerun_waits(client, world, session):
    office = auth(world, "office")
    _scores(session, world, 95, 40)
    # computed, not signed off: the public sees nothing
    assert client.get("/api/public/lists").json()["praise"] == []
    assert "甲一矿" not in client.get("/public").text
    st = client.get(f"/api/publications/assessment_lists?year={YEAR}", headers=office).json()
    assert st["published"] is None and st["up_to_date"] is False
    assert [r["mine"] for r in st["draft"]["praise"]] == ["C-A-001"]
    # only the office signs off; a wrong hash (the draft changed since it was reviewed) is refused
    for who in ("department", "town", "enterprise_a", "public"):
        assert (
            client.post(
                "/api/publications/assessment_lists/sign-off",
                headers=auth(world, who),
                json={"year": YEAR, "expected_sha256": st["draft_sha256"]},
            ).status_code
            == 403
        )
    r = client.post(
        "/api/publications/assessment_lists/sign-off", headers=office, json={"year": YEAR, "expected_sha256": "0" * 64}
    )
    assert r.status_code == 409
    assert session.scalar(select(func.count(Publication.id))) == 0
    r = client.post(
        "/api/publications/assessment_lists/sign-off",
        headers=office,
        json={"year": YEAR, "expected_sha256": st["draft_sha256"], "note": "领导小组会议审定"},
    )
    assert r.status_code == 201, r.text
    pub = r.json()["publication"]
    assert pub["version"] == 1 and pub["signed_by"] == "office:office" and pub["sha256"] == st["draft_sha256"]
    lists = client.get("/api/public/lists").json()
    assert [r["mine"] for r in lists["praise"]] == ["C-A-001"] and lists["year"] == YEAR
    assert [r["mine"] for r in lists["exposure"]] == ["C-B-001"]
    assert lists["publication"]["sha256"] == publication.digest({k: lists[k] for k in ("year", "praise", "exposure")})
    assert "甲一矿" in client.get("/public").text
    # signing the same content again is refused
    assert (
        client.post(
            "/api/publications/assessment_lists/sign-off",
            headers=office,
            json={"year": YEAR, "expected_sha256": st["draft_sha256"]},
        ).status_code
        == 409
    )

    # re-run: MA drops to the exposure list. The public still sees version 1.
    _scores(session, world, 30, 92)
    lists = client.get("/api/public/lists").json()
    assert [r["mine"] for r in lists["praise"]] == ["C-A-001"] and lists["publication"]["version"] == 1
    st2 = client.get(f"/api/publications/assessment_lists?year={YEAR}", headers=office).json()
    assert st2["up_to_date"] is False and st2["draft_sha256"] != st["draft_sha256"]
    # signing with the old hash (what was reviewed before the re-run) is refused
    assert (
        client.post(
            "/api/publications/assessment_lists/sign-off",
            headers=office,
            json={"year": YEAR, "expected_sha256": st["draft_sha256"]},
        ).status_code
        == 409
    )
    r = client.post(
        "/api/publications/assessment_lists/sign-off",
        headers=office,
        json={"year": YEAR, "expected_sha256": st2["draft_sha256"]},
    )
    assert r.status_code == 201 and r.json()["publication"]["version"] == 2
    lists = client.get("/api/public/lists").json()
    assert [r["mine"] for r in lists["praise"]] == ["C-B-001"] and [r["mine"] for r in lists["exposure"]] == ["C-A-001"]
    hist = client.get(f"/api/publications/assessment_lists?year={YEAR}", headers=office).json()["history"]
    assert [h["version"] for h in hist] == [2, 1]


def test_public_map_reads_the_signed_snapshot(client, world, session):
    _scores(session, world, 95, 70)
    assert client.get("/api/public/map").json()["features"] == []
    from subsidence.access.policy import Actor
    from subsidence.vocabulary import Role

    publication.sign_off(session, Actor("office", Role.OFFICE), "assessment_lists", year=YEAR)
    session.commit()
    feats = client.get("/api/public/map").json()["features"]
    assert [f["properties"]["mine"] for f in feats] == ["C-A-001"]


def test_inspection_results_public_only_after_sign_off(client, world, session):
    """A result marked for publication is public only once the results list is signed off."""
    from datetime import datetime

    from subsidence.access.policy import Actor
    from subsidence.tasks.inspections import service as inspections
    from subsidence.tasks.models import DrawRecord, DrawResult, InspectionItem
    from subsidence.vocabulary import InspectionOutcome, Role

    with acting_as(session, "test:setup"):
        item = InspectionItem(code="IT", name="土地复垦抽查")
        session.add(item)
        session.flush()
        t0 = datetime(2024, 10, 1, tzinfo=UTC)
        rec = DrawRecord(
            code="DR-2024-0001",
            item_id=item.id,
            pool={"item": {"code": "IT", "name": "土地复垦抽查"}},
            pool_sha256="0" * 64,
            published_at=t0,
        )
        session.add(rec)
        session.flush()
        session.add(
            DrawResult(
                draw_id=rec.id,
                result={"objects": [{"key": "C-A-001", "inspectors": []}]},
                result_sha256="1" * 64,
                drawn_at=t0,
            )
        )
        session.flush()
        ma = session.get(Mine, world.ids["ma"])
        inspections.record_result(
            session,
            "DR-2024-0001",
            ma,
            inspected=TODAY - timedelta(days=20),
            outcome=InspectionOutcome.COMPLIANT,
            public_summary="未发现问题",
        )
        inspections.publish_result(session, "DR-2024-0001", ma, TODAY - timedelta(days=5))
    session.commit()
    assert client.get("/api/public/inspection-results").json()["count"] == 0
    publication.sign_off(session, Actor("office", Role.OFFICE), "inspection_results")
    session.commit()
    got = client.get("/api/public/inspection-results").json()
    assert got["count"] == 1 and got["items"][0]["summary"] == "未发现问题"
    assert "findings" not in got["items"][0]


def test_a_signed_version_cannot_be_changed(session, world):
    """The sign-off is append-only in the database too: UPDATE and DELETE are refused by triggers."""
    import pytest
    from sqlalchemy import text

    from subsidence.access.policy import Actor
    from subsidence.vocabulary import Role

    _scores(session, world, 95, 40)
    publication.sign_off(session, Actor("office", Role.OFFICE), "assessment_lists", year=YEAR)
    session.commit()
    for stmt in ("UPDATE publication SET sha256 = 'x'", "DELETE FROM publication"):
        with pytest.raises(Exception, match="append-only"):
            session.execute(text(stmt))
        session.rollback()
    assert session.scalar(select(func.count(Publication.id))) == 1


def test_cli_status_and_sign_off(engine, session, world, monkeypatch):
    """``subsidence publication status`` / ``sign-off --as office --sha256 …`` on the same database."""
    import json

    from typer.testing import CliRunner

    from subsidence.cli.main import app as cli
    from subsidence.settings import get_settings

    monkeypatch.setenv("SUBSIDENCE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    _scores(session, world, 95, 40)
    run = CliRunner().invoke
    st = json.loads(run(cli, ["publication", "status", "assessment_lists", "--year", str(YEAR), "--json"]).output)
    assert st["published"] is None
    bad = run(
        cli,
        [
            "publication",
            "sign-off",
            "assessment_lists",
            "--year",
            str(YEAR),
            "--as",
            "town",
            "--sha256",
            st["draft_sha256"],
        ],
    )
    assert bad.exit_code != 0 and "sign_off" in bad.output
    ok = run(
        cli,
        [
            "publication",
            "sign-off",
            "assessment_lists",
            "--year",
            str(YEAR),
            "--as",
            "office",
            "--sha256",
            st["draft_sha256"],
            "--json",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["signed_by"] == "office:office"
    session.expire_all()
    assert session.scalar(select(func.count(Publication.id))) == 1
