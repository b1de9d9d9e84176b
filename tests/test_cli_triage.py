"""rollout triage against the GitLab test server: the dry run, --apply and its idempotence,
the needs-info label, closing self-service requests, whose markers count, hostile text and
self-service patterns that run away on it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import RunCli
from gitlab_server import GitLabServer
from scenarios import load_story

from rollout.cli import cli
from rollout.config import Config, TrackerConfig
from rollout.intake import new_issue_query
from rollout.trackers.gitlab import GitLabTracker
from rollout.trackers.snapshot import SnapshotTracker
from rollout.workflow import Vocabulary

BUG = "## Steps to reproduce\\n1. Export a ticket\\n\\n## Expected behavior\\nCC kept.\\n\\n## Actual behavior\\nCC dropped."
STORY = f"""\
project ops/tracker id 7
now 2027-01-20 10:00
ops bob
user alice "Alice Moreau"
user carol "Carol Lindqvist"
bug 201 "Ticket export drops the CC field" by carol,
    description "## Expected behavior\\nCC kept.\\n\\n## Actual behavior\\nCC dropped.":
  2027-01-18 triage
bug 202 "Macro preview shows raw Liquid" by carol, priority 2, description "{BUG}":
  2027-01-18 triage
feature 203 "Update the refund macro wording" by alice,
    description "## What\\nNew wording.\\n\\n## Why\\nLegal asked.":
  2027-01-19 triage
feature 204 "Weekly digest of breached tickets" by alice: 2027-01-19 triage
issue 205 "Question about SSO" by carol, created 2027-01-19 12:00
feature 206 "Route chats to APAC" by alice, description "## What\\nRoute.\\n\\n## Why\\nHours.":
  2027-01-10 triage; 2027-01-12 planning
incident 207 "Zendesk is down" by carol: 2027-01-20 triage
"""
LABEL = "Triage::Needs Info"
MISSING = {201, 203, 204, 205}


class Rollout:
    def __init__(self, directory: Path, server: GitLabServer) -> None:
        self.directory = directory
        self.server = server
        self.configure()

    def configure(self, extra: str = "") -> None:
        (self.directory / "rollout.toml").write_text(
            f'[tracker]\nkind = "gitlab"\nproject = "ops/tracker"\nretries = 2\n{extra}',
            encoding="utf-8",
        )

    def __call__(self, *args: str) -> Result:
        env = {"GITLAB_URL": self.server.url, "GITLAB_TOKEN": self.server.token}
        return CliRunner(env=env).invoke(
            cli, ["--config", str(self.directory / "rollout.toml"), *args]
        )

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.server.requests if r.method != "GET"]

    def labels(self, iid: int) -> list[str]:
        return list(self.server.state.issue(7, iid).labels)

    def notes(self, iid: int) -> list[str]:
        """The bodies of the issue's notes, oldest first."""
        notes = sorted(self.server.state.notes_json(7, iid), key=lambda note: note["id"])
        return [note["body"] for note in notes]


@pytest.fixture
def rollout(workdir: Path) -> Iterator[Rollout]:
    with GitLabServer(load_story(STORY)) as server:
        yield Rollout(workdir, server)


def test_the_dry_run_shows_every_verdict_and_what_would_be_written(rollout: Rollout) -> None:
    result = rollout("triage", "201", "202")
    assert result.exit_code == 1, result.stderr
    [note] = re.findall(r"<!-- rollout:triage fingerprint=[0-9a-f]{12} -->", result.stdout)
    assert result.stdout == textwrap.dedent(f"""\
        #201 Needs information
          Ticket export drops the CC field
          ✓ request-type  RequestType::Bug
          ✗ template      missing Steps to reproduce
          ✗ severity      no Priority:: label; a bug needs one of Priority::1 (urgent), Priority::2 (high), Priority::3 (medium), Priority::4 (low)
          ✓ self-service  no self-service rule matches
          Would post this note and add the label Triage::Needs Info:
            Thanks for the request! Before Customer Support Operations can plan it, it needs a little more:

            - Add a "Steps to reproduce" section to the description: a heading "Steps to reproduce" with the details under it.
            - Select a severity: add one of the labels Priority::1 (urgent), Priority::2 (high), Priority::3 (medium), Priority::4 (low).

            The Triage::Needs Info label stays on the issue until nothing is missing; the next triage run takes it off.

            {note}

        #202 Complete
          Macro preview shows raw Liquid
          ✓ request-type  RequestType::Bug
          ✓ template      Steps to reproduce, Expected behavior, Actual behavior: filled in
          ✓ severity      Priority::2 (high)
          ✓ self-service  no self-service rule matches

        Would post 1 note and update 1 issue; run again with --apply to write them.
    """)
    assert rollout.writes() == []


