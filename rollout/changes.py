"""The changes that are going to ship (or went out recently): the content of changes.ics."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time

from rollout.config import Config
from rollout.issues import Issue, issue_from_json
from rollout.markers import Trust
from rollout.readiness import Assessor, Verdict, evaluation_date, may_be_ready
from rollout.trackers import HISTORY, RECENTLY_CLOSED, Tracker
from rollout.workflow import Vocabulary


def ready_changes(tracker: Tracker, config: Config, today: date) -> list[Verdict]:
    """Verdicts of the ready issues: open ones as of today, closed ones as of their closing.

    Closed issues are those closed in the last 90 days; a Completed issue may be closed
    before the deployment that takes it live. Histories are fetched only for the issues
    whose labels put them in a shipping stage.
    """
    vocabulary = Vocabulary.from_config(config)
    tracker.prefetch_user()
    listed = [
        issue_from_json(data)
        for data in tracker.list_recent(recent_since(today, config), history=())
    ]
    issues = tracker.with_history([i for i in listed if may_be_ready(i, vocabulary)], HISTORY)
    return ready_among(issues, config, today, tracker.trust(config.announce.posters))


def recent_since(today: date, config: Config) -> datetime:
    """Closed issues count as recent when closed at or after this."""
    return datetime.combine(today - RECENTLY_CLOSED, time(0, 0), tzinfo=config.schedule.zone)


def ready_among(
    issues: Iterable[Issue], config: Config, today: date, trust: Trust
) -> list[Verdict]:
    """The verdicts of the ready ones among ``issues`` (with their histories), each judged
    on its evaluation date, by ships-on date."""
    assessor = Assessor(config, trust=trust)
    verdicts = [assessor.assess(issue, evaluation_date(issue, today, config)) for issue in issues]
    return sorted((v for v in verdicts if v.ready), key=lambda v: (v.ships_on, v.iid))


def ready_changes_in_background(
    tracker: Tracker, config: Config, today: date
) -> Callable[[], list[Verdict]]:
    """Start ready_changes in a thread and return a function that waits for its result.

    Reading the tracker is mostly waiting on the network; the calendar builds its other
    feeds meanwhile.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    fetching = pool.submit(ready_changes, tracker, config, today)
    pool.shutdown(wait=False)
    return fetching.result
