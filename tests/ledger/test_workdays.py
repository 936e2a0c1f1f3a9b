"""Working-day arithmetic on China's calendar (holidays and adjusted working days)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subsidence.workdays import (
    CalendarError,
    CalendarYearUnknown,
    MilestoneSpec,
    WorkCalendar,
    backward_schedule,
    deadline_status,
    default_calendar,
)

CAL = default_calendar()


def test_national_day_2024():
    for d in range(1, 8):
        assert not CAL.is_workday(date(2024, 10, d)), f"Oct {d} 2024 is a holiday"
    assert CAL.is_workday(date(2024, 9, 29))  # Sunday, adjusted working day
    assert CAL.is_workday(date(2024, 10, 12))  # Saturday, adjusted working day
    assert not CAL.is_workday(date(2024, 10, 13))  # ordinary Sunday
    # the working day after Sep 30 is Oct 8
    assert CAL.add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 8)
    # Sep 27 (Fri) + 1 working day = Sep 29 (adjusted Sunday)
    assert CAL.add_workdays(date(2024, 9, 27), 1) == date(2024, 9, 29)
    # Oct 8..Oct 12 is Tue..Sat, all working: 5 working days in (Oct 7, Oct 12]
    assert CAL.workdays_between(date(2024, 10, 7), date(2024, 10, 12)) == 5
    # September 2024: 21 weekdays - Mid-Autumn (16, 17 Mon/Tue) + Sep 14 (Sat) + Sep 29 (Sun) = 21
    assert len(CAL.workdays_in(date(2024, 9, 1), date(2024, 9, 30))) == 21
    assert CAL.describe(date(2024, 10, 3))["name_zh"] == "国庆节"


def test_spring_festival_2025():
    for d in [date(2025, 1, 28) + timedelta(i) for i in range(8)]:
        assert not CAL.is_workday(d), d
    assert CAL.is_workday(date(2025, 1, 26))  # Sunday working
    assert CAL.is_workday(date(2025, 2, 8))  # Saturday working
    assert CAL.add_workdays(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert CAL.add_workdays(date(2025, 2, 5), -1) == date(2025, 1, 27)
    # Jan 24 (Fri) -> Jan 26 (Sun, working) -> Jan 27 (Mon) -> Feb 5 (Wed)
    assert CAL.add_workdays(date(2025, 1, 24), 3) == date(2025, 2, 5)


def test_2026_new_year_and_labour_day():
    assert not CAL.is_workday(date(2026, 1, 2))
    assert CAL.is_workday(date(2026, 1, 4))  # Sunday working
    assert CAL.is_workday(date(2026, 5, 9))  # Saturday working
    assert not CAL.is_workday(date(2026, 5, 5))
    assert CAL.covers >= {2024, 2025, 2026}


def test_acceptance_window_60_workdays_across_national_day():
    due = CAL.acceptance_due(date(2024, 9, 20))
    assert CAL.workdays_between(date(2024, 9, 20), due) == 60
    # plain counting would give 2024-12-13 (60 weekdays); the 5 holiday weekdays (Oct 1-4, 7) minus the two
    # adjusted working days (Sep 29, Oct 12) push it 3 working days later
    assert due == date(2024, 12, 18)


@settings(max_examples=200, deadline=None)
@given(st.dates(date(2024, 1, 1), date(2026, 10, 31)), st.integers(-80, 80))
def test_add_then_count_is_inverse(d, n):
    target = CAL.add_workdays(d, n)
    assert CAL.workdays_between(d, target) == n
    if n:
        assert CAL.is_workday(target)


def _slow_add(d, n):
    step, cur, left = (1 if n >= 0 else -1), d, abs(n)
    while left:
        cur += timedelta(days=step)
        left -= CAL.is_workday(cur)
    return cur


@settings(max_examples=300, deadline=None)
@given(
    st.dates(date(2023, 11, 1), date(2027, 2, 1)), st.integers(-200, 200), st.dates(date(2023, 11, 1), date(2027, 2, 1))
)
def test_indexed_arithmetic_matches_day_by_day(d, n, e):
    """The bisect fast path agrees with counting day by day, also across the covered range's edges."""
    assert CAL.add_workdays(d, n) == _slow_add(d, n)
    lo, hi = min(d, e), max(d, e)
    count = sum(CAL.is_workday(lo + timedelta(i + 1)) for i in range((hi - lo).days))
    assert CAL.workdays_between(lo, hi) == count
    back = sum(CAL.is_workday(lo + timedelta(i)) for i in range((hi - lo).days))
    assert CAL.workdays_between(hi, lo) == -back


