"""The trackers: GitLab over real HTTP (the test server) and snapshot files, giving the same answers."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result
from gitlab_server import GitLabServer, GitLabState
from scenarios import load_story

from rollout.cli import cli
from rollout.config import TrackerConfig
from rollout.trackers import IssueQuery
from rollout.trackers.gitlab import GitLabTracker
from rollout.trackers.snapshot import take_snapshot

STORIES = Path(__file__).parent / "stories"
PROJECT = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"
ISSUES = [str(iid) for iid in range(101, 118)]


def support_ops() -> GitLabState:
    return load_story((STORIES / "support_ops.story").read_text(encoding="utf-8"))


@pytest.fixture
def server() -> Iterator[GitLabServer]:
    with GitLabServer(support_ops()) as running:
        yield running


class Rollout:
    """``rollout`` run in a scratch directory whose rollout.toml points at the test server."""

    def __init__(self, directory: Path, server: GitLabServer, extra: str = "") -> None:
        self.directory = directory
        self.server = server
        self.env = {"GITLAB_URL": server.url, "GITLAB_TOKEN": server.token}
        (directory / "rollout.toml").write_text(
            f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\nretries = 2\ntimeout = 5\n{extra}',
            encoding="utf-8",
        )

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner(env={**self.env, **(env or {})})
        return runner.invoke(cli, ["--config", str(self.directory / "rollout.toml"), *args])


@pytest.fixture
def rollout(workdir: Path, server: GitLabServer) -> Rollout:
    return Rollout(workdir, server)


def gets(server: GitLabServer) -> list[str]:
    return [request.path for request in server.requests if request.method == "GET"]


# ------------------------------------------------------------------ same answers


@pytest.mark.parametrize("as_of", ["2027-01-20", "2027-01-05", "2027-02-02"])
def test_gitlab_and_snapshot_give_identical_check_json(
    rollout: Rollout, workdir: Path, as_of: str
) -> None:
    snapshot = workdir / "tracker.json"
    written = rollout("snapshot", "--out", str(snapshot), "--state", "all")
    assert written.exit_code == 0, written.stderr
    assert written.stderr == f"wrote {snapshot} (17 issues)\n"

    live = rollout("--tracker", "gitlab", "check", *ISSUES, "--as-of", as_of, "--json")
    offline = rollout(
        "--tracker", f"snapshot:{snapshot}", "check", *ISSUES, "--as-of", as_of, "--json"
    )
    assert live.exit_code == offline.exit_code == 1
    assert live.stdout == offline.stdout
    verdicts = json.loads(live.stdout)
    assert [v["iid"] for v in verdicts] == [int(iid) for iid in ISSUES]
    assert all(
        [c["id"] for c in v["checks"]]
        == [
            "state",
            "request-type",
            "stage",
            "validation",
            "blockers",
            "criticality",
            "ships-on",
            "milestone",
        ]
        for v in verdicts
    )


def test_the_snapshot_keeps_gitlabs_shapes(
    rollout: Rollout, server: GitLabServer, workdir: Path
) -> None:
    snapshot = workdir / "tracker.json"
    rollout("snapshot", "--out", str(snapshot), "--state", "all")
    data = json.loads(snapshot.read_text(encoding="utf-8"))
    expected = server.state.snapshot(PROJECT)
    assert data["project"] == expected["project"]
    assert data["issues"] == expected["issues"]
    assert [m["title"] for m in data["milestones"]] == [
        "CustSuppOps Deployment 2027-03-01",
        "CustSuppOps Deployment 2027-02-01",
        "CustSuppOps Deployment 2027-01-01",
    ]


def test_credentials_in_issue_text_go_into_no_snapshot_and_no_output(
    rollout: Rollout, server: GitLabServer, workdir: Path
) -> None:
    """§7: not from GITLAB_TOKEN, nor a URL with user:token@ or private_token=, wherever
    they were pasted."""
    issue = server.state.issue(PROJECT, 101)
    issue.title = f"Macro for {server.token}"
    issue.description += (
        "\n\nSee https://bob:HUNTER2@example.com/x and https://x.example/?private_token=PRIV99"
    )
    snapshot = workdir / "tracker.json"
    assert rollout("snapshot", "--out", str(snapshot), "--state", "all").exit_code == 0
    written = snapshot.read_text(encoding="utf-8")
    for secret in (server.token, "HUNTER2", "PRIV99"):
        assert secret not in written
    for args in (["check", "101"], ["check", "101", "--json"], ["status"], ["announce", "101"]):
        result = rollout(*args, "--as-of", "2027-01-20")
        assert server.token not in result.stdout + result.stderr, args


def test_recent_snapshot_is_open_issues_plus_those_closed_in_90_days(server: GitLabServer) -> None:
    tracker = tracker_for(server)
    late_march = datetime(2027, 3, 20, tzinfo=UTC)  # 113 closed Jan 10: 69 days; 108 Jan 6: 73
    recent = take_snapshot(tracker, "recent", None, now=late_march)
    assert [i["iid"] for i in recent["issues"]] == [*range(101, 118)]
    april = datetime(2027, 4, 7, tzinfo=UTC)  # 108 is now 91 days closed, 113 is 87
    assert [i["iid"] for i in take_snapshot(tracker, "recent", None, now=april)["issues"]] == [
        101,
        102,
        103,
        104,
        105,
        106,
        107,
        109,
        110,
        111,
        112,
        113,
        114,
        115,
        116,
        117,
    ]
    closed = take_snapshot(tracker, "closed", None, now=april)
    assert [i["iid"] for i in closed["issues"]] == [108, 113]
    by_milestone = take_snapshot(tracker, "opened", "CustSuppOps Deployment 2027-03-01", now=april)
    assert [i["iid"] for i in by_milestone["issues"]] == [104]


def test_snapshot_filters_are_asked_of_gitlab(server: GitLabServer) -> None:
    tracker = tracker_for(server)
    server.reset_requests()
    tracker.list_json(
        IssueQuery("closed", labels=("Customer::Support-EMEA",), milestone="X"), history=()
    )
    [request] = server.requests
    assert request.query["state"] == ["closed"]
    assert request.query["labels"] == ["Customer::Support-EMEA"]
    assert request.query["milestone"] == ["X"]
    assert request.query["per_page"] == ["100"]


# ------------------------------------------------------------------ request counts


def test_checking_one_issue_costs_five_requests(rollout: Rollout, server: GitLabServer) -> None:
    server.reset_requests()
    result = rollout("check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(server.requests) == 5
    paths = gets(server)
    assert paths.count("/api/v4/user") == 1  # whose announcement markers count
    assert any(p.endswith("/issues") for p in paths)  # iids[]=101, filtered by GitLab
    assert any(p.endswith("/issues/101/resource_label_events") for p in paths)
    assert any(p.endswith("/issues/101/links") for p in paths)
    assert any(p.endswith("/issues/101/notes") for p in paths)
    [listing] = [r for r in server.requests if r.path.endswith("/issues")]
    assert listing.query["iids[]"] == ["101"]


def test_checking_three_issues_lists_them_in_one_request(
    rollout: Rollout, server: GitLabServer
) -> None:
    server.reset_requests()
    rollout("check", "101", "102", "105", "--as-of", "2027-01-20")
    assert len(server.requests) == 1 + 3 * 3 + 1  # and GET /user


def histories_read(server: GitLabServer) -> dict[int, list[str]]:
    """Per issue, which of its label events, links and notes were fetched."""
    read: dict[int, list[str]] = {}
    for path in gets(server):
        parts = path.split("/")
        if len(parts) >= 2 and parts[-2].isdigit() and parts[-3] == "issues":
            read.setdefault(int(parts[-2]), []).append(parts[-1])
    return {iid: sorted(kinds) for iid, kinds in read.items()}


def in_shipping_stage(server: GitLabServer) -> set[int]:
    project = server.state.project(PROJECT)
    shipping = {"Stage::Implementation", "Stage::Completed"}
    return {issue.iid for issue in project.issues.values() if shipping & set(issue.labels)}


def test_notes_read_histories_only_of_issues_that_may_ship_with_the_deployment(
    rollout: Rollout, server: GitLabServer
) -> None:
    project = server.state.project(PROJECT)
    title = "CustSuppOps Deployment 2027-02-01"
    in_milestone = {
        issue.iid
        for issue in project.issues.values()
        if issue.milestone_id and project.milestones[issue.milestone_id].title == title
    }
    server.reset_requests()
    result = rollout("notes", "2027-02-01", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    read = histories_read(server)
    # Outside the milestone, #103 (ad-hoc, signed off 2027-01-15: it ships before the 1st
    # whatever its history says) and #112 (an exception approved for 2027-01-25) are in a
    # shipping stage but cannot ship on 2027-02-01; nothing else is.
    assert in_shipping_stage(server) - in_milestone == {103, 112}
    assert set(read) == in_milestone
    assert len(read) < len(project.issues)  # some issues needed nothing
    # Notes only where the verdict reads the announcement date: signed off (not #106, whose
    # sign-off came before its rework).
    everything = ["links", "notes", "resource_label_events"]
    assert read == {
        101: everything,
        102: everything,
        105: everything,
        106: ["links", "resource_label_events"],
        108: everything,
    }


def test_changes_ics_reads_histories_only_of_issues_in_a_shipping_stage(
    rollout: Rollout, server: GitLabServer, workdir: Path
) -> None:
    server.reset_requests()
    result = rollout("calendar", "--from", "2027-01-01", "--out", str(workdir / "out"))
    assert result.exit_code == 0, result.stderr
    read = histories_read(server)
    assert set(read) == in_shipping_stage(server)
    # #112 ships on the date leadership approved: no announcement date, no notes to read.
    assert read.pop(112) == ["links", "resource_label_events"]
    assert all(kinds == ["links", "notes", "resource_label_events"] for kinds in read.values())


@time_machine.travel(datetime(2027, 3, 1, 12, tzinfo=UTC))
def test_a_snapshot_reads_no_history_of_an_issue_closed_long_ago_but_touched_lately(
    rollout: Rollout, server: GitLabServer, workdir: Path
) -> None:
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)  # what the snapshot's "last 90 days" count back from
    server.state.add_issue(PROJECT, 900, "Old news", "alice", now - timedelta(days=300))
    server.state.close_issue(PROJECT, 900, at=now - timedelta(days=200))
    server.state.change_labels(PROJECT, 900, add=["Priority::4"], at=now - timedelta(days=1))
    server.reset_requests()
    result = rollout("snapshot", "--out", str(workdir / "recent.json"))
    assert result.exit_code == 0, result.stderr
    listed = [r for r in server.requests if r.path.endswith("/issues")]
    assert any(r.query.get("state") == ["closed"] for r in listed)  # it was listed...
    assert 900 not in histories_read(server)  # ...but its history was not fetched
    saved = json.loads((workdir / "recent.json").read_text(encoding="utf-8"))
    assert 900 not in [issue["iid"] for issue in saved["issues"]]


def open_issues(count: int) -> GitLabState:
    """The project with ``count`` open issues, #1 to #count, made on one day."""
    state = GitLabState()
    state.add_project(PROJECT)
    for iid in range(1, count + 1):
        state.add_issue(
            PROJECT, iid, f"Issue {iid}", "alice", created_at=datetime(2027, 1, 1, tzinfo=UTC)
        )
    return state


