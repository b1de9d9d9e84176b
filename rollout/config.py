"""rollout.toml: finding it, reading it, validating it into a frozen policy.

Every key is optional; what is missing comes from the Support Operations defaults
(PRODUCT.md §2). Validation happens here, once: a bad value raises ConfigError naming
the file, the key and the problem, so nothing downstream re-checks the config.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from calendar import monthrange
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from rollout.dates import parse_date, strftime
from rollout.durations import Duration, parse_duration
from rollout.errors import ConfigError
from rollout.safety import clean

if TYPE_CHECKING:  # loaded by the commands that read patterns (_compile_pattern)
    import regex

CONFIG_NAME = "rollout.toml"
BUILT_IN = "<built-in defaults>"
CRITICALITIES = ("C1", "C2", "C3", "C4")
WEEKEND_POLICIES = ("keep", "next-business-day", "previous-business-day")
TRACKER_KINDS = ("gitlab", "snapshot")
# Where announcements are delivered (PRODUCT.md §8); each is a module of rollout.delivery.
# gitlab is always one of them: the issue note is the record §6 reads.
DELIVERY_TARGETS = ("gitlab", "slack")
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
        return date(year, self.month, min(self.day, monthrange(year, self.month)[1]))

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
    system: str = "System::"  # the system an incident is about (PRODUCT.md §11)


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
    # Where due announcements go (PRODUCT.md §8); gitlab first and always.
    targets: tuple[str, ...] = ("gitlab",)
    # The stages (roles) an issue is pre-announced from.
    pre_stages: tuple[str, ...] = ("development", "validation", "implementation")
    # How long after its deployment a change is post-announced, and how long a closed issue
    # stays among the ones looked at.
    post_window: Duration = Duration(7, "days")


@dataclass(frozen=True)
class SlackConfig:
    channel: str | None = None  # a name ("releases") or an id ("C0123ABCD")


# The request types [intake.sections] is keyed by, whatever their label values.
INTAKE_TYPES = {
    "bug": "Bug",
    "feature": "Feature",
    "administrative": "Administrative",
    "incident": "Incident",
}


def _default_sections() -> dict[str, tuple[str, ...]]:
    return {
        "bug": ("Steps to reproduce", "Expected behavior", "Actual behavior"),
        "feature": ("What", "Why"),
        "administrative": ("What",),
        "incident": (),
    }


# The patterns come from the config but run on text anyone who files an issue writes: a
# pattern that backtracks without end on some text must stop the run, not hang it. The
# defaults take about a microsecond a character (a second on a description of GitLab's
# maximum length), so the budget grows with the text, ten times that on top of a floor:
# only a pattern whose time grows faster than its text runs out of it.
PATTERN_TIMEOUT = 0.25  # seconds, for one pattern on a short text
PATTERN_TIME_PER_CHARACTER = 1e-5  # seconds


def pattern_timeout(text: str) -> float:
    """How long one self-service pattern may search ``text``, in seconds."""
    return PATTERN_TIMEOUT + PATTERN_TIME_PER_CHARACTER * len(text)


class PatternTimeout(TimeoutError):
    """One of a self-service rule's patterns ran out of its time on a text."""

    def __init__(self, number: int, seconds: float) -> None:
        super().__init__(f"patterns[{number}] took longer than {seconds:.2g} s")
        self.number = number  # of the pattern in the rule, from 1


@dataclass(frozen=True)
class SelfServiceRule:
    """A kind of request people can make themselves: ``patterns`` are regular expressions
    searched, case-insensitively, in an issue's title and description."""

    name: str
    patterns: tuple[str, ...]  # valid: checked on load
    instructions: str  # a URL

    @cached_property
    def _compiled(self) -> tuple[regex.Pattern[str], ...]:
        # Compiled on first use, not when every command imports the config.
        return tuple(_compile_pattern(pattern) for pattern in self.patterns)

    def search(self, text: str) -> regex.Match[str] | None:
        """The first match of the patterns in turn; PatternTimeout when one runs out of
        its time (pattern_timeout)."""
        seconds = pattern_timeout(text)
        for number, pattern in enumerate(self._compiled, start=1):
            try:
                match = pattern.search(text, timeout=seconds)
            except TimeoutError:
                raise PatternTimeout(number, seconds) from None
            if match is not None:
                return match
        return None


