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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.access.policy import Actor
from subsidence.db.audit import acting_as
from subsidence.errors import Conflict, Forbidden, ValidationFailed
from subsidence.ledger.lifecycle import (
    Party,
    apply_transition,
    check_transition,
    parties_of,
)
from subsidence.ledger.models import AcceptanceRecord, Evidence, Problem
from subsidence.vocabulary import CLOSED_STATES, AcceptanceResult, ProblemState

log = logging.getLogger(__name__)

#: largest accepted file, bytes (photos from phones are 3–12 MB; scanned PDFs a bit more)
MAX_EVIDENCE_BYTES = 25 * 1024 * 1024
#: inspectors that must be present at an acceptance (two-person rule of administrative inspection)
MIN_INSPECTORS = 2
#: a photo whose EXIF position is farther than this from the problem's location (or its mine's licence
#: area) is flagged to the inspector, metres. Unverified default: phone GPS is good to ~10–50 m, a site
#: (fill area, crack zone) spans a few hundred metres; settle with the office's field practice.
EXIF_MAX_DISTANCE_M = 500.0


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
    "docx": FileType(
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
        "document",
        "Word文档",
    ),
    "xlsx": FileType(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", "document", "Excel表格"
    ),
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
            raise Conflict(
                f"stored evidence {path} does not match its hash: the store is damaged; restore it "
                "from backup (it is never overwritten)"
            )
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


