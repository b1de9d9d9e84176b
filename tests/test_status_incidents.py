"""rollout status: the open incidents and when they go to PagerDuty, over HTTP."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from gitlab_server import GitLabServer
from helpers import config_from, issues_of_story
from scenarios import load_story

from rollout.board import build_board
from rollout.cli import cli
from rollout.markers import NOBODY

BERLIN = ZoneInfo("Europe/Berlin")
POLICY = """
[schedule]
timezone = "Europe/Berlin"

[incidents.systems]
Calendly = "Business Operational"
"Zendesk Global" = "Mission Critical"
"Zendesk sandbox" = "Administrative"
"""
# The night of 2027-03-28 the clocks in Berlin go from 02:00 to 03:00.
STORY = """\
project ops/tracker id 42
now 2027-03-28 08:00
incident 1 "Calendly does not book" by carol, labels System::Calendly, created 2027-03-28 00:30
incident 2 "Zendesk is down" by carol, labels "System::Zendesk Global", created 2027-03-27 21:00:
  2027-03-27 21:05 triage
incident 3 "Sandbox login fails" by carol, labels "System::zendesk SANDBOX", created 2027-03-28 07:00
incident 4 "Jira is slow" by carol, labels System::Jira, created 2027-03-28 07:30
incident 5 "No system named" by carol, created 2027-03-28 07:00
incident 6 "Fixed already" by carol, labels System::Calendly, created 2027-03-26 09:00
close 6 on 2027-03-26 12:00
feature 7 "Calendly event for APAC" by alice, labels System::Calendly, created 2027-03-27 09:00
"""


class Rollout:
    def __init__(self, directory: Path, server: GitLabServer) -> None:
        self.server = server
        self.config = directory / "rollout.toml"
        self.config.write_text(
            f'[tracker]\nkind = "gitlab"\nproject = "ops/tracker"\n{POLICY}', encoding="utf-8"
        )

    def __call__(self, *args: str) -> Result:
        env = {"GITLAB_URL": self.server.url, "GITLAB_TOKEN": self.server.token}
        return CliRunner(env=env).invoke(cli, ["--config", str(self.config), *args])


@pytest.fixture
def rollout(workdir: Path) -> Iterator[Rollout]:
    with GitLabServer(load_story(STORY)) as server:
        yield Rollout(workdir, server)


def test_the_incidents_section_comes_first(rollout: Rollout) -> None:
    result = rollout("status", "--as-of", "2027-03-28")
    assert result.exit_code == 0, result.stderr
    head = result.stdout.split("\n\n")[:2]
    assert head == [
        "Status on Sunday 2027-03-28: 6 open issues",
        textwrap.dedent("""\
            Incidents: open a PagerDuty incident if nobody has responded by
            Issue  System           Tier                        Escalate by                             Title
            #2     Zendesk Global   Mission Critical            Saturday 2027-03-27 22:10 CET  overdue  Zendesk is down
            #1     Calendly         Business Operational        Sunday 2027-03-28 10:30 CEST   overdue  Calendly does not book
            #3     zendesk SANDBOX  Administrative              Monday 2027-03-29 09:00 CEST            Sandbox login fails
            #4     Jira             not in [incidents.systems]  ?                                       Jira is slow"""),
    ]


def test_the_incidents_as_json(rollout: Rollout) -> None:
    board = json.loads(rollout("status", "--as-of", "2027-03-28", "--json").stdout)
    assert [
        (i["iid"], i["system"], i["tier"], i["escalate_by"], i["overdue"])
        for i in board["incidents"]
    ] == [
        (2, "Zendesk Global", "Mission Critical", "2027-03-27T22:10:00+01:00", True),
        (1, "Calendly", "Business Operational", "2027-03-28T10:30:00+02:00", True),
        (3, "zendesk SANDBOX", "Administrative", "2027-03-29T09:00:00+02:00", False),
        (4, "Jira", None, None, False),
    ]
    first = board["incidents"][0]
    assert first["wait"] == "10 minutes" and first["created_at"] == "2027-03-27T21:00:00+00:00"
    assert first["problem"] is None
    assert board["incidents"][3]["problem"] == "not in the criticality sheet ([incidents.systems])"


def test_incidents_cost_no_request_of_their_own(rollout: Rollout) -> None:
    rollout("status", "--as-of", "2027-03-28")
    server = rollout.server
    # The one list, the label history of the one open issue with a stage (#2: its age in
    # Triage), GET /user: as without incidents.
    assert server.count("GET", "/issues") == 1 + 1
    assert server.count("GET", "/issues/2/resource_label_events") == 1
    assert len(server.requests) == 1 + 1 + 1


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (datetime(2027, 3, 28, 10, 29, tzinfo=BERLIN), False),
        (datetime(2027, 3, 28, 10, 30, tzinfo=BERLIN), True),  # 8 hours after 01:30 CET
    ],
)
def test_overdue_from_the_escalation_time_on(now: datetime, overdue: bool) -> None:
    issues = issues_of_story(STORY)
    board = build_board(
        config_from(POLICY), list(issues.values()), date(2027, 3, 28), NOBODY, now=now
    )
    [calendly] = [i for i in board.incidents if i.issue.iid == 1]
    assert calendly.overdue is overdue


def test_without_incidents_there_is_no_section() -> None:
    issues = issues_of_story(
        'project ops/tracker id 1\nbug 1 "A bug" by carol: 2027-03-27 triage\n'
    )
    board = build_board(config_from(POLICY), list(issues.values()), date(2027, 3, 28), NOBODY)
    assert board.incidents == ()


def test_the_system_prefix_is_configurable() -> None:
    story = 'project ops/tracker id 1\nincident 1 "Down" by carol, labels Tool::Calendly, created 2027-03-28 00:30\n'
    config = config_from(POLICY + '[labels]\nsystem = "Tool::"\n')
    board = build_board(config, list(issues_of_story(story).values()), date(2027, 3, 28), NOBODY)
    assert [(i.system, i.tier) for i in board.incidents] == [("Calendly", "Business Operational")]
