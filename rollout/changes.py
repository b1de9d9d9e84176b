"""The changes that are going to ship (or went out recently): the content of changes.ics."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time

from rollout.config import Config
from rollout.issues import Issue, issue_from_json
from rollout.readiness import Assessor, Verdict, evaluation_date
from rollout.trackers import RECENTLY_CLOSED, Tracker


def ready_changes(
    tracker: Tracker,
    config: Config,
    today: date,
    first: date | None = None,
    last: date | None = None,
) -> list[Verdict]:
    """Verdicts of the ready issues shipping from ``first`` to ``last`` (either open): open
    ones as of today, closed ones as of their closing.

    Closed issues are those closed in the last 90 days; a Completed issue may be closed
    before the deployment that takes it live. Histories are fetched only for the issues
    that §6 leaves a chance of shipping then (see Assessor.may_ship_between).
    """
    since = datetime.combine(today - RECENTLY_CLOSED, time(0, 0), tzinfo=config.schedule.zone)
    tracker.prefetch_user()
    listed = [issue_from_json(data) for data in tracker.list_recent(since, history=())]
    judge = Assessor(config)

    def may_ship(issue: Issue, label_events: bool) -> bool:
        day = evaluation_date(issue, today, config)
        return judge.may_ship_between(issue, day, first, last, label_events=label_events)

    def then(issue: Issue) -> tuple[str, ...]:
        """Once the sign-off is known: its links and notes, if it still may ship then."""
        if not may_ship(issue, True):
            return ()
        return ("links", "notes") if judge.reads_announcements(issue) else ("links",)

    wanted = [issue for issue in listed if may_ship(issue, False)]
    issues = tracker.with_history(wanted, ("label_events",), then=then)
    assessor = Assessor(config, trust=tracker.trust(config.announce.posters))
    verdicts = [assessor.assess(issue, evaluation_date(issue, today, config)) for issue in issues]
    shipping = [
        verdict
        for verdict in verdicts
        if verdict.ready
        and verdict.ships_on is not None
        and (first is None or verdict.ships_on >= first)
        and (last is None or verdict.ships_on <= last)
    ]
    return sorted(shipping, key=lambda v: (v.ships_on, v.iid))


def ready_changes_in_background(
    tracker: Tracker,
    config: Config,
    today: date,
    first: date | None = None,
    last: date | None = None,
) -> Callable[[], list[Verdict]]:
    """Start ready_changes in a thread and return a function that waits for its result.

    Reading the tracker is mostly waiting on the network; the calendar builds its other
    feeds meanwhile.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    fetching = pool.submit(ready_changes, tracker, config, today, first, last)
    pool.shutdown(wait=False)
    return fetching.result
