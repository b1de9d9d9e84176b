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