def test_deadline_status_overdue_and_due_soon():
    st_ = deadline_status(date(2024, 9, 30), date(2024, 10, 8), CAL)
    assert st_.overdue and st_.workdays_overdue == 1  # only Oct 8 is a working day after Sep 30
    soon = deadline_status(date(2024, 10, 8), date(2024, 9, 30), CAL)
    assert not soon.overdue and soon.due_soon and soon.workdays_left == 1
    far = deadline_status(date(2024, 12, 31), date(2024, 10, 8), CAL)
    assert not far.due_soon and far.workdays_left > 5


def test_backward_schedule_across_national_day():
    sched = backward_schedule(
        date(2024, 10, 10),
        [MilestoneSpec("完成验收准备", 0), MilestoneSpec("完成主体工程", 3), MilestoneSpec("制定整改方案", 10)],
        CAL,
    )
    dates = {s.description: s.latest_date for s in sched}
    assert dates["完成验收准备"] == date(2024, 10, 10)
    assert dates["完成主体工程"] == date(2024, 9, 30)  # Oct 9, Oct 8, (holiday), Sep 30
    assert dates["制定整改方案"] == date(2024, 9, 20)  # ... Sep 30, Sep 29 (adjusted Sunday), 27..23, 20
    assert [s.seq for s in sched] == [1, 2, 3] and sched[0].description == "制定整改方案"
    with pytest.raises(ValueError, match="move the deadline"):
        backward_schedule(date(2024, 10, 10), [("方案", 10)], CAL, start=date(2024, 9, 25))


def test_deadline_on_holiday_anchors_to_previous_workday():
    sched = backward_schedule(date(2024, 10, 5), [("提交", 0)], CAL)
    assert sched[0].latest_date == date(2024, 9, 30)


def test_calendar_file_errors(tmp_path):
    p = tmp_path / "cal.csv"
    p.write_text("date,kind,name_zh,name_en\n2024-10-08,workday,x,x\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="weekday"):
        WorkCalendar.load(p)
    p.write_text("date,kind,name_zh,name_en\n2024-10-01,off,x,x\n", encoding="utf-8")
    with pytest.raises(CalendarError, match=r"cal.csv:2.*'holiday' or 'workday'"):
        WorkCalendar.load(p)
    p.write_text("date,kind\n2024-13-01,holiday\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="YYYY-MM-DD"):
        WorkCalendar.load(p)


def test_unknown_year_is_an_error_not_weekdays():
    """A year no source knows raises, naming the year and how to add it (never a silent Monday-Friday)."""
    cal = WorkCalendar.load()  # the office file alone covers 2024-2026
    with pytest.raises(CalendarYearUnknown, match=r"2030.*covers: 2030"):
        cal.is_workday(date(2030, 10, 1))
    beyond = max(CAL.covers) + 1
    with pytest.raises(CalendarYearUnknown, match=str(beyond)):
        CAL.add_workdays(date(beyond - 1, 12, 1), 40)


def test_calendar_row_counts_match_state_council_notices():
    # days off per block (weekends inside included) and adjusted working days, from the notices
    cal = CAL

    def off(first, last):
        return sum(1 for i in range((last - first).days + 1) if (first + timedelta(i)) in cal.holidays)

    assert off(date(2024, 2, 10), date(2024, 2, 17)) == 8
    assert off(date(2025, 10, 1), date(2025, 10, 8)) == 8
    assert off(date(2026, 2, 15), date(2026, 2, 23)) == 9
    assert len([d for d in cal.workdays if d.year == 2024]) == 8
    assert len([d for d in cal.workdays if d.year == 2025]) == 5
    assert len([d for d in cal.workdays if d.year == 2026]) == 6
