"""The calendar feeds: what goes into deployments.ics and deadlines.ics.

This module decides the events (their UIDs, dates and template-rendered text); the
iCalendar encoding and the change memory are rollout.ical's job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rollout.announce import announcement_context
from rollout.config import Config, add_months
from rollout.files import write_all_atomically
from rollout.ical import FeedEvent, build_feed
from rollout.readiness import Verdict
from rollout.render import Templates
from rollout.safety import FORMATS
from rollout.schedule import Deployment, Schedule

DEPLOYMENTS = "deployments.ics"
DEADLINES = "deadlines.ics"
CHANGES = "changes.ics"
_REMINDER_LENGTH = timedelta(minutes=30)


@dataclass(frozen=True)
class Feed:
    filename: str
    name: str
    events: tuple[FeedEvent, ...]


def _uid(kind: str, key: str, config: Config) -> str:
    return f"{kind}-{key}@{config.calendar.domain}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "freeze"


def _all_day(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def deployment_feed(
    deployments: Sequence[Deployment], config: Config, templates: Templates
) -> Feed:
    """One event per deployment, keyed by its period so a moved date keeps its UID."""
    events = []
    for deployment in deployments:
        context = {"deployment": deployment, "config": config}
        start: date | datetime
        end: date | datetime
        if deployment.start is not None:
            start = deployment.start
            end = deployment.start + config.calendar.duration.as_timedelta()
        else:
            start, end = _all_day(deployment.date)
        events.append(
            FeedEvent(
                uid=_uid("deployment", deployment.period_key, config),
                summary=templates.render_block("deployment.ics.j2", "summary", context),
                description=templates.render_block("deployment.ics.j2", "description", context),
                start=start,
                end=end,
                categories=("Deployment",),
                busy=deployment.start is not None,
            )
        )
    return Feed(DEPLOYMENTS, config.calendar.name, tuple(events))


def deadline_feed(
    deployments: Sequence[Deployment],
    config: Config,
    templates: Templates,
    first: date,
    last: date,
) -> Feed:
    """Sign-off cut-offs, announce-by dates, reminders, and freezes from ``first`` to ``last``."""
    events: list[FeedEvent] = []
    for deployment in deployments:
        context = {"deployment": deployment, "config": config}
        events.append(
            _deadline(
                "signoff.ics.j2",
                "signoff",
                deployment,
                deployment.signoff_cutoff,
                context,
                config,
                templates,
            )
        )
        for criticality, notice in config.notice.by_criticality.items():
            if notice.amount == 0 or deployment.is_frozen_for(criticality):
                continue
            events.append(
                _deadline(
                    "announce_by.ics.j2",
                    f"announce-{criticality.lower()}",
                    deployment,
                    deployment.announce_by[criticality],
                    {**context, "criticality": criticality, "notice": notice},
                    config,
                    templates,
                )
            )
        events.append(_reminder(deployment, context, config, templates))
    events.extend(_freeze_events(config, templates, first, last))
    return Feed(DEADLINES, f"{config.calendar.name}: deadlines", tuple(events))


def _deadline(
    template: str,
    kind: str,
    deployment: Deployment,
    day: date,
    context: dict[str, object],
    config: Config,
    templates: Templates,
) -> FeedEvent:
    start, end = _all_day(day)
    return FeedEvent(
        uid=_uid(kind, deployment.period_key, config),
        summary=templates.render_block(template, "summary", context),
        description=templates.render_block(template, "description", context),
        start=start,
        end=end,
        categories=("Deadline",),
    )


def _reminder(
    deployment: Deployment, context: dict[str, object], config: Config, templates: Templates
) -> FeedEvent:
    start: date | datetime
    end: date | datetime
    if deployment.start is not None:
        start, end = deployment.reminder, deployment.reminder + _REMINDER_LENGTH
    else:
        start, end = _all_day(deployment.reminder.date())
    return FeedEvent(
        uid=_uid("reminder", deployment.period_key, config),
        summary=templates.render_block("reminder.ics.j2", "summary", context),
        description=templates.render_block("reminder.ics.j2", "description", context),
        start=start,
        end=end,
        categories=("Reminder",),
    )


def _freeze_events(
    config: Config, templates: Templates, first: date, last: date
) -> list[FeedEvent]:
    events = []
    for freeze in config.freezes:
        for start, end in freeze.windows(first.year - 1, last.year):
            if end < first or start > last:
                continue
            context = {"freeze": freeze, "first_day": start, "last_day": end, "config": config}
            events.append(
                FeedEvent(
                    uid=_uid(f"freeze-{_slug(freeze.name)}", f"{start:%Y-%m-%d}", config),
                    summary=templates.render_block("freeze.ics.j2", "summary", context),
                    description=templates.render_block("freeze.ics.j2", "description", context),
                    start=start,
                    end=end + timedelta(days=1),
                    categories=("Freeze",),
                )
            )
    return events


def change_feed(
    verdicts: Sequence[Verdict], config: Config, templates: Templates, first: date, last: date
) -> Feed:
    """One event per ready issue on its ships-on date, keyed by the issue.

    An issue whose date moves keeps its UID (and gets SEQUENCE + 1); one that no longer
    ships is left out, and calendar apps drop it on their next refresh.
    """
    schedule = Schedule(config)
    events = []
    for verdict in verdicts:
        day = verdict.ships_on
        if day is None or not first <= day <= last:
            continue
        issue = verdict.issue
        context = announcement_context(issue, "pre", day, day, config, FORMATS["ics"])
        deployment = schedule.deployment_on(day) if verdict.deployment_type == "standard" else None
        start: date | datetime
        end: date | datetime
        if deployment is not None and deployment.start is not None:
            start = deployment.start
            end = start + config.calendar.duration.as_timedelta()
        else:
            start, end = _all_day(day)
        events.append(
            FeedEvent(
                uid=_uid("change", f"{issue.project_id}-{issue.iid}", config),
                summary=templates.render_block("change.ics.j2", "summary", context),
                description=templates.render_block("change.ics.j2", "description", context),
                start=start,
                end=end,
                url=context["issue"]["url"] or None,
                categories=("Change",),
            )
        )
    return Feed(CHANGES, f"{config.calendar.name}: changes", tuple(events))


def encode_feeds(
    feeds: Sequence[Feed], out_dir: Path, config: Config, now: datetime
) -> dict[Path, bytes]:
    """Each feed's bytes, stamped against the version already in ``out_dir``."""
    encoded = {}
    for feed in feeds:
        path = out_dir / feed.filename
        try:
            previous = path.read_bytes()
        except OSError:
            previous = None
        encoded[path] = build_feed(
            name=feed.name,
            uid=_uid("calendar", feed.filename.removesuffix(".ics"), config),
            timezone=config.schedule.timezone,
            refresh=config.calendar.refresh.as_timedelta(),
            events=feed.events,
            previous=previous,
            now=now,
        )
    return encoded


def write_feeds(feeds: Sequence[Feed], out_dir: Path, config: Config, now: datetime) -> list[Path]:
    """Encode every feed, then write each atomically; returns the paths written."""
    encoded = encode_feeds(feeds, out_dir, config, now)
    write_all_atomically(encoded)
    return list(encoded)


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set, for reproducible builds of the feeds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC)


def write_calendars(
    config: Config,
    start: date,
    months: int,
    out_dir: Path,
    now: datetime,
    changes: Sequence[Verdict] | None = None,
) -> list[Path]:
    """Compute the schedule from the month of ``start`` and write the feeds into ``out_dir``:
    deployments and deadlines always, changes.ics when ``changes`` (ready verdicts) are given."""
    templates = Templates(config.templates_dir)
    deployments = Schedule(config).deployments(start, months)
    first = start.replace(day=1)
    last = add_months(first, months) - timedelta(days=1)
    feeds = [
        deployment_feed(deployments, config, templates),
        deadline_feed(deployments, config, templates, first, last),
    ]
    if changes is not None:
        feeds.append(change_feed(changes, config, templates, first, last))
    return write_feeds(feeds, out_dir, config, now)