def test_listing_250_issues_costs_three_pages() -> None:
    state = open_issues(250)
    with GitLabServer(state) as server:
        tracker = tracker_for(server)
        issues = tracker.list_issues(IssueQuery("opened"), history=())
        assert len(issues) == 250
        assert len(server.requests) == 3
        pages = [r.query.get("page", ["1"])[0] for r in server.requests]
        assert pages[0] == "1"  # it says how many there are
        assert sorted(pages) == ["1", "2", "3"]


def test_the_pages_after_the_first_are_asked_for_side_by_side() -> None:
    """Once page 1 says there are 4, pages 2 to 4 are on their way together: each arrives
    at the server before the others could have been answered (every answer waits 1 s)."""
    state = open_issues(350)
    with GitLabServer(state, latency=1.0) as server:
        listed = tracker_for(server).list_json(IssueQuery("opened"), history=())
        assert [data["iid"] for data in listed] == list(range(350, 0, -1))  # GitLab's order
        arrived = {r.query.get("page", ["1"])[0]: r.received for r in server.requests}
    assert sorted(arrived) == ["1", "2", "3", "4"]
    later = [arrived[page] for page in ("2", "3", "4")]
    assert min(later) >= arrived["1"] + 1.0  # after page 1's answer
    assert max(later) - min(later) < 1.0  # none waited for another's answer


