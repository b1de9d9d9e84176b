"""The hidden markers rollout puts in the notes it posts, and finding them again.

An announcement marker names the phase and the deployment date it announces (and, for
reminders, the day it was posted); a triage marker the fingerprint of the findings its
note lists. A marker is an HTML comment, invisible in GitLab's rendering.
Anyone can write a comment, so a marker counts only in a note by a trusted author
(PRODUCT.md §3): the user of rollout's own token, or one named in ``[announce] posters``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from rollout.issues import Note
from rollout.safety import code_lines

_TRIAGE = re.compile(r"<!-- rollout:triage fingerprint=([0-9a-f]{12}) -->")
_MARKER = re.compile(
    r"<!-- rollout:announcement phase=(pre|reminder|post) deploy=(\d{4}-\d{2}-\d{2})"
    r"(?: posted=(\d{4}-\d{2}-\d{2}))? -->"
)


@dataclass(frozen=True)
class Trust:
    """Whose notes' markers count: usernames, compared as GitLab does (case-insensitively)."""

    usernames: frozenset[str] = frozenset()

    @classmethod
    def of(cls, usernames: Iterable[str]) -> Trust:
        return cls(frozenset(name.casefold() for name in usernames if name))

    def allows(self, note: Note) -> bool:
        return not note.system and note.author.username.casefold() in self.usernames


# Nobody's markers count: what a caller that knows no trusted author gets.
NOBODY = Trust()


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


def markers_in(notes: Iterable[Note], trust: Trust) -> list[PostedMarker]:
    """Every marker in the notes of trusted authors, in the order the notes were posted.

    A marker that does not parse (a date that does not exist) is ignored, never an error.
    """
    found = []
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        if not trust.allows(note):
            continue
        for match in _markers(_MARKER, note.body):
            try:
                posted = date.fromisoformat(match.group(3)) if match.group(3) else None
                marker = Marker(match.group(1), date.fromisoformat(match.group(2)), posted)
            except ValueError:
                continue
            found.append(PostedMarker(marker, note))
    return found


def first_announced(notes: Iterable[Note], trust: Trust, zone: ZoneInfo) -> date | None:
    """The day the earliest pre-announcement was posted: the announcement date of §6."""
    for posted in markers_in(notes, trust):
        if posted.marker.phase == "pre":
            return posted.note.created_at.astimezone(zone).date()
    return None


@dataclass(frozen=True)
class TriageMarker:
    """The findings a triage note listed, as a fingerprint (rollout.triage)."""

    fingerprint: str

    def render(self) -> str:
        return f"<!-- rollout:triage fingerprint={self.fingerprint} -->"


def last_triage(notes: Iterable[Note], trust: Trust) -> tuple[TriageMarker, Note] | None:
    """The triage marker of the latest trusted note that carries one, with that note."""
    found = None
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        if trust.allows(note):
            for match in _markers(_TRIAGE, note.body):
                found = (TriageMarker(match.group(1)), note)
    return found


# A code span: text between two runs of as many backticks.
_CODE_SPAN = re.compile(r"(`+).*?(?<!`)\1(?!`)")


def _markers(marker: re.Pattern[str], body: str) -> Iterator[re.Match[str]]:
    """The markers of a note outside code: one quoted in a code block or a code span is
    text a person shows (GitLab renders it), not a hidden marker."""
    for line, in_code in code_lines(body):
        if not in_code and len(line) - len(line.lstrip(" ")) < 4:  # 4 in: indented code
            yield from marker.finditer(_CODE_SPAN.sub("", line))
