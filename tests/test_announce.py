"""rollout announce: the text of each phase in each format, templates, and posting once."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gitlab_server import GitLabServer
from scenarios import load_story

from rollout.cli import cli

STORY = """\
project ops/tracker id 7
now 2027-01-20 10:00
user alice "Alice Moreau"
user bob "Bob Okafor"
feature 42 "Add a refund macro" by alice, C2, customer Support-EMEA, assignee bob,
    description "## What\\nA macro that answers refund requests.\\n\\n## Why\\nAgents type the same answer forty times a week.\\n\\n## Other information\\nThe old macro is retired.":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received; 2027-01-11 14:00 implementation
"""
PRE_NOTE = 'note 42 by rollout-bot on 2027-01-05: "Planned.\\n\\n<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"\n'
CONFIG = '[audiences]\nSupport-EMEA = "Support Engineers in EMEA"\n'

PRE = {
    "md": """\
        ### Planned change: Add a refund macro

        - **Who:** Support Engineers in EMEA
        - **What:** Add a refund macro
        - **When:** Monday 2027-02-01, standard deployment (CustSuppOps Deployment 2027-02-01)
        - **Criticality:** C2, announced 3 weeks ahead
        - **Requested by:** Alice Moreau; built by Bob Okafor
        - **Request link:** https://gitlab.example.com/ops/tracker/-/issues/42 (questions go there)

        #### What

        A macro that answers refund requests.

        #### Why

        Agents type the same answer forty times a week.

        #### Other information

        The old macro is retired.
    """,
    "slack": """\
        *Planned change: Add a refund macro*
        • *Who:* Support Engineers in EMEA
        • *What:* Add a refund macro
        • *When:* Monday 2027-02-01, standard deployment (CustSuppOps Deployment 2027-02-01)
        • *Criticality:* C2, announced 3 weeks ahead
        • *Requested by:* Alice Moreau; built by Bob Okafor
        • *Request link:* <https://gitlab.example.com/ops/tracker/-/issues/42|#42> (questions go there)

        *What*
        A macro that answers refund requests.

        *Why*
        Agents type the same answer forty times a week.

        *Other information*
        The old macro is retired.
    """,
    "text": """\
        Planned change: Add a refund macro

        Who: Support Engineers in EMEA
        What: Add a refund macro
        When: Monday 2027-02-01, standard deployment (CustSuppOps Deployment 2027-02-01)
        Criticality: C2, announced 3 weeks ahead
        Requested by: Alice Moreau; built by Bob Okafor
        Request link: https://gitlab.example.com/ops/tracker/-/issues/42 (questions go there)

        What:
        A macro that answers refund requests.

        Why:
        Agents type the same answer forty times a week.

        Other information:
        The old macro is retired.
    """,
}
HEADLINES = {
    "md": ("### Planned change: Add a refund macro", "### {}"),
    "slack": ("*Planned change: Add a refund macro*", "*{}*"),
    "text": ("Planned change: Add a refund macro", "{}"),
}


def expected(phase: str, fmt: str) -> str:
    """The pre text with the headline, the When and the link line of the other phases."""
    text = textwrap.dedent(PRE[fmt])
    if phase == "pre":
        return text
    old_headline, pattern = HEADLINES[fmt]
    if phase == "reminder":
        return text.replace(
            old_headline, pattern.format("Reminder: Add a refund macro ships in 3 days")
        )
    text = text.replace(old_headline, pattern.format("Now live: Add a refund macro"))
    text = text.replace("When:** Monday", "When:** live since Monday").replace(
        "When:* Monday", "When:* live since Monday"
    )
    text = text.replace("When: Monday", "When: live since Monday")
    return text.replace("(questions go there)", "(send feedback there)")


@pytest.fixture
def snapshot(workdir: Path) -> Path:
    state = load_story(STORY + PRE_NOTE)
    path = workdir / "snapshot.json"
    path.write_text(json.dumps(state.snapshot(7)), encoding="utf-8")
    (workdir / "rollout.toml").write_text(CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["md", "slack", "text"])
@pytest.mark.parametrize(
    ("phase", "as_of"), [("pre", "2027-01-05"), ("reminder", "2027-01-29"), ("post", "2027-02-02")]
)
def test_golden_text(run, snapshot: Path, phase: str, as_of: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "announce",
        "42",
        "--phase",
        phase,
        "--as-of",
        as_of,
        "--format",
        fmt,
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected(phase, fmt)


def test_reminder_on_the_day_says_today(run, snapshot: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "announce",
        "42",
        "--phase",
        "reminder",
        "--as-of",
        "2027-02-01",
        "--format",
        "text",
    )
    assert result.stdout.splitlines()[0] == "Reminder: Add a refund macro ships today"


def test_post_before_its_date_is_a_draft_and_posting_it_is_refused(run, snapshot: Path) -> None:  # type: ignore[no-untyped-def]
    draft = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "announce",
        "42",
        "--phase",
        "post",
        "--as-of",
        "2027-01-31",
    )
    assert draft.exit_code == 0, draft.stderr
    assert draft.stdout.startswith("### Now live: Add a refund macro\n")
    assert (
        draft.stderr
        == "warning: a draft: #42 ships on 2027-02-01; the post-announcement can go out from that day on\n"
    )
    result = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "announce",
        "42",
        "--phase",
        "post",
        "--as-of",
        "2027-01-31",
        "--post",
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == "Error: #42 ships on 2027-02-01; the post-announcement can go out from that day on\n"
    )


def test_reminder_after_an_approved_date_is_refused(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    story = STORY.replace("assignee bob,", "assignee bob, deployment Exception, due 2027-01-25,")
    (workdir / "s.json").write_text(json.dumps(load_story(story).snapshot(7)), encoding="utf-8")
    result = run(
        "--tracker",
        "snapshot:s.json",
        "announce",
        "42",
        "--phase",
        "reminder",
        "--as-of",
        "2027-01-26",
    )
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: #42 shipped on 2027-01-25; send the post-announcement (--phase post) instead\n"
    )
    result = run(
        "--tracker",
        "snapshot:s.json",
        "announce",
        "42",
        "--phase",
        "reminder",
        "--as-of",
        "2027-01-24",
        "--format",
        "text",
    )
    assert result.stdout.splitlines()[0] == "Reminder: Add a refund macro ships in 1 day"
    assert "When: Monday 2027-01-25, exception deployment\n" in result.stdout


def test_c1_can_be_announced_weeks_before_its_signoff(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    story = """\
project ops/tracker id 7
feature 50 "Route Japanese tickets to APAC" by erin, C1:
  2027-01-04 triage; 2027-01-05 development
