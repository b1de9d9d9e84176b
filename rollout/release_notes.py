"""Monthly release notes: what one deployment shipped, and what slipped from its milestone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta

from rollout.config import Config
from rollout.errors import RolloutError
from rollout.issues import Issue
from rollout.markers import Trust
from rollout.readiness import (
    DEPLOYMENT_NAMES,
    Assessor,
    Verdict,
    evaluation_date,
    in_milestone,
)
from rollout.safety import FORMATS, Format, safe_url
from rollout.schedule import Deployment, Schedule
from rollout.trackers import HistoryPlan, IssueQuery, Tracker
from rollout.workflow import Vocabulary, read_labels

if TYPE_CHECKING:  # jinja2 is loaded only when a text is rendered
    from rollout.render import Templates

GROUPS = (("feature", "Features"), ("bug", "Bugs"), ("administrative", "Administrative"))
TEMPLATE_FOR_FORMAT = {"md": "notes.md.j2", "html": "notes.html.j2"}


@dataclass(frozen=True)
class ReleaseNotes:
    deployment: Deployment
    shipped: tuple[Verdict, ...]  # ready for this date, or Completed in its milestone
    slipped: tuple[tuple[Verdict, str], ...]  # in its milestone but not shipping then, and why


def deployment_named(schedule: Schedule, day: date) -> Deployment:
    deployment = schedule.deployment_on(day)
    if deployment is None:
        nearest = schedule.next_deployment(day)
        raise RolloutError(
            f"no deployment on {day}; the next one is {nearest.date} ({nearest.milestone})"
        )
    return deployment


def candidate_queries(deployment: Deployment) -> list[IssueQuery]:
    """The lists the notes' issues come from: the open issues, the milestone's closed ones
    (its open ones are among the first), and those closed since the month two months before
    the deployment's period."""
    since = deployment.period.replace(day=1) - relativedelta(months=2)
    return [
        IssueQuery("opened"),
        IssueQuery("closed", milestone=deployment.milestone),
        IssueQuery(
            "closed",
            updated_after=datetime.combine(since, time(0, 0), tzinfo=deployment.zone),
        ),
    ]


def notes_plan(
    listed: Iterable[Issue],
    deployment: Deployment,
    config: Config,
    as_of: date,
    assessor: Assessor | None = None,
) -> HistoryPlan:
    """Of the listed issues, once each, those the notes may name, and what of their
    histories to read: the ones in the milestone (shipped or slipped) and those §6 leaves a
    chance of shipping on its date (see Assessor.may_ship_between); their label events
    first, then links and notes only where they can still change the notes. The plans of
    several deployments share an ``assessor``, which judges each issue once per day."""
    assessor = assessor or Assessor(config)

    def may_ship(issue: Issue, label_events: bool) -> bool:
        day = judging_day(issue, deployment, as_of, config, assessor.vocabulary)
        return assessor.may_ship_between(
            issue, day, deployment.date, deployment.date, label_events=label_events
        )

    found: dict[int, Issue] = {}
    for issue in listed:
        if in_milestone(issue, deployment) or may_ship(issue, False):
            found.setdefault(issue.iid, issue)

    def first(issue: Issue) -> tuple[str, ...]:
        # An issue of the milestone is named whatever else is true: its blockers are read.
        return ("label_events", "links") if in_milestone(issue, deployment) else ("label_events",)

    def then(issue: Issue) -> tuple[str, ...]:
        """Once the sign-off is known: links and notes only where they can change the notes."""
        if not (in_milestone(issue, deployment) or may_ship(issue, True)):
            return ()
        return ("links", "notes") if assessor.reads_announcements(issue) else ("links",)

    issues = tuple(found[iid] for iid in sorted(found))
    return HistoryPlan(issues, {issue.iid: first(issue) for issue in issues}, then)


def candidates(
    tracker: Tracker, deployment: Deployment, config: Config, as_of: date
) -> list[Issue]:
    """The issues the notes may name, with what of their histories the notes need (see
    notes_plan). The three lists are read at the same time."""
    answers = tracker.list_each(candidate_queries(deployment))
    listed = [issue for answer in answers for issue in tracker.records(answer)]
    return tracker.read_history(notes_plan(listed, deployment, config, as_of))


def judging_day(
    issue: Issue, deployment: Deployment, as_of: date, config: Config, vocabulary: Vocabulary
) -> date:
    """The day the notes judge an issue on: its evaluation date, and for a standard change
    no later than the deployment (after it, "the first deployment on or after today" is a
    later one)."""
    day = evaluation_date(issue, as_of, config)
    if read_labels(issue.labels, vocabulary).deployment_type == "standard":
        day = min(day, deployment.date)
    return day


