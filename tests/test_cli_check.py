"""rollout check, for people and as a CI gate, on the example snapshot."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import RunCli

SNAPSHOT = Path(__file__).parent.parent / "examples" / "snapshot.json"
TRACKER = f"snapshot:{SNAPSHOT}"


def test_ready_issue_exits_0_with_one_block(run: RunCli) -> None:
    result = run("--tracker", TRACKER, "check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent("""\
        #101 Ready — ships 2027-02-01, standard deployment
          Add a macro for refund requests
          ✓ state         open
          ✓ request-type  RequestType::Feature
          ✓ stage         Stage::Implementation
          ✓ validation    signed off 2027-01-11
          ✓ blockers      nothing blocks it
          ✓ criticality   Criticality::C2 (3 weeks notice)
          ✓ ships-on      2027-02-01, standard deployment
          ✓ milestone     CustSuppOps Deployment 2027-02-01
    """)


def test_any_issue_not_ready_exits_1(run: RunCli) -> None:
    result = run("--tracker", TRACKER, "check", "101", "107", "--as-of", "2027-01-20")
    assert result.exit_code == 1
    assert result.stdout.split("\n\n")[1] == textwrap.dedent("""\
        #107 Not ready
          A sandbox for the Zendesk app
          ✓ state         open
          ✓ request-type  RequestType::Feature
          ✗ stage         Stage::Blocked; it returns to Stage::Planning when unblocked
          ✗ validation    waiting for Validation::Received from the requester
          ✗ blockers      blocked by open #111; close or unlink them first
          ✓ criticality   Criticality::C3 (2 weeks notice)
          ✗ ships-on      waits for the sign-off (see validation)
          ✓ milestone     no milestone
    """)


def test_json_contract(run: RunCli) -> None:
    result = run("--tracker", TRACKER, "check", "105", "109", "--as-of", "2027-01-20", "--json")
    assert result.exit_code == 1
    bug, incident = json.loads(result.stdout)
    assert bug["iid"] == 105
    assert bug["ready"] is True
    assert bug["ships_on"] == "2027-03-01"
    assert bug["milestone"] == "CustSuppOps Deployment 2027-03-01"
    assert bug["checks"][-1] == {
        "id": "milestone",
        "ok": False,
        "level": "warning",
        "detail": "the milestone is CustSuppOps Deployment 2027-02-01, but it ships with "
        "CustSuppOps Deployment 2027-03-01; move it",
    }
    assert incident["ready"] is False and incident["ships_on"] is None
    assert [c["id"] for c in incident["checks"] if not c["ok"]] == [
        "request-type",
        "stage",
        "validation",
        "ships-on",
    ]


def test_for_date_makes_a_late_issue_fail_the_gate(run: RunCli) -> None:
    result = run(
        "--tracker", TRACKER, "check", "105", "--as-of", "2027-01-20", "--for", "2027-02-01"
    )
    assert result.exit_code == 1
    assert "#105 Not ready" in result.stdout
    assert "later than 2027-02-01, the date asked for" in result.stdout


def test_usage_errors_exit_2(run: RunCli) -> None:
    assert run("--tracker", TRACKER, "check").exit_code == 2
    assert run("--tracker", TRACKER, "check", "abc").exit_code == 2
    assert run("--tracker", "jira", "check", "1").exit_code == 2
    result = run("--tracker", TRACKER, "check", "1")
    assert result.exit_code == 2
    assert result.stderr == f"Error: issue #1 not found in the snapshot {SNAPSHOT}\n"


def test_hostile_title_cannot_drive_the_terminal(run: RunCli, workdir: Path) -> None:
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    [issue] = [i for i in data["issues"] if i["iid"] == 101]
    issue["title"] = "Evil \x1b[2J\x1b]0;pwned\x07 title\u202e with\nnewline"
    (workdir / "hostile.json").write_text(json.dumps(data), encoding="utf-8")
    result = run("--tracker", "snapshot:hostile.json", "check", "101", "--as-of", "2027-01-20")
    assert (
        "\x1b" not in result.stdout
        and "\x07" not in result.stdout
        and "\u202e" not in result.stdout
    )
    assert result.stdout.splitlines()[1] == "  Evil [2J]0;pwned title with newline"


def test_an_unknown_issue_is_named_on_stderr_and_hides_no_verdict(run: RunCli) -> None:
    result = run("--tracker", TRACKER, "check", "999", "101", "998", "--as-of", "2027-01-20")
    assert result.exit_code == 2
    assert result.stdout.startswith("#101 Ready — ships 2027-02-01, standard deployment\n")
    assert result.stdout.count("Ready") == 1
    assert result.stderr == f"Error: issue #999, #998 not found in the snapshot {SNAPSHOT}\n"
    as_json = run(
        "--tracker", TRACKER, "check", "101", "999", "106", "--as-of", "2027-01-20", "--json"
    )
    assert as_json.exit_code == 2
    assert [verdict["iid"] for verdict in json.loads(as_json.stdout)] == [101, 106]
    alone = run("--tracker", TRACKER, "check", "999", "--json")
    assert (alone.exit_code, alone.stdout) == (2, "")


def test_an_unknown_issue_on_gitlab_hides_no_verdict_either(workdir: Path) -> None:
    from click.testing import CliRunner
    from gitlab_server import GitLabServer
    from scenarios import load_story

    from rollout.cli import cli

    story = (Path(__file__).parent / "stories" / "support_ops.story").read_text(encoding="utf-8")
    (workdir / "rollout.toml").write_text(
        f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\n', encoding="utf-8"
    )
    with GitLabServer(load_story(story)) as server:
        runner = CliRunner(env={"GITLAB_URL": server.url, "GITLAB_TOKEN": server.token})
        result = runner.invoke(cli, ["check", "101", "999", "102", "--as-of", "2027-01-20"])
    assert result.exit_code == 2
    assert [line for line in result.stdout.splitlines() if line.startswith("#")] == [
        "#101 Ready — ships 2027-02-01, standard deployment",
        "#102 Ready — ships 2027-02-01, standard deployment",
    ]
    assert result.stderr == f"Error: issue #999 of {PROJECT} not found (check the issue numbers)\n"


PROJECT = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"


def test_issues_are_written_as_gitlab_writes_them(run: RunCli) -> None:
    plain = run("--tracker", TRACKER, "check", "101", "--as-of", "2027-01-20").stdout
    for written in (
        "#101",
        f"{PROJECT}#101",
        f"{PROJECT.upper()}#101",
        f"https://gitlab.example.com/{PROJECT}/-/issues/101",
    ):
        result = run("--tracker", TRACKER, "check", written, "--as-of", "2027-01-20")
        assert (result.exit_code, result.stdout) == (0, plain), written


def test_an_issue_of_another_project_is_refused(run: RunCli) -> None:
    result = run("--tracker", TRACKER, "check", "101", "other/project#101")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: other/project#101 is an issue of other/project, but the tracker is {PROJECT}; "
        "check [tracker] project, or write the issue's number alone\n"
    )


def test_what_is_not_an_issue_is_a_usage_error(run: RunCli) -> None:
    for written in ("abc", "#", "0", "#-1", "project101", "group/project101", "101#"):
        result = run("--tracker", TRACKER, "check", written)
        assert result.exit_code == 2, written
        assert f"{written!r} is not an issue; write 101, #101 or group/project#101" in result.stderr