def test_without_iids_it_triages_the_open_issues_in_triage_or_no_stage(rollout: Rollout) -> None:
    result = rollout("triage", "--json")
    assert result.exit_code == 1, result.stderr
    found = json.loads(result.stdout)
    assert [item["iid"] for item in found] == [201, 202, 203, 204, 205, 207]  # not 206 (Planning)
    assert {item["iid"] for item in found if not item["ready"]} == MISSING
    first = found[0]
    assert set(first) >= {
        "iid",
        "title",
        "web_url",
        "ready",
        "checks",
        "note",
        "add_labels",
        "remove_labels",
        "close",
        "applied",
    }
    assert [check["id"] for check in first["checks"]] == [
        "request-type",
        "template",
        "severity",
        "self-service",
    ]
    assert first["checks"][1] == {
        "id": "template",
        "ok": False,
        "level": "error",
        "detail": "missing Steps to reproduce",
    }
    assert first["add_labels"] == [LABEL] and first["applied"] is False
    assert found[2]["self_service"]["name"] == "Zendesk managed content"
    assert found[2]["self_service"]["matched"] == "Update the refund macro"
    # One list, GitLab leaving out the issues in later stages; the notes of the four.
    [listing] = [r for r in rollout.server.requests if r.path.endswith("/issues")]
    assert listing.query["not[labels]"][0].split(",")[:2] == [
        "Stage::Planning",
        "Stage::Scheduling",
    ]
    assert rollout.server.count("GET", "/notes") == 4
    assert len(rollout.server.requests) == 1 + 1 + 4  # GET /user, the list, the notes


def test_apply_posts_once_and_a_second_run_writes_nothing(rollout: Rollout) -> None:
    first = rollout("triage", "--apply")
    assert first.exit_code == 1, first.stderr
    assert rollout.server.count("POST") == 4 and rollout.server.count("PUT") == 4
    assert "Posted 4 notes and updated 4 issues." in first.stdout
    for iid in MISSING:
        assert LABEL in rollout.labels(iid)
        [note] = rollout.notes(iid)
        assert re.search(r"<!-- rollout:triage fingerprint=[0-9a-f]{12} -->\n$", note)
    for iid in (202, 207):
        assert LABEL not in rollout.labels(iid) and rollout.notes(iid) == []
    # One PUT per issue, labels added with add_labels (no label-by-label dance).
    puts = [r for r in rollout.server.requests if r.method == "PUT"]
    assert all(r.body == {"add_labels": LABEL} for r in puts)

    rollout.server.reset_requests()
    second = rollout("triage", "--apply")
    assert second.exit_code == 1
    assert rollout.server.count("POST") == 0 and rollout.server.count("PUT") == 0
    assert second.stdout.count("The note listing this is already there") == 4
    assert second.stdout.endswith("Nothing written.\n")