"""
    (workdir / "s.json").write_text(json.dumps(load_story(story).snapshot(7)), encoding="utf-8")
    result = run(
        "--tracker",
        "snapshot:s.json",
        "announce",
        "50",
        "--as-of",
        "2027-01-04",
        "--format",
        "text",
    )
    assert result.exit_code == 0, result.stderr
    assert "When: Monday 2027-02-01, standard deployment" in result.stdout
    late = run(
        "--tracker",
        "snapshot:s.json",
        "announce",
        "50",
        "--as-of",
        "2027-01-05",
        "--format",
        "text",
    )
    assert "When: Monday 2027-03-01, standard deployment" in late.stdout


# ------------------------------------------------------------------ templates


def test_a_team_template_replaces_one_template(run, snapshot: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "team").mkdir()
    (workdir / "team" / "announce.txt.j2").write_text(
        "{{ issue.reference }} ships {{ when.date }} for {{ who | join(' and ') }}\n",
        encoding="utf-8",
    )
    (workdir / "rollout.toml").write_text(CONFIG + '[templates]\ndir = "team"\n', encoding="utf-8")
    text = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "announce",
        "42",
        "--as-of",
        "2027-01-05",
        "--format",
        "text",
    )
    assert text.stdout == "#42 ships 2027-02-01 for Support Engineers in EMEA\n"
    markdown = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "announce",
        "42",
        "--as-of",
        "2027-01-05",
        "--format",
        "md",
    )
    assert markdown.stdout == expected("pre", "md")  # the others still come from rollout


def test_a_template_with_a_missing_variable_is_an_error(run, snapshot: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "team").mkdir()
    (workdir / "team" / "announce.md.j2").write_text(
        "{{ issue.title }} by {{ issue.sponsor }}\n", encoding="utf-8"
    )
    (workdir / "rollout.toml").write_text('[templates]\ndir = "team"\n', encoding="utf-8")
    result = run("--tracker", f"snapshot:{snapshot}", "announce", "42", "--as-of", "2027-01-05")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == "Error: template announce.md.j2: 'dict object' has no attribute 'sponsor'\n"
    )
    (workdir / "team" / "announce.md.j2").write_text("{{ sponsor }}\n", encoding="utf-8")
    result = run("--tracker", f"snapshot:{snapshot}", "announce", "42", "--as-of", "2027-01-05")
    assert result.stderr == "Error: template announce.md.j2: 'sponsor' is undefined\n"


def test_a_broken_template_is_an_error(run, snapshot: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "team").mkdir()
    (workdir / "team" / "announce.md.j2").write_text("{% if %}\n", encoding="utf-8")
    (workdir / "rollout.toml").write_text('[templates]\ndir = "team"\n', encoding="utf-8")
    result = run("--tracker", f"snapshot:{snapshot}", "announce", "42", "--as-of", "2027-01-05")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: template announce.md.j2: line 1: ")


def test_missing_template_directory_is_a_config_error(run, snapshot: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "rollout.toml").write_text('[templates]\ndir = "nowhere"\n', encoding="utf-8")
    result = run("--tracker", f"snapshot:{snapshot}", "announce", "42")
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"Error: rollout.toml: templates.dir: {workdir / 'nowhere'} is not a directory\n"
    )


# ------------------------------------------------------------------ posting


class Posting:
    def __init__(self, directory: Path, server: GitLabServer) -> None:
        self.directory = directory
        self.server = server
        (directory / "rollout.toml").write_text(
            CONFIG + '[tracker]\nkind = "gitlab"\nproject = "ops/tracker"\nretries = 2\n',
            encoding="utf-8",
        )

    def __call__(self, *args: str) -> Result:
        """Run rollout with the server's clock at 10:00 on the --as-of day, as in real life."""
        if "--as-of" in args:
            day = date.fromisoformat(args[args.index("--as-of") + 1])
            self.server.state.set_clock(lambda: datetime.combine(day, time(10, 0), tzinfo=UTC))
        env = {"GITLAB_URL": self.server.url, "GITLAB_TOKEN": self.server.token}
        return CliRunner(env=env).invoke(
            cli, ["--config", str(self.directory / "rollout.toml"), *args]
        )

    def posts(self) -> int:
        return self.server.count(method="POST", path_contains="/notes")

    def notes_with(self, text: str) -> int:
        return sum(text in note["body"] for note in self.server.state.notes_json(7, 42))


