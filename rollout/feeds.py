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
        return deployment.start, deployment.start + config.calendar.duration.as_timedelta()
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
    return FeedEvent(
        uid=uid,
        summary=templates.render_block(template, "summary", context),
        description=templates.render_block(template, "description", context),
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
    return Feed(DEADLINES, f"{config.calendar.name}: deadlines", tuple(events))


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
                    _uid(f"freeze-{_slug(freeze.name)}", f"{start:%Y-%m-%d}", config),
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
    return Feed(CHANGES, f"{config.calendar.name}: changes", tuple(events))


def _previous(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def encode_feeds(
    feeds: Sequence[Feed], out_dir: Path, config: Config, now: datetime
) -> dict[Path, tuple[bytes | None, bytes]]:
    """Each feed's bytes, stamped against the version already in ``out_dir``: by path,
    (that version, the new bytes)."""
    encoded = {}
    for feed in feeds:
        path = out_dir / feed.filename
        previous = _previous(path)
        encoded[path] = (
            previous,
            build_feed(
                name=feed.name,
                uid=_uid("calendar", feed.filename.removesuffix(".ics"), config),
                timezone=config.schedule.timezone,
                refresh=config.calendar.refresh.as_timedelta(),
                events=feed.events,
                previous=previous,
                now=now,
            ),
        )
    return encoded


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set, for reproducible builds of the feeds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        try:
            return datetime.fromtimestamp(int(epoch[:20]), tz=UTC)
        except (OverflowError, ValueError, OSError):
            raise RolloutError(
                f"SOURCE_DATE_EPOCH={epoch[:20]} is not a time before the year 10000"
            ) from None
    return datetime.now(UTC)


def write_calendars(
    config: Config,
    start: date,
    months: int,
    out_dir: Path,
    now: datetime,
    changes: Callable[[], Sequence[Verdict]] | None = None,
) -> list[Path]:
    """Compute the schedule from the month of ``start`` and write the feeds into ``out_dir``:
    deployments and deadlines always, changes.ics when ``changes`` is given. ``changes`` is
    called once the other feeds are ready (see rollout.changes.ready_changes_in_background),
    and an error from it means nothing is written."""
    templates = Templates(config.templates_dir)
    deployments = Schedule(config).deployments(start, months)
    first = start.replace(day=1)
    last = first + relativedelta(months=months, days=-1)
    feeds = [
        deployment_feed(deployments, config, templates),
        deadline_feed(deployments, config, templates, first, last),
    ]
    encoded = encode_feeds(feeds, out_dir, config, now)
    if changes is not None:
        feeds.append(change_feed(changes(), config, templates, first, last))
    # One run at a time writes into out_dir, so its feeds never mix with another run's;
    # a feed another run wrote meanwhile is stamped again against that version.
    with directory_lock(out_dir):
        remove_stale_temporaries(out_dir, FEED_FILES)
        for feed in feeds:
            path = out_dir / feed.filename
            if path not in encoded or encoded[path][0] != _previous(path):
                encoded.update(encode_feeds([feed], out_dir, config, now))
        write_all_atomically({path: content for path, (_, content) in encoded.items()})
    return list(encoded)