def test_a_fixed_issue_loses_its_label_and_gets_no_note(rollout: Rollout) -> None:
    rollout("triage", "--apply")
    state = rollout.server.state
    state.update_issue(7, 201, description=BUG.replace("\\n", "\n"), at="2027-01-20T11:00:00Z")
    state.change_labels(7, 201, add=["Priority::3"], by="carol", at="2027-01-20T11:00:00Z")
    rollout.server.reset_requests()
    result = rollout("triage", "201", "--apply")
    assert result.exit_code == 0, result.stderr
    assert rollout.writes() == [("PUT", "/api/v4/projects/ops%2Ftracker/issues/201")]
    assert rollout.server.requests[-1].body == {"remove_labels": LABEL}
    assert LABEL not in rollout.labels(201) and len(rollout.notes(201)) == 1
    assert (
        "#201 Complete" in result.stdout
        and "Removed the label Triage::Needs Info." in result.stdout
    )
    rollout.server.reset_requests()
    assert rollout("triage", "201", "--apply").exit_code == 0
    assert rollout.writes() == []


def test_changed_findings_get_a_new_note_and_keep_the_label(rollout: Rollout) -> None:
    rollout("triage", "--apply")
    rollout.server.state.change_labels(
        7, 201, add=["Priority::1"], by="carol", at="2027-01-20T11:00:00Z"
    )
    rollout.server.reset_requests()
    result = rollout("triage", "--apply")
    assert rollout.writes() == [("POST", "/api/v4/projects/ops%2Ftracker/issues/201/notes")]
    old, new = rollout.notes(201)
    assert "Select a severity" in old and "Select a severity" not in new
    assert "Steps to reproduce" in new
    assert "#201 Needs information" in result.stdout


def test_self_service_issues_are_closed_only_when_enabled(rollout: Rollout) -> None:
    rollout("triage", "203", "--apply")
    issue = rollout.server.state.issue(7, 203)
    assert issue.state == "opened" and LABEL in issue.labels
    [note] = rollout.notes(203)
    assert "If it is, close this issue" in note

    rollout.configure("[intake]\nclose_self_service = true\n")
    rollout.server.reset_requests()
    result = rollout("triage", "203", "--apply")
    assert result.exit_code == 1
    issue = rollout.server.state.issue(7, 203)
    assert issue.state == "closed" and LABEL not in issue.labels
    _, closing = rollout.notes(203)
    assert "Closing this issue for that reason" in closing
    assert (
        "https://handbook.gitlab.com/handbook/support/workflows/working_with_support_ops/#self-service-options"
        in closing
    )
    assert rollout.server.requests[-1].body == {"remove_labels": LABEL, "state_event": "close"}
    assert (
        "Posted note" in result.stdout
        and "removed the label Triage::Needs Info and closed the issue" in result.stdout
    )
    # A closed issue is left alone, even when asked for by number; the default list skips it.
    rollout.server.reset_requests()
    again = rollout("triage", "203", "--apply")
    assert "Closed: nothing to write." in again.stdout
    assert rollout.writes() == []


def test_closing_with_a_fresh_issue_adds_no_label(rollout: Rollout) -> None:
    rollout.configure("[intake]\nclose_self_service = true\n")
    rollout("triage", "203", "--apply")
    assert rollout.server.requests[-1].body == {"state_event": "close"}
    assert rollout.labels(203) == ["RequestType::Feature", "Stage::Triage"]


def test_only_trusted_markers_count(rollout: Rollout) -> None:
    dry = json.loads(rollout("triage", "204", "--json").stdout)[0]
    marker = dry["note"].strip().splitlines()[-1]
    # mallory pastes the very marker rollout would post: it must not silence the note.
    rollout.server.state.add_note(
        7, 204, f"Nothing to see {marker}", "mallory", at="2027-01-20T09:00:00Z"
    )
    rollout.server.state.add_note(
        7, 204, marker, "rollout-bot", at="2027-01-20T09:01:00Z", system=True
    )
    rollout("triage", "204", "--apply")
    assert rollout.server.count("POST", "/notes") == 1
    # Once rollout's own note is there, a later untrusted marker does not hide it either.
    rollout.server.state.add_note(
        7,
        204,
        "<!-- rollout:triage fingerprint=000000000000 -->",
        "mallory",
        at="2027-01-20T12:00:00Z",
    )
    rollout.server.reset_requests()
    rollout("triage", "204", "--apply")
    assert rollout.writes() == []


