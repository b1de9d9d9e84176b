"""Reading the dates people write: ``YYYY-MM-DD`` on the command line and in rollout.toml,
and date-times (``--reported-at``)."""

from __future__ import annotations

import re
from datetime import date, datetime


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` as a date; ValueError with a message for people otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f'"{text}" is not a date; write YYYY-MM-DD')
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f'"{text}" is not a real date') from None


_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date and time, with a zone offset or without one ("2027-03-28T01:30",
    "2027-03-28 01:30+01:00", "2027-03-28T00:30Z"); ValueError for people otherwise."""
    if not _MOMENT.fullmatch(text.strip()):
        raise ValueError(
            f'"{text}" is not a date and time; write YYYY-MM-DDTHH:MM, '
            "with an offset such as +01:00 or Z unless it is in the schedule's time zone"
        )
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f'"{text}" is not a real date and time') from None


# glibc's strftime writes the year 500 as "500" and the year 5 as "5"; ISO 8601 and
# rollout's dates (YYYY-MM-DD, any year from 0001) want four digits.
_YEARS = re.compile(r"%[%YGF]")


def strftime(moment: date, pattern: str) -> str:
    """``moment.strftime(pattern)`` with four-digit years: %Y, %G (the ISO week's year)
    and %F give "0500" for the year 500, as they do not on Linux."""

    def padded(found: re.Match[str]) -> str:
        code = found.group(0)
        if code == "%Y":
            return f"{moment.year:04d}"
        if code == "%G":
            return f"{moment.isocalendar()[0]:04d}"
        if code == "%F":
            return f"{moment.year:04d}-%m-%d"
        return code  # "%%" stays a percent sign for strftime

    return moment.strftime(_YEARS.sub(padded, pattern))


class FourDigitDate(date):
    """A date whose format spec (``f"{day:%Y-%m-%d}"``, ``"{date:%Y}".format(date=day)``)
    writes four-digit years, for formats people write, such as the milestone title."""

    @classmethod
    def of(cls, day: date) -> FourDigitDate:
        return cls(day.year, day.month, day.day)

    def __format__(self, spec: str) -> str:
        return strftime(date(self.year, self.month, self.day), spec) if spec else self.isoformat()
