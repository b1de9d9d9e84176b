"""Which Change Management announcements are due on a day (PRODUCT.md §8).

For an as-of day T in the schedule's zone, over the open issues and those closed in the last
``[announce] post_window``:

- *pre*: an open issue in a deployment milestone and in one of ``[announce] pre_stages``,
  whose planned date P (§6) is on or after T. It names P, and says so when P moved since an
  earlier pre-announcement.
- *reminder*: the issue ships on deployment D (§6, as of T): on the day that holds D's start
  minus ``[notice] reminder``, on every later day before D until one has been posted, and
  again on D.
- *post*: the issue shipped with D (ready with ships-on D as of D, or closed Completed with
  it) and D <= T <= D + post_window.

The rules here leave out "not posted yet": every delivery target keeps its own ledger (GitLab
the markers on the issue, Slack the metadata of its messages) and is asked which of these it
holds (rollout.delivery), so a target that missed one gets it on the next run and the others
never get it twice. A ledger entry is a :class:`Held`; :meth:`DueAnnouncement.held_in` says
whether a ledger holds an announcement.

Where §8 is silent (README, "Announcements on autopilot"):

- A change whose post-announcement was made (a trusted post marker dated on or before T), or
  that the post rule finds shipped, has shipped: it gets no later pre-announcement, reminder
  or post-announcement, though an issue left open after its deployment would otherwise look
  planned for the next one.
- An ad-hoc change ships when merged, so its planned date moves with T: it is pre-announced
  once (any pre-announcement counts), and its reminders and post-announcement name the day
  §6 gave on the day it was signed off, which does not move.
- "Since that day" for reminders: a reminder for D whose posted day (the as-of day it went
  out, in the schedule's zone) is on or after the reminder day counts for every day before D;
  on D only one posted on D counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import takewhile

from dateutil.relativedelta import relativedelta

from rollout.business_days import BusinessCalendar
from rollout.config import Config
from rollout.durations import Duration
from rollout.issues import Issue, Note
from rollout.markers import Trust, markers_in
from rollout.readiness import SHIPPING_STAGES, Assessor, evaluation_date, may_be_ready
from rollout.release_notes import ships_with
from rollout.schedule import Deployment, Schedule
from rollout.trackers import HISTORY, Progress, Tracker
from rollout.workflow import LabelReading, Vocabulary, local_date, read_labels

PHASES = ("pre", "reminder", "post")
# How far back a target's ledger is read for an announcement naming D (PRODUCT.md §8), at
# least: further for one that could have been posted earlier (_Rules._look_back).
LEDGER_DAYS = 45
# The deployment milestones an issue can be in start this long before the as-of day.
_MILESTONES_BEFORE = relativedelta(years=3)


@dataclass(frozen=True)
class Held:
    """An announcement a target's ledger holds: a marker on an issue, a Slack message's
    metadata. ``day`` is the day it was posted, where the ledger records one."""

    iid: int
    phase: str
    deploy: date
    day: date | None = None


@dataclass(frozen=True)
class DueAnnouncement:
    issue: Issue
    phase: str
    deploy_date: date  # the date it names: P for pre, D otherwise
    as_of: date  # T, the day it goes out (a reminder's marker records it)
    reason: str  # why it is due, for people
    # The oldest day a copy of it could have been posted: ledgers are read back to this.
    look_back: date
    moved_from: date | None = None  # pre: the date an earlier pre-announcement named
    # Reminders: a reminder for deploy_date posted on a day in this range holds it.
    days: tuple[date, date] | None = None
    any_date: bool = False  # ad-hoc pre: a pre-announcement of any date holds it
    targets: tuple[str, ...] = ()  # the targets that do not hold it yet (rollout.delivery)

    @property
    def iid(self) -> int:
        return self.issue.iid

    @property
    def key(self) -> tuple[int, str, date]:
        return (self.iid, self.phase, self.deploy_date)

    def held_in(self, ledger: Iterable[Held]) -> bool:
        """Whether ``ledger`` holds this announcement already."""
        for held in ledger:
            if held.iid != self.iid or held.phase != self.phase:
                continue
            if not self.any_date and held.deploy != self.deploy_date:
                continue
            if self.days is None:
                return True
            if held.day is not None and self.days[0] <= held.day <= self.days[1]:
                return True
        return False


def held_on_issue(notes: Iterable[Note], trust: Trust, iid: int) -> list[Held]:
    """The GitLab ledger of one issue: its trusted markers (PRODUCT.md §3)."""
    return [
        Held(iid, posted.marker.phase, posted.marker.deploy_date, posted.marker.posted_on)
        for posted in markers_in(notes, trust)
    ]


# --------------------------------------------------------------------------- the window


def window_start(as_of: date, window: Duration, calendar: BusinessCalendar) -> date:
    """The first day D with D <= as_of <= D + window."""
    if window.is_business:
        return calendar.before(as_of, window.amount + 1) + timedelta(days=1)
    return as_of - window.as_timedelta()


def in_window(day: date, as_of: date, window: Duration, calendar: BusinessCalendar) -> bool:
    """Whether day <= as_of <= day + window."""
    return day <= as_of <= window_end(day, window, calendar)


def window_end(day: date, window: Duration, calendar: BusinessCalendar) -> date:
    """day + window: in business days, the last of them (a weekend after it is outside)."""
    if window.is_business:
        return calendar.after(day, window.amount) if window.amount else day
    return day + window.as_timedelta()


# --------------------------------------------------------------------------- fetching


def due_issues(
    tracker: Tracker, config: Config, as_of: date, progress: Progress | None = None
) -> list[Issue]:
    """The open issues and those closed in the last post_window, each with the history the
    rules need: all of it where readiness is asked (a shipping stage: reminders and posts),
    the label events and notes of those only a pre-announcement can be due for."""
    tracker.prefetch_user()  # the rules will ask whose markers count
    schedule = Schedule(config)
    first = window_start(as_of, config.announce.post_window, schedule.calendar)
    since = datetime.combine(first, time(0, 0), tzinfo=config.schedule.zone)
    issues = tracker.records(tracker.list_recent(since, history=()))
    vocabulary = Vocabulary.from_config(config)
    milestones = deployment_milestones(schedule, as_of)
    judged = [issue for issue in issues if may_be_ready(issue, vocabulary)]
    pre_only = [
        issue
        for issue in issues
        if not may_be_ready(issue, vocabulary)
        and may_be_pre_announced(issue, config, vocabulary, milestones)
    ]
    fetched = {
        issue.iid: issue
        for issue in (
            *tracker.with_history(judged, HISTORY, progress),
            *tracker.with_history(pre_only, ("label_events", "notes"), progress),
        )
    }
    return sorted(fetched.values(), key=lambda issue: issue.iid)


def deployment_milestones(schedule: Schedule, as_of: date) -> dict[str, Deployment]:
    """The milestone titles of the deployments from three years before ``as_of`` to five
    years after it."""
    return {d.milestone: d for d in schedule.deployments(as_of - _MILESTONES_BEFORE, 8 * 12)}


def may_be_pre_announced(
    issue: Issue, config: Config, vocabulary: Vocabulary, milestones: dict[str, Deployment]
) -> bool:
    """Open, in a deployment milestone and in one of [announce] pre_stages."""
    return (
        issue.is_open
        and issue.milestone is not None
        and issue.milestone.title in milestones
        and read_labels(issue.labels, vocabulary).stage in config.announce.pre_stages
    )


# --------------------------------------------------------------------------- shipping


def ships_on(issue: Issue, reading: LabelReading, as_of: date, assessor: Assessor) -> date | None:
    """D: the ships-on date of §6 as of ``as_of``, when the issue is ready. An ad-hoc change
    ships on any day once ready, so its date is the one §6 gave on the day it was signed
    off, which does not move."""
    day = evaluation_date(issue, as_of, assessor.config)
    if reading.deployment_type == "ad_hoc":
        signoff = assessor.signoff(issue)
        if signoff.given and signoff.at is not None:
            day = min(day, local_date(signoff.at, assessor.zone))
    verdict = assessor.assess(issue, day)
    return verdict.ships_on if verdict.ready else None


def shipped_with(
    issue: Issue,
    reading: LabelReading,
    deployments: Sequence[Deployment],
    as_of: date,
    assessor: Assessor,
) -> date | None:
    """The date the issue shipped on, on or before ``as_of``: for a standard change the first
    of ``deployments`` (latest first) it shipped with (ready with ships-on D as of D, or
    Completed in its milestone), else its ships-on date (see ships_on)."""
    if reading.deployment_type == "standard":
        for deployment in deployments:
            if ships_with(issue, deployment, as_of, assessor)[1]:
                return deployment.date
        return None
    day = ships_on(issue, reading, as_of, assessor)
    return day if day is not None and day <= as_of else None


# --------------------------------------------------------------------------- the rules


def find_due(
    issues: Sequence[Issue],
    config: Config,
    as_of: date,
    trust: Trust,
    schedule: Schedule | None = None,
) -> list[DueAnnouncement]:
    """Every announcement the rules make due on ``as_of``, by issue and phase; whether a
    target already holds it is the target's to say."""
    rules = _Rules(config, schedule or Schedule(config), as_of, trust)
    found = [due for issue in sorted(issues, key=lambda i: i.iid) for due in rules.of(issue)]
    return sorted(found, key=lambda due: (due.iid, PHASES.index(due.phase)))


