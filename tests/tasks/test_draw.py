"""The verifiable double-random draw: pure procedure, hand-check, tampering, recusal, service stages."""

from __future__ import annotations

import copy
import json
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from subsidence.errors import Conflict, ValidationFailed
from subsidence.ledger.models import Problem
from subsidence.tasks.inspections import draw as d
from subsidence.tasks.inspections import service as svc
from subsidence.tasks.models import DrawRecord
from subsidence.vocabulary import InspectionOutcome

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SOURCE = "中国福利彩票双色球第2026140期开奖号码"


def _pool(n_obj=12, n_ins=6, recusals=(), m=2):
    return d.make_pool(
        draw="DR-T",
        item={
            "code": "RECL",
            "name": "土地复垦抽查",
            "ratios_pct": {"high": 100, "medium": 70, "low": 50},
            "inspectors_per_object": m,
        },
        objects=[{"key": f"C{i:03d}", "name": f"矿{i}", "grade": d.GRADES[i % 3]} for i in range(n_obj)],
        inspectors=[{"key": f"NRB-{i:02d}", "unit": "NRB"} for i in range(n_ins)],
        recusals=list(recusals),
        seed_source=SOURCE,
        seed_not_before=(T0 + timedelta(hours=1)).isoformat(),
        published_at=T0.isoformat(),
    )


def _record(pool, seed="03 08 15 22 27 31 + 09"):
    result = d.derive(pool, seed)
    return {
        "format": d.RECORD_FORMAT,
        "code": "DR-T",
        "pool": pool,
        "pool_sha256": d.sha256_hex(d.canonical_json(pool)),
        "published_at": T0.isoformat(),
        "seed": {
            "source": SOURCE,
            "value": seed,
            "source_time": (T0 + timedelta(hours=2)).isoformat(),
            "entered_at": (T0 + timedelta(hours=3)).isoformat(),
        },
        "result": result,
        "result_sha256": d.sha256_hex(d.canonical_json(result)),
        "drawn_at": (T0 + timedelta(hours=3)).isoformat(),
    }


def test_quota_and_two_inspectors_per_object():
    pool = _pool()
    res = d.derive(pool, "seed")
    by_grade = {g: sum(1 for o in res["objects"] if o["grade"] == g) for g in d.GRADES}
    assert by_grade == {"high": 4, "medium": 3, "low": 2}  # 100 % of 4, ceil(70 % of 4), 50 % of 4
    assert len({o["key"] for o in res["objects"]}) == 9
    assert all(len(set(o["inspectors"])) == 2 for o in res["objects"])
    assert d.derive(pool, "seed") == res  # deterministic
    assert d.derive(pool, "seed2") != res


