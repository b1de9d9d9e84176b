"""Business days through the holidays package: the answers the definitions give, walked day
by day over the package's own working days, on random dates, configured holidays and
one-off days off. (They were first held, on 3,000 examples, to the rruleset search they
replaced: the commit that brought them in.)"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollout.business_days import BusinessCalendar, SaturdaySunday
from rollout.config import HolidayCalendar

SOURCES = [None, HolidayCalendar("US"), HolidayCalendar("DE", "BY"), HolidayCalendar("GB", "SCT")]
days = st.dates(date(2000, 1, 1), date(2040, 12, 31))
ONE = timedelta(days=1)


def package_calendar(source: HolidayCalendar | None, extra: list[date]) -> holidays.HolidayBase:
    package = (
        holidays.country_holidays(source.country, subdiv=source.subdivision)
        if source
        else holidays.HolidayBase()
    )
    package.update(dict.fromkeys(extra, "off"))
    return package


def walk(package: holidays.HolidayBase, day: date, step: timedelta, count: int) -> date:
    """The ``count``-th working day from ``day`` in the direction of ``step``, one at a time."""
    while count:
        day += step
        count -= package.is_working_day(day)
    return day


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(
    source=st.sampled_from(SOURCES),
    extra=st.lists(days, max_size=8),
    day=days,
    count=st.integers(0, 45),
    span=st.integers(-30, 800),
)
def test_the_answers_of_the_definitions(
    source: HolidayCalendar | None, extra: list[date], day: date, count: int, span: int
) -> None:
    # One-off days off near the day, where they matter, as well as anywhere.
    extra += [day + timedelta(days=offset) for offset in (0, 1, -2) if offset < len(extra)]
    calendar, package = BusinessCalendar(source, tuple(extra)), package_calendar(source, extra)
    working = package.is_working_day(day)
    assert calendar.is_business_day(day) == working
    assert calendar.holiday_name(day) == (
        "holiday (config)" if day in extra else package.get(day) if source else None
    )
    assert calendar.on_or_after(day) == (day if working else walk(package, day, ONE, 1))
    assert calendar.on_or_before(day) == (day if working else walk(package, day, -ONE, 1))
    assert calendar.before(day, count + 1) == walk(package, day, -ONE, count + 1)
    assert calendar.after(day, count + 1) == walk(package, day, ONE, count + 1)
    end = day + timedelta(days=span)
    expected = package.get_working_days_count(day + ONE, end) if span > 0 else 0
    assert calendar.count_between(day, end) == expected


@settings(max_examples=300, deadline=None)
@given(
    extra=st.lists(days, max_size=8), day=days, count=st.integers(-30, 30), span=st.integers(0, 400)
)
def test_without_a_country_the_stand_in_answers_as_the_package(
    extra: list[date], day: date, count: int, span: int
) -> None:
    package = holidays.HolidayBase()
    package.update(dict.fromkeys(extra, "off"))
    stand_in = SaturdaySunday()
    stand_in.update(dict.fromkeys(extra, "off"))
    assert (
        stand_in.weekend == package.weekend
        and stand_in.weekend_workdays == package.weekend_workdays
    )
    assert stand_in.is_working_day(day) == package.is_working_day(day)
    assert stand_in.get_nth_working_day(day, count) == package.get_nth_working_day(day, count)
    end = day + timedelta(days=span)
    assert BusinessCalendar(None, tuple(extra)).count_between(day, end) == (
        package.get_working_days_count(day + timedelta(days=1), end) if span else 0
    )


def test_a_country_whose_weekend_is_friday_and_saturday() -> None:
    israel = BusinessCalendar(HolidayCalendar("IL"))
    # 2027-01-08 is a Friday, 2027-01-10 a Sunday.
    assert not israel.is_business_day(date(2027, 1, 8))
    assert israel.is_business_day(date(2027, 1, 10))
    assert israel.on_or_after(date(2027, 1, 8)) == date(2027, 1, 10)
    assert israel.before(date(2027, 1, 10), 1) == date(2027, 1, 7)
    assert israel.count_between(date(2027, 1, 9), date(2027, 1, 16)) == 5


@pytest.mark.parametrize("country", ["SA", "AE", "IL", "US", "RU"])
def test_counting_is_the_packages_day_by_day_count(country: str) -> None:
    """Arithmetic over weeks where the weekend is fixed, day by day where it changed (Saudi
    Arabia 2013, the Emirates 2022); Russia has working Saturdays."""
    calendar = BusinessCalendar(HolidayCalendar(country), (date(2021, 12, 29),))
    package = holidays.country_holidays(country)
    package.update({date(2021, 12, 29): "off"})
    for start, end in [
        (date(2012, 12, 30), date(2014, 1, 5)),
        (date(2021, 6, 1), date(2022, 6, 1)),
    ]:
        assert calendar.count_between(start, end) == package.get_working_days_count(
            start + timedelta(days=1), end
        )
