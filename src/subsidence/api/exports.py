"""Every list is exportable: the same rows as JSON, CSV (UTF-8 with BOM, opens in Excel) or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from fastapi.responses import JSONResponse, Response

Format = Literal["json", "csv", "xlsx"]


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str

    def head(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


#: a cell starting with one of these is a formula to Excel, LibreOffice and Sheets (CSV injection, OWASP)
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_safe(v: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, quoted with a leading apostrophe (shown as text)."""
    if isinstance(v, str) and v.startswith(FORMULA_LEADS):
        return "'" + v
    return v


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (list, tuple)):
        return "、".join(str(x) for x in v)
    return "" if v is None else v


def table_response(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    fmt: Format,
    name: str,
    lang: str = "zh-CN",
    envelope: dict[str, Any] | None = None,
) -> Response:
    """Rows as JSON (``{"items": [...], **envelope}``), CSV or XLSX with Chinese-first headers."""
    if fmt == "json":
        return JSONResponse({**(envelope or {}), "items": list(rows)})
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        w = csv.writer(buf)
        w.writerow([c.head(lang) for c in columns])
        for r in rows:
            w.writerow([csv_safe(_cell(r.get(c.key))) for c in columns])
        return Response(
            buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8", headers=_disposition(f"{name}.csv")
        )
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = name[:31]
    ws.append([c.head(lang) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, r in enumerate(rows, start=2):
        ws.append([_cell(r.get(c.key)) for c in columns])
        for cell in ws[i]:
            if cell.data_type == "f":  # text that looks like a formula stays text
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, min(40, len(c.head(lang)) * 2 + 4))
    out = io.BytesIO()
    wb.save(out)
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_disposition(f"{name}.xlsx"),
    )


def _disposition(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"}
