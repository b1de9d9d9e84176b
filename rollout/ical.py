"""iCalendar feeds that behave in Google, Outlook and Apple calendars.

Events are built from plain FeedEvent values. The previous version of a feed is its
memory: an event whose content is unchanged keeps its SEQUENCE, DTSTAMP and
LAST-MODIFIED, so regenerating unchanged inputs gives the same bytes; a changed event
gets SEQUENCE + 1 and fresh stamps, which is what makes subscribers update it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Event, vDuration, vText

PRODID = "-//rollout//rollout deployment calendar//EN"
# Properties that say when an event changed rather than what it is.
_VOLATILE = ("DTSTAMP", "LAST-MODIFIED", "SEQUENCE")


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    description: str
    start: date | datetime  # a date for all-day events, else zone-aware
    end: date | datetime  # exclusive: the day after an all-day event's last day
    url: str | None = None
    status: str | None = None  # e.g. CONFIRMED or CANCELLED
    categories: tuple[str, ...] = ()
    busy: bool = False  # deadlines and reminders do not block anyone's time

    @property
    def sort_key(self) -> tuple[datetime, str]:
        start = self.start
        if not isinstance(start, datetime):
            start = datetime.combine(start, time(0, 0), tzinfo=UTC)
        return start.astimezone(UTC), self.uid


@dataclass(frozen=True)
class _Memory:
    fingerprint: tuple[str, ...]
    sequence: int
    stamp: datetime


def build_feed(
    *,
    name: str,
    uid: str,
    timezone: str,
    refresh: timedelta,
    events: Sequence[FeedEvent],
    previous: bytes | None,
    now: datetime,
) -> bytes:
    """The bytes of a feed holding ``events``, stamped against the ``previous`` feed."""
    memory = _remember(previous)
    now = now.astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("UID", uid)
    calendar.add("NAME", vText(name))
    calendar.add("X-WR-CALNAME", vText(name))
    calendar.add("X-WR-TIMEZONE", timezone)
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh).to_ical().decode())  # type: ignore[no-untyped-call]
    for event in sorted(events, key=lambda event: event.sort_key):
        component = _component(event)
        fingerprint = _fingerprint(component)
        remembered = memory.get(event.uid)
        if remembered is None:
            sequence, stamp = 0, now
        elif remembered.fingerprint == fingerprint:
            sequence, stamp = remembered.sequence, remembered.stamp
        else:
            sequence, stamp = remembered.sequence + 1, now
        component.add("SEQUENCE", sequence)
        component.add("DTSTAMP", stamp)
        component.add("LAST-MODIFIED", stamp)
        calendar.add_component(component)
    if events:
        first, last = _years_spanned(events)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return bytes(calendar.to_ical())


def _component(event: FeedEvent) -> Event:
    component = Event()
    component.add("UID", event.uid)
    component.add("SUMMARY", event.summary)
    if event.description:
        component.add("DESCRIPTION", event.description)
    component.add("DTSTART", event.start)
    component.add("DTEND", event.end)
    component.add("TRANSP", "OPAQUE" if event.busy else "TRANSPARENT")
    if event.url:
        component.add("URL", event.url)
    if event.status:
        component.add("STATUS", event.status)
    if event.categories:
        component.add("CATEGORIES", list(event.categories))
    return component


def _fingerprint(component: Any) -> tuple[str, ...]:
    """The event's content lines, unfolded and sorted, without the change stamps."""
    text = component.to_ical().decode("utf-8").replace("\r\n ", "")
    lines = (line for line in text.split("\r\n") if line)
    return tuple(sorted(line for line in lines if not line.startswith(_VOLATILE)))


def _remember(previous: bytes | None) -> dict[str, _Memory]:
    """Per UID, what the previous feed said; an unreadable feed is no memory at all."""
    if not previous:
        return {}
    try:
        calendar = Calendar.from_ical(previous)
    except ValueError:
        return {}
    memory = {}
    for component in calendar.walk("VEVENT"):
        try:
            uid = str(component["UID"])
            sequence = int(component.get("SEQUENCE", 0))
            stamp = component.decoded("DTSTAMP")
        except (KeyError, ValueError):
            continue
        if not isinstance(stamp, datetime):
            continue
        memory[uid] = _Memory(_fingerprint(component), sequence, stamp.astimezone(UTC))
    return memory


def _years_spanned(events: Sequence[FeedEvent]) -> tuple[date, date]:
    """From January of the first event's year to January after the last event's year.

    The VTIMEZONE blocks cover this span, which stays the same for a whole year of
    regenerations, so it does not make every new month a change.
    """
    years = [event.sort_key[0].year for event in events]
    return date(min(years) - 1, 1, 1), date(max(years) + 2, 1, 1)
