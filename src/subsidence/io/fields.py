"""Field specifications and cell parsers shared by every file import (pure: no database).

A :class:`FieldSpec` maps the Chinese header offices use (``zh``), the English field name (``name``), the
≤10-character Shapefile field (``shp``) and the model attribute, with its type and whether it is required.
Values are parsed by :func:`parse_value`; every parser raises ``ValueError`` with a message written for the
user (what is wrong and how to write it), which the importer prefixes with file, row and field.
The importable KINDS themselves live in :mod:`subsidence.interchange.fieldspecs`; the task ledgers
(:mod:`subsidence.interchange.task_ledgers`) use these parsers too.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from subsidence.vocabulary import Labelled

#: a cell holding this clears an optional value; a blank cell leaves the stored value unchanged (every import)
CLEAR_MARK = "（清空）"
#: the accepted spellings of the clear mark (full-width and ASCII brackets, English)
CLEAR_MARKS = frozenset({CLEAR_MARK, "(清空)", "<清空>", "<clear>"})

DATE_HELP = "日期写作 2024-09-12、2024/9/12 或 2024年9月12日 (or an Excel date cell)"


@dataclass(frozen=True)
class Ref:
    """A reference to another record, written in files by one of its ``keys`` (tried in order).

    ``display`` is the attribute written to Excel (human-friendly), ``key`` the one written to vector files.
    ``relationship`` names the ORM relationship to set when the target may be created by the same file.
    """

    model: type
    keys: tuple[str, ...]
    display: str
    relationship: str | None = None

    @property
    def key(self) -> str:
        return self.keys[0]


@dataclass(frozen=True)
class FieldSpec:
    """One column of a KIND.

    ``type``: str, int, float, date, bool, enum, ref, refs (several references), milestones, area_ha (computed,
    export only). ``attr`` is the model attribute (the FK column for refs); ``shp`` the Shapefile field name.
    """

    name: str
    zh: str
    type: str = "str"
    attr: str | None = None
    required: bool = False
    key: bool = False
    enum: builtins.type[Labelled] | None = None
    ref: Ref | None = None
    shp: str | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    help: str = ""
    aliases: tuple[str, ...] = ()
    export_only: bool = False
    width: float = 14

    @property
    def model_attr(self) -> str:
        return self.attr or self.name

    @property
    def shp_name(self) -> str:
        return self.shp or self.name[:10]

    @property
    def label(self) -> str:
        """How messages name the field: Chinese header with the English name."""
        return f"{self.zh} ({self.name})"

    def headers(self) -> tuple[str, ...]:
        """Every accepted spelling of this column's header."""
        return (self.zh, self.name, self.shp_name, *self.aliases)


@dataclass(frozen=True)
class KindSpec:
    """An importable/exportable KIND: its model, fields, geometry column and cross-field checks."""

    name: str
    zh: str
    en: str
    model: type
    fields: tuple[FieldSpec, ...]
    geometry: str | None = None  # column type: MULTIPOLYGON, POLYGON, POINT, GEOMETRY
    geometry_required: bool = False
    lonlat: bool = False  # Excel may give 经度/纬度 (CGCS2000) for the point
    aliases: tuple[str, ...] = ()
    checks: tuple[Callable[[dict[str, Any]], list[tuple[str, str]]], ...] = ()

    @property
    def key(self) -> FieldSpec:
        return next(f for f in self.fields if f.key)

    @property
    def importable(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if not f.export_only)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


# ---------------------------------------------------------------------------------------------- value parsing

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


