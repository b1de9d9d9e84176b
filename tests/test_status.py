"""rollout status: the stage board, through the GitLab test server over HTTP."""

from __future__ import annotations

import io
import json
import re
import textwrap
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import RunCli
from gitlab_server import GitLabServer
from helpers import config_from, issues_of_story, readme_example
from scenarios import load_story

from rollout.board import ESCALATION_STEPS, build_board
from rollout.cli import cli
from rollout.cli.progress import fetch_progress
from rollout.markers import NOBODY

ROOT = Path(__file__).parent.parent
PROJECT = "ops/tracker"
# Friday 2027-01-15 is a company holiday and Monday 2027-01-18 is Martin Luther King Jr. Day.
POLICY = '[schedule]\nholidays = { country = "US" }\nextra_holidays = ["2027-01-15"]\n'

STORY = """\
project ops/tracker id 42
now 2027-01-20 10:00
ops bob
user alice "Alice Moreau"
user bob "Bob Okafor"
user carol "Carol Lindqvist"
milestone "CustSuppOps Deployment 2027-02-01" start 2027-01-01 due 2027-02-01
milestone "CustSuppOps Deployment 2027-03-01" start 2027-02-01 due 2027-03-01

# stage ages over the long weekend
bug 1 "Form loses the CC field" by carol, C3: 2027-01-14 triage
bug 2 "Macro has a typo" by carol, C4: 2027-01-13 triage
feature 3 "Weekly digest of breached tickets" by alice, C3: 2027-01-04 triage; 2027-01-06 planning

# blocked for 6, 7, 14, 21 and 28 days
feature 11 "Sandbox for the Zendesk app" by alice, C3: 2027-01-05 planning; 2027-01-14 blocked
feature 12 "Sync the org field" by alice, C3: 2027-01-04 development; 2027-01-13 blocked
link 12 blocked by 2
feature 13 "Import the old macros" by carol, C3: 2027-01-04 scheduling; 2027-01-06 blocked
feature 14 "Chat widget on the portal" by carol, C2: 2026-12-21 triage; 2026-12-30 blocked
bug 15 "Survey link expires early" by alice, C3: 2026-12-22 development; 2026-12-23 blocked

# validation: waiting too long (6 business days), rejected (ops' move), waiting briefly
feature 21 "Tag VIP tickets" by alice, C3: 2027-01-04 development; 2027-01-08 validation awaiting
feature 22 "Merge duplicate users" by carol, C3:
  2027-01-04 development; 2027-01-06 validation; 2027-01-12 rejected by carol
bug 23 "Wrong SLA on chat" by carol, C3: 2027-01-11 development; 2027-01-18 validation awaiting

# the 2027-02-01 deployment
feature 31 "Refund macro" by alice, C4, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-06 validation; 2027-01-07 received; 2027-01-08 implementation
bug 32 "Broken footer link" by carol, C4:
  2027-01-11 development; 2027-01-12 validation; 2027-01-13 received; 2027-01-19 implementation
feature 33 "Auto-close solved tickets" by alice, C2, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-05 validation; 2027-01-06 received; 2027-01-07 implementation
feature 34 "Japanese routing" by carol, C3, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-11 development
bug 35 "Attachment limit" by alice, C4, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-05 validation; 2027-01-06 received; 2027-01-07 implementation
link 35 blocked by 1

issue 41 "Question about SSO" by carol: 2027-01-19 add Customer::Support-EMEA
bug 42 "Old export button" by carol, C4: 2027-01-04 triage
close 42 on 2027-01-05
"""
OPEN_ISSUES = 17

