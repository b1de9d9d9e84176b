"""The workflow: what an issue's labels say, and its history through the stages.

Pure functions over issue records and the label vocabulary of the config. GitLab writes
the adds and removes of one edit with the same timestamp, so events are replayed in
batches: a stage swap is one change, never a moment with two stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from itertools import groupby
from typing import TypeVar
from zoneinfo import ZoneInfo

from rollout.business_days import BusinessCalendar
from rollout.config import CRITICALITIES, Config, LabelPrefixes, LabelValues
from rollout.issues import Issue, LabelEvent, Person

STAGES = (
    "triage",
    "planning",
    "scheduling",
    "queued",
    "development",
    "validation",
    "implementation",
    "completed",
    "blocked",
    "backlogged",
)
VALIDATIONS = ("awaiting", "received", "rejected", "skipped")
REQUEST_TYPES = ("bug", "feature", "administrative", "incident")
DEPLOYMENT_TYPES = ("standard", "ad_hoc", "exception", "special")
# Priority::1..4 (PRODUCT.md §1): what each value means
PRIORITIES = {"1": "urgent", "2": "high", "3": "medium", "4": "low"}


class Vocabulary:
    """The label names of one tracker: prefixes and the values rollout understands.

    It remembers what it read: a run asks for the reading of the same few label sets, and
    for the timeline of the same issue, many times over (board, verdict, plans)."""

    def __init__(self, prefixes: LabelPrefixes, values: LabelValues) -> None:
        self.prefixes = prefixes
        self.values = values
        self._roles: dict[tuple[str, str], str] = {}
        self._readings: dict[tuple[str, ...], LabelReading] = {}
        # By the identity of an issue's label events, which are kept alive here with it.
        self._timelines: dict[int, tuple[Sequence[LabelEvent], Timeline]] = {}
        groups = {
            prefixes.stage: STAGES,
            prefixes.validation: VALIDATIONS,
            prefixes.request_type: REQUEST_TYPES,
            prefixes.deployment: DEPLOYMENT_TYPES,
        }
        for prefix, roles in groups.items():
            for role in roles:
                for alias in getattr(values, role):
                    self._roles[(prefix, alias.casefold())] = role

    @classmethod
    def from_config(cls, config: Config) -> Vocabulary:
        return _vocabulary(config.labels, config.label_values)

    def name(self, role: str) -> str:
        """The value rollout writes for a role, e.g. "Development" for "development"."""
        return str(getattr(self.values, role)[0])

    def label(self, prefix: str, role: str) -> str:
        """The full label, e.g. "Stage::Development"."""
        return f"{prefix}{self.name(role)}"

    def stage_label(self, stage: str) -> str:
        return self.label(self.prefixes.stage, stage) if stage in STAGES else stage

    def role(self, prefix: str, label: str) -> str | None:
        """The role of ``label`` under ``prefix``: None for another prefix, "?Value" if unknown."""
        if not label.startswith(prefix):
            return None
        value = label[len(prefix) :]
        return self._roles.get((prefix, value.casefold()), f"?{value}")

    def stage_of(self, label: str | None) -> str | None:
        return self.role(self.prefixes.stage, label) if label else None

    def reading(self, labels: Iterable[str]) -> LabelReading:
        key = tuple(labels)
        found = self._readings.get(key)
        if found is None:
            found = _remember(self._readings, key, _read(key, self))
        return found

    def timeline(self, events: Sequence[LabelEvent]) -> Timeline:
        found = self._timelines.get(id(events))
        if found is None or found[0] is not events:
            found = _remember(self._timelines, id(events), (events, build_timeline(events, self)))
        return found[1]


K = TypeVar("K")
V = TypeVar("V")
# What a vocabulary remembers of each kind, at most: a long-lived process forgets the oldest.
_REMEMBERED = 20_000


def _remember(memory: dict[K, V], key: K, value: V) -> V:
    if len(memory) >= _REMEMBERED:
        del memory[next(iter(memory))]
    memory[key] = value
    return value


@lru_cache(maxsize=8)
def _vocabulary(prefixes: LabelPrefixes, values: LabelValues) -> Vocabulary:
    """One vocabulary per label config, so that what it remembers is shared."""
    return Vocabulary(prefixes, values)


def _unknown(role: str) -> bool:
    return role.startswith("?")


@dataclass(frozen=True)
class LabelReading:
    """What an issue's current labels say, with the conflicts among them."""

    stages: tuple[str, ...]  # roles; "?Value" for a stage name rollout does not know
    validations: tuple[str, ...]
    request_types: tuple[str, ...]
    criticalities: tuple[str, ...]  # "C1".."C4", or "?Value"
    deployment_types: tuple[str, ...]
    customers: tuple[str, ...]
    priorities: tuple[str, ...]  # the values after the Priority:: prefix
    systems: tuple[str, ...]  # the values after the System:: prefix

    @property
    def priority(self) -> str | None:
        """The one priority, "1" to "4", or None when there is none, several or another."""
        found = self.priorities
        return found[0] if len(found) == 1 and found[0] in PRIORITIES else None

    @property
    def system(self) -> str | None:
        """The one system an incident is about, or None when there is none or several."""
        return self.systems[0] if len(self.systems) == 1 else None

    @property
    def stage(self) -> str | None:
        """The one known stage, or None when there is none, several or an unknown one."""
        return self.stages[0] if len(self.stages) == 1 and not _unknown(self.stages[0]) else None

    @property
    def request_type(self) -> str | None:
        types = self.request_types
        return types[0] if len(types) == 1 and not _unknown(types[0]) else None

    @property
    def criticality(self) -> str | None:
        found = self.criticalities
        return found[0] if len(found) == 1 and not _unknown(found[0]) else None

    @property
    def deployment_type(self) -> str | None:
        """Standard when no label says otherwise; None when the labels conflict."""
        found = self.deployment_types
        if not found:
            return "standard"
        return found[0] if len(found) == 1 and not _unknown(found[0]) else None

    def has_validation(self, role: str) -> bool:
        return role in self.validations


