"""Business days: the working days of the `holidays` package's calendar for the configured
country (its own weekend, which is not Saturday-Sunday everywhere, and its public
holidays), minus the config's one-off days off.

Stepping to the n-th business day is the package's job (``get_nth_working_day``);
counting them over a span is arithmetic (whole weeks, the days left over, then the days
off in the span), not a walk over every day.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rollout.config import HolidayCalendar, SchedulePolicy

EXTRA_HOLIDAY = "holiday (config)"
SATURDAY, SUNDAY = 5, 6


class WorkingDays(Protocol):
    """What rollout asks of a holidays.HolidayBase."""

    weekend: set[int]
    weekend_workdays: set[date]

    def __contains__(self, day: object, /) -> bool: ...
    def __iter__(self) -> Iterator[date]: ...
    def get(self, day: date, /) -> Any: ...
    def is_working_day(self, day: date, /) -> bool: ...
    def get_nth_working_day(self, day: date, n: int, /) -> date: ...


class SaturdaySunday(dict[date, str]):
    """What ``holidays.HolidayBase()`` answers without a country (a Saturday-Sunday weekend,
    no public holidays, the days added to it off), without importing the package: that
    takes 50 ms, a third of `rollout schedule`'s start-up. tests/test_business_days.py
    holds the two to the same answers."""

    def __init__(self) -> None:
        super().__init__()
        self.weekend = {SATURDAY, SUNDAY}
        self.weekend_workdays: set[date] = set()

    def is_working_day(self, day: date, /) -> bool:
        return day.weekday() not in self.weekend and day not in self

    def get_nth_working_day(self, day: date, n: int, /) -> date:
        """As the package's: ``n`` working days on (back when negative); with 0, ``day`` if
        it is a working day, else the next one."""
        step = timedelta(days=1 if n >= 0 else -1)
        for _ in range(abs(n) or 1):
            if n:
                day += step
            while not self.is_working_day(day):
                day += step
        return day


class BusinessCalendar:
    def __init__(
        self, holidays: HolidayCalendar | None = None, extra_holidays: tuple[date, ...] = ()
    ) -> None:
        self.holidays = holidays
        self.extra_holidays = frozenset(extra_holidays)
        # The holidays package fills in a year the first time a day of it is looked up, and
        # several threads may ask at once (changes.ics is assessed in the background).
        self._lock = threading.RLock()
        self._calendar: WorkingDays | None = None
        self._days_off: dict[int, tuple[date, ...]] = {}

    @classmethod
    def for_policy(cls, policy: SchedulePolicy) -> BusinessCalendar:
        return cls(policy.holidays, policy.extra_holidays)

    @property
    def calendar(self) -> WorkingDays:
        """The working-day calendar, made on first use."""
        with self._lock:
            if self._calendar is None:
                extra = dict.fromkeys(self.extra_holidays, EXTRA_HOLIDAY)
                if self.holidays is None:
                    plain = SaturdaySunday()
                    plain.update(extra)
                    self._calendar = plain
                else:
                    import holidays  # slow to import: only with a holiday country

                    country = holidays.country_holidays(
                        self.holidays.country, subdiv=self.holidays.subdivision
                    )
                    country.update(extra)  # type: ignore[arg-type]
                    self._calendar = country
            return self._calendar

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday on ``day``, or None on an ordinary day."""
        if day in self.extra_holidays:
            return EXTRA_HOLIDAY
        with self._lock:
            name = self.calendar.get(day)
        return None if name is None else str(name)

    def is_business_day(self, day: date) -> bool:
        with self._lock:
            return self.calendar.is_working_day(day)

    def on_or_after(self, day: date) -> date:
        """``day`` if it is a business day, else the next one."""
        with self._lock:
            return self.calendar.get_nth_working_day(day, 0)

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a business day, else the previous one."""
        return self.before(day, 0)

    def before(self, day: date, count: int) -> date:
        """The ``count``-th business day before ``day`` (``day`` itself not counted).

        With ``count`` 0 this is ``day`` when it is a business day, else the one before it.
        """
        with self._lock:
            if count == 0:
                # The package's n = 0 looks forward; one day on, one back is the same day.
                return self.calendar.get_nth_working_day(day + timedelta(days=1), -1)
            return self.calendar.get_nth_working_day(day, -count)

    def after(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day`` (``day`` itself not counted)."""
        with self._lock:
            return self.calendar.get_nth_working_day(day, count)

    def count_between(self, start: date, end: date) -> int:
        """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
        if end <= start:
            return 0
        first = start + timedelta(days=1)
        with self._lock:
            calendar = self.calendar
            if not _weekend_is_fixed(calendar):
                # This country's weekend changed over the years: day by day, as the package.
                return sum(
                    calendar.is_working_day(first + timedelta(days=offset))
                    for offset in range((end - start).days)
                )
            weekend = calendar.weekend
            weeks, rest = divmod((end - start).days, 7)
            weekdays = weeks * (7 - len(weekend)) + sum(
                (first.weekday() + offset) % 7 not in weekend for offset in range(rest)
            )
            # Looking the span's holidays up fills in its years, working weekend days too.
            off = sum(1 for day in self._off_between(first, end) if day.weekday() not in weekend)
            worked = sum(
                1
                for day in calendar.weekend_workdays
                if first <= day <= end and day.weekday() in weekend
            )
            return weekdays - off + worked

    def _off_between(self, first: date, last: date) -> list[date]:
        """The holidays (public and the config's) from ``first`` to ``last`` inclusive."""
        found: list[date] = []
        for year in range(first.year, last.year + 1):
            days = self._year_off(year)
            low = bisect_right(days, first - timedelta(days=1)) if year == first.year else 0
            high = bisect_right(days, last) if year == last.year else len(days)
            found.extend(days[low:high])
        return found

    def _year_off(self, year: int) -> tuple[date, ...]:
        if year not in self._days_off:
            calendar = self.calendar
            date(year, 1, 1) in calendar  # noqa: B015 - a lookup fills in the year's holidays
            self._days_off[year] = tuple(sorted(day for day in calendar if day.year == year))
        return self._days_off[year]


def _weekend_is_fixed(calendar: WorkingDays) -> bool:
    """False for the countries whose weekend the package gives by date (it changed)."""
    if isinstance(calendar, SaturdaySunday):
        return True
    import holidays

    return type(calendar)._get_weekend is holidays.HolidayBase._get_weekend  # type: ignore[attr-defined]
