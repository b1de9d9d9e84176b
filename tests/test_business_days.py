"""Business days through the holidays package: the same answers as the rruleset search it
replaced, on random dates, configured holidays and one-off days off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from legacy_business_days import BusinessCalendar as Legacy

from rollout.business_days import BusinessCalendar, SaturdaySunday
from rollout.config import HolidayCalendar

# Countries whose weekend is Saturday-Sunday, as the old code assumed for everyone.
SOURCES = [None, HolidayCalendar("US"), HolidayCalendar("DE", "BY"), HolidayCalendar("GB", "SCT")]
days = st.dates(date(2000, 1, 1), date(2040, 12, 31))


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(
    source=st.sampled_from(SOURCES),
    extra=st.lists(days, max_size=8),
    day=days,
    count=st.integers(0, 45),
    span=st.integers(-30, 800),
)
def test_the_same_answers_as_the_rruleset_search(
    source: HolidayCalendar | None, extra: list[date], day: date, count: int, span: int
) -> None:
    # One-off days off near the day, where they matter, as well as anywhere.
    extra += [day + timedelta(days=offset) for offset in (0, 1, -2) if offset < len(extra)]
    new, old = BusinessCalendar(source, tuple(extra)), Legacy(source, tuple(extra))
    assert new.is_business_day(day) == old.is_business_day(day)
    assert new.holiday_name(day) == old.holiday_name(day)
    assert new.on_or_after(day) == old.on_or_after(day)
    assert new.on_or_before(day) == old.on_or_before(day)
    assert new.before(day, count) == old.before(day, count)
    assert new.after(day, count + 1) == old.after(day, count + 1)
    end = day + timedelta(days=span)
    assert new.count_between(day, end) == old.count_between(day, end)


@settings(max_examples=300, deadline=None)
@given(
    extra=st.lists(days, max_size=8), day=days, count=st.integers(-30, 30), span=st.integers(0, 400)
)
def test_without_a_country_the_stand_in_answers_as_the_package(
    extra: list[date], day: date, count: int, span: int
) -> None:
    import holidays

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
    import holidays

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
