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
    assert [c["id"] for c in incident["checks"] if not c["ok"]] == ["request-type", "stage", "validation", "ships-on"]


def test_for_date_makes_a_late_issue_fail_the_gate(run: RunCli) -> None:
    result = run("--tracker", TRACKER, "check", "105", "--as-of", "2027-01-20", "--for", "2027-02-01")
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
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    assert result.stdout.splitlines()[1] == "  Evil [2J]0;pwned title with newline"
