"""The rectification workflow: extensions, milestones with evidence, escalation output
(督办通知 + outbox message), evidence required, EXIF-flagged photos, acceptance / 销号 data, server-side dates."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.gate.watch import run_deadline_watch
from subsidence.ledger.escalation import supervision_data
from subsidence.ledger.evidence import acceptance_data, attach_evidence, record_acceptance
from subsidence.ledger.extensions import decide_extension, request_extension
from subsidence.ledger.lifecycle import history, transition
from subsidence.ledger.milestones import complete_milestone
from subsidence.ledger.models import DeadlineExtension, Escalation
from subsidence.ledger.notices import MilestoneInput, issue_notice
from subsidence.monitoring.models import OutboxMessage
from tests.ledger.conftest import at, proof


@pytest.fixture
def noticed(session, county):
    """A problem with a notice issued 2024-09-20, deadline 2024-10-31, two milestones."""
    p = county.problem(session, title="采空区塌陷坑未治理")
    issue_notice(
        session,
        p,
        county.office,
        issued_date=at(session, date(2024, 9, 20)),
        deadline=date(2024, 10, 31),
        milestones=[
            MilestoneInput("制定整改方案", due_date=date(2024, 9, 30)),
            MilestoneInput("完成充填平整", due_date=date(2024, 10, 25)),
        ],
    )
    return p


def _photo(lon: float | None, lat: float | None, taken: str | None) -> bytes:
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    def dms(v: float):
        d = int(v)
        m = int((v - d) * 60)
        s = round(((v - d) * 60 - m) * 60 * 100)
        return (IFDRational(d), IFDRational(m), IFDRational(s, 100))

    ex = Image.Exif()
    if taken:
        ex.get_ifd(0x8769)[36867] = taken
    if lon is not None:
        ex[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 80)).save(buf, "JPEG", exif=ex)
    return buf.getvalue()


def test_extension_limited_recorded_and_used(session, county, noticed):
    p = noticed
    at(session, date(2024, 10, 20))
    with pytest.raises(Forbidden):
        request_extension(session, p, county.ent2, requested_deadline=date(2024, 11, 15), reason="x")
    with pytest.raises(ValidationFailed, match="needs a reason"):
        request_extension(session, p, county.ent1, requested_deadline=date(2024, 11, 15), reason=" ")
    with pytest.raises(ValidationFailed, match="30 个工作日|by 2024-12-12"):
        request_extension(session, p, county.ent1, requested_deadline=date(2025, 1, 31), reason="工期不足")
    x = request_extension(session, p, county.ent1, requested_deadline=date(2024, 11, 29), reason="雨季影响施工")
    assert x.state == "pending" and x.requested_date == date(2024, 10, 20) and x.previous_deadline == date(2024, 10, 31)
    with pytest.raises(Conflict, match="open extension"):
        request_extension(session, p, county.ent1, requested_deadline=date(2024, 11, 20), reason="again")
    with pytest.raises(Forbidden):
        decide_extension(session, x, county.ent1, approve=True, reason="自己批准")
    at(session, date(2024, 10, 22))
    with pytest.raises(ValidationFailed, match="not later than the requested"):
        decide_extension(session, x, county.nrb, approve=True, reason="同意", granted_deadline=date(2024, 12, 6))
    decide_extension(
        session, x, county.nrb, approve=True, reason="情况属实，同意延期", granted_deadline=date(2024, 11, 22)
    )
    session.commit()
    assert p.deadline == date(2024, 11, 22)
    assert (x.state, x.decided_by, x.decided_date) == ("approved", "department:nrb1", date(2024, 10, 22))
    with pytest.raises(Conflict, match="at most 1"):
        request_extension(session, p, county.ent1, requested_deadline=date(2024, 11, 29), reason="再次延期")
    # the overdue query and the watch use the extended deadline
    assert run_deadline_watch(session, date(2024, 11, 4))["overdue"] == []
    assert [o["code"] for o in run_deadline_watch(session, date(2024, 11, 25))["overdue"]] == [p.code]


def test_undecided_extension_request_is_escalated(session, county, noticed):
    for m in noticed.milestones:
        at(session, date(2024, 9, 27))
        complete_milestone(session, noticed, county.ent1, m.seq, evidence_ids=[proof(session, noticed, county.ent1).id])
    at(session, date(2024, 10, 24))
    request_extension(session, noticed, county.ent1, requested_deadline=date(2024, 11, 20), reason="设备故障")
    assert run_deadline_watch(session, date(2024, 10, 31))["escalated"] == []  # 5 working days: Oct 31
    (e,) = run_deadline_watch(session, date(2024, 11, 1))["escalated"]
    assert (e["kind"], e["unit"], e["deadline"]) == ("extension", "NRB", "2024-10-31")
    assert "延期申请" in supervision_data(session, e["id"])["requirement"]


def test_extension_only_before_the_deadline_and_rejection_changes_nothing(session, county, noticed):
    p = noticed
    at(session, date(2024, 10, 30))
    x = request_extension(session, p, county.ent1, requested_deadline=date(2024, 11, 8), reason="设备故障")
    decide_extension(session, x, county.office, approve=False, reason="理由不充分")
    assert p.deadline == date(2024, 10, 31) and x.granted_deadline is None
    at(session, date(2024, 11, 1))
    with pytest.raises(Conflict, match="has passed"):
        request_extension(session, p, county.ent1, requested_deadline=date(2024, 11, 8), reason="再申请")
    assert session.scalar(select(func.count()).select_from(DeadlineExtension)) == 1


def test_milestone_needs_evidence_and_overdue_one_is_escalated(session, county, noticed):
    p = noticed
    at(session, date(2024, 9, 29))
    with pytest.raises(ValidationFailed, match="needs evidence"):
        complete_milestone(session, p, county.ent1, 1, evidence_ids=[])
    ev = proof(session, p, county.ent1, "整改方案.pdf")
    with pytest.raises(ValidationFailed, match="not attached"):
        complete_milestone(session, p, county.ent1, 1, evidence_ids=[ev.id + 999])
    m1 = complete_milestone(session, p, county.ent1, 1, evidence_ids=[ev.id])
    assert m1.done_date == date(2024, 9, 29) and m1.evidence_ids == [ev.id] and m1.completed_by == "enterprise:ent1"
    with pytest.raises(Conflict, match="already completed"):
        complete_milestone(session, p, county.ent1, 1, evidence_ids=[ev.id])
    # milestone 2 (due 10-25) not done: one working day later it goes to the lead unit, with a 督办通知
    assert run_deadline_watch(session, date(2024, 10, 25))["escalated"] == []
    out = run_deadline_watch(session, date(2024, 10, 28))
    assert [m["seq"] for m in out["milestones_overdue"]] == [2]
    (e,) = out["escalated"]
    assert (e["kind"], e["level"], e["unit"]) == ("milestone", "lead_unit", "NRB")
    esc = session.get(Escalation, e["id"])
    assert esc.subject == "milestone:2" and esc.deadline == date(2024, 10, 25) and esc.code == "伊采沉办督〔2024〕1号"
    data = supervision_data(session, esc.id)
    assert data["milestone"] == {"seq": 2, "description": "完成充填平整", "due_date": "2024-10-25"}
    assert data["recipient_unit"] == "NRB" and data["kind_zh"] == "时间节点逾期督办" and data["reply_due"]
    assert run_deadline_watch(session, date(2024, 10, 29))["escalated"] == []  # once


def test_escalation_produces_a_numbered_notice_and_an_outbox_message(session, county, noticed):
    p = noticed
    for m in p.milestones:  # milestones done, so only the deadline escalates
        at(session, date(2024, 9, 28))
        complete_milestone(session, p, county.ent1, m.seq, evidence_ids=[proof(session, p, county.ent1).id])
    first = run_deadline_watch(session, date(2024, 11, 1))["escalated"]
    later = run_deadline_watch(session, date(2024, 11, 15))["escalated"]
    session.commit()
    assert [(e["kind"], e["level"], e["unit"]) for e in first] == [("deadline", "lead_unit", "NRB")]
    assert [(e["kind"], e["level"], e["unit"]) for e in later] == [("deadline", "office", "LGO")]
    msgs = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.idempotency_key for m in msgs] == [e["outbox_key"] for e in first + later]
    assert msgs[0].recipient == "unit:NRB" and msgs[0].state == "pending" and msgs[0].channel == "log"
    assert first[0]["code"] in msgs[0].subject and p.code in msgs[0].body and "2024-10-31" in msgs[0].body
    data = supervision_data(session, first[0]["id"])
    assert data["deadline"] == "2024-10-31" and data["deadline_set_by"]["kind"] == "notice"
    assert data["problem"] == p.code and data["mine"] == "示例一号煤矿" and data["workdays_overdue"] == 1
    assert data["issuer"].endswith("办公室") and not supervision_data(session, later[0]["id"])["issuer"].endswith(
        "办公室"
    )


def test_office_acceptance_window_is_escalated_to_the_office(session, county, noticed):
    p = noticed
    at(session, date(2024, 9, 23))
    transition(session, p, county.ent1, "start")
    for m in p.milestones:
        complete_milestone(session, p, county.ent1, m.seq, evidence_ids=[proof(session, p, county.ent1).id])
    transition(session, p, county.ent1, "submit")
    assert p.acceptance_due == date(2024, 12, 19)  # 60 working days after 2024-09-23
    assert run_deadline_watch(session, date(2024, 12, 19))["escalated"] == []
    out = run_deadline_watch(session, date(2024, 12, 20))
    assert [(e["kind"], e["unit"]) for e in out["escalated"]] == [("acceptance", "LGO")]
    assert [a["code"] for a in out["acceptance_overdue"]] == [p.code] and out["overdue"] == []


def test_submission_requires_evidence_and_completed_milestones(session, county, noticed):
    p = noticed
    at(session, date(2024, 9, 23))
    transition(session, p, county.ent1, "start")
    with pytest.raises(ValidationFailed, match="needs evidence"):
        transition(session, p, county.ent1, "submit")
    ev = proof(session, p, county.ent1)
    with pytest.raises(ValidationFailed, match="milestones not completed: 1, 2"):
        transition(session, p, county.ent1, "submit")
    for m in p.milestones:
        complete_milestone(session, p, county.ent1, m.seq, evidence_ids=[ev.id])
    transition(session, p, county.ent1, "submit")
    record_acceptance(session, p, county.office, passed=False, inspectors=["甲", "乙"], reasons="未完全充填")
    transition(session, p, county.ent1, "resume")
    with pytest.raises(ValidationFailed, match="since the last return"):
        transition(session, p, county.ent1, "submit")  # the old evidence does not show the new work


def test_photo_exif_flags_and_acceptance_record(session, county, noticed):
    from shapely.geometry import Point

    from subsidence.geo import STORAGE_CRS, transform_geometry

    p = noticed
    p.geometry = transform_geometry(Point(109.75, 39.56), "EPSG:4490", STORAGE_CRS).buffer(50)
    at(session, date(2024, 9, 23))
    transition(session, p, county.ent1, "start")
    good = attach_evidence(
        session, p, county.ent1, data=_photo(109.7502, 39.5601, "2024:10:09 10:30:00"), filename="整改后.jpg"
    )
    assert good.flags is None and good.exif["lat"] == pytest.approx(39.5601, abs=1e-5)
    assert good.taken_at.isoformat() == "2024-10-09T10:30:00+08:00" and good.location is not None
    far = attach_evidence(
        session, p, county.ent1, data=_photo(109.80, 39.56, "2024:10:09 11:00:00"), filename="远处.jpg"
    )
    old = attach_evidence(
        session, p, county.ent1, data=_photo(109.7501, 39.5600, "2024:09:01 09:00:00"), filename="旧照片.jpg"
    )
    bare = attach_evidence(session, p, county.ent1, data=_photo(None, None, None), filename="无信息.jpg")
    assert [f["code"] for f in far.flags] == ["far_from_problem"] and far.flags[0]["distance_m"] > 4000
    assert [f["code"] for f in old.flags] == ["taken_before_found"]
    assert [f["code"] for f in bare.flags] == ["no_exif"] and bare.flags[0]["level"] == "info"
    for m in p.milestones:
        complete_milestone(session, p, county.ent1, m.seq, evidence_ids=[good.id])
    at(session, date(2024, 10, 15))
    transition(session, p, county.ent1, "submit")
    at(session, date(2024, 10, 20))
    with pytest.raises(ValidationFailed, match="flag-note"):
        record_acceptance(session, p, county.office, passed=True, inspectors=["检查员甲", "检查员乙"])
    rec = record_acceptance(
        session,
        p,
        county.office,
        passed=True,
        inspectors=["检查员甲", "检查员乙"],
        flag_note="远处照片为取土场，旧照片为整改前对比照，现场核实无误",
    )
    session.commit()
    data = acceptance_data(session, rec.id)
    assert data["code"] == f"验收-{p.code}-1" and data["closed"] and data["closed_date"] == "2024-10-20"
    assert data["notice"]["code"] == "伊自然资整改〔2024〕1号" and data["within_window"] is True
    assert data["flag_note"].startswith("远处照片") and data["submitted_date"] == "2024-10-15"
    assert {e["filename"]: [f["code"] for f in e["flags"]] for e in data["evidence"]}["远处.jpg"] == [
        "far_from_problem"
    ]
    assert [m["evidence"] for m in data["milestones"]] == [[good.id], [good.id]]
    assert data["inspectors"] == ["检查员甲", "检查员乙"] and data["enterprise"] == "示例一号煤业有限公司"


def test_dates_are_the_servers_only_the_office_backdates(session, county, noticed):
    p = noticed
    at(session, date(2024, 9, 25))
    with pytest.raises(Forbidden, match="only the office may record an earlier date"):
        transition(session, p, county.ent1, "start", on=date(2024, 9, 23))
    with pytest.raises(Forbidden, match="only the office"):
        transition(session, p, county.nrb, "start", on=date(2024, 9, 23))  # the lead unit neither
    with pytest.raises(ValidationFailed, match="in the future"):
        transition(session, p, county.office, "start", on=date(2024, 9, 26), date_reason="x")
    with pytest.raises(ValidationFailed, match="needs a reason"):
        transition(session, p, county.office, "start", on=date(2024, 9, 23))
    with pytest.raises(ValidationFailed, match="before the previous step"):
        transition(session, p, county.office, "start", on=date(2024, 9, 19), date_reason="补录")
    transition(session, p, county.office, "start", on=date(2024, 9, 23), date_reason="企业9月23日开工，纸质报告补录")
    ev = proof(session, p, county.ent1)
    at(session, date(2024, 10, 8))
    for m in p.milestones:
        complete_milestone(session, p, county.ent1, m.seq, evidence_ids=[ev.id])
    transition(session, p, county.ent1, "submit")
    session.commit()
    assert p.submitted_date == date(2024, 10, 8)
    h = history(session, p)
    start, submit = h[1], h[2]
    assert start["on"] == "2024-09-23" and start["recorded_on"] == "2024-09-25" and start["date_corrected"]
    assert start["date_reason"].startswith("企业9月23日开工")
    assert submit["on"] == submit["recorded_on"] == "2024-10-08" and not submit["date_corrected"]
