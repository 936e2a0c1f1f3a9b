"""The working-day calendar (工作日): China's public holidays and adjusted working days (调休).

Deadlines in rectification notices, the 60-working-day acceptance window and backward scheduling
(倒排工期) count *working days*: Monday to Friday, minus the public holidays, plus the weekend days the
State Council turns into working days.

Sources, in order of precedence (``default_calendar()``):

1. **The office's overrides**: ``subsidence/data/cn_holidays.csv`` (one row per date, editable). A row there
   wins over the package for that date; ``# covers: YYYY`` makes a year known even beyond the package.
2. **The ``holidays`` package** (pinned in pyproject.toml; ``holidays.China``), which carries every State
   Council holiday notice (国务院办公厅关于部分节假日安排的通知) from 2001 up to its latest year, with the
   adjusted working days. The year after its latest notice is **provisional**: the statutory holidays of the
   《全国年节及纪念日放假办法》 (2024 revision, art. 2) and the weekday in lieu when one falls on a weekend
   (art. 6) are known, the 调休 are not yet; it is usable, flagged ``provisional`` and logged once.
3. Nothing else: a date in a year neither source knows raises :class:`CalendarYearUnknown` naming the year and
   how to add it. No year silently falls back to Monday–Friday.

Conventions (the way offices count "N 个工作日内"):

* ``add_workdays(d, n)`` is the n-th working day *after* ``d`` (``d`` itself does not count); ``n < 0``
  counts backwards; ``n == 0`` returns ``d``.
* ``workdays_between(a, b)`` counts working days in the half-open interval ``(a, b]``; for ``b < a`` it
  is minus the count in ``[b, a)``, so that ``workdays_between(d, add_workdays(d, n)) == n`` always.

Everything here is pure computation on dates (no DB).
"""

from __future__ import annotations

import bisect
import csv
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_CALENDAR = Path(__file__).resolve().parent / "data" / "cn_holidays.csv"

#: working days the office has to decide on an acceptance request (docs/science.md §5)
ACCEPTANCE_WINDOW_WORKDAYS = 60
#: a deadline this many working days ahead (or fewer) is "due soon"
DUE_SOON_WORKDAYS = 5


#: the first year whose notices the ``holidays`` package was checked against (its China class docstring)
PACKAGE_FIRST_YEAR = 2001


class CalendarError(ValueError):
    """The calendar file is malformed (message names the file, line and fix)."""


class CalendarYearUnknown(CalendarError):
    """A date falls in a year no calendar source knows (message names the year and how to add it)."""

    def __init__(self, year: int, cal: WorkCalendar) -> None:
        self.year = year
        known = sorted(cal.covers)
        span = f"{known[0]}–{known[-1]}" if known else "none"
        super().__init__(
            f"工作日历没有 {year} 年的节假日安排 / the working-day calendar has no holidays for {year} "
            f"(known years: {span}; sources: {cal.source}). Add the State Council's {year} holiday notice to "
            f"{DEFAULT_CALENDAR} (rows 'date,kind,name_zh,name_en' and a line '# covers: {year}'), or upgrade the "
            f"pinned 'holidays' package once it carries {year}."
        )


@dataclass(frozen=True)
class DayInfo:
    day: date
    kind: str  #: "holiday" or "workday"
    name_zh: str
    name_en: str


