"""The changes that are going to ship (or went out recently): the content of changes.ics."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time

from rollout.config import Config
from rollout.issues import Issue
from rollout.markers import Trust
from rollout.readiness import Assessor, Verdict, evaluation_date
from rollout.trackers import RECENTLY_CLOSED, HistoryPlan, Tracker


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
    tracker.prefetch_user()
    listed = tracker.records(tracker.list_recent(recent_since(today, config), history=()))
    issues = tracker.read_history(changes_plan(listed, config, today, first, last))
    return ready_among(issues, config, today, tracker.trust(config.announce.posters), first, last)


def recent_since(today: date, config: Config) -> datetime:
    """Closed issues count as recent when closed at or after this."""
    return datetime.combine(today - RECENTLY_CLOSED, time(0, 0), tzinfo=config.schedule.zone)


def changes_plan(
    listed: Iterable[Issue],
    config: Config,
    today: date,
    first: date | None = None,
    last: date | None = None,
) -> HistoryPlan:
    """Of the listed issues, those that §6 leaves a chance of shipping from ``first`` to
    ``last`` (see Assessor.may_ship_between): their label events, then their links and
    notes if they still may once the sign-off is known."""
    judge = Assessor(config)

    def may_ship(issue: Issue, label_events: bool) -> bool:
        day = evaluation_date(issue, today, config)
        return judge.may_ship_between(issue, day, first, last, label_events=label_events)

    def then(issue: Issue) -> tuple[str, ...]:
        if not may_ship(issue, True):
            return ()
        return ("links", "notes") if judge.reads_announcements(issue) else ("links",)

    wanted = tuple(issue for issue in listed if may_ship(issue, False))
    return HistoryPlan(wanted, {issue.iid: ("label_events",) for issue in wanted}, then)


def ready_among(
    issues: Iterable[Issue],
    config: Config,
    today: date,
    trust: Trust,
    first: date | None = None,
    last: date | None = None,
) -> list[Verdict]:
    """The verdicts of the ready ones among ``issues`` (with their histories) shipping from
    ``first`` to ``last`` (either open), each judged on its evaluation date, by ships-on
    date."""
    assessor = Assessor(config, trust=trust)
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