def test_hand_procedure_with_sha256sum():
    """Redo the first pick exactly as the docstring tells a citizen to (sha256sum + shell arithmetic)."""
    pool = _pool()
    seed = "03 08 15 22 27 31 + 09"
    res = d.derive(pool, seed)
    step = res["steps"][0]
    ph = d.sha256_hex(d.canonical_json(pool))
    out = subprocess.run(
        ["bash", "-c", f"printf '%s' '{ph}|{seed}|1' | sha256sum | cut -c1-12"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == step["hex12"]
    x = int(out, 16)
    n = step["n"]
    assert x < d.SPACE - d.SPACE % n and step["index"] == x % n
    high = [o["key"] for o in pool["objects"] if o["grade"] == "high"]
    assert step["picked"] == high[x % n]


def test_rejection_sampling_boundary(monkeypatch):
    """A value in the biased tail is discarded and the next counter is used."""
    vals = iter([(1, "f" * 12, d.SPACE - 1), (2, "000000000005", 5)])
    steps: list = []
    picked = d._choose(vals, ["a", "b", "c"], steps, "t")  # 2^48 - 1 >= 2^48 - (2^48 mod 3)
    assert picked == "c" and steps[0].index is None and steps[1].index == 2


def test_recusal_is_respected_and_logged_in_pool():
    rec = [{"inspector": f"NRB-{i:02d}", "object": "C000", "reason": "近亲属在该矿任职"} for i in range(4)]
    pool = _pool(recusals=rec)
    assert d.eligible_inspectors(pool, "C000") == ["NRB-04", "NRB-05"]
    res = d.derive(pool, "x")
    c0 = next(o for o in res["objects"] if o["key"] == "C000")  # grade high: always drawn
    assert sorted(c0["inspectors"]) == ["NRB-04", "NRB-05"]
    assert pool["recusals"][0]["reason"] == "近亲属在该矿任职"


def test_too_few_eligible_inspectors_refused():
    rec = [{"inspector": f"NRB-{i:02d}", "object": "C000", "reason": "利害关系"} for i in range(5)]
    with pytest.raises(d.DrawError, match="fewer eligible inspectors"):
        _pool(recusals=rec)
    with pytest.raises(d.DrawError, match="at least 2"):
        _pool(m=1)


def test_intact_record_verifies():
    assert d.verify_record(_record(_pool())) == []


@pytest.mark.parametrize(
    "path,value,field",
    [
        (("pool", "objects", 0, "grade"), "low", "pool"),
        (("pool", "inspectors", 0, "unit"), "EMB", "pool"),
        (("pool", "recusals"), [{"inspector": "NRB-00", "object": "C001", "reason": "x"}], "pool"),
        (("pool_sha256",), "0" * 64, "pool_sha256"),
        (("seed", "value"), "03 08 15 22 27 31 + 10", "seed.value"),
        (("seed", "source"), "上证指数收盘", "seed.source"),
        (("seed", "entered_at"), "2026-12-01T01:00:00+00:00", "seed.entered_at"),
        (("seed", "source_time"), "2026-12-01T01:30:00+00:00", "seed.source_time"),
        (("published_at",), "2026-12-01T00:00:00+00:00", "published_at"),
        (("result", "objects", 0, "inspectors", 0), "NRB-99", "result.objects"),
        (("result", "objects", 0, "key"), "C999", "result.objects"),
        (("result", "steps", 0, "x"), 1, "result.steps"),
        (("result_sha256",), "f" * 64, "result_sha256"),
    ],
)
def test_tampering_each_field_fails(path, value, field):
    rec = _record(_pool())
    bad = copy.deepcopy(rec)
    node = bad
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    found = d.verify_record(bad)
    assert found, f"tampering {path} went unnoticed"
    assert field in {p.field for p in found}, found


def test_cli_verify(tmp_path):
    from typer.testing import CliRunner

    from subsidence.cli.main import app

    rec = _record(_pool())
    good = tmp_path / "rec.json"
    good.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    r = CliRunner().invoke(app, ["draw", "verify", str(good), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"] is True
    rec["seed"]["value"] = "tampered"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    r = CliRunner().invoke(app, ["draw", "verify", str(bad)])
    assert r.exit_code == 1
    assert "seed.value" in r.output


# ------------------------------------------------------------------------------------- service


def _directories(session, county, n_ins=4):
    for i, m in enumerate(county.mines):
        svc.set_object(session, m, ["high", "medium", "low"][i])
    for i in range(n_ins):
        svc.add_inspector(session, f"NRB-{i:02d}", "NRB", role_title="执法人员")
    return svc.add_item(
        session,
        "RECL",
        "土地复垦年度抽查",
        ratio_high_pct=100,
        ratio_medium_pct=100,
        ratio_low_pct=100,
        lead_unit_code="NRB",
    )


def test_service_stages_and_refusals(session, county):
    _directories(session, county)
    svc.declare_conflict(session, "NRB-00", county.mines[0], "曾在该矿任职", date(2026, 11, 1))
    rec = svc.publish_draw(session, "RECL", seed_source=SOURCE, seed_not_before=T0 + timedelta(hours=1), now=T0)
    # seed value from before publication: refused, nothing stored
    with pytest.raises(ValidationFailed, match="before the pool"):
        svc.enter_seed(
            session,
            rec.code,
            source=SOURCE,
            value="1 2 3",
            source_time=T0 - timedelta(minutes=5),
            now=T0 + timedelta(hours=2),
        )
    with pytest.raises(ValidationFailed, match="before the pool is published"):
        svc.enter_seed(
            session,
            rec.code,
            source=SOURCE,
            value="1 2 3",
            source_time=T0 - timedelta(minutes=5),
            now=T0 - timedelta(minutes=1),
        )
    with pytest.raises(ValidationFailed, match="announced"):
        svc.enter_seed(
            session,
            rec.code,
            source="别的来源",
            value="1",
            source_time=T0 + timedelta(hours=2),
            now=T0 + timedelta(hours=3),
        )
    with pytest.raises(ValidationFailed, match="no seed"):
        svc.run_draw(session, rec.code)
    assert rec.seed is None
    svc.enter_seed(
        session,
        rec.code,
        source=SOURCE,
        value="05 11 17 20 26 33 + 12",
        source_time=T0 + timedelta(hours=2),
        now=T0 + timedelta(hours=3),
    )
    with pytest.raises(Conflict):
        svc.enter_seed(
            session,
            rec.code,
            source=SOURCE,
            value="x",
            source_time=T0 + timedelta(hours=2),
            now=T0 + timedelta(hours=4),
        )
    res = svc.run_draw(session, rec.code, now=T0 + timedelta(hours=3, minutes=1))
    with pytest.raises(Conflict):
        svc.run_draw(session, rec.code)
    objs = {o["key"]: o["inspectors"] for o in res.result["objects"]}
    assert set(objs) == {m.licence_no for m in county.mines}
    assert "NRB-00" not in objs[county.mines[0].licence_no]
    exported = svc.export_record(session, rec.code)
    assert d.verify_record(json.loads(json.dumps(exported))) == []
    assert [r["code"] for r in svc.public_draws(session)] == [rec.code]


def test_too_few_inspectors_refused_at_publication(session, county):
    _directories(session, county, n_ins=2)
    svc.declare_conflict(session, "NRB-01", county.mines[2], "配偶为该矿职工", date(2026, 11, 1))
    n = session.scalar(select(func.count(DrawRecord.id)))
    with pytest.raises(ValidationFailed, match="fewer eligible inspectors"):
        svc.publish_draw(session, "RECL", seed_source=SOURCE, seed_not_before=T0 + timedelta(hours=1), now=T0)
    assert session.scalar(select(func.count(DrawRecord.id))) == n


def test_redo_is_a_new_record(session, county):
    _directories(session, county)
    a = svc.publish_draw(session, "RECL", seed_source=SOURCE, seed_not_before=T0 + timedelta(hours=1), now=T0)
    with pytest.raises(ValidationFailed, match="reason"):
        svc.publish_draw(
            session,
            "RECL",
            seed_source=SOURCE,
            seed_not_before=T0 + timedelta(days=1),
            now=T0 + timedelta(hours=1),
            supersedes=a.code,
        )
    b = svc.publish_draw(
        session,
        "RECL",
        seed_source=SOURCE,
        seed_not_before=T0 + timedelta(days=1),
        now=T0 + timedelta(hours=1),
        supersedes=a.code,
        redo_reason="检查人员名录更新",
    )
    assert a.code != b.code and b.pool["supersedes"]["draw"] == a.code
    with pytest.raises(ValidationFailed, match="1× a year"):  # frequency: one draw a year unless a redo
        svc.publish_draw(
            session, "RECL", seed_source=SOURCE, seed_not_before=T0 + timedelta(days=2), now=T0 + timedelta(days=1)
        )
    assert svc.export_record(session, a.code)["superseded_by"] == [b.code]
    assert session.scalar(select(func.count(DrawRecord.id))) == 2


def test_results_deadline_problem_and_public_view(session, county):
    _directories(session, county)
    rec = svc.publish_draw(session, "RECL", seed_source=SOURCE, seed_not_before=T0 + timedelta(hours=1), now=T0)
    svc.enter_seed(
        session, rec.code, source=SOURCE, value="7", source_time=T0 + timedelta(hours=2), now=T0 + timedelta(hours=3)
    )
    svc.run_draw(session, rec.code, now=T0 + timedelta(hours=3))
    m0, m1 = county.mines[0], county.mines[1]
    r0 = svc.record_result(
        session,
        rec.code,
        m0,
        inspected=date(2026, 12, 3),
        outcome="problems",
        findings="复垦区植被成活率低于方案要求",
        public_summary="发现问题，已责令整改",
        problem_category="3",
    )
    svc.record_result(session, rec.code, m1, inspected=date(2026, 12, 3), outcome=InspectionOutcome.COMPLIANT)
    # 20 working days after Thu 2026-12-03 (no holiday in between): Thu 2026-12-31
    assert r0.publish_deadline == date(2026, 12, 31)
    again = svc.record_result(
        session,
        rec.code,
        m0,
        inspected=date(2026, 12, 3),
        outcome="problems",
        findings="复垦区植被成活率低于方案要求",
        problem_category="3",
    )
    assert again.problem_id == r0.problem_id
    assert session.scalar(select(func.count(Problem.id)).where(Problem.origin_key.like("inspection:%"))) == 1
    assert svc.public_results(session) == []
    assert len(svc.overdue_publications(session, date(2027, 1, 4))) == 2
    svc.publish_result(session, rec.code, m0, date(2026, 12, 10))
    pub = svc.public_results(session)
    assert [p["mine"] for p in pub] == [m0.licence_no] and "findings" not in pub[0]
    with pytest.raises(Conflict):
        svc.record_result(session, rec.code, m0, inspected=date(2026, 12, 3), outcome="compliant")
    with pytest.raises(ValidationFailed, match="not drawn"):
        other = county.mines[2]
        svc.set_object(session, other, "low", active=False)
        svc.record_result(
            session,
            "DR-2026-0001",
            type(other)(licence_no="X", name_zh="x"),
            inspected=date(2026, 12, 3),
            outcome="compliant",
        )


def test_public_sees_only_published_results_via_policy(session, county):
    from subsidence.access.policy import ANONYMOUS, Actor, visible
    from subsidence.vocabulary import Role

    _directories(session, county)
    with pytest.raises(Exception, match="may not|无权"):
        svc.publish_draw(
            session,
            "RECL",
            seed_source=SOURCE,
            seed_not_before=T0 + timedelta(hours=1),
            now=T0,
            actor=Actor("ent", Role.ENTERPRISE, enterprise_id=county.mines[0].enterprise_id),
        )
    rec = svc.publish_draw(
        session,
        "RECL",
        seed_source=SOURCE,
        seed_not_before=T0 + timedelta(hours=1),
        now=T0,
        actor=Actor("office", Role.OFFICE),
    )
    svc.enter_seed(
        session, rec.code, source=SOURCE, value="9", source_time=T0 + timedelta(hours=2), now=T0 + timedelta(hours=3)
    )
    svc.run_draw(session, rec.code, now=T0 + timedelta(hours=3))
    for m in county.mines:
        svc.record_result(session, rec.code, m, inspected=date(2026, 12, 3), outcome="compliant")
    svc.publish_result(session, rec.code, county.mines[0], date(2026, 12, 5))
    seen = session.scalars(visible(ANONYMOUS, "inspection_result")).all()
    assert [r.mine_id for r in seen] == [county.mines[0].id]
    assert len(session.scalars(visible(Actor("o", Role.OFFICE), "inspection_result")).all()) == 3


def test_records_are_append_only(session, county):
    from subsidence.tasks.models import DrawSeed

    _directories(session, county)
    rec = svc.publish_draw(session, "RECL", seed_source=SOURCE, seed_not_before=T0 + timedelta(hours=1), now=T0)
    svc.enter_seed(
        session, rec.code, source=SOURCE, value="9", source_time=T0 + timedelta(hours=2), now=T0 + timedelta(hours=3)
    )
    session.commit()
    rec.pool_sha256 = "0" * 64
    with pytest.raises(PermissionError, match="append-only"):
        session.flush()
    session.rollback()
    seed = session.scalar(select(DrawSeed))
    session.delete(seed)
    with pytest.raises(PermissionError, match="append-only"):
        session.flush()
    session.rollback()