def read_exif(data: bytes) -> dict:
    """Time and GPS position from a photo's EXIF (Pillow): ``{"taken_at": ISO|None, "lon": float|None,
    "lat": float|None}``; an empty dict when the file has no readable EXIF. A time without an offset is
    taken in the configured time zone (phones write local time)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a pinned dependency
        return {}
    try:
        with Image.open(io.BytesIO(data)) as img:
            exif = img.getexif()
    except Exception:  # noqa: BLE001 - an unreadable image simply has no EXIF to judge
        return {}
    if not exif:
        return {}
    out: dict = {"taken_at": None, "lon": None, "lat": None}
    sub = exif.get_ifd(0x8769)
    stamp = sub.get(36867) or exif.get(0x0132)  # DateTimeOriginal, else DateTime
    offset = sub.get(36881)  # OffsetTimeOriginal, e.g. "+08:00"
    if isinstance(stamp, str):
        try:
            t = datetime.strptime(stamp.strip()[:19], "%Y:%m:%d %H:%M:%S")
            if offset:
                t = datetime.fromisoformat(t.isoformat() + offset.strip())
            else:
                from subsidence.settings import get_settings

                t = t.replace(tzinfo=get_settings().tz)
            out["taken_at"] = t.isoformat()
        except ValueError:
            pass
    gps = exif.get_ifd(0x8825)
    try:

        def deg(v) -> float:
            d, m, sec = (float(x) for x in v)
            return d + m / 60 + sec / 3600

        if 2 in gps and 4 in gps:
            lat, lon = deg(gps[2]), deg(gps[4])
            out["lat"] = -lat if str(gps.get(1, "N")).upper().startswith("S") else lat
            out["lon"] = -lon if str(gps.get(3, "E")).upper().startswith("W") else lon
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    return out


def photo_flags(session: Session, problem: Problem, exif: dict) -> list[dict]:
    """What the inspector must look at in a photo: taken before the problem was found, taken far from its
    location (the problem's geometry, else its mine's licence area), or no EXIF time/position at all."""
    flags = []
    if not exif or (exif.get("taken_at") is None and exif.get("lon") is None):
        return [
            {
                "code": "no_exif",
                "level": "info",
                "message": "照片无拍摄时间和位置信息（EXIF），请现场核实 / the photo carries no EXIF time or position",
            }
        ]
    if exif.get("taken_at"):
        from subsidence.settings import get_settings

        taken = datetime.fromisoformat(exif["taken_at"]).astimezone(get_settings().tz).date()
        if taken < problem.found_date:
            flags.append(
                {
                    "code": "taken_before_found",
                    "level": "warning",
                    "taken": taken.isoformat(),
                    "message": f"照片拍摄于 {taken}，早于问题发现日期 {problem.found_date} / taken {taken}, before "
                    f"the problem was found ({problem.found_date})",
                }
            )
    where = problem.geometry if problem.geometry is not None else (problem.mine.geometry if problem.mine else None)
    if exif.get("lon") is not None and where is not None:
        from shapely.geometry import Point

        from subsidence.geo import STORAGE_CRS, transform_geometry

        pt = transform_geometry(Point(exif["lon"], exif["lat"]), "EPSG:4490", STORAGE_CRS)
        dist = float(where.distance(pt))
        if dist > EXIF_MAX_DISTANCE_M:
            flags.append(
                {
                    "code": "far_from_problem",
                    "level": "warning",
                    "distance_m": round(dist, 1),
                    "message": f"照片拍摄位置距问题位置 {dist:.0f} 米（超过 {EXIF_MAX_DISTANCE_M:.0f} 米） / taken "
                    f"{dist:.0f} m from the problem's location",
                }
            )
    return flags


def attach_evidence(
    session: Session,
    problem: Problem,
    actor: Actor,
    *,
    data: bytes,
    filename: str,
    claimed_type: str | None = None,
    taken_at: datetime | None = None,
    lon: float | None = None,
    lat: float | None = None,
    note: str | None = None,
    max_bytes: int = MAX_EVIDENCE_BYTES,
) -> Evidence:
    """Attach a photo or document to an open problem (its enterprise, lead unit or the office may).

    ``claimed_type`` (``jpeg``/``png``/``pdf``/``docx``/``xlsx`` or a media type) defaults to what the
    file name's extension claims; the content must agree.
    """
    if not (parties_of(problem, actor) & {Party.OFFICE, Party.LEAD_UNIT, Party.ENTERPRISE}):
        raise Forbidden(
            f"{actor.audit_name} may not attach evidence to {problem.code} (only its enterprise, "
            "its lead unit or the office)"
        )
    if problem.state in CLOSED_STATES:
        raise Conflict(f"problem {problem.code} is {problem.state.value}: evidence can no longer be attached")
    if not data:
        raise ValidationFailed(f"file {filename!r} is empty")
    if len(data) > max_bytes:
        raise ValidationFailed(
            f"file {filename!r} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB "
            "(reduce the photo resolution or split the document)"
        )
    actual = sniff(data)
    if actual is None:
        raise ValidationFailed(f"file {filename!r} is {_describe(data)}; evidence must be JPEG, PNG, PDF, DOCX or XLSX")
    claim = (claimed_type or _EXT_CLAIMS.get(Path(filename).suffix.lower(), "")).lower()
    claim = next((k for k, t in TYPES.items() if claim in (k, t.media_type)), claim)
    if claim and claim != actual.name:
        raise ValidationFailed(
            f"file {filename!r} claims to be {claim.upper()} but its content is "
            f"{actual.name.upper()}: rename it to {Path(filename).stem}{actual.ext} or upload "
            "the right file"
        )
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
    existing = session.scalar(
        select(Evidence).where(Evidence.problem_id == problem.id, Evidence.sha256 == hashlib.sha256(data).hexdigest())
    )
    if existing is not None:
        raise Conflict(
            f"this file is already attached to {problem.code} as evidence #{existing.id} ({existing.filename})"
        )
    exif, flags = None, None
    if actual.kind == "photo":
        exif = read_exif(data)
        flags = photo_flags(session, problem, exif)
        if taken_at is None and exif.get("taken_at"):
            taken_at = datetime.fromisoformat(exif["taken_at"])
        if point is None and exif.get("lon") is not None:
            from shapely.geometry import Point

            from subsidence.geo import STORAGE_CRS, transform_geometry

            point = transform_geometry(Point(exif["lon"], exif["lat"]), "EPSG:4490", STORAGE_CRS)
    digest, rel = store_blob(data, actual)
    with acting_as(session, actor.audit_name, f"上传佐证材料 {filename}"):
        ev = Evidence(
            problem_id=problem.id,
            sha256=digest,
            media_type=actual.media_type,
            kind=actual.kind,
            size_bytes=len(data),
            filename=Path(filename).name[:255],
            storage_path=rel,
            uploaded_by=actor.audit_name,
            taken_at=taken_at,
            location=point,
            note=note,
            exif=exif or None,
            flags=flags or None,
        )
        session.add(ev)
        session.flush()
    return ev


def evidence_of(session: Session, problem: Problem) -> list[Evidence]:
    return list(session.scalars(select(Evidence).where(Evidence.problem_id == problem.id).order_by(Evidence.id)))


def flagged_evidence(session: Session, problem: Problem) -> list[Evidence]:
    """The problem's photos with a warning flag (position or time does not fit): the inspector must look."""
    return [e for e in evidence_of(session, problem) if any(f.get("level") == "warning" for f in (e.flags or []))]


