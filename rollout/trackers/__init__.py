"""Trackers: where issues come from. One interface, two implementations.

- ``gitlab``: the live project over GitLab's REST API (the only module importing python-gitlab);
- ``snapshot``: a JSON file of GitLab's own shapes, written by ``rollout snapshot``.

Both hand over GitLab's JSON, turned into records by rollout.issues, so the same data
gives the same answers through either.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
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
    note_from_json,
    with_details,
)

Json = dict[str, Any]
# Called after each issue's details arrive: (done, total). For progress bars.
Progress = Callable[[int, int], None]
# What can be fetched for an issue besides the issue itself, one request (or more) each.
DETAILS = ("label_events", "links", "notes")
# "Recent" issues: the open ones and those closed this long ago at most.
RECENTLY_CLOSED = timedelta(days=90)


@dataclass(frozen=True)
class IssueQuery:
    """Which issues to list; GitLab applies these filters itself."""

    state: str = "opened"  # "opened", "closed" or "all"
    labels: tuple[str, ...] = ()  # all of them
    milestone: str | None = None  # a title
    updated_after: datetime | None = None


def issue_from_bundle(bundle: Mapping[str, Any]) -> Issue:
    """An issue as the snapshot file stores it: its JSON plus its events, links and notes."""
    return issue_from_json(
        bundle,
        bundle.get("label_events") or (),
        bundle.get("links") or (),
        bundle.get("notes") or (),
    )


class Tracker(ABC):
    """Reads issues in GitLab's JSON shapes; the record-level methods are shared."""

    project_path: str

    @abstractmethod
    def project(self) -> Json:
        """GET /projects/:id."""

    @abstractmethod
    def bundles(self, iids: Sequence[int], progress: Progress | None = None) -> list[Json]:
        """These issues, each with label_events, links and notes; unknown iids are an error."""

    @abstractmethod
    def list_bundles(
        self,
        query: IssueQuery,
        *,
        details: Collection[str] = DETAILS,
        progress: Progress | None = None,
    ) -> list[Json]:
        """The issues matching ``query``, each with the ``details`` asked for."""

    @abstractmethod
    def fetch_details(
        self, iids: Sequence[int], details: Collection[str], progress: Progress | None = None
    ) -> list[Json]:
        """For each issue, a mapping from each of ``details`` to its JSON list."""

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
        return [issue_from_bundle(bundle) for bundle in self.bundles(iids, progress)]

    def issue(self, iid: int) -> Issue:
        return self.issues([iid])[0]

    def list_recent(
        self, since: datetime, milestone: str | None = None, details: Collection[str] = DETAILS
    ) -> list[Json]:
        """The open issues, plus those closed since ``since``, with ``details``. GitLab
        filters on the last update, so the closing time is checked here, before any
        history is fetched."""
        opened = self.list_bundles(IssueQuery("opened", milestone=milestone), details=())
        closed = self.list_bundles(
            IssueQuery("closed", milestone=milestone, updated_after=since), details=()
        )
        recent = opened + [
            bundle
            for bundle in closed
            if bundle.get("closed_at") and datetime.fromisoformat(bundle["closed_at"]) >= since
        ]
        if details:
            self.add_details(recent, details)
        return recent

    def add_details(
        self, bundles: list[Json], details: Collection[str], progress: Progress | None = None
    ) -> None:
        """Fetch ``details`` for issues listed without them, into their JSON."""
        fetched = self.fetch_details([int(bundle["iid"]) for bundle in bundles], details, progress)
        for bundle, extra in zip(bundles, fetched, strict=True):
            bundle.update(extra)

    def list_issues(
        self,
        query: IssueQuery,
        *,
        details: Collection[str] = DETAILS,
        progress: Progress | None = None,
    ) -> list[Issue]:
        bundles = self.list_bundles(query, details=details, progress=progress)
        return [issue_from_bundle(bundle) for bundle in bundles]

    def complete(
        self, issues: Sequence[Issue], details: Collection[str], progress: Progress | None = None
    ) -> list[Issue]:
        """The issues again, with ``details`` fetched (for those listed without them)."""
        fetched = self.fetch_details([issue.iid for issue in issues], details, progress)
        return [with_details(issue, extra) for issue, extra in zip(issues, fetched, strict=True)]

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
