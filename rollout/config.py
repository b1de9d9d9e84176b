"""rollout.toml: finding it, reading it, validating it into a frozen policy.

Every key is optional; what is missing comes from the Support Operations defaults
(PRODUCT.md §2). Validation happens here, once: a bad value raises ConfigError naming
the file, the key and the problem, so nothing downstream re-checks the config.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from rollout.dates import parse_date
from rollout.durations import Duration, parse_duration
from rollout.errors import ConfigError
from rollout.safety import clean

CONFIG_NAME = "rollout.toml"
BUILT_IN = "<built-in defaults>"
CRITICALITIES = ("C1", "C2", "C3", "C4")
WEEKEND_POLICIES = ("keep", "next-business-day", "previous-business-day")
TRACKER_KINDS = ("gitlab", "snapshot")
# Bounds of [tracker] concurrency, retries and timeout (seconds).
MAX_CONCURRENCY = 64
MAX_RETRIES = 20
MAX_TIMEOUT = 3_600.0

T = TypeVar("T")


@dataclass(frozen=True)
class HolidayCalendar:
    country: str
    subdivision: str | None = None


# A field named "date" shadows the type inside a class body; this name does not.
Day = date


@dataclass(frozen=True)
class Override:
    """An announced exception to the rule for one deployment period."""

    month: Day  # first day of the period's month
    date: Day | None  # the announced date, or None when the month is skipped
    reason: str

    @property
    def skip(self) -> bool:
        return self.date is None


@dataclass(frozen=True)
class MonthDay:
    """A freeze boundary: MM-DD recurs every year, YYYY-MM-DD happens once."""

    month: int
    day: int
    year: int | None = None

    def in_year(self, year: int) -> date:
        # A recurring 02-29 falls on the 28th in common years.
        return date(year, self.month, 1) + relativedelta(day=self.day)

    def __str__(self) -> str:
        prefix = f"{self.year:04d}-" if self.year is not None else ""
        return f"{prefix}{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Freeze:
    name: str
    start: MonthDay
    end: MonthDay  # inclusive
    criticality: tuple[str, ...]

    @property
    def recurring(self) -> bool:
        return self.start.year is None

    def windows(self, first_year: int, last_year: int) -> list[tuple[date, date]]:
        """The (first day, last day) windows that start in the given years."""
        if not self.recurring:
            assert self.start.year is not None and self.end.year is not None
            start = self.start.in_year(self.start.year)
            if first_year <= start.year <= last_year:
                return [(start, self.end.in_year(self.end.year))]
            return []
        wraps = (self.end.month, self.end.day) < (self.start.month, self.start.day)
        return [
            (self.start.in_year(year), self.end.in_year(year + 1 if wraps else year))
            for year in range(first_year, last_year + 1)
        ]

    def covers(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.windows(day.year - 1, day.year))


@dataclass(frozen=True)
class SchedulePolicy:
    timezone: str = "UTC"
    day: int = 1
    time: time | None = None
    weekend: str = "keep"
    holidays: HolidayCalendar | None = None
    extra_holidays: tuple[date, ...] = ()
    signoff_cutoff: Duration = Duration(3, "business days")
    milestone: str = "CustSuppOps Deployment {date:%Y-%m-%d}"
    overrides: tuple[Override, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _default_notice() -> dict[str, Duration]:
    return {
        "C1": Duration(4, "weeks"),
        "C2": Duration(3, "weeks"),
        "C3": Duration(2, "weeks"),
        "C4": Duration(0, "days"),
    }


@dataclass(frozen=True)
class NoticePolicy:
    by_criticality: Mapping[str, Duration] = field(default_factory=_default_notice)
    reminder: Duration = Duration(72, "hours")


DECEMBER_FREEZE = Freeze(
    name="December code freeze",
    start=MonthDay(12, 1),
    end=MonthDay(12, 31),
    criticality=("C1", "C2"),
)


@dataclass(frozen=True)
class LabelPrefixes:
    stage: str = "Stage::"
    validation: str = "Validation::"
    request_type: str = "RequestType::"
    criticality: str = "Criticality::"
    deployment: str = "Deployment::"
    customer: str = "Customer::"
    priority: str = "Priority::"


@dataclass(frozen=True)
class LabelValues:
    """The label values rollout gives a meaning to; each may have aliases (first is canonical)."""

    # stages (after the stage prefix)
    triage: tuple[str, ...] = ("Triage",)
    planning: tuple[str, ...] = ("Planning",)
    scheduling: tuple[str, ...] = ("Scheduling",)
    queued: tuple[str, ...] = ("Queued",)
    development: tuple[str, ...] = ("Development",)
    validation: tuple[str, ...] = ("Validation",)
    implementation: tuple[str, ...] = ("Implementation",)
    completed: tuple[str, ...] = ("Completed",)
    blocked: tuple[str, ...] = ("Blocked",)
    backlogged: tuple[str, ...] = ("Backlogged",)
    # validation (after the validation prefix); older trackers say Requested for Awaiting
    awaiting: tuple[str, ...] = ("Awaiting", "Requested")
    received: tuple[str, ...] = ("Received",)
    rejected: tuple[str, ...] = ("Rejected",)
    skipped: tuple[str, ...] = ("Skipped",)
    # request types
    bug: tuple[str, ...] = ("Bug",)
    feature: tuple[str, ...] = ("Feature",)
    administrative: tuple[str, ...] = ("Administrative",)
    incident: tuple[str, ...] = ("Incident",)
    # deployment types
    standard: tuple[str, ...] = ("Standard",)
    ad_hoc: tuple[str, ...] = ("Ad-hoc", "Adhoc", "Ad hoc")
    exception: tuple[str, ...] = ("Exception",)
    special: tuple[str, ...] = ("Special",)


@dataclass(frozen=True)
class TrackerConfig:
    kind: str | None = None  # None: no tracker configured
    project: str | None = None
    url: str | None = None
    gitlab_id: str | None = None
    snapshot: Path | None = None
    concurrency: int = 8
    retries: int = 5
    timeout: float = 30.0


@dataclass(frozen=True)
class CalendarConfig:
    name: str = "Support Operations deployments"
    domain: str = "rollout.local"
    refresh: Duration = Duration(12, "hours")
    duration: Duration = Duration(1, "hours")  # length of a timed deployment's event


def _default_targets() -> dict[str, Duration | None]:
    return {
        "triage": Duration(2, "business days"),
        "planning": Duration(5, "business days"),
        "scheduling": Duration(5, "business days"),  # reviewed weekly
        "queued": None,  # waits for capacity
        "development": Duration(15, "business days"),
        "validation": Duration(5, "business days"),
        "implementation": Duration(3, "business days"),
        "completed": Duration(2, "business days"),  # closed within two
        "blocked": None,  # escalated instead, see escalation
        "backlogged": None,
    }


@dataclass(frozen=True)
class Targets:
    """How long an issue should stay in each stage, and the Blocked escalation step."""

    by_stage: Mapping[str, Duration | None] = field(default_factory=_default_targets)
    escalation: Duration = Duration(1, "weeks")  # each step: blocker, leadership, next level, close


@dataclass(frozen=True)
class AnnounceConfig:
    """Where announcements find their parts in an issue description, and who posts them."""

    what_headings: tuple[str, ...] = ("What", "Proposal")
    why_headings: tuple[str, ...] = ("Why", "Business need")
    other_headings: tuple[str, ...] = ("Other information", "Additional information")
    audiences: Mapping[str, str] = field(default_factory=dict)  # Customer:: value -> who
    # Usernames whose notes' markers count besides the token's own user (PRODUCT.md §3).
    posters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    source: str = BUILT_IN
    schedule: SchedulePolicy = SchedulePolicy()
    notice: NoticePolicy = NoticePolicy()
    freezes: tuple[Freeze, ...] = (DECEMBER_FREEZE,)
    labels: LabelPrefixes = LabelPrefixes()
    label_values: LabelValues = LabelValues()
    tracker: TrackerConfig = TrackerConfig()
    calendar: CalendarConfig = CalendarConfig()
    targets: Targets = Targets()
    announce: AnnounceConfig = AnnounceConfig()
    templates_dir: Path | None = None


# --------------------------------------------------------------------------- finding


def find_config(start: Path) -> Path | None:
    """The rollout.toml in ``start`` or the nearest parent directory that has one."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None, *, cwd: Path | None = None) -> Config:
    """Load ``path``, else the nearest rollout.toml from ``cwd``, else the built-in defaults."""
    cwd = cwd or Path.cwd()
    if path is None:
        path = find_config(cwd)
        if path is None:
            return Config()
    source = _display_name(path, cwd)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(source, "(file)", f"cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(source, "(file)", "is not UTF-8 text") from None
    return parse_config(text, source=source, base_dir=path.parent)


def _display_name(path: Path, cwd: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def parse_config(text: str, *, source: str = CONFIG_NAME, base_dir: Path | None = None) -> Config:
    """Validate TOML text into a Config; relative paths in it are taken from ``base_dir``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(syntax)", f"not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(source, "(syntax)", "nested too deeply to read") from None
    root = _Table(data, source, "")
    defaults = Config()
    config = Config(
        source=source,
        schedule=_read_schedule(root.table("schedule")),
        notice=_read_notice(root.table("notice")),
        freezes=_read_freezes(root, defaults.freezes),
        **_read_labels(root.table("labels")),
        tracker=_read_tracker(root.table("tracker", secret=True), base_dir or Path.cwd()),
        calendar=_read_calendar(root.table("calendar")),
        targets=_read_targets(root.table("targets")),
        announce=_read_announce(root.table("announce"), root.table("audiences")),
        templates_dir=_read_templates(root.table("templates"), base_dir or Path.cwd()),
    )
    root.finish()
    return config


# --------------------------------------------------------------------------- reading


class _Table:
    """One TOML table being read: typed getters that remember which keys were used."""

    def __init__(
        self, data: Mapping[str, Any] | None, source: str, path: str, *, secret: bool = False
    ) -> None:
        self.data = dict(data or {})
        self.source = source
        self.path = path
        # A table whose values are never echoed in an error: it may hold a token by mistake.
        self.secret = secret
        self.known: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), problem)

    def has(self, name: str) -> bool:
        self.known.add(name)
        return name in self.data

    def get(self, name: str, kind: type[T], default: T, what: str) -> T:
        self.known.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        # bool is an int in Python, and TOML never means one as the other.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(name, f"must be {what}, not {self.shown(value)}")
        return value

    def shown(self, value: object) -> str:
        """A value for an error message: its type, and the value itself if short and not
        in a secret table."""
        kind = _toml_type(value)
        if self.secret or not isinstance(value, str | int | float | date | time):
            return kind
        text = repr(clean(value, limit=40) if isinstance(value, str) else value)
        return f"{kind} {text}"

    def integer(self, name: str, default: int, least: int, most: int) -> int:
        value = self.get(name, int, default, f"an integer from {least} to {most}")
        if not least <= value <= most:
            hint = "" if self.secret else f", not {value}"
            raise self.error(name, f"must be from {least} to {most}{hint}")
        return value

    def number(self, name: str, default: float, most: float) -> float:
        value = self.get(name, object, default, "a number")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= most  # also false for nan
        ):
            raise self.error(
                name, f"must be a number above 0 and at most {most:g}, not {self.shown(value)}"
            )
        return float(value)

    def text(self, name: str, default: str) -> str:
        return self.get(name, str, default, "a string")

    def parsed(self, name: str, default: T, parse: Callable[[str], T]) -> T:
        """A string value turned into something else by ``parse`` (which raises ValueError)."""
        if not self.has(name):
            return default
        raw = self.get(name, str, "", "a string")
        try:
            return parse(raw)
        except ValueError as error:
            message = str(error)
            if raw:  # the parser quotes the value: shortened, or hidden in a secret table
                message = message.replace(f'"{raw}"', "its value" if self.secret else _quoted(raw))
            raise self.error(name, message) from None

    def table(self, name: str, *, secret: bool = False) -> _Table:
        value = self.get(name, dict, {}, "a table")
        return _Table(value, self.source, self.key(name), secret=secret or self.secret)

    def tables(self, name: str) -> Iterator[_Table]:
        values = self.get(name, list, [], "an array of tables ([[...]])")
        for index, value in enumerate(values, start=1):
            label = f"{self.key(name)}[{index}]"
            if not isinstance(value, dict):
                raise ConfigError(self.source, label, f"must be a table, not {_toml_type(value)}")
            yield _Table(value, self.source, label)

    def finish(self) -> None:
        """Reject the keys nobody asked for, suggesting the nearest known one."""
        for name in self.data:
            if name in self.known:
                continue
            close = difflib.get_close_matches(name, sorted(self.known), n=1, cutoff=0.6)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            valid = ", ".join(sorted(self.known))
            raise self.error(name, f"unknown key{hint} (valid keys here: {valid})")


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names.update({list: "an array", dict: "a table", date: "a date", time: "a time"})
    for kind, name in names.items():
        if type(value) is kind:
            return name
    return type(value).__name__


def _quoted(text: str, limit: int = 40) -> str:
    shown = clean(text, limit=limit)
    return f'"{shown}"'


def _parse_month(text: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f'"{text}" is not a month; write YYYY-MM')
    return date(int(match.group(1)), int(match.group(2)), 1)


def _parse_month_day(text: str) -> MonthDay:
    match = re.fullmatch(r"(?:(\d{4})-)?(\d{2})-(\d{2})", text)
    if not match:
        raise ValueError(f'"{text}" is not a date; write MM-DD (every year) or YYYY-MM-DD (once)')
    year = int(match.group(1)) if match.group(1) else None
    month, day = int(match.group(2)), int(match.group(3))
    # A recurring date is checked against a leap year so that 02-29 is allowed.
    try:
        date(year if year is not None else 2028, month, day)
    except ValueError:
        raise ValueError(f'"{text}" is not a real date') from None
    return MonthDay(month, day, year)


def _parse_time(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f'"{text}" is not a time of day; write HH:MM (24-hour)')
    return time(int(match.group(1)), int(match.group(2)))


def _parse_zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(
            f'unknown time zone "{text}"; use an IANA name like "Europe/Berlin"'
        ) from None
    return text


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f'"{text}" is not one of: {", ".join(choices)}')
        return text

    return parse


def _parse_milestone(text: str) -> str:
    """A milestone title format that gives each deployment a title of its own."""
    example = 'e.g. "CustSuppOps Deployment {date:%Y-%m-%d}"'
    # Neighbouring months, and the same month a year later: titles must tell them apart.
    probes = (date(2027, 1, 1), date(2027, 2, 1), date(2028, 1, 1))
    try:
        titles = [text.format(date=probe, deploy_date=probe) for probe in probes]
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as error:
        raise ValueError(
            f'cannot format "{text}" ({error!s}); it may use {{date}} and {{deploy_date}}, '
            f"{example}"
        ) from None
    if len(set(titles)) < len(titles):
        raise ValueError(
            f'"{text}" gives deployments the same title ("{titles[0]}" for January and '
            f"February or for two years); put the date in it with {{date}}, {example}"
        )
    if any(not title.strip() or len(title) > 255 for title in titles):
        raise ValueError(f'"{text}" must give titles of 1 to 255 characters (GitLab\'s limit)')
    return text


# --------------------------------------------------------------------------- sections


def _read_schedule(table: _Table) -> SchedulePolicy:
    defaults = SchedulePolicy()
    day = table.integer("day", defaults.day, 1, 31)
    policy = SchedulePolicy(
        timezone=table.parsed("timezone", defaults.timezone, _parse_zone),
        day=day,
        time=table.parsed("time", defaults.time, _parse_time),
        weekend=table.parsed("weekend", defaults.weekend, _parse_choice(WEEKEND_POLICIES)),
        holidays=_read_holidays(table),
        extra_holidays=_read_extra_holidays(table),
        signoff_cutoff=table.parsed("signoff_cutoff", defaults.signoff_cutoff, parse_duration),
        milestone=table.parsed("milestone", defaults.milestone, _parse_milestone),
    )
    overrides = _read_overrides(table, day)
    table.finish()
    return SchedulePolicy(**{**policy.__dict__, "overrides": overrides})


def _read_holidays(schedule: _Table) -> HolidayCalendar | None:
    if not schedule.has("holidays"):
        return None
    table = schedule.table("holidays")
    country = table.text("country", "")
    subdivision = table.text("subdivision", "") or None
    table.finish()
    if not country:
        raise table.error("country", 'is required, e.g. holidays = { country = "US" }')
    import holidays  # heavy; only needed when holidays are configured

    supported = holidays.list_supported_countries()
    if country not in supported:
        close = difflib.get_close_matches(country.upper(), supported, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise table.error("country", f'unknown holiday country "{country}"{hint}')
    if subdivision is not None and subdivision not in supported[country]:
        raise table.error(
            "subdivision",
            f'"{subdivision}" is not a subdivision of {country} '
            f"(known: {', '.join(supported[country]) or 'none'})",
        )
    return HolidayCalendar(country, subdivision)


def _read_extra_holidays(table: _Table) -> tuple[date, ...]:
    values = table.get("extra_holidays", list, [], 'an array of dates like ["2027-12-24"]')
    days = []
    for index, value in enumerate(values, start=1):
        key = f"extra_holidays[{index}]"
        if isinstance(value, date) and not hasattr(value, "hour"):
            days.append(value)
            continue
        if not isinstance(value, str):
            raise table.error(key, f"must be a date string, not {_toml_type(value)}")
        try:
            days.append(parse_date(value))
        except ValueError as error:
            raise table.error(key, str(error)) from None
    return tuple(sorted(set(days)))


def _read_overrides(schedule: _Table, day: int) -> tuple[Override, ...]:
    overrides: dict[date, Override] = {}
    for table in schedule.tables("override"):
        if not table.has("month"):
            raise table.error("month", 'is required, e.g. month = "2027-05"')
        month = table.parsed("month", date.min, _parse_month)
        skip = table.get("skip", bool, False, "true or false")
        moved = table.parsed("date", None, parse_date)
        reason = table.text("reason", "")
        table.finish()
        if month in overrides:
            raise table.error(
                "month", f"{month:%Y-%m} is overridden twice; keep one [[schedule.override]]"
            )
        if skip and moved is not None:
            raise table.error("date", "give either date or skip = true, not both")
        if not skip and moved is None:
            raise table.error("date", "is required unless skip = true")
        if moved is not None:
            # the neighbouring periods' rule dates (day 31 is the last day of a shorter month)
            try:
                earliest = month + relativedelta(months=-1, day=day)
                latest = month + relativedelta(months=1, day=day)
            except (ValueError, OverflowError):
                raise table.error(
                    "month", f"{month:%Y-%m} is too close to the end of the calendar to plan"
                ) from None
            if not earliest < moved < latest:
                raise table.error(
                    "date",
                    f"{moved} is outside the {month:%Y-%m} period "
                    f"(it must fall after {earliest} and before {latest})",
                )
        overrides[month] = Override(month, moved, reason)
    return tuple(sorted(overrides.values(), key=lambda override: override.month))


def _read_notice(table: _Table) -> NoticePolicy:
    defaults = NoticePolicy()
    notice = {
        name: table.parsed(name, defaults.by_criticality[name], parse_duration)
        for name in CRITICALITIES
    }
    reminder = table.parsed("reminder", defaults.reminder, parse_duration)
    table.finish()
    return NoticePolicy(notice, reminder)


def _read_freezes(root: _Table, defaults: tuple[Freeze, ...]) -> tuple[Freeze, ...]:
    if not root.has("freeze"):
        return defaults
    freezes = []
    for table in root.tables("freeze"):
        name = table.text("name", "Code freeze")
        for required in ("from", "to"):
            if not table.has(required):
                raise table.error(
                    required, 'is required, e.g. "12-01" (every year) or "2027-12-01"'
                )
        start = table.parsed("from", MonthDay(1, 1), _parse_month_day)
        end = table.parsed("to", MonthDay(1, 1), _parse_month_day)
        criticality = _read_criticalities(table)
        table.finish()
        if (start.year is None) != (end.year is None):
            raise table.error(
                "to", "from and to must both be MM-DD (every year) or both YYYY-MM-DD"
            )
        if (
            start.year is not None
            and end.year is not None
            and (end.in_year(end.year) < start.in_year(start.year))
        ):
            raise table.error("to", f"the freeze ends ({end}) before it starts ({start})")
        freezes.append(Freeze(name, start, end, criticality))
    return tuple(freezes)


def _read_criticalities(table: _Table) -> tuple[str, ...]:
    values = table.get("criticality", list, list(CRITICALITIES), 'an array like ["C1", "C2"]')
    for value in values:
        if value not in CRITICALITIES:
            raise table.error(
                "criticality",
                f"{_quoted(value) if isinstance(value, str) else table.shown(value)} "
                f"is not one of {', '.join(CRITICALITIES)}",
            )
    return tuple(sorted(set(values)))


def _read_labels(table: _Table) -> dict[str, Any]:
    defaults = LabelPrefixes()
    prefixes = LabelPrefixes(
        **{name: table.text(name, getattr(defaults, name)) for name in defaults.__dict__}
    )
    values_table = table.table("values")
    default_values = LabelValues()
    values = LabelValues(
        **{
            name: _read_aliases(values_table, name, getattr(default_values, name))
            for name in default_values.__dict__
        }
    )
    values_table.finish()
    table.finish()
    return {"labels": prefixes, "label_values": values}


def _read_aliases(table: _Table, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A label value, or an array of them (the first is the one rollout writes)."""
    if not table.has(name):
        return default
    value = table.data[name]
    aliases = [value] if isinstance(value, str) else value
    if (
        not isinstance(aliases, list)
        or not aliases
        or not all(isinstance(alias, str) and alias for alias in aliases)
    ):
        raise table.error(
            name, 'must be a label value or an array of them, e.g. ["Awaiting", "Requested"]'
        )
    return tuple(aliases)


def _read_tracker(table: _Table, base_dir: Path) -> TrackerConfig:
    defaults = TrackerConfig()
    snapshot = table.text("snapshot", "")
    tracker = TrackerConfig(
        kind=table.parsed("kind", None, _parse_choice(TRACKER_KINDS)),
        project=table.text("project", "") or None,
        url=table.text("url", "") or None,
        gitlab_id=table.text("gitlab_id", "") or None,
        snapshot=(base_dir / snapshot) if snapshot else None,
        concurrency=table.integer("concurrency", defaults.concurrency, 1, MAX_CONCURRENCY),
        retries=table.integer("retries", defaults.retries, 0, MAX_RETRIES),
        timeout=table.number("timeout", defaults.timeout, MAX_TIMEOUT),
    )
    table.finish()
    if tracker.kind == "snapshot" and tracker.snapshot is None:
        raise table.error("snapshot", 'is required when kind = "snapshot" (the file to read)')
    if tracker.kind is None and (tracker.project or tracker.gitlab_id):
        tracker = TrackerConfig(**{**tracker.__dict__, "kind": "gitlab"})
    elif tracker.kind is None and tracker.snapshot is not None:
        tracker = TrackerConfig(**{**tracker.__dict__, "kind": "snapshot"})
    return tracker


def _read_calendar(table: _Table) -> CalendarConfig:
    defaults = CalendarConfig()
    calendar = CalendarConfig(
        name=table.text("name", defaults.name),
        domain=table.text("domain", defaults.domain),
        refresh=table.parsed("refresh", defaults.refresh, parse_duration),
        duration=table.parsed("duration", defaults.duration, parse_duration),
    )
    table.finish()
    if not re.fullmatch(r"[A-Za-z0-9.-]+", calendar.domain):
        raise table.error("domain", f'"{calendar.domain}" is not a domain name')
    if calendar.refresh.is_business or calendar.refresh.amount == 0:
        raise table.error("refresh", "must be a non-zero number of hours, days or weeks")
    if calendar.duration.is_business or calendar.duration.amount == 0:
        raise table.error("duration", "must be a non-zero number of hours, days or weeks")
    return calendar


def _read_targets(table: _Table) -> Targets:
    defaults = Targets()

    def target(text: str) -> Duration | None:
        return None if text.strip().lower() in ("", "none") else parse_duration(text)

    by_stage = {
        stage: table.parsed(stage, default, target) for stage, default in defaults.by_stage.items()
    }
    escalation = table.parsed("escalation", defaults.escalation, parse_duration)
    table.finish()
    if escalation.amount == 0:
        raise table.error("escalation", "must be longer than 0")
    return Targets(by_stage, escalation)


def _read_headings(table: _Table, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    values = table.get(name, list, list(default), 'an array of headings like ["What", "Proposal"]')
    if not all(isinstance(value, str) and value.strip() for value in values):
        raise table.error(name, "must hold non-empty strings")
    return tuple(values)


def _read_usernames(table: _Table, name: str) -> tuple[str, ...]:
    values = table.get(name, list, [], 'an array of GitLab usernames like ["alice"]')
    names = []
    for index, value in enumerate(values, start=1):
        username = value.removeprefix("@") if isinstance(value, str) else ""
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", username):
            raise table.error(f"{name}[{index}]", 'must be a GitLab username like "alice"')
        names.append(username)
    return tuple(names)


def _read_announce(table: _Table, audiences_table: _Table) -> AnnounceConfig:
    defaults = AnnounceConfig()
    announce = AnnounceConfig(
        what_headings=_read_headings(table, "what_headings", defaults.what_headings),
        why_headings=_read_headings(table, "why_headings", defaults.why_headings),
        other_headings=_read_headings(table, "other_headings", defaults.other_headings),
        audiences={name: audiences_table.text(name, "") for name in audiences_table.data},
        posters=_read_usernames(table, "posters"),
    )
    table.finish()
    audiences_table.finish()
    return announce


def _read_templates(table: _Table, base_dir: Path) -> Path | None:
    directory = table.text("dir", "")
    table.finish()
    if not directory:
        return None
    path = base_dir / directory
    if not path.is_dir():
        raise table.error("dir", f"{path} is not a directory")
    return path
