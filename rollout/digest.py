"""The Support Week in Review section of Change Management (PRODUCT.md §8).

For the Sunday-to-Saturday week holding the as-of day: the next deployment and what ships
with it, the changes announced this week, those shipped this week, what slipped from the
next deployment's milestone and why, and the deadlines of the next 14 days.

Where §8 is silent (README, "The Support Week in Review"):

- "This week" runs from its Sunday to the as-of day: later days have not happened yet.
- The next deployment is the first one after the as-of day. On a deployment day that day's
  deployment has shipped (as the post rule of §8 has it), so it is under "shipped this week".
- "The next 14 days" are the as-of day and the 14 after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from rollout.board import Deadline, deadline_order, deadlines_of
from rollout.config import Config
from rollout.due import shipped_with
from rollout.issues import Issue
from rollout.markers import Trust, markers_in
from rollout.readiness import (
    SHIPPING_STAGES,
    Assessor,
    Verdict,
    in_milestone,
    may_be_ready,
    may_ship_with,
)
from rollout.release_notes import build_release_notes, change_entry
from rollout.render import Templates
from rollout.safety import FORMATS, Format
from rollout.schedule import Deployment, Schedule
from rollout.trackers import HISTORY, Progress, Tracker
from rollout.workflow import Vocabulary, local_date, read_labels

TEMPLATE_FOR_FORMAT = {"md": "digest.md.j2", "slack": "digest.slack.j2"}
DEADLINE_DAYS = 14


@dataclass(frozen=True)
class Announced:
    issue: Issue
    planned_for: date  # the date the pre-announcement named
    on: date  # the day it was posted


@dataclass(frozen=True)
class Shipped:
    issue: Issue
    on: date  # the deployment it went out with


@dataclass(frozen=True)
class Digest:
    week: date  # its Sunday
    as_of: date
    next_deployment: Deployment
    ships: tuple[Verdict, ...]  # with the next deployment
    slipped: tuple[tuple[Verdict, str], ...]  # from its milestone, and why
    announced: tuple[Announced, ...]
    shipped: tuple[Shipped, ...]
    deadlines: tuple[Deadline, ...]

    @property
    def week_end(self) -> date:
        return self.week + timedelta(days=6)


def week_of(day: date) -> date:
    """The Sunday the Sunday-to-Saturday week holding ``day`` starts on."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


# --------------------------------------------------------------------------- fetching


def digest_issues(
    tracker: Tracker, config: Config, as_of: date, progress: Progress | None = None
) -> list[Issue]:
    """The open issues and those closed since the last deployment before the week (a closed
    Completed change waits for a deployment in the week or the next one), with the history
    each needs: all of it for those readiness is asked about (a shipping stage, or in the
    milestone of the next deployment or of one in the week), the notes of the others updated
    this week (a note posted this week is a change of its issue)."""
    tracker.prefetch_user()
    schedule = Schedule(config)
    zone = config.schedule.zone
    week = week_of(as_of)
    since = schedule.previous_deployment(week).date + timedelta(days=1)
    listed = tracker.list_recent(datetime.combine(since, time(0, 0), tzinfo=zone), history=())
    issues = tracker.records(listed)
    vocabulary = Vocabulary.from_config(config)
    deployments = [*_in_week(schedule, week, as_of), _next_after(schedule, as_of)]
    judged = [
        issue
        for issue in issues
        if may_be_ready(issue, vocabulary) or any(in_milestone(issue, d) for d in deployments)
    ]
    wanted = {issue.iid for issue in judged}
    this_week = datetime.combine(week, time(0, 0), tzinfo=zone)
    touched = [i for i in issues if i.iid not in wanted and i.updated_at >= this_week]
    fetched = [
        *tracker.with_history(judged, HISTORY, progress),
        *tracker.with_history(touched, ("notes",), progress),
    ]
    return sorted(fetched, key=lambda issue: issue.iid)


def _next_after(schedule: Schedule, day: date) -> Deployment:
    return schedule.next_deployment(day + timedelta(days=1))


def _in_week(schedule: Schedule, week: date, as_of: date) -> list[Deployment]:
    found = []
    for deployment in schedule.iter_from(week):
        if deployment.date > as_of:
            break
        found.append(deployment)
    return found


# --------------------------------------------------------------------------- building