BOARD = """\
Status on Wednesday 2027-01-20: 17 open issues

Stages: business days in the stage, against its target
Stage                  Issue  Since       Days  Target           Title
Stage::Triage          #2     2027-01-13  3     2       overdue  Macro has a typo
                       #1     2027-01-14  2                      Form loses the CC field
Stage::Planning        #3     2027-01-06  8     5       overdue  Weekly digest of breached tickets
Stage::Development     #34    2027-01-11  5     15               Japanese routing
Stage::Validation      #22    2027-01-06  8     5       overdue  Merge duplicate users
                       #21    2027-01-08  6             overdue  Tag VIP tickets
                       #23    2027-01-18  2                      Wrong SLA on chat
Stage::Implementation  #33    2027-01-07  7     3       overdue  Auto-close solved tickets
                       #35    2027-01-07  7             overdue  Attachment limit
                       #31    2027-01-08  6             overdue  Refund macro
                       #32    2027-01-19  1                      Broken footer link
Stage::Blocked         #15    2026-12-23  16    -                Survey link expires early
                       #14    2026-12-30  12                     Chat widget on the portal
                       #13    2027-01-06  8                      Import the old macros
                       #12    2027-01-13  3                      Sync the org field
                       #11    2027-01-14  2                      Sandbox for the Zendesk app
Without one stage label:
  Issue  Problem         Title
  #41    no stage label  Question about SSO

Blocked: the escalation step due (one step every 1 week)
Issue  Since       Blocked for  Step due                   Next step   Returns to          Blocked by  Title
#15    2026-12-23  28 days      4: comment and close       -           Stage::Development  -           Survey link expires early
#14    2026-12-30  21 days      3: ping the next level up  2027-01-27  Stage::Triage       -           Chat widget on the portal
#13    2027-01-06  14 days      2: ping their leadership   2027-01-27  Stage::Scheduling   -           Import the old macros
#12    2027-01-13  7 days       1: ping the blocker        2027-01-27  Stage::Development  #2          Sync the org field
#11    2027-01-14  6 days       0: none yet                2027-01-21  Stage::Planning     -           Sandbox for the Zendesk app

Waiting for the requester's validation longer than the target
Issue  Since       Days  Target  Remind                 Title
#21    2027-01-08  6     5       @alice (Alice Moreau)  Tag VIP tickets

Next deployment: Monday 2027-02-01 (CustSuppOps Deployment 2027-02-01), in 12 days
Ready for it: 2
  Issue  Deployment           Title
  #31    standard deployment  Refund macro
  #32    standard deployment  Broken footer link
In its milestone but not shipping with it: 3
  #33 Auto-close solved tickets
    → ships-on: 2027-03-01, standard deployment (not earlier: C2 needs 3 weeks notice: announced 2027-01-20, after the 2027-02-01 deployment's announce-by date 2027-01-11)
    ! milestone: the milestone is CustSuppOps Deployment 2027-02-01, but it ships with CustSuppOps Deployment 2027-03-01; move it
  #34 Japanese routing
    ✗ stage: in Stage::Development; it ships once it reaches Stage::Implementation
    ✗ validation: waiting for Validation::Received from the requester
    ✗ ships-on: waits for the sign-off (see validation)
  #35 Attachment limit
    ✗ blockers: blocked by open #1; close or unlink them first
Coming up:
  Date        When        What                    For
  2027-01-27  in 7 days   sign-off cut-off        the 2027-02-01 deployment
  2027-02-01  in 12 days  announce C1 changes by  the 2027-03-01 deployment
"""


