"""changes.ics: one event per ready change, keyed by the issue."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import recurring_ical_events
import vobject
from scenarios import load_story

from rollout.changes import ready_changes
from rollout.config import Config
from rollout.feeds import write_calendars
from rollout.trackers.snapshot import SnapshotTracker

STORY = """\
project ops/tracker id 7
user alice "Alice Moreau"
feature 1 "Refund macro" by alice, C4, customer Support-EMEA,
    description "## Why\\nAgents type it forty times a week.":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received implementation
bug 2 "Attachment field" by carol, C4:
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received implementation
feature 3 "Queue view" by alice, C3:
  2027-01-04 development; 2027-01-14 validation
"""
NOW = datetime(2027, 1, 20, 12, tzinfo=UTC)


def feed(story: str, directory: Path, today: date, now: datetime = NOW) -> dict[str, icalendar.Event]:
    path = directory / "snapshot.json"
    path.write_text(json.dumps(load_story(story).snapshot(7)), encoding="utf-8")
    config = Config()
    changes = ready_changes(SnapshotTracker.load(path), config, today)
    write_calendars(config, date(2027, 1, 1), 6, directory / "feeds", now, lambda: changes)
    calendar = icalendar.Calendar.from_ical((directory / "feeds" / "changes.ics").read_bytes())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_one_event_per_ready_issue(tmp_path: Path) -> None:
    events = feed(STORY, tmp_path, date(2027, 1, 20))
    assert sorted(events) == ["change-7-1@rollout.local", "change-7-2@rollout.local"]
    refund = events["change-7-1@rollout.local"]
    assert str(refund["SUMMARY"]) == "#1 Refund macro"
    assert refund.decoded("DTSTART") == date(2027, 2, 1)
    assert str(refund["URL"]) == "https://gitlab.example.com/ops/tracker/-/issues/1"
    assert str(refund["DESCRIPTION"]) == (
        "Refund macro\nShips Monday 2027-02-01, standard deployment.\nWho: Support-EMEA\n"
        "Why: Agents type it forty times a week.\nCriticality: C4. Requested by Alice Moreau.\n"
        "Request link: https://gitlab.example.com/ops/tracker/-/issues/1"
    )
    raw = (tmp_path / "feeds" / "changes.ics").read_bytes()
    assert len(recurring_ical_events.of(icalendar.Calendar.from_ical(raw)).between((2027, 1, 1), (2027, 7, 1))) == 2
    parsed = vobject.readOne(raw.decode("utf-8"))
    assert sorted(v.uid.value for v in parsed.vevent_list) == sorted(events)
    assert "X-WR-CALNAME:Support Operations deployments: changes" in raw.decode()


def test_a_change_moved_to_a_later_deployment_keeps_its_uid(tmp_path: Path) -> None:
    first = feed(STORY, tmp_path, date(2027, 1, 20))
    # The requester takes the sign-off back; it comes again after the February cut-off.
    moved = STORY + "events 1: 2027-01-26 validation awaiting; 2027-01-28 received implementation\n"
    later = datetime(2027, 1, 28, 12, tzinfo=UTC)
    second = feed(moved, tmp_path, date(2027, 1, 28), now=later)
    refund = second["change-7-1@rollout.local"]
    assert refund.decoded("DTSTART") == date(2027, 3, 1)
    assert int(refund["SEQUENCE"]) == int(first["change-7-1@rollout.local"]["SEQUENCE"]) + 1 == 1
    assert refund.decoded("DTSTAMP") == later
    bug = second["change-7-2@rollout.local"]
    assert int(bug["SEQUENCE"]) == 0
    assert bug.decoded("DTSTAMP") == NOW


def test_an_issue_that_no_longer_ships_is_dropped(tmp_path: Path) -> None:
    feed(STORY, tmp_path, date(2027, 1, 20))
    rejected = STORY + "events 2: 2027-01-21 rejected development\n"
    events = feed(rejected, tmp_path, date(2027, 1, 22))
    assert sorted(events) == ["change-7-1@rollout.local"]


def test_calendar_without_a_tracker_skips_changes(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("calendar", "--from", "2027-01-01", "--months", "1")
    assert result.exit_code == 0
    assert "changes.ics skipped: no tracker configured" in result.stderr
    assert not (workdir / "calendars" / "changes.ics").exists()


def test_calendar_with_a_tracker_writes_changes(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "s.json").write_text(json.dumps(load_story(STORY).snapshot(7)), encoding="utf-8")
    result = run("--tracker", "snapshot:s.json", "calendar", "--from", "2027-01-01", "--months", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "wrote calendars/changes.ics"


def test_a_gitlab_tracker_without_a_token_is_skipped_without_importing_gitlab(workdir: Path) -> None:
    # The configuration of PRODUCT.md §5, on a machine with no GitLab credentials.
    import subprocess
    import sys

    (workdir / "rollout.toml").write_text(
        '[tracker]\nkind = "gitlab"\nproject = "group/subgroup/project"\n'
        'url = "https://gitlab.example.com"\ngitlab_id = ""\nsnapshot = "tracker.json"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("GITLAB_TOKEN", "CI_JOB_TOKEN")}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rollout", "calendar", "--months", "2"],
        cwd=workdir, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert (
        "changes.ics skipped: no GitLab token: set GITLAB_TOKEN (CI_JOB_TOKEN in GitLab CI), "
        "or name a python-gitlab config section in [tracker] gitlab_id"
    ) in lines
    imported = {line.split("|")[-1].strip().split(".")[0] for line in lines if line.startswith("import time:")}
    assert "gitlab" not in imported and "requests" not in imported
    assert sorted(p.name for p in (workdir / "calendars").iterdir()) == ["deadlines.ics", "deployments.ics"]


def test_a_set_up_tracker_that_fails_writes_nothing(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "broken.json").write_text("{", encoding="utf-8")
    result = run("--tracker", "snapshot:broken.json", "calendar", "--out", "feeds")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: broken.json is not a snapshot file")
    assert not (workdir / "feeds").exists()
