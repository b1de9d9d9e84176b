"""Writing to the tracker at most once, however the network behaves.

A write whose answer was lost (a 502, a dropped connection) may still have been carried
out, so it is never simply sent again: before every further attempt the tracker is read
again and the result looked for. Every note rollout posts carries a hidden marker, looked
for in trusted notes only (PRODUCT.md §3); a milestone is found by its title.

A transient failure is tried again after the wait the tracker asked for (a 429's
``Retry-After``), else after a short back-off, up to ``attempts`` writes in all. After a
write that timed out, the result is looked for only once the tracker has had as long again
to carry it out: a slow GitLab still makes the note it was asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rollout.errors import TrackerError
from rollout.issues import Note, note_from_json
from rollout.trackers import Tracker

# Finds the note that already holds what is being posted, among an issue's notes.
Finder = Callable[[Sequence[Note]], Note | None]
T = TypeVar("T")


@dataclass(frozen=True)
class Written(Generic[T]):
    written: bool  # False: it was there already, and nothing was written
    result: T  # what was written, or what was found


def write_once(
    find: Callable[[], T | None],
    write: Callable[[], T],
    attempts: int = 3,
    *,
    look_first: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> Written[T]:
    """``write()`` unless ``find()`` finds its result already there.

    ``find`` is asked before every attempt after a failure, and once more after the last
    one (whose answer may be what was lost); before the first attempt too unless
    ``look_first`` is False (the caller has just looked). A failure that is not transient
    is raised at once.
    """
    last_error: TrackerError | None = None
    tries = max(1, attempts)
    for attempt in range(tries + 1):
        if look_first or last_error is not None:
            existing = find()
            if existing is not None:
                # Found after a failed attempt: that attempt did write it.
                return Written(written=last_error is not None, result=existing)
        if attempt == tries:
            break
        try:
            return Written(written=True, result=write())
        except TrackerError as error:
            if not error.transient:
                raise
            last_error = error
            retrying = attempt + 1 < tries
            sleep(max(_pause(error, attempt) if retrying else 0.0, error.settle))
    assert last_error is not None
    raise last_error


def _pause(error: TrackerError, attempt: int) -> float:
    """What the tracker asked to wait, else 0.1, 0.2, 0.4 ... seconds (at most 5)."""
    if error.retry_after is not None:
        return error.retry_after
    return float(min(0.1 * 2**attempt, 5.0))


@dataclass(frozen=True)
class PostOutcome:
    posted: bool
    note: Note  # the note now on the issue: the one posted, or the one found


def post_once(
    tracker: Tracker, iid: int, body: str, already_there: Finder, attempts: int = 3
) -> PostOutcome:
    """Post ``body`` on issue ``iid`` unless ``already_there`` finds it among the notes,
    which are read again before every attempt."""
    outcome = write_once(
        lambda: already_there(tracker.notes(iid)),
        lambda: note_from_json(tracker.post_note(iid, body)),
        attempts,
    )
    return PostOutcome(posted=outcome.written, note=outcome.result)
