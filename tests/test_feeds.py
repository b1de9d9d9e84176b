"""The iCal feeds, read back by three independent parsers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject
from conftest import RunCli
from helpers import config_from, write_config

from rollout.config import Config
from rollout.feeds import write_calendars
from rollout.schedule import Schedule

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
LATER = datetime(2027, 1, 11, 8, 30, tzinfo=UTC)
START = date(2027, 1, 1)


def events_by_uid(path: Path) -> dict[str, str]:
    """Each VEVENT's raw text keyed by UID, from the file's unfolded lines."""
    text = path.read_bytes().decode("utf-8").replace("\r\n ", "").replace("\r\n", "\n")
    blocks = re.findall(r"BEGIN:VEVENT\n(.*?)END:VEVENT\n", text, re.S)
    return {re.search(r"^UID:(.*)$", block, re.M).group(1): block for block in blocks}  # type: ignore[union-attr]


def prop(block: str, name: str) -> str:
    match = re.search(rf"^{name}[;:](.*)$", block, re.M)
    assert match, name
    return match.group(1)


def test_deployments_feed_matches_the_schedule(tmp_path: Path) -> None:
    config = Config()
    write_calendars(config, START, 12, tmp_path, NOW)
    deployments = Schedule(config).deployments(START, 12)
    raw = (tmp_path / "deployments.ics").read_bytes()

    # icalendar
    calendar = icalendar.Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 12
    assert [e.decoded("DTSTART") for e in events] == [d.date for d in deployments]
    assert [e.decoded("DTEND") for e in events] == [d.date + timedelta(days=1) for d in deployments]
    assert [str(e["UID"]) for e in events] == [
        f"deployment-{d.period_key}@rollout.local" for d in deployments
    ]
    assert str(calendar["X-WR-CALNAME"]) == "Support Operations deployments"
    assert str(calendar["NAME"]) == "Support Operations deployments"

    # recurring_ical_events expands what a calendar app would show in a window
    shown = recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2028, 1, 1))
    assert sorted(e.decoded("DTSTART") for e in shown) == [d.date for d in deployments]

    # vobject, a separate parser with its own strictness
    parsed = vobject.readOne(raw.decode("utf-8"))
    vevents = parsed.vevent_list
    assert [v.dtstart.value for v in vevents] == [d.date for d in deployments]
    assert [v.uid.value for v in vevents] == [str(e["UID"]) for e in events]
    assert all(v.sequence.value == "0" for v in vevents)
    assert vevents[0].summary.value == "Standard deployment (CustSuppOps Deployment 2027-01-01)"


def test_feed_headers_for_calendar_apps(tmp_path: Path) -> None:
    write_calendars(Config(), START, 3, tmp_path, NOW)
    for name in ("deployments.ics", "deadlines.ics"):
        text = (tmp_path / name).read_bytes().decode("utf-8")
        assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
        assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n" in text
        assert "\r\nX-PUBLISHED-TTL:PT12H\r\n" in text
        assert "\r\nMETHOD:PUBLISH\r\n" in text
        assert "\nX-WR-CALNAME:" in text and "\nNAME:" in text
        # All-day events are dates with an exclusive end; nothing is floating.
        for block in events_by_uid(tmp_path / name).values():
            for line in re.findall(r"^DT(?:START|END).*$", block, re.M):
                assert ";VALUE=DATE:" in line, line


def test_deadlines_feed_lists_cutoffs_notice_reminders_and_freezes(tmp_path: Path) -> None:
    config = Config()
    write_calendars(config, date(2027, 11, 1), 3, tmp_path, NOW)
    events = events_by_uid(tmp_path / "deadlines.ics")
    assert sorted(events) == sorted(
        [
            "signoff-2027-11@rollout.local",
            "signoff-2027-12@rollout.local",
            "signoff-2028-01@rollout.local",
            "announce-c1-2027-11@rollout.local",
            "announce-c2-2027-11@rollout.local",
            "announce-c3-2027-11@rollout.local",
            # December is frozen for C1 and C2: only C3 is announced for it
            "announce-c3-2027-12@rollout.local",
            "announce-c1-2028-01@rollout.local",
            "announce-c2-2028-01@rollout.local",
            "announce-c3-2028-01@rollout.local",
            "reminder-2027-11@rollout.local",
            "reminder-2027-12@rollout.local",
            "reminder-2028-01@rollout.local",
            "freeze-december-code-freeze-2027-12-01@rollout.local",
        ]
    )
    freeze = events["freeze-december-code-freeze-2027-12-01@rollout.local"]
    assert prop(freeze, "DTSTART") == "VALUE=DATE:20271201"
    assert prop(freeze, "DTEND") == "VALUE=DATE:20280101"  # exclusive: the whole of Dec 31
    assert prop(freeze, "SUMMARY") == "December code freeze (C1\\, C2 held back)"
    assert prop(events["signoff-2027-12@rollout.local"], "DTSTART") == "VALUE=DATE:20271126"
    assert prop(events["announce-c1-2028-01@rollout.local"], "DTSTART") == "VALUE=DATE:20271204"
    assert prop(events["reminder-2028-01@rollout.local"], "DTSTART") == "VALUE=DATE:20271229"

    parsed = vobject.readOne((tmp_path / "deadlines.ics").read_bytes().decode("utf-8"))
    assert len(parsed.vevent_list) == len(events)


@pytest.mark.parametrize(
    ("zone", "day", "at", "month"),
    [
        ("America/New_York", 7, "01:30", date(2027, 11, 1)),  # 01:30 happens twice
        ("America/New_York", 14, "01:30", date(2027, 3, 1)),  # 02:00 to 03:00 is skipped
        ("Australia/Lord_Howe", 4, "01:45", date(2027, 4, 1)),  # half an hour back
        ("Australia/Lord_Howe", 3, "01:45", date(2027, 10, 1)),  # half an hour on
    ],
)
def test_a_timed_deployment_lasts_its_duration_on_a_clock_change_day(
    tmp_path: Path, zone: str, day: int, at: str, month: date
) -> None:
    """calendar.duration is elapsed time, as every other hour rollout counts."""
    config = config_from(f'[schedule]\ntimezone = "{zone}"\nday = {day}\ntime = "{at}"')
    write_calendars(config, month, 1, tmp_path, NOW)
    for feed in (icalendar.Calendar, vobject.readOne):
        text = (tmp_path / "deployments.ics").read_bytes()
        if feed is vobject.readOne:
            [event] = vobject.readOne(text.decode("utf-8")).vevent_list
            start, end = event.dtstart.value, event.dtend.value
        else:
            [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
            start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=1), (start, end)


def test_timed_feed_has_one_vtimezone_per_zone_and_no_floating_times(tmp_path: Path) -> None:
    config = config_from('[schedule]\ntimezone = "America/New_York"\ntime = "09:00"')
    write_calendars(config, START, 12, tmp_path, NOW)
    for name in ("deployments.ics", "deadlines.ics"):
        text = (tmp_path / name).read_bytes().decode("utf-8")
        assert text.count("BEGIN:VTIMEZONE") == 1
        assert "TZID:America/New_York" in text
        for block in events_by_uid(tmp_path / name).values():
            for line in re.findall(r"^DT(?:START|END)[;:].*$", block, re.M):
                assert "TZID=America/New_York:" in line or ";VALUE=DATE:" in line, line

    calendar = icalendar.Calendar.from_ical((tmp_path / "deployments.ics").read_bytes())
    starts = [e.decoded("DTSTART") for e in calendar.walk("VEVENT")]
    assert starts[2].isoformat() == "2027-03-01T09:00:00-05:00"
    assert starts[3].isoformat() == "2027-04-01T09:00:00-04:00"
    ends = [e.decoded("DTEND") for e in calendar.walk("VEVENT")]
    assert ends[0] - starts[0] == timedelta(hours=1)

    # vobject resolves the zone from the VTIMEZONE block itself.
    parsed = vobject.readOne((tmp_path / "deployments.ics").read_bytes().decode("utf-8"))
    utc_starts = [v.dtstart.value.astimezone(UTC) for v in parsed.vevent_list]
    assert utc_starts[2] == datetime(2027, 3, 1, 14, 0, tzinfo=UTC)
    assert utc_starts[3] == datetime(2027, 4, 1, 13, 0, tzinfo=UTC)


def test_auckland_feed_lands_on_the_previous_utc_day(tmp_path: Path) -> None:
    config = config_from('[schedule]\ntimezone = "Pacific/Auckland"\ntime = "09:00"')
    write_calendars(config, date(2027, 2, 1), 1, tmp_path, NOW)
    shown = recurring_ical_events.of(
        icalendar.Calendar.from_ical((tmp_path / "deployments.ics").read_bytes())
    ).between(datetime(2027, 1, 31, tzinfo=UTC), datetime(2027, 2, 2, tzinfo=UTC))
    assert len(shown) == 1
    assert shown[0].decoded("DTSTART").astimezone(UTC) == datetime(2027, 1, 31, 20, 0, tzinfo=UTC)


def test_regenerating_unchanged_inputs_is_byte_identical(tmp_path: Path) -> None:
    config = config_from('[schedule]\ntimezone = "Europe/Berlin"\ntime = "09:00"')
    write_calendars(config, START, 12, tmp_path, NOW)
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    write_calendars(config, START, 12, tmp_path, LATER)
    second = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert first == second
    assert sorted(first) == ["deadlines.ics", "deployments.ics"]


@pytest.mark.slow
def test_a_century_of_timed_deployments_regenerates_byte_identical(
    run: RunCli, workdir: Path
) -> None:
    write_config(workdir, '[schedule]\ntimezone = "Europe/Berlin"\ntime = "09:30"\n')
    args = ["calendar", "--from", "2027-01-01", "--months", "1200", "--out", "feeds"]
    assert run(*args).exit_code == 0
    first = (workdir / "feeds" / "deployments.ics").read_bytes()
    assert run(*args).exit_code == 0
    assert (workdir / "feeds" / "deployments.ics").read_bytes() == first
    calendar = icalendar.Calendar.from_ical(first)
    starts = [event.decoded("DTSTART") for event in calendar.walk("VEVENT")]
    assert len(starts) == 1200
    assert starts[-1] == datetime(2126, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert run("calendar", "--months", "1201").exit_code == 2


def test_moving_a_month_keeps_its_uid_and_bumps_its_sequence(tmp_path: Path) -> None:
    write_calendars(Config(), START, 12, tmp_path, NOW)
    before = events_by_uid(tmp_path / "deployments.ics")
    deadlines_before = events_by_uid(tmp_path / "deadlines.ics")
    moved = config_from(
        '[[schedule.override]]\nmonth = "2027-05"\ndate = "2027-05-03"\nreason = "Off the Saturday"'
    )
    write_calendars(moved, START, 12, tmp_path, LATER)
    after = events_by_uid(tmp_path / "deployments.ics")

    assert sorted(after) == sorted(before)
    may = after["deployment-2027-05@rollout.local"]
    assert prop(may, "DTSTART") == "VALUE=DATE:20270503"
    assert prop(may, "SEQUENCE") == "1"
    assert prop(may, "DTSTAMP") == "20270111T083000Z"
    assert prop(may, "LAST-MODIFIED") == "20270111T083000Z"
    for uid, block in after.items():
        if uid != "deployment-2027-05@rollout.local":
            assert block == before[uid]

    deadlines_after = events_by_uid(tmp_path / "deadlines.ics")
    changed = {uid for uid in deadlines_after if deadlines_after[uid] != deadlines_before.get(uid)}
    assert changed == {
        "signoff-2027-05@rollout.local",
        "announce-c1-2027-05@rollout.local",
        "announce-c2-2027-05@rollout.local",
        "announce-c3-2027-05@rollout.local",
        "reminder-2027-05@rollout.local",
    }

    # Moving it back is another change, not a return to SEQUENCE 0.
    write_calendars(Config(), START, 12, tmp_path, LATER + timedelta(days=1))
    assert (
        prop(
            events_by_uid(tmp_path / "deployments.ics")["deployment-2027-05@rollout.local"],
            "SEQUENCE",
        )
        == "2"
    )


def test_text_is_escaped_for_icalendar(tmp_path: Path) -> None:
    reason = "Moved; see the review, item 3\\4\nBEGIN:VEVENT\r\nUID:evil"
    config = config_from(
        f'[[schedule.override]]\nmonth = "2027-02"\ndate = "2027-02-02"\nreason = {reason!r}'.replace(
            "'", '"'
        )
    )
    write_calendars(config, START, 3, tmp_path, NOW)
    text = (tmp_path / "deployments.ics").read_bytes().decode("utf-8")
    assert len(re.findall(r"^BEGIN:VEVENT\r$", text, re.M)) == 3
    parsed = vobject.readOne(text)
    february = parsed.vevent_list[1]
    assert f"Why this date: {reason.replace(chr(13), '')}." in february.description.value.replace(
        "\r", ""
    )
    assert (
        icalendar.Calendar.from_ical(text.encode()).walk("VEVENT")[1]["UID"]
        == "deployment-2027-02@rollout.local"
    )


def test_calendar_command_writes_both_feeds_atomically(run: RunCli, workdir: Path) -> None:
    result = run("calendar", "--from", "2027-01-01", "--months", "2", "--out", "public")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        "changes.ics skipped: no tracker configured: set [tracker] in rollout.toml, "
        "or pass --tracker gitlab or --tracker snapshot:PATH\n"
        "wrote public/deployments.ics\nwrote public/deadlines.ics\n"
    )
    assert sorted(p.name for p in (workdir / "public").iterdir()) == [
        "deadlines.ics",
        "deployments.ics",
    ]


def test_calendar_command_is_reproducible_with_source_date_epoch(
    run: RunCli, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    run("calendar", "--from", "2027-01-01", "--months", "2")
    text = (workdir / "calendars" / "deployments.ics").read_bytes().decode("utf-8")
    assert "DTSTAMP:20270115T080000Z" in text


def test_unwritable_output_is_one_error_line_and_keeps_the_old_feed(
    run: RunCli, workdir: Path
) -> None:
    (workdir / "public").write_text("not a directory", encoding="utf-8")
    result = run("calendar", "--out", "public/feeds")
    assert result.exit_code == 2
    assert result.stderr.startswith("changes.ics skipped: no tracker configured")
    error = result.stderr.splitlines()[1]
    assert error == "Error: cannot write to public/feeds: Not a directory"
    assert result.stderr.count("\n") == 2
    assert (workdir / "public").read_text(encoding="utf-8") == "not a directory"


def test_a_failed_write_leaves_no_temporary_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from rollout.errors import OutputError
    from rollout.files import write_atomically

    target = workdir / "feed.ics"
    target.write_bytes(b"old")

    def refuse(source: str, destination: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match=r"cannot write .*feed\.ics: Permission denied"):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in workdir.iterdir()] == ["feed.ics"]


def test_corrupt_previous_feed_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "deployments.ics").write_bytes(b"\x00garbage")
    write_calendars(Config(), START, 2, tmp_path, NOW)
    calendar = icalendar.Calendar.from_ical((tmp_path / "deployments.ics").read_bytes())
    assert len(calendar.walk("VEVENT")) == 2


def test_config_directory_is_found_for_calendar(run: RunCli, workdir: Path) -> None:
    write_config(workdir, '[calendar]\nname = "Ops, deploys; & more"\ndomain = "ops.example.org"\n')
    run("calendar", "--from", "2027-01-01", "--months", "1")
    text = (workdir / "calendars" / "deployments.ics").read_bytes().decode("utf-8")
    assert "X-WR-CALNAME:Ops\\, deploys\\; & more" in text
    assert "UID:deployment-2027-01@ops.example.org" in text
