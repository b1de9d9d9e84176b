"""Years before 1000 are written with four digits everywhere (0500-03-01, 05000301), although
the C library's strftime writes the year 500 as "500" on Linux."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest
from conftest import RunCli
from helpers import config_from, write_config

from rollout.dates import FourDigitDate, strftime
from rollout.milestones import MilestonePlan, plan_milestones
from rollout.schedule import Schedule
from rollout.views.milestones import plan_json, plan_text

ROOT = Path(__file__).parent.parent
SNAPSHOT = f"snapshot:{ROOT / 'examples' / 'snapshot.json'}"
# A skipped month and a one-off freeze, both in the year 500.
POLICY = """
[[schedule.override]]
month = "0500-05"
skip = true
reason = "Summer break"

[[freeze]]
name = "Harvest"
from = "0500-03-28"
to = "0500-04-02"
criticality = ["C1"]

[incidents.systems]
"Zendesk Global" = "Mission Critical"
"""


@pytest.fixture
def policy(workdir: Path) -> Path:
    return write_config(workdir, POLICY)


@pytest.mark.parametrize(
    ("moment", "pattern", "expected"),
    [
        (date(500, 3, 1), "%Y-%m-%d", "0500-03-01"),
        (date(5, 3, 1), "%Y%m%d", "00050301"),
        (date(500, 3, 1), "%A %G %F", "Monday 0500 0500-03-01"),
        (date(500, 3, 1), "%%Y %%%Y", "%Y %0500"),
        (datetime(1, 1, 1, 14, 0), "%a %Y-%m-%d %H:%M", "Mon 0001-01-01 14:00"),
        (date(2027, 1, 20), "%A %Y-%m-%d", "Wednesday 2027-01-20"),
    ],
)
def test_strftime_writes_four_digit_years(moment: date, pattern: str, expected: str) -> None:
    assert strftime(moment, pattern) == expected


def test_a_four_digit_date_in_a_format_string() -> None:
    # As the milestone title is made: a format people write, filled in with str.format.
    title = "Deployment {date:%Y-%m-%d} ({date})"
    day = FourDigitDate.of(date(500, 3, 1))
    assert title.format(date=day) == "Deployment 0500-03-01 (0500-03-01)"


def test_schedule_json(run: RunCli, policy: Path) -> None:
    result = run("schedule", "--from", "0500-03-01", "--months", "1", "--json")
    assert result.exit_code == 0, result.stderr
    [deployment] = json.loads(result.stdout)
    assert deployment["date"] == "0500-03-01"
    assert deployment["period"] == "0500-03"
    assert deployment["milestone"] == "CustSuppOps Deployment 0500-03-01"
    assert deployment["signoff_cutoff"] == "0500-02-24"


def test_schedule_table(run: RunCli, policy: Path) -> None:
    result = run("schedule", "--from", "0500-04-01", "--months", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == textwrap.dedent("""\
        Date        Day  Milestone                          Sign-off by  Announce C1  Announce C2  Announce C3  Notes
        0500-04-01  Thu  CustSuppOps Deployment 0500-04-01  0500-03-29   frozen       0500-03-11   0500-03-18   C1 frozen (Harvest)
        No deployment in 0500-05: Summer break
    """)


def test_a_milestone_format_of_the_teams_own(run: RunCli, workdir: Path) -> None:
    write_config(
        workdir, '[schedule]\nmilestone = "Release {date:%Y.%m} on {deploy_date:%d %b %Y}"\n'
    )
    result = run("schedule", "--from", "0050-03-01", "--months", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["milestone"] == "Release 0050.03 on 01 Mar 0050"


def test_config_errors_name_the_month_with_four_digits(run: RunCli, workdir: Path) -> None:
    override = '[[schedule.override]]\nmonth = "0500-03"\nskip = true\n'
    write_config(workdir, override * 2)
    result = run("schedule", "--from", "0500-03-01")
    assert result.exit_code == 2
    assert "0500-03 is overridden twice" in result.stderr


def test_calendar_feeds(run: RunCli, workdir: Path, policy: Path) -> None:
    result = run("calendar", "--from", "0500-03-01", "--months", "2", "--out", "cal")
    assert result.exit_code == 0, result.stderr
    deployments = (workdir / "cal" / "deployments.ics").read_bytes().decode("utf-8")
    deadlines = (workdir / "cal" / "deadlines.ics").read_bytes().decode("utf-8")
    assert "DTSTART;VALUE=DATE:05000301\r\n" in deployments
    assert "DTSTART;VALUE=DATE:05000328\r\n" in deadlines  # the freeze
    assert "UID:freeze-harvest-0500-03-28@rollout.local\r\n" in deadlines
    for text in (deployments, deadlines):
        assert not re.search(r"DATE:\d{7}\r", text)
        # Every date in the text has four digits of year, and none has three.
        assert not re.search(r"(?<![\d-])\d{3}-\d\d-\d\d", text.replace("\r\n ", ""))
    events = icalendar.Calendar.from_ical(deployments).walk("VEVENT")
    assert [event.decoded("DTSTART") for event in events] == [date(500, 3, 1), date(500, 4, 1)]
    assert str(events[0]["SUMMARY"]) == "Standard deployment (CustSuppOps Deployment 0500-03-01)"
    assert "on Monday 0500-03-01." in str(events[0]["DESCRIPTION"])
    deadline_events = icalendar.Calendar.from_ical(deadlines).walk("VEVENT")
    summaries = {str(event["SUMMARY"]) for event in deadline_events}
    assert "Sign-off cut-off for the 0500-03-01 deployment" in summaries
    freeze = next(e for e in deadline_events if e["UID"].startswith("freeze-"))
    assert "from 0500-03-28 to 0500-04-02" in str(freeze["DESCRIPTION"])


def test_incident_text(run: RunCli, policy: Path) -> None:
    result = run("incident", "Zendesk Global", "--reported-at", "0001-01-01T00:00-14:00")
    assert result.exit_code == 0, result.stderr
    assert "  Reported:     Monday 0001-01-01 14:00 UTC\n" in result.stdout
    assert "  Escalate at:  Monday 0001-01-01 14:10 UTC, if nobody has responded\n" in result.stdout
    assert "No response by Monday 0001-01-01 14:10 UTC:" in result.stdout


def test_incident_json(run: RunCli, policy: Path) -> None:
    args = ("incident", "Zendesk Global", "--reported-at", "0001-01-01T00:00-14:00", "--json")
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reported_at"] == "0001-01-01T14:00:00+00:00"
    assert data["escalate_at"] == "0001-01-01T14:10:00+00:00"
    assert data["checklist"][2].startswith("No response by Monday 0001-01-01 14:10 UTC:")


def test_status_board(run: RunCli, policy: Path) -> None:
    result = run("--tracker", SNAPSHOT, "status", "--as-of", "0500-03-01")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Status on Monday 0500-03-01: ")
    assert "Next deployment: Monday 0500-03-01 (CustSuppOps Deployment 0500-03-01), today" in (
        result.stdout
    )


def test_site(run: RunCli, workdir: Path, policy: Path) -> None:
    args = ("site", "--as-of", "0500-03-01", "--months", "2", "--out", "public")
    result = run("--tracker", SNAPSHOT, *args)
    assert result.exit_code == 0, result.stderr
    site = workdir / "public"
    calendar = (site / "calendar.html").read_text(encoding="utf-8")
    assert '<h2 id="h-0500-03">March 0500</h2>' in calendar
    assert 'href="#m-0500-04">Apr 0500</a>' in calendar
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<time datetime="0500-03-01">Monday 1 March 0500</time>' in index
    notes = (site / "notes" / "0500-03-01.html").read_text(encoding="utf-8")
    assert "<title>Release notes, Mon 1 Mar 0500 · " in notes
    for page in (calendar, index, notes):
        assert not re.search(r"(?<![\d-])\d{3}-\d\d(?![\d])|[a-z] 500\b", page)


def test_milestone_plan() -> None:
    schedule = Schedule(config_from(POLICY))
    plan = plan_milestones(schedule, 500, [])
    text = plan_text(plan, applied=False)
    assert "CustSuppOps Deployment 0500-01-01  0499-12-01  0500-01-01" in text
    assert "No deployment in 0500-05 (Summer break): no milestone.\n" in text
    assert plan_json(plan, applied=False)["skipped"] == [
        {"month": "0500-05", "reason": "Summer break"}
    ]
    empty = MilestonePlan(500, (), ())
    assert plan_text(empty, applied=False).startswith("No deployments in 0500.\n")