def read_labels(labels: Iterable[str], vocabulary: Vocabulary) -> LabelReading:
    return vocabulary.reading(labels)


def _read(labels: tuple[str, ...], vocabulary: Vocabulary) -> LabelReading:
    prefixes = vocabulary.prefixes

    def roles(prefix: str) -> tuple[str, ...]:
        found = (vocabulary.role(prefix, label) for label in labels)
        return tuple(dict.fromkeys(role for role in found if role is not None))

    def values(prefix: str) -> tuple[str, ...]:
        return tuple(label[len(prefix) :] for label in labels if label.startswith(prefix))

    criticalities = tuple(
        value.upper() if value.upper() in CRITICALITIES else f"?{value}"
        for value in values(prefixes.criticality)
    )
    return LabelReading(
        stages=roles(prefixes.stage),
        validations=roles(prefixes.validation),
        request_types=roles(prefixes.request_type),
        criticalities=tuple(dict.fromkeys(criticalities)),
        deployment_types=roles(prefixes.deployment),
        customers=values(prefixes.customer),
        priorities=tuple(dict.fromkeys(values(prefixes.priority))),
        systems=tuple(dict.fromkeys(values(prefixes.system))),
    )


def conflicts(reading: LabelReading, vocabulary: Vocabulary) -> list[str]:
    """Label combinations that make no sense, for people to fix."""
    prefixes = vocabulary.prefixes
    problems = []
    groups = [
        (prefixes.stage, reading.stages, "stage"),
        (prefixes.validation, reading.validations, "validation"),
        (prefixes.request_type, reading.request_types, "request type"),
        (prefixes.criticality, reading.criticalities, "criticality"),
        (prefixes.deployment, reading.deployment_types, "deployment type"),
    ]
    for prefix, found, what in groups:
        names = [_display(prefix, role, vocabulary) for role in found]
        if len(found) > 1:
            problems.append(f"{len(found)} {what} labels at once ({', '.join(names)}); keep one")
        problems.extend(
            f"unknown {what} {name}"
            for role, name in zip(found, names, strict=True)
            if _unknown(role)
        )
    return problems


def _display(prefix: str, role: str, vocabulary: Vocabulary) -> str:
    if _unknown(role):
        return f"{prefix}{role[1:]}"
    if role in CRITICALITIES:
        return f"{prefix}{role}"
    return vocabulary.label(prefix, role)


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class StageSpan:
    stage: str  # a role from STAGES, or "?Value"
    entered_at: datetime
    entered_by: Person
    left_at: datetime | None = None


@dataclass(frozen=True)
class ValidationChange:
    at: datetime
    value: str  # a role from VALIDATIONS, or "?Value"
    added: bool
    by: Person


@dataclass(frozen=True)
class Timeline:
    spans: tuple[StageSpan, ...]
    validation: tuple[ValidationChange, ...]

    @property
    def current(self) -> StageSpan | None:
        if self.spans and self.spans[-1].left_at is None:
            return self.spans[-1]
        return None

    def last_entered(self, stage: str) -> datetime | None:
        times = [span.entered_at for span in self.spans if span.stage == stage]
        return times[-1] if times else None

    def previous_stage(self) -> str | None:
        """The stage before the current one (where a Blocked issue returns)."""
        if len(self.spans) < 2 or self.current is None:
            return None
        return self.spans[-2].stage

    def last_added(self, value: str) -> ValidationChange | None:
        found = [c for c in self.validation if c.added and c.value == value]
        return found[-1] if found else None

    def added_after(self, value: str, moment: datetime) -> list[ValidationChange]:
        return [c for c in self.validation if c.added and c.value == value and c.at > moment]


