"""Evidence of rectification (photos, documents) and the office's acceptance decisions (验收).

Files are judged by their bytes (magic numbers), not their names: a ``.pdf`` that is really a PNG is
refused, naming both. They are stored content-addressed under ``settings.data_dir/evidence/ab/cd/<sha256>.<ext>``
and never overwritten (the same bytes map to the same path; an existing file is verified, not replaced).
Location (lon/lat, CGCS2000 ≈ WGS84 at this scale) is stored as a point in the storage CRS.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor
from subsidence.db.audit import acting_as
from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.ledger.lifecycle import Party, apply_transition, check_transition, parties_of, today_local
from subsidence.ledger.models import AcceptanceRecord, Evidence, Problem
from subsidence.vocabulary import CLOSED_STATES, AcceptanceResult, ProblemState

log = logging.getLogger(__name__)

#: largest accepted file, bytes (photos from phones are 3–12 MB; scanned PDFs a bit more)
MAX_EVIDENCE_BYTES = 25 * 1024 * 1024
#: inspectors that must be present at an acceptance (two-person rule of administrative inspection)
MIN_INSPECTORS = 2


@dataclass(frozen=True)
class FileType:
    name: str  #: short name: jpeg, png, pdf, docx, xlsx
    media_type: str
    ext: str
    kind: str  #: photo or document
    label_zh: str


TYPES = {
    "jpeg": FileType("jpeg", "image/jpeg", ".jpg", "photo", "JPEG照片"),
    "png": FileType("png", "image/png", ".png", "photo", "PNG图片"),
    "pdf": FileType("pdf", "application/pdf", ".pdf", "document", "PDF文档"),
    "docx": FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx",
                     "document", "Word文档"),
    "xlsx": FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx",
                     "document", "Excel表格"),
}
_EXT_CLAIMS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}


def sniff(data: bytes) -> FileType | None:
    """The file type from the content (JPEG/PNG/PDF/DOCX/XLSX), or None when it is none of those."""
    if data[:3] == b"\xff\xd8\xff":
        return TYPES["jpeg"]
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return TYPES["png"]
    if data[:5] == b"%PDF-":
        return TYPES["pdf"]
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return TYPES["docx"]
            if "xl/workbook.xml" in names:
                return TYPES["xlsx"]
    return None


def _describe(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "a ZIP archive that is not a Word/Excel file"
    if data[:4] == b"\xd0\xcf\x11\xe0":
        return "an old binary Office file (.doc/.xls): save it as .docx/.xlsx"
    if data[:4] in (b"GIF8",) or data[:2] == b"BM":
        return "a GIF/BMP image: save it as JPEG or PNG"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "a HEIC photo: export it as JPEG"
    return "none of JPEG, PNG, PDF, DOCX, XLSX"


def evidence_root() -> Path:
    from subsidence.settings import get_settings

    return Path(get_settings().data_dir) / "evidence"


def store_blob(data: bytes, ftype: FileType, root: Path | None = None) -> tuple[str, str]:
    """Write ``data`` content-addressed (never overwriting); returns (sha256, path relative to data_dir)."""
    root = root or evidence_root()
    digest = hashlib.sha256(data).hexdigest()
    rel = Path("evidence") / digest[:2] / digest[2:4] / f"{digest}{ftype.ext}"
    path = root.parent / rel
    if path.exists():
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise Conflict(f"stored evidence {path} does not match its hash: the store is damaged; restore it "
                           "from backup (it is never overwritten)")
        return digest, rel.as_posix()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails instead of overwriting if another writer won
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    os.chmod(path, 0o444)
    return digest, rel.as_posix()


def attach_evidence(session: Session, problem: Problem, actor: Actor, *, data: bytes, filename: str,
                    claimed_type: str | None = None, taken_at: datetime | None = None,
                    lon: float | None = None, lat: float | None = None, note: str | None = None,
                    max_bytes: int = MAX_EVIDENCE_BYTES) -> Evidence:
    """Attach a photo or document to an open problem (its enterprise, lead unit or the office may).

    ``claimed_type`` (``jpeg``/``png``/``pdf``/``docx``/``xlsx`` or a media type) defaults to what the
    file name's extension claims; the content must agree.
    """
    if not (parties_of(problem, actor) & {Party.OFFICE, Party.LEAD_UNIT, Party.ENTERPRISE}):
        raise Forbidden(f"{actor.audit_name} may not attach evidence to {problem.code} (only its enterprise, "
                        "its lead unit or the office)")
    if problem.state in CLOSED_STATES:
        raise Conflict(f"problem {problem.code} is {problem.state.value}: evidence can no longer be attached")
    if not data:
        raise ValidationFailed(f"file {filename!r} is empty")
    if len(data) > max_bytes:
        raise ValidationFailed(f"file {filename!r} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB "
                               "(reduce the photo resolution or split the document)")
    actual = sniff(data)
    if actual is None:
        raise ValidationFailed(f"file {filename!r} is {_describe(data)}; evidence must be JPEG, PNG, PDF, DOCX or XLSX")
    claim = (claimed_type or _EXT_CLAIMS.get(Path(filename).suffix.lower(), "")).lower()
    claim = next((k for k, t in TYPES.items() if claim in (k, t.media_type)), claim)
    if claim and claim != actual.name:
        raise ValidationFailed(f"file {filename!r} claims to be {claim.upper()} but its content is "
                               f"{actual.name.upper()}: rename it to {Path(filename).stem}{actual.ext} or upload "
                               "the right file")
    if taken_at is not None and taken_at.tzinfo is None:
        raise ValidationFailed("taken_at needs a time zone (e.g. 2024-10-09T10:30+08:00)")
    point = None
    if (lon is None) != (lat is None):
        raise ValidationFailed("give both longitude and latitude, or neither")
    if lon is not None:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationFailed(f"location ({lon}, {lat}) is not a longitude/latitude pair")
        from shapely.geometry import Point

        from subsidence.geo import STORAGE_CRS, transform_geometry

        point = transform_geometry(Point(lon, lat), "EPSG:4490", STORAGE_CRS)
    existing = session.scalar(select(Evidence).where(Evidence.problem_id == problem.id,
                                                     Evidence.sha256 == hashlib.sha256(data).hexdigest()))
    if existing is not None:
        raise Conflict(f"this file is already attached to {problem.code} as evidence #{existing.id} ({existing.filename})")
    digest, rel = store_blob(data, actual)
    with acting_as(session, actor.audit_name, f"上传佐证材料 {filename}"):
        ev = Evidence(problem_id=problem.id, sha256=digest, media_type=actual.media_type, kind=actual.kind,
                      size_bytes=len(data), filename=Path(filename).name[:255], storage_path=rel,
                      uploaded_by=actor.audit_name, taken_at=taken_at, location=point, note=note)
        session.add(ev)
        session.flush()
    return ev


def evidence_of(session: Session, problem: Problem) -> list[Evidence]:
    return list(session.scalars(select(Evidence).where(Evidence.problem_id == problem.id).order_by(Evidence.id)))


def record_acceptance(session: Session, problem: Problem, actor: Actor, *, passed: bool,
                      inspectors: Sequence[str], reasons: str | None = None, decided_date: date | None = None,
                      site_visit: bool = True) -> AcceptanceRecord:
    """The office's acceptance decision: pass (→ accepted, closed) or return with reasons (→ returned)."""
    decided_date = decided_date or today_local()
    name = "accept" if passed else "return"
    check_transition(problem, actor, name, reasons)
    people = [i.strip() for i in inspectors if i and i.strip()]
    if len(set(people)) < MIN_INSPECTORS:
        raise ValidationFailed(f"验收须至少{MIN_INSPECTORS}名检查人员在场 / an acceptance needs at least "
                               f"{MIN_INSPECTORS} different inspectors present (--inspector, repeat it)")
    since = problem.submitted_date or problem.found_date
    if decided_date < since:
        raise ValidationFailed(f"acceptance date {decided_date} is before the submission/found date {since}")
    within = None
    if problem.state == ProblemState.SUBMITTED and problem.acceptance_due is not None:
        within = decided_date <= problem.acceptance_due
    reason = reasons.strip() if reasons else None
    with acting_as(session, actor.audit_name, reason or "验收通过"):
        rec = AcceptanceRecord(problem_id=problem.id, decided_date=decided_date,
                               result=AcceptanceResult.PASSED if passed else AcceptanceResult.RETURNED,
                               reasons=reason, inspectors=people, site_visit=site_visit,
                               decided_by=actor.audit_name, within_window=within)
        session.add(rec)
        session.flush()
        apply_transition(session, problem, actor, name, on=decided_date, reason=reason,
                         extra={"acceptance_record": rec.id, "inspectors": people})
    return rec


def acceptances_of(session: Session, problem: Problem) -> list[AcceptanceRecord]:
    return list(session.scalars(select(AcceptanceRecord).where(AcceptanceRecord.problem_id == problem.id)
                                .order_by(AcceptanceRecord.id)))