def _compile_pattern(pattern: str) -> regex.Pattern[str]:
    # The regex module, not re: only it can stop a search that runs too long. Imported
    # here, by the commands that read patterns: it takes 25 ms to load.
    import regex

    try:
        return regex.compile(pattern, regex.IGNORECASE)
    except regex.error as error:
        raise ValueError(str(error)) from None


def _rule(name: str, instructions: str, *patterns: str) -> SelfServiceRule:
    return SelfServiceRule(name, patterns, instructions)


# A few words between a verb and its object, within one sentence.
_GAP = r"(?:[ \t]+[\w'\u2019/&-]+){0,4}?[ \t]+"
# The handbook's two self-service options (PRODUCT.md §1).
DEFAULT_SELF_SERVICE = (
    _rule(
        "Zendesk managed content",
        "https://handbook.gitlab.com/handbook/support/workflows/working_with_support_ops/"
        "#self-service-options",
        # add / update / retire / a typo in ... a macro, trigger, automation, dynamic content
        r"\b(?:add|creat|new|updat|edit|chang|modif|rewor[dk]|rewrit|renam|remov|delet|retir"
        r"|deactivat|archiv|tweak|adjust|correct|typo)\w*"
        + _GAP
        + r"(?:macros?|triggers?|automations?|dynamic[ \t]+content)\b"
        r"(?![ \t]+(?:app|apps|api|usage|reports?|export|analytics|metrics|loops?)\b)",
        # "the refund macro wording", "trigger update request"
        r"\b(?:macros?|triggers?|automations?)[ \t]+(?:updates?|changes?|edits?|wording"
        r"|typos?)\b",
        r"\bzendesk[ \t]+(?:managed[ \t]+)?content\b",
    ),
    _rule(
        "Support Team YAML files",
        "https://handbook.gitlab.com/handbook/security/customer-support-operations/gitlab/"
        "support-team-yaml-files/",
        # the file itself, not the jobs that read it
        r"\bsupport[ \t_-]?team[ \t]+ya?ml\b"
        r"(?![ \t]+(?:sync|redis|pipeline|job|parser|schema)\b)",
        r"\bsupport-team\.ya?ml\b",
        r"\b(?:my|their|his|her|our)[ \t]+(?:(?:support[ \t]+)?team[ \t]+)?ya?ml\b",
    ),
)


@dataclass(frozen=True)
class IntakeConfig:
    """Triage of new requests (PRODUCT.md §11)."""

    needs_info_label: str = "Triage::Needs Info"
    close_self_service: bool = False
    # request type -> the headings its description must have, filled in
    sections: Mapping[str, tuple[str, ...]] = field(default_factory=_default_sections)
    self_service: tuple[SelfServiceRule, ...] = DEFAULT_SELF_SERVICE


def _default_tiers() -> dict[str, Duration]:
    return {
        "Mission Critical": Duration(10, "minutes"),
        "Business Critical": Duration(30, "minutes"),
        "Business Operational": Duration(8, "hours"),
        "Administrative": Duration(24, "hours"),
    }


@dataclass(frozen=True)
class IncidentsConfig:
    """When an incident is escalated to PagerDuty (PRODUCT.md §1 "Incidents")."""

    pagerduty_service: str = "Customer Support Operations"
    channel: str = "#support-operations"  # where an incident is reported first
    # tier -> how long to wait for a response before escalating
    tiers: Mapping[str, Duration] = field(default_factory=_default_tiers)
    # the System Criticality sheet: system -> tier (a key of tiers)
    systems: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteConfig:
    """The release site (PRODUCT.md §10)."""

    url: str | None = None  # where it is published, e.g. https://ops.gitlab.io/tracker
    history: int = 12  # months of past deployments with release notes


