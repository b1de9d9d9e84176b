"""The stage board of ``rollout status``: where every open issue stands (PRODUCT.md §1).

For an as-of date and the open issues: how long each has been in its stage against the
stage's target, which Blocked issues are due an escalation step and where they return,
who to remind of a validation that is waiting too long, and what is on track for the
next deployment. build_board is pure: the config, the issues and the date are all it
looks at; board_issues fetches those issues through a tracker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from rollout.business_days import BusinessCalendar
from rollout.config import CRITICALITIES, Config
from rollout.durations import Duration
from rollout.incidents import OpenIncident, open_incidents
from rollout.issues import Issue, Person
from rollout.markers import Trust
from rollout.readiness import (
    Assessor,
    Check,
    Verdict,
    in_milestone,
    open_blockers,
)
from rollout.schedule import Deployment, Schedule
from rollout.trackers import OPEN_ISSUES, HistoryPlan, Progress, Tracker
from rollout.workflow import (
    STAGES,
    LabelReading,
    Timeline,
    Vocabulary,
    business_days_in_stage,
    conflicts,
    find_signoff,
    local_date,
    read_labels,
    timeline_of,
)

# What is due after 0, 1, 2, 3 and 4 or more whole escalation periods in Blocked.
ESCALATION_STEPS = (
    "none yet",
    "ping the blocker",
    "ping their leadership",
    "ping the next level up",
    "comment and close",
)


@dataclass(frozen=True)
class StageAge:
    """One issue in its stage."""

    issue: Issue
    stage: str  # a role from workflow.STAGES
    entered_on: date | None  # None when the label history does not say
    business_days: int | None  # business days after entered_on up to the as-of date
    target: Duration | None
    overdue: bool


@dataclass(frozen=True)
class StageGroup:
    stage: str
    label: str  # e.g. "Stage::Triage"
    target: Duration | None
    issues: tuple[StageAge, ...]  # longest in the stage first


@dataclass(frozen=True)
class Unstaged:
    """An open issue without exactly one known stage label."""

    issue: Issue
    problem: str


@dataclass(frozen=True)
class Escalation:
    """A Blocked issue and the escalation step due for it."""

    issue: Issue
    entered_on: date | None
    days: int | None  # calendar days in Blocked
    step: int | None  # whole escalation periods in Blocked, at most 4; None when unknown
    action: str
    next_step_on: date | None  # when the next step falls due; None after the last one
    returns_to: str | None  # the stage label it goes back to when unblocked, e.g. Stage::Planning
    blocked_by: tuple[str, ...]  # the open issues linked as blocking it, e.g. "#111"


@dataclass(frozen=True)
class ValidationWait:
    """An issue in Validation waiting for its requester longer than the target."""

    issue: Issue
    entered_on: date
    business_days: int
    target: Duration
    remind: Person  # the requester: the issue's author


@dataclass(frozen=True)
class Deadline:
    day: date
    kind: str  # "signoff_cutoff" or "announce_by"
    criticality: str | None  # for announce_by: the criticality it is for
    deployment: Deployment

    @property
    def what(self) -> str:
        if self.kind == "signoff_cutoff":
            return "sign-off cut-off"
        return f"announce {self.criticality} changes by"


@dataclass(frozen=True)
class NextDeployment:
    deployment: Deployment
    ready: tuple[Verdict, ...]  # ready, and shipping on this deployment's date
    not_ready: tuple[Verdict, ...]  # in its milestone but not shipping with it
    deadlines: tuple[Deadline, ...]  # from the as-of date up to the deployment, in order


@dataclass(frozen=True)
class Board:
    as_of: date
    issue_count: int
    stages: tuple[StageGroup, ...]  # every stage, in workflow order, empty ones too
    unstaged: tuple[Unstaged, ...]
    blocked: tuple[Escalation, ...]
    waiting: tuple[ValidationWait, ...]
    next_deployment: NextDeployment
    escalation: Duration  # one escalation step for every this long in Blocked
    incidents: tuple[OpenIncident, ...]  # open incidents with a System:: label, oldest first


def why_not(verdict: Verdict, deployment: Deployment) -> list[Check]:
    """Why an issue in the deployment's milestone does not ship with it: the failed checks,
    led by the ships-on date when it is ready for a later deployment."""
    reasons = list(verdict.failures)
    if verdict.ready and verdict.ships_on != deployment.date:
        ships_on = [check for check in verdict.checks if check.id == "ships-on"]
        reasons = ships_on + reasons
    return reasons


def board_issues(
    tracker: Tracker, config: Config, as_of: date, progress: Progress | None = None
) -> list[Issue]:
    """The open issues with what the board needs of them, and no more (see board_parts).

    What each issue needs is known from the list, but for the notes and links that only
    its sign-off (its label events) shows are worth reading: those follow.
    """
    tracker.prefetch_user()  # build_board will ask whose markers count
    issues = tracker.list_issues(OPEN_ISSUES, history=())
    return tracker.read_history(board_plan(issues, config, as_of), progress)


def board_plan(open_issues: Sequence[Issue], config: Config, as_of: date) -> HistoryPlan:
    """What the board reads of the open issues' histories: board_parts first, then
    verdict_parts."""
    deployment = Schedule(config).next_deployment(as_of)
    assessor = Assessor(config)
    parts = {issue.iid: board_parts(issue, deployment, as_of, assessor) for issue in open_issues}

    def then(issue: Issue) -> tuple[str, ...]:
        return verdict_parts(issue, deployment, as_of, assessor)

    return HistoryPlan(tuple(open_issues), parts, then)


def board_parts(
    issue: Issue, deployment: Deployment, as_of: date, assessor: Assessor
) -> tuple[str, ...]:
    """The parts of an open issue's history the board reads first: label events for its
    age in its stage; links of a Blocked issue (its blockers) and of one in the next
    deployment's milestone (its verdict is shown). An issue without one stage label that is
    not judged is shown from its labels alone. See verdict_parts for the rest."""
    stage = read_labels(issue.labels, assessor.vocabulary).stage
    if in_milestone(issue, deployment) or stage == "blocked":
        return ("label_events", "links")
    if stage is not None or judged(issue, deployment, as_of, assessor, label_events=False):
        return ("label_events",)
    return ()


def verdict_parts(
    issue: Issue, deployment: Deployment, as_of: date, assessor: Assessor
) -> tuple[str, ...]:
    """Once its label events are read: what else an issue whose verdict the board shows
    needs. Its links (blockers), unless it cannot ship with the deployment whatever they
    say; its notes when the verdict reads the announcement date."""
    if not judged(issue, deployment, as_of, assessor, label_events=True):
        return ()
    notes = ("notes",) if assessor.reads_announcements(issue) else ()
    return ("links", *notes)


def judged(
    issue: Issue, deployment: Deployment, as_of: date, assessor: Assessor, *, label_events: bool
) -> bool:
    """Whether the board shows the issue's verdict for the next deployment: it is in the
    deployment's milestone (ready or not), or it may be ready to ship on its date
    (``label_events``: its sign-off is known)."""
    return in_milestone(issue, deployment) or assessor.may_ship_between(
        issue, as_of, deployment.date, deployment.date, label_events=label_events
    )


def build_board(
    config: Config,
    issues: Sequence[Issue],
    as_of: date,
    trust: Trust,
    schedule: Schedule | None = None,
    now: datetime | None = None,
) -> Board:
    """The board of the open ``issues`` on ``as_of`` (closed ones are left out); ``trust``
    says whose announcement markers count. Incidents are overdue when their escalation
    time is before ``now``, by default the end of the as-of day."""
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=config.schedule.zone)
    builder = _BoardBuilder(config, schedule or Schedule(config), as_of, trust, now or end_of_day)
    return builder.build([issue for issue in issues if issue.is_open])


class _BoardBuilder:
    def __init__(
        self, config: Config, schedule: Schedule, as_of: date, trust: Trust, now: datetime
    ) -> None:
        self.config = config
        self.now = now
        self.trust = trust
        self.schedule = schedule
        self.as_of = as_of
        self.vocabulary = Vocabulary.from_config(config)
        self.calendar: BusinessCalendar = schedule.calendar
        self.zone = config.schedule.zone
        self.targets = config.targets

    def build(self, issues: list[Issue]) -> Board:
        by_stage: dict[str, list[StageAge]] = {stage: [] for stage in STAGES}
        unstaged: list[Unstaged] = []
        blocked: list[Escalation] = []
        waiting: list[ValidationWait] = []
        issues = sorted(issues, key=lambda issue: issue.iid)
        for issue in issues:
            reading = read_labels(issue.labels, self.vocabulary)
            stage = reading.stage
            if stage is None:
                unstaged.append(Unstaged(issue, self._stage_problem(reading)))
                continue
            timeline = timeline_of(issue, self.vocabulary)
            age = self._age(issue, stage, timeline)
            by_stage[stage].append(age)
            if stage == "blocked":
                blocked.append(self._escalation(issue, age, timeline))
            elif stage == "validation":
                wait = self._waiting(issue, reading, timeline, age)
                if wait is not None:
                    waiting.append(wait)
        groups = tuple(
            StageGroup(
                stage,
                self._stage_label(stage),
                self.targets.by_stage.get(stage),
                tuple(sorted(ages, key=_longest_first)),
            )
            for stage, ages in by_stage.items()
        )
        return Board(
            as_of=self.as_of,
            issue_count=len(issues),
            stages=groups,
            unstaged=tuple(unstaged),
            blocked=tuple(sorted(blocked, key=_longest_blocked_first)),
            waiting=tuple(sorted(waiting, key=lambda w: (-w.business_days, w.issue.iid))),
            next_deployment=self._next_deployment(issues),
            escalation=self.targets.escalation,
            incidents=open_incidents(self.config, issues, self.now),
        )

    # ------------------------------------------------------------------ stages

    def _stage_problem(self, reading: LabelReading) -> str:
        problems = [p for p in conflicts(reading, self.vocabulary) if "stage" in p]
        if problems:
            return "; ".join(problems)
        return "no stage label"

    def _age(self, issue: Issue, stage: str, timeline: Timeline) -> StageAge:
        target = self.targets.by_stage.get(stage)
        span = timeline.current
        days = business_days_in_stage(timeline, self.as_of, self.calendar, self.zone)
        if span is None or span.stage != stage or days is None:
            # The labels say one stage, the history another (or nothing): no age to show.
            return StageAge(issue, stage, None, None, target, False)
        entered = local_date(span.entered_at, self.zone)
        return StageAge(issue, stage, entered, days, target, self._over(entered, days, target))

    def _over(self, entered: date, business_days: int, target: Duration | None) -> bool:
        if target is None:
            return False
        if target.is_business:
            return business_days > target.amount
        return (self.as_of - entered) > target.as_timedelta()

    # ------------------------------------------------------------------ blocked

    def _escalation(self, issue: Issue, age: StageAge, timeline: Timeline) -> Escalation:
        previous = timeline.previous_stage()
        returns_to = None if previous is None else self._stage_label(previous)
        blockers = open_blockers(issue)
        if age.entered_on is None:
            unknown = "unknown: no record of entering Blocked"
            return Escalation(issue, None, None, None, unknown, None, returns_to, blockers)
        entered = age.entered_on
        days = max(0, (self.as_of - entered).days)
        period = self.targets.escalation
        last = len(ESCALATION_STEPS) - 1
        if period.is_business:
            periods = self.calendar.count_between(entered, self.as_of) // period.amount
            step = min(periods, last)
            next_on = (
                None if step == last else self.calendar.after(entered, (step + 1) * period.amount)
            )
        else:
            length = period.as_timedelta() / timedelta(days=1)  # in days, maybe fractional
            periods = math.floor(days / length)
            step = min(periods, last)
            next_on = (
                None if step == last else entered + timedelta(days=math.ceil((step + 1) * length))
            )
        return Escalation(
            issue, entered, days, step, ESCALATION_STEPS[step], next_on, returns_to, blockers
        )

    def _stage_label(self, role: str) -> str:
        prefix = self.config.labels.stage
        return (
            f"{prefix}{role[1:]}" if role.startswith("?") else self.vocabulary.label(prefix, role)
        )

    # ------------------------------------------------------------------ validation

    def _waiting(
        self, issue: Issue, reading: LabelReading, timeline: Timeline, age: StageAge
    ) -> ValidationWait | None:
        """In Validation without a sign-off that counts, and not rejected (then the rework is
        ops' move): the requester owes an answer."""
        target = age.target
        if target is None or not age.overdue or age.entered_on is None:
            return None
        if reading.has_validation("rejected"):
            return None
        if find_signoff(reading, timeline, self.vocabulary, self.zone).given:
            return None
        assert age.business_days is not None
        return ValidationWait(issue, age.entered_on, age.business_days, target, issue.author)

    # ------------------------------------------------------------------ next deployment

    def _next_deployment(self, issues: list[Issue]) -> NextDeployment:
        deployment = self.schedule.next_deployment(self.as_of)
        assessor = Assessor(self.config, self.schedule, self.trust)
        ready: list[Verdict] = []
        not_ready: list[Verdict] = []
        for issue in issues:
            if not judged(issue, deployment, self.as_of, assessor, label_events=True):
                continue
            verdict = assessor.assess(issue, self.as_of)
            if verdict.ready and verdict.ships_on == deployment.date:
                ready.append(verdict)
            elif in_milestone(issue, deployment):
                not_ready.append(verdict)
        return NextDeployment(
            deployment, tuple(ready), tuple(not_ready), self._deadlines(deployment)
        )

    def _deadlines(self, deployment: Deployment) -> tuple[Deadline, ...]:
        """The sign-off cut-offs and announce-by dates from the as-of date up to the deployment:
        the next deployment's and the following one's (whose announce-by dates often come first).
        Criticalities needing no notice, or held back by a freeze, have none."""
        following = next(self.schedule.iter_from(deployment.date + timedelta(days=1)), None)
        found = [
            deadline
            for candidate in (deployment, following)
            if candidate is not None
            for deadline in deadlines_of(candidate)
        ]
        upcoming = [d for d in found if self.as_of <= d.day <= deployment.date]
        return tuple(sorted(upcoming, key=deadline_order))


def deadlines_of(deployment: Deployment) -> list[Deadline]:
    """A deployment's sign-off cut-off and its announce-by dates; criticalities needing no
    notice, or held back by a freeze, have none."""
    found = [Deadline(deployment.signoff_cutoff, "signoff_cutoff", None, deployment)]
    for criticality in CRITICALITIES:
        day = deployment.announce_by[criticality]
        if day < deployment.date and not deployment.is_frozen_for(criticality):
            found.append(Deadline(day, "announce_by", criticality, deployment))
    return found


def deadline_order(deadline: Deadline) -> tuple[date, date, str, str]:
    return (deadline.day, deadline.deployment.date, deadline.kind, deadline.criticality or "")


def _longest_first(age: StageAge) -> tuple[int, int]:
    return (-(age.business_days if age.business_days is not None else -1), age.issue.iid)


def _longest_blocked_first(escalation: Escalation) -> tuple[int, int]:
    return (-(escalation.days if escalation.days is not None else -1), escalation.issue.iid)