def test_list_pages_in_flight_stay_within_the_concurrency() -> None:
    """[tracker] concurrency = 2, two lists of 3 pages side by side: never more than two
    requests at the server at once (every answer waits half a second)."""
    state = GitLabState()
    state.add_project(PROJECT)
    for iid in range(1, 501):
        state.add_issue(
            PROJECT, iid, f"Issue {iid}", "alice", created_at=datetime(2027, 1, 1, tzinfo=UTC)
        )
        if iid % 2:
            state.close_issue(PROJECT, iid, at=datetime(2027, 1, 2, tzinfo=UTC))
    with GitLabServer(state, latency=0.5) as server:
        tracker = tracker_for(server, concurrency=2)
        opened, closed = tracker.list_each([IssueQuery("opened"), IssueQuery("closed")])
        assert len(opened) == len(closed) == 250
        arrivals = sorted(r.received for r in server.requests)
    assert len(arrivals) == 6
    for third in range(2, len(arrivals)):
        # a third request arrives only once one of the two before it was answered
        assert arrivals[third] >= arrivals[third - 2] + 0.5


def test_a_list_started_early_is_read_once_and_given_to_the_list_asked_for(
    server: GitLabServer,
) -> None:
    tracker = tracker_for(server)
    opened = IssueQuery("opened")
    expected = tracker.list_json(opened, history=())
    server.reset_requests()
    tracker.prefetch_list(opened)
    tracker.prefetch_list(opened)  # once is enough
    assert tracker.list_json(opened, history=()) == expected
    assert tracker.list_json(IssueQuery("closed"), history=()) != expected
    assert [r.query.get("state") for r in server.requests] == [["opened"], ["closed"]]
    assert tracker.list_json(opened, history=()) == expected  # a later list reads again
    assert len(server.requests) == 3


