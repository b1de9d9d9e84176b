"""The release site's one tracker read: every issue any page needs, fetched once.

The site shows the board of ``rollout status``, the release notes of each deployment from
``[site] history`` months back to the next, and changes.ics. Run one by one, those would
list the open issues over and over and fetch the same histories again and again. Here the
lists are made once each (the open issues, each shown milestone's closed issues, and the
closed issues updated since the earliest date any of them needs), each page's command
plans what it reads of those issues' histories with its own rules (board_plan,
notes_plan, changes_plan), and the plans are read as one, every request made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from rollout.board import board_plan
from rollout.changes import changes_plan, recent_since
from rollout.config import Config
from rollout.issues import Issue
from rollout.markers import Trust
from rollout.readiness import Assessor
from rollout.release_notes import candidate_queries, notes_plan
from rollout.schedule import Deployment
from rollout.trackers import HistoryPlan, IssueQuery, Json, Tracker


@dataclass(frozen=True)
class TrackerRead:
    """The issues, with the parts of their history their pages need."""

    project: str
    open_issues: tuple[Issue, ...]  # every open issue: the board's
    candidates: dict[date, tuple[Issue, ...]]  # a shown deployment's date -> its notes' issues
    recent: tuple[Issue, ...]  # open or closed recently, and may ship in the feeds: changes.ics
    trust: Trust


def read_tracker(
    tracker: Tracker, config: Config, as_of: date, shown: Sequence[Deployment], months: int
) -> TrackerRead:
    """Read what the board (as of ``as_of``), the notes of the ``shown`` deployments and
    changes.ics (``months`` from the month of ``as_of``) need: the requests of ``status``
    plus those of ``notes`` for each shown deployment at most, each made once."""
    tracker.prefetch_user()
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
    answers = dict(zip(lists, tracker.list_each(lists), strict=True))
    records: dict[int, Issue] = {}
    for listed in answers.values():
        for issue in tracker.records(listed):
            records.setdefault(issue.iid, issue)

    def answer(query: IssueQuery) -> list[Json]:
        """What the tracker would list for one of the notes' queries, from the pool."""
        if query in answers:
            return answers[query]
        return [data for data in answers[lists[1]] if query.matches(records[int(data["iid"])])]

    def issues_of(queries: Sequence[IssueQuery]) -> list[Issue]:
        return [records[int(data["iid"])] for query in queries for data in answer(query)]

    open_issues = issues_of(lists[:1])
    closed_recently = [
        issue
        for issue in issues_of(lists[1:2])
        if issue.closed_at is not None and issue.closed_at >= recent
    ]
    first = as_of.replace(day=1)  # the feeds' span, as rollout calendar's
    last = first + relativedelta(months=months, days=-1)
    board = board_plan(open_issues, config, as_of)
    changes = changes_plan([*open_issues, *closed_recently], config, as_of, first, last)
    judge = Assessor(config)
    notes = {
        deployment.date: notes_plan(
            issues_of(candidate_queries(deployment)), deployment, config, as_of, judge
        )
        for deployment in shown
    }
    fetched = {
        issue.iid: issue
        for issue in tracker.read_history(HistoryPlan.merge([board, changes, *notes.values()]))
    }

    def read(plan: HistoryPlan) -> tuple[Issue, ...]:
        return tuple(fetched[issue.iid] for issue in plan.issues)

    return TrackerRead(
        project=tracker.project_path,
        open_issues=read(board),
        candidates={day: read(plan) for day, plan in notes.items()},
        recent=read(changes),
        trust=tracker.trust(config.announce.posters),
    )
