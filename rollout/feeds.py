"""The calendar feeds: what goes into deployments.ics and deadlines.ics.

This module decides the events (their UIDs, dates and template-rendered text); the
iCalendar encoding and the change memory are rollout.ical's job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from rollout.announce import announcement_context
from rollout.config import Config
from rollout.errors import RolloutError
from rollout.files import directory_lock, remove_stale_temporaries, write_all_atomically
from rollout.ical import FeedEvent, build_feed
from rollout.readiness import Verdict
from rollout.render import Templates
from rollout.safety import FORMATS
from rollout.schedule import Deployment, Schedule

DEPLOYMENTS = "deployments.ics"
DEADLINES = "deadlines.ics"
CHANGES = "changes.ics"
FEED_FILES = (DEPLOYMENTS, DEADLINES, CHANGES)
_REMINDER_LENGTH = timedelta(minutes=30)


@dataclass(frozen=True)
class Feed:
    filename: str
    name: str
    events: tuple[FeedEvent, ...]


def feed_names(config: Config, changes: bool) -> dict[str, str]:
    """Each feed's file name and the name calendar apps show, in the order to list them;
    changes.ics only when ``changes``."""
    names = {DEPLOYMENTS: config.calendar.name, DEADLINES: f"{config.calendar.name}: deadlines"}
    if changes:
        names[CHANGES] = f"{config.calendar.name}: changes"
    return names


def _uid(kind: str, key: str, config: Config) -> str:
    return f"{kind}-{key}@{config.calendar.domain}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "freeze"


def _all_day(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


Slot = tuple[date | datetime, date | datetime]


def _deployment_slot(deployment: Deployment | None, day: date, config: Config) -> Slot:
    """A timed deployment's hour, else the whole ``day``."""
    if deployment is not None and deployment.start is not None:
        return deployment.start, config.calendar.duration.after(deployment.start)
    return _all_day(day)


def _event(
    templates: Templates,
    template: str,
    context: Mapping[str, Any],
    uid: str,
    slot: Slot,
    category: str,
    **extra: Any,
) -> FeedEvent:
    """An event whose summary and description are the template's two blocks."""
    summary, description = templates.render_blocks(template, ("summary", "description"), context)
    return FeedEvent(
        uid=uid,
        summary=summary,
        description=description,
        start=slot[0],
        end=slot[1],
        categories=(category,),
        **extra,
    )


def deployment_feed(
    deployments: Sequence[Deployment], config: Config, templates: Templates
) -> Feed:
    """One event per deployment, keyed by its period so a moved date keeps its UID."""
    events = [
        _event(
            templates,
            "deployment.ics.j2",
            {"deployment": deployment, "config": config},
            _uid("deployment", deployment.period_key, config),
            _deployment_slot(deployment, deployment.date, config),
            "Deployment",
            busy=deployment.start is not None,
        )
        for deployment in deployments
    ]
    return Feed(DEPLOYMENTS, feed_names(config, False)[DEPLOYMENTS], tuple(events))


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
        key = deployment.period_key
        events.append(
            _event(
                templates,
                "signoff.ics.j2",
                context,
                _uid("signoff", key, config),
                _all_day(deployment.signoff_cutoff),
                "Deadline",
            )
        )
        for criticality, notice in config.notice.by_criticality.items():
            if notice.amount == 0 or deployment.is_frozen_for(criticality):
                continue
            events.append(
                _event(
                    templates,
                    "announce_by.ics.j2",
                    {**context, "criticality": criticality, "notice": notice},
                    _uid(f"announce-{criticality.lower()}", key, config),
                    _all_day(deployment.announce_by[criticality]),
                    "Deadline",
                )
            )
        reminder: Slot = _all_day(deployment.reminder.date())
        if deployment.start is not None:
            reminder = deployment.reminder, deployment.reminder + _REMINDER_LENGTH
        events.append(
            _event(
                templates,
                "reminder.ics.j2",
                context,
                _uid("reminder", key, config),
                reminder,
                "Reminder",
            )
        )
    events.extend(_freeze_events(config, templates, first, last))
    return Feed(DEADLINES, feed_names(config, False)[DEADLINES], tuple(events))