class _Rules:
    def __init__(self, config: Config, schedule: Schedule, as_of: date, trust: Trust) -> None:
        self.config = config
        self.schedule = schedule
        self.as_of = as_of
        self.trust = trust
        self.assessor = Assessor(config, schedule, trust)
        self.vocabulary = Vocabulary.from_config(config)
        self.window = config.announce.post_window
        self.calendar = schedule.calendar
        self.zone = config.schedule.zone
        self.milestones = deployment_milestones(schedule, as_of)
        self.window_first = window_start(as_of, self.window, self.calendar)
        # The deployments a change may have shipped with, latest first: those D with
        # D <= T <= D + post_window, and the last one on or before T in any case.
        passed = list(takewhile(lambda d: d.date <= as_of, schedule.iter_from(self.window_first)))
        if not passed:
            passed = [schedule.previous_deployment(as_of + timedelta(days=1))]
        self.passed = passed[::-1]

    def of(self, issue: Issue) -> list[DueAnnouncement]:
        if not issue.is_open and not self._recently_closed(issue):
            return []
        reading = read_labels(issue.labels, self.vocabulary)
        ledger = held_on_issue(issue.notes, self.trust, issue.iid)
        live = [h.deploy for h in ledger if h.phase == "post" and h.deploy <= self.as_of]
        # Only a change in a shipping stage can be ready, or have gone out Completed.
        shipping = reading.stage in SHIPPING_STAGES
        shipped = self._shipped_on(issue, reading) if shipping else None
        found: list[DueAnnouncement] = []
        # Once post-announced, a change is live: only that date is post-announced.
        if shipped is not None and (not live or live[-1] == shipped) and self._open(shipped):
            found.append(self._post(issue, shipped))
        # Shipped before today, nothing more is announced for a later date (an issue left
        # open after its deployment looks planned for the next one). On D itself the
        # reminder ("ships today") is due beside the post-announcement.
        if not any(day < self.as_of for day in (*live, *([shipped] if shipped else []))):
            if shipping:
                found.extend(self._reminder(issue, reading))
            found.extend(self._pre(issue, reading, ledger))
        return [replace(due, look_back=self._look_back(due)) for due in found]

    def _recently_closed(self, issue: Issue) -> bool:
        """Closed in the last post_window (or after the as-of day: open then)."""
        closed = issue.closed_at
        return closed is not None and local_date(closed, self.zone) >= self.window_first

    # ------------------------------------------------------------------ post

    def _shipped_on(self, issue: Issue, reading: LabelReading) -> date | None:
        return shipped_with(issue, reading, self.passed, self.as_of, self.assessor)

    def _open(self, day: date) -> bool:
        """Whether the post window of a change shipped on ``day`` holds T."""
        return in_window(day, self.as_of, self.window, self.calendar)

    def _post(self, issue: Issue, day: date) -> DueAnnouncement:
        end = window_end(day, self.window, self.calendar)
        reason = f"shipped {day}; the post window ends {end}"
        return self._due(issue, "post", day, reason)

    # ------------------------------------------------------------------ reminder

    def _ships_on(self, issue: Issue, reading: LabelReading) -> date | None:
        return ships_on(issue, reading, self.as_of, self.assessor)

    def _reminder(self, issue: Issue, reading: LabelReading) -> list[DueAnnouncement]:
        day = self._ships_on(issue, reading)
        if day is None or day < self.as_of:
            return []
        reminder_day = self._reminder_day(day)
        if self.as_of < reminder_day:
            return []
        if self.as_of == day:
            due = self._due(issue, "reminder", day, "ships today")
            return [replace(due, days=(day, day))]
        days = (day - self.as_of).days
        when = f"ships in {days} day{'s' if days != 1 else ''}"
        if self.as_of == reminder_day:
            reason = f"{when}; the reminder day"
        else:
            reason = f"{when}; no reminder since the reminder day {reminder_day}"
        due = self._due(issue, "reminder", day, reason)
        return [replace(due, days=(reminder_day, day - timedelta(days=1)))]

    @cache  # noqa: B019 (one _Rules a run; few distinct days)
    def _reminder_day(self, day: date) -> date:
        return self.schedule.reminder_for(day).astimezone(self.zone).date()

    # ------------------------------------------------------------------ pre

    def _pre(
        self, issue: Issue, reading: LabelReading, ledger: Sequence[Held]
    ) -> list[DueAnnouncement]:
        if not may_be_pre_announced(issue, self.config, self.vocabulary, self.milestones):
            return []
        planned = self.assessor.planned_date(issue, self.as_of).day
        if planned is None or planned < self.as_of:
            return []
        if reading.deployment_type == "ad_hoc":
            due = self._due(issue, "pre", planned, f"ad-hoc, planned for {planned}")
            return [replace(due, any_date=True)]
        named = [held.deploy for held in ledger if held.phase == "pre"]
        moved_from = named[-1] if named and named[-1] != planned else None
        reason = f"planned for {planned}"
        if moved_from is not None:
            reason += f"; moved from {moved_from}"
        return [replace(self._due(issue, "pre", planned, reason), moved_from=moved_from)]

    # ------------------------------------------------------------------ shared

    def _due(self, issue: Issue, phase: str, day: date, reason: str) -> DueAnnouncement:
        look_back = day - timedelta(days=LEDGER_DAYS)
        return DueAnnouncement(issue, phase, day, self.as_of, reason, look_back)

    def _look_back(self, due: DueAnnouncement) -> date:
        """The oldest day a copy of ``due`` could have been posted: 45 days before the date
        it names, or earlier where the rules make it due earlier. A pre-announcement is due
        while the issue is in a pre stage of a deployment milestone, which can be any day
        since the issue was created; a reminder from its reminder day. One GitLab holds is
        looked for back to the day GitLab got it."""
        earliest = [due.look_back]
        if due.phase == "pre":
            earliest.append(local_date(due.issue.created_at, self.zone))
        if due.days is not None:
            earliest.append(due.days[0])
        earliest.extend(
            local_date(found.note.created_at, self.zone)
            for found in markers_in(due.issue.notes, self.trust)
            if due.held_in(held_on_issue([found.note], self.trust, due.iid))
        )
        return min(earliest)
