"""Business days: Monday to Friday, minus public holidays and the config's one-off days.

Built on dateutil's rruleset (weekdays as a rule, holidays as exclusions) and the
holidays package, so that stepping over a long weekend or a holiday week is the
library's job, not a hand-written loop's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, rrule, rruleset

if TYPE_CHECKING:
    from rollout.config import HolidayCalendar, SchedulePolicy

WEEKDAYS = (MO, TU, WE, TH, FR)
# How far a search for business days looks at first; long holiday stretches widen it.
_WINDOW = timedelta(days=21)


# Unbounded: a count of business days over a long span asks for every year in it.
@cache
def _public_holidays(source: HolidayCalendar, year: int) -> dict[date, str]:
    import holidays  # heavy to import; only loaded when a holiday calendar is configured

    found = holidays.country_holidays(source.country, subdiv=source.subdivision, years=year)
    return {day: str(name) for day, name in found.items() if day.year == year}


class BusinessCalendar:
    def __init__(
        self, holidays: HolidayCalendar | None = None, extra_holidays: tuple[date, ...] = ()
    ) -> None:
        self.holidays = holidays
        self.extra_holidays = frozenset(extra_holidays)

    @classmethod
    def for_policy(cls, policy: SchedulePolicy) -> BusinessCalendar:
        return cls(policy.holidays, policy.extra_holidays)

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday on ``day``, or None on an ordinary day."""
        if day in self.extra_holidays:
            return "holiday (config)"
        if self.holidays is None:
            return None
        return _public_holidays(self.holidays, day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def _days(self, first: date, last: date) -> rruleset:
        """The business days from ``first`` to ``last`` inclusive, as a rule set."""
        rules = rruleset()
        rules.rrule(
            rrule(DAILY, byweekday=WEEKDAYS, dtstart=_midnight(first), until=_midnight(last))
        )
        for year in range(first.year, last.year + 1):
            holidays = set(self.extra_holidays)
            if self.holidays is not None:
                holidays.update(_public_holidays(self.holidays, year))
            for day in holidays:
                if first <= day <= last:
                    rules.exdate(_midnight(day))
        return rules

    def on_or_after(self, day: date) -> date:
        """``day`` if it is a business day, else the next one."""
        window = _WINDOW
        while True:
            found = self._days(day, day + window).after(_midnight(day), inc=True)
            if found is not None:
                return found.date()
            window *= 2

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a business day, else the previous one."""
        return self.before(day, 0)

    def before(self, day: date, count: int) -> date:
        """The ``count``-th business day before ``day`` (``day`` itself not counted).

        With ``count`` 0 this is ``day`` when it is a business day, else the one before it.
        """
        window = _WINDOW + timedelta(days=2 * count)
        while True:
            first = day - window
            days = self._days(first, day).between(_midnight(first), _midnight(day), inc=True)
            if count == 0 and days:
                return days[-1].date()
            strictly_before = [found for found in days if found.date() < day]
            if count > 0 and len(strictly_before) >= count:
                return strictly_before[-count].date()
            window *= 2

    def after(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day`` (``day`` itself not counted)."""
        window = _WINDOW + timedelta(days=2 * count)
        while True:
            last = day + window
            days = self._days(day + timedelta(days=1), last).between(
                _midnight(day), _midnight(last), inc=True
            )
            if len(days) >= count:
                return days[count - 1].date()
            window *= 2

    def count_between(self, start: date, end: date) -> int:
        """Business days after ``start`` up to and including ``end`` (0 when end <= start).

        Counted, not listed: weekdays by arithmetic, minus the weekday holidays of each year
        in between, so that a span of centuries (an --as-of far away) costs little."""
        if end <= start:
            return 0
        weekdays = _weekdays_through(end) - _weekdays_through(start)
        return weekdays - sum(
            1
            for year in range(start.year, end.year + 1)
            for day in self._holidays_in(year)
            if start < day <= end and day.weekday() < 5
        )

    def _holidays_in(self, year: int) -> set[date]:
        days = {day for day in self.extra_holidays if day.year == year}
        if self.holidays is not None:
            days.update(_public_holidays(self.holidays, year))
        return days


def _weekdays_through(day: date) -> int:
    """Monday-to-Friday days from 0001-01-01 up to and including ``day``."""
    weeks, rest = divmod(day.toordinal(), 7)  # ordinal 1, 0001-01-01, was a Monday
    return weeks * 5 + min(rest, 5)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)