@pytest.fixture
def gitlab(workdir: Path) -> Iterator[Posting]:
    with GitLabServer(load_story(STORY)) as server:
        yield Posting(workdir, server)


MARKER = "<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"


def test_posting_twice_posts_once(gitlab: Posting) -> None:
    first = gitlab("announce", "42", "--as-of", "2027-01-05", "--post")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == expected("pre", "md")
    assert gitlab.posts() == 1
    assert gitlab.notes_with(MARKER) == 1
    [note] = gitlab.server.state.notes_json(7, 42)
    assert note["body"] == expected("pre", "md").rstrip() + "\n\n" + MARKER + "\n"
    assert first.stderr == f"posted the pre announcement to #42 (note {note['id']})\n"

    second = gitlab("announce", "42", "--as-of", "2027-01-05", "--post")
    assert second.exit_code == 0
    assert gitlab.posts() == 1  # no second POST
    assert second.stderr == (
        f"the pre announcement for 2027-02-01 is already on #42 (note {note['id']} of 2027-01-05); nothing posted\n"
    )
    # Later runs find the same announcement: its day, not theirs, is the announcement date.
    third = gitlab("announce", "42", "--as-of", "2027-01-20", "--post")
    assert "already on #42" in third.stderr
    assert gitlab.posts() == 1


def test_a_502_on_the_post_is_retried_into_exactly_one_note(gitlab: Posting) -> None:
    gitlab.server.inject("status", code=502, method="POST", match=r"/notes")
    result = gitlab("announce", "42", "--as-of", "2027-01-05", "--post")
    assert result.exit_code == 0, result.stderr
    assert gitlab.posts() == 2
    assert gitlab.notes_with(MARKER) == 1


def test_a_lost_answer_is_not_posted_again(gitlab: Posting) -> None:
    # The note is created, then the connection drops before the answer arrives.
    gitlab.server.inject("drop", method="POST", match=r"/notes", after=True)
    result = gitlab("announce", "42", "--as-of", "2027-01-05", "--post")
    assert result.exit_code == 0, result.stderr
    assert gitlab.posts() == 1
    assert gitlab.notes_with(MARKER) == 1
    assert result.stderr.startswith("posted the pre announcement to #42")


