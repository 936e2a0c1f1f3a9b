"""The working-day calendar's sources: the ``holidays`` package, the office's overrides, and unknown years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from subsidence.workdays import (
    CalendarYearUnknown,
    WorkCalendar,
    deadline_status,
    default_calendar,
    package_calendar,
)

CAL = default_calendar()


def test_twenty_working_days_from_2026_12_04_is_2027_01_04():
    # Dec 7-31 2026 give 19 working days; 2027-01-01 (元旦, a Friday) is a holiday; Mon 2027-01-04 is the 20th
    assert CAL.add_workdays(date(2026, 12, 4), 20) == date(2027, 1, 4)
    assert CAL.workdays_between(date(2026, 12, 4), date(2027, 1, 4)) == 20
    assert not CAL.is_workday(date(2027, 1, 1))


def test_2027_is_known_but_provisional():
    info = CAL.describe(date(2027, 10, 1))
    assert info["covered"] and info["provisional"] and not info["workday"]
    assert info["name_zh"].startswith("国庆")
    # statutory Spring Festival 2027 (农历除夕 Feb 5 .. 初三 Feb 8) with the weekend days given in lieu
    assert [CAL.is_workday(date(2027, 2, d)) for d in range(5, 12)] == [False] * 6 + [True]
    assert 2026 not in CAL.provisional


def test_package_and_office_file_agree_where_both_speak():
    office = WorkCalendar.load()
    pkg = package_calendar()
    both = sorted(office.covers & pkg.covers)
    assert both, "the office file and the package share no year"
    disagree = []
    for year in both:
        d = date(year, 1, 1)
        while d.year == year:
            if office.is_workday(d) != pkg.is_workday(d):
                disagree.append(d.isoformat())
            d += timedelta(days=1)
    assert disagree == [], f"the holidays package and {office.source} disagree on {disagree}"


def test_office_override_wins_over_package(tmp_path):
    p = tmp_path / "overrides.csv"
    # a (fictitious) extra day off the county declares, and next-but-one year made known by the office
    beyond = max(package_calendar().covers) + 1
    p.write_text(
        f"# covers: {beyond}\ndate,kind,name_zh,name_en\n2026-12-07,holiday,临时放假,extra day off\n"
        f"{beyond}-10-01,holiday,国庆节,National Day\n",
        encoding="utf-8",
    )
    cal = WorkCalendar.from_sources(p)
    assert not cal.is_workday(date(2026, 12, 7)) and CAL.is_workday(date(2026, 12, 7))
    assert cal.add_workdays(date(2026, 12, 4), 20) == date(2027, 1, 5)
    assert not cal.is_workday(date(beyond, 10, 1))
    assert beyond in cal.covers and beyond not in cal.provisional


def test_year_beyond_every_source_is_a_clear_error():
    beyond = max(CAL.covers) + 1
    with pytest.raises(CalendarYearUnknown) as exc:
        CAL.is_workday(date(beyond, 3, 2))
    msg = str(exc.value)
    assert str(beyond) in msg and "cn_holidays.csv" in msg and f"# covers: {beyond}" in msg
    with pytest.raises(CalendarYearUnknown, match="2000"):
        CAL.is_workday(date(2000, 5, 8))


def test_far_deadline_in_unknown_year_is_a_lower_bound_not_an_error():
    beyond = max(CAL.covers) + 1
    st = deadline_status(date(beyond, 6, 30), date(2026, 12, 4), CAL)
    assert st.lower_bound and not st.overdue and not st.due_soon
    assert st.workdays_left == CAL.workdays_between(date(2026, 12, 4), date(beyond - 1, 12, 31))
    # a deadline just across the horizon is too close to bound: the unknown year matters
    with pytest.raises(CalendarYearUnknown):
        deadline_status(date(beyond, 1, 4), date(beyond - 1, 12, 29), CAL)
