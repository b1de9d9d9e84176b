"""iCalendar feeds that behave in Google, Outlook and Apple calendars.

Events are built from plain FeedEvent values. The previous version of a feed is its
memory: an event whose content is unchanged keeps its SEQUENCE, DTSTAMP and
LAST-MODIFIED, so regenerating unchanged inputs gives the same bytes; a changed event
gets SEQUENCE + 1 and fresh stamps, which is what makes subscribers update it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Timezone, vDDDTypes, vDuration, vText

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
    blocks = []
    for event in sorted(events, key=lambda event: event.sort_key):
        lines = _event_lines(event)
        fingerprint = tuple(sorted(lines))
        remembered = memory.get(_text(event.uid))
        if remembered is None:
            sequence, stamp = 0, now
        elif remembered.fingerprint == fingerprint:
            sequence, stamp = remembered.sequence, remembered.stamp
        else:
            sequence, stamp = remembered.sequence + 1, now
        blocks.append(_event_block(lines, sequence, stamp))
    head = _calendar_head(name, uid, timezone, refresh, events)
    # The calendar's properties and VTIMEZONEs come from icalendar; the events, by far the
    # bulk of a 100-year feed, are written here in the same form: icalendar took 3 s for 100 years.
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    return head[: -len(end)] + "".join(blocks).encode("utf-8") + end


def _calendar_head(
    name: str, uid: str, timezone: str, refresh: timedelta, events: Sequence[FeedEvent]
) -> bytes:
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
    if events:
        first, last = _years_spanned(events)
        for tzid in sorted(_zones_used(events)):
            try:
                zone = Timezone.from_tzid(tzid, first_date=first, last_date=last)
            except ValueError:
                continue
            calendar.add_component(zone)
    return bytes(calendar.to_ical())


def _event_lines(event: FeedEvent) -> list[str]:
    """The event's content lines, unfolded, without the change stamps (which _event_block
    adds): compared with the previous feed's to see what changed."""
    properties = [
        ("SUMMARY", _text(event.summary)),
        _when("DTSTART", event.start),
        _when("DTEND", event.end),
        ("UID", _text(event.uid)),
        ("TRANSP", "OPAQUE" if event.busy else "TRANSPARENT"),
    ]
    if event.description:
        properties.append(("DESCRIPTION", _text(event.description)))
    if event.url:
        properties.append(("URL", event.url))
    if event.status:
        properties.append(("STATUS", _text(event.status)))
    if event.categories:
        properties.append(("CATEGORIES", ",".join(_text(c) for c in event.categories)))
    return [f"{key}:{value}" for key, value in properties]


def _event_block(lines: list[str], sequence: int, stamp: datetime) -> str:
    """BEGIN:VEVENT to END:VEVENT, folded, with SEQUENCE, DTSTAMP and LAST-MODIFIED added
    where icalendar puts them."""
    stamp_text = f"{stamp.year:04d}{stamp:%m%dT%H%M%SZ}"
    ordered = sorted(
        [*lines, f"DTSTAMP:{stamp_text}", f"SEQUENCE:{sequence}", f"LAST-MODIFIED:{stamp_text}"],
        key=_property_rank,
    )
    body = "".join(_fold(line) + "\r\n" for line in ordered)
    return f"BEGIN:VEVENT\r\n{body}END:VEVENT\r\n"


# icalendar writes these first, in this order, then the others alphabetically.
_CANONICAL = ("SUMMARY", "DTSTART", "DTEND", "DTSTAMP", "UID", "SEQUENCE")


def _property_rank(line: str) -> tuple[int, str]:
    name = line.split(":", 1)[0].split(";", 1)[0]
    if name in _CANONICAL:
        return _CANONICAL.index(name), ""
    return len(_CANONICAL), name


def _when(name: str, value: date | datetime) -> tuple[str, str]:
    if not isinstance(value, datetime):
        return f"{name};VALUE=DATE", f"{value.year:04d}{value:%m%d}"
    if value.fold and value.utcoffset() != value.replace(fold=0).utcoffset():
        # The second of a local time the clocks repeat: with a TZID it would read as the
        # first (RFC 5545, 3.3.5), so it is written in UTC.
        value = value.astimezone(UTC)
    typed = vDDDTypes(value)
    params = "".join(f";{key}={param}" for key, param in typed.params.items())
    return f"{name}{params}", typed.to_ical().decode()


def _text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 says. (icalendar also reads a backslash and N in the
    text as a line break; here a title such as C:\\New keeps its backslash.)"""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _fold(line: str, limit: int = 74) -> str:
    """Fold a content line as icalendar does: at most ``limit`` octets a line, never splitting
    a character or an escape (a backslash stays with the character it escapes).

    Cut by slices of the UTF-8 bytes: a cut that would fall inside a character moves back to
    its first byte, and one right after a backslash or caret moves back one more, so that it
    goes on the next line with what it escapes."""
    if len(line) <= limit and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) <= limit:
        return line
    pieces = []
    start, size = 0, len(data)
    while size - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the character starts earlier
            end -= 1
        if end - 1 > start and data[end - 1] in b"\\^":
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    pieces.append(data[start:].decode("utf-8"))
    return "\r\n ".join(pieces)


def _zones_used(events: Sequence[FeedEvent]) -> set[str]:
    zones = set()
    for event in events:
        for value in (event.start, event.end):
            tzid = vDDDTypes(value).params.get("TZID") if isinstance(value, datetime) else None
            if tzid:
                zones.add(tzid)
    return zones


def _remember(previous: bytes | None) -> dict[str, _Memory]:
    """Per UID (as written), what the previous feed said; unreadable means no memory.

    A plain scan of the file rollout wrote last time: parsing a 100-year feed with a
    full iCalendar parser took longer than writing it.
    """
    if not previous:
        return {}
    text = previous.decode("utf-8", errors="replace")
    text = text.replace("\r\n ", "").replace("\r\n\t", "")
    memory = {}
    # Whole lines only: a title may say "BEGIN:VEVENT" (its text is one escaped line).
    for block in text.split("\r\nBEGIN:VEVENT\r\n")[1:]:
        lines = block.split("\r\nEND:VEVENT", 1)[0].split("\r\n")
        content, found = [], {}
        for line in filter(None, lines):
            name = line.split(":", 1)[0].split(";", 1)[0].upper()
            if name in _VOLATILE or name == "UID":
                found[name] = line.partition(":")[2]
            if name not in _VOLATILE:
                content.append(line)
        try:
            stamp = _utc_stamp(found["DTSTAMP"])
            sequence = int(found.get("SEQUENCE", "0"))
            uid = found["UID"]
        except (KeyError, ValueError):
            continue
        memory[uid] = _Memory(tuple(sorted(content)), sequence, stamp)
    return memory


def _utc_stamp(text: str) -> datetime:
    """A DTSTAMP as rollout writes it (20270105T090000Z), read without strptime's cost
    (a tenth of reading a 100-year feed); anything else as strptime reads it."""
    found = _STAMP.fullmatch(text)
    if found is None:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    year, month, day, hour, minute, second = map(int, found.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


_STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", re.ASCII)


def _years_spanned(events: Sequence[FeedEvent]) -> tuple[date, date]:
    """From January of the first event's year to January after the last event's year.

    The VTIMEZONE blocks cover this span, which stays the same for a whole year of
    regenerations, so it does not make every new month a change.
    """
    years = [event.sort_key[0].year for event in events]
    return date(min(years) - 1, 1, 1), date(max(years) + 2, 1, 1)
