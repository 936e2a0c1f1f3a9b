"""Excel ``.xlsx`` tables: reading ledgers with Chinese headers, writing reproducible workbooks.

Reading finds the header row (ledgers often carry a title row or two above it), keeps Excel's 1-based row
numbers so that messages point at the row the user sees, and returns raw cell values (dates as
``datetime``); the service layer parses and validates them. Writing is deterministic: the same data gives
the same bytes (fixed document timestamps, fixed ZIP member times), so exported ledgers can be compared
and archived.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from subsidence.io.sniff import FormatError, sniff

#: document timestamp written into every workbook (the plan's date, 伊政办发〔2024〕79号)
FIXED_TIMESTAMP = datetime(2024, 9, 12, 0, 0, 0)
CREATOR = "subsidence"
#: sheets that hold instructions or dropdown lists, never data
AUX_SHEETS = ("填写说明", "选项", "instructions", "choices")


def normalize_header(text: Any) -> str:
    """Header text without spaces, line breaks, required-marks (``*``, ``（必填）``) or unit brackets' spacing."""
    if text is None:
        return ""
    t = str(text).replace("\u3000", " ").strip()
    t = re.sub(r"[\s\u00a0]+", "", t)
    t = t.replace("＊", "*").strip("*")
    t = re.sub(r"[（(]必填[)）]$", "", t)
    t = t.replace("（", "(").replace("）", ")")
    return t.lower()


