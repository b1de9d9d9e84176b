"""Business days: Monday to Friday, minus public holidays and the config's one-off days.

Built on dateutil's rruleset (weekdays as a rule, holidays as exclusions) and the
holidays package, so that stepping over a long weekend or a holiday week is the
library's job, not a hand-written loop's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, rrule, rruleset

if TYPE_CHECKING:
    from rollout.config import HolidayCalendar, SchedulePolicy

WEEKDAYS = (MO, TU, WE, TH, FR)
# How far a search for business days looks at first; long holiday stretches widen it.
_WINDOW = timedelta(days=21)


@lru_cache(maxsize=256)
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
        """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
        if end <= start:
            return 0
        return len(
            self._days(start + timedelta(days=1), end).between(
                _midnight(start), _midnight(end), inc=True
            )
        )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)