def test_a_note_by_a_poster_counts(rollout: Rollout) -> None:
    dry = json.loads(rollout("triage", "204", "--json").stdout)[0]
    rollout.server.state.add_note(7, 204, dry["note"], "bob", at="2027-01-20T09:00:00Z")
    rollout.configure('[announce]\nposters = ["bob"]\n')
    rollout.server.reset_requests()
    result = rollout("triage", "204", "--apply")
    assert rollout.server.count("POST") == 0 and rollout.server.count("PUT") == 1
    assert "already there" in result.stdout


def test_a_502_on_the_post_is_retried_into_exactly_one_note(rollout: Rollout) -> None:
    rollout.server.inject("status", code=502, method="POST", match=r"/notes")
    result = rollout("triage", "204", "--apply")
    assert result.exit_code == 1, result.stderr
    assert rollout.server.count("POST") == 2 and len(rollout.notes(204)) == 1


def test_a_lost_answer_is_not_posted_again(rollout: Rollout) -> None:
    rollout.server.inject("drop", method="POST", match=r"/notes", after=True)
    result = rollout("triage", "204", "--apply")
    assert result.exit_code == 1, result.stderr
    assert rollout.server.count("POST") == 1 and len(rollout.notes(204)) == 1
    assert LABEL in rollout.labels(204)


def test_a_failed_update_is_an_error_after_the_other_issues(rollout: Rollout) -> None:
    rollout.server.inject("status", code=403, method="PUT", match=r"/issues/201$")
    result = rollout("triage", "--apply")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: could not finish triaging #201: GitLab rejected the token (403"
    )
    assert "\n" not in result.stderr.rstrip("\n")
    assert all(LABEL in rollout.labels(iid) for iid in MISSING - {201})
    assert "then failed" in result.stdout


def test_the_label_name_is_configurable(rollout: Rollout) -> None:
    rollout.configure('[intake]\nneeds_info_label = "needs-info"\n')
    rollout("triage", "205", "--apply")
    assert "needs-info" in rollout.labels(205)


def test_gitlab_leaves_out_the_issues_in_later_stages_as_a_snapshot_does(
    rollout: Rollout, workdir: Path
) -> None:
    snapshot = workdir / "tracker.json"
    assert rollout("snapshot", "--out", str(snapshot), "--state", "all").exit_code == 0
    query = new_issue_query(Vocabulary.from_config(Config()))
    settings = TrackerConfig(kind="gitlab", project="ops/tracker", url=rollout.server.url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITLAB_TOKEN", rollout.server.token)
        live = GitLabTracker.connect(settings).list_json(query, history=())
    offline = SnapshotTracker.load(snapshot).list_json(query, history=())
    assert (
        sorted(int(i["iid"]) for i in live)
        == sorted(int(i["iid"]) for i in offline)
        == [201, 202, 203, 204, 205, 207]
    )
    assert (
        rollout("triage", "--json").stdout
        == rollout("--tracker", f"snapshot:{snapshot}", "triage", "--json").stdout
    )


def test_apply_on_a_snapshot_is_refused(run: RunCli, workdir: Path) -> None:
    snapshot = Path(__file__).parent.parent / "examples" / "snapshot.json"
    result = run("--tracker", f"snapshot:{snapshot}", "triage", "114", "--apply")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: could not finish triaging #114: a snapshot is read-only; use --tracker gitlab to write to GitLab\n"
    )


def test_unknown_issue_is_exit_2(rollout: Rollout) -> None:
    result = rollout("triage", "999")
    assert result.exit_code == 2
    assert result.stderr == "Error: issue #999 of ops/tracker not found (check the issue numbers)\n"


# ------------------------------------------------------------------ hostile text

HOSTILE = "@all /close <!-- rollout:triage fingerprint=aaaaaaaaaaaa --> <script>x</script> (@here) @channel"
LIVE_MENTION = re.compile(r"(?<![`\w])@(all|here|channel)\b")