@dataclass
class SheetTable:
    """Cells of one sheet below its header row. ``rows`` holds (Excel row number, values by column)."""

    path: Path
    sheet: str
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def read_sheet(
    path: str | Path,
    *,
    known_headers: Iterable[str] = (),
    sheet: str | None = None,
    sheet_hints: Sequence[str] = (),
    scan_rows: int = 10,
) -> SheetTable:
    """Read the data sheet of an ``.xlsx`` file.

    The sheet is ``sheet`` if given, else the first whose name is in ``sheet_hints``, else the first sheet that
    is not an instructions sheet. The header row is the row among the first ``scan_rows`` that matches the most
    ``known_headers`` (after :func:`normalize_header`); without any match the first non-empty row.
    Fully empty rows are skipped. Raises :class:`FormatError` naming the file if it is not a readable workbook.
    """
    import openpyxl

    p = Path(path)
    if sniff(p) != "xlsx":
        raise FormatError(f"{p}: not an Excel workbook")
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise FormatError(f"{p}: not a readable Excel workbook: {exc}") from exc
    try:
        names = wb.sheetnames
        if sheet is not None:
            if sheet not in names:
                raise FormatError(f"{p}: no sheet {sheet!r}; sheets: {', '.join(names)}")
            name = sheet
        else:
            hinted = [n for n in names if n in sheet_hints]
            data = [n for n in names if n.strip().lower() not in AUX_SHEETS]
            if not (hinted or data):
                raise FormatError(f"{p}: the workbook holds no data sheet")
            name = (hinted or data)[0]
        ws = wb[name]
        known = {normalize_header(h) for h in known_headers}
        all_rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
    finally:
        wb.close()
    nonempty = [(i, r) for i, r in all_rows if any(_filled(v) for v in r)]
    if not nonempty:
        return SheetTable(p, name, 1, [], [])
    best_i, best_score = nonempty[0][0], 0
    for i, r in nonempty[:scan_rows]:
        score = sum(1 for v in r if normalize_header(v) in known)
        if score > best_score:
            best_i, best_score = i, score
    header_cells = next(r for i, r in nonempty if i == best_i)
    headers = ["" if v is None else str(v).strip() for v in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    rows = [(i, (r + [None] * len(headers))[: len(headers)]) for i, r in nonempty if i > best_i]
    rows = [(i, r) for i, r in rows if any(_filled(v) for v in r)]
    return SheetTable(p, name, best_i, headers, rows)


def _filled(v: Any) -> bool:
    return v is not None and not (isinstance(v, str) and not v.strip())


@dataclass
class Column:
    """How one column is written: header, width (characters), date format, wrap, required mark, comment."""

    header: str
    width: float = 14
    kind: str = "str"
    wrap: bool = False
    required: bool = False
    comment: str | None = None
    choices: Sequence[str] = ()


def write_table(
    path: str | Path,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    sheet_title: str,
    title: str | None = None,
    subtitle: str | None = None,
    instructions: Sequence[Sequence[str]] | None = None,
    timestamp: datetime = FIXED_TIMESTAMP,
) -> Path:
    """Write one table (optionally under a merged title row) to ``path``, byte-identically for the same input.

    Required columns get a red header; columns with ``choices`` get a dropdown (lists on a hidden sheet
    「选项」); ``instructions`` (rows of text) go to a second sheet 「填写说明」.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    r = 1
    ncol = len(columns)
    if title:
        ws.cell(row=r, column=1, value=title).font = Font(bold=True, size=14)
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="center", vertical="center")
        if ncol > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        ws.row_dimensions[r].height = 28
        r += 1
    if subtitle:
        ws.cell(row=r, column=1, value=subtitle).alignment = Alignment(horizontal="right")
        if ncol > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        r += 1
    header_row = r
    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, col in enumerate(columns, start=1):
        c = ws.cell(row=header_row, column=j, value=col.header)
        c.font = Font(bold=True, color="C00000" if col.required else "000000")
        c.fill = fill
        c.border = border
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if col.comment:
            c.comment = Comment(col.comment, CREATOR, width=320, height=140)
        ws.column_dimensions[get_column_letter(j)].width = col.width
    for i, values in enumerate(rows, start=header_row + 1):
        for j, (col, v) in enumerate(zip(columns, values), start=1):
            if isinstance(v, datetime):
                v = v.replace(tzinfo=None)
            c = ws.cell(row=i, column=j, value=v)
            if c.data_type == "f":  # a value such as "=HYPERLINK(...)" is text, never a live formula
                c.data_type = "s"
            c.border = border
            if col.kind == "date" or isinstance(v, date):
                c.number_format = "yyyy-mm-dd"
            c.alignment = Alignment(vertical="top", wrap_text=col.wrap)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    print_setup(ws, header_row=header_row, ncol=ncol, nrows=len(rows), total_width=sum(c.width for c in columns))
    choice_cols = [(j, col) for j, col in enumerate(columns, start=1) if col.choices]
    if choice_cols:
        opts = wb.create_sheet("选项")
        opts.sheet_state = "hidden"
        last = max(header_row + 1000, header_row + len(rows) + 200)
        for k, (j, col) in enumerate(choice_cols, start=1):
            opts.cell(row=1, column=k, value=col.header)
            for n, choice in enumerate(col.choices, start=2):
                opts.cell(row=n, column=k, value=choice)
            letter = get_column_letter(k)
            dv = DataValidation(
                type="list",
                formula1=f"'选项'!${letter}$2:${letter}${len(col.choices) + 1}",
                allow_blank=True,
                showErrorMessage=False,
            )
            ws.add_data_validation(dv)
            dv.add(f"{get_column_letter(j)}{header_row + 1}:{get_column_letter(j)}{last}")
    if instructions:
        doc = wb.create_sheet("填写说明")
        for i, line in enumerate(instructions, start=1):
            for j, text in enumerate(line, start=1):
                cell = doc.cell(row=i, column=j, value=text)
                cell.alignment = Alignment(vertical="top", wrap_text=True)
                if i == 1:
                    cell.font = Font(bold=True)
        for j, w in enumerate((18, 26, 10, 8, 70), start=1):
            doc.column_dimensions[get_column_letter(j)].width = w
    return save_deterministic(wb, path, timestamp=timestamp)


#: column-width units (≈ characters) that still print legibly across a landscape A4 page;
#: wider tables go on landscape A3 (the ledger's 18 columns are ~330 units)
A4_LANDSCAPE_MAX_WIDTH = 180.0


def print_setup(ws, *, header_row: int, ncol: int, nrows: int, total_width: float) -> None:
    """Make a sheet print as a table: landscape A4 (A3 when wider than :data:`A4_LANDSCAPE_MAX_WIDTH`), all
    columns on one page width, the title and header rows repeated on every page, centred, with
    "第 N 页 共 M 页" in the footer.

    "Fit to 1 page wide" is paired with a page-height bound that never binds (one page per 5 rows) instead of
    Excel's "automatic" 0: LibreOffice reads ``fitToHeight=0`` as one page tall and shrinks a long ledger onto
    a single sheet."""
    from openpyxl.utils import get_column_letter

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if total_width > A4_LANDSCAPE_MAX_WIDTH else ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = max(1, nrows // 5 + 1)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4  # inch
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_title_rows = f"1:{header_row}"
    ws.print_area = f"A1:{get_column_letter(max(ncol, 1))}{header_row + max(nrows, 1)}"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"


def save_deterministic(wb, path: str | Path, *, timestamp: datetime = FIXED_TIMESTAMP) -> Path:
    """Save an openpyxl workbook so that the bytes depend only on its content.

    openpyxl stamps ``dcterms:modified`` with the current time and the ZIP members with the save time; both are
    replaced with ``timestamp``.
    """
    p = Path(path)
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    wb.properties.created = timestamp
    buf = io.BytesIO()
    wb.save(buf)
    stamp = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{stamp}\g<2>", text)
                text = re.sub(r"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)", rf"\g<1>{stamp}\g<2>", text)
                data = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=(timestamp.year, timestamp.month, timestamp.day, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(out.getvalue())
    return p
