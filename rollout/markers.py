"""The hidden markers rollout puts in the notes it posts, and finding them again.

A marker names the announcement phase and the deployment date it announces (and, for
reminders, the day it was posted). It is an HTML comment, invisible in GitLab's rendering.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from rollout.issues import Note

_MARKER = re.compile(
    r"<!-- rollout:announcement phase=(pre|reminder|post) deploy=(\d{4}-\d{2}-\d{2})"
    r"(?: posted=(\d{4}-\d{2}-\d{2}))? -->"
)


@dataclass(frozen=True)
class Marker:
    phase: str
    deploy_date: date
    posted_on: date | None = None  # reminders only: one a day is allowed

    def render(self) -> str:
        posted = f" posted={self.posted_on.isoformat()}" if self.posted_on else ""
        return f"<!-- rollout:announcement phase={self.phase} deploy={self.deploy_date}{posted} -->"


@dataclass(frozen=True)
class PostedMarker:
    marker: Marker
    note: Note


def markers_in(notes: Iterable[Note]) -> list[PostedMarker]:
    """Every rollout marker in the notes, in the order the notes were posted."""
    found = []
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        if note.system:
            continue
        for match in _MARKER.finditer(note.body):
            posted = date.fromisoformat(match.group(3)) if match.group(3) else None
            marker = Marker(match.group(1), date.fromisoformat(match.group(2)), posted)
            found.append(PostedMarker(marker, note))
    return found


def first_announced(notes: Iterable[Note], zone: ZoneInfo) -> date | None:
    """The day the earliest pre-announcement was posted: the announcement date of §6."""
    for posted in markers_in(notes):
        if posted.marker.phase == "pre":
            return posted.note.created_at.astimezone(zone).date()
    return None
