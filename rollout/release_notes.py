"""Monthly release notes: what one deployment shipped, and what slipped from its milestone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

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
    may_ship_with,
)
from rollout.render import Templates
from rollout.safety import FORMATS, Format, safe_url
from rollout.schedule import Deployment, Schedule
from rollout.trackers import HISTORY, IssueQuery, Tracker
from rollout.workflow import Vocabulary, read_labels

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


def candidates(tracker: Tracker, deployment: Deployment, config: Config) -> list[Issue]:
    """The issues the notes may name, with their histories: of the open issues, the
    milestone's issues and those closed since the period before, the ones readiness can
    say something about for this deployment (see may_ship_with)."""
    since = deployment.period.replace(day=1) - relativedelta(months=2)
    queries = [
        IssueQuery("opened"),
        IssueQuery("all", milestone=deployment.milestone),
        IssueQuery(
            "closed",
            updated_after=datetime.combine(since, time(0, 0), tzinfo=deployment.zone),
        ),
    ]
    vocabulary = Vocabulary.from_config(config)
    found: dict[int, Issue] = {}
    for query in queries:
        for issue in tracker.list_issues(query, history=()):
            if may_ship_with(issue, deployment, vocabulary):
                found.setdefault(issue.iid, issue)
    return tracker.with_history([found[iid] for iid in sorted(found)], HISTORY)


def build_release_notes(
    issues: list[Issue], deployment: Deployment, as_of: date, config: Config, trust: Trust
) -> ReleaseNotes:
    assessor = Assessor(config, trust=trust)
    vocabulary = Vocabulary.from_config(config)
    shipped, slipped = [], []
    for issue in issues:
        reading = read_labels(issue.labels, vocabulary)
        day = evaluation_date(issue, as_of, config)
        if reading.deployment_type == "standard":
            # After the deployment, "the first deployment on or after today" is a later one.
            day = min(day, deployment.date)
        verdict = assessor.assess(issue, day)
        planned = in_milestone(issue, deployment)
        completed = reading.stage == "completed"
        ships_then = verdict.ready and verdict.ships_on == deployment.date
        went_out = planned and completed and verdict.ships_on is None
        if ships_then or went_out:
            shipped.append(verdict)
        elif planned:
            slipped.append((verdict, _why_not(verdict)))
    return ReleaseNotes(deployment, tuple(shipped), tuple(slipped))


def _why_not(verdict: Verdict) -> str:
    if verdict.ready and verdict.ships_on is not None:
        because = f": {verdict.missed}" if verdict.missed else ""
        return f"ships {verdict.ships_on} instead{because}"
    return "; ".join(
        f"{check.id}: {check.detail}" for check in verdict.failures if check.level == "error"
    )


def release_notes(tracker: Tracker, config: Config, day: date, as_of: date) -> ReleaseNotes:
    deployment = deployment_named(Schedule(config), day)
    tracker.prefetch_user()
    issues = candidates(tracker, deployment, config)
    trust = tracker.trust(config.announce.posters)
    return build_release_notes(issues, deployment, as_of, config, trust)


def notes_context(notes: ReleaseNotes, config: Config, fmt: Format) -> dict[str, Any]:
    """The variables of notes.md.j2 and notes.html.j2 (documented in the README)."""
    vocabulary = Vocabulary.from_config(config)
    audiences = config.announce.audiences

    def entry(verdict: Verdict, reason: str | None = None) -> dict[str, Any]:
        issue = verdict.issue
        reading = read_labels(issue.labels, vocabulary)
        return {
            "iid": issue.iid,
            "reference": f"#{issue.iid}",
            "title": fmt.inline(issue.title),
            "url": safe_url(issue.web_url),
            "requester": fmt.inline(issue.author.name or issue.author.username),
            "customers": [fmt.inline(audiences.get(c) or c) for c in reading.customers],
            "criticality": reading.criticality,
            "deployment_type": DEPLOYMENT_NAMES[verdict.deployment_type or "standard"],
            "reason": fmt.inline(reason) if reason else None,
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
    templates = templates or Templates(config.templates_dir)
    context = notes_context(notes, config, FORMATS[fmt])
    return templates.render(TEMPLATE_FOR_FORMAT[fmt], context).rstrip("\n") + "\n"
