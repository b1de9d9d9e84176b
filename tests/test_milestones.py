"""rollout milestones: a year's deployment milestones against the project's, over HTTP."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import RunCli
from gitlab_server import GitLabServer, GitLabState
from helpers import config_from
from scenarios import load_story

from rollout.cli import cli
from rollout.issues import Milestone
from rollout.milestones import CLOSED, CREATE, FIX, OK, plan_milestones
from rollout.schedule import Schedule

ROOT = Path(__file__).parent.parent
PROJECT = "ops/tracker"
# May moves to Monday the 3rd and August is skipped: a due date that is not the title's, and a
# month without a milestone.
POLICY = """
[[schedule.override]]
month = "2027-05"
date = "2027-05-03"
reason = "May 1 is a Saturday"

[[schedule.override]]
month = "2027-08"
skip = true
reason = "Summer break"
"""
TITLES = [
    f"CustSuppOps Deployment 2027-{month:02d}-01" for month in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12)
]


def expected_dates(title: str) -> tuple[str, str]:
    month = int(title[-5:-3])
    start = "2026-12-01" if month == 1 else f"2027-{month - 1:02d}-01"
    due = "2027-05-03" if month == 5 else title[-10:]
    return start, due


class Rollout:
    def __init__(self, directory: Path, server: GitLabServer) -> None:
        self.server = server
        self.config = directory / "rollout.toml"
        self.config.write_text(
            f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\nretries = 1\n{POLICY}',
            encoding="utf-8",
        )

    def __call__(self, *args: str) -> Result:
        env = {"GITLAB_URL": self.server.url, "GITLAB_TOKEN": self.server.token}
        return CliRunner(env=env).invoke(cli, ["--config", str(self.config), *args])


def project(*milestones: str) -> GitLabState:
    return load_story("\n".join([f"project {PROJECT}", *milestones]) + "\n")


@pytest.fixture
def serve(workdir: Path) -> Iterator[object]:
    servers: list[GitLabServer] = []

    def start(state: GitLabState) -> tuple[GitLabServer, Rollout]:
        server = GitLabServer(state).start()
        servers.append(server)
        return server, Rollout(workdir, server)

    yield start
    for server in servers:
        server.stop()


def writes(server: GitLabServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests if r.method != "GET"]


def milestones_of(server: GitLabServer) -> dict[str, tuple[str | None, str | None, str]]:
    return {
        m.title: (
            m.start_date.isoformat() if m.start_date else None,
            m.due_date.isoformat() if m.due_date else None,
            m.state,
        )
        for m in server.state.project(PROJECT).milestones.values()
    }


ALL_MISSING = """\
Milestone                          Start       Due         Status
CustSuppOps Deployment 2027-01-01  2026-12-01  2027-01-01  missing; would create
CustSuppOps Deployment 2027-02-01  2027-01-01  2027-02-01  missing; would create
CustSuppOps Deployment 2027-03-01  2027-02-01  2027-03-01  missing; would create
CustSuppOps Deployment 2027-04-01  2027-03-01  2027-04-01  missing; would create
CustSuppOps Deployment 2027-05-01  2027-04-01  2027-05-03  missing; would create
CustSuppOps Deployment 2027-06-01  2027-05-01  2027-06-01  missing; would create
CustSuppOps Deployment 2027-07-01  2027-06-01  2027-07-01  missing; would create
CustSuppOps Deployment 2027-09-01  2027-08-01  2027-09-01  missing; would create
CustSuppOps Deployment 2027-10-01  2027-09-01  2027-10-01  missing; would create
CustSuppOps Deployment 2027-11-01  2027-10-01  2027-11-01  missing; would create
CustSuppOps Deployment 2027-12-01  2027-11-01  2027-12-01  missing; would create
No deployment in 2027-08 (Summer break): no milestone.
Would create 11 milestones; run again with --apply to write them.
"""


def test_a_project_with_none(serve) -> None:  # type: ignore[no-untyped-def]
    server, rollout = serve(project())
    dry = rollout("milestones", "--year", "2027")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout == ALL_MISSING
    assert writes(server) == []

    server.reset_requests()
    applied = rollout("milestones", "--year", "2027", "--apply")
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout == ALL_MISSING.replace("missing; would create", "created").replace(
        "Would create 11 milestones; run again with --apply to write them.",
        "Created 11 milestones.",
    )
    assert (
        writes(server)
        == [("POST", f"/api/v4/projects/{PROJECT.replace('/', '%2F')}/milestones")] * 11
    )
    assert milestones_of(server) == {title: (*expected_dates(title), "active") for title in TITLES}

    server.reset_requests()
    again = rollout("milestones", "--year", "2027", "--apply")
    assert again.exit_code == 0, again.stderr
    assert writes(server) == []
    assert len(server.requests) == 1  # the milestone list, nothing else
    assert again.stdout == ALL_MISSING.replace("missing; would create", "ok").replace(
        "Would create 11 milestones; run again with --apply to write them.", "Nothing to change."
    )


def test_a_project_with_some_one_wrong_and_one_closed(serve) -> None:  # type: ignore[no-untyped-def]
    server, rollout = serve(
        project(
            'milestone "CustSuppOps Deployment 2027-01-01" start 2026-12-01 due 2026-12-31 closed',
            'milestone "CustSuppOps Deployment 2027-02-01" start 2027-01-01 due 2027-02-01',
            'milestone "CustSuppOps Deployment 2027-03-01" start 2027-02-01 due 2027-03-01',
            'milestone "CustSuppOps Deployment 2027-05-01" start 2027-04-01 due 2027-05-01',
            'milestone "CustSuppOps Deployment 2027-06-01" start 2027-05-02 due 2027-06-02',
            'milestone "Q3 planning" start 2027-07-01 due 2027-09-30',
        )
    )
    expected = textwrap.dedent("""\
        Milestone                          Start       Due         Status
        CustSuppOps Deployment 2027-01-01  2026-12-01  2027-01-01  closed; left alone
        CustSuppOps Deployment 2027-02-01  2027-01-01  2027-02-01  ok
        CustSuppOps Deployment 2027-03-01  2027-02-01  2027-03-01  ok
        CustSuppOps Deployment 2027-04-01  2027-03-01  2027-04-01  missing; would create
        CustSuppOps Deployment 2027-05-01  2027-04-01  2027-05-03  due date is 2027-05-01; would fix
        CustSuppOps Deployment 2027-06-01  2027-05-01  2027-06-01  start date is 2027-05-02, due date is 2027-06-02; would fix
        CustSuppOps Deployment 2027-07-01  2027-06-01  2027-07-01  missing; would create
        CustSuppOps Deployment 2027-09-01  2027-08-01  2027-09-01  missing; would create
        CustSuppOps Deployment 2027-10-01  2027-09-01  2027-10-01  missing; would create
        CustSuppOps Deployment 2027-11-01  2027-10-01  2027-11-01  missing; would create
        CustSuppOps Deployment 2027-12-01  2027-11-01  2027-12-01  missing; would create
        No deployment in 2027-08 (Summer break): no milestone.
        Would create 6 milestones and fix 2; run again with --apply to write them.
    """)
    before = milestones_of(server)
    dry = rollout("milestones", "--year", "2027")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout == expected
    assert writes(server) == []
    assert milestones_of(server) == before

    server.reset_requests()
    applied = rollout("milestones", "--year", "2027", "--apply")
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout == (
        expected.replace("missing; would create", "created")
        .replace("due date is 2027-05-01; would fix", "due date was 2027-05-01; fixed")
        .replace(
            "start date is 2027-05-02, due date is 2027-06-02; would fix",
            "start date was 2027-05-02, due date was 2027-06-02; fixed",
        )
        .replace(
            "Would create 6 milestones and fix 2; run again with --apply to write them.",
            "Created 6 milestones and fixed 2.",
        )
    )
    puts = [r for r in server.requests if r.method == "PUT"]
    assert len(writes(server)) == 8
    assert [r.method for r in server.requests if r.method != "GET"].count("POST") == 6
    # only the wrong fields are sent
    assert [r.body for r in puts] == [
        {"due_date": "2027-05-03"},
        {"start_date": "2027-05-01", "due_date": "2027-06-01"},
    ]
    after = milestones_of(server)
    assert after["CustSuppOps Deployment 2027-01-01"] == (
        "2026-12-01",
        "2026-12-31",
        "closed",
    )  # left alone
    assert after["Q3 planning"] == ("2027-07-01", "2027-09-30", "active")  # not ours
    assert {title: after[title] for title in TITLES[1:]} == {
        title: (*expected_dates(title), "active") for title in TITLES[1:]
    }

    server.reset_requests()
    again = rollout("milestones", "--year", "2027", "--apply")
    assert again.exit_code == 0, again.stderr
    assert writes(server) == []
    assert again.stdout.endswith("Nothing to change.\n")
    assert "closed; left alone" in again.stdout


def test_json(serve) -> None:  # type: ignore[no-untyped-def]
    server, rollout = serve(
        project(
            'milestone "CustSuppOps Deployment 2027-01-01" start 2026-12-01 due 2027-01-01 closed',
            'milestone "CustSuppOps Deployment 2027-05-01" start 2027-04-01 due 2027-05-01',
        )
    )
    result = rollout("milestones", "--year", "2027", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["year"], data["applied"], data["skipped"]) == (
        2027,
        False,
        [{"month": "2027-08", "reason": "Summer break"}],
    )
    assert [(m["title"][-10:], m["action"], m["applied"]) for m in data["milestones"]][:5] == [
        ("2027-01-01", "closed", False),
        ("2027-02-01", "create", False),
        ("2027-03-01", "create", False),
        ("2027-04-01", "create", False),
        ("2027-05-01", "fix", False),
    ]
    may = data["milestones"][4]
    assert may == {
        "title": "CustSuppOps Deployment 2027-05-01",
        "start_date": "2027-04-01",
        "due_date": "2027-05-03",
        "action": "fix",
        "wrong": ["due_date"],
        "applied": False,
        "current": {
            "id": may["current"]["id"],
            "iid": 2,
            "state": "active",
            "start_date": "2027-04-01",
            "due_date": "2027-05-01",
            "web_url": f"https://gitlab.example.com/{PROJECT}/-/milestones/2",
        },
    }
    assert writes(server) == []
    applied = json.loads(rollout("milestones", "--year", "2027", "--apply", "--json").stdout)
    assert applied["applied"] is True
    assert [m["applied"] for m in applied["milestones"]] == [False] + [True] * 10


# ------------------------------------------------------------------ snapshots and errors


def test_a_snapshot_answers_the_dry_run_and_refuses_apply(run: RunCli) -> None:
    tracker = f"snapshot:{ROOT / 'examples' / 'snapshot.json'}"
    dry = run("--tracker", tracker, "milestones", "--year", "2027")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines()[1:5] == [
        "CustSuppOps Deployment 2027-01-01  2026-12-01  2027-01-01  closed; left alone",
        "CustSuppOps Deployment 2027-02-01  2027-01-01  2027-02-01  ok",
        "CustSuppOps Deployment 2027-03-01  2027-02-01  2027-03-01  ok",
        "CustSuppOps Deployment 2027-04-01  2027-03-01  2027-04-01  missing; would create",
    ]
    assert dry.stdout.endswith("Would create 9 milestones; run again with --apply to write them.\n")

    applied = run("--tracker", tracker, "milestones", "--year", "2027", "--apply")
    assert applied.exit_code == 2
    assert applied.stdout == ""
    assert (
        applied.stderr
        == "Error: a snapshot is read-only; use --tracker gitlab to write to GitLab\n"
    )


def test_a_refused_write_is_one_error_line(serve) -> None:  # type: ignore[no-untyped-def]
    server, rollout = serve(project())
    server.inject("status", code=403, method="POST", match=r"/milestones$")
    result = rollout("milestones", "--year", "2027", "--apply")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: GitLab rejected the token (403 Forbidden) while creating milestone "
        f"'CustSuppOps Deployment 2027-01-01' in {PROJECT}: it has no access to this; "
        "use a token of a project member\n"
    )


@pytest.mark.parametrize("title", ["Deploy", "Deployment {date:%B}", "Deploy {date:%d}"])
def test_a_title_format_that_names_no_date_is_refused_before_any_write(serve, title: str) -> None:  # type: ignore[no-untyped-def]
    server, rollout = serve(project())
    rollout.config.write_text(rollout.config.read_text() + f'\n[schedule]\nmilestone = "{title}"\n')
    result = rollout("milestones", "--year", "2027", "--apply")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f'Error: rollout.toml: schedule.milestone: "{title}" gives deployments the same title'
    )
    assert result.stderr.count("\n") == 1
    assert server.requests == []


def test_the_year_is_required_and_checked(run: RunCli) -> None:
    missing = run("milestones")
    assert missing.exit_code == 2
    assert "Missing option '--year'" in missing.stderr
    wrong = run("milestones", "--year", "27")
    assert wrong.exit_code == 2
    assert "Invalid value for '--year'" in wrong.stderr


# ------------------------------------------------------------------ the plan, with plain values


def milestone(id: int, title: str, start: str, due: str, state: str = "active") -> Milestone:
    return Milestone(id, id, title, state, date.fromisoformat(start), date.fromisoformat(due))


def test_plan_against_plain_milestones() -> None:
    schedule = Schedule(config_from(POLICY))
    plan = plan_milestones(
        schedule,
        2027,
        [
            milestone(1, "CustSuppOps Deployment 2027-02-01", "2027-01-01", "2027-02-01"),
            milestone(2, "CustSuppOps Deployment 2027-03-01", "2027-02-01", "2027-02-28", "closed"),
            milestone(3, "CustSuppOps Deployment 2027-05-01", "2027-04-01", "2027-05-01"),
        ],
    )
    assert [
        (line.title[-10:], line.start_date, line.due_date, line.action, line.wrong)
        for line in plan.lines
    ][:5] == [
        ("2027-01-01", date(2026, 12, 1), date(2027, 1, 1), CREATE, ()),
        ("2027-02-01", date(2027, 1, 1), date(2027, 2, 1), OK, ()),
        ("2027-03-01", date(2027, 2, 1), date(2027, 3, 1), CLOSED, ()),
        ("2027-04-01", date(2027, 3, 1), date(2027, 4, 1), CREATE, ()),
        ("2027-05-01", date(2027, 4, 1), date(2027, 5, 3), FIX, ("due_date",)),
    ]
    assert len(plan.lines) == 11
    assert [o.month for o in plan.skipped] == [date(2027, 8, 1)]


def test_month_end_periods_are_back_to_back() -> None:
    """With day = 31 a period's milestone starts on the previous period's date."""
    plan = plan_milestones(Schedule(config_from("[schedule]\nday = 31\n")), 2028, [])
    assert [(line.start_date.isoformat(), line.due_date.isoformat()) for line in plan.lines][
        :4
    ] == [
        ("2027-12-31", "2028-01-31"),
        ("2028-01-31", "2028-02-29"),
        ("2028-02-29", "2028-03-31"),
        ("2028-03-31", "2028-04-30"),
    ]
