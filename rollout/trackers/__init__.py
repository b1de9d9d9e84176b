"""Trackers: where issues come from. One interface, two implementations.

- ``gitlab``: the live project over GitLab's REST API (the only module importing python-gitlab);
- ``snapshot``: a JSON file of GitLab's own shapes, written by ``rollout snapshot``.

Both hand over GitLab's JSON, turned into records by rollout.issues, so the same data
gives the same answers through either.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rollout.config import Config, TrackerConfig
from rollout.errors import TrackerError, TrackerNotSetUp
from rollout.issues import (
    Issue,
    Milestone,
    Note,
    issue_from_json,
    note_from_json,
    with_history,
)
from rollout.markers import Trust

Json = dict[str, Any]
# Called after each issue's history arrives: (done, total). For progress bars.
Progress = Callable[[int, int], None]
# Called with an issue's iid and history as soon as all of its parts are in, while the
# others' are still on their way.
Arrived = Callable[[int, Json], None]
# An issue's history: what is fetched besides the issue itself, one request (or more) each.
HISTORY = ("label_events", "links", "notes")
# The parts of the history to fetch: the same for every issue, or chosen issue by issue.
Parts = Collection[str] | Mapping[int, Collection[str]]
# Once an issue's first parts are read: the further parts it needs.
FollowUp = Callable[[Issue], Collection[str]]
# "Recent" issues: the open ones and those closed this long ago at most.
RECENTLY_CLOSED = timedelta(days=90)


def parts_for(parts: Parts, iid: int) -> list[str]:
    """The parts of one issue's history asked for, in HISTORY's order."""
    chosen = parts.get(iid, ()) if isinstance(parts, Mapping) else parts
    return [kind for kind in HISTORY if kind in chosen]


@dataclass(frozen=True)
class HistoryPlan:
    """What a command reads of its listed issues' histories: the first ``parts`` of each
    and, once those are in, the further parts ``then`` names for each (see
    Tracker.with_history). Plans of several commands merge into one read (rollout site)."""

    issues: tuple[Issue, ...]
    parts: Mapping[int, Collection[str]]
    then: FollowUp | None = None

    @classmethod
    def merge(cls, plans: Iterable[HistoryPlan]) -> HistoryPlan:
        """One plan that reads, once, everything each of ``plans`` reads."""
        issues: dict[int, Issue] = {}
        parts: dict[int, set[str]] = {}
        follow_ups: dict[int, list[FollowUp]] = {}
        for plan in plans:
            for issue in plan.issues:
                issues.setdefault(issue.iid, issue)
                parts.setdefault(issue.iid, set()).update(parts_for(plan.parts, issue.iid))
                if plan.then is not None:
                    follow_ups.setdefault(issue.iid, []).append(plan.then)

        def then(issue: Issue) -> tuple[str, ...]:
            wanted = {kind for step in follow_ups.get(issue.iid, ()) for kind in step(issue)}
            return tuple(kind for kind in HISTORY if kind in wanted)

        return cls(
            tuple(issues[iid] for iid in sorted(issues)),
            {iid: tuple(parts_for(kinds, iid)) for iid, kinds in parts.items()},
            then if follow_ups else None,
        )


@dataclass(frozen=True)
class IssueQuery:
    """Which issues to list; GitLab applies these filters itself."""

    state: str = "opened"  # "opened", "closed" or "all"
    labels: tuple[str, ...] = ()  # all of them
    without_labels: tuple[str, ...] = ()  # none of them
    milestone: str | None = None  # a title
    updated_after: datetime | None = None

    def matches(self, issue: Issue) -> bool:
        """Whether GitLab would list ``issue`` for this query (updated_after is "updated on
        or after", as GitLab documents it)."""
        if self.state != "all" and issue.state != self.state:
            return False
        labels = set(issue.labels)
        if not set(self.labels) <= labels or labels & set(self.without_labels):
            return False
        if self.milestone is not None and (
            issue.milestone is None or issue.milestone.title != self.milestone
        ):
            return False
        return self.updated_after is None or issue.updated_at >= self.updated_after


OPEN_ISSUES = IssueQuery("opened")


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
        self,
        iids: Sequence[int],
        parts: Parts,
        progress: Progress | None = None,
        versions: Mapping[int, datetime] | None = None,
        arrived: Arrived | None = None,
    ) -> list[Json]:
        """For each issue, a mapping from each of ``parts`` to its JSON list. ``versions``:
        each issue's updated_at as just listed, which lets a tracker answer from its cache;
        ``arrived`` hears of each issue as soon as its history is complete."""

    @abstractmethod
    def note_list(self, iid: int) -> list[Json]:
        """The notes of one issue, fresh from the tracker."""

    @abstractmethod
    def post_note(self, iid: int, body: str) -> Json:
        """Add a note to an issue; returns the note as created."""

    @abstractmethod
    def update_issue(
        self,
        iid: int,
        *,
        add_labels: Sequence[str] = (),
        remove_labels: Sequence[str] = (),
        close: bool = False,
    ) -> Json:
        """Add and remove labels and maybe close the issue, in one update; returns the issue.
        Doing it twice changes nothing more, so a retry cannot do harm."""

    @abstractmethod
    def milestone_list(self) -> list[Json]:
        """Every milestone of the project, open and closed."""

    @abstractmethod
    def create_milestone(self, title: str, start_date: str, due_date: str) -> Json: ...

    @abstractmethod
    def update_milestone(self, milestone_id: int, **fields: str) -> Json: ...

    # ------------------------------------------------------------ records

    def issues(self, iids: Sequence[int], progress: Progress | None = None) -> list[Issue]:
        return self.records(self.issues_json(iids, progress))

    def records(self, listed: Iterable[Json]) -> list[Issue]:
        """The records of issues' JSON as this tracker handed it over."""
        return [issue_from_json(data) for data in listed]

    def issue(self, iid: int) -> Issue:
        return self.issues([iid])[0]

    def list_recent(
        self, since: datetime, milestone: str | None = None, history: Collection[str] = HISTORY
    ) -> list[Json]:
        """The open issues, plus those closed since ``since``, with ``history``. GitLab
        filters on the last update, so the closing time is checked here, before any
        history is fetched."""
        opened, closed = self.list_each(
            [
                IssueQuery("opened", milestone=milestone),
                IssueQuery("closed", milestone=milestone, updated_after=since),
            ]
        )
        recent = opened + [
            data
            for data, issue in zip(closed, self.records(closed), strict=True)
            if issue.closed_at is not None and issue.closed_at >= since
        ]
        if history:
            self.add_history(recent, history)
        return recent

    def list_each(self, queries: Sequence[IssueQuery]) -> list[list[Json]]:
        """The issues of each query, without their history. The queries are independent,
        so they are read at the same time: each one's pages follow each other."""
        if len(queries) < 2:
            return [self.list_json(query, history=()) for query in queries]
        with ThreadPoolExecutor(max_workers=len(queries)) as pool:
            return list(pool.map(lambda query: self.list_json(query, history=()), queries))

    def add_history(
        self, listed: list[Json], parts: Parts, progress: Progress | None = None
    ) -> None:
        """Fetch the ``parts`` of the history of issues listed without it, into their JSON."""
        records = self.records(listed)
        versions = {issue.iid: issue.updated_at for issue in records}
        fetched = self.fetch_history([issue.iid for issue in records], parts, progress, versions)
        for data, history in zip(listed, fetched, strict=True):
            data.update(history)

    def list_issues(
        self,
        query: IssueQuery,
        *,
        history: Collection[str] = HISTORY,
        progress: Progress | None = None,
    ) -> list[Issue]:
        return self.records(self.list_json(query, history=history, progress=progress))

    def with_history(
        self,
        issues: Sequence[Issue],
        parts: Parts,
        progress: Progress | None = None,
        then: FollowUp | None = None,
    ) -> list[Issue]:
        """The issues (distinct) again, with the ``parts`` of their history fetched; then,
        when ``then`` is given, with the further parts it names for each issue once it has
        those. Each issue is read, and ``then`` asked, as soon as its first parts are in:
        that work is done while the other issues' requests are in flight."""
        versions = {issue.iid: issue.updated_at for issue in issues}
        given = {issue.iid: issue for issue in issues}
        done: dict[int, Issue] = {}
        more: dict[int, tuple[str, ...]] = {}

        def arrived(iid: int, history: Json) -> None:
            issue = done[iid] = with_history(given[iid], history)
            if then is not None:
                first = parts_for(parts, iid)
                more[iid] = tuple(kind for kind in parts_for(then(issue), iid) if kind not in first)

        self.fetch_history(list(given), parts, progress, versions, arrived)
        wanted = [done[iid] for iid in given if more.get(iid)]
        if not wanted:
            return [done[issue.iid] for issue in issues]
        completed = {issue.iid: issue for issue in self.with_history(wanted, more)}
        return [completed.get(issue.iid, done[issue.iid]) for issue in issues]

    def read_history(self, plan: HistoryPlan, progress: Progress | None = None) -> list[Issue]:
        """The plan's issues with the parts of their history it names."""
        return self.with_history(list(plan.issues), plan.parts, progress, plan.then)

    def prefetch_user(self) -> None:
        """Start reading the token's user, for a command that will ask whom to trust once
        it has read its issues: the request overlaps theirs. Nothing to start by default."""
        return None

    def prefetch_list(self, query: IssueQuery) -> None:
        """Start listing ``query`` (without history), for a command that loads its modules
        meanwhile: the next list_json of the same query takes that answer. Nothing to start
        by default."""
        return None

    def close(self) -> None:
        """Let go of what the tracker holds open (connections, the history cache)."""
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
    "no GitLab token: set GITLAB_TOKEN (in GitLab CI too: a CI job token cannot read issues), "
    "or name a python-gitlab config section in [tracker] gitlab_id"
)


