"""The deployment calendar: when standard changes ship, and the deadlines around each date.

Pure computation over a Config: no I/O, no clock. Callers pass the dates they care
about ("today" is theirs to choose), and get back plain Deployment values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, rrule

from rollout.business_days import BusinessCalendar
from rollout.config import CRITICALITIES, Config, Override
from rollout.dates import FourDigitDate, strftime
from rollout.durations import Duration
from rollout.errors import ConfigError

# A deployment period can be skipped a few months in a row, never for ever:
# searches for "the next deployment" give up after this many months.
_SEARCH_MONTHS = 120


# The field named "date" below would shadow the type inside the class body.
Day = date


@dataclass(frozen=True)
class Deployment:
    period: Day  # the period's date by the rule (day N of its month), what milestones name
    date: Day  # when it actually happens
    start: datetime | None  # zone-aware start when the policy has a deploy time; None = all day
    timezone: str
    milestone: str
    reason: str  # why it falls on this date, for people
    reason_kind: str  # "rule", "kept" (the rule's date is a day off), "shift" or "override"
    signoff_cutoff: Day
    announce_by: Mapping[str, Day]
    reminder: datetime
    frozen_for: tuple[str, ...]  # criticalities a freeze holds back from this deployment
    freezes: tuple[str, ...]  # names of the freezes covering the date

    @property
    def period_key(self) -> str:
        return strftime(self.period, "%Y-%m")

    @property
    def weekday(self) -> str:
        return f"{self.date:%A}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_frozen_for(self, criticality: str) -> bool:
        return criticality in self.frozen_for


class Schedule:
    """The deployments a Config's policy produces."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.policy = config.schedule
        self.calendar = BusinessCalendar.for_policy(self.policy)
        self._overrides: dict[date, Override] = {o.month: o for o in self.policy.overrides}
        # Deployments are asked for again and again (once per issue); compute each once.
        self._known: dict[date, Deployment | None] = {}
        self._ranges: dict[tuple[date, int], list[Deployment]] = {}

    # ---------------------------------------------------------------- ranges

    def deployments(self, start: date, months: int = 12) -> list[Deployment]:
        """The deployments of ``months`` periods, starting with the month of ``start``.

        Skipped periods yield nothing, so the list can be shorter than ``months``.
        """
        return list(self._range(start.replace(day=1), months))

    def _range(self, first: date, months: int) -> list[Deployment]:
        found = self._ranges.get((first, months))
        if found is None:
            if _months_between(first, _LAST_MONTH) < months - 1:
                # As datetime says it: the CLI names the dates given, in one line.
                raise OverflowError("date value out of range: the periods pass the year 9999")
            found = [
                deployment
                for period in self._periods(first, months)
                if (deployment := self._remembered(period)) is not None
            ]
            self._check_increasing(found)
            self._ranges[(first, months)] = found
        return found

    def skipped(self, start: date, months: int = 12) -> list[Override]:
        """The overrides that skip a period among the ``months`` from the month of ``start``."""
        first = start.replace(day=1)
        months_in = [o for o in self.policy.overrides if o.skip and first <= o.month]
        # Counted in months from the first: a range ending in December 9999 has no "after".
        return [o for o in months_in if _months_between(first, o.month) < months]

    def iter_from(self, day: date) -> Iterator[Deployment]:
        """Deployments on or after ``day``, in order (periods from the month before it)."""
        # Plain date arithmetic: the ships-on rule asks this for every issue it judges.
        month = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        for _ in range(0, _SEARCH_MONTHS, 12):
            for deployment in self._range(month, 12):
                if deployment.date >= day:
                    yield deployment
            month = month.replace(year=month.year + 1)

    # ---------------------------------------------------------------- lookups

    def next_deployment(self, moment: date | datetime) -> Deployment:
        """The first deployment not over at ``moment``.

        A date matches deployments on that day or later; a datetime also passes over a
        timed deployment that has already started.
        """
        if isinstance(moment, datetime):
            local = moment.astimezone(self.policy.zone)
            for deployment in self.iter_from(local.date()):
                if deployment.start is None or deployment.start >= moment:
                    return deployment
        else:
            for deployment in self.iter_from(moment):
                return deployment
        raise ConfigError(
            self.config.source,
            "schedule.override",
            f"no deployment in the ten years after {moment}",
        )

    def previous_deployment(self, day: date) -> Deployment:
        """The last deployment before ``day``."""
        month = day.replace(day=1)
        for _ in range(0, _SEARCH_MONTHS, 12):
            month -= relativedelta(years=1)
            before = [d for d in self.deployments(month, 13) if d.date < day]
            if before:
                return before[-1]
        raise ConfigError(
            self.config.source, "schedule.override", f"no deployment in the ten years before {day}"
        )

    def deployment_for(self, day: date) -> Deployment:
        """The deployment that work done on ``day`` rides: the first one on or after it."""
        return self.next_deployment(day)

    def reminder_for(self, day: date) -> datetime:
        """When the reminder of a change shipping on ``day`` falls: that day's deployment's
        reminder, or for a day off the schedule (ad-hoc, exception) [notice] reminder before
        the day's start."""
        deployment = self.deployment_on(day)
        if deployment is not None and deployment.date == day:
            return deployment.reminder
        begins = self._start(day) or _local_midnight(day, self.policy.zone)
        return self._reminder(self.config.notice.reminder, day, begins)

    def deployment_on(self, day: date) -> Deployment | None:
        """The deployment dated ``day``, or whose period's rule date is ``day``."""
        for deployment in self.iter_from(day - timedelta(days=62)):
            if day in (deployment.date, deployment.period):
                return deployment
            if deployment.date > day + timedelta(days=62):
                return None
        return None

    # ---------------------------------------------------------------- one period

    def _periods(self, first: date, months: int) -> list[date]:
        day = self.policy.day
        if day <= 28:
            rule = rrule(MONTHLY, dtstart=_midnight(first), count=months, bymonthday=day)
        else:
            # The last of 28..day that the month has: day N, or the month's last day.
            rule = rrule(
                MONTHLY,
                dtstart=_midnight(first),
                count=months,
                bymonthday=tuple(range(28, day + 1)),
                bysetpos=-1,
            )
        return [occurrence.date() for occurrence in rule]

    def _remembered(self, period: date) -> Deployment | None:
        if period not in self._known:
            self._known[period] = self._deployment(period)
        return self._known[period]

    def _deployment(self, period: date) -> Deployment | None:
        override = self._overrides.get(period.replace(day=1))
        if override is not None and override.date is None:
            return None
        if override is not None and override.date is not None:
            day, kind = override.date, "override"
            reason = override.reason or f"moved from {period} by an override"
        else:
            day, kind, reason = self._apply_weekend_policy(period)
        start = self._start(day)
        begins = start or _local_midnight(day, self.policy.zone)
        notice = self.config.notice
        frozen = [freeze for freeze in self.config.freezes if freeze.covers(day)]
        return Deployment(
            period=period,
            date=day,
            start=start,
            timezone=self.policy.timezone,
            milestone=self.policy.milestone.format(
                date=FourDigitDate.of(period), deploy_date=FourDigitDate.of(day)
            ),
            reason=reason,
            reason_kind=kind,
            signoff_cutoff=self.calendar.on_or_before(
                self._before(self.policy.signoff_cutoff, day, begins)
            ),
            announce_by={
                c: self._before(notice.by_criticality[c], day, begins) for c in CRITICALITIES
            },
            reminder=self._reminder(notice.reminder, day, begins),
            frozen_for=tuple(sorted({c for freeze in frozen for c in freeze.criticality})),
            freezes=tuple(freeze.name for freeze in frozen),
        )

    def _apply_weekend_policy(self, period: date) -> tuple[date, str, str]:
        """The date, the kind of reason and the reason, after the weekend policy."""
        rule = f"the {_ordinal(self.policy.day)} of the month"
        if period.day != self.policy.day:
            rule = f"the last day of the month (it has no {_ordinal(self.policy.day)})"
        if self.calendar.is_business_day(period):
            return period, "rule", rule
        why = self.calendar.holiday_name(period) or f"a {period:%A}"
        policy = self.policy.weekend
        if policy == "keep":
            return period, "kept", f"{rule}; kept although it is {why}"
        if policy == "next-business-day":
            day = self.calendar.on_or_after(period)
        else:
            day = self.calendar.on_or_before(period)
        direction = policy.replace("-", " ")
        return day, "shift", f"{rule} ({period}) is {why}; moved to the {direction}"

    def _start(self, day: date) -> datetime | None:
        if self.policy.time is None:
            return None
        return datetime.combine(day, self.policy.time, tzinfo=self.policy.zone)

    def _before(self, duration: Duration, day: date, begins: datetime) -> date:
        """The date ``duration`` before the deployment on ``day`` starting at ``begins``."""
        if duration.is_business:
            return self.calendar.before(day, duration.amount) if duration.amount else day
        return self._instant_before(duration, begins).date()

    def _reminder(self, duration: Duration, day: date, begins: datetime) -> datetime:
        if duration.is_business:
            when = self.calendar.before(day, duration.amount) if duration.amount else day
            return datetime.combine(when, begins.timetz())
        return self._instant_before(duration, begins)

    @staticmethod
    def _instant_before(duration: Duration, begins: datetime) -> datetime:
        # Hours and minutes are elapsed time; days and weeks keep the local time of day.
        if duration.is_elapsed:
            elapsed = begins.astimezone(UTC) - duration.as_timedelta()
            return elapsed.astimezone(begins.tzinfo)
        return begins - duration.as_timedelta()

    def _check_increasing(self, deployments: list[Deployment]) -> None:
        for earlier, later in pairwise(deployments):
            if later.date <= earlier.date:
                raise ConfigError(
                    self.config.source,
                    "schedule.override",
                    f"the {later.period_key} deployment ({later.date}) does not come after the "
                    f"{earlier.period_key} one ({earlier.date}); move one of them",
                )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


_LAST_MONTH = date(9999, 12, 1)


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month
