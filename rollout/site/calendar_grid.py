"""The month grids of the site's calendar page: which day holds what.

Pure: the schedule, the first month and the as-of date are all it looks at. A deployment,
a sign-off cut-off and an announce-by date each fall on one day; a freeze covers a range
of days and is shown on each of them (and listed once per month).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from rollout.config import CRITICALITIES, Config
from rollout.dates import strftime
from rollout.schedule import Deployment, Schedule

# Kinds of event, in the order they are listed on a day.
KINDS = ("deployment", "skipped", "signoff", "announce", "freeze")
FIRST_WEEKDAY = calendar.SUNDAY  # weekly iterations run Sunday to Saturday (PRODUCT.md §1)


@dataclass(frozen=True)
class Event:
    kind: str  # one of KINDS
    start: date
    end: date  # the last day; the same as start but for freezes
    short: str  # what the grid cell says, e.g. "Announce C1"
    deployment: Deployment | None = None  # the deployment a date belongs to
    criticality: str | None = None  # for announce-by dates
    name: str = ""  # a freeze's name, a skipped month's reason
    held_back: tuple[str, ...] = ()  # the criticalities a freeze holds back


@dataclass(frozen=True)
class Day:
    date: date
    events: tuple[Event, ...]  # the one-day events of this day, and the freezes covering it
    today: bool
    day_off: bool  # a weekend day or a holiday of the business calendar
    holiday: str | None

    @property
    def frozen(self) -> bool:
        return any(event.kind == "freeze" for event in self.events)


@dataclass(frozen=True)
class Month:
    first: date
    weeks: tuple[tuple[Day | None, ...], ...]  # seven cells a week, None outside the month
    events: tuple[Event, ...] = field(default=())  # what happens in the month, in order

    @property
    def key(self) -> str:
        return strftime(self.first, "%Y-%m")


def month_grids(
    config: Config, schedule: Schedule, start: date, months: int, today: date
) -> list[Month]:
    """The grids of ``months`` months from the month of ``start``."""
    first = start.replace(day=1)
    last = first + relativedelta(months=months, days=-1)
    events = _events(config, schedule, first, last, months)
    grids = []
    for index in range(months):
        month_first = first + relativedelta(months=index)
        month_last = month_first + relativedelta(months=1, days=-1)
        in_month = tuple(e for e in events if e.start <= month_last and e.end >= month_first)
        grids.append(Month(month_first, _weeks(month_first, in_month, schedule, today), in_month))
    return grids


def _events(
    config: Config, schedule: Schedule, first: date, last: date, months: int
) -> list[Event]:
    # Deadlines come before their deployment: look that far past the last month.
    lead = max(
        [(d.date - d.signoff_cutoff).days for d in schedule.deployments(first, 1)]
        + [
            notice.as_timedelta().days
            for notice in config.notice.by_criticality.values()
            if not notice.is_business
        ]
        + [0]
    )
    extra = 2 + lead // 28
    found: list[Event] = []
    for deployment in schedule.deployments(first, months + extra):
        found.append(
            Event("deployment", deployment.date, deployment.date, "Deployment", deployment)
        )
        found.append(
            Event(
                "signoff",
                deployment.signoff_cutoff,
                deployment.signoff_cutoff,
                "Sign-off cut-off",
                deployment,
            )
        )
        for criticality in CRITICALITIES:
            notice = config.notice.by_criticality[criticality]
            if notice.amount == 0 or deployment.is_frozen_for(criticality):
                continue
            day = deployment.announce_by[criticality]
            found.append(
                Event("announce", day, day, f"Announce {criticality}", deployment, criticality)
            )
    for override in schedule.skipped(first, months):
        found.append(
            Event("skipped", override.month, override.month, "No deployment", name=override.reason)
        )
    for freeze in config.freezes:
        for start, end in freeze.windows(first.year - 1, last.year):
            found.append(
                Event(
                    "freeze", start, end, "Freeze", name=freeze.name, held_back=freeze.criticality
                )
            )
    in_range = [e for e in found if e.start <= last and e.end >= first]
    return sorted(in_range, key=lambda e: (e.start, KINDS.index(e.kind), e.criticality or ""))


def _weeks(
    first: date, events: tuple[Event, ...], schedule: Schedule, today: date
) -> tuple[tuple[Day | None, ...], ...]:
    weeks = calendar.Calendar(FIRST_WEEKDAY).monthdatescalendar(first.year, first.month)
    business = schedule.calendar
    return tuple(
        tuple(
            Day(
                date=day,
                events=tuple(e for e in events if e.start <= day <= e.end),
                today=day == today,
                day_off=not business.is_business_day(day),
                holiday=business.holiday_name(day),
            )
            if day.month == first.month
            else None
            for day in week
        )
        for week in weeks
    )


def weekday_names() -> list[tuple[str, str]]:
    """(short, full) names of the grid's columns, from its first weekday."""
    first = date(2023, 1, 1) + timedelta(days=(FIRST_WEEKDAY - calendar.SUNDAY) % 7)  # a Sunday
    days = [first + timedelta(days=offset) for offset in range(7)]
    return [(f"{day:%a}", f"{day:%A}") for day in days]