@dataclass
class WorkCalendar:
    """A working-day calendar: explicit holidays and adjusted working days over the covered years."""

    holidays: dict[date, DayInfo] = field(default_factory=dict)
    workdays: dict[date, DayInfo] = field(default_factory=dict)
    covers: frozenset[int] = frozenset()
    source: str = "<memory>"
    #: years whose holidays are statutory only (the State Council's 调休 for them are not yet known)
    provisional: frozenset[int] = frozenset()
    _warned: set[int] = field(default_factory=set, repr=False, compare=False)
    _ords: list[int] | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: Path | str | None = None) -> WorkCalendar:
        """Read a calendar CSV (``date,kind,name_zh,name_en``; ``#`` comments; ``# covers: 2024,2025``)."""
        path = Path(path) if path is not None else DEFAULT_CALENDAR
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CalendarError(f"cannot read working-day calendar {path}: {exc}") from exc
        covers: set[int] = set()
        body: list[tuple[int, str]] = []
        for no, line in enumerate(lines, start=1):
            stripped = line.strip()
            if stripped.startswith("#"):
                text = stripped.lstrip("#").strip()
                if text.lower().startswith("covers:"):
                    try:
                        covers |= {int(y) for y in text.split(":", 1)[1].split(",") if y.strip()}
                    except ValueError as exc:
                        raise CalendarError(f"{path}:{no}: 'covers' must list years like '2024,2025'") from exc
                continue
            if stripped:
                body.append((no, line))
        cal = cls(source=str(path))
        reader = csv.reader([b for _, b in body])
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["date", "kind"]:
            raise CalendarError(f"{path}: first non-comment line must be the header 'date,kind,name_zh,name_en'")
        for (no, _), row in zip(body[1:], reader):
            if len(row) < 2:
                raise CalendarError(f"{path}:{no}: expected 'date,kind,name_zh,name_en', got {row!r}")
            try:
                d = date.fromisoformat(row[0].strip())
            except ValueError as exc:
                raise CalendarError(f"{path}:{no}: date {row[0]!r} is not YYYY-MM-DD") from exc
            kind = row[1].strip()
            info = DayInfo(d, kind, (row[2] if len(row) > 2 else "").strip(), (row[3] if len(row) > 3 else "").strip())
            if kind == "holiday":
                target = cal.holidays
            elif kind == "workday":
                if d.weekday() < 5:
                    raise CalendarError(
                        f"{path}:{no}: {d} is a weekday; only a Saturday or Sunday can be an "
                        "adjusted working day (kind=workday)"
                    )
                target = cal.workdays
            else:
                raise CalendarError(f"{path}:{no}: kind {kind!r} must be 'holiday' or 'workday'")
            if d in cal.holidays or d in cal.workdays:
                raise CalendarError(f"{path}:{no}: {d} is listed twice; keep one row per date")
            target[d] = info
        cal.covers = frozenset(covers or {d.year for d in [*cal.holidays, *cal.workdays]})
        return cal

    @classmethod
    def from_sources(cls, overrides: Path | str | None = None, *, package: bool = True) -> WorkCalendar:
        """The product calendar: the ``holidays`` package (China) with the office's file as per-date overrides.

        Years known: the package's notice years (:data:`PACKAGE_FIRST_YEAR` to its latest notice), the year
        after that (provisional, statutory holidays only) and every year the override file ``covers``.
        """
        office = cls.load(overrides)
        if not package:
            return office
        pkg = package_calendar()
        cal = cls(holidays=dict(pkg.holidays), workdays=dict(pkg.workdays), source=f"{office.source} over {pkg.source}")
        for d, info in [*office.holidays.items(), *office.workdays.items()]:
            cal.holidays.pop(d, None)
            cal.workdays.pop(d, None)
            (cal.holidays if info.kind == "holiday" else cal.workdays)[d] = info
        cal.covers = pkg.covers | office.covers
        cal.provisional = pkg.provisional - office.covers
        return cal

    # ------------------------------------------------------------------ queries
    def _check_year(self, d: date) -> None:
        if d.year not in self.covers:
            raise CalendarYearUnknown(d.year, self)
        if d.year in self.provisional and d.year not in self._warned:
            self._warned.add(d.year)
            log.warning(
                "working-day calendar: %d is provisional (statutory holidays only; add the State Council's "
                "调休 for %d to %s when its notice appears)",
                d.year,
                d.year,
                DEFAULT_CALENDAR.name,
            )

    def is_workday(self, d: date) -> bool:
        """True when ``d`` is a working day."""
        self._check_year(d)
        return self._is_workday_raw(d)

    def describe(self, d: date) -> dict:
        """What kind of day ``d`` is, with the holiday name (for the CLI and the UI)."""
        info = self.holidays.get(d) or self.workdays.get(d)
        return {
            "date": d.isoformat(),
            "weekday": d.isoweekday(),
            "workday": self.is_workday(d),
            "kind": info.kind if info else ("weekday" if d.weekday() < 5 else "weekend"),
            "name_zh": info.name_zh if info else "",
            "name_en": info.name_en if info else "",
            "covered": d.year in self.covers,
            "provisional": d.year in self.provisional,
        }

    def _index(self) -> tuple[list[int], int, int]:
        """Ordinals of every working day in the covered years (built once), with the covered range."""
        if not self.covers:
            return [], 1, 0
        lo, hi = date(min(self.covers), 1, 1).toordinal(), date(max(self.covers), 12, 31).toordinal()
        if self._ords is None:
            self._ords = [o for o in range(lo, hi + 1) if self._is_workday_raw(date.fromordinal(o))]
        return self._ords, lo, hi

    def _is_workday_raw(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def add_workdays(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (before it when ``n < 0``); ``d`` itself never counts."""
        ords, lo, hi = self._index()
        o = d.toordinal()
        if lo <= o <= hi and ords and len(self.covers) == max(self.covers) - min(self.covers) + 1:
            k = bisect.bisect_right(ords, o) + n - 1 if n > 0 else bisect.bisect_left(ords, o) + n
            if n == 0:
                return d
            if 0 <= k < len(ords):
                out = date.fromordinal(ords[k])
                self._check_year(out)
                return out
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        cur = d
        while remaining:
            cur += timedelta(days=step)
            if self.is_workday(cur):
                remaining -= 1
        return cur

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in ``(a, b]``; when ``b < a``, minus the working days in ``[b, a)``.

        Either way ``workdays_between(d, add_workdays(d, n)) == n``.
        """
        ords, lo, hi = self._index()
        if (
            ords
            and lo <= min(a, b).toordinal()
            and max(a, b).toordinal() <= hi
            and len(self.covers) == max(self.covers) - min(self.covers) + 1
        ):
            self._check_year(a)
            self._check_year(b)
            if b >= a:
                return bisect.bisect_right(ords, b.toordinal()) - bisect.bisect_right(ords, a.toordinal())
            return -(bisect.bisect_left(ords, a.toordinal()) - bisect.bisect_left(ords, b.toordinal()))
        if b < a:
            return -sum(self.is_workday(x) for x in self._days(b, a - timedelta(days=1)))
        count = 0
        cur = a
        while cur < b:
            cur += timedelta(days=1)
            count += self.is_workday(cur)
        return count

    @staticmethod
    def _days(first: date, last: date) -> Iterator[date]:
        cur = first
        while cur <= last:
            yield cur
            cur += timedelta(days=1)

    def next_workday(self, d: date) -> date:
        """``d`` if it is a working day, else the first working day after it."""
        return d if self.is_workday(d) else self.add_workdays(d, 1)

    def previous_workday(self, d: date) -> date:
        """``d`` if it is a working day, else the last working day before it."""
        return d if self.is_workday(d) else self.add_workdays(d, -1)

    def acceptance_due(self, submitted: date, window: int = ACCEPTANCE_WINDOW_WORKDAYS) -> date:
        """Last day of the acceptance window: ``window`` working days after the request was submitted."""
        return self.add_workdays(submitted, window)

    def workdays_in(self, first: date, last: date) -> list[date]:
        """All working days in ``[first, last]``."""
        out, cur = [], first
        while cur <= last:
            if self.is_workday(cur):
                out.append(cur)
            cur += timedelta(days=1)
        return out


def _package_version() -> str:
    import holidays

    return getattr(holidays, "__version__", "?")


@lru_cache(maxsize=1)
def package_calendar() -> WorkCalendar:
    """China's calendar from the ``holidays`` package alone: notice years plus the next (provisional) year."""
    import holidays
    from holidays.countries.china import ChinaStaticHolidays

    latest = max(ChinaStaticHolidays.special_public_holidays)
    years = range(PACKAGE_FIRST_YEAR, latest + 2)
    zh = holidays.China(years=years, language="zh_CN")
    en = holidays.China(years=years, language="en_US")
    cal = WorkCalendar(source=f"holidays {_package_version()} (China)")
    for d, name in zh.items():
        cal.holidays[d] = DayInfo(d, "holiday", name, en.get(d) or "")
    for d in zh.weekend_workdays:
        if d.year in years:
            cal.workdays[d] = DayInfo(d, "workday", "调休上班", "adjusted working day")
    cal.covers = frozenset(years)
    cal.provisional = frozenset({latest + 1})
    return cal


@lru_cache(maxsize=4)
def _cached(path: str) -> WorkCalendar:
    return WorkCalendar.from_sources(path)


def default_calendar() -> WorkCalendar:
    """The product's calendar: the ``holidays`` package with the office's overrides (cached per process)."""
    return _cached(str(DEFAULT_CALENDAR))


# ---------------------------------------------------------------------------- deadlines
@dataclass(frozen=True)
class DeadlineStatus:
    """Where a deadline stands on ``today``.

    ``workdays_left`` > 0: that many working days remain after today (0: due today);
    ``workdays_overdue`` > 0: that many working days have passed since the deadline.
    ``lower_bound``: the deadline lies in a year the calendar does not know yet, ``workdays_left`` counts only
    to the end of the last known year (so the deadline is at least that far away; never due soon).
    """

    deadline: date
    today: date
    overdue: bool
    due_soon: bool
    workdays_left: int
    workdays_overdue: int
    lower_bound: bool = False

    def as_dict(self) -> dict:
        return {
            "deadline": self.deadline.isoformat(),
            "today": self.today.isoformat(),
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "workdays_left": self.workdays_left,
            "workdays_overdue": self.workdays_overdue,
            "lower_bound": self.lower_bound,
        }


def deadline_status(
    deadline: date, today: date, cal: WorkCalendar | None = None, due_soon_workdays: int = DUE_SOON_WORKDAYS
) -> DeadlineStatus:
    """Overdue when ``today`` is after the deadline; due soon when at most ``due_soon_workdays`` working days remain."""
    cal = cal or default_calendar()
    if today > deadline:
        late = max(cal.workdays_between(deadline, today), 1)
        return DeadlineStatus(deadline, today, True, False, 0, late)
    if deadline.year not in cal.covers and today.year in cal.covers and cal.covers:
        # a far deadline (e.g. a plan's 2029 date): count to the end of the known years, a lower bound; when even
        # that is within the due-soon window the unknown year matters and the error says how to add it
        last = max(y for y in cal.covers if y < deadline.year) if any(y < deadline.year for y in cal.covers) else None
        if last is not None and all(y in cal.covers for y in range(today.year, last + 1)):
            left = cal.workdays_between(today, date(last, 12, 31))
            if left > due_soon_workdays:
                return DeadlineStatus(deadline, today, False, False, left, 0, lower_bound=True)
        raise CalendarYearUnknown(deadline.year, cal)
    left = cal.workdays_between(today, deadline)
    return DeadlineStatus(deadline, today, False, left <= due_soon_workdays, left, 0)


# ---------------------------------------------------------------------------- backward scheduling
@dataclass(frozen=True)
class MilestoneSpec:
    """A milestone to schedule backwards: it must be met ``workdays_before`` working days before the deadline."""

    description: str
    workdays_before: int


@dataclass(frozen=True)
class ScheduledMilestone:
    seq: int
    description: str
    workdays_before: int
    latest_date: date

    def as_dict(self) -> dict:
        return {
            "seq": self.seq,
            "description": self.description,
            "workdays_before": self.workdays_before,
            "latest_date": self.latest_date.isoformat(),
        }


def backward_schedule(
    deadline: date,
    milestones: Sequence[MilestoneSpec] | Iterable[tuple[str, int]],
    cal: WorkCalendar | None = None,
    start: date | None = None,
) -> list[ScheduledMilestone]:
    """倒排工期: from the deadline, the latest date each milestone must be met.

    A milestone ``workdays_before`` = 0 falls on the deadline itself (moved back to a working day if the
    deadline is not one). Milestones come out ordered by date (earliest first). When ``start`` (e.g. the
    notice date) is given, a milestone that would fall on or before it raises ``ValueError``: the plan
    cannot be met and the deadline or the milestones must change.
    """
    cal = cal or default_calendar()
    specs = [m if isinstance(m, MilestoneSpec) else MilestoneSpec(m[0], int(m[1])) for m in milestones]
    anchor = cal.previous_workday(deadline)
    out = []
    for spec in specs:
        if spec.workdays_before < 0:
            raise ValueError(f"milestone {spec.description!r}: workdays_before must be >= 0")
        latest = cal.add_workdays(anchor, -spec.workdays_before)
        if start is not None and latest <= start:
            raise ValueError(
                f"milestone {spec.description!r} would have to be met by {latest}, not after the start {start}: "
                f"move the deadline {deadline} later or shorten the milestone's lead time"
            )
        out.append((latest, spec))
    out.sort(key=lambda t: (t[0], -t[1].workdays_before, t[1].description))
    return [ScheduledMilestone(i, s.description, s.workdays_before, d) for i, (d, s) in enumerate(out, start=1)]