@dataclass(frozen=True)
class CacheConfig:
    """The local history cache (PRODUCT.md §9)."""

    enabled: bool = True
    path: Path | None = None  # None: the user cache directory, one file per host and project


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
    intake: IntakeConfig = IntakeConfig()
    incidents: IncidentsConfig = IncidentsConfig()
    site: SiteConfig = SiteConfig()
    slack: SlackConfig = SlackConfig()
    cache: CacheConfig = CacheConfig()


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
    source = display_path(path, cwd)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(source, "(file)", f"cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(source, "(file)", "is not UTF-8 text") from None
    return parse_config(text, source=source, base_dir=path.parent)


def display_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` as people want to read it: relative to ``cwd`` (default: the current
    directory) when it is inside it."""
    cwd = cwd or Path.cwd()
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
    schedule = _read_schedule(root.table("schedule"))
    notice = _read_notice(root.table("notice"))
    freezes = _read_freezes(root, defaults.freezes)
    labels = _read_labels(root.table("labels"))
    config = Config(
        source=source,
        schedule=schedule,
        notice=notice,
        freezes=freezes,
        **labels,
        tracker=_read_tracker(root.table("tracker", secret=True), base_dir or Path.cwd()),
        calendar=_read_calendar(root.table("calendar")),
        targets=_read_targets(root.table("targets")),
        announce=_read_announce(
            root.table("announce"), root.table("audiences"), labels["label_values"]
        ),
        templates_dir=_read_templates(root.table("templates"), base_dir or Path.cwd()),
        intake=_read_intake(root.table("intake")),
        incidents=_read_incidents(root.table("incidents")),
        site=_read_site(root.table("site")),
        slack=_read_slack(root.table("slack")),
        cache=_read_cache(root.table("cache"), base_dir or Path.cwd()),
    )
    root.finish()
    if "slack" in config.announce.targets and config.slack.channel is None:
        raise ConfigError(source, "slack.channel", 'is required when announce.targets has "slack"')
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
    if any(title != title.strip() or "\n" in title or "\r" in title for title in titles):
        # GitLab strips a title it stores: the next run would not find it, and make it again.
        raise ValueError(
            f"must give titles of one line without spaces at either end, not {titles[0]!r}"
        )
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
                "month",
                f"{strftime(month, '%Y-%m')} is overridden twice; keep one [[schedule.override]]",
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
                    "month",
                    f"{strftime(month, '%Y-%m')} is too close to the end of the calendar to plan",
                ) from None
            if not earliest < moved < latest:
                raise table.error(
                    "date",
                    f"{moved} is outside the {strftime(month, '%Y-%m')} period "
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


def _read_announce(
    table: _Table, audiences_table: _Table, label_values: LabelValues
) -> AnnounceConfig:
    defaults = AnnounceConfig()
    announce = AnnounceConfig(
        what_headings=_read_headings(table, "what_headings", defaults.what_headings),
        why_headings=_read_headings(table, "why_headings", defaults.why_headings),
        other_headings=_read_headings(table, "other_headings", defaults.other_headings),
        audiences={name: audiences_table.text(name, "") for name in audiences_table.data},
        posters=_read_usernames(table, "posters"),
        targets=_read_delivery_targets(table),
        pre_stages=_read_pre_stages(table, label_values, defaults.pre_stages),
        post_window=table.parsed("post_window", defaults.post_window, _parse_post_window),
    )
    table.finish()
    audiences_table.finish()
    return announce


def _read_delivery_targets(table: _Table) -> tuple[str, ...]:
    values = table.get("targets", list, ["gitlab"], 'an array of targets like ["gitlab", "slack"]')
    for index, value in enumerate(values, start=1):
        if value not in DELIVERY_TARGETS:
            known = ", ".join(DELIVERY_TARGETS)
            shown = f'"{value}"' if isinstance(value, str) else _toml_type(value)
            raise table.error(f"targets[{index}]", f"{shown} is not a target (known: {known})")
    # gitlab always, and first: the issue note is the record the other rules read.
    return tuple(dict.fromkeys(["gitlab", *values]))


def _read_pre_stages(
    table: _Table, label_values: LabelValues, default: tuple[str, ...]
) -> tuple[str, ...]:
    """Stages by role ("development") or by the label value ("Development", "Stage::...")."""
    from rollout.workflow import STAGES  # the workflow's stage roles; no cycle at load time

    values = table.get("pre_stages", list, list(default), 'an array of stages like ["Development"]')
    names = {role.casefold(): role for role in STAGES}
    for role in STAGES:
        names.update({alias.casefold(): role for alias in getattr(label_values, role)})
    roles = []
    for index, value in enumerate(values, start=1):
        name = value.rpartition("::")[2].strip().casefold() if isinstance(value, str) else ""
        if name not in names:
            known = ", ".join(getattr(label_values, role)[0] for role in STAGES)
            shown = f'"{value}"' if isinstance(value, str) else _toml_type(value)
            raise table.error(f"pre_stages[{index}]", f"{shown} is not a stage (known: {known})")
        roles.append(names[name])
    return tuple(dict.fromkeys(roles))


def _parse_post_window(text: str) -> Duration:
    duration = parse_duration(text)
    if duration.unit not in ("days", "business days", "weeks"):
        raise ValueError(
            f'"{text}" is not whole days; write "N days", "N business days" or "N weeks"'
        )
    return duration


def _read_slack(table: _Table) -> SlackConfig:
    channel = table.text("channel", "").strip().removeprefix("#")
    table.finish()
    if "channel" in table.data and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}", channel):
        raise table.error(
            "channel",
            f'"{channel}" is not a Slack channel name or id, e.g. "releases" or "C0123ABCD"',
        )
    return SlackConfig(channel or None)


def _read_templates(table: _Table, base_dir: Path) -> Path | None:
    directory = table.text("dir", "")
    table.finish()
    if not directory:
        return None
    path = base_dir / directory
    if not path.is_dir():
        raise table.error("dir", f"{path} is not a directory")
    return path


def _read_intake(table: _Table) -> IntakeConfig:
    defaults = IntakeConfig()
    label = table.text("needs_info_label", defaults.needs_info_label)
    if not label.strip() or "," in label:
        raise table.error("needs_info_label", "must be a label name, without commas")
    intake = IntakeConfig(
        needs_info_label=label.strip(),
        close_self_service=table.get(
            "close_self_service", bool, defaults.close_self_service, "true or false"
        ),
        sections=_read_sections(table.table("sections")),
        self_service=_read_self_service(table)
        if table.has("self_service")
        else DEFAULT_SELF_SERVICE,
    )
    table.finish()
    return intake


def _read_sections(table: _Table) -> dict[str, tuple[str, ...]]:
    """Request type (Bug, Feature, Administrative, Incident; any case) -> headings."""
    sections = _default_sections()
    names = {display.casefold(): role for role, display in INTAKE_TYPES.items()}
    for key in table.data:
        role = names.get(key.casefold())
        if role is None:
            close = difflib.get_close_matches(key.casefold(), list(names), n=1, cutoff=0.6)
            hint = f'; did you mean "{INTAKE_TYPES[names[close[0]]]}"?' if close else ""
            raise table.error(
                key, f"not a request type{hint} (use {', '.join(INTAKE_TYPES.values())})"
            )
        sections[role] = _read_headings(table, key, ())
    return sections


def _read_self_service(intake: _Table) -> tuple[SelfServiceRule, ...]:
    rules = []
    for table in intake.tables("self_service"):
        name = table.text("name", "").strip()
        instructions = table.text("instructions", "").strip()
        patterns = table.get(
            "patterns", list, [], 'an array of regular expressions like ["macros?"]'
        )
        table.finish()
        if not name:
            raise table.error("name", 'is required, e.g. name = "Zendesk managed content"')
        if not re.fullmatch(r"https?://[^\s<>\"']+", instructions):
            raise table.error(
                "instructions", f'rule "{name}": must be the http(s) URL of the instructions'
            )
        if not patterns:
            raise table.error("patterns", f'rule "{name}": needs at least one regular expression')
        rules.append(SelfServiceRule(name, _compile(table, name, patterns), instructions))
    return tuple(rules)


def _compile(table: _Table, name: str, patterns: list[Any]) -> tuple[str, ...]:
    """The patterns, each checked to be a regular expression."""
    for index, pattern in enumerate(patterns, start=1):
        key = f"patterns[{index}]"
        if not isinstance(pattern, str) or not pattern:
            raise table.error(key, f'rule "{name}": must be a non-empty string')
        try:
            _compile_pattern(pattern)
        except ValueError as error:
            raise table.error(key, f'rule "{name}": not a regular expression ({error})') from None
    return tuple(patterns)


def _read_incidents(table: _Table) -> IncidentsConfig:
    defaults = IncidentsConfig()
    tiers = _read_tiers(table.table("tiers"), defaults.tiers)
    incidents = IncidentsConfig(
        pagerduty_service=table.text("pagerduty_service", defaults.pagerduty_service),
        channel=table.text("channel", defaults.channel),
        tiers=tiers,
        systems=_read_systems(table.table("systems"), tiers),
    )
    table.finish()
    for name in ("pagerduty_service", "channel"):
        if not getattr(incidents, name).strip():
            raise table.error(name, "must not be empty")
    return incidents


def _read_tiers(table: _Table, defaults: Mapping[str, Duration]) -> dict[str, Duration]:
    """Tier -> wait; a tier named like a default one (in any case) replaces it."""
    tiers = dict(defaults)
    _one_name_each(table, "tier")
    for name in table.data:
        wait = table.parsed(name, Duration(0, "minutes"), parse_duration)
        if wait.is_business:
            raise table.error(name, "must be minutes, hours, days or weeks (not business days)")
        for known in [known for known in tiers if known.casefold() == name.casefold()]:
            del tiers[known]
        tiers[name] = wait
    return tiers


def _read_systems(table: _Table, tiers: Mapping[str, Duration]) -> dict[str, str]:
    """System -> tier, the tier written as any of [incidents.tiers] (in any case)."""
    by_name = {tier.casefold(): tier for tier in tiers}
    systems = {}
    _one_name_each(table, "system")
    for system in table.data:
        tier = table.text(system, "")
        if tier.casefold() not in by_name:
            close = difflib.get_close_matches(tier.casefold(), list(by_name), n=1, cutoff=0.6)
            hint = f'; did you mean "{by_name[close[0]]}"?' if close else ""
            raise table.error(system, f'"{tier}" is not a tier{hint} (tiers: {", ".join(tiers)})')
        systems[system] = by_name[tier.casefold()]
    return systems


def _one_name_each(table: _Table, kind: str) -> None:
    """Names are looked up in any case, so two that differ only in case would leave which
    one counts to the order of the file; a name with invisible characters could not be
    typed as it is shown."""
    seen: dict[str, str] = {}
    for name in table.data:
        if clean(name) != name or not name.strip():
            raise table.error(name, f"a {kind} name must be visible text on one line")
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            raise table.error(name, f'names the same {kind} as "{other}" (case does not count)')


def _read_site(table: _Table) -> SiteConfig:
    url = table.text("url", "").strip().rstrip("/")
    history = table.get("history", int, SiteConfig().history, "a number of months")
    table.finish()
    if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise table.error(
            "url", f'"{url}" is not an http(s) URL like "https://ops.gitlab.io/tracker"'
        )
    if not 0 <= history <= 120:
        raise table.error("history", f"must be 0 to 120 months, not {history}")
    return SiteConfig(url=url or None, history=history)


def _read_cache(table: _Table, base_dir: Path) -> CacheConfig:
    enabled = table.get("enabled", bool, True, "true or false")
    path = table.text("path", "")
    table.finish()
    return CacheConfig(enabled, (base_dir / path) if path else None)
