"""What each command needs from GitLab, worked out from the generated project itself.

For every command: the list pages its queries take (100 issues a page, one page at least,
fetched one after another as each page's ``Link`` names the next) and the per-issue requests
(label events, links, notes) of the issues it has to judge. Written from PRODUCT.md's rules
and the project's raw labels, not from rollout's code, so that the benchmark can tell when
rollout asks for more than it needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from gitlab_server import Issue

from bench.project import Project
from rollout.config import Config
from rollout.schedule import Schedule

PER_PAGE = 100
HISTORY = 3  # label events, links and notes: one request each
SHIPPING = {"Stage::Implementation", "Stage::Completed"}  # only these can be ready (§6)
RECENTLY_CLOSED = timedelta(days=90)  # "recent": open, or closed in the last 90 days
# PRODUCT.md §8 defaults: pre-announced from these stages, post-announced for 7 days.
PRE_STAGES = {"Stage::Development", "Stage::Validation", "Stage::Implementation"}
POST_WINDOW = timedelta(days=7)
DEPLOYMENT_MILESTONE = "CustSuppOps Deployment "  # §1: one milestone per deployment period
# Slack, for announce --due with the slack target: the channel looked up by name once, and
# its history read once (§8: one read per channel, not per issue).
SLACK_READS = 2


@dataclass(frozen=True)
class Need:
    pages: int  # issue list pages, one after another
    per_issue: int  # requests about single issues, any number at a time
    other: int = 0  # other requests one after another (the project, milestone list pages)
    # GET /user: whose announcement markers count (PRODUCT.md §3), once a run, alongside
    # the rest.
    user: int = 1

    @property
    def others(self) -> int:
        return self.other + self.user

    def lower_bound(self, latency: float, concurrency: int) -> float:
        """Seconds of network wait no client can avoid."""
        return (self.pages + self.other + (self.per_issue + self.user) / concurrency) * latency


NOTHING = Need(0, 0, user=0)


def pages(count: int) -> int:
    return max(1, math.ceil(count / PER_PAGE))


class Needs:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.issues = list(project.state.project(project.path).issues.values())
        self.milestones = project.state.project(project.path).milestones

    def check(self, iids: list[int]) -> Need:
        return Need(pages(len(iids)), HISTORY * len(iids))

    def notes(self, period_start: date) -> Need:
        """Open issues, the milestone's, and those closed since the month two months before
        the period; histories of those that may ship then or are in the milestone."""
        since = datetime.combine(period_start, time(0, 0), tzinfo=UTC)
        opened = [i for i in self.issues if i.state == "opened"]
        in_milestone = [i for i in self.issues if self._in_milestone(i)]
        closed = [i for i in self.issues if i.state == "closed" and i.updated_at >= since]
        listed = {i.iid: i for i in (*opened, *in_milestone, *closed)}
        judged = [i for i in listed.values() if self._in_milestone(i) or _shipping(i)]
        return Need(
            pages(len(opened)) + pages(len(in_milestone)) + pages(len(closed)),
            HISTORY * len(judged),
        )

    def status(self) -> Need:
        """Every open issue's label history (its stage age); links and notes of the Blocked
        ones and of those that may ship with the next deployment."""
        opened = [i for i in self.issues if i.state == "opened"]
        judged = [
            i
            for i in opened
            if self._in_milestone(i) or _shipping(i) or "Stage::Blocked" in i.labels
        ]
        return Need(pages(len(opened)), len(opened) + 2 * len(judged))

    def snapshot(self, now: datetime) -> Need:
        """The recent issues with their histories, the project and its milestones."""
        recent = list(self._recent(now))
        milestone_pages = pages(len(self.milestones))
        return Need(self._recent_pages(now), HISTORY * len(recent), 1 + milestone_pages)

    def changes(self, today: date) -> Need:
        """changes.ics: the recent issues, and the histories of those in a shipping stage."""
        since = datetime.combine(today, time(0, 0), tzinfo=UTC)
        judged = [i for i in self._recent(since) if _shipping(i)]
        return Need(self._recent_pages(since), HISTORY * len(judged))

    def triage(self) -> Need:
        """The open issues with no stage label but Triage's (GitLab leaves out the others),
        and the notes of those something is missing in: the bugs, as no generated
        description has steps to reproduce and no bug has a Priority:: label (the features'
        and administrative requests' What and Why are there). Also what --apply reads once
        its notes are there: nothing more."""
        listed = [i for i in self.issues if i.state == "opened" and _new(i)]
        missing = [i for i in listed if "RequestType::Bug" in i.labels]
        return Need(pages(len(listed)), len(missing))

    def triage_apply_first(self) -> Need:
        """The first --apply: the same, plus a POST of each note (its notes read again just
        before) and a PUT of each issue's label."""
        need = self.triage()
        return Need(need.pages, 2 * need.per_issue, other=need.per_issue)

    def site(self, today: date, history: int = 12) -> Need:
        """The release site (PRODUCT.md §10): the lists and histories of ``status`` and of
        ``notes`` for each deployment from ``history`` months back to the next, each asked
        for once: the open issues, each shown milestone's issues, the closed issues updated
        since the earliest period any of those notes reaches back to (or closed in the last
        90 days, for changes.ics), and the whole history of every issue one of them judges."""
        schedule = Schedule(Config())
        upcoming = schedule.next_deployment(today)
        shown = [
            d
            for d in schedule.deployments(today - relativedelta(months=history), history + 2)
            if today - relativedelta(months=history) <= d.date <= upcoming.date
        ]
        titles = {d.milestone for d in shown}
        earliest = min(d.period.replace(day=1) for d in shown) - relativedelta(months=2)
        since = min(
            datetime.combine(earliest, time(0, 0), tzinfo=UTC),
            datetime.combine(today, time(0, 0), tzinfo=UTC) - RECENTLY_CLOSED,
        )
        opened = [i for i in self.issues if i.state == "opened"]
        closed = [i for i in self.issues if i.state == "closed" and i.updated_at >= since]
        in_shown = [i for i in self.issues if self._milestone_title(i) in titles]
        whole = {
            i.iid
            for i in (*opened, *closed, *in_shown)
            if _shipping(i)
            or self._milestone_title(i) in titles
            or (i.state == "opened" and "Stage::Blocked" in i.labels)
        }
        label_history_only = [i for i in opened if i.iid not in whole]
        list_pages = pages(len(opened)) + pages(len(closed))
        for title in sorted(titles):
            list_pages += pages(sum(1 for i in self.issues if self._milestone_title(i) == title))
        return Need(list_pages, HISTORY * len(whole) + len(label_history_only))

    def announce_due(self, today: date) -> Need:
        """§8: the open issues and those closed in the last post_window (listed by last
        update, then checked for the closing time). Readiness (reminders, posts) needs the
        whole history of those in a shipping stage; a pre-announcement needs the planned
        date (the label history, for the sign-off) and the markers (the notes) of the open
        ones in a deployment milestone and a pre-announcement stage."""
        since = datetime.combine(today - POST_WINDOW, time(0, 0), tzinfo=UTC)
        listed = self._open_and_closed_since(since)
        shipping = [i for i in listed if _shipping(i)]
        pre_only = [
            i
            for i in listed
            if not _shipping(i)
            and i.state == "opened"
            and self._in_deployment_milestone(i)
            and PRE_STAGES & set(i.labels)
        ]
        return Need(self._pages_since(since), HISTORY * len(shipping) + 2 * len(pre_only))

    def digest(self, today: date) -> Need:
        """§8's Support Week in Review for the week (Sunday to Saturday) holding ``today``:
        the open issues and those closed since the last deployment (the 1st, §1) before the
        week, which may wait for this week's or the next; the whole history of those that
        may be ready or are in the next deployment's milestone (or one in the week), the
        notes (announcement markers) of the others updated this week."""
        week = today - timedelta(days=(today.weekday() + 1) % 7)
        previous = (
            week.replace(day=1) if week.day > 1 else (week - timedelta(days=1)).replace(day=1)
        )
        since = datetime.combine(previous + timedelta(days=1), time(0, 0), tzinfo=UTC)
        this_month = today.replace(day=1)
        following = (this_month + timedelta(days=31)).replace(day=1)  # the next after today
        deployments = [following, *([this_month] if week <= this_month else [])]
        titles = {f"{DEPLOYMENT_MILESTONE}{d:%Y-%m-%d}" for d in deployments}
        listed = self._open_and_closed_since(since)
        judged = {i.iid for i in listed if _shipping(i) or self._milestone_title(i) in titles}
        this_week = datetime.combine(week, time(0, 0), tzinfo=UTC)
        notes_only = [i for i in listed if i.iid not in judged and i.updated_at >= this_week]
        return Need(self._pages_since(since), HISTORY * len(judged) + len(notes_only))

    def _open_and_closed_since(self, since: datetime) -> list[Issue]:
        return [
            i
            for i in self.issues
            if i.state == "opened" or (i.closed_at is not None and i.closed_at >= since)
        ]

    def _pages_since(self, since: datetime) -> int:
        opened = sum(1 for i in self.issues if i.state == "opened")
        closed = sum(1 for i in self.issues if i.state == "closed" and i.updated_at >= since)
        return pages(opened) + pages(closed)

    def _milestone_title(self, issue: Issue) -> str | None:
        milestone = self.milestones.get(issue.milestone_id) if issue.milestone_id else None
        return milestone.title if milestone is not None else None

    def _in_deployment_milestone(self, issue: Issue) -> bool:
        return (self._milestone_title(issue) or "").startswith(DEPLOYMENT_MILESTONE)

    def _recent(self, now: datetime) -> Iterable[Issue]:
        since = now - RECENTLY_CLOSED
        for issue in self.issues:
            if issue.state == "opened" or (issue.closed_at and issue.closed_at >= since):
                yield issue

    def _recent_pages(self, now: datetime) -> int:
        since = now - RECENTLY_CLOSED
        opened = sum(1 for i in self.issues if i.state == "opened")
        closed = sum(1 for i in self.issues if i.state == "closed" and i.updated_at >= since)
        return pages(opened) + pages(closed)

    def _in_milestone(self, issue: Issue) -> bool:
        milestone = self.milestones.get(issue.milestone_id) if issue.milestone_id else None
        return milestone is not None and milestone.title == self.project.milestone


def _shipping(issue: Issue) -> bool:
    return bool(SHIPPING & set(issue.labels))


def _new(issue: Issue) -> bool:
    """No stage label, or Stage::Triage only (PRODUCT.md §11)."""
    return {label for label in issue.labels if label.startswith("Stage::")} <= {"Stage::Triage"}