def build_digest(
    issues: list[Issue], config: Config, as_of: date, trust: Trust, schedule: Schedule | None = None
) -> Digest:
    schedule = schedule or Schedule(config)
    week = week_of(as_of)
    zone = config.schedule.zone
    upcoming = _next_after(schedule, as_of)
    assessor = Assessor(config, schedule, trust)
    # The deployments a change may have gone out with, latest first: this week's so far,
    # and the last one before the week.
    passed = [*_in_week(schedule, week, as_of)[::-1], schedule.previous_deployment(week)]

    def this_week(moment: datetime) -> date | None:
        day = local_date(moment, zone)
        return day if week <= day <= as_of else None

    announced: dict[tuple[int, date], Announced] = {}
    shipped: dict[int, Shipped] = {}
    gone: set[int] = set()  # shipped already: not waiting for the next deployment
    for issue in issues:
        for posted in markers_in(issue.notes, trust):
            marker = posted.marker
            if marker.phase == "post" and marker.deploy_date <= as_of:
                gone.add(issue.iid)
            on = this_week(posted.note.created_at)
            if on is not None and marker.phase == "pre":
                key = (issue.iid, marker.deploy_date)
                announced.setdefault(key, Announced(issue, marker.deploy_date, on))
            elif on is not None and marker.phase == "post":
                shipped.setdefault(issue.iid, Shipped(issue, marker.deploy_date))
        reading = read_labels(issue.labels, assessor.vocabulary)
        if reading.stage not in SHIPPING_STAGES:
            continue  # neither ready nor Completed: it has not shipped
        day = shipped_with(issue, reading, passed, as_of, assessor)
        if day is not None:
            gone.add(issue.iid)
            if day >= week:
                shipped.setdefault(issue.iid, Shipped(issue, day))
    waiting = [
        issue
        for issue in issues
        if issue.iid not in gone and may_ship_with(issue, upcoming, assessor.vocabulary)
    ]
    notes = build_release_notes(waiting, upcoming, as_of, config, trust)
    return Digest(
        week=week,
        as_of=as_of,
        next_deployment=upcoming,
        ships=notes.shipped,
        slipped=notes.slipped,
        announced=tuple(sorted(announced.values(), key=lambda a: (a.on, a.issue.iid))),
        shipped=tuple(sorted(shipped.values(), key=lambda s: (s.on, s.issue.iid))),
        deadlines=_deadlines(schedule, as_of, as_of + timedelta(days=DEADLINE_DAYS)),
    )


def _deadlines(schedule: Schedule, first: date, last: date) -> tuple[Deadline, ...]:
    """The sign-off cut-offs and announce-by dates from ``first`` to ``last``."""
    found: list[Deadline] = []
    for deployment in schedule.iter_from(first):
        days = deadlines_of(deployment)
        found += [d for d in days if first <= d.day <= last]
        if min(d.day for d in days) > last:
            break
    return tuple(sorted(found, key=deadline_order))


def digest(
    tracker: Tracker, config: Config, as_of: date, progress: Progress | None = None
) -> Digest:
    issues = digest_issues(tracker, config, as_of, progress)
    return build_digest(issues, config, as_of, tracker.trust(config.announce.posters))


# --------------------------------------------------------------------------- rendering


def digest_context(result: Digest, config: Config, fmt: Format) -> dict[str, Any]:
    """The variables of digest.md.j2 and digest.slack.j2 (documented in the README)."""
    upcoming = result.next_deployment

    def entry(issue: Issue, **more: Any) -> dict[str, Any]:
        change = change_entry(issue, config, fmt, more.pop("reason", None))
        return {**change, "who": change["customers"], **more}

    return {
        "week": {"start": result.week, "end": result.week_end, "as_of": result.as_of},
        "next": {
            "date": upcoming.date,
            "weekday": upcoming.weekday,
            "milestone": upcoming.milestone,
            "time": f"{upcoming.start:%H:%M}" if upcoming.start else None,
            "timezone": upcoming.timezone,
            "days": (upcoming.date - result.as_of).days,
            "changes": [entry(verdict.issue) for verdict in result.ships],
            "slipped": [entry(verdict.issue, reason=why) for verdict, why in result.slipped],
        },
        "announced": [entry(a.issue, date=a.planned_for, on=a.on) for a in result.announced],
        "shipped": [entry(s.issue, date=s.on) for s in result.shipped],
        "deadlines": [
            {
                "date": d.day,
                "weekday": f"{d.day:%A}",
                "what": d.what,
                "criticality": d.criticality,
                "deployment": d.deployment.date,
            }
            for d in result.deadlines
        ],
    }


def render_digest(
    result: Digest, fmt: str, config: Config, templates: Templates | None = None
) -> str:
    templates = templates or Templates(config.templates_dir)
    context = digest_context(result, config, FORMATS[fmt])
    return templates.render(TEMPLATE_FOR_FORMAT[fmt], context).rstrip("\n") + "\n"
