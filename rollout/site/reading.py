"""The release site's one tracker read: every issue any page needs, fetched once.

The site shows the board of ``rollout status``, the release notes of each deployment from
``[site] history`` months back to the next, and changes.ics. Run one by one, those would
list the open issues over and over and fetch the same histories again and again. Here the
lists are made once each (the open issues, each shown milestone's issues, and the closed
issues updated since the earliest date any of them needs), every issue's history is fetched
once with the parts its pages need, and each page picks its issues from that pool with the
same rules as its command.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from rollout.changes import recent_since
from rollout.config import Config
from rollout.issues import Issue, issue_from_json
from rollout.markers import Trust
from rollout.readiness import may_be_ready, may_ship_with
from rollout.release_notes import candidate_queries, pick_candidates
from rollout.schedule import Deployment, Schedule
from rollout.trackers import HISTORY, IssueQuery, Json, Tracker
from rollout.workflow import Vocabulary, read_labels

LABEL_EVENTS = ("label_events",)


@dataclass(frozen=True)
class TrackerRead:
    """The issues, with the parts of their history their pages need."""

    project: str
    open_issues: tuple[Issue, ...]  # every open issue: the board's
    candidates: dict[date, tuple[Issue, ...]]  # a shown deployment's date -> its notes' issues
    recent: tuple[Issue, ...]  # open, or closed recently, and in a shipping stage: changes.ics
    trust: Trust


def read_tracker(
    tracker: Tracker, config: Config, as_of: date, shown: Sequence[Deployment]
) -> TrackerRead:
    """Read what the board (as of ``as_of``), the notes of the ``shown`` deployments and
    changes.ics need: the requests of ``status`` plus those of ``notes`` for each shown
    deployment at most, each made once."""
    tracker.prefetch_user()
    vocabulary = Vocabulary.from_config(config)
    recent = recent_since(as_of, config)
    asked = [query for deployment in shown for query in candidate_queries(deployment)]
    closed_since = min(
        [recent, *(q.updated_after for q in asked if q.state == "closed" and q.updated_after)]
    )
    lists = [
        IssueQuery("opened"),
        IssueQuery("closed", updated_after=closed_since),
        *dict.fromkeys(q for q in asked if q.milestone is not None),
    ]
    answers = _list_all(tracker, lists, config.tracker.concurrency)
    opened, closed = answers[lists[0]], answers[lists[1]]
    records: dict[int, Issue] = {}
    for listed in answers.values():
        for data in listed:
            records.setdefault(int(data["iid"]), issue_from_json(data))

    def answer(query: IssueQuery) -> list[Json]:
        """What the tracker would list for one of the notes' queries, from the pool."""
        if query in answers:
            return answers[query]
        return [data for data in closed if query.matches(data)]

    candidates = {
        deployment.date: [
            issue.iid
            for issue in pick_candidates(
                (
                    records[int(data["iid"])]
                    for query in candidate_queries(deployment)
                    for data in answer(query)
                ),
                deployment,
                vocabulary,
            )
        ]
        for deployment in shown
    }
    open_iids = [int(data["iid"]) for data in opened]
    closed_recently = [
        issue.iid
        for issue in (records[int(data["iid"])] for data in closed)
        if issue.closed_at is not None and issue.closed_at >= recent
    ]
    shipping = [i for i in open_iids + closed_recently if may_be_ready(records[i], vocabulary)]
    # The board's: links and notes of the Blocked issues and of those that may ship next.
    upcoming = Schedule(config).next_deployment(as_of)
    on_board = [
        iid
        for iid in open_iids
        if may_ship_with(records[iid], upcoming, vocabulary)
        or read_labels(records[iid].labels, vocabulary).stage == "blocked"
    ]
    whole = sorted({*(i for iids in candidates.values() for i in iids), *shipping, *on_board})
    stage_only = sorted(set(open_iids) - set(whole))
    fetched = {
        issue.iid: issue
        for part, iids in ((HISTORY, whole), (LABEL_EVENTS, stage_only))
        for issue in tracker.with_history([records[iid] for iid in iids], part)
    }
    return TrackerRead(
        project=tracker.project_path,
        open_issues=tuple(fetched[iid] for iid in open_iids),
        candidates={day: tuple(fetched[i] for i in iids) for day, iids in candidates.items()},
        recent=tuple(fetched[iid] for iid in shipping),
        trust=tracker.trust(config.announce.posters),
    )


def _list_all(
    tracker: Tracker, queries: Sequence[IssueQuery], concurrency: int
) -> dict[IssueQuery, list[Json]]:
    """Each query's issues, without history; the lists are paged one after another each,
    so several are asked for at a time."""
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(queries)))) as pool:
        futures = {q: pool.submit(tracker.list_json, q, history=()) for q in queries}
        return {query: future.result() for query, future in futures.items()}
