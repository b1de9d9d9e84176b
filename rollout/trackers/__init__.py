"""Trackers: where issues come from. One interface, two implementations.

- ``gitlab``: the live project over GitLab's REST API (the only module importing python-gitlab);
- ``snapshot``: a JSON file of GitLab's own shapes, written by ``rollout snapshot``.

Both hand over GitLab's JSON, turned into records by rollout.issues, so the same data
gives the same answers through either.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rollout.config import Config
from rollout.errors import TrackerError, TrackerNotSetUp
from rollout.issues import (
    Issue,
    Milestone,
    Note,
    issue_from_json,
    issue_iid,
    note_from_json,
    with_history,
)
from rollout.markers import Trust

Json = dict[str, Any]
# Called after each issue's history arrives: (done, total). For progress bars.
Progress = Callable[[int, int], None]
# An issue's history: what is fetched besides the issue itself, one request (or more) each.
HISTORY = ("label_events", "links", "notes")
# "Recent" issues: the open ones and those closed this long ago at most.
RECENTLY_CLOSED = timedelta(days=90)


@dataclass(frozen=True)
class IssueQuery:
    """Which issues to list; GitLab applies these filters itself."""

    state: str = "opened"  # "opened", "closed" or "all"
    labels: tuple[str, ...] = ()  # all of them
    milestone: str | None = None  # a title
    updated_after: datetime | None = None


class Tracker(ABC):
    """Reads issues in GitLab's JSON shapes; the record-level methods are shared.

    An issue's *history* is its label events, links and notes (HISTORY): one request
    (or more) each, fetched only for the issues a command needs.
    """

    project_path: str

    @abstractmethod
    def project(self) -> Json:
        """GET /projects/:id."""

    @abstractmethod
    def user(self) -> Json | None:
        """The user of the token (GET /user), or None when the tracker cannot say."""

    @abstractmethod
    def issues_json(self, iids: Sequence[int], progress: Progress | None = None) -> list[Json]:
        """These issues, each with its whole history; unknown iids are an error."""

    @abstractmethod
    def list_json(
        self,
        query: IssueQuery,
        *,
        history: Collection[str] = HISTORY,
        progress: Progress | None = None,
    ) -> list[Json]:
        """The issues matching ``query``, each with the parts of its ``history`` asked for."""

    @abstractmethod
    def fetch_history(
        self, iids: Sequence[int], parts: Collection[str], progress: Progress | None = None
    ) -> list[Json]:
        """For each issue, a mapping from each of ``parts`` to its JSON list."""

    @abstractmethod
    def note_list(self, iid: int) -> list[Json]:
        """The notes of one issue, fresh from the tracker."""

    @abstractmethod
    def post_note(self, iid: int, body: str) -> Json:
        """Add a note to an issue; returns the note as created."""

    @abstractmethod
    def milestone_list(self) -> list[Json]:
        """Every milestone of the project, open and closed."""

    @abstractmethod
    def create_milestone(self, title: str, start_date: str, due_date: str) -> Json: ...

    @abstractmethod
    def update_milestone(self, milestone_id: int, **fields: str) -> Json: ...

    # ------------------------------------------------------------ records

    def issues(self, iids: Sequence[int], progress: Progress | None = None) -> list[Issue]:
        return [issue_from_json(data) for data in self.issues_json(iids, progress)]

    def issue(self, iid: int) -> Issue:
        return self.issues([iid])[0]

    def list_recent(
        self, since: datetime, milestone: str | None = None, history: Collection[str] = HISTORY
    ) -> list[Json]:
        """The open issues, plus those closed since ``since``, with ``history``. GitLab
        filters on the last update, so the closing time is checked here, before any
        history is fetched."""
        opened = self.list_json(IssueQuery("opened", milestone=milestone), history=())
        closed = self.list_json(
            IssueQuery("closed", milestone=milestone, updated_after=since), history=()
        )
        recent = opened + [
            data
            for data in closed
            if (closed_at := issue_from_json(data).closed_at) is not None and closed_at >= since
        ]
        if history:
            self.add_history(recent, history)
        return recent

    def add_history(
        self, listed: list[Json], parts: Collection[str], progress: Progress | None = None
    ) -> None:
        """Fetch the ``parts`` of the history of issues listed without it, into their JSON."""
        fetched = self.fetch_history([issue_iid(data) for data in listed], parts, progress)
        for data, history in zip(listed, fetched, strict=True):
            data.update(history)

    def list_issues(
        self,
        query: IssueQuery,
        *,
        history: Collection[str] = HISTORY,
        progress: Progress | None = None,
    ) -> list[Issue]:
        listed = self.list_json(query, history=history, progress=progress)
        return [issue_from_json(data) for data in listed]

    def with_history(
        self, issues: Sequence[Issue], parts: Collection[str], progress: Progress | None = None
    ) -> list[Issue]:
        """The issues again, with the ``parts`` of their history fetched."""
        fetched = self.fetch_history([issue.iid for issue in issues], parts, progress)
        return [
            with_history(issue, history) for issue, history in zip(issues, fetched, strict=True)
        ]

    def prefetch_user(self) -> None:
        """Start reading the token's user, for a command that will ask whom to trust once
        it has read its issues: the request overlaps theirs. Nothing to start by default."""
        return None

    def trust(self, posters: Iterable[str]) -> Trust:
        """Whose markers count (PRODUCT.md §3): the token's own user and ``posters``."""
        user = self.user()
        return Trust.of([*posters, str(user.get("username") or "")] if user else posters)

    def notes(self, iid: int) -> list[Note]:
        return [note_from_json(note) for note in self.note_list(iid)]

    def milestones(self) -> list[Milestone]:
        return [Milestone.from_json(data) for data in self.milestone_list()]


NO_GITLAB_TOKEN = (
    "no GitLab token: set GITLAB_TOKEN (CI_JOB_TOKEN in GitLab CI), "
    "or name a python-gitlab config section in [tracker] gitlab_id"
)


def open_tracker(config: Config, kind: str | None = None, path: Path | None = None) -> Tracker:
    """The tracker a command should read: ``kind``/``path`` from --tracker, else the config's.

    Raises TrackerNotSetUp, before python-gitlab is even imported, when there is no tracker
    to open: none configured, or GitLab without any credentials.
    """
    kind = kind or config.tracker.kind
    if kind is None:
        raise TrackerNotSetUp(
            "no tracker configured: set [tracker] in rollout.toml, "
            "or pass --tracker gitlab or --tracker snapshot:PATH"
        )
    if kind == "snapshot":
        from rollout.trackers.snapshot import SnapshotTracker

        snapshot = path or config.tracker.snapshot
        if snapshot is None:
            raise TrackerError(
                "no snapshot file: pass --tracker snapshot:PATH or set [tracker] snapshot"
            )
        return SnapshotTracker.load(snapshot)
    has_token = os.environ.get("GITLAB_TOKEN") or os.environ.get("CI_JOB_TOKEN")
    if not (has_token or config.tracker.gitlab_id):
        raise TrackerNotSetUp(NO_GITLAB_TOKEN)
    from rollout.trackers.gitlab import GitLabTracker

    return GitLabTracker.connect(config.tracker)
