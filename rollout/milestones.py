"""The deployment-period milestones of a year (PRODUCT.md §3 "Milestones"), compared with the
project's, and the writes that make the project's match.

``plan_milestones`` is pure: the schedule, the year and the project's milestones in, one
:class:`MilestonePlan` line per deployment period out. ``apply_plan`` carries out a plan
through a tracker and writes nothing for the lines that are already right, so a second run
makes no write request. Closed milestones are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from dateutil.relativedelta import relativedelta

from rollout.config import Override
from rollout.issues import Milestone
from rollout.posting import write_once
from rollout.schedule import Deployment, Schedule
from rollout.trackers import Tracker

# What a plan line asks for.
OK = "ok"  # the project's milestone is right
CREATE = "create"  # the project has none with this title
FIX = "fix"  # it has one with a wrong start or due date
CLOSED = "closed"  # it has a closed one: left alone, whatever its dates


@dataclass(frozen=True)
class MilestoneLine:
    title: str
    start_date: date
    due_date: date
    action: str  # OK, CREATE, FIX or CLOSED
    current: Milestone | None  # the project's milestone of this title
    wrong: tuple[str, ...] = ()  # for FIX: "start_date" and/or "due_date"
    applied: bool = False  # set by apply_plan once written

    @property
    def writes(self) -> bool:
        return self.action in (CREATE, FIX)


@dataclass(frozen=True)
class MilestonePlan:
    year: int
    lines: tuple[MilestoneLine, ...]
    skipped: tuple[Override, ...]  # periods an override skips: they have no milestone

    def count(self, action: str) -> int:
        return sum(1 for line in self.lines if line.action == action)

    @property
    def changes(self) -> tuple[MilestoneLine, ...]:
        return tuple(line for line in self.lines if line.writes)


def expected_milestone(deployment: Deployment, day: int) -> tuple[str, date, date]:
    """(title, start date, due date): the title names the period's date by the rule, the start
    is one month before it (the previous period's rule date, so the milestones of a year are
    back to back) and the due date is the actual deployment date."""
    start = deployment.period + relativedelta(months=-1, day=day)
    return deployment.milestone, start, deployment.date


def plan_milestones(schedule: Schedule, year: int, existing: Sequence[Milestone]) -> MilestonePlan:
    """The milestones the deployment periods of ``year`` need, against ``existing``."""
    by_title = {milestone.title: milestone for milestone in existing}
    lines = []
    for deployment in schedule.deployments(date(year, 1, 1), 12):
        title, start, due = expected_milestone(deployment, schedule.policy.day)
        current = by_title.get(title)
        if current is None:
            lines.append(MilestoneLine(title, start, due, CREATE, None))
            continue
        if current.state == "closed":
            lines.append(MilestoneLine(title, start, due, CLOSED, current))
            continue
        wrong = tuple(
            name
            for name, expected, actual in (
                ("start_date", start, current.start_date),
                ("due_date", due, current.due_date),
            )
            if expected != actual
        )
        action = FIX if wrong else OK
        lines.append(MilestoneLine(title, start, due, action, current, wrong))
    skipped = tuple(schedule.skipped(date(year, 1, 1), 12))
    return MilestonePlan(year, tuple(lines), skipped)


def apply_plan(tracker: Tracker, plan: MilestonePlan, attempts: int = 3) -> MilestonePlan:
    """Create the missing milestones and fix the wrong dates; the plan, marked as applied.

    Only the lines that need it are written, and only their wrong fields. A creation that
    fails on the way (its answer lost, a rate limit) is tried again, up to ``attempts`` in
    all, each time after reading the milestones again: it may have been made.
    """
    applied = []
    for line in plan.lines:
        if line.action == CREATE:
            _create(tracker, line, attempts)
            line = replace(line, applied=True)
        elif line.action == FIX and line.current is not None:
            fields = {name: getattr(line, name).isoformat() for name in line.wrong}
            tracker.update_milestone(line.current.id, **fields)
            line = replace(line, applied=True)
        applied.append(line)
    return replace(plan, lines=tuple(applied))


def _create(tracker: Tracker, line: MilestoneLine, attempts: int) -> None:
    write_once(
        lambda: _titled(tracker.milestones(), line.title),
        lambda: Milestone.from_json(
            tracker.create_milestone(
                line.title, line.start_date.isoformat(), line.due_date.isoformat()
            )
        ),
        attempts,
        look_first=False,  # the plan was made from the milestones just read
    )


def _titled(milestones: Sequence[Milestone], title: str) -> Milestone | None:
    return next((milestone for milestone in milestones if milestone.title == title), None)
