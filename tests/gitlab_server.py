"""A GitLab REST API v4 stand-in for tests: an in-memory state model and a real HTTP server.

python-gitlab talks to it over HTTP on 127.0.0.1 exactly as it talks to GitLab, so tests exercise
the real client code: URL encoding of project paths, pagination through ``Link`` headers, retries on
429 and 5xx, authentication headers, JSON parsing.

Typical use::

    state = GitLabState()
    project = state.add_project("group/sub/proj")
    state.add_issue(project, 1, "Title", author="alice", created_at="2027-01-05T09:00:00Z")
    with GitLabServer(state) as server:
        gl = gitlab.Gitlab(server.url, private_token=server.token)
        gl.projects.get("group/sub/proj").issues.list(get_all=True)
        assert server.count("GET", "/issues") == 1

Responses follow GitLab's documented JSON shapes (see shared/gitlab-api/). Every ``web_url`` and
``_links`` URL is built from ``web_base`` (never from the server's port), so the same data gives
the same JSON whatever port the server listens on; only the pagination ``Link`` header uses the
request's ``Host``, as GitLab does, so that python-gitlab can follow it.

Simplifications (on purpose): no permissions model (a valid token sees every project; a missing or
wrong token always gets 401, where GitLab would answer 404 for a private project), no groups API, no
milestone/state resource events, labels are project labels only.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from local_server import LocalServer, QuietHandler

DEFAULT_WEB_BASE = "https://gitlab.example.com"
DEFAULT_TOKEN = "glpat-test-0123456789abcdef"
DEFAULT_TOKEN_USER = "rollout-bot"
DEFAULT_PROJECT_CREATED = datetime(2020, 1, 1, tzinfo=UTC)
# GitLab leaves X-Total, X-Total-Pages and rel="last" out above this many records.
TOTAL_HEADERS_LIMIT = 10_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
LABEL_COLORS = ("#428BCA", "#44AD8E", "#A8D695", "#5CB85C", "#69D100", "#34495E", "#A295D6")
LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")

Json = dict[str, Any]
TimeLike = datetime | date | str


# --------------------------------------------------------------------------------------------
# Time helpers


def to_datetime(value: TimeLike) -> datetime:
    """A UTC datetime truncated to milliseconds (GitLab's precision).

    Accepts aware or naive (taken as UTC) datetimes, dates (midnight UTC) and ISO 8601 strings
    (``2027-01-05``, ``2027-01-05T09:00:00Z``, ``2027-01-05T09:00:00.000+00:00``).
    """
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            value = date.fromisoformat(text)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_date(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def iso(value: datetime | None) -> str | None:
    """``2027-01-05T09:00:00.000Z``, GitLab's timestamp format."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def label_scope(name: str) -> str | None:
    """The scope of a scoped label: everything before the last ``::`` (``a::b::c`` → ``a::b``)."""
    if "::" not in name:
        return None
    return name.rsplit("::", 1)[0]


# --------------------------------------------------------------------------------------------
# State model


class NotFound(LookupError):
    """A missing resource; ``what`` is GitLab's word for it (``Project``, ``Issue``, ...)."""

    def __init__(self, what: str, key: object = None) -> None:
        super().__init__(f"{what} {key!r} not found" if key is not None else f"{what} not found")
        self.what = what


@dataclass
class User:
    id: int
    username: str
    name: str


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str = ""


@dataclass
class Milestone:
    id: int
    iid: int
    project_id: int
    title: str
    description: str
    state: str
    created_at: datetime
    updated_at: datetime
    start_date: date | None
    due_date: date | None


@dataclass
class LabelEvent:
    id: int
    user: str
    created_at: datetime
    issue_id: int
    label: str
    action: str  # add | remove


@dataclass
class Note:
    id: int
    body: str
    author: str
    created_at: datetime
    updated_at: datetime
    system: bool
    project_id: int
    issue_id: int
    issue_iid: int


@dataclass
class Issue:
    id: int
    iid: int
    project_id: int
    title: str
    description: str | None
    author: str
    created_at: datetime
    updated_at: datetime
    state: str = "opened"
    closed_at: datetime | None = None
    closed_by: str | None = None
    labels: list[str] = field(default_factory=list)
    milestone_id: int | None = None
    assignees: list[str] = field(default_factory=list)
    due_date: date | None = None
    confidential: bool = False
    discussion_locked: bool | None = None
    upvotes: int = 0
    downvotes: int = 0
    label_events: list[LabelEvent] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


@dataclass
class IssueLink:
    id: int
    source: Issue
    target: Issue
    link_type: str  # relates_to | blocks (is_blocked_by is stored inverted, as GitLab does)
    created_at: datetime
    updated_at: datetime


@dataclass
class Project:
    id: int
    path: str
    name: str
    description: str
    created_at: datetime
    namespace_id: int
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)

    @property
    def namespace_path(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


class GitLabState:
    """Everything the fake GitLab knows. All methods are thread-safe (one re-entrant lock).

    Project arguments accept a :class:`Project`, its numeric id or its full path. Users are plain
    usernames; unknown ones are created on first use. Times accept datetimes, dates or ISO strings
    and default to :meth:`now`.
    """

    def __init__(
        self,
        *,
        web_base: str = DEFAULT_WEB_BASE,
        scoped_labels_exclusive: bool = True,
        clock: Callable[[], datetime] | TimeLike | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.web_base = web_base.rstrip("/")
        # False models GitLab Free, where two labels of one scope can coexist.
        self.scoped_labels_exclusive = scoped_labels_exclusive
        self.users: dict[str, User] = {}
        self.projects: dict[int, Project] = {}
        self.links: list[IssueLink] = []
        self._ids: dict[str, int] = {}
        self._clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        if clock is not None:
            self.set_clock(clock)

    # -- clock and ids ------------------------------------------------------------------------

    def set_clock(self, clock: Callable[[], datetime] | TimeLike) -> None:
        """Fix the clock to a time, or give a callable returning the current time."""
        if callable(clock):
            self._clock = clock
        else:
            fixed = to_datetime(clock)
            self._clock = lambda: fixed

    def advance(self, delta: timedelta) -> datetime:
        """Move a fixed clock forward; returns the new time."""
        moved = self.now() + delta
        self.set_clock(moved)
        return moved

    def now(self) -> datetime:
        return to_datetime(self._clock())

    def _next_id(self, kind: str, start: int = 1) -> int:
        value = self._ids.get(kind, start - 1) + 1
        self._ids[kind] = value
        return value

    def _at(self, at: TimeLike | None) -> datetime:
        return self.now() if at is None else to_datetime(at)

    # -- lookups ------------------------------------------------------------------------------

    def project(self, ref: Project | int | str) -> Project:
        with self.lock:
            if isinstance(ref, Project):
                return ref
            if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
                found = self.projects.get(int(ref))
                if found is None:
                    raise NotFound("Project", ref)
                return found
            for project in self.projects.values():
                if project.path.lower() == ref.strip("/").lower():
                    return project
            raise NotFound("Project", ref)

    def issue(self, project: Project | int | str, iid: int) -> Issue:
        with self.lock:
            found = self.project(project).issues.get(int(iid))
            if found is None:
                raise NotFound("Issue", iid)
            return found

    def user(self, username: str) -> User:
        """The user with this username, created on first use."""
        with self.lock:
            return self.users.get(username) or self.add_user(username)

    def milestone_by_title(self, project: Project | int | str, title: str) -> Milestone:
        with self.lock:
            for milestone in self.project(project).milestones.values():
                if milestone.title == title:
                    return milestone
            raise NotFound("Milestone", title)

    def label(self, project: Project | int | str, name: str) -> Label:
        """The project label with this name, created on first use (as GitLab's API does)."""
        with self.lock:
            proj = self.project(project)
            found = proj.labels.get(name)
            if found is None:
                found = self.add_label(proj, name)
            return found

    # -- mutations ----------------------------------------------------------------------------

    def add_user(self, username: str, name: str | None = None) -> User:
        with self.lock:
            if username in self.users:
                if name:
                    self.users[username].name = name
                return self.users[username]
            user = User(self._next_id("user"), username, name or _display_name(username))
            self.users[username] = user
            return user

    def add_project(
        self,
        path: str,
        *,
        id: int | None = None,
        name: str | None = None,
        description: str = "",
        created_at: TimeLike | None = None,
    ) -> Project:
        with self.lock:
            path = path.strip("/")
            project_id = id if id is not None else self._next_id("project")
            if project_id in self.projects:
                raise ValueError(f"project id {project_id} already exists")
            project = Project(
                id=project_id,
                path=path,
                name=name or path.rsplit("/", 1)[-1],
                description=description,
                created_at=to_datetime(created_at or DEFAULT_PROJECT_CREATED),
                namespace_id=self._next_id("namespace"),
            )
            self.projects[project_id] = project
            return project

    def add_label(
        self,
        project: Project | int | str,
        name: str,
        *,
        color: str | None = None,
        description: str = "",
    ) -> Label:
        with self.lock:
            proj = self.project(project)
            if name in proj.labels:
                return proj.labels[name]
            label_id = self._next_id("label")
            label = Label(
                label_id,
                name,
                color or LABEL_COLORS[(label_id - 1) % len(LABEL_COLORS)],
                description,
            )
            proj.labels[name] = label
            return label

    def add_issue(
        self,
        project: Project | int | str,
        iid: int | None,
        title: str,
        author: str,
        created_at: TimeLike | None = None,
        *,
        description: str | None = None,
        labels: Sequence[str] = (),
        milestone: str | None = None,
        due_date: date | str | None = None,
        assignees: Sequence[str] = (),
        confidential: bool = False,
    ) -> Issue:
        """Create an issue. Initial labels get ``add`` label events at creation, by the author."""
        with self.lock:
            proj = self.project(project)
            if iid is None:
                iid = max(proj.issues, default=0) + 1
            if iid in proj.issues:
                raise ValueError(f"issue #{iid} already exists in {proj.path}")
            at = self._at(created_at)
            issue = Issue(
                id=self._next_id("issue"),
                iid=iid,
                project_id=proj.id,
                title=title,
                description=description,
                author=self.user(author).username,
                created_at=at,
                updated_at=at,
                milestone_id=self.milestone_by_title(proj, milestone).id if milestone else None,
                assignees=[self.user(name).username for name in assignees],
                due_date=to_date(due_date),
                confidential=confidential,
            )
            proj.issues[iid] = issue
            if labels:
                self.edit_labels(proj, iid, add=labels, at=at, by=author, touch=False)
            return issue

    def edit_labels(
        self,
        project: Project | int | str,
        iid: int,
        *,
        replace: Sequence[str] | None = None,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        at: TimeLike | None = None,
        by: str | None = None,
        touch: bool = True,
    ) -> list[LabelEvent]:
        """One label edit, as one GitLab update: ``replace`` (the whole set, like ``labels=``),
        then ``add`` and ``remove``. Scoped labels are exclusive unless ``scoped_labels_exclusive``
        is off: of several labels of one scope, the one selected last wins. All events of the edit
        share one ``created_at``; adds come before removes, as GitLab inserts them.
        """
        with self.lock:
            proj = self.project(project)
            issue = self.issue(proj, iid)
            when = self._at(at)
            user = self.user(by or issue.author).username
            current = list(issue.labels)
            wanted = list(replace) if replace is not None else list(current)
            wanted += [name for name in add if name not in wanted]
            wanted = [name for name in _unique(wanted) if name not in set(remove)]
            if self.scoped_labels_exclusive:
                selection = [n for n in current if n in wanted] + list(replace or []) + list(add)
                wanted = _exclusive_scopes(wanted, selection)
            added = [name for name in wanted if name not in current]
            removed = [name for name in current if name not in wanted]
            events = [self._label_event(proj, issue, n, "add", when, user) for n in added]
            events += [self._label_event(proj, issue, n, "remove", when, user) for n in removed]
            issue.labels = wanted
            if events and touch:
                issue.updated_at = max(issue.updated_at, when)
            return events

    def change_labels(
        self,
        project: Project | int | str,
        iid: int,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        at: TimeLike | None = None,
        by: str | None = None,
    ) -> list[LabelEvent]:
        """Add and remove labels in one edit (see :meth:`edit_labels`)."""
        return self.edit_labels(project, iid, add=add, remove=remove, at=at, by=by)

    def set_labels(
        self,
        project: Project | int | str,
        iid: int,
        labels: Sequence[str],
        at: TimeLike | None = None,
        by: str | None = None,
    ) -> list[LabelEvent]:
        """Replace the issue's labels in one edit (see :meth:`edit_labels`)."""
        return self.edit_labels(project, iid, replace=labels, at=at, by=by)

    def _label_event(
        self, project: Project, issue: Issue, name: str, action: str, at: datetime, user: str
    ) -> LabelEvent:
        self.label(project, name)
        event = LabelEvent(self._next_id("label_event"), user, at, issue.id, name, action)
        issue.label_events.append(event)
        return event

    def close_issue(
        self,
        project: Project | int | str,
        iid: int,
        at: TimeLike | None = None,
        by: str | None = None,
    ) -> Issue:
        with self.lock:
            issue = self.issue(project, iid)
            when = self._at(at)
            issue.state = "closed"
            issue.closed_at = when
            issue.closed_by = self.user(by or issue.author).username
            issue.updated_at = max(issue.updated_at, when)
            return issue

    def reopen_issue(
        self,
        project: Project | int | str,
        iid: int,
        at: TimeLike | None = None,
        by: str | None = None,
    ) -> Issue:
        with self.lock:
            issue = self.issue(project, iid)
            when = self._at(at)
            if by:
                self.user(by)
            issue.state = "opened"
            issue.closed_at = None
            issue.closed_by = None
            issue.updated_at = max(issue.updated_at, when)
            return issue

    def update_issue(
        self,
        project: Project | int | str,
        iid: int,
        *,
        at: TimeLike | None = None,
        **fields: Any,
    ) -> Issue:
        """Set plain fields: title, description, due_date, milestone_id, assignees, confidential,
        discussion_locked."""
        with self.lock:
            issue = self.issue(project, iid)
            for key, value in fields.items():
                if key == "due_date":
                    value = to_date(value)
                elif key == "assignees":
                    value = [self.user(name).username for name in value]
                elif key not in (
                    "title",
                    "description",
                    "milestone_id",
                    "confidential",
                    "discussion_locked",
                ):
                    raise TypeError(f"cannot update issue field {key!r}")
                setattr(issue, key, value)
            issue.updated_at = max(issue.updated_at, self._at(at))
            return issue

    def set_milestone(
        self, project: Project | int | str, iid: int, title: str | None, at: TimeLike | None = None
    ) -> Issue:
        with self.lock:
            milestone_id = self.milestone_by_title(project, title).id if title else None
            return self.update_issue(project, iid, at=at, milestone_id=milestone_id)

    def add_link(
        self,
        project: Project | int | str,
        iid: int,
        other_iid: int,
        link_type: str = "relates_to",
        at: TimeLike | None = None,
        *,
        other_project: Project | int | str | None = None,
    ) -> IssueLink:
        """Link two issues. ``A is_blocked_by B`` is stored as ``B blocks A``; either issue's
        links list shows the link from its own side."""
        if link_type not in LINK_TYPES:
            raise ValueError(f"link_type must be one of {', '.join(LINK_TYPES)}, not {link_type!r}")
        with self.lock:
            source = self.issue(project, iid)
            target = self.issue(other_project if other_project is not None else project, other_iid)
            if source is target:
                raise ValueError("an issue cannot be linked to itself")
            if self._find_link(source, target) is not None:
                raise ValueError(f"issues #{source.iid} and #{target.iid} are already linked")
            if link_type == "is_blocked_by":
                source, target, link_type = target, source, "blocks"
            when = self._at(at)
            link = IssueLink(self._next_id("link"), source, target, link_type, when, when)
            self.links.append(link)
            # GitLab notes the link on both issues (system notes), which touches them.
            for touched in (source, target):
                touched.updated_at = max(touched.updated_at, when)
            return link

    def _find_link(self, one: Issue, other: Issue) -> IssueLink | None:
        for link in self.links:
            if {link.source.id, link.target.id} == {one.id, other.id}:
                return link
        return None

    def remove_link(self, link_id: int, at: TimeLike | None = None) -> IssueLink:
        with self.lock:
            for link in self.links:
                if link.id == link_id:
                    self.links.remove(link)
                    # GitLab notes the removal on both issues, which touches them.
                    when = self._at(at)
                    for touched in (link.source, link.target):
                        touched.updated_at = max(touched.updated_at, when)
                    return link
            raise NotFound("Link", link_id)

    def add_note(
        self,
        project: Project | int | str,
        iid: int,
        body: str,
        by: str,
        at: TimeLike | None = None,
        system: bool = False,
    ) -> Note:
        """Add a comment. Like GitLab, a note touches its issue's ``updated_at``."""
        with self.lock:
            proj = self.project(project)
            issue = self.issue(proj, iid)
            when = self._at(at)
            note = Note(
                self._next_id("note"),
                body,
                self.user(by).username,
                when,
                when,
                system,
                proj.id,
                issue.id,
                issue.iid,
            )
            issue.notes.append(note)
            issue.updated_at = max(issue.updated_at, when)
            return note

    def add_milestone(
        self,
        project: Project | int | str,
        title: str,
        start_date: date | str | None = None,
        due_date: date | str | None = None,
        state: str = "active",
        *,
        description: str = "",
        created_at: TimeLike | None = None,
    ) -> Milestone:
        if state not in ("active", "closed"):
            raise ValueError(f"milestone state must be active or closed, not {state!r}")
        with self.lock:
            proj = self.project(project)
            if any(m.title == title for m in proj.milestones.values()):
                raise ValueError(f"milestone {title!r} already exists in {proj.path}")
            at = self._at(created_at)
            milestone = Milestone(
                id=self._next_id("milestone"),
                iid=max((m.iid for m in proj.milestones.values()), default=0) + 1,
                project_id=proj.id,
                title=title,
                description=description,
                state=state,
                created_at=at,
                updated_at=at,
                start_date=to_date(start_date),
                due_date=to_date(due_date),
            )
            proj.milestones[milestone.id] = milestone
            return milestone

    def update_milestone(
        self,
        project: Project | int | str,
        milestone_id: int,
        at: TimeLike | None = None,
        **fields: Any,
    ) -> Milestone:
        """Set title, description, start_date, due_date or state (active|closed)."""
        with self.lock:
            milestone = self.project(project).milestones.get(int(milestone_id))
            if milestone is None:
                raise NotFound("Milestone", milestone_id)
            for key, value in fields.items():
                if key in ("start_date", "due_date"):
                    value = to_date(value)
                elif key == "state" and value not in ("active", "closed"):
                    raise ValueError(f"milestone state must be active or closed, not {value!r}")
                elif key not in ("title", "description", "state"):
                    raise TypeError(f"cannot update milestone field {key!r}")
                setattr(milestone, key, value)
            milestone.updated_at = self._at(at)
            return milestone

    # -- serialisers (shared by the HTTP handlers and snapshot) -------------------------------

    def user_json(self, username: str) -> Json:
        user = self.user(username)
        digest = hashlib.md5(user.username.encode()).hexdigest()  # an avatar hash, not security
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "state": "active",
            "locked": False,
            "avatar_url": f"https://www.gravatar.com/avatar/{digest}?s=80&d=identicon",
            "web_url": f"{self.web_base}/{user.username}",
        }

    def current_user_json(self, username: str) -> Json:
        return {
            **self.user_json(username),
            "created_at": iso(DEFAULT_PROJECT_CREATED),
            "bio": "",
            "public_email": None,
            "bot": False,
            "email": f"{username}@example.com",
            "is_admin": False,
        }

    def project_json(self, project: Project | int | str) -> Json:
        with self.lock:
            proj = self.project(project)
            host = urlsplit(self.web_base).hostname or "gitlab.example.com"
            web_url = f"{self.web_base}/{proj.path}"
            api = f"{self.web_base}/api/v4/projects/{proj.id}"
            namespace = proj.namespace_path
            last_activity = max([proj.created_at, *(i.updated_at for i in proj.issues.values())])
            return {
                "id": proj.id,
                "description": proj.description,
                "name": proj.name,
                "name_with_namespace": " / ".join([*proj.path.split("/")[:-1], proj.name]),
                "path": proj.path.rsplit("/", 1)[-1],
                "path_with_namespace": proj.path,
                "created_at": iso(proj.created_at),
                "default_branch": "main",
                "tag_list": [],
                "topics": [],
                "ssh_url_to_repo": f"git@{host}:{proj.path}.git",
                "http_url_to_repo": f"{web_url}.git",
                "web_url": web_url,
                "readme_url": None,
                "forks_count": 0,
                "avatar_url": None,
                "star_count": 0,
                "last_activity_at": iso(last_activity),
                "namespace": {
                    "id": proj.namespace_id,
                    "name": namespace.rsplit("/", 1)[-1],
                    "path": namespace.rsplit("/", 1)[-1],
                    "kind": "group" if namespace else "user",
                    "full_path": namespace,
                    "parent_id": None,
                    "avatar_url": None,
                    "web_url": f"{self.web_base}/groups/{namespace}",
                },
                "_links": {
                    "self": api,
                    "issues": f"{api}/issues",
                    "labels": f"{api}/labels",
                    "events": f"{api}/events",
                    "members": f"{api}/members",
                },
                "empty_repo": True,
                "archived": False,
                "visibility": "private",
                "issues_enabled": True,
                "open_issues_count": sum(i.state == "opened" for i in proj.issues.values()),
            }

    def milestone_json(self, milestone: Milestone) -> Json:
        with self.lock:
            proj = self.project(milestone.project_id)
            today = self.now().date()
            return {
                "id": milestone.id,
                "iid": milestone.iid,
                "project_id": milestone.project_id,
                "title": milestone.title,
                "description": milestone.description,
                "state": milestone.state,
                "created_at": iso(milestone.created_at),
                "updated_at": iso(milestone.updated_at),
                "due_date": iso_date(milestone.due_date),
                "start_date": iso_date(milestone.start_date),
                "expired": milestone.due_date is not None and milestone.due_date < today,
                "web_url": f"{self.web_base}/{proj.path}/-/milestones/{milestone.iid}",
            }

    def issue_json(self, project: Project | int | str, iid: int) -> Json:
        with self.lock:
            proj = self.project(project)
            issue = self.issue(proj, iid)
            milestone = proj.milestones.get(issue.milestone_id) if issue.milestone_id else None
            assignees = [self.user_json(name) for name in issue.assignees]
            api = f"{self.web_base}/api/v4/projects/{proj.id}"
            return {
                "id": issue.id,
                "iid": issue.iid,
                "project_id": proj.id,
                "title": issue.title,
                "description": issue.description,
                "state": issue.state,
                "created_at": iso(issue.created_at),
                "updated_at": iso(issue.updated_at),
                "closed_at": iso(issue.closed_at),
                "closed_by": self.user_json(issue.closed_by) if issue.closed_by else None,
                # GitLab's API entity returns label names sorted.
                "labels": sorted(issue.labels),
                "milestone": self.milestone_json(milestone) if milestone else None,
                "assignees": assignees,
                "author": self.user_json(issue.author),
                "type": "ISSUE",
                "assignee": assignees[0] if assignees else None,
                "user_notes_count": sum(not note.system for note in issue.notes),
                "merge_requests_count": 0,
                "upvotes": issue.upvotes,
                "downvotes": issue.downvotes,
                "due_date": iso_date(issue.due_date),
                "confidential": issue.confidential,
                "discussion_locked": issue.discussion_locked,
                "issue_type": "issue",
                "web_url": f"{self.web_base}/{proj.path}/-/issues/{issue.iid}",
                "time_stats": {
                    "time_estimate": 0,
                    "total_time_spent": 0,
                    "human_time_estimate": None,
                    "human_total_time_spent": None,
                },
                "task_completion_status": {"count": 0, "completed_count": 0},
                "has_tasks": False,
                "task_status": "0 of 0 checklist items completed",
                "_links": {
                    "self": f"{api}/issues/{issue.iid}",
                    "notes": f"{api}/issues/{issue.iid}/notes",
                    "award_emoji": f"{api}/issues/{issue.iid}/award_emoji",
                    "project": api,
                    "closed_as_duplicate_of": None,
                },
                "references": {
                    "short": f"#{issue.iid}",
                    "relative": f"#{issue.iid}",
                    "full": f"{proj.path}#{issue.iid}",
                },
                "severity": "UNKNOWN",
                "moved_to_id": None,
                "imported": False,
                "imported_from": "none",
                "service_desk_reply_to": None,
            }

    def label_json(self, label: Label) -> Json:
        return {
            "id": label.id,
            "name": label.name,
            "color": label.color,
            "description": label.description,
        }

    def label_event_json(self, project: Project | int | str, event: LabelEvent) -> Json:
        with self.lock:
            return {
                "id": event.id,
                "user": self.user_json(event.user),
                "created_at": iso(event.created_at),
                "resource_type": "Issue",
                "resource_id": event.issue_id,
                "label": self.label_json(self.label(project, event.label)),
                "action": event.action,
            }

    def label_events_json(self, project: Project | int | str, iid: int) -> list[Json]:
        """Oldest first, as GitLab lists them."""
        with self.lock:
            issue = self.issue(project, iid)
            events = sorted(issue.label_events, key=lambda e: e.id)
            return [self.label_event_json(project, event) for event in events]

    def links_json(self, project: Project | int | str, iid: int) -> list[Json]:
        """The issues linked to this one, each seen from this issue's side."""
        with self.lock:
            issue = self.issue(project, iid)
            result = []
            for link in sorted(self.links, key=lambda lk: lk.id):
                if issue.id not in (link.source.id, link.target.id):
                    continue
                mine = link.source.id == issue.id
                other = link.target if mine else link.source
                link_type = link.link_type
                if link_type == "blocks" and not mine:
                    link_type = "is_blocked_by"
                result.append(
                    {
                        **self.issue_json(other.project_id, other.iid),
                        "issue_link_id": link.id,
                        "link_type": link_type,
                        "link_created_at": iso(link.created_at),
                        "link_updated_at": iso(link.updated_at),
                    }
                )
            return result

    def note_json(self, note: Note) -> Json:
        with self.lock:
            return {
                "id": note.id,
                "type": None,
                "body": note.body,
                "attachment": None,
                "author": self.user_json(note.author),
                "created_at": iso(note.created_at),
                "updated_at": iso(note.updated_at),
                "system": note.system,
                "noteable_id": note.issue_id,
                "noteable_type": "Issue",
                "project_id": note.project_id,
                "resolvable": False,
                "confidential": False,
                "internal": False,
                "imported": False,
                "imported_from": "none",
                "noteable_iid": note.issue_iid,
                "commands_changes": {},
            }

    def notes_json(
        self,
        project: Project | int | str,
        iid: int,
        sort: str = "desc",
        order_by: str = "created_at",
    ) -> list[Json]:
        """Newest first by default, as GitLab's notes API."""
        with self.lock:
            issue = self.issue(project, iid)
            notes = sorted(
                issue.notes, key=lambda n: (getattr(n, order_by), n.id), reverse=sort == "desc"
            )
            return [self.note_json(note) for note in notes]

    def snapshot(self, project: Project | int | str, user: str = DEFAULT_TOKEN_USER) -> Json:
        """What rollout's snapshot file holds (PRODUCT.md §4): the project, the token's ``user``
        and, for each issue by iid, the issue with its label events, links and notes, in the
        API's default orders."""
        with self.lock:
            proj = self.project(project)
            issues = []
            for iid in sorted(proj.issues):
                issues.append(
                    {
                        **self.issue_json(proj, iid),
                        "label_events": self.label_events_json(proj, iid),
                        "links": self.links_json(proj, iid),
                        "notes": self.notes_json(proj, iid),
                    }
                )
            return {
                "project": self.project_json(proj),
                "user": {key: self.user_json(user)[key] for key in ("id", "username", "name")},
                "issues": issues,
            }


def _display_name(username: str) -> str:
    return " ".join(part.capitalize() for part in re.split(r"[._-]+", username) if part)


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _exclusive_scopes(labels: list[str], selection: list[str]) -> list[str]:
    """Keep one label per scope: the one selected last (GitLab's ScopedLabelSet rule)."""
    keep: dict[str, str] = {}
    for name in labels:
        scope = label_scope(name)
        if scope is None:
            continue
        rank = max((i for i, sel in enumerate(selection) if sel == name), default=-1)
        held = keep.get(scope)
        held_rank = max((i for i, sel in enumerate(selection) if sel == held), default=-1)
        if held is None or rank >= held_rank:
            keep[scope] = name
    return [n for n in labels if label_scope(n) is None or keep[label_scope(n) or ""] == n]


# --------------------------------------------------------------------------------------------
# HTTP server


@dataclass
class RecordedRequest:
    """One request the server received. ``auth`` names the header used (``PRIVATE-TOKEN``,
    ``JOB-TOKEN``, ``Bearer``) or is None; the token itself is never kept."""

    method: str
    path: str  # as sent, still percent-encoded (a project path appears as group%2Fproj)
    query: dict[str, list[str]]
    auth: str | None
    body: Json | None = None
    status: int | None = None
    fault: str | None = None
    received: float = 0.0  # time.monotonic() when it arrived, to see how long a client waited


@dataclass
class Fault:
    kind: str  # status | slow | drop | truncate | body | pagination
    times: int
    match: re.Pattern[str] | None
    method: str | None
    opts: dict[str, Any]

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return self.match is None or self.match.search(path) is not None


class ApiError(Exception):
    def __init__(self, status: int, body: Json, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def _bad(message: str) -> ApiError:
    return ApiError(400, {"error": message})


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    query_pairs: list[tuple[str, str]]
    body: Json
    host: str
    user: str
    fault: Fault | None = None  # a pagination fault, applied when the answer is paginated

    def params(self) -> Json:
        """Query parameters (single values as str) overlaid by the body, as Grape merges them."""
        merged: Json = {k: v[0] if len(v) == 1 else v for k, v in self.query.items()}
        merged.update(self.body)
        return merged


@dataclass
class _Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


FAULT_KINDS = ("status", "slow", "drop", "truncate", "body", "pagination")
HTTP_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_P = r"/api/v4/projects/(?P<project>[^/]+)"
_I = _P + r"/issues/(?P<iid>\d+)"
ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"/api/v4/user", "get_user"),
    ("GET", _P, "get_project"),
    ("GET", _P + r"/labels", "list_labels"),
    ("GET", _P + r"/issues", "list_issues"),
    ("GET", _I, "get_issue"),
    ("PUT", _I, "update_issue"),
    ("GET", _I + r"/resource_label_events", "list_label_events"),
    ("GET", _I + r"/resource_label_events/(?P<event_id>\d+)", "get_label_event"),
    ("GET", _I + r"/links", "list_links"),
    ("POST", _I + r"/links", "create_link"),
    ("DELETE", _I + r"/links/(?P<link_id>\d+)", "delete_link"),
    ("GET", _I + r"/notes", "list_notes"),
    ("POST", _I + r"/notes", "create_note"),
    ("GET", _I + r"/notes/(?P<note_id>\d+)", "get_note"),
    ("PUT", _I + r"/notes/(?P<note_id>\d+)", "update_note"),
    ("GET", _P + r"/milestones", "list_milestones"),
    ("POST", _P + r"/milestones", "create_milestone"),
    ("GET", _P + r"/milestones/(?P<milestone_id>\d+)", "get_milestone"),
    ("PUT", _P + r"/milestones/(?P<milestone_id>\d+)", "update_milestone"),
]
_COMPILED_ROUTES = [(m, re.compile(p + r"/?"), name) for m, p, name in ROUTES]


