"""Evidence: type sniffed from content, size limit, content-addressed storage, location; acceptance records."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.ledger.evidence import attach_evidence, record_acceptance, sniff
from subsidence.ledger.lifecycle import transition
from subsidence.ledger.models import AcceptanceRecord, Evidence
from subsidence.ledger.notices import issue_notice
from subsidence.settings import get_settings
from tests.ledger.conftest import at, proof  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _ooxml(main: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(main, "<x/>")
    return buf.getvalue()


def test_sniff_by_content():
    assert sniff(PNG).name == "png" and sniff(JPEG).name == "jpeg" and sniff(PDF).name == "pdf"
    assert sniff(_ooxml("word/document.xml")).name == "docx"
    assert sniff(_ooxml("xl/workbook.xml")).name == "xlsx"
    assert sniff(b"hello") is None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    assert sniff(buf.getvalue()) is None


@pytest.fixture
def rectifying(session, county):
    p = county.problem(session)
    issue_notice(session, p, county.office, issued_date=at(session, date(2024, 9, 20)), workdays=20)
    transition(session, p, county.ent1, "start", on=at(session, date(2024, 9, 23)))
    session.commit()
    return p


def test_attach_and_store(session, county, rectifying):
    taken = datetime(2024, 10, 9, 10, 30, tzinfo=timezone(timedelta(hours=8)))
    ev = attach_evidence(
        session,
        rectifying,
        county.ent1,
        data=PNG,
        filename="整改后.png",
        taken_at=taken,
        lon=109.75,
        lat=39.56,
        note="充填后照片",
    )
    session.commit()
    path = get_settings().data_dir / ev.storage_path
    assert path.read_bytes() == PNG
    assert ev.storage_path == f"evidence/{ev.sha256[:2]}/{ev.sha256[2:4]}/{ev.sha256}.png"
    assert not os.access(path, os.W_OK) or os.geteuid() == 0  # stored read-only
    assert ev.media_type == "image/png" and ev.kind == "photo" and ev.size_bytes == len(PNG)
    # the point is in the storage CRS (metres, CGCS2000 GK CM111E): 1.25° west of 111E ≈ 107 km -> x ≈ 393 km
    loaded = session.get(Evidence, ev.id)
    assert 385_000 < loaded.location.x < 400_000 and 4_370_000 < loaded.location.y < 4_400_000
    assert loaded.taken_at == taken
    # same bytes on another problem: same blob, not rewritten
    mtime = path.stat().st_mtime_ns
    q = county.problem(session, title="第二个问题")
    ev2 = attach_evidence(session, q, county.office, data=PNG, filename="copy.png")
    assert ev2.storage_path == ev.storage_path and path.stat().st_mtime_ns == mtime
    with pytest.raises(Conflict, match="already attached"):
        attach_evidence(session, rectifying, county.ent1, data=PNG, filename="again.png")


@pytest.mark.parametrize(
    ("data", "name", "claimed", "match"),
    [
        (PNG, "report.pdf", None, "claims to be PDF but its content is PNG"),
        (PDF, "photo.jpg", None, "claims to be JPEG but its content is PDF"),
        (JPEG, "scan", "application/pdf", "claims to be PDF"),
        (b"GIF89a" + bytes(20), "x.gif", None, "GIF/BMP"),
        (b"\xd0\xcf\x11\xe0" + bytes(20), "old.doc", None, "old binary Office"),
        (b"", "empty.png", None, "empty"),
    ],
)
def test_bad_files_refused(session, county, rectifying, data, name, claimed, match):
    with pytest.raises(ValidationFailed, match=match):
        attach_evidence(session, rectifying, county.ent1, data=data, filename=name, claimed_type=claimed)
    assert session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert not (get_settings().data_dir / "evidence").exists()


def test_size_limit_and_permissions(session, county, rectifying):
    with pytest.raises(ValidationFailed, match="limit"):
        attach_evidence(session, rectifying, county.ent1, data=PDF + bytes(2000), filename="big.pdf", max_bytes=1000)
    with pytest.raises(Forbidden):
        attach_evidence(session, rectifying, county.ent2, data=PDF, filename="a.pdf")
    with pytest.raises(ValidationFailed, match="time zone"):
        attach_evidence(session, rectifying, county.ent1, data=PDF, filename="a.pdf", taken_at=datetime(2024, 10, 9))
    with pytest.raises(ValidationFailed, match="both longitude"):
        attach_evidence(session, rectifying, county.ent1, data=PDF, filename="a.pdf", lon=109.7)


def test_acceptance_records(session, county, rectifying):
    at(session, date(2024, 10, 15))
    proof(session, rectifying, county.ent1)
    transition(session, rectifying, county.ent1, "submit")
    with pytest.raises(ValidationFailed, match="at least 2"):
        record_acceptance(
            session,
            rectifying,
            county.office,
            passed=True,
            inspectors=["甲", "甲"],
            decided_date=at(session, date(2024, 10, 20)),
        )
    with pytest.raises(ValidationFailed, match="reason"):
        record_acceptance(
            session,
            rectifying,
            county.office,
            passed=False,
            inspectors=["甲", "乙"],
            decided_date=at(session, date(2024, 10, 20)),
        )
    with pytest.raises(Forbidden):
        record_acceptance(
            session,
            rectifying,
            county.nrb,
            passed=True,
            inspectors=["甲", "乙"],
            decided_date=at(session, date(2024, 10, 20)),
        )
    rec = record_acceptance(
        session,
        rectifying,
        county.office,
        passed=False,
        inspectors=["检查员甲", "专家乙"],
        reasons="植被成活率不足85%",
        decided_date=at(session, date(2024, 10, 20)),
    )
    session.commit()
    assert rec.result.value == "returned" and rec.within_window is True
    assert rectifying.state.value == "returned"
    assert session.scalar(select(func.count()).select_from(AcceptanceRecord)) == 1
