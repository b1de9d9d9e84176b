"""rollout incident: tiers, waits and escalation times, across DST changes too."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import RunCli
from helpers import config_from, write_config

from rollout.config import Config
from rollout.errors import RolloutError
from rollout.incidents import IncidentError, escalation, find_system, in_zone

SHEET = """
[schedule]
timezone = "Europe/Berlin"

[incidents.tiers]
Weekly = "1 weeks"
Daily = "1 days"

[incidents.systems]
"Zendesk Global" = "Mission Critical"
"Zendesk US Government" = "Mission Critical"
"Support portal" = "Business Critical"
Calendly = "Business Operational"
"Zendesk sandbox" = "Administrative"
"Status page" = "Daily"
"Old wiki" = "weekly"
"""


@pytest.fixture
def config() -> Config:
    return config_from(SHEET)


# (system, reported at, escalate at): Europe/Berlin goes to CEST at 02:00 on 2027-03-28 and
# back to CET at 03:00 on 2027-10-31.
TIMES = [
    ("Zendesk Global", "2027-01-20T09:00", "2027-01-20T09:10:00+01:00"),
    ("Support portal", "2027-01-20T23:45", "2027-01-21T00:15:00+01:00"),
    ("Calendly", "2027-03-28T01:30", "2027-03-28T10:30:00+02:00"),  # 8 hours elapsed: 10:30 CEST
    ("Zendesk Global", "2027-03-28T01:55", "2027-03-28T03:05:00+02:00"),
    ("Zendesk sandbox", "2027-03-27T12:00", "2027-03-28T13:00:00+02:00"),  # 24 hours, not a day
    ("Status page", "2027-03-27T12:00", "2027-03-28T12:00:00+02:00"),  # a day keeps the time
    ("Status page", "2027-03-27T02:30", "2027-03-28T03:30:00+02:00"),  # the next 02:30 is skipped
    ("Old wiki", "2027-03-25T09:00", "2027-04-01T09:00:00+02:00"),
    ("Support portal", "2027-10-31T02:45+02:00", "2027-10-31T02:15:00+01:00"),  # 30 minutes back
    ("Calendly", "2027-10-30T22:00", "2027-10-31T05:00:00+01:00"),  # 8 hours over 25-hour night
    ("Zendesk Global", "2027-01-20T08:00Z", "2027-01-20T09:10:00+01:00"),  # shown in the zone
    ("zendesk global", "2027-06-01T12:00-04:00", "2027-06-01T18:10:00+02:00"),
]


@pytest.mark.parametrize(("system", "reported", "expected"), TIMES)
def test_escalation_times(config: Config, system: str, reported: str, expected: str) -> None:
    found = escalation(config, system, datetime.fromisoformat(reported))
    assert found.escalate_at.isoformat() == expected
    assert found.escalate_at.tzinfo == found.reported_at.tzinfo == config.schedule.zone


def test_the_defaults_are_the_handbooks() -> None:
    config = config_from(
        '[incidents.systems]\nA = "Mission Critical"\nB = "Business Critical"\nC = "Business Operational"\nD = "Administrative"\n'
    )
    reported = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
    waits = {name: escalation(config, name, reported).escalate_at - reported for name in "ABCD"}
    assert [int(wait.total_seconds() // 60) for wait in waits.values()] == [10, 30, 8 * 60, 24 * 60]
    assert escalation(config, "A", reported).pagerduty_service == "Customer Support Operations"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "2027-03-28T02:30",
            "2027-03-28T02:30 does not exist in Europe/Berlin (the clocks skip it); add the offset, e.g. 2027-03-28T02:30+01:00",
        ),
        (
            "2027-10-31T02:30",
            "2027-10-31T02:30 happens twice in Europe/Berlin (the clocks go back); add the offset: 2027-10-31T02:30+02:00 for the first, 2027-10-31T02:30+01:00 for the second",
        ),
    ],
)
def test_a_time_the_clocks_skip_or_repeat_needs_an_offset(
    config: Config, written: str, message: str
) -> None:
    with pytest.raises(IncidentError) as raised:
        in_zone(datetime.fromisoformat(written), config.schedule.zone)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        (
            "zendesk",
            'unknown system "zendesk"; did you mean "Zendesk Global", "Zendesk sandbox", "Zendesk US Government"?',
        ),
        ("Zendesk Globl", 'unknown system "Zendesk Globl"; did you mean "Zendesk Global"'),
        ("calendy", 'unknown system "calendy"; did you mean "Calendly"?'),
        ("portal", 'unknown system "portal"; did you mean "Support portal"?'),
        (
            "Jira",
            'unknown system "Jira"; the known systems are "Calendly", "Old wiki", "Status page", "Support portal", "Zendesk Global", "Zendesk sandbox", "Zendesk US Government"',
        ),
    ],
)
def test_an_unknown_system_names_the_nearest_known_ones(
    config: Config, asked: str, message: str
) -> None:
    with pytest.raises(IncidentError) as raised:
        find_system(config, asked)
    assert str(raised.value).startswith(message)


def test_systems_are_found_whatever_their_case_and_spacing(config: Config) -> None:
    assert find_system(config, "  zendesk   US government ") == "Zendesk US Government"


def test_an_empty_sheet_says_where_to_put_it() -> None:
    with pytest.raises(RolloutError, match=r"\[incidents.systems\] is empty"):
        find_system(Config(), "Zendesk Global")


# ------------------------------------------------------------------ the command


@pytest.fixture
def sheet(workdir: Path) -> Path:
    return write_config(workdir, SHEET)


def test_incident_text(run: RunCli, sheet: Path) -> None:
    result = run("incident", "calendly", "--reported-at", "2027-03-28T01:30")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == textwrap.dedent("""\
        Calendly: Business Operational
          Reported:     Sunday 2027-03-28 01:30 CET
          Wait:         8 hours for a response in #support-operations
          Escalate at:  Sunday 2027-03-28 10:30 CEST, if nobody has responded
          PagerDuty:    open an incident on the service "Customer Support Operations"

        Checklist:
          1. Post in #support-operations first (during Global Support Hours).
          2. Wait 8 hours for a response.
          3. No response by Sunday 2027-03-28 10:30 CEST: open a PagerDuty incident with "Customer Support Operations" as the impacted service.
          4. Be available to work with the on-call on a plan to resolve it.
        The incident issue includes:
          - a clear description of what is happening
          - the impact on users and customers
          - error messages or screenshots
          - the troubleshooting steps already taken
    """)


def test_incident_json(run: RunCli, sheet: Path) -> None:
    result = run("incident", "Zendesk Global", "--reported-at", "2027-01-20T08:00Z", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["system"] == "Zendesk Global" and data["tier"] == "Mission Critical"
    assert (data["wait"], data["wait_minutes"]) == ("10 minutes", 10)
    assert data["reported_at"] == "2027-01-20T09:00:00+01:00"
    assert data["escalate_at"] == "2027-01-20T09:10:00+01:00"
    assert data["timezone"] == "Europe/Berlin"
    assert data["pagerduty_service"] == "Customer Support Operations"
    assert data["channel"] == "#support-operations"
    assert len(data["checklist"]) == 4 and len(data["issue_includes"]) == 4


def test_the_service_and_channel_are_configurable(run: RunCli, workdir: Path) -> None:
    write_config(
        workdir,
        '[incidents]\npagerduty_service = "Support Systems"\nchannel = "#ops"\n[incidents.systems]\nZendesk = "Mission Critical"\n',
    )
    data = json.loads(
        run("incident", "Zendesk", "--reported-at", "2027-01-20T08:00Z", "--json").stdout
    )
    assert data["pagerduty_service"] == "Support Systems"
    assert data["checklist"][0] == "Post in #ops first (during Global Support Hours)."
    assert data["timezone"] == "UTC" and data["escalate_at"] == "2027-01-20T08:10:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["incident", "Zendsk Global", "--reported-at", "2027-01-20T09:00"],
            'Error: unknown system "Zendsk Global"; did you mean "Zendesk Global"',
        ),
        (
            ["incident", "Calendly", "--reported-at", "2027-03-28T02:30"],
            "Error: 2027-03-28T02:30 does not exist in Europe/Berlin",
        ),
        (
            ["incident", "Calendly", "--reported-at", "9999-12-31T23:30"],
            "Error: 8 hours after 9999-12-31 23:30 is past the year 9999",
        ),
        (
            ["incident", "Calendly", "--reported-at", "yesterday"],
            "Error: Invalid value for '--reported-at': \"yesterday\" is not a date and time",
        ),
        (
            ["incident", "Calendly", "--reported-at", "2027-02-30T09:00"],
            "Error: Invalid value for '--reported-at': \"2027-02-30T09:00\" is not a real date and time",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(
    run: RunCli, sheet: Path, args: list[str], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(message)
    assert "Traceback" not in result.stderr
