"""Snapshot files (PRODUCT.md §4): a JSON file of GitLab's own shapes, taken of a tracker
and read back as one.

Filters are applied here the way GitLab applies them, so a command gives the same answer
from a snapshot as from the project it was taken of.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rollout.config import display_path
from rollout.errors import IssuesNotFound, TrackerError
from rollout.files import write_atomically
from rollout.issues import Milestone, Person, issue_from_json
from rollout.safety import without_secrets
from rollout.trackers import (
    HISTORY,
    RECENTLY_CLOSED,
    Arrived,
    IssueQuery,
    Json,
    Parts,
    Progress,
    Tracker,
    parts_for,
)

USER_FIELDS = ("id", "username", "name")
READ_ONLY = "a snapshot is read-only; use --tracker gitlab to write to GitLab"


class SnapshotTracker(Tracker):
    def __init__(self, data: Json, source: str) -> None:
        """``data`` as check_snapshot left it: every issue and milestone parsed once."""
        self.data = data
        self.source = source
        self.project_path = str(data["project"].get("path_with_namespace") or source)
        self._by_iid = {int(issue["iid"]): issue for issue in data["issues"]}
        self._records = {iid: issue_from_json(issue) for iid, issue in self._by_iid.items()}

    @classmethod
    def load(cls, path: Path) -> SnapshotTracker:
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise TrackerError(f"cannot read snapshot {path}: {error.strerror or error}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise TrackerError(f"{path} is not a snapshot file: it is not UTF-8 text") from None
        except json.JSONDecodeError as error:
            raise TrackerError(f"{path} is not a snapshot file: {error}") from None
        except RecursionError:
            raise TrackerError(f"{path} is not a snapshot file: it is nested too deeply") from None
        except ValueError:  # Python reads no integer of more than 4,300 digits
            raise TrackerError(f"{path} is not a snapshot file: a number is too long") from None
        try:
            check_snapshot(data)
        except TrackerError as error:
            raise TrackerError(f"{path}: {error}; write it again with rollout snapshot") from None
        return cls(data, display_path(path))

    def project(self) -> Json:
        return dict(self.data["project"])

    def user(self) -> Json | None:
        user = self.data.get("user")
        return dict(user) if isinstance(user, dict) else None

    def issues_json(self, iids: Sequence[int], progress: Progress | None = None) -> list[Json]:
        missing = [iid for iid in iids if iid not in self._by_iid]
        if missing:
            names = ", ".join(f"#{iid}" for iid in missing)
            raise IssuesNotFound(
                f"issue {names} not found in the snapshot {self.source}", tuple(missing)
            )
        return [self._by_iid[iid] for iid in iids]

    def list_json(
        self,
        query: IssueQuery,
        *,
        history: Collection[str] = HISTORY,
        progress: Progress | None = None,
    ) -> list[Json]:
        # The file holds every detail already; handing them all over costs nothing.
        found = [issue for issue in self._records.values() if query.matches(issue)]
        # GitLab's default order: newest first.
        found.sort(key=lambda issue: (issue.created_at, issue.iid), reverse=True)
        return [self._by_iid[issue.iid] for issue in found]

    def fetch_history(
        self,
        iids: Sequence[int],
        parts: Parts,
        progress: Progress | None = None,
        versions: Mapping[int, datetime] | None = None,
        arrived: Arrived | None = None,
    ) -> list[Json]:
        fetched = [
            {name: data.get(name) or [] for name in parts_for(parts, int(data["iid"]))}
            for data in self.issues_json(iids)
        ]
        if arrived is not None:
            for iid, history in zip(iids, fetched, strict=True):
                arrived(iid, history)
        return fetched

    def note_list(self, iid: int) -> list[Json]:
        return list(self.issues_json([iid])[0].get("notes") or [])

    def post_note(self, iid: int, body: str) -> Json:
        raise TrackerError(READ_ONLY)

    def update_issue(
        self,
        iid: int,
        *,
        add_labels: Sequence[str] = (),
        remove_labels: Sequence[str] = (),
        close: bool = False,
    ) -> Json:
        raise TrackerError(READ_ONLY)

    def milestone_list(self) -> list[Json]:
        return list(self.data.get("milestones") or [])

    def create_milestone(self, title: str, start_date: str, due_date: str) -> Json:
        raise TrackerError(READ_ONLY)

    def update_milestone(self, milestone_id: int, **fields: str) -> Json:
        raise TrackerError(READ_ONLY)


def check_snapshot(data: object) -> None:
    """Raise a TrackerError naming the first thing wrong with a snapshot file's content:
    its shape, or any issue, milestone or user that GitLab's parser (rollout.issues) refuses."""
    if not (
        isinstance(data, dict)
        and isinstance(data.get("project"), dict)
        and isinstance(data.get("issues"), list)
    ):
        raise TrackerError('expected {"project": {...}, "issues": [...]}')
    path = data["project"].get("path_with_namespace")
    if path is not None and not isinstance(path, str):
        raise TrackerError("project.path_with_namespace: expected a string")
    seen: set[int] = set()
    for issue in data["issues"]:
        iid = issue_from_json(issue).iid
        if iid in seen:
            raise TrackerError(f"issue #{iid} appears twice")
        seen.add(iid)
    milestones = data.get("milestones")
    if milestones is not None and not isinstance(milestones, list):
        raise TrackerError("milestones: expected a list")
    for milestone in milestones or ():
        Milestone.from_json(milestone)
    user = data.get("user")
    if user is not None:
        Person.from_json(user)


def take_snapshot(
    tracker: Tracker, state: str, milestone: str | None, now: datetime
) -> dict[str, Any]:
    """The project, and the chosen issues with their label events, links and notes.

    ``state`` "recent" means the open issues plus those closed in the last 90 days.
    """
    tracker.prefetch_user()
    if state == "recent":
        issues = tracker.list_recent(now - RECENTLY_CLOSED, milestone)
    else:
        issues = tracker.list_json(IssueQuery(state, milestone=milestone))
    user = tracker.user()
    return {
        # GitLab shows a maintainer the project's runner registration token: not kept.
        "project": without_secrets(tracker.project()),
        # whose markers count (PRODUCT.md §3); who it is, not the account's other details
        "user": {key: user[key] for key in USER_FIELDS if key in user} if user else None,
        # Credentials in issue text or URLs (user:token@, private_token=) are not kept either.
        "issues": without_secrets(sorted(issues, key=lambda issue: int(issue["iid"]))),
        "milestones": without_secrets(tracker.milestone_list()),
    }


def write_snapshot(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_atomically(path, text.encode("utf-8"))