def record_acceptance(
    session: Session,
    problem: Problem,
    actor: Actor,
    *,
    passed: bool,
    inspectors: Sequence[str],
    reasons: str | None = None,
    decided_date: date | None = None,
    site_visit: bool = True,
    flag_note: str | None = None,
    date_reason: str | None = None,
) -> AcceptanceRecord:
    """The office's acceptance decision: pass (→ accepted, closed, 销号) or return with reasons (→ returned).

    Passing a problem whose photo evidence is flagged (EXIF position far from the problem, or taken before
    it was found) needs the inspector's ``flag_note``. The date is the server's (an earlier one with
    ``date_reason``, see :func:`subsidence.ledger.lifecycle.business_date`).
    """
    from subsidence.ledger.lifecycle import business_date

    name = "accept" if passed else "return"
    check_transition(problem, actor, name, reasons)
    people = [i.strip() for i in inspectors if i and i.strip()]
    if len(set(people)) < MIN_INSPECTORS:
        raise ValidationFailed(
            f"验收须至少{MIN_INSPECTORS}名检查人员在场 / an acceptance needs at least "
            f"{MIN_INSPECTORS} different inspectors present (--inspector, repeat it)"
        )
    since = problem.submitted_date or problem.found_date
    if decided_date is not None and decided_date < since:
        raise ValidationFailed(f"acceptance date {decided_date} is before the submission/found date {since}")
    decided_date, correction = business_date(
        session, problem, actor, decided_date, date_reason, what="验收", previous=since
    )
    flagged = flagged_evidence(session, problem)
    if passed and flagged and not (flag_note and flag_note.strip()):
        listing = "；".join(
            f"#{e.id} {e.filename}：{'、'.join(f['message'] for f in e.flags if f['level'] == 'warning')}"
            for e in flagged
        )
        raise ValidationFailed(
            f"佐证照片存在疑点，验收通过须写明核查意见（--flag-note） / flagged photo evidence needs the "
            f"inspector's note before passing: {listing}"
        )
    within = None
    if problem.state == ProblemState.SUBMITTED and problem.acceptance_due is not None:
        within = decided_date <= problem.acceptance_due
    reason = reasons.strip() if reasons else None
    with acting_as(session, actor.audit_name, reason or "验收通过"):
        rec = AcceptanceRecord(
            problem_id=problem.id,
            decided_date=decided_date,
            result=AcceptanceResult.PASSED if passed else AcceptanceResult.RETURNED,
            reasons=reason,
            inspectors=people,
            site_visit=site_visit,
            decided_by=actor.audit_name,
            within_window=within,
            flag_note=flag_note.strip() if flag_note else None,
        )
        session.add(rec)
        session.flush()
        apply_transition(
            session,
            problem,
            actor,
            name,
            on=decided_date,
            reason=reason,
            extra={"acceptance_record": rec.id, "inspectors": people, **correction},
        )
    return rec