def _freeze_events(
    config: Config, templates: Templates, first: date, last: date
) -> list[FeedEvent]:
    events = []
    for freeze in config.freezes:
        for start, end in freeze.windows(first.year - 1, last.year):
            if end < first or start > last:
                continue
            events.append(
                _event(
                    templates,
                    "freeze.ics.j2",
                    {"freeze": freeze, "first_day": start, "last_day": end, "config": config},
                    _uid(f"freeze-{_slug(freeze.name)}", start.isoformat(), config),
                    (start, end + timedelta(days=1)),
                    "Freeze",
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
        context = announcement_context(issue, "pre", day, day, config, FORMATS["ics"], schedule)
        standard = verdict.deployment_type == "standard"
        events.append(
            _event(
                templates,
                "change.ics.j2",
                context,
                _uid("change", f"{issue.project_id}-{issue.iid}", config),
                _deployment_slot(schedule.deployment_on(day) if standard else None, day, config),
                "Change",
                url=context["issue"]["url"] or None,
            )
        )
    return Feed(CHANGES, feed_names(config, True)[CHANGES], tuple(events))


Previous = Callable[[str], bytes | None]  # a feed's file name -> its last version, if any


def encode_feeds(
    feeds: Sequence[Feed], previous: Previous, config: Config, now: datetime
) -> dict[str, bytes]:
    """Each feed's bytes by file name, stamped against its ``previous`` version."""
    return {
        feed.filename: build_feed(
            name=feed.name,
            uid=_uid("calendar", feed.filename.removesuffix(".ics"), config),
            timezone=config.schedule.timezone,
            refresh=config.calendar.refresh.as_timedelta(),
            events=feed.events,
            previous=previous(feed.filename),
            now=now,
        )
        for feed in feeds
    }


def previous_in(directory: Path) -> Previous:
    """Previous versions read from the files in ``directory`` (none when missing)."""

    def read(filename: str) -> bytes | None:
        try:
            return (directory / filename).read_bytes()
        except OSError:
            return None

    return read


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set, for reproducible builds of the feeds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isascii() and epoch.isdigit():
        try:
            return datetime.fromtimestamp(int(epoch[:20]), tz=UTC)
        except (OverflowError, ValueError, OSError):
            raise RolloutError(
                f"SOURCE_DATE_EPOCH={epoch[:20]} is not a time before the year 10000"
            ) from None
    return datetime.now(UTC)


def calendar_files(
    config: Config,
    start: date,
    months: int,
    previous: Previous,
    now: datetime,
    changes: Callable[[], Sequence[Verdict]] | None = None,
    templates: Templates | None = None,
) -> dict[str, bytes]:
    """The feeds of the deployment periods from the month of ``start``, by file name:
    deployments and deadlines always, changes.ics when ``changes`` is given. ``changes`` is
    called once the other feeds are ready (see rollout.changes.ready_changes_in_background).
    ``previous`` is each feed's memory: a changed event gets SEQUENCE + 1."""
    templates = templates or Templates(config.templates_dir)
    deployments = Schedule(config).deployments(start, months)
    first = start.replace(day=1)
    last = first + relativedelta(months=months, days=-1)
    feeds = [
        deployment_feed(deployments, config, templates),
        deadline_feed(deployments, config, templates, first, last),
    ]
    encoded = encode_feeds(feeds, previous, config, now)
    if changes is not None:
        feed = change_feed(changes(), config, templates, first, last)
        encoded.update(encode_feeds([feed], previous, config, now))
    return encoded


def write_calendars(
    config: Config,
    start: date,
    months: int,
    out_dir: Path,
    now: datetime,
    changes: Callable[[], Sequence[Verdict]] | None = None,
) -> list[Path]:
    """Write the feeds of calendar_files into ``out_dir``, whose files are their memory;
    an error from ``changes`` means nothing is written. One run at a time writes into
    ``out_dir`` (directory_lock), so its feeds never mix with another run's, and each is
    stamped against the version the run before it left."""
    with directory_lock(out_dir):
        remove_stale_temporaries(out_dir, FEED_FILES)
        files = calendar_files(config, start, months, previous_in(out_dir), now, changes)
        encoded = {out_dir / name: content for name, content in files.items()}
        write_all_atomically(encoded)
    return list(encoded)