def test_a_moved_date_is_announced_anew(gitlab: Posting) -> None:
    gitlab("announce", "42", "--as-of", "2027-01-05", "--post")
    # Validation is taken back: the sign-off now comes after the February cut-off.
    gitlab.server.state.change_labels(
        7, 42, add=["Stage::Validation"], at="2027-01-26T09:00:00Z", by="bob"
    )
    gitlab.server.state.change_labels(
        7, 42, add=["Validation::Awaiting"], at="2027-01-26T09:00:00Z", by="bob"
    )
    gitlab.server.state.change_labels(
        7, 42, add=["Validation::Received"], at="2027-01-28T09:00:00Z", by="alice"
    )
    gitlab.server.state.change_labels(
        7, 42, add=["Stage::Implementation"], at="2027-01-28T10:00:00Z", by="bob"
    )
    result = gitlab("announce", "42", "--as-of", "2027-01-28", "--post")
    assert result.exit_code == 0, result.stderr
    assert "When:** Monday 2027-03-01" in result.stdout
    assert gitlab.posts() == 2
    assert gitlab.notes_with("<!-- rollout:announcement phase=pre deploy=2027-03-01 -->") == 1


def test_an_early_post_announcement_is_a_draft_and_never_posted(gitlab: Posting) -> None:
    draft = gitlab("announce", "42", "--phase", "post", "--as-of", "2027-01-20")
    assert draft.exit_code == 0, draft.stderr
    assert draft.stdout == expected("post", "md")
    assert draft.stderr.startswith("warning: a draft: #42 ships on 2027-02-01;")
    refused = gitlab("announce", "42", "--phase", "post", "--as-of", "2027-01-20", "--post")
    assert refused.exit_code == 2
    assert gitlab.posts() == 0


@pytest.mark.parametrize("why", ["```js`\nvar x", "~~~\nunclosed", "```\nunclosed", "    indented"])
def test_a_description_that_looks_like_code_never_hides_the_marker(
    gitlab: Posting, why: str
) -> None:
    """A backtick fence whose info string holds a backtick opens no code block (CommonMark):
    reading the marker must agree with how the note is written and rendered."""
    issue = gitlab.server.state.issue(7, 42)
    issue.description = f"## What\nA change.\n\n## Why\n{why}"
    for _ in range(2):
        result = gitlab("announce", "42", "--as-of", "2027-01-05", "--post")
        assert result.exit_code == 0, result.stderr
    assert gitlab.posts() == 1
    assert gitlab.notes_with(MARKER) == 1


@pytest.mark.parametrize(
    ("phase", "labels", "closed", "why"),
    [
        ("post", ["Stage::Planning"], True, "#42 has not shipped"),
        ("post", ["Stage::Implementation"], True, "#42 was closed without Stage::Completed"),
        ("pre", ["RequestType::Incident"], False, "#42 is an incident"),
    ],
)
def test_nothing_that_did_not_ship_or_is_an_incident_is_announced(
    gitlab: Posting, phase: str, labels: list[str], closed: bool, why: str
) -> None:
    """It may be shown as a draft, with the reason; posting it is refused."""
    issue = gitlab.server.state.issue(7, 42)
    kept = [label for label in issue.labels if not label.startswith(("Stage::", "RequestType::"))]
    issue.labels = [*kept, *labels]
    if closed:
        issue.state = "closed"
    as_of = ("--phase", phase, "--as-of", "2027-02-02")
    draft = gitlab("announce", "42", *as_of)
    assert draft.exit_code == 0 and draft.stderr.startswith(f"warning: a draft: {why}")
    refused = gitlab("announce", "42", *as_of, "--post")
    assert refused.exit_code == 2 and refused.stderr.startswith(f"Error: {why}"), refused.stderr
    assert gitlab.posts() == 0


def test_reminders_post_once_a_day(gitlab: Posting) -> None:
    gitlab("announce", "42", "--as-of", "2027-01-05", "--post")
    for _ in range(2):
        gitlab("announce", "42", "--phase", "reminder", "--as-of", "2027-01-29", "--post")
    gitlab("announce", "42", "--phase", "reminder", "--as-of", "2027-02-01", "--post")
    assert gitlab.posts() == 3
    assert gitlab.notes_with("phase=reminder deploy=2027-02-01 posted=2027-01-29") == 1
    assert gitlab.notes_with("phase=reminder deploy=2027-02-01 posted=2027-02-01") == 1


