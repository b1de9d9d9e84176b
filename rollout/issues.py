"""Issue records: what rollout knows of an issue, read from GitLab's REST JSON.

Both trackers hand over GitLab's own JSON shapes (the live API, or a snapshot file that
kept them), and this one module turns them into records, so the same data gives the
same answers whichever tracker it came through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from rollout.errors import TrackerError

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Person:
    username: str
    name: str

    @classmethod
    def from_json(cls, data: Json | None) -> Person:
        if not data:
            return cls("ghost", "Deleted user")
        return cls(str(data.get("username") or "ghost"), str(data.get("name") or ""))


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
        return cls(
            id=int(data["id"]),
            iid=_optional_int(data.get("iid")),
            title=str(data["title"]),
            state=str(data.get("state") or "active"),
            start_date=_date(data.get("start_date")),
            due_date=_date(data.get("due_date")),
            web_url=data.get("web_url"),
        )


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
    ``label_events``, ``links`` and ``notes`` (the shape of a snapshot file's issues)."""
    try:
        iid = int(data["iid"])
        references = data.get("references") or {}
        return Issue(
            id=int(data["id"]),
            iid=iid,
            project_id=int(data["project_id"]),
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            state=str(data["state"]),
            labels=tuple(_label_name(label) for label in data.get("labels") or ()),
            author=Person.from_json(data.get("author")),
            assignees=tuple(Person.from_json(a) for a in data.get("assignees") or ()),
            milestone=Milestone.from_json(data["milestone"]) if data.get("milestone") else None,
            due_date=_date(data.get("due_date")),
            created_at=_timestamp(data["created_at"]),
            updated_at=_timestamp(data.get("updated_at") or data["created_at"]),
            closed_at=_timestamp(data["closed_at"]) if data.get("closed_at") else None,
            web_url=str(data.get("web_url") or ""),
            reference=str(references.get("short") or f"#{iid}"),
            label_events=tuple(_label_event(event) for event in data.get("label_events") or ()),
            links=tuple(_link(link) for link in data.get("links") or ()),
            notes=tuple(note_from_json(note) for note in data.get("notes") or ()),
        )
    except (KeyError, TypeError, ValueError) as error:
        which = data.get("iid", "?") if isinstance(data, Mapping) else "?"
        raise TrackerError(
            f"issue #{which}: unexpected data from the tracker ({error!r})"
        ) from None


def with_history(issue: Issue, history: Mapping[str, Sequence[Json]]) -> Issue:
    """``issue`` with the label events, links or notes in ``history`` (GitLab's JSON)."""
    parsers = {"label_events": _label_event, "links": _link, "notes": note_from_json}
    fields = {name: tuple(parsers[name](item) for item in items) for name, items in history.items()}
    return replace(issue, **fields)  # type: ignore[arg-type]


def _label_name(label: Any) -> str:
    # with_labels_details=true gives objects instead of names
    return str(label["name"]) if isinstance(label, Mapping) else str(label)


def _label_event(data: Json) -> LabelEvent:
    label = data.get("label")
    return LabelEvent(
        id=int(data["id"]),
        at=_timestamp(data["created_at"]),
        action=str(data["action"]),
        label=str(label["name"]) if label else None,
        user=Person.from_json(data.get("user")),
    )


def _link(data: Json) -> IssueLink:
    references = data.get("references") or {}
    return IssueLink(
        iid=int(data["iid"]),
        project_id=int(data.get("project_id") or 0),
        reference=str(references.get("full") or references.get("short") or f"#{data['iid']}"),
        title=str(data.get("title") or ""),
        state=str(data["state"]),
        link_type=str(data.get("link_type") or "relates_to"),
        web_url=str(data.get("web_url") or ""),
    )


def note_from_json(data: Json) -> Note:
    return Note(
        id=int(data["id"]),
        body=str(data.get("body") or ""),
        author=Person.from_json(data.get("author")),
        created_at=_timestamp(data["created_at"]),
        system=bool(data.get("system")),
    )


def _timestamp(text: str) -> datetime:
    """GitLab's ISO 8601 timestamps ("2027-01-05T09:00:00.000Z"), always zone-aware."""
    value = datetime.fromisoformat(str(text))
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text}")
    return value


def _date(text: Any) -> date | None:
    if not text:
        return None
    return date.fromisoformat(str(text)[:10])


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None
