"""Change Management announcements: before a change ships, reminders, and after it is live.

The context handed to the templates is built here from an issue, with every piece of
issue text already made safe for the output format (rollout.safety). Posting to the
issue is idempotent: the note carries a hidden marker, and a marker already on the
issue means the announcement was made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rollout.config import Config
from rollout.descriptions import section
from rollout.errors import RolloutError
from rollout.issues import Issue, Note
from rollout.markers import Marker, Trust, markers_in
from rollout.posting import PostOutcome, post_once
from rollout.readiness import DEPLOYMENT_NAMES, SHIPPING_STAGES, Assessor
from rollout.safety import FORMATS, Format, safe_url
from rollout.schedule import Schedule
from rollout.trackers import Tracker
from rollout.workflow import Vocabulary, local_date, read_labels

if TYPE_CHECKING:  # jinja2 is loaded only when a text is rendered
    from rollout.render import Templates

TEMPLATE_FOR_FORMAT = {
    "md": "announce.md.j2",
    "slack": "announce.slack.j2",
    "text": "announce.txt.j2",
}


class AnnouncementError(RolloutError):
    """The announcement cannot be made (yet): no date, or the wrong time for this phase."""


@dataclass(frozen=True)
class Announcement:
    iid: int
    phase: str
    deploy_date: date
    text: str
    marker: Marker
    # Why it may only be shown as a draft, not posted yet: a post-announcement before the
    # change's date (PRODUCT.md §3 "Posting"). None when it may be posted.
    draft_only: str | None = None

    def check_postable(self) -> None:
        if self.draft_only is not None:
            raise AnnouncementError(self.draft_only)


def announcement_date(issue: Issue, phase: str, as_of: date, assessor: Assessor) -> date:
    """The deployment date an announcement names.

    Before the change ships this is the planned date of PRODUCT.md §6. Once it has
    shipped, the rule would name the next deployment, so a post-announcement names the
    date the last pre-announcement or reminder announced, else the date the rule gave
    on the day the change was signed off.
    """
    if phase == "post":
        announced = [
            posted.marker.deploy_date
            for posted in markers_in(issue.notes, assessor.trust)
            if posted.marker.phase in ("pre", "reminder")
        ]
        if announced:
            return announced[-1]
        signoff = assessor.signoff(issue)
        if signoff.given and signoff.at is not None:
            as_of = min(as_of, local_date(signoff.at, assessor.zone))
    planned = assessor.planned_date(issue, as_of)
    if planned.day is None:
        raise AnnouncementError(f"cannot announce #{issue.iid}: {planned.problem}")
    return planned.day


def nothing_to_announce(issue: Issue, phase: str, assessor: Assessor) -> str | None:
    """Why there is no change to announce, for a draft that may not be posted: incidents
    are never scheduled (§1), and a post-announcement says a change went live, which one
    closed without Stage::Completed or not yet in a shipping stage did not (§8)."""
    reading = read_labels(issue.labels, assessor.vocabulary)
    if reading.request_type == "incident":
        return f"#{issue.iid} is an incident: incidents are never scheduled or announced"
    if phase == "post" and reading.stage not in SHIPPING_STAGES:
        return f"#{issue.iid} has not shipped (it is not in Implementation or Completed)"
    if phase == "post" and not issue.is_open and reading.stage != "completed":
        return f"#{issue.iid} was closed without Stage::Completed: it did not ship"
    return None


def check_timing(phase: str, deploy_date: date, as_of: date, iid: int) -> str | None:
    """Raise for a reminder after the date; for a post-announcement before it, the reason it
    is a draft only."""
    if phase == "post" and as_of < deploy_date:
        return f"#{iid} ships on {deploy_date}; the post-announcement can go out from that day on"
    if phase == "reminder" and as_of > deploy_date:
        raise AnnouncementError(
            f"#{iid} shipped on {deploy_date}; send the post-announcement (--phase post) instead"
        )
    return None


def announcement_context(
    issue: Issue,
    phase: str,
    deploy_date: date,
    as_of: date,
    config: Config,
    fmt: Format,
    schedule: Schedule | None = None,
    moved_from: date | None = None,
) -> dict[str, Any]:
    """The variables every announcement template gets (documented in the README);
    ``moved_from`` is the date an earlier pre-announcement named, when it moved."""
    reading = read_labels(issue.labels, Vocabulary.from_config(config))
    settings = config.announce
    kind = reading.deployment_type or "standard"
    schedule = schedule or Schedule(config)
    deployment = schedule.deployment_on(deploy_date) if kind == "standard" else None
    criticality = reading.criticality
    notice = config.notice.by_criticality.get(criticality) if criticality else None
    return {
        "phase": phase,
        "today": as_of,
        "issue": {
            "iid": issue.iid,
            "reference": f"#{issue.iid}",
            "title": fmt.inline(issue.title),
            "url": safe_url(issue.web_url),
            "what": fmt.block(section(issue.description, settings.what_headings)),
            "why": fmt.block(section(issue.description, settings.why_headings)),
            "other": fmt.block(section(issue.description, settings.other_headings)),
            "requester": fmt.inline(issue.author.name or issue.author.username),
            "assignees": [fmt.inline(person.name or person.username) for person in issue.assignees],
            "criticality": criticality,
            "notice": str(notice) if notice and notice.amount else None,
            "customers": [fmt.inline(customer) for customer in reading.customers],
        },
        "who": [fmt.inline(settings.audiences.get(c) or c) for c in reading.customers],
        "when": {
            "date": deploy_date,
            "weekday": f"{deploy_date:%A}",
            "deployment_type": DEPLOYMENT_NAMES[kind],
            "time": f"{deployment.start:%H:%M}" if deployment and deployment.start else None,
            "timezone": config.schedule.timezone,
            "milestone": deployment.milestone if deployment else None,
            "days": (deploy_date - as_of).days,
            "moved_from": moved_from,
        },
    }


def render_announcement(
    issue: Issue,
    phase: str,
    fmt: str,
    as_of: date,
    config: Config,
    trust: Trust,
    templates: Templates | None = None,
) -> Announcement:
    """The announcement of ``phase`` for the issue; ``trust`` says whose markers count."""
    assessor = Assessor(config, trust=trust)
    deploy_date = announcement_date(issue, phase, as_of, assessor)
    draft_only = nothing_to_announce(issue, phase, assessor) or check_timing(
        phase, deploy_date, as_of, issue.iid
    )
    moved_from = earlier_date(issue, deploy_date, trust) if phase == "pre" else None
    return compose_announcement(
        issue,
        phase,
        deploy_date,
        fmt,
        as_of,
        config,
        moved_from=moved_from,
        templates=templates,
        schedule=assessor.schedule,
        draft_only=draft_only,
    )


def earlier_date(issue: Issue, deploy_date: date, trust: Trust) -> date | None:
    """The date the last trusted pre-announcement named, when it is not ``deploy_date``: the
    change moved, and the new pre-announcement says so."""
    named = [
        posted.marker.deploy_date
        for posted in markers_in(issue.notes, trust)
        if posted.marker.phase == "pre"
    ]
    return named[-1] if named and named[-1] != deploy_date else None


def compose_announcement(
    issue: Issue,
    phase: str,
    deploy_date: date,
    fmt: str,
    as_of: date,
    config: Config,
    *,
    moved_from: date | None = None,
    templates: Templates | None = None,
    schedule: Schedule | None = None,
    draft_only: str | None = None,
) -> Announcement:
    """The announcement of ``phase`` naming ``deploy_date``, as posted on ``as_of``;
    ``draft_only`` says why it may not be posted yet."""
    context = announcement_context(
        issue, phase, deploy_date, as_of, config, FORMATS[fmt], schedule, moved_from
    )
    from rollout.render import Templates

    templates = templates or Templates(config.templates_dir)
    text = templates.render(TEMPLATE_FOR_FORMAT[fmt], context)
    marker = Marker(phase, deploy_date, as_of if phase == "reminder" else None)
    return Announcement(issue.iid, phase, deploy_date, text.rstrip("\n") + "\n", marker, draft_only)


# --------------------------------------------------------------------------- posting


def note_body(announcement: Announcement) -> str:
    return f"{announcement.text.rstrip()}\n\n{announcement.marker.render()}\n"


def find_marker(notes: Sequence[Note], marker: Marker, trust: Trust) -> Note | None:
    for posted in markers_in(notes, trust):
        if posted.marker == marker:
            return posted.note
    return None


def post_announcement(
    tracker: Tracker, announcement: Announcement, trust: Trust, attempts: int = 3
) -> PostOutcome:
    """Post the announcement unless its marker is already on the issue in a trusted note."""
    announcement.check_postable()
    return post_once(
        tracker,
        announcement.iid,
        note_body(announcement),
        lambda notes: find_marker(notes, announcement.marker, trust),
        attempts,
    )


def describe(outcome: PostOutcome, announcement: Announcement) -> str:
    when = outcome.note.created_at.date()
    if outcome.posted:
        return (
            f"posted the {announcement.phase} announcement to #{announcement.iid} "
            f"(note {outcome.note.id})"
        )
    return (
        f"the {announcement.phase} announcement for {announcement.deploy_date} is already on "
        f"#{announcement.iid} (note {outcome.note.id} of {when}); nothing posted"
    )
