"""Issue records: what rollout knows of an issue, read from GitLab's REST JSON.

Both trackers hand over GitLab's own JSON shapes (the live API, or a snapshot file that
kept them), and this one module turns them into records, so the same data gives the
same answers whichever tracker it came through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from rollout.errors import TrackerError
from rollout.safety import without_kept_secrets

Json = Mapping[str, Any]
# Which fields of a JSON object are read: None for a value, the fields of a nested object.
_Read = dict[str, "_Read | None"]


@dataclass(frozen=True)
class Person:
    username: str
    name: str

    @classmethod
    def from_json(cls, data: Json | None) -> Person:
        return _parsed("user", lambda: _person(_Fields.optional(data)))


@dataclass(frozen=True)
class Milestone:
    id: int
    iid: int | None
    title: str
    state: str
    start_date: date | None
    due_date: date | None
    web_url: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> Milestone:
        label = (
            f"milestone {_shown(data.get('title'))}" if isinstance(data, Mapping) else "milestone"
        )
        return _parsed(label, lambda: _milestone(_Fields(data)))


@dataclass(frozen=True)
class LabelEvent:
    id: int
    at: datetime
    action: str  # "add" or "remove"
    label: str | None  # None when the label has since been deleted
    user: Person


@dataclass(frozen=True)
class IssueLink:
    iid: int
    project_id: int
    reference: str  # e.g. "#15" or "group/other#15"
    title: str
    state: str  # "opened" or "closed"
    link_type: str  # "relates_to", "blocks" or "is_blocked_by"
    web_url: str


@dataclass(frozen=True)
class Note:
    id: int
    body: str
    author: Person
    created_at: datetime
    system: bool


@dataclass(frozen=True)
class Issue:
    id: int
    iid: int
    project_id: int
    title: str
    description: str
    state: str  # "opened" or "closed"
    labels: tuple[str, ...]
    author: Person
    assignees: tuple[Person, ...]
    milestone: Milestone | None
    due_date: date | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    web_url: str
    reference: str
    label_events: tuple[LabelEvent, ...] = ()
    links: tuple[IssueLink, ...] = ()
    notes: tuple[Note, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state == "opened"


def issue_from_json(data: Json) -> Issue:
    """An Issue from GitLab's issue JSON and, when fetched, its history: the lists under
    ``label_events``, ``links`` and ``notes`` (the shape of a snapshot file's issues).

    Every field is checked; anything missing, mistyped or impossible is a TrackerError that
    names the issue, the field and the problem.
    """
    return _parsed(_issue_label(data), lambda: _issue(_Fields(data)))


def with_history(issue: Issue, history: Mapping[str, Sequence[Json]]) -> Issue:
    """``issue`` with the label events, links or notes in ``history`` (GitLab's JSON)."""
    parsers = {"label_events": _label_event, "links": _link, "notes": _note}

    def parse() -> Issue:
        fields = _Fields({**history})
        parts = {
            name: tuple(parsers[name](item) for item in fields.items(name)) for name in history
        }
        return replace(issue, **parts)  # type: ignore[arg-type]

    return _parsed(f"issue #{issue.iid}", parse)


def note_from_json(data: Json) -> Note:
    return _parsed("note", lambda: _note(_Fields(data)))


# --------------------------------------------------------------------------- checking


_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)  # the whole of that day


class _Invalid(ValueError):
    """A field of tracker JSON that is missing, mistyped or impossible."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)


T = TypeVar("T")


def _parsed(label: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except _Invalid as error:
        raise TrackerError(f"{label}: {error}") from None


def _issue_label(data: object) -> str:
    iid = data.get("iid") if isinstance(data, Mapping) else None
    return f"issue #{iid}" if isinstance(iid, int) and not isinstance(iid, bool) else "an issue"


def _shown(value: object) -> str:
    """A value for an error message: short, one line, never a whole nested structure."""
    if isinstance(value, str):
        text = json.dumps(value)
        return text if len(text) <= 42 else text[:40] + '…"'
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)[:40]
    return "a list" if isinstance(value, list) else "an object"


# A JSON object: a dict, checked first (the Mapping check is slow, and GitLab's are dicts).
_OBJECTS = (dict, Mapping)


class _Fields:
    """Typed access to one JSON object of the tracker's; errors name the field's path.

    The object is ``key`` (item ``index`` of it) of ``parent``. Its path is put together
    only for an error message: answers come by the thousand, and mostly have none."""

    def __init__(
        self,
        data: object,
        parent: _Fields | None = None,
        key: str = "",
        index: int | None = None,
    ) -> None:
        self._parent = parent
        self._key = key
        self._index = index
        if not isinstance(data, _OBJECTS):
            raise _Invalid(self.where, f"expected an object, not {_shown(data)}")
        self.data = data

    @classmethod
    def optional(cls, data: object, parent: _Fields | None = None, key: str = "") -> _Fields | None:
        return None if data is None else cls(data, parent, key)

    @property
    def where(self) -> str:
        where = self._parent._path(self._key) if self._parent is not None else self._key
        return where if self._index is None else f"{where}[{self._index}]"

    def _path(self, key: str) -> str:
        where = self.where
        return f"{where}.{key}" if where else key

    def _bad(self, key: str, expected: str) -> _Invalid:
        if key not in self.data:
            return _Invalid(self._path(key), f"missing (expected {expected})")
        return _Invalid(self._path(key), f"expected {expected}, not {_shown(self.data[key])}")

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._bad(key, "a whole number")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key)
        if value not in choices:
            raise self._bad(key, " or ".join(f'"{choice}"' for choice in choices))
        return str(value)

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def timestamp(self, key: str) -> datetime:
        value = self.data.get(key)
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise self._bad(key, "a timestamp with a zone, like 2027-01-05T09:00:00.000Z")
        # Shown in any time zone, it must still be a date: not within a day of the ends.
        try:
            in_utc = parsed.astimezone(UTC)
        except OverflowError:
            in_utc = None
        if in_utc is None or not _EARLIEST <= in_utc <= _LATEST:
            raise self._bad(key, "a timestamp from 0001-01-02 to 9999-12-30")
        return parsed

    def optional_timestamp(self, key: str) -> datetime | None:
        return None if self.data.get(key) is None else self.timestamp(key)

    def date(self, key: str) -> date | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            # GitLab writes dates as YYYY-MM-DD; a timestamp's date part is taken as well.
            if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}(?:$|T)", value):
                return date.fromisoformat(value[:10])
        except ValueError:
            raise self._bad(key, "a real date (YYYY-MM-DD)") from None
        raise self._bad(key, "a date (YYYY-MM-DD)")

    def obj(self, key: str) -> _Fields | None:
        return _Fields.optional(self.data.get(key), self, key)

    def items(self, key: str) -> list[_Fields]:
        values = self.data.get(key)
        if values is None:
            return []
        if not isinstance(values, list):
            raise self._bad(key, "a list")
        return [_Fields(value, self, key, index) for index, value in enumerate(values)]

    def strings(self, key: str) -> list[object]:
        values = self.data.get(key)
        if values is None:
            return []
        if not isinstance(values, list):
            raise self._bad(key, "a list")
        return values


def _person(fields: _Fields | None) -> Person:
    if fields is None:
        return Person("ghost", "Deleted user")
    return Person(fields.text("username") or "ghost", fields.text("name"))


def _milestone(fields: _Fields) -> Milestone:
    return Milestone(
        id=fields.integer("id"),
        iid=fields.optional_integer("iid"),
        title=fields.text("title", required=True),
        state=fields.text("state") or "active",
        start_date=fields.date("start_date"),
        due_date=fields.date("due_date"),
        web_url=fields.text("web_url") or None,
    )


def _issue(fields: _Fields) -> Issue:
    iid = fields.integer("iid")
    references = fields.obj("references")
    milestone = fields.obj("milestone")
    return Issue(
        id=fields.integer("id"),
        iid=iid,
        project_id=fields.integer("project_id"),
        title=without_kept_secrets(fields.text("title")),
        description=without_kept_secrets(fields.text("description")),
        state=fields.choice("state", ("opened", "closed")),
        labels=tuple(
            _label_name(label, fields, index)
            for index, label in enumerate(fields.strings("labels"))
        ),
        author=_person(fields.obj("author")),
        assignees=tuple(_person(person) for person in fields.items("assignees")),
        milestone=_milestone(milestone) if milestone is not None else None,
        due_date=fields.date("due_date"),
        created_at=fields.timestamp("created_at"),
        updated_at=fields.timestamp("updated_at"),
        closed_at=fields.optional_timestamp("closed_at"),
        web_url=fields.text("web_url"),
        reference=(references.text("short") if references else "") or f"#{iid}",
        label_events=tuple(_label_event(event) for event in fields.items("label_events")),
        links=tuple(_link(link) for link in fields.items("links")),
        notes=tuple(_note(note) for note in fields.items("notes")),
    )


def _label_name(label: object, issue: _Fields, index: int) -> str:
    # with_labels_details=true gives objects instead of names
    if isinstance(label, str):
        return label
    return _Fields(label, issue, "labels", index).text("name", required=True)


def _label_event(fields: _Fields) -> LabelEvent:
    label = fields.obj("label")
    return LabelEvent(
        id=fields.integer("id"),
        at=fields.timestamp("created_at"),
        action=fields.choice("action", ("add", "remove")),
        label=label.text("name", required=True) if label is not None else None,
        user=_person(fields.obj("user")),
    )


def _link(fields: _Fields) -> IssueLink:
    iid = fields.integer("iid")
    references = fields.obj("references")
    reference = (references.text("full") or references.text("short")) if references else ""
    return IssueLink(
        iid=iid,
        project_id=fields.optional_integer("project_id") or 0,
        reference=reference or f"#{iid}",
        title=fields.text("title"),
        state=fields.choice("state", ("opened", "closed")),
        link_type=fields.text("link_type") or "relates_to",
        web_url=fields.text("web_url"),
    )


def _note(fields: _Fields) -> Note:
    return Note(
        id=fields.integer("id"),
        body=without_kept_secrets(fields.text("body")),
        author=_person(fields.obj("author")),
        created_at=fields.timestamp("created_at"),
        system=fields.flag("system"),
    )


# --------------------------------------------------------------------------- what is read

# The fields of GitLab's history JSON that the parsers above read, nested objects with theirs:
# all the history cache needs to keep (a label event arrives with its label's colour and its
# user's avatar, three times what is read).
_PERSON_READ: _Read = {"username": None, "name": None}
HISTORY_READ: dict[str, _Read] = {
    "label_events": {
        "id": None,
        "created_at": None,
        "action": None,
        "label": {"name": None},
        "user": _PERSON_READ,
    },
    "links": {
        "iid": None,
        "project_id": None,
        "references": {"full": None, "short": None},
        "title": None,
        "state": None,
        "link_type": None,
        "web_url": None,
    },
    "notes": {"id": None, "body": None, "author": _PERSON_READ, "created_at": None, "system": None},
}


def history_as_read(part: str, items: Sequence[Json]) -> list[Any]:
    """``items`` of a history ``part`` without the fields rollout never reads. Anything
    malformed is kept as it is, so that reading it again fails as reading it first did."""
    return [_only_read(item, HISTORY_READ[part]) for item in items]


def _only_read(value: Any, read: _Read | None) -> Any:
    if read is None or not isinstance(value, dict):
        return value
    return {key: _only_read(value[key], read[key]) for key in read if key in value}