def test_check_uses_the_posted_pre_announcement(gitlab: Posting) -> None:
    # As of Jan 20 a C2 change is too late for February (announce-by Jan 11)...
    before = gitlab("check", "42", "--as-of", "2027-01-20", "--json")
    assert json.loads(before.stdout)[0]["ships_on"] == "2027-03-01"
    # ...unless it was announced in time: a pre-announcement posted on Jan 10.
    gitlab("announce", "42", "--as-of", "2027-01-10", "--post")
    after = gitlab("check", "42", "--as-of", "2027-01-20", "--json")
    assert json.loads(after.stdout)[0]["ships_on"] == "2027-02-01"


def test_post_needs_markdown_and_a_writable_tracker(run, snapshot: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "--tracker", f"snapshot:{snapshot}", "announce", "42", "--post", "--format", "slack"
    )
    assert result.exit_code == 2
    assert "--post adds Markdown to the issue" in result.stderr
    result = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "announce",
        "42",
        "--as-of",
        "2027-01-29",
        "--phase",
        "reminder",
        "--post",
    )
    assert result.exit_code == 2
    assert (
        result.stderr == "Error: a snapshot is read-only; use --tracker gitlab to write to GitLab\n"
    )


# ------------------------------------------------------------------ whose markers count (§3)


def test_a_forged_marker_neither_moves_the_date_nor_stops_the_announcement(gitlab: Posting) -> None:
    # Anyone can comment: mallory pastes a pre-announcement marker dated in time for February.
    gitlab.server.state.add_note(
        7, 42, f"Looks good {MARKER}", "mallory", at="2027-01-05T09:00:00Z"
    )
    check = gitlab("check", "42", "--as-of", "2027-01-20", "--json")
    assert json.loads(check.stdout)[0]["ships_on"] == "2027-03-01"  # announced "today": too late
    result = gitlab("announce", "42", "--as-of", "2027-01-20", "--post")
    assert result.exit_code == 0, result.stderr
    assert gitlab.posts() == 1  # the real announcement is still made
    assert "When:** Monday 2027-03-01" in result.stdout


def test_system_notes_and_other_users_do_not_count_but_posters_do(gitlab: Posting) -> None:
    gitlab.server.state.add_note(7, 42, MARKER, "bob", at="2027-01-05T09:00:00Z")
    gitlab.server.state.add_note(
        7, 42, MARKER, "rollout-bot", at="2027-01-06T09:00:00Z", system=True
    )
    untrusted = gitlab("check", "42", "--as-of", "2027-01-20", "--json")
    assert json.loads(untrusted.stdout)[0]["ships_on"] == "2027-03-01"
    config = gitlab.directory / "rollout.toml"
    config.write_text(config.read_text() + '\n[announce]\nposters = ["@Bob"]\n', encoding="utf-8")
    trusted = gitlab("check", "42", "--as-of", "2027-01-20", "--json")
    assert json.loads(trusted.stdout)[0]["ships_on"] == "2027-02-01"  # bob's Jan 5 marker counts
    again = gitlab("announce", "42", "--as-of", "2027-01-20", "--post")
    assert "already on #42" in again.stderr
    assert gitlab.posts() == 0


@pytest.mark.parametrize(
    "marker",
    [
        "<!-- rollout:announcement phase=pre deploy=2027-02-30 -->",
        "<!-- rollout:announcement phase=pre deploy=0000-01-01 -->",
        "<!-- rollout:announcement phase=reminder deploy=2027-02-01 posted=2027-13-01 -->",
    ],
)
def test_a_marker_that_does_not_parse_is_ignored(gitlab: Posting, marker: str) -> None:
    gitlab.server.state.add_note(7, 42, marker, "rollout-bot", at="2027-01-05T09:00:00Z")
    for command in (("check", "42"), ("announce", "42"), ("status",), ("notes", "2027-02-01")):
        result = gitlab(*command, "--as-of", "2027-01-20")
        assert result.exit_code == 0, result.output
    # Ignored: announced on the 20th, a C2 change misses February's announce-by date.
    check = gitlab("check", "42", "--as-of", "2027-01-20", "--json")
    assert json.loads(check.stdout)[0]["ships_on"] == "2027-03-01"