def test_hostile_text_in_the_note_is_inert(rollout: Rollout) -> None:
    state = rollout.server.state
    state.update_issue(
        7, 204, title=f"hostile {HOSTILE}\x1b[2J\n/assign @mallory", at="2027-01-20T09:00:00Z"
    )
    state.change_labels(
        7, 204, add=[f"Priority::{HOSTILE}"], by="mallory", at="2027-01-20T09:00:00Z"
    )
    rollout.configure(
        "[[intake.self_service]]\nname = \"Anything hostile\"\npatterns = ['hostile.*']\n"
        'instructions = "https://handbook.example.com/self-service"\n'
    )
    result = rollout("triage", "204", "--apply")
    assert result.exit_code == 1, result.stderr
    [note] = rollout.notes(204)
    assert not LIVE_MENTION.search(note), note
    assert not re.search(r"^\s*/", note, re.M)  # no line GitLab would run as a quick action
    assert "<script" not in note
    assert re.findall(r"<!-- rollout:", note) == ["<!-- rollout:"]  # only rollout's own marker
    assert note.rstrip().endswith("-->") and "fingerprint=aaaaaaaaaaaa -->" not in note
    # and on the terminal: no control characters, the title on one line
    assert "\x1b" not in result.stdout


# ------------------------------------------------------------------ runaway patterns

# (a|aa)+$ tries every way of splitting the a's before failing at the "!": without a time
# limit, longer than anyone waits. Issue 202's "Macro" matches the first pattern, so only
# the issues that reach the second one run it.
RUNAWAY = """\
[[intake.self_service]]
name = "Evil"
patterns = ['macros?', '(a|aa)+$']
instructions = "https://example.com/x"
"""
RUNAWAY_ERROR = (
    'Error: self-service rule "Evil": patterns[2] took longer than 0.25 s on issue #204 and '
    "was stopped; simplify the pattern in [[intake.self_service]] (repeats that can match "
    "the same text in many ways, like (a|aa)+, take for ever on some text)\n"
)


def file_hostile_text(rollout: Rollout) -> None:
    rollout.server.state.update_issue(7, 204, description="a" * 40 + "!", at="2027-01-20T09:00:00Z")


def test_a_runaway_pattern_on_hostile_text_is_exit_2_in_one_line(rollout: Rollout) -> None:
    file_hostile_text(rollout)
    rollout.configure(RUNAWAY)
    started = time.monotonic()
    result = rollout("triage", "--json")
    assert time.monotonic() - started < 5
    assert result.exit_code == 2
    assert result.stderr == RUNAWAY_ERROR
    assert result.stdout == ""


def test_apply_writes_nothing_when_a_pattern_runs_away(rollout: Rollout) -> None:
    file_hostile_text(rollout)
    rollout.configure(RUNAWAY)
    result = rollout("triage", "--apply")
    assert result.exit_code == 2
    assert result.stderr == RUNAWAY_ERROR
    # 201 and 203 come before 204 and miss things too: every issue is triaged first.
    assert rollout.writes() == []
    assert all(LABEL not in rollout.labels(iid) and not rollout.notes(iid) for iid in MISSING)


def test_the_reported_pattern_finishes(rollout: Rollout) -> None:
    file_hostile_text(rollout)
    rollout.configure(RUNAWAY.replace("(a|aa)+$", "(a+)+$"))
    started = time.monotonic()
    result = rollout("triage", "--json")
    assert time.monotonic() - started < 5
    assert result.exit_code == 1, result.stderr
    [hostile] = [item for item in json.loads(result.stdout) if item["iid"] == 204]
    assert hostile["self_service"] is None


@pytest.mark.slow
def test_a_runaway_pattern_cannot_hang_the_scheduled_job(rollout: Rollout) -> None:
    # A process of its own, so that a search which does hang fails the test, not the suite.
    file_hostile_text(rollout)
    rollout.configure(RUNAWAY)
    env = {**os.environ, "GITLAB_URL": rollout.server.url, "GITLAB_TOKEN": rollout.server.token}
    config = str(rollout.directory / "rollout.toml")
    done = subprocess.run(
        [sys.executable, "-m", "rollout", "--config", config, "triage", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr, done.stdout) == (2, RUNAWAY_ERROR, "")
