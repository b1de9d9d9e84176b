"""What each command needs from GitLab, worked out from the generated project itself.

For every command: the list pages its queries take (100 issues a page, one page at least,
fetched one after another as each page's ``Link`` names the next; independent queries side
by side) and the per-issue requests (label events, links, notes) of the issues it has to
judge. Written from PRODUCT.md's rules and the project's raw labels and dates, not from
rollout's code, so that the benchmark can tell when rollout asks for more than it needs.

The rules, as §6 and §1 give them:

- Only an issue in Implementation or Completed, of one request type (Bug, Feature,
  Administrative), with one criticality and its validation label (Received and no Rejected;
  Skipped for Administrative) can be ready; a closed one only as Completed.
- A standard change ships on the first deployment D on or after the day it is judged on
  with the sign-off no later than D's cut-off, the announcement no later than D's
  announce-by date for its criticality, and D not frozen for it. The sign-off and the
  announcement (a pre marker, else the judging day) come from the history, but GitLab
  moves updated_at with every label change and, within a minute, every note (§9): so they
  lie between the issue's creation and its updated_at, and the rule with the earliest and
  with the latest of them bounds the date. An issue whose bounds miss the dates a command
  shows cannot change its answer, and its history is not needed.
- The label events say when the issue was signed off (§6: Validation::Received added after
  it last entered Development, not followed by Rejected; Administrative: when it last
  entered Implementation), which narrows the bounds: links and notes are read only of issues
  that still may ship then, and of those the milestone names. The notes only matter when the
  ships-on rule reads the announcement date: a signed-off change.
- A warm run (§9) needs again only the parts of issues whose updated_at moved, and the
  open-or-closed state of the blockers its kept links name (closing a blocker does not
  touch the issue it blocks): one list page per 100 blockers it did not list anyway.

The generated project has standard changes only, so the bounds here are the standard rule's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from dateutil.relativedelta import relativedelta
from gitlab_server import Issue

from bench.project import Project
from rollout.config import Config
from rollout.schedule import Deployment, Schedule

PER_PAGE = 100
HISTORY = ("label_events", "links", "notes")  # one request each
SHIPPING = {"Stage::Implementation", "Stage::Completed"}  # only these can be ready (§6)
RECENTLY_CLOSED = timedelta(days=90)  # "recent": open, or closed in the last 90 days
TOUCHED_WITHIN = timedelta(minutes=2)  # a note moves updated_at within a minute (§9)
REQUEST_TYPES = ("Bug", "Feature", "Administrative")
# PRODUCT.md §8 defaults: pre-announced from these stages, post-announced for 7 days.
PRE_STAGES = {"Stage::Development", "Stage::Validation", "Stage::Implementation"}
POST_WINDOW = timedelta(days=7)
DEPLOYMENT_MILESTONE = "CustSuppOps Deployment "  # §1: one milestone per deployment period
# Slack, for announce --due with the slack target: who the bot is (auth.test) and the channel
# looked up by name, once each, and its history read once (§8: one read per channel, not per
# issue).
SLACK_READS = 3
SITE_HISTORY = 12  # [site] history: months of past deployments with release notes
# The parts of each issue's history a command reads: iid -> parts.
Parts = dict[int, tuple[str, ...]]


@dataclass(frozen=True)
class Need:
    pages: int  # issue list pages
    per_issue: int  # requests about single issues, any number at a time
    other: int = 0  # other requests one after another (the project, milestone list pages)
    # GET /user: whose announcement markers count (PRODUCT.md §3), once a run, alongside
    # the rest.
    user: int = 1
    chain: int | None = None  # the most pages of one list (default: all, as one list)
    # round trips that can only follow the lists (a warm run's changed issues, the state of
    # the blockers its kept links name)
    after: int = 0

    @property
    def others(self) -> int:
        return self.other + self.user

    def lower_bound(self, latency: float, concurrency: int) -> float:
        """Seconds of network wait no client can avoid. A list's first page says how many
        there are (GitLab announces it up to 10,000 records); the others can then be asked
        for ``concurrency`` at a time."""
        chain = self.pages if self.chain is None else self.chain
        lists = 1 + math.ceil((chain - 1) / concurrency) if chain else 0
        rounds = max(self.after, (self.per_issue + self.user) / concurrency)
        return (lists + self.other + rounds) * latency


NOTHING = Need(0, 0, user=0)


def pages(count: int) -> int:
    return max(1, math.ceil(count / PER_PAGE))


@dataclass(frozen=True)
class Plan:
    """What a command reads: its list queries (the issues each lists) and, per issue, the
    parts of its history."""

    queries: tuple[tuple[Issue, ...], ...]
    parts: Parts

    @property
    def listed(self) -> set[int]:
        return {issue.iid for query in self.queries for issue in query}

    def need(self, other: int = 0) -> Need:
        lists = [pages(len(query)) for query in self.queries]
        per_issue = sum(len(kinds) for kinds in self.parts.values())
        return Need(sum(lists), per_issue, other, chain=max(lists))


class Needs:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.schedule = Schedule(Config())
        data = project.state.project(project.path)
        self.issues = list(data.issues.values())
        self.milestones = data.milestones
        self.deployment = self.schedule.deployment_on(project.deployment)
        assert self.deployment is not None

    # ------------------------------------------------------------------ cold runs

    def check(self, iids: list[int]) -> Need:
        return Need(pages(len(iids)), len(HISTORY) * len(iids))

    def check_plan(self, iids: list[int]) -> Plan:
        by_iid = {issue.iid: issue for issue in self.issues}
        return Plan((tuple(by_iid[iid] for iid in iids),), {iid: HISTORY for iid in iids})

    def notes(self) -> Need:
        return self.notes_plan().need()

    def notes_plan(self, deployment: Deployment | None = None) -> Plan:
        """Open issues, the milestone's closed ones, and those closed (by their last update)
        since the month two months before the period; the histories of those in the
        milestone (shipped or slipped) and of those that may ship on its date. By default
        the notes of the next deployment."""
        deployment = deployment or self.deployment
        assert deployment is not None
        title = deployment.milestone
        since = datetime.combine(
            deployment.period - relativedelta(months=2), time(0, 0), tzinfo=UTC
        )
        opened = tuple(i for i in self.issues if i.state == "opened")
        planned = tuple(
            i for i in self.issues if i.state == "closed" and self._in_milestone(i, title)
        )
        closed = tuple(i for i in self.issues if i.state == "closed" and i.updated_at >= since)
        parts: Parts = {}
        for issue in (*opened, *planned, *closed):
            if issue.iid in parts:
                continue
            judged = min(self._judging_day(issue, self.project.today), deployment.date)
            if self._in_milestone(issue, title):
                parts[issue.iid] = self._verdict_parts(issue)
            elif self._may_ship(issue, judged, deployment.date, deployment.date):
                signed = self._may_ship(
                    issue, judged, deployment.date, deployment.date, label_events=True
                )
                parts[issue.iid] = self._verdict_parts(issue) if signed else ("label_events",)
        return Plan((opened, planned, closed), parts)

    def status(self) -> Need:
        return self.status_plan().need()

    def status_plan(self) -> Plan:
        """Every open issue's label history for its age in its stage (one without a stage
        label shows none); the links of the Blocked ones (their blockers); the links and
        notes of those whose verdict the board shows: the next deployment's milestone, and
        those that may ship on its date."""
        deployment = self.deployment
        assert deployment is not None
        today = self.project.today
        opened = tuple(i for i in self.issues if i.state == "opened")
        parts: Parts = {}
        for issue in opened:
            stages = [label for label in issue.labels if label.startswith("Stage::")]
            if self._in_milestone(issue) or self._may_ship(
                issue, today, deployment.date, deployment.date, label_events=True
            ):
                parts[issue.iid] = self._verdict_parts(issue)
            elif stages == ["Stage::Blocked"]:
                parts[issue.iid] = ("label_events", "links")
            elif len(stages) == 1 or self._may_ship(issue, today, deployment.date, deployment.date):
                parts[issue.iid] = ("label_events",)
        return Plan((opened,), parts)

    def snapshot(self, now: datetime) -> Need:
        """The recent issues with their histories, the project and its milestones."""
        opened, closed = self._recent_lists(now)
        recent = list(self._recent(now))
        milestone_pages = pages(len(self.milestones))
        chain = max(pages(len(opened)), pages(len(closed)))
        return Need(
            pages(len(opened)) + pages(len(closed)),
            len(HISTORY) * len(recent),
            1 + milestone_pages,
            chain=chain,
        )

    def changes(self, today: date, months: int) -> Need:
        return self.changes_plan(today, months).need()

    def changes_plan(self, today: date, months: int) -> Plan:
        """changes.ics: the recent issues, and the histories of those that may ship within
        the feeds' span (the month of today and ``months`` months on)."""
        since = datetime.combine(today, time(0, 0), tzinfo=UTC)
        first = today.replace(day=1)
        last = first + relativedelta(months=months, days=-1)
        parts: Parts = {}
        for issue in self._recent(since):
            day = self._judging_day(issue, today)
            if self._may_ship(issue, day, first, last):
                signed = self._may_ship(issue, day, first, last, label_events=True)
                parts[issue.iid] = self._verdict_parts(issue) if signed else ("label_events",)
        return Plan(self._recent_lists(since), parts)

    def site(self, today: date, months: int, history: int = SITE_HISTORY) -> Need:
        """The release site (PRODUCT.md §10): what ``status``, the ``notes`` of each
        deployment from ``history`` months back to the next, and changes.ics (``months``)
        read, each list and each part of a history once: the open issues, each shown
        milestone's closed ones, the closed issues updated since the earliest day any of
        them needs."""
        upcoming = self.schedule.next_deployment(today)
        shown = []
        for deployment in self.schedule.iter_from(today - relativedelta(months=history)):
            if deployment.date > upcoming.date:
                break
            shown.append(deployment)
        plans = [self.status_plan(), self.changes_plan(today, months)]
        plans += [self.notes_plan(deployment) for deployment in shown]
        parts: Parts = {}
        for plan in plans:
            for iid, kinds in plan.parts.items():
                parts[iid] = tuple(k for k in HISTORY if k in {*parts.get(iid, ()), *kinds})
        earliest = min(d.period.replace(day=1) for d in shown) - relativedelta(months=2)
        since = min(
            datetime.combine(earliest, time(0, 0), tzinfo=UTC),
            datetime.combine(today, time(0, 0), tzinfo=UTC) - RECENTLY_CLOSED,
        )
        opened = sum(1 for i in self.issues if i.state == "opened")
        closed = sum(1 for i in self.issues if i.state == "closed" and i.updated_at >= since)
        lists = [pages(opened), pages(closed)]
        for title in sorted({d.milestone for d in shown}):
            planned = [
                i for i in self.issues if i.state == "closed" and self._in_milestone(i, title)
            ]
            lists.append(pages(len(planned)))
        per_issue = sum(len(kinds) for kinds in parts.values())
        return Need(sum(lists), per_issue, chain=max(lists))

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
        return Need(self._pages_since(since), len(HISTORY) * len(shipping) + 2 * len(pre_only))

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
        return Need(self._pages_since(since), len(HISTORY) * len(judged) + len(notes_only))

    # ------------------------------------------------------------------ warm runs

    def warm(
        self, cold: Plan, now: Plan, changed: set[int], fetched: datetime, *, merged_lists: bool
    ) -> Need:
        """A run after ``cold`` (whose answers GitLab gave at ``fetched``), with the issues in
        ``changed`` updated since: the lists, the parts of changed issues and of those updated
        less than two minutes before ``fetched`` (§9), the parts not read before, and the
        state of the blockers that kept links name and the lists do not show.
        ``merged_lists``: those blockers are asked for in the run's own list (check lists
        issues by number)."""
        changed = changed | {
            issue.iid for issue in self.issues if issue.updated_at + TOUCHED_WITHIN > fetched
        }
        per_issue = sum(
            len(kinds) if iid in changed else len(set(kinds) - set(cold.parts.get(iid, ())))
            for iid, kinds in now.parts.items()
        )
        kept_links = [
            iid
            for iid, kinds in now.parts.items()
            if "links" in kinds and "links" in cold.parts.get(iid, ()) and iid not in changed
        ]
        blockers = self._blockers(kept_links) - now.listed
        # Which issues changed is known from the lists only: what is fetched follows them.
        follows = 1 if per_issue else 0
        if merged_lists:
            [query] = now.queries
            listed = pages(len(query) + len(blockers))
            return Need(listed, per_issue, chain=listed, after=follows)
        need = now.need()
        extra = pages(len(blockers)) if blockers else 0
        return Need(need.pages + extra, per_issue, chain=need.chain, after=max(extra, follows))

    def _blockers(self, iids: Iterable[int]) -> set[int]:
        wanted = set(iids)
        return {
            link.source.iid
            for link in self.project.state.links
            if link.link_type == "blocks" and link.target.iid in wanted
        }

    # ------------------------------------------------------------------ the rules

    def _may_ship(
        self,
        issue: Issue,
        day: date,
        first: date | None,
        last: date | None,
        *,
        label_events: bool = False,
    ) -> bool:
        """Whether §6 leaves the issue a chance of being ready with a ships-on date from
        ``first`` to ``last``, whatever its history says (see the module's docstring);
        ``label_events``: knowing its sign-off."""
        labels = set(issue.labels)
        stages = [label for label in labels if label.startswith("Stage::")]
        types = [label for label in labels if label.startswith("RequestType::")]
        criticalities = [label for label in labels if label.startswith("Criticality::")]
        if len(stages) != 1 or stages[0] not in SHIPPING or len(criticalities) != 1:
            return False
        if issue.state == "closed" and stages[0] != "Stage::Completed":
            return False
        if len(types) != 1 or types[0].removeprefix("RequestType::") not in REQUEST_TYPES:
            return False
        if types[0] == "RequestType::Administrative":
            signed = "Validation::Skipped" in labels
        else:
            signed = "Validation::Received" in labels and "Validation::Rejected" not in labels
        if not signed:
            return False
        criticality = criticalities[0].removeprefix("Criticality::")
        created = issue.created_at.date()
        touched = (issue.updated_at + TOUCHED_WITHIN).date()
        signed_first, signed_last = created, touched
        if label_events:
            signed_on = self._signed_on(issue)
            if signed_on is None:
                return False
            signed_first = signed_last = signed_on
        earliest = self._ships_on(criticality, day, signed_first, min(day, created))
        latest = self._ships_on(criticality, day, signed_last, max(day, touched))
        if earliest is None or (last is not None and earliest > last):
            return False
        return first is None or latest is None or latest >= first

    def _verdict_parts(self, issue: Issue) -> tuple[str, ...]:
        """An issue whose verdict is shown: its label events and links (blockers), and its
        notes when the ships-on rule reads its announcement date (it is signed off)."""
        if self._signed_on(issue) is None:
            return ("label_events", "links")
        return HISTORY

    def _signed_on(self, issue: Issue) -> date | None:
        """§6's sign-off, from the label events. The events of one moment are one change:
        the stage it leaves the issue in is the one it entered."""
        labels = set(issue.labels)
        entered: dict[str, list[datetime]] = {}  # stage -> when the issue entered it
        added: dict[str, list[datetime]] = {}  # label -> when it was added
        stage = None
        events = sorted(issue.label_events, key=lambda event: (event.created_at, event.id))
        for at, change in groupby(events, key=lambda event: event.created_at):
            stages = [e.label for e in change if e.action == "add" and e.label is not None]
            for label in stages:
                added.setdefault(label, []).append(at)
            now = [label for label in stages if label.startswith("Stage::")]
            if now and now[-1] != stage:
                stage = now[-1]
                entered.setdefault(stage, []).append(at)
        if "RequestType::Administrative" in labels:
            implementation = entered.get("Stage::Implementation")
            if "Validation::Skipped" not in labels or not implementation:
                return None
            return implementation[-1].date()
        received = added.get("Validation::Received")
        if "Validation::Rejected" in labels or "Validation::Received" not in labels:
            return None
        if not received:
            return None
        rework = entered.get("Stage::Development")
        if rework and received[-1] <= rework[-1]:
            return None
        if any(at > received[-1] for at in added.get("Validation::Rejected", [])):
            return None
        return received[-1].date()

    def _ships_on(self, criticality: str, day: date, signed: date, announced: date) -> date | None:
        """The standard rule of §6 for a given sign-off and announcement date."""
        for count, deployment in enumerate(self.schedule.iter_from(day)):
            if (
                signed <= deployment.signoff_cutoff
                and announced <= deployment.announce_by[criticality]
                and not deployment.is_frozen_for(criticality)
            ):
                return deployment.date
            if count > 120:
                return None
        return None

    def _judging_day(self, issue: Issue, today: date) -> date:
        """Today, or the day a closed issue was closed if that was earlier."""
        if issue.closed_at is not None:
            return min(today, issue.closed_at.date())
        return today

    def _recent(self, now: datetime) -> Iterable[Issue]:
        since = now - RECENTLY_CLOSED
        for issue in self.issues:
            if issue.state == "opened" or (issue.closed_at and issue.closed_at >= since):
                yield issue

    def _recent_lists(self, now: datetime) -> tuple[tuple[Issue, ...], tuple[Issue, ...]]:
        since = now - RECENTLY_CLOSED
        opened = tuple(i for i in self.issues if i.state == "opened")
        closed = tuple(i for i in self.issues if i.state == "closed" and i.updated_at >= since)
        return opened, closed

    def _milestone_title(self, issue: Issue) -> str | None:
        milestone = self.milestones.get(issue.milestone_id) if issue.milestone_id else None
        return milestone.title if milestone is not None else None

    def _in_milestone(self, issue: Issue, title: str | None = None) -> bool:
        return self._milestone_title(issue) == (title or self.project.milestone)

    def _in_deployment_milestone(self, issue: Issue) -> bool:
        return (self._milestone_title(issue) or "").startswith(DEPLOYMENT_MILESTONE)

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


def changed_since(before: Mapping[int, datetime], issues: Iterable[Issue]) -> set[int]:
    """The issues whose updated_at moved."""
    return {issue.iid for issue in issues if before.get(issue.iid) != issue.updated_at}


def _shipping(issue: Issue) -> bool:
    return bool(SHIPPING & set(issue.labels))


def _new(issue: Issue) -> bool:
    """No stage label, or Stage::Triage only (PRODUCT.md §11)."""
    return {label for label in issue.labels if label.startswith("Stage::")} <= {"Stage::Triage"}