class GitLabServer(LocalServer["RecordedRequest", "Fault"]):
    """A GitLab API v4 server on 127.0.0.1 (a free port), serving ``state`` from a daemon thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``token`` is accepted as
    ``PRIVATE-TOKEN`` or ``Authorization: Bearer``; ``job_token`` (when set) as ``JOB-TOKEN``. Both
    act as the user ``user``. ``web_base``, when given, replaces the state's. ``latency`` seconds
    pass before every answer, as a network round trip would add (requests are served concurrently,
    so concurrent requests wait it out together).
    """

    thread_name = "fake-gitlab"

    def __init__(
        self,
        state: GitLabState | None = None,
        token: str = DEFAULT_TOKEN,
        job_token: str | None = None,
        web_base: str | None = None,
        user: str = DEFAULT_TOKEN_USER,
        latency: float = 0.0,
    ) -> None:
        self.state = state or GitLabState()
        self.latency = latency
        if web_base is not None:
            self.state.web_base = web_base.rstrip("/")
        self.token = token
        self.job_token = job_token
        self.username = self.state.user(user).username
        self.total_headers_limit = TOTAL_HEADERS_LIMIT
        super().__init__()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def client(self, **kwargs: Any) -> Any:
        """A ``gitlab.Gitlab`` for this server with the private token (kwargs passed through)."""
        import gitlab

        kwargs.setdefault("private_token", self.token)
        return gitlab.Gitlab(self.url, **kwargs)

    # -- request log --------------------------------------------------------------------------

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many requests matched the method and had ``path_contains`` in their raw path."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (path_contains is None or path_contains in r.path)
        )

    # -- faults -------------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        times: int = 1,
        match: str | None = None,
        method: str | None = None,
        **opts: Any,
    ) -> None:
        """Make the next ``times`` matching requests fail. ``match`` is a regex searched in the raw
        path, ``method`` an HTTP verb. Kinds and options:

        - ``status``: answer ``code`` (default 500) with a GitLab-like JSON body (``body``
          overrides) and optional ``retry_after`` (``Retry-After``: seconds, or a string sent as
          it is, e.g. an HTTP date) and extra ``headers``.
        - ``body``: answer ``code`` (default 200) with ``body`` (str or bytes) as it is, sent as
          ``content_type`` (default ``text/html``): a proxy's page, a body that is not JSON.
        - ``pagination``: a list answers normally, but its ``next`` link misbehaves: ``mode``
          ``"loop"`` points back to the first page, ``"endless"`` always to one more page (past
          the end pages are empty); ``totals=False`` also leaves X-Total, X-Total-Pages and
          rel="last" out, as GitLab does above 10,000 records. Inject it with a large ``times``
          to cover every page.
        - ``slow``: sleep ``seconds`` (default 1), then answer normally.
        - ``drop``: close the connection without answering; with ``after=True`` the request is
          carried out first (a note is posted, but the client never hears so).
        - ``truncate``: answer normally but cut the JSON body half way (Content-Length matches).

        As with a real server, ``truncate``, ``slow`` and ``drop(after=True)`` requests take
        effect even though the client sees a failure. Each matching request consumes one use of
        the first matching fault, in the order they were injected; it is recorded with ``fault``
        set to the kind.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
        pattern = re.compile(match) if match else None
        self._add_fault(Fault(kind, times, pattern, method, opts))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        return self._take_first_fault(lambda fault: fault.matches(method, path))

    # -- request handling ---------------------------------------------------------------------

    def _authenticate(self, headers: Any) -> tuple[str | None, bool]:
        """Which auth header was sent, and whether its token is valid."""
        private = headers.get("PRIVATE-TOKEN")
        if private is not None:
            return "PRIVATE-TOKEN", private == self.token
        job = headers.get("JOB-TOKEN")
        if job is not None:
            return "JOB-TOKEN", self.job_token is not None and job == self.job_token
        authorization = headers.get("Authorization")
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            return "Bearer", scheme.lower() == "bearer" and value.strip() == self.token
        return None, False

    def _dispatch(self, request: _Request) -> _Response:
        for method, pattern, name in _COMPILED_ROUTES:
            found = pattern.fullmatch(request.path)
            if found and method == request.method:
                handler: Callable[..., _Response] = getattr(_Api(self, request), name)
                return handler(**found.groupdict())
        if any(p.fullmatch(request.path) for _, p, _ in _COMPILED_ROUTES):
            raise ApiError(405, {"error": "405 Not Allowed"})
        raise ApiError(404, {"message": "404 Not found"})


@contextmanager
def running_gitlab(
    state: GitLabState | None = None, **server_kwargs: Any
) -> Iterator[GitLabServer]:
    """``with running_gitlab(state) as server:`` — a started :class:`GitLabServer`."""
    server = GitLabServer(state, **server_kwargs)
    with server:
        yield server


class _Handler(QuietHandler):
    def version_string(self) -> str:
        return "nginx"

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header: the state's clock, which also stamps updated_at (as GitLab's own)."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return format_datetime(self.server.owner.state.now().astimezone(UTC), usegmt=True)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _handle(self, method: str) -> None:
        gl: GitLabServer = self.server.owner
        split = urlsplit(self.path)
        query_pairs = parse_qsl(split.query, keep_blank_values=True)
        query = parse_qs(split.query, keep_blank_values=True)
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth, valid = gl._authenticate(self.headers)
        record = RecordedRequest(method, split.path, query, auth, received=time.monotonic())
        gl._record(record)
        if gl.latency:
            time.sleep(gl.latency)
        fault = gl._take_fault(method, split.path)
        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "drop" and not fault.opts.get("after"):
                self.close_connection = True
                return
            if fault.kind == "status":
                self._send(record, _fault_response(fault.opts))
                return
            if fault.kind == "body":
                self._send_raw(record, fault.opts)
                return
            if fault.kind == "slow":
                time.sleep(float(fault.opts.get("seconds", 1)))
        try:
            record.body = _parse_body(raw_body, self.headers.get("Content-Type", ""))
            if not valid:
                raise ApiError(401, {"message": "401 Unauthorized"})
            request = _Request(
                method,
                split.path,
                query,
                query_pairs,
                record.body,
                self.headers.get("Host", f"127.0.0.1:{gl.port}"),
                gl.username,
                fault if fault is not None and fault.kind == "pagination" else None,
            )
            response = gl._dispatch(request)
        except ApiError as error:
            response = _Response(error.status, error.body, error.headers)
        except NotFound as missing:
            response = _Response(404, {"message": f"404 {missing.what} Not Found"})
        except Exception as error:  # a bug in the fake must not kill the thread
            gl.errors.append(error)
            response = _Response(500, {"message": "500 Internal Server Error"})
        if fault is not None and fault.kind == "drop":  # after=True: done, but no answer
            record.status = response.status
            self.close_connection = True
            return
        self._send(record, response, truncate=fault is not None and fault.kind == "truncate")

    def _send(self, record: RecordedRequest, response: _Response, truncate: bool = False) -> None:
        payload = json.dumps(response.body).encode()
        if truncate:
            payload = payload[: len(payload) // 2]
        record.status = response.status
        try:
            self.send_response(response.status, HTTP_REASONS.get(response.status))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-cache")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_raw(self, record: RecordedRequest, opts: dict[str, Any]) -> None:
        body = opts.get("body", b"<html><body>Sign in</body></html>")
        payload = body.encode() if isinstance(body, str) else bytes(body)
        record.status = int(opts.get("code", 200))
        try:
            self.send_response(record.status, HTTP_REASONS.get(record.status))
            self.send_header("Content-Type", str(opts.get("content_type", "text/html")))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _fault_response(opts: dict[str, Any]) -> _Response:
    code = int(opts.get("code", 500))
    reason = HTTP_REASONS.get(code, "Error")
    headers = dict(opts.get("headers") or {})
    retry_after = opts.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = (
            retry_after if isinstance(retry_after, str) else str(int(retry_after))
        )
    body = opts.get("body", {"message": f"{code} {reason}"})
    return _Response(code, body, headers)


def _parse_body(raw: bytes, content_type: str) -> Json:
    """JSON or form-encoded bodies; repeated form keys (``labels[]``) become lists."""
    if not raw:
        return {}
    if "json" in content_type:
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise _bad("body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise _bad("body must be a JSON object")
        return parsed
    form = parse_qs(raw.decode(), keep_blank_values=True)
    return {
        k.removesuffix("[]"): (v if k.endswith("[]") or len(v) > 1 else v[0])
        for k, v in form.items()
    }


# --------------------------------------------------------------------------------------------
# Parameter helpers


def _as_list(value: Any) -> list[str]:
    """A list parameter sent as a JSON list, repeated keys or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, list):
        items = [str(v) for v in value]
        if len(items) == 1:
            items = items[0].split(",")
    else:
        items = str(value).split(",")
    return [item.strip() for item in items if item.strip()]