def build_release_notes(
    issues: list[Issue], deployment: Deployment, as_of: date, config: Config, trust: Trust
) -> ReleaseNotes:
    assessor = Assessor(config, trust=trust)
    shipped, slipped = [], []
    for issue in issues:
        verdict, ships = ships_with(issue, deployment, as_of, assessor)
        if ships:
            shipped.append(verdict)
        elif in_milestone(issue, deployment):
            slipped.append((verdict, _why_not(verdict)))
    return ReleaseNotes(deployment, tuple(shipped), tuple(slipped))


def ships_with(
    issue: Issue, deployment: Deployment, as_of: date, assessor: Assessor
) -> tuple[Verdict, bool]:
    """The issue's verdict for ``deployment``, and whether it ships (or shipped) with it:
    ready with that ships-on date, or Completed in its milestone with no other date."""
    reading = read_labels(issue.labels, assessor.vocabulary)
    verdict = assessor.assess(
        issue, judging_day(issue, deployment, as_of, assessor.config, assessor.vocabulary)
    )
    ships_then = verdict.ready and verdict.ships_on == deployment.date
    completed = reading.stage == "completed"
    went_out = in_milestone(issue, deployment) and completed and verdict.ships_on is None
    return verdict, ships_then or went_out


def slip_reasons(verdict: Verdict) -> list[str]:
    """Why an issue of the milestone does not ship with it: the later date it is ready
    for, else each failed error-level check."""
    if verdict.ready and verdict.ships_on is not None:
        because = f": {verdict.missed}" if verdict.missed else ""
        return [f"ships {verdict.ships_on} instead{because}"]
    return [f"{check.id}: {check.detail}" for check in verdict.failures if check.level == "error"]


def _why_not(verdict: Verdict) -> str:
    return "; ".join(slip_reasons(verdict))


def release_notes(tracker: Tracker, config: Config, day: date, as_of: date) -> ReleaseNotes:
    deployment = deployment_named(Schedule(config), day)
    tracker.prefetch_user()
    issues = candidates(tracker, deployment, config, as_of)
    trust = tracker.trust(config.announce.posters)
    return build_release_notes(issues, deployment, as_of, config, trust)


def change_entry(
    issue: Issue, config: Config, fmt: Format, reason: str | None = None
) -> dict[str, Any]:
    """One change as the notes and digest templates see it, its text made safe for ``fmt``."""
    reading = read_labels(issue.labels, Vocabulary.from_config(config))
    audiences = config.announce.audiences
    return {
        "iid": issue.iid,
        "reference": f"#{issue.iid}",
        "title": fmt.inline(issue.title),
        "url": safe_url(issue.web_url),
        "requester": fmt.inline(issue.author.name or issue.author.username),
        "customers": [fmt.inline(audiences.get(c) or c) for c in reading.customers],
        "criticality": reading.criticality,
        "deployment_type": DEPLOYMENT_NAMES[reading.deployment_type or "standard"],
        "reason": fmt.inline(reason) if reason else None,
    }


def notes_context(notes: ReleaseNotes, config: Config, fmt: Format) -> dict[str, Any]:
    """The variables of notes.md.j2 and notes.html.j2 (documented in the README)."""
    vocabulary = Vocabulary.from_config(config)

    def entry(verdict: Verdict, reason: str | None = None) -> dict[str, Any]:
        return {
            **change_entry(verdict.issue, config, fmt, reason),
            "request_type": read_labels(verdict.issue.labels, vocabulary).request_type,
            "reasons": [fmt.inline(r) for r in slip_reasons(verdict)] if reason else [],
        }

    groups = []
    for role, heading in GROUPS:
        members = [
            entry(v)
            for v in notes.shipped
            if read_labels(v.issue.labels, vocabulary).request_type == role
        ]
        groups.append({"name": heading, "issues": members})
    deployment = notes.deployment
    return {
        "deployment": {
            "date": deployment.date,
            "weekday": deployment.weekday,
            "milestone": deployment.milestone,
            "time": f"{deployment.start:%H:%M}" if deployment.start else None,
            "timezone": deployment.timezone,
        },
        "groups": groups,
        "shipped_count": len(notes.shipped),
        "slipped": [entry(verdict, reason) for verdict, reason in notes.slipped],
    }


def render_release_notes(
    notes: ReleaseNotes, fmt: str, config: Config, templates: Templates | None = None
) -> str:
    from rollout.render import Templates

    templates = templates or Templates(config.templates_dir)
    context = notes_context(notes, config, FORMATS[fmt])
    return templates.render(TEMPLATE_FOR_FORMAT[fmt], context).rstrip("\n") + "\n"