def acceptances_of(session: Session, problem: Problem) -> list[AcceptanceRecord]:
    return list(
        session.scalars(
            select(AcceptanceRecord).where(AcceptanceRecord.problem_id == problem.id).order_by(AcceptanceRecord.id)
        )
    )


def acceptance_code(session: Session, rec: AcceptanceRecord) -> str:
    """The acceptance record's number: 验收-<problem code>-<n-th decision on the problem>."""
    from sqlalchemy import func

    n = session.scalar(
        select(func.count())
        .select_from(AcceptanceRecord)
        .where(AcceptanceRecord.problem_id == rec.problem_id, AcceptanceRecord.id <= rec.id)
    )
    return f"验收-{rec.problem.code}-{n}"


def acceptance_data(session: Session, acceptance_record_id: int) -> dict:
    """Everything printed on the acceptance record / 销号 document (read-only; see the team contract)."""
    from subsidence.errors import NotFound
    from subsidence.ledger.extensions import extension_dict, extensions_of
    from subsidence.ledger.models import RectificationNotice

    rec = session.get(AcceptanceRecord, acceptance_record_id)
    if rec is None:
        raise NotFound(f"acceptance record {acceptance_record_id} does not exist")
    p = rec.problem
    n = session.scalar(
        select(RectificationNotice)
        .where(RectificationNotice.problem_id == p.id)
        .order_by(RectificationNotice.id.desc())
        .limit(1)
    )
    mine = p.mine
    passed = rec.result == AcceptanceResult.PASSED
    return {
        "id": rec.id,
        "code": acceptance_code(session, rec),
        "problem": p.code,
        "problem_title": p.title,
        "category_zh": p.category.label(),
        "mine": mine.name_zh if mine else None,
        "licence_no": mine.licence_no if mine else None,
        "enterprise": mine.enterprise.name_zh if mine is not None and mine.enterprise is not None else None,
        "result": rec.result.value,
        "result_zh": rec.result.label(),
        "decided_date": rec.decided_date.isoformat(),
        "decided_by": rec.decided_by,
        "inspectors": list(rec.inspectors or []),
        "site_visit": rec.site_visit,
        "reasons": rec.reasons,
        "within_window": rec.within_window,
        "acceptance_due": p.acceptance_due.isoformat() if p.acceptance_due else None,
        "submitted_date": p.submitted_date.isoformat() if p.submitted_date else None,
        "notice": {"code": n.code, "issued_date": n.issued_date.isoformat(), "deadline": n.deadline.isoformat()}
        if n is not None
        else None,
        "deadline": p.deadline.isoformat() if p.deadline else None,
        "extensions": [extension_dict(x) for x in extensions_of(session, p)],
        "milestones": [
            {
                "seq": m.seq,
                "description": m.description,
                "due_date": m.due_date.isoformat(),
                "done_date": m.done_date.isoformat() if m.done_date else None,
                "evidence": list(m.evidence_ids or []),
            }
            for m in p.milestones
        ],
        "evidence": [
            {
                "id": e.id,
                "filename": e.filename,
                "kind": e.kind,
                "sha256": e.sha256,
                "taken_at": e.taken_at.isoformat() if e.taken_at else None,
                "uploaded_by": e.uploaded_by,
                "flags": [{"code": f["code"], "message": f["message"]} for f in (e.flags or [])],
            }
            for e in evidence_of(session, p)
        ],
        "flag_note": rec.flag_note,
        "closed": passed and p.state == ProblemState.ACCEPTED,
        "closed_date": p.closed_date.isoformat() if passed and p.closed_date else None,
        "illustrative": bool(p.illustrative or (mine is not None and mine.illustrative)),
    }
