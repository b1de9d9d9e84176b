"""Adding a note to an issue at most once, however the network behaves.

Every note rollout posts carries a hidden marker. Before every attempt the issue's notes
are read again and the marker looked for (in trusted notes only: PRODUCT.md §3): a POST
whose answer was lost (a 502, a dropped connection) may still have created the note, and
must not be repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rollout.errors import TrackerError
from rollout.issues import Note, note_from_json
from rollout.trackers import Tracker

# Finds the note that already holds what is being posted, among an issue's notes.
Finder = Callable[[Sequence[Note]], Note | None]


@dataclass(frozen=True)
class PostOutcome:
    posted: bool
    note: Note  # the note now on the issue: the one posted, or the one found


def post_once(
    tracker: Tracker, iid: int, body: str, already_there: Finder, attempts: int = 3
) -> PostOutcome:
    """Post ``body`` on issue ``iid`` unless ``already_there`` finds it among the notes.

    Transient failures are tried again, up to ``attempts`` in all, each after reading the
    notes again; any other failure is raised at once.
    """
    last_error: TrackerError | None = None
    for _ in range(max(1, attempts)):
        existing = already_there(tracker.notes(iid))
        if existing is not None:
            # Found after a failed attempt: that attempt did post it.
            return PostOutcome(posted=last_error is not None, note=existing)
        try:
            created = tracker.post_note(iid, body)
        except TrackerError as error:
            if not error.transient:
                raise
            last_error = error
            continue
        return PostOutcome(posted=True, note=note_from_json(created))
    assert last_error is not None
    raise last_error
