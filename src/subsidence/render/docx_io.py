"""Deterministic OOXML output: equal content gives equal bytes (fixed ZIP timestamps, stable member order)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def deterministic_zip(data: bytes) -> bytes:
    """Re-pack an OOXML zip with fixed timestamps and a stable order, so equal content gives equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        ordered = [n for n in names if n == "[Content_Types].xml"] + sorted(
            n for n in names if n != "[Content_Types].xml"
        )
        for name in ordered:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return buf.getvalue()


def save_docx(doc, out: Path | str | None = None) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    data = deterministic_zip(buf.getvalue())
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return data
