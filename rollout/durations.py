"""Durations as rollout.toml writes them: "3 business days", "4 weeks", "72 hours", "10 minutes"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

Unit = Literal["days", "business days", "weeks", "hours", "minutes"]

_DURATION = re.compile(
    r"^\s*(\d+)\s+(business\s+days?|days?|weeks?|hours?|minutes?)\s*$", re.IGNORECASE
)
# No duration rollout plans with is longer than a century: anything longer is a typo, and
# dates that far from a deployment leave the calendar (years 1 to 9999).
LONGEST: dict[str, int] = {
    "minutes": 100 * 525_960,
    "hours": 100 * 8_766,
    "days": 36_525,
    "weeks": 5_218,
    "business days": 26_100,
}


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: Unit

    @property
    def is_business(self) -> bool:
        return self.unit == "business days"

    @property
    def is_elapsed(self) -> bool:
        """Hours and minutes are elapsed time (across a DST change 72 hours is not three
        wall-clock days); days and weeks keep the local time of day."""
        return self.unit in ("hours", "minutes")

    def as_timedelta(self) -> timedelta:
        """The calendar length; business days have none and must go through a calendar."""
        if self.unit == "minutes":
            return timedelta(minutes=self.amount)
        if self.unit == "hours":
            return timedelta(hours=self.amount)
        if self.unit == "weeks":
            return timedelta(weeks=self.amount)
        if self.unit == "days":
            return timedelta(days=self.amount)
        raise ValueError("business days have no fixed length")

    def after(self, moment: datetime) -> datetime:
        """This long after ``moment``, in its zone: elapsed time for minutes and hours,
        wall-clock time for days and weeks (a time the clocks skip becomes the moment it
        would have been). OverflowError past the year 9999."""
        if self.is_elapsed:
            return (moment.astimezone(UTC) + self.as_timedelta()).astimezone(moment.tzinfo)
        return (moment + self.as_timedelta()).astimezone(UTC).astimezone(moment.tzinfo)

    def __str__(self) -> str:
        unit = self.unit if self.amount != 1 else self.unit[:-1]
        return f"{self.amount} {unit}"


def parse_duration(text: str) -> Duration:
    """Parse "N days", "N business days", "N weeks", "N hours" or "N minutes"; raise
    ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(
            f'cannot read duration "{text}"; '
            'write "N days", "N business days", "N weeks", "N hours" or "N minutes"'
        )
    word = " ".join(match.group(2).lower().split())
    unit: Unit
    if word.startswith("business"):
        unit = "business days"
    elif word.startswith("day"):
        unit = "days"
    elif word.startswith("week"):
        unit = "weeks"
    elif word.startswith("minute"):
        unit = "minutes"
    else:
        unit = "hours"
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > 9 or int(digits) > LONGEST[unit]:
        raise ValueError(
            f'"{text}" is longer than a century; write at most {LONGEST[unit]:,} {unit}'
        )
    return Duration(int(digits), unit)