def _batches(events: Sequence[LabelEvent]) -> Iterable[list[LabelEvent]]:
    ordered = sorted(events, key=lambda event: (event.at, event.id))
    for _, batch in groupby(ordered, key=lambda event: event.at):
        yield list(batch)


def build_timeline(events: Sequence[LabelEvent], vocabulary: Vocabulary) -> Timeline:
    """Replay the label events, one edit (one timestamp) at a time."""
    labels: dict[str, datetime] = {}  # current labels and when each was added
    spans: list[StageSpan] = []
    validation: list[ValidationChange] = []
    current: str | None = None
    for batch in _batches(events):
        at = batch[0].at
        added_stages = []
        for event in batch:  # removes first: GitLab swaps a scoped label in one edit
            if event.action == "remove" and event.label:
                labels.pop(event.label, None)
        for event in batch:
            if event.action == "add" and event.label:
                labels[event.label] = at
                stage = vocabulary.stage_of(event.label)
                if stage is not None:
                    added_stages.append((stage, event.user))
        for event in batch:
            value = vocabulary.role(vocabulary.prefixes.validation, event.label or "")
            if value is not None:
                validation.append(ValidationChange(at, value, event.action == "add", event.user))

        who = batch[-1].user
        new: str | None
        if added_stages:
            new, who = added_stages[-1]
        else:
            new = _remaining_stage(labels, current, vocabulary)
        if new == current:
            continue  # re-adding the label it already has is no change of stage
        if spans and spans[-1].left_at is None:
            spans[-1] = replace(spans[-1], left_at=at)
        if new is not None:
            spans.append(StageSpan(new, at, who))
        current = new
    return Timeline(tuple(spans), tuple(validation))


def _remaining_stage(
    labels: dict[str, datetime], current: str | None, vocabulary: Vocabulary
) -> str | None:
    """The stage after an edit that added no stage label: the current one while its label
    stays, else the latest added of those left (Free tier allows several), else none."""
    present = {
        stage: when
        for label, when in labels.items()
        if (stage := vocabulary.stage_of(label)) is not None
    }
    if current in present:
        return current
    if present:
        return max(present, key=lambda stage: present[stage])
    return None


def timeline_of(issue: Issue, vocabulary: Vocabulary) -> Timeline:
    return vocabulary.timeline(issue.label_events)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def business_days_in_stage(
    timeline: Timeline, as_of: date, calendar: BusinessCalendar, zone: ZoneInfo
) -> int | None:
    """Business days since the issue entered its current stage, up to ``as_of``."""
    span = timeline.current
    if span is None:
        return None
    return calendar.count_between(local_date(span.entered_at, zone), as_of)


@dataclass(frozen=True)
class SignOff:
    """When the change was signed off (PRODUCT.md §6), or why it was not."""

    at: datetime | None
    problem: str | None = None  # for people: what is missing and what to do

    @property
    def given(self) -> bool:
        return self.at is not None and self.problem is None


def find_signoff(
    reading: LabelReading, timeline: Timeline, vocabulary: Vocabulary, zone: ZoneInfo
) -> SignOff:
    """Bug and Feature: Validation::Received added after the last entry into Development and
    not followed by Validation::Rejected. Administrative: Validation::Skipped, signed off when
    the issue last entered Implementation."""
    prefix = vocabulary.prefixes.validation
    received = vocabulary.label(prefix, "received")
    rejected = vocabulary.label(prefix, "rejected")
    skipped = vocabulary.label(prefix, "skipped")
    kind = reading.request_type
    if kind is None:
        return SignOff(None, "the request type decides which validation applies; add one first")
    if kind == "incident":
        return SignOff(None, "incidents are not validated or scheduled")
    if kind == "administrative":
        if not reading.has_validation("skipped"):
            return SignOff(None, f"Administrative requests need {skipped}; add it")
        entered = timeline.last_entered("implementation")
        if entered is None:
            return SignOff(
                None, "no record of entering Implementation; move it there to sign it off"
            )
        return SignOff(entered)

    if reading.has_validation("rejected"):
        return SignOff(None, f"{rejected}: rework it in Development and ask for validation again")
    if not reading.has_validation("received"):
        return SignOff(None, f"waiting for {received} from the requester")
    last = timeline.last_added("received")
    if last is None:
        return SignOff(
            None, f"{received} has no recorded time; ask the requester to validate again"
        )
    rework = timeline.last_entered("development")
    if rework is not None and last.at <= rework:
        return SignOff(
            None,
            f"{received} was added on {local_date(last.at, zone)}, before the rework that started "
            f"{local_date(rework, zone)}; ask the requester to validate again",
        )
    later_rejections = timeline.added_after("rejected", last.at)
    if later_rejections:
        return SignOff(
            None,
            f"{received} of {local_date(last.at, zone)} was followed by {rejected} on "
            f"{local_date(later_rejections[0].at, zone)}; rework it and ask for validation again",
        )
    return SignOff(last.at)
