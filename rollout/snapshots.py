"""Taking and writing snapshot files (PRODUCT.md §4)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rollout.files import write_atomically
from rollout.trackers import IssueQuery, Tracker

RECENTLY_CLOSED = timedelta(days=90)


def take_snapshot(
    tracker: Tracker, state: str, milestone: str | None, now: datetime
) -> dict[str, Any]:
    """The project, and the chosen issues with their label events, links and notes.

    ``state`` "recent" means the open issues plus those closed in the last 90 days.
    """
    if state == "recent":
        since = now - RECENTLY_CLOSED
        issues = tracker.list_bundles(IssueQuery("opened", milestone=milestone))
        closed = tracker.list_bundles(
            IssueQuery("closed", milestone=milestone, updated_after=since)
        )
        issues += [issue for issue in closed if _closed_since(issue, since)]
    else:
        issues = tracker.list_bundles(IssueQuery(state, milestone=milestone))
    return {
        "project": tracker.project(),
        "issues": sorted(issues, key=lambda issue: int(issue["iid"])),
        "milestones": tracker.milestone_list(),
    }


def _closed_since(issue: dict[str, Any], since: datetime) -> bool:
    closed_at = issue.get("closed_at")
    return bool(closed_at) and datetime.fromisoformat(str(closed_at)) >= since


def write_snapshot(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_atomically(path, text.encode("utf-8"))
