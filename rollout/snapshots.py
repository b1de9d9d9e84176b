"""Taking and writing snapshot files (PRODUCT.md §4)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from rollout.files import write_atomically
from rollout.trackers import RECENTLY_CLOSED, IssueQuery, Tracker


def take_snapshot(
    tracker: Tracker, state: str, milestone: str | None, now: datetime
) -> dict[str, Any]:
    """The project, and the chosen issues with their label events, links and notes.

    ``state`` "recent" means the open issues plus those closed in the last 90 days.
    """
    if state == "recent":
        issues = tracker.list_recent(now - RECENTLY_CLOSED, milestone)
    else:
        issues = tracker.list_bundles(IssueQuery(state, milestone=milestone))
    return {
        "project": tracker.project(),
        "issues": sorted(issues, key=lambda issue: int(issue["iid"])),
        "milestones": tracker.milestone_list(),
    }


def write_snapshot(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_atomically(path, text.encode("utf-8"))