def is_web_address(url: str) -> bool:
    """An http(s) URL with a host (and a port that can be), as GitLab's address must be."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # "http://[::1", "http://host:99999"
        return False
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and bool(re.fullmatch(r"[A-Za-z0-9._\-:]+", host))


def gitlab_url(settings: TrackerConfig) -> str | None:
    """The GitLab to talk to: GITLAB_URL, else [tracker] url, else GitLab CI's own server;
    an error when it is no web address (the value is not echoed: it may hold a token)."""
    for source, url in (
        ("GITLAB_URL", os.environ.get("GITLAB_URL")),
        ("[tracker] url", settings.url),
        ("CI_SERVER_URL", os.environ.get("CI_SERVER_URL")),
    ):
        if not url:
            continue
        if not is_web_address(url):
            raise TrackerError(
                f"{source} is not a web address: write it as https://gitlab.example.com "
                "(the scheme and the host of your GitLab)"
            )
        return url
    return None


def open_tracker(
    config: Config,
    kind: str | None = None,
    path: Path | None = None,
    *,
    cache: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Tracker:
    """The tracker a command should read: ``kind``/``path`` from --tracker, else the config's.

    ``cache``: keep GitLab histories in the history cache (PRODUCT.md §9) unless [cache]
    turns it off; ``warn`` is told, once, when the cache cannot be used. Snapshots never
    use it. Raises TrackerNotSetUp, before python-gitlab is even imported, when there is no
    tracker to open: none configured, or GitLab without any credentials.
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

    use_cache = cache and config.cache.enabled
    return GitLabTracker.connect(config.tracker, config.cache if use_cache else None, warn)