class Rollout:
    """``rollout`` with a rollout.toml that reads the test server's project."""

    def __init__(self, directory: Path, server: GitLabServer, policy: str = POLICY) -> None:
        self.server = server
        self.config = directory / "rollout.toml"
        self.config.write_text(
            f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\nretries = 1\n{policy}',
            encoding="utf-8",
        )

    def __call__(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        base = {"GITLAB_URL": self.server.url, "GITLAB_TOKEN": self.server.token}
        runner = CliRunner(env={**base, **(env or {})})
        return runner.invoke(cli, ["--config", str(self.config), *args])


@pytest.fixture
def server() -> Iterator[GitLabServer]:
    with GitLabServer(load_story(STORY)) as running:
        yield running


@pytest.fixture
def rollout(workdir: Path, server: GitLabServer) -> Rollout:
    return Rollout(workdir, server)


def url(iid: int) -> str:
    return f"https://gitlab.example.com/{PROJECT}/-/issues/{iid}"


# ------------------------------------------------------------------ the board on a terminal


def test_the_board_as_text(rollout: Rollout, server: GitLabServer) -> None:
    result = rollout("status", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == BOARD
    assert result.stderr == ""  # no progress bar off a terminal


def test_requests_label_history_for_all_and_links_and_notes_only_where_needed(
    rollout: Rollout, server: GitLabServer
) -> None:
    result = rollout("status", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    assert {r.method for r in server.requests} == {"GET"}
    [listing] = [r for r in server.requests if r.path.endswith("/issues")]
    assert listing.query["state"] == ["opened"]

    def fetched(kind: str) -> list[int]:
        return sorted(
            int(r.path.split("/issues/")[1].split("/")[0])
            for r in server.requests
            if r.path.endswith(f"/{kind}")
        )

    # #41 has no stage label and is in no milestone: its labels are all the board shows.
    assert len(fetched("resource_label_events")) == OPEN_ISSUES - 1
    # Links of the Blocked issues (their blockers) and of the issues whose verdict the board
    # shows: the milestone's, and those that may ship next (#32). Notes of those whose
    # verdict reads the announcement date: signed off (not #34, in Development).
    judged = [31, 32, 33, 34, 35]
    assert fetched("links") == [11, 12, 13, 14, 15, *judged]
    assert fetched("notes") == [31, 32, 33, 35]
    assert len(server.requests) == 1 + OPEN_ISSUES - 1 + 5 + 5 + 4 + 1  # and GET /user


def test_colour_only_on_a_terminal_and_never_with_no_color(
    rollout: Rollout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rollout.cli.status.stdout_is_terminal", lambda: True)
    coloured = rollout("status", "--as-of", "2027-01-20")
    assert coloured.exit_code == 0, coloured.stderr
    assert "\x1b[1mStatus on Wednesday 2027-01-20: 17 open issues\x1b[0m\n" in coloured.stdout
    assert (
        "Stage::Triage          #2     2027-01-13  \x1b[31m3\x1b[0m     2       "
        "\x1b[31moverdue\x1b[0m  Macro has a typo\n"
    ) in coloured.stdout
    assert "\x1b[33m1: ping the blocker\x1b[0m" in coloured.stdout
    assert "\x1b[31m4: comment and close\x1b[0m" in coloured.stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stdout) == BOARD

    plain = rollout("status", "--as-of", "2027-01-20", env={"NO_COLOR": "1"})
    assert plain.stdout == BOARD


def test_untrusted_titles_cannot_drive_the_terminal(rollout: Rollout, server: GitLabServer) -> None:
    server.state.update_issue(PROJECT, 1, title="Form \x1b[2J\x1b[31mloses\u202e the\nCC field")
    result = rollout("status", "--as-of", "2027-01-20")
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert (
        "#1     2027-01-14  2                      Form [2J[31mloses the CC field\n"
        in result.stdout
    )
    board = json.loads(rollout("status", "--as-of", "2027-01-20", "--json").stdout)
    assert (
        board["stages"][0]["issues"][1]["title"] == "Form \x1b[2J\x1b[31mloses\u202e the\nCC field"
    )


def test_progress_bar_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with fetch_progress("Fetching issues", file=terminal) as progress:
        assert progress is not None
        for done in range(1, 5):
            progress(done, 4)
    assert "Fetching issues" in terminal.getvalue()
    assert "100%" in terminal.getvalue()

    pipe = io.StringIO()
    with fetch_progress("Fetching issues", file=pipe) as progress:
        assert progress is None
    assert pipe.getvalue() == ""


def test_the_status_command_shows_progress_when_stderr_is_a_terminal(
    rollout: Rollout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rollout.cli.progress.stderr_is_terminal", lambda: True)
    result = rollout("status", "--as-of", "2027-01-20")
    assert result.exit_code == 0
    assert result.stdout == BOARD
    # CliRunner's stderr is no terminal, so click draws the label only; on a real one, the bar.
    # One round: what each issue needs is known from the list.
    assert result.stderr == "Fetching issues\n"


# ------------------------------------------------------------------ the same content as JSON


def test_the_board_as_json(rollout: Rollout) -> None:
    result = rollout("status", "--as-of", "2027-01-20", "--json")
    assert result.exit_code == 0, result.stderr
    board = json.loads(result.stdout)
    assert board["as_of"] == "2027-01-20"
    assert board["open_issues"] == OPEN_ISSUES
    assert {
        group["label"]: (
            group["target"],
            [
                (i["iid"], i["entered_on"], i["business_days"], i["overdue"])
                for i in group["issues"]
            ],
        )
        for group in board["stages"]
    } == {
        "Stage::Triage": (
            "2 business days",
            [(2, "2027-01-13", 3, True), (1, "2027-01-14", 2, False)],
        ),
        "Stage::Planning": ("5 business days", [(3, "2027-01-06", 8, True)]),
        "Stage::Scheduling": ("5 business days", []),
        "Stage::Queued": (None, []),
        "Stage::Development": ("15 business days", [(34, "2027-01-11", 5, False)]),
        "Stage::Validation": (
            "5 business days",
            [
                (22, "2027-01-06", 8, True),
                (21, "2027-01-08", 6, True),
                (23, "2027-01-18", 2, False),
            ],
        ),
        "Stage::Implementation": (
            "3 business days",
            [
                (33, "2027-01-07", 7, True),
                (35, "2027-01-07", 7, True),
                (31, "2027-01-08", 6, True),
                (32, "2027-01-19", 1, False),
            ],
        ),
        "Stage::Completed": ("2 business days", []),
        "Stage::Blocked": (
            None,
            [
                (15, "2026-12-23", 16, False),
                (14, "2026-12-30", 12, False),
                (13, "2027-01-06", 8, False),
                (12, "2027-01-13", 3, False),
                (11, "2027-01-14", 2, False),
            ],
        ),
        "Stage::Backlogged": (None, []),
    }
    assert board["stages"][0]["issues"][0] == {
        "iid": 2,
        "title": "Macro has a typo",
        "web_url": url(2),
        "entered_on": "2027-01-13",
        "business_days": 3,
        "overdue": True,
    }
    assert board["unstaged"] == [
        {"iid": 41, "title": "Question about SSO", "web_url": url(41), "problem": "no stage label"}
    ]
    assert [
        (
            b["iid"],
            b["days"],
            b["step"],
            b["action"],
            b["next_step_on"],
            b["returns_to"],
            b["blocked_by"],
        )
        for b in board["blocked"]
    ] == [
        (15, 28, 4, "comment and close", None, "Stage::Development", []),
        (14, 21, 3, "ping the next level up", "2027-01-27", "Stage::Triage", []),
        (13, 14, 2, "ping their leadership", "2027-01-27", "Stage::Scheduling", []),
        (12, 7, 1, "ping the blocker", "2027-01-27", "Stage::Development", ["#2"]),
        (11, 6, 0, "none yet", "2027-01-21", "Stage::Planning", []),
    ]
    assert board["blocked"][3] == {
        "iid": 12,
        "title": "Sync the org field",
        "web_url": url(12),
        "entered_on": "2027-01-13",
        "days": 7,
        "step": 1,
        "action": "ping the blocker",
        "next_step_on": "2027-01-27",
        "returns_to": "Stage::Development",
        "blocked_by": ["#2"],
    }
    assert board["validation_waiting"] == [
        {
            "iid": 21,
            "title": "Tag VIP tickets",
            "web_url": url(21),
            "entered_on": "2027-01-08",
            "business_days": 6,
            "target": "5 business days",
            "remind": {"username": "alice", "name": "Alice Moreau"},
        }
    ]
    upcoming = board["next_deployment"]
    assert {
        key: upcoming[key]
        for key in ("date", "milestone", "signoff_cutoff", "announce_by", "frozen_for")
    } == {
        "date": "2027-02-01",
        "milestone": "CustSuppOps Deployment 2027-02-01",
        "signoff_cutoff": "2027-01-27",
        "announce_by": {
            "C1": "2027-01-04",
            "C2": "2027-01-11",
            "C3": "2027-01-18",
            "C4": "2027-02-01",
        },
        "frozen_for": [],
    }
    assert upcoming["ready"] == [
        {
            "iid": 31,
            "title": "Refund macro",
            "web_url": url(31),
            "ships_on": "2027-02-01",
            "deployment_type": "standard",
        },
        {
            "iid": 32,
            "title": "Broken footer link",
            "web_url": url(32),
            "ships_on": "2027-02-01",
            "deployment_type": "standard",
        },
    ]
    assert [
        (
            n["iid"],
            n["ready"],
            n["ships_on"],
            [(r["id"], r["ok"], r["level"]) for r in n["reasons"]],
        )
        for n in upcoming["not_ready"]
    ] == [
        (33, True, "2027-03-01", [("ships-on", True, "error"), ("milestone", False, "warning")]),
        (
            34,
            False,
            None,
            [
                ("stage", False, "error"),
                ("validation", False, "error"),
                ("ships-on", False, "error"),
            ],
        ),
        (35, False, None, [("blockers", False, "error")]),
    ]
    assert upcoming["not_ready"][2]["reasons"] == [
        {
            "id": "blockers",
            "ok": False,
            "level": "error",
            "detail": "blocked by open #1; close or unlink them first",
        }
    ]
    assert upcoming["deadlines"] == [
        {
            "date": "2027-01-27",
            "kind": "signoff_cutoff",
            "criticality": None,
            "deployment": "2027-02-01",
        },
        {
            "date": "2027-02-01",
            "kind": "announce_by",
            "criticality": "C1",
            "deployment": "2027-03-01",
        },
    ]


def test_gitlab_and_its_snapshot_give_the_same_board(rollout: Rollout, workdir: Path) -> None:
    snapshot = workdir / "tracker.json"
    assert rollout("snapshot", "--out", str(snapshot), "--state", "opened").exit_code == 0
    live = rollout("status", "--as-of", "2027-01-20", "--json")
    offline = rollout(
        "--tracker", f"snapshot:{snapshot}", "status", "--as-of", "2027-01-20", "--json"
    )
    assert live.stdout == offline.stdout
    assert (
        rollout("--tracker", f"snapshot:{snapshot}", "status", "--as-of", "2027-01-20").stdout
        == BOARD
    )


# ------------------------------------------------------------------ escalation, day by day

BLOCKED = """\
project ops/tracker
feature 7 "Sandbox" by alice, C3: 2027-01-04 planning; 2027-01-06 blocked
"""


@pytest.mark.parametrize(
    ("days", "step", "next_step_on"),
    [
        (0, 0, "2027-01-13"),
        (6, 0, "2027-01-13"),
        (7, 1, "2027-01-20"),
        (13, 1, "2027-01-20"),
        (14, 2, "2027-01-27"),
        (21, 3, "2027-02-03"),
        (27, 3, "2027-02-03"),
        (28, 4, None),
        (90, 4, None),
    ],
)
def test_escalation_step_by_whole_weeks_in_blocked(
    days: int, step: int, next_step_on: str | None
) -> None:
    issues = list(issues_of_story(BLOCKED).values())
    board = build_board(config_from(""), issues, date(2027, 1, 6) + timedelta(days=days), NOBODY)
    [escalation] = board.blocked
    assert escalation.days == days
    assert escalation.step == step
    assert escalation.action == ESCALATION_STEPS[step]
    assert escalation.next_step_on == (date.fromisoformat(next_step_on) if next_step_on else None)
    assert escalation.returns_to == "Stage::Planning"


@pytest.mark.parametrize(
    ("as_of", "step"), [("2027-01-12", 0), ("2027-01-13", 1), ("2027-01-20", 2)]
)
def test_escalation_in_business_days(as_of: str, step: int) -> None:
    """A period in business days skips weekends: 5 business days after Wednesday 01-06."""
    config = config_from('[targets]\nescalation = "5 business days"\n')
    [escalation] = build_board(
        config, list(issues_of_story(BLOCKED).values()), date.fromisoformat(as_of), NOBODY
    ).blocked
    assert escalation.step == step
    assert (
        escalation.next_step_on
        == {0: date(2027, 1, 13), 1: date(2027, 1, 20), 2: date(2027, 1, 27)}[step]
    )


def test_targets_come_from_the_config(
    rollout: Rollout, workdir: Path, server: GitLabServer
) -> None:
    strict = Rollout(
        workdir, server, POLICY + '[targets]\ntriage = "1 business days"\nblocked = "2 weeks"\n'
    )
    board = json.loads(strict("status", "--as-of", "2027-01-20", "--json").stdout)
    triage, blocked = board["stages"][0], board["stages"][8]
    assert (triage["target"], [(i["iid"], i["overdue"]) for i in triage["issues"]]) == (
        "1 business day",
        [(2, True), (1, True)],
    )
    # a calendar target counts calendar days: 28, 21 and 14 days are over two weeks, 7 and 6 not
    assert (blocked["target"], [(i["iid"], i["overdue"]) for i in blocked["issues"]]) == (
        "2 weeks",
        [(15, True), (14, True), (13, False), (12, False), (11, False)],
    )


# ------------------------------------------------------------------ edges


def test_an_empty_project(workdir: Path) -> None:
    state = load_story("project ops/tracker\n")
    with GitLabServer(state) as server:
        result = Rollout(workdir, server)("status", "--as-of", "2027-12-15")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == textwrap.dedent("""\
        Status on Wednesday 2027-12-15: 0 open issues

        Stages: business days in the stage, against its target
        No open issues.

        Blocked: the escalation step due (one step every 1 week)
        Nothing is blocked.

        Waiting for the requester's validation longer than the target
        Nobody to remind.

        Next deployment: Saturday 2028-01-01 (CustSuppOps Deployment 2028-01-01), in 17 days
        Ready for it: none
        In its milestone but not shipping with it: none
        Coming up:
          Date        When        What                    For
          2027-12-18  in 3 days   announce C3 changes by  the 2028-01-01 deployment
          2027-12-28  in 13 days  sign-off cut-off        the 2028-01-01 deployment
    """)


def test_without_a_tracker_it_is_one_error_line(run: RunCli) -> None:
    result = run("status")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: no tracker configured: set [tracker] in rollout.toml, "
        "or pass --tracker gitlab or --tracker snapshot:PATH\n"
    )


def test_a_tracker_failure_is_one_error_line(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("status", code=500, times=5, match=r"/issues$")
    result = rollout("status", "--as-of", "2027-01-20")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: GitLab answered 500 Internal Server Error while listing the issues of {PROJECT}, "
        "even after retries; try again later\n"
    )


def test_the_readme_shows_the_real_board() -> None:
    """The tour's example is the output of the example snapshot, as committed."""
    shown, printed = readme_example("status --as-of 2027-01-20")
    assert printed == shown