def parse_date(raw: Any) -> date:
    """ISO dates, Excel date cells, ``2024/9/12`` and ``2024年9月12日``; anything else is refused."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    text = re.sub(r"[T ]00:00(:00)?$", "", text)  # a date cell exported as text with midnight
    for pat in _DATE_PATTERNS:
        m = pat.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError as exc:
                raise ValueError(f"{text!r} is not a real date ({exc})") from None
    raise ValueError(f"{text!r} is not a date; {DATE_HELP}")


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓", "t"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×", "✗", "f"}


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not yes/no; write 是 or 否")


def parse_enum(enum: type[Labelled], raw: Any) -> Labelled:
    """Code, Chinese or English label; a ledger-style numbered label (``1、地面塌陷…``) is taken by its number."""
    text = str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    try:
        return enum.parse(text)
    except ValueError:
        m = re.match(r"^(\w+?)\s*[、.．\-:：]\s*\S", text)
        if m:
            try:
                return enum.parse(m.group(1))
            except ValueError:
                pass
        raise


def as_text(raw: Any) -> str:
    """Cell text; whole-number floats (Excel turns codes like 150627 into 150627.0) without the ``.0``."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    return str(raw).strip()


def parse_number(raw: Any, kind: str) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a number")  # noqa: TRY004  (callers report ValueError per cell)
    if isinstance(raw, (int, float)):
        value = raw
    else:
        text = str(raw).strip().replace(",", "").replace("，", "")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
    if kind == "int":
        if float(value) != int(value):
            raise ValueError(f"{raw!r} is not a whole number")
        return int(value)
    return float(value)


_SPLIT_REFS = re.compile(r"[、,，;；/\n]+")


def split_refs(raw: Any) -> list[str]:
    return [s.strip() for s in _SPLIT_REFS.split(as_text(raw)) if s.strip()]


_MS_LINE = re.compile(
    r"^\s*(?:\d+[.、)）]\s*|[①-⑳]\s*)?"
    r"(?P<due>\d{4}(?:-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2}|年\d{1,2}月\d{1,2}日?))\s*[:：]?\s*"
    r"(?P<desc>.*?)\s*(?:[（(\[【]\s*已完成\s*(?P<done>[^)）\]】]*?)\s*[)）\]】])?\s*$"
)


def parse_milestones(raw: Any) -> list[tuple[date, str, date | None]]:
    """时间节点: one milestone per line (or separated by ；), ``2024-10-15 完成方案编制 [已完成 2024-10-12]``."""
    out = []
    for part in re.split(r"[\n；;]+", as_text(raw)):
        if not part.strip():
            continue
        m = _MS_LINE.match(part)
        if not m or not m.group("desc"):
            raise ValueError(
                f"milestone {part.strip()!r} is not 'date description'; write e.g. 2024-10-15 完成治理方案 "
                "(one per line, mark finished ones with [已完成 2024-10-12])"
            )
        due = parse_date(m.group("due"))
        done = parse_date(m.group("done")) if m.group("done") else None
        out.append((due, m.group("desc"), done))
    return out


def format_milestones(milestones: list[Any]) -> str | None:
    lines = []
    for ms in milestones:
        line = f"{ms.due_date.isoformat()} {ms.description}"
        if ms.done_date:
            line += f" [已完成 {ms.done_date.isoformat()}]"
        lines.append(line)
    return "\n".join(lines) or None


def parse_value(f: FieldSpec, raw: Any) -> Any:
    """Parse one non-blank cell for field ``f`` (references stay as key text, resolved later)."""
    t = f.type
    if t == "str":
        return as_text(raw)
    if t in ("int", "float"):
        value = parse_number(raw, t)
        if f.min is not None and value < f.min:
            raise ValueError(f"{value:g} is below the minimum {f.min:g}{' ' + f.unit if f.unit else ''}")
        if f.max is not None and value > f.max:
            raise ValueError(f"{value:g} is above the maximum {f.max:g}{' ' + f.unit if f.unit else ''}")
        return value
    if t == "date":
        return parse_date(raw)
    if t == "bool":
        return parse_bool(raw)
    if t == "enum":
        if f.enum is None:
            raise ValueError(f"field {f.name} has no enumeration")
        return parse_enum(f.enum, raw)
    if t == "ref":
        return as_text(raw)
    if t == "refs":
        return split_refs(raw)
    if t == "milestones":
        return parse_milestones(raw)
    raise ValueError(f"field type {t} cannot be imported")


def enum_choices(enum: type[Labelled]) -> list[str]:
    return [m.label("zh-CN") for m in enum]


# ------------------------------------------------------------------------------------------- cross-field checks