# ------------------------------------------------------------------ faults


def test_rate_limit_is_retried_after_retry_after(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("status", code=429, retry_after=1, match=r"/issues$")
    result = rollout("check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    listings = [r for r in server.requests if r.path.endswith("/issues")]
    assert [r.status for r in listings] == [429, 200]


def test_service_unavailable_is_retried(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("status", code=503, match=r"/resource_label_events")
    result = rollout("check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    assert server.count(path_contains="resource_label_events") == 2


def test_a_dropped_connection_is_retried(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("drop", match=r"/links")
    result = rollout("check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr


def error_line(result: Result) -> str:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    return result.stderr.rstrip("\n")


def test_persistent_503_gives_up_after_the_retries(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("status", code=503, times=10, match=r"/issues$")
    line = error_line(rollout("check", "101"))
    assert line == (
        f"Error: GitLab answered 503 Service Unavailable while reading issue #101 of {PROJECT}, "
        "even after retries; try again later"
    )
    listings = [r for r in server.requests if r.path.endswith("/issues")]
    assert len(listings) == 3  # the first try and two retries


def test_bad_token_is_rejected(rollout: Rollout) -> None:
    line = error_line(rollout("check", "101", env={"GITLAB_TOKEN": "glpat-wrong"}))
    assert line.startswith(
        f"Error: GitLab rejected the token (401 Unauthorized) while reading issue #101 of {PROJECT}"
    )
    assert "glpat-wrong" not in line


def test_unknown_issue_and_unknown_project(
    rollout: Rollout, workdir: Path, server: GitLabServer
) -> None:
    assert error_line(rollout("check", "999")) == (
        f"Error: issue #999 of {PROJECT} not found (check the issue numbers)"
    )
    other = Rollout(workdir, server, "")
    (workdir / "rollout.toml").write_text(
        '[tracker]\nkind = "gitlab"\nproject = "nobody/nothing"\n'
    )
    assert error_line(other("check", "1")) == (
        "Error: project not found while reading issue #1 of nobody/nothing (404 Project Not Found); "
        "check [tracker] project"
    )


def test_refused_connection_names_the_url(rollout: Rollout) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    line = error_line(rollout("check", "101", env={"GITLAB_URL": url}))
    assert line == (
        f"Error: cannot reach GitLab at {url} while reading issue #101 of {PROJECT}: "
        "connection refused; check GITLAB_URL and your network"
    )


def test_truncated_json_is_one_error_line(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("truncate", match=r"/notes")
    line = error_line(rollout("check", "101"))
    assert line == (
        f"Error: GitLab at {server.url} sent an answer that is not valid JSON while reading "
        f"the history of issue #101 of {PROJECT}; try again"
    )


def test_slow_answer_times_out(workdir: Path, server: GitLabServer) -> None:
    slow = Rollout(workdir, server)
    (workdir / "rollout.toml").write_text(
        f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\nretries = 0\ntimeout = 0.3\n'
    )
    server.inject("slow", seconds=1.5, match=r"/issues$")
    line = error_line(slow("check", "101"))
    assert line == (
        f"Error: GitLab at {server.url} did not answer within 0.3 s while reading issue #101 of "
        f"{PROJECT}; try again, or raise [tracker] timeout"
    )


def test_no_token_at_all(rollout: Rollout, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner(env={"GITLAB_URL": rollout.server.url, "GITLAB_TOKEN": None}).invoke(
        cli, ["--config", str(rollout.directory / "rollout.toml"), "check", "101"]
    )
    assert error_line(result) == (
        "Error: no GitLab token: set GITLAB_TOKEN (in GitLab CI too: a CI job token cannot read issues), "
        "or name a python-gitlab config section in [tracker] gitlab_id"
    )


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "code": 429, "retry_after": 0, "times": 5},
        {"kind": "status", "code": 401},
        {"kind": "truncate"},
        {"kind": "status", "code": 500, "times": 5},
    ],
)
def test_the_token_never_appears_even_when_verbose(
    rollout: Rollout, server: GitLabServer, fault: dict
) -> None:
    server.inject(**fault, match=r"/issues$")
    result = rollout("--verbose", "check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 2
    assert server.token not in result.stdout + result.stderr
    assert (
        f"rollout: GitLab: reading issue #101 of {PROJECT}\n" in result.stderr
    )  # --verbose did say more


def test_the_token_is_not_in_verbose_success_output(rollout: Rollout, server: GitLabServer) -> None:
    result = rollout("--verbose", "check", "101", "--as-of", "2027-01-20", "--json")
    assert result.exit_code == 0
    assert server.token not in result.stdout + result.stderr


# ------------------------------------------------------------------ connecting


def test_ci_job_token(workdir: Path) -> None:
    with GitLabServer(support_ops(), job_token="ci-job-token-xyz") as server:
        rollout = Rollout(workdir, server)
        result = rollout(
            "check",
            "101",
            "--as-of",
            "2027-01-20",
            env={
                "GITLAB_TOKEN": None,
                "GITLAB_URL": None,
                "CI_SERVER_URL": server.url,
                "CI_JOB_TOKEN": "ci-job-token-xyz",
            },  # type: ignore[dict-item]
        )
        assert result.exit_code == 0, result.stderr
        assert {r.auth for r in server.requests} == {"JOB-TOKEN"}


def test_python_gitlab_config_section(workdir: Path, server: GitLabServer) -> None:
    config_file = workdir / "python-gitlab.cfg"
    config_file.write_text(
        f"[global]\ndefault = ops\n\n[ops]\nurl = {server.url}\nprivate_token = {server.token}\n"
    )
    (workdir / "rollout.toml").write_text(f'[tracker]\nproject = "{PROJECT}"\ngitlab_id = "ops"\n')
    result = CliRunner(
        env={"PYTHON_GITLAB_CFG": str(config_file), "GITLAB_TOKEN": None, "GITLAB_URL": None}
    ).invoke(
        cli, ["--config", str(workdir / "rollout.toml"), "check", "101", "--as-of", "2027-01-20"]
    )
    assert result.exit_code == 0, result.stderr


def test_snapshot_tracker_refuses_unknown_issues_and_bad_files(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "broken.json").write_text("{", encoding="utf-8")
    result = run("--tracker", "snapshot:broken.json", "check", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: broken.json is not a snapshot file: Expecting property name"
    )
    (workdir / "empty.json").write_text('{"project": {}, "issues": []}', encoding="utf-8")
    result = run("--tracker", "snapshot:empty.json", "check", "7")
    assert result.stderr == "Error: issue #7 not found in the snapshot empty.json\n"
    result = run("--tracker", "snapshot:missing.json", "check", "7")
    assert result.stderr == "Error: cannot read snapshot missing.json: No such file or directory\n"
    result = run("check", "7")
    assert result.stderr == (
        "Error: no tracker configured: set [tracker] in rollout.toml, "
        "or pass --tracker gitlab or --tracker snapshot:PATH\n"
    )


def tracker_for(server: GitLabServer, concurrency: int = 8) -> GitLabTracker:
    """The GitLab tracker of the test server, connected as the CLI connects it."""
    settings = TrackerConfig(
        kind="gitlab", project=PROJECT, url=server.url, retries=2, concurrency=concurrency
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITLAB_TOKEN", server.token)
        return GitLabTracker.connect(settings)


def test_no_connection_is_dropped_when_every_request_is_in_flight(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """[tracker] concurrency = 16: the histories 16 at a time, with the token's user and an
    issue list in flight too, find a connection to keep (urllib3 warns on stderr of every
    one it has to drop)."""
    state = open_issues(40)
    with GitLabServer(state, latency=0.2) as server:
        tracker = tracker_for(server, concurrency=16)
        tracker.prefetch_user()
        tracker.prefetch_list(IssueQuery("closed"))
        with caplog.at_level(logging.WARNING, logger="urllib3"):
            assert len(tracker.issues(list(range(1, 41)))) == 40
        tracker.list_json(IssueQuery("closed"), history=())
        tracker.close()
    dropped = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert dropped == []