def _int(params: Json, key: str, default: int | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, list):
        value = value[-1]
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"{key} is invalid") from None


def _choice(params: Json, key: str, allowed: Sequence[str], default: str) -> str:
    value = params.get(key, default)
    if value not in allowed:
        raise _bad(f"{key} does not have a valid value")
    return str(value)


def _time_param(params: Json, key: str) -> datetime | None:
    value = params.get(key)
    if value in (None, ""):
        return None
    try:
        return to_datetime(str(value))
    except ValueError:
        raise _bad(f"{key} is invalid") from None


def _date_param(params: Json, key: str) -> date | None:
    try:
        return to_date(params.get(key))
    except (TypeError, ValueError):
        raise _bad(f"{key} is invalid") from None


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


# --------------------------------------------------------------------------------------------
# Endpoints


class _Api:
    """The endpoint handlers for one request."""

    def __init__(self, server: GitLabServer, request: _Request) -> None:
        self.server = server
        self.state = server.state
        self.request = request
        self.params = request.params()

    def _project(self, project: str) -> Project:
        return self.state.project(unquote(project))

    def _issue(self, project: str, iid: str) -> tuple[Project, Issue]:
        proj = self._project(project)
        return proj, self.state.issue(proj, int(iid))

    # -- pagination -----------------------------------------------------------------------------

    def _paginate(self, items: list[Any], serialise: Callable[[Any], Json]) -> _Response:
        page = max(_int(self.params, "page", 1) or 1, 1)
        per_page = _int(self.params, "per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE
        per_page = min(max(per_page, 1), MAX_PER_PAGE)
        total = len(items)
        start = (page - 1) * per_page
        chunk = items[start : start + per_page]
        has_next = start + per_page < total
        fault = self.request.fault
        if fault is not None:
            return self._misbehave(fault.opts, chunk, serialise, page, per_page, total)
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if has_next else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        links = []
        if page > 1:
            links.append(f'<{self._page_url(page - 1, per_page)}>; rel="prev"')
        if has_next:
            links.append(f'<{self._page_url(page + 1, per_page)}>; rel="next"')
        links.append(f'<{self._page_url(1, per_page)}>; rel="first"')
        if total <= self.server.total_headers_limit:
            total_pages = max(1, math.ceil(total / per_page))
            headers["X-Total"] = str(total)
            headers["X-Total-Pages"] = str(total_pages)
            links.append(f'<{self._page_url(total_pages, per_page)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return _Response(200, [serialise(item) for item in chunk], headers)

    def _misbehave(
        self,
        opts: dict[str, Any],
        chunk: list[Any],
        serialise: Callable[[Any], Json],
        page: int,
        per_page: int,
        total: int,
    ) -> _Response:
        """A page whose ``next`` link loops back to page 1 or never runs out."""
        mode = opts.get("mode", "loop")
        if mode not in ("loop", "endless"):
            raise ValueError(f"pagination mode must be loop or endless, not {mode!r}")
        following = 1 if mode == "loop" else page + 1
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Next-Page": str(following)}
        links = [f'<{self._page_url(following, per_page)}>; rel="next"']
        if opts.get("totals", True):
            total_pages = max(1, math.ceil(total / per_page))
            headers.update({"X-Total": str(total), "X-Total-Pages": str(total_pages)})
            links.append(f'<{self._page_url(total_pages, per_page)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return _Response(200, [serialise(item) for item in chunk], headers)

    def _page_url(self, page: int, per_page: int) -> str:
        pairs = [(k, v) for k, v in self.request.query_pairs if k not in ("page", "per_page")]
        pairs += [("page", str(page)), ("per_page", str(per_page))]
        return f"http://{self.request.host}{self.request.path}?{urlencode(pairs)}"

    # -- users and projects ---------------------------------------------------------------------

    def get_user(self) -> _Response:
        user = self.state.current_user_json(self.request.user)
        # gl.auth() warns when this web_url is not under the client's base URL (a misconfigured
        # external_url), so here, and only here, the URL follows the request's Host.
        user["web_url"] = f"http://{self.request.host}/{user['username']}"
        return _Response(200, user)

    def get_project(self, project: str) -> _Response:
        with self.state.lock:
            return _Response(200, self.state.project_json(self._project(project)))

    def list_labels(self, project: str) -> _Response:
        with self.state.lock:
            proj = self._project(project)
            labels = sorted(proj.labels.values(), key=lambda lb: lb.name.lower())
            return self._paginate(labels, self.state.label_json)

    # -- issues ---------------------------------------------------------------------------------

    def list_issues(self, project: str) -> _Response:
        params = self.params
        state_filter = _choice(params, "state", ("opened", "closed", "all"), "all")
        order_by = _choice(params, "order_by", ("created_at", "updated_at"), "created_at")
        sort = _choice(params, "sort", ("asc", "desc"), "desc")
        bounds = {
            key: _time_param(params, key)
            for key in ("created_after", "created_before", "updated_after", "updated_before")
        }
        raw_iids = params.get("iids[]", params.get("iids"))
        iids = {int(i) for i in _as_list(raw_iids) if i.isdigit()} if raw_iids is not None else None
        with self.state.lock:
            proj = self._project(project)
            selected = [
                issue
                for issue in proj.issues.values()
                if (state_filter == "all" or issue.state == state_filter)
                and (iids is None or issue.iid in iids)
                and self._labels_match(issue, params.get("labels"))
                and not set(_as_list(params.get("not[labels]"))) & set(issue.labels)
                and self._milestone_matches(proj, issue, params.get("milestone"))
                and self._search_matches(issue, params.get("search"))
                and _in_bounds(issue, bounds)
                and _user_matches(issue.author, params.get("author_username"))
                and _assignee_matches(issue, params.get("assignee_username"))
            ]
            selected.sort(key=lambda i: (getattr(i, order_by), i.id), reverse=sort == "desc")
            return self._paginate(selected, lambda i: self.state.issue_json(proj, i.iid))

    @staticmethod
    def _labels_match(issue: Issue, labels: Any) -> bool:
        if labels is None:
            return True
        wanted = _as_list(labels)
        if [w.lower() for w in wanted] == ["none"]:
            return not issue.labels
        if [w.lower() for w in wanted] == ["any"]:
            return bool(issue.labels)
        return all(name in issue.labels for name in wanted)

    @staticmethod
    def _milestone_matches(project: Project, issue: Issue, milestone: Any) -> bool:
        if milestone is None:
            return True
        if str(milestone).lower() == "none":
            return issue.milestone_id is None
        if str(milestone).lower() == "any":
            return issue.milestone_id is not None
        current = project.milestones.get(issue.milestone_id) if issue.milestone_id else None
        return current is not None and current.title == milestone

    @staticmethod
    def _search_matches(issue: Issue, search: Any) -> bool:
        if not search:
            return True
        needle = str(search).lower()
        return needle in issue.title.lower() or needle in (issue.description or "").lower()

    def get_issue(self, project: str, iid: str) -> _Response:
        with self.state.lock:
            proj, issue = self._issue(project, iid)
            return _Response(200, self.state.issue_json(proj, issue.iid))

    def update_issue(self, project: str, iid: str) -> _Response:
        params = self.params
        known = (
            "title",
            "description",
            "labels",
            "add_labels",
            "remove_labels",
            "state_event",
            "due_date",
            "milestone_id",
            "assignee_ids",
            "assignee_id",
            "confidential",
            "discussion_locked",
        )
        if not any(key in params for key in known):
            raise _bad(f"{', '.join(known)} are missing, at least one parameter must be provided")
        state_event = params.get("state_event")
        if state_event is not None and state_event not in ("close", "reopen"):
            raise _bad("state_event does not have a valid value")
        due_date = _date_param(params, "due_date")
        with self.state.lock:
            proj, issue = self._issue(project, iid)
            now, user = self.state.now(), self.request.user
            fields: Json = {}
            for key in ("title", "description"):
                if key in params:
                    fields[key] = params[key]
            if "due_date" in params:
                fields["due_date"] = due_date
            if "milestone_id" in params:
                fields["milestone_id"] = self._milestone_id(proj, params["milestone_id"])
            if "confidential" in params:
                fields["confidential"] = _bool(params["confidential"])
            if "discussion_locked" in params:
                fields["discussion_locked"] = _bool(params["discussion_locked"])
            assignee_ids = params.get("assignee_ids", params.get("assignee_id"))
            if assignee_ids is not None:
                fields["assignees"] = self._usernames(_as_list(assignee_ids))
            if fields:
                self.state.update_issue(proj, issue.iid, at=now, **fields)
            if any(key in params for key in ("labels", "add_labels", "remove_labels")):
                replace = _as_list(params["labels"]) if "labels" in params else None
                self.state.edit_labels(
                    proj,
                    issue.iid,
                    replace=replace,
                    add=_as_list(params.get("add_labels")),
                    remove=_as_list(params.get("remove_labels")),
                    at=now,
                    by=user,
                )
            if state_event == "close" and issue.state != "closed":
                self.state.close_issue(proj, issue.iid, at=now, by=user)
            elif state_event == "reopen" and issue.state != "opened":
                self.state.reopen_issue(proj, issue.iid, at=now, by=user)
            return _Response(200, self.state.issue_json(proj, issue.iid))

    @staticmethod
    def _milestone_id(project: Project, value: Any) -> int | None:
        # GitLab silently clears the milestone when the id is 0, empty or not the project's.
        try:
            wanted = int(value)
        except (TypeError, ValueError):
            return None
        return wanted if wanted in project.milestones else None

    def _usernames(self, ids: list[str]) -> list[str]:
        by_id = {str(user.id): user.username for user in self.state.users.values()}
        return [by_id[i] for i in ids if i in by_id]

    # -- label events ---------------------------------------------------------------------------

    def list_label_events(self, project: str, iid: str) -> _Response:
        with self.state.lock:
            proj, issue = self._issue(project, iid)
            events = sorted(issue.label_events, key=lambda e: e.id)
            return self._paginate(events, lambda e: self.state.label_event_json(proj, e))

    def get_label_event(self, project: str, iid: str, event_id: str) -> _Response:
        with self.state.lock:
            proj, issue = self._issue(project, iid)
            for event in issue.label_events:
                if event.id == int(event_id):
                    return _Response(200, self.state.label_event_json(proj, event))
            raise ApiError(404, {"message": "404 Not found"})

    # -- links ----------------------------------------------------------------------------------

    def list_links(self, project: str, iid: str) -> _Response:
        # Not paginated in GitLab either.
        with self.state.lock:
            proj, issue = self._issue(project, iid)
            return _Response(200, self.state.links_json(proj, issue.iid))

    def create_link(self, project: str, iid: str) -> _Response:
        params = self.params
        for key in ("target_project_id", "target_issue_iid"):
            if params.get(key) in (None, ""):
                raise _bad(f"{key} is missing")
        link_type = _choice(params, "link_type", LINK_TYPES, "relates_to")
        target_iid = _int(params, "target_issue_iid")
        with self.state.lock:
            proj, issue = self._issue(project, iid)
            try:
                target_project = self.state.project(unquote(str(params["target_project_id"])))
                target = self.state.issue(target_project, target_iid or 0)
            except NotFound:
                raise ApiError(
                    404,
                    {
                        "message": "No matching issue found. Make sure that you are "
                        "adding a valid issue URL."
                    },
                ) from None
            if target is issue:
                raise _bad("Cannot link an issue to itself")
            if self.state._find_link(issue, target) is not None:
                raise ApiError(409, {"message": "Issue(s) already assigned"})
            self.state.add_link(
                proj,
                issue.iid,
                target.iid,
                link_type,
                self.state.now(),
                other_project=target_project,
            )
            return _Response(
                201,
                {
                    "source_issue": self.state.issue_json(proj, issue.iid),
                    "target_issue": self.state.issue_json(target_project, target.iid),
                    "link_type": link_type,
                },
            )

    def delete_link(self, project: str, iid: str, link_id: str) -> _Response:
        with self.state.lock:
            _, issue = self._issue(project, iid)
            mine = [
                lk
                for lk in self.state.links
                if lk.id == int(link_id) and issue.id in (lk.source.id, lk.target.id)
            ]
            if not mine:
                raise ApiError(404, {"message": "404 Not found"})
            link = self.state.remove_link(mine[0].id)
            return _Response(
                200,
                {
                    "source_issue": self.state.issue_json(link.source.project_id, link.source.iid),
                    "target_issue": self.state.issue_json(link.target.project_id, link.target.iid),
                    "link_type": link.link_type,
                },
            )

    # -- notes ----------------------------------------------------------------------------------

    def list_notes(self, project: str, iid: str) -> _Response:
        sort = _choice(self.params, "sort", ("asc", "desc"), "desc")
        order_by = _choice(self.params, "order_by", ("created_at", "updated_at"), "created_at")
        with self.state.lock:
            _, issue = self._issue(project, iid)
            notes = sorted(
                issue.notes, key=lambda n: (getattr(n, order_by), n.id), reverse=sort == "desc"
            )
            return self._paginate(notes, self.state.note_json)

    def create_note(self, project: str, iid: str) -> _Response:
        body = self.params.get("body")
        if body in (None, ""):
            raise _bad("body is missing")
        created_at = _time_param(self.params, "created_at")
        with self.state.lock:
            proj, issue = self._issue(project, iid)
            note = self.state.add_note(proj, issue.iid, str(body), self.request.user, at=created_at)
            return _Response(201, self.state.note_json(note))

    def _note(self, issue: Issue, note_id: str) -> Note:
        for note in issue.notes:
            if note.id == int(note_id):
                return note
        raise NotFound("Note", note_id)

    def get_note(self, project: str, iid: str, note_id: str) -> _Response:
        with self.state.lock:
            _, issue = self._issue(project, iid)
            return _Response(200, self.state.note_json(self._note(issue, note_id)))

    def update_note(self, project: str, iid: str, note_id: str) -> _Response:
        body = self.params.get("body")
        if body in (None, ""):
            raise _bad("body is missing")
        with self.state.lock:
            _, issue = self._issue(project, iid)
            note = self._note(issue, note_id)
            note.body = str(body)
            note.updated_at = self.state.now()
            issue.updated_at = max(issue.updated_at, note.updated_at)  # GitLab touches it too
            return _Response(200, self.state.note_json(note))

    # -- milestones -----------------------------------------------------------------------------

    def list_milestones(self, project: str) -> _Response:
        params = self.params
        state_filter = params.get("state")
        if state_filter is not None:
            _choice(params, "state", ("active", "closed"), "active")
        raw_iids = params.get("iids[]", params.get("iids"))
        iids = {int(i) for i in _as_list(raw_iids) if i.isdigit()} if raw_iids is not None else None
        search = str(params.get("search") or "").lower()
        with self.state.lock:
            proj = self._project(project)
            selected = [
                m
                for m in proj.milestones.values()
                if (state_filter is None or m.state == state_filter)
                and (iids is None or m.iid in iids)
                and ("title" not in params or m.title == params["title"])
                and (not search or search in m.title.lower() or search in m.description.lower())
            ]
            selected.sort(key=lambda m: m.id, reverse=True)
            return self._paginate(selected, self.state.milestone_json)

    def _milestone(self, project: str, milestone_id: str) -> tuple[Project, Milestone]:
        proj = self._project(project)
        milestone = proj.milestones.get(int(milestone_id))
        if milestone is None:
            raise NotFound("Milestone", milestone_id)
        return proj, milestone

    def get_milestone(self, project: str, milestone_id: str) -> _Response:
        with self.state.lock:
            _, milestone = self._milestone(project, milestone_id)
            return _Response(200, self.state.milestone_json(milestone))

    def create_milestone(self, project: str) -> _Response:
        params = self.params
        title = params.get("title")
        if title in (None, ""):
            raise _bad("title is missing")
        start, due = _date_param(params, "start_date"), _date_param(params, "due_date")
        with self.state.lock:
            proj = self._project(project)
            if any(m.title == title for m in proj.milestones.values()):
                raise ApiError(
                    400,
                    {
                        "message": {
                            "title": ["already being used for another group or project milestone."]
                        }
                    },
                )
            milestone = self.state.add_milestone(
                proj,
                str(title),
                start,
                due,
                description=str(params.get("description") or ""),
                created_at=self.state.now(),
            )
            if params.get("state_event") == "close":
                self.state.update_milestone(proj, milestone.id, state="closed")
            return _Response(201, self.state.milestone_json(milestone))

    def update_milestone(self, project: str, milestone_id: str) -> _Response:
        params = self.params
        fields: Json = {}
        for key in ("title", "description"):
            if key in params:
                fields[key] = str(params[key] or "")
        for key in ("start_date", "due_date"):
            if key in params:
                fields[key] = _date_param(params, key)
        if "state_event" in params:
            event = _choice(params, "state_event", ("activate", "close"), "activate")
            fields["state"] = "active" if event == "activate" else "closed"
        if not fields:
            raise _bad(
                "title, description, due_date, start_date, state_event are missing, "
                "at least one parameter must be provided"
            )
        with self.state.lock:
            proj, milestone = self._milestone(project, milestone_id)
            new_title = fields.get("title")
            if new_title and any(
                m.title == new_title and m is not milestone for m in proj.milestones.values()
            ):
                raise ApiError(
                    400,
                    {
                        "message": {
                            "title": ["already being used for another group or project milestone."]
                        }
                    },
                )
            self.state.update_milestone(proj, milestone.id, at=self.state.now(), **fields)
            return _Response(200, self.state.milestone_json(milestone))


def _in_bounds(issue: Issue, bounds: dict[str, datetime | None]) -> bool:
    checks = (
        ("created_after", issue.created_at, 1),
        ("created_before", issue.created_at, -1),
        ("updated_after", issue.updated_at, 1),
        ("updated_before", issue.updated_at, -1),
    )
    for key, value, direction in checks:
        bound = bounds[key]
        if bound is not None and (value < bound if direction > 0 else value > bound):
            return False
    return True


def _user_matches(username: str, wanted: Any) -> bool:
    return wanted is None or username == wanted


def _assignee_matches(issue: Issue, wanted: Any) -> bool:
    if wanted is None:
        return True
    return all(name in issue.assignees for name in _as_list(wanted))
