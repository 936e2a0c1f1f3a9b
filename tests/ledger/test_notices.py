"""Deadline notices: numbering without gaps under concurrency, content, PDF/DOCX, delivery, bad input."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from subsidence.db.session import make_sessionmaker
from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.ledger.evidence import record_acceptance
from subsidence.ledger.lifecycle import transition
from subsidence.ledger.models import NoticeCounter, Problem, RectificationNotice
from subsidence.ledger.notices import MilestoneInput, issue_notice, record_delivery
from subsidence.vocabulary import ProblemState
from tests.ledger.conftest import at, proof  # noqa: F401

S = ProblemState


def test_issue_notice_numbers_and_content(session, county):
    p1 = county.problem(session, title="一号塌陷坑未治理")
    p2 = county.problem(session, title="二号地裂缝未治理")
    n1 = issue_notice(
        session,
        p1,
        county.office,
        issued_date=at(session, date(2024, 9, 25)),
        workdays=10,
        milestones=[
            MilestoneInput("制定整改方案", workdays_before=7),
            MilestoneInput("完成充填平整", due_date=date(2024, 10, 10)),
        ],
    )
    n2 = issue_notice(session, p2, county.nrb, issued_date=at(session, date(2024, 9, 26)), deadline=date(2024, 12, 31))
    session.commit()
    assert n1.code == "伊自然资整改〔2024〕1号" and n2.code == "伊自然资整改〔2024〕2号"
    # 10 working days after Sep 25 across National Day: 26, 27, 29 (Sun), 30, Oct 8, 9, 10, 11, 12 (Sat), 14
    assert n1.deadline == date(2024, 10, 14)
    assert p1.state == S.NOTICE_ISSUED and p1.deadline == date(2024, 10, 14)
    ms = [(m.description, m.due_date) for m in p1.milestones]
    # 7 working days before Oct 14: 12 (Sat), 11, 10, 9, 8, Sep 30, Sep 29 (Sun)
    assert ms == [("制定整改方案", date(2024, 9, 29)), ("完成充填平整", date(2024, 10, 10))]
    assert n1.snapshot["mine"] == "示例一号煤矿" and "第二十条" in n1.legal_basis
    assert n1.snapshot["workdays"] == 10
    assert session.get(NoticeCounter, 2024).last_seq == 2
    # next year restarts
    p3 = county.problem(session, found=at(session, date(2025, 1, 6)))
    n3 = issue_notice(session, p3, county.office, issued_date=date(2025, 1, 6), workdays=30)
    assert n3.code.endswith("〔2025〕1号")


def test_notice_refused_cases_change_nothing(session, county):
    p = county.problem(session)
    session.commit()
    with pytest.raises(Forbidden):
        issue_notice(session, p, county.ent1, issued_date=date(2024, 9, 20), workdays=10)
    with pytest.raises(ValidationFailed, match="must be after"):
        issue_notice(session, p, county.office, issued_date=at(session, date(2024, 9, 20)), deadline=date(2024, 9, 20))
    with pytest.raises(ValidationFailed, match="exactly one"):
        issue_notice(session, p, county.office, issued_date=at(session, date(2024, 9, 20)))
    with pytest.raises(ValidationFailed, match="before the problem's found date"):
        issue_notice(session, p, county.office, issued_date=at(session, date(2024, 9, 1)), workdays=5)
    with pytest.raises(ValidationFailed, match="move the deadline"):
        issue_notice(
            session,
            p,
            county.office,
            issued_date=at(session, date(2024, 9, 20)),
            workdays=5,
            milestones=[MilestoneInput("方案", workdays_before=8)],
        )
    with pytest.raises(ValidationFailed, match="must fall after"):
        issue_notice(
            session,
            p,
            county.office,
            issued_date=at(session, date(2024, 9, 20)),
            workdays=5,
            milestones=[MilestoneInput("方案", due_date=date(2024, 12, 1))],
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RectificationNotice)) == 0
    assert session.get(NoticeCounter, 2024) is None
    assert session.get(Problem, p.id).state == S.FOUND


def test_notice_for_accepted_problem_refused(session, county):
    p = county.problem(session)
    transition(session, p, county.ent1, "fix_at_once", on=at(session, date(2024, 9, 13)))
    record_acceptance(
        session, p, county.office, passed=True, inspectors=["A", "B"], decided_date=at(session, date(2024, 9, 14))
    )
    session.commit()
    with pytest.raises(Conflict, match="accepted"):
        issue_notice(session, p, county.office, issued_date=date(2024, 9, 20), workdays=10)


def test_failed_issue_leaves_no_gap(engine, session, county):
    """A transaction that takes a number and then fails rolls the counter back: the next notice gets it."""
    p = county.problem(session)
    q = county.problem(session, title="另一问题")
    session.commit()
    Session = make_sessionmaker(engine)
    with Session() as s:
        prob = s.get(Problem, p.id)
        issue_notice(s, prob, county.office, issued_date=date(2024, 9, 20), workdays=10)
        s.rollback()  # e.g. the caller failed after issuing
    with Session() as s:
        n = issue_notice(s, s.get(Problem, q.id), county.office, issued_date=date(2024, 9, 20), workdays=10)
        s.commit()
        assert n.seq == 1


def _concurrent_issue(engine, problem_ids, county):
    Session = make_sessionmaker(engine)
    barrier = threading.Barrier(len(problem_ids))
    results, errors = [], []

    def work(pid):
        try:
            with Session() as s:
                s.info["actor"] = "test"
                barrier.wait(timeout=30)
                n = issue_notice(s, s.get(Problem, pid), county.office, issued_date=date(2024, 10, 8), workdays=15)
                s.commit()
                results.append(n.seq)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(pid,)) for pid in problem_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def test_concurrent_issuing_no_duplicate_no_gap(engine, session, county):
    ids = [county.problem(session, title=f"问题{i}").id for i in range(8)]
    session.commit()
    results, errors = _concurrent_issue(engine, ids, county)
    assert not errors, errors
    assert sorted(results) == list(range(1, 9))
    with make_sessionmaker(engine)() as s:
        codes = sorted(s.scalars(select(RectificationNotice.code)))
        assert len(set(codes)) == 8
        assert s.get(NoticeCounter, 2024).last_seq == 8


def test_concurrent_notices_for_same_problem_only_one_wins(engine, session, county):
    pid = county.problem(session).id
    session.commit()
    results, errors = _concurrent_issue(engine, [pid] * 4, county)
    assert len(results) == 1 and results == [1]
    assert len(errors) == 3 and all("Conflict" in e for e in errors)
    with make_sessionmaker(engine)() as s:
        assert s.get(NoticeCounter, 2024).last_seq == 1


def test_delivery(session, county):
    p = county.problem(session)
    n = issue_notice(session, p, county.office, issued_date=at(session, date(2024, 9, 20)), workdays=10)
    with pytest.raises(ValidationFailed, match="before the notice date"):
        record_delivery(
            session,
            n,
            county.office,
            delivered_date=at(session, date(2024, 9, 19)),
            method="in_person",
            receiving_role="矿长",
        )
    with pytest.raises(ValueError):
        record_delivery(
            session,
            n,
            county.office,
            delivered_date=at(session, date(2024, 9, 21)),
            method="pigeon",
            receiving_role="矿长",
        )
    with pytest.raises(Forbidden):
        record_delivery(
            session,
            n,
            county.ent1,
            delivered_date=at(session, date(2024, 9, 21)),
            method="in_person",
            receiving_role="矿长",
        )
    d = record_delivery(
        session,
        n,
        county.office,
        delivered_date=at(session, date(2024, 9, 23)),
        method="直接送达",
        receiving_role="矿长（安全环保部负责人代收）",
    )
    session.commit()
    assert d.method.value == "in_person" and n.deliveries == [d]


def test_delivery_date_is_the_servers(session, county):
    """A receipt is dated by the server; only the office records an earlier date, with a reason, not before
    the notice, never in the future; the correction shows in the record and the audit trail."""
    p = county.problem(session)
    n = issue_notice(session, p, county.office, issued_date=at(session, date(2024, 9, 20)), workdays=10)
    at(session, date(2024, 9, 25))
    lead = county.nrb  # the lead unit (NRB) may record deliveries, dated today only
    with pytest.raises(Forbidden, match="only the office may record an earlier date"):
        record_delivery(session, n, lead, delivered_date=date(2024, 9, 23), method="in_person", receiving_role="矿长")
    with pytest.raises(ValidationFailed, match="needs a reason"):
        record_delivery(
            session, n, county.office, delivered_date=date(2024, 9, 23), method="in_person", receiving_role="矿长"
        )
    with pytest.raises(ValidationFailed, match="in the future"):
        record_delivery(
            session,
            n,
            county.office,
            delivered_date=date(2024, 9, 26),
            method="in_person",
            receiving_role="矿长",
            date_reason="x",
        )
    today = record_delivery(session, n, lead, method="post", receiving_role="矿长")
    assert today.delivered_date == date(2024, 9, 25)
    late = record_delivery(
        session,
        n,
        county.office,
        delivered_date=date(2024, 9, 23),
        method="in_person",
        receiving_role="安全科",
        date_reason="送达回证9月23日签收，9月25日补录",
    )
    session.commit()
    assert late.delivered_date == date(2024, 9, 23) and "补录送达日期" in late.note and "9月23日签收" in late.note


@pytest.fixture
def issued(session, county):
    p = county.problem(session, title="采空区地面塌陷坑、地裂缝未按方案治理")
    n = issue_notice(
        session,
        p,
        county.office,
        issued_date=at(session, date(2024, 9, 25)),
        workdays=30,
        milestones=[
            MilestoneInput("制定整改方案并报备", workdays_before=20),
            MilestoneInput("完成裂缝充填和土地平整", workdays_before=5),
        ],
    )
    record_delivery(
        session,
        n,
        county.office,
        delivered_date=at(session, date(2024, 9, 26)),
        method="in_person",
        receiving_role="矿长",
    )
    session.commit()
    return n


def test_notice_pdf_chinese_text_and_embedded_font(issued, tmp_path, artifacts_dir):
    pytest.importorskip("weasyprint")
    from subsidence.reports.notice import notice_pdf

    out = tmp_path / "notice.pdf"
    data = notice_pdf(issued, out)
    shutil.copy(out, artifacts_dir / "ledger_notice.pdf")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    flat = text.replace(" ", "").replace("\n", "")
    for needle in [
        "限期整改通知书",
        "伊自然资整改〔2024〕1号",
        "示例一号煤矿",
        "土地复垦条例",
        "第二十条",
        "制定整改方案并报备",
        "2024年11月11日",
        "送达回证",
        "矿长",
    ]:
        assert needle in flat, needle
    assert "\ufffd" not in text and "□" not in text
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
        rows = [r for r in fonts.splitlines()[2:] if r.strip()]
        assert rows and any("CJK" in r or "Noto" in r for r in rows), fonts
        assert all(r.split()[-5] == "yes" for r in rows), f"every font embedded:\n{fonts}"
    if shutil.which("pdftotext"):
        txt = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "限期整改通知书" in txt.replace(" ", "")
    # regenerates with identical text
    again = notice_pdf(issued)
    assert [p.extract_text() for p in PdfReader(io.BytesIO(again)).pages] == [
        p.extract_text() for p in PdfReader(io.BytesIO(data)).pages
    ]


def test_notice_docx(issued, tmp_path, artifacts_dir):
    from docx import Document

    from subsidence.reports.notice import notice_docx

    data = notice_docx(issued, tmp_path / "n.docx")
    (artifacts_dir / "ledger_notice.docx").write_bytes(data)
    assert notice_docx(issued) == data, "byte-identical regeneration"
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "限期整改通知书" in text and "伊自然资整改〔2024〕1号" in text
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "制定整改方案并报备" in cells and "直接送达" in cells
    xml = doc.styles.element.xml
    assert 'w:eastAsia="仿宋_GB2312"' in xml


def test_authority_name_has_one_banner_prefix(session, county):
    from subsidence.core.models import AdminArea
    from subsidence.ledger.notices import authority_name
    from subsidence.vocabulary import AreaLevel

    session.add(AdminArea(code="B-TEST", name_zh="伊金霍洛旗", level=AreaLevel.BANNER))
    session.flush()
    nrb = county.units["NRB"]
    nrb.name_zh = "旗自然资源局"
    assert authority_name(session, nrb) == "伊金霍洛旗自然资源局"
    nrb.name_zh = "自然资源局"
    assert authority_name(session, nrb) == "伊金霍洛旗自然资源局"
    nrb.name_zh = "伊金霍洛旗自然资源局"
    assert authority_name(session, nrb) == "伊金霍洛旗自然资源局"
