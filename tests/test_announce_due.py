"""rollout announce --due: which announcements are due on which day (PRODUCT.md §8), and
delivering each exactly once to GitLab and Slack, whatever the network does."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from autopilot import CONFIG, Autopilot, due_json, marker
from click.testing import Result
from helpers import readme_example
from scenarios import load_story
from slack_server import live_mentions

import rollout.delivery.slack as slack_delivery
from rollout.cli import cli

FEB = "CustSuppOps Deployment 2027-02-01"
HEADER = f"""\
project ops/tracker id 7
user alice "Alice Moreau"
user rollout-bot "Rollout Bot"
milestone "{FEB}" start 2027-01-01 due 2027-02-01
milestone "CustSuppOps Deployment 2027-03-01" start 2027-02-01 due 2027-03-01
"""
# Each issue stands for one case of the rules; the dates around its boundaries are in TABLE.
STORY = (
    HEADER
    + f"""\
# Announced, and signed off in time for February: reminders from Jan 29, the post-announcement
# from Feb 1 to Feb 8.
feature 42 "Add a refund macro" by alice, C2, customer Support-EMEA, milestone "{FEB}":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received; 2027-01-11 14:00 implementation
note 42 by rollout-bot on 2027-01-05: "Planned.\\n\\n{marker("pre", "2027-02-01")}"

# In Development, a C3 never announced: announced on Jan 18 it still makes February.
bug 43 "Fix the SLA trigger" by alice, C3, milestone "{FEB}": 2027-01-04 development

# Announced for February, signed off after February's cut-off: the date moved to March.
feature 44 "Route Japanese tickets" by alice, C2, milestone "{FEB}":
  2027-01-04 development; 2027-01-20 validation; 2027-01-28 received; 2027-01-28 12:00 implementation
note 44 by rollout-bot on 2027-01-05: "Planned.\\n\\n{marker("pre", "2027-02-01")}"

# A marker in a comment by somebody else announces nothing.
bug 45 "Typo in the form footer" by alice, C3, milestone "{FEB}": 2027-01-04 development
note 45 by mallory on 2027-01-05: "Done already {marker("pre", "2027-02-01")}"

# Shipped with February, Completed and closed two days later.
bug 46 "Broken link in the footer" by alice, C4, milestone "{FEB}":
  2027-01-04 development; 2027-01-06 validation; 2027-01-07 received; 2027-01-08 implementation
  2027-02-03 completed
close 46 on 2027-02-03

# Closed as won't do.
feature 47 "Dark mode" by alice, C3, milestone "{FEB}": 2027-01-04 development
close 47 on 2027-01-25

# Completed and closed long before its deployment: outside the window (see the README).
bug 48 "Old footer" by alice, C4, milestone "{FEB}":
  2026-12-28 development; 2026-12-29 validation; 2026-12-30 received; 2026-12-31 implementation
  2027-01-05 completed
close 48 on 2027-01-06

# Not in a deployment milestone: never pre-announced, whatever its stage.
feature 49 "No milestone" by alice, C3: 2027-01-04 development
"""
)

# (issue, as-of day) -> the announcements due for it: (phase, date).
TABLE = [
    # 42: the reminder day is Jan 29 (72 hours before Feb 1, 00:00 UTC)
    (42, "2027-01-28", []),
    (42, "2027-01-29", [("reminder", "2027-02-01")]),
    (42, "2027-01-31", [("reminder", "2027-02-01")]),  # none was posted since Jan 29
    (42, "2027-02-01", [("reminder", "2027-02-01"), ("post", "2027-02-01")]),
    (42, "2027-02-02", [("post", "2027-02-01")]),
    (42, "2027-02-08", [("post", "2027-02-01")]),  # the last day of the post window
    (42, "2027-02-09", []),
    # 43: the C3 announce-by date of February is Jan 18
    (43, "2027-01-18", [("pre", "2027-02-01")]),
    (43, "2027-01-19", [("pre", "2027-03-01")]),
    # 44: the pre-announcement names March now
    (44, "2027-01-29", [("pre", "2027-03-01")]),
    # 45: mallory's marker neither holds the announcement nor dates it
    (45, "2027-01-20", [("pre", "2027-03-01")]),
    # 46: shipped Feb 1, closed Feb 3
    (46, "2027-01-28", []),
    (46, "2027-01-31", [("reminder", "2027-02-01")]),
    (46, "2027-02-01", [("reminder", "2027-02-01"), ("post", "2027-02-01")]),
    (46, "2027-02-03", [("post", "2027-02-01")]),
    (46, "2027-02-08", [("post", "2027-02-01")]),
    (46, "2027-02-09", []),
    # 47, 48, 49: nothing, ever
    *[
        (iid, day, [])
        for iid in (47, 48, 49)
        for day in ("2027-01-18", "2027-01-29", "2027-02-01", "2027-02-03")
    ],
]


def snapshot_of(story: str, directory: Path, name: str = "snapshot.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(load_story(story).snapshot(7)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def due_by_day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, object]]]:
    """``announce --due --json`` on every day of the table, against a snapshot of STORY."""
    from click.testing import CliRunner

    directory = tmp_path_factory.mktemp("due")
    snapshot = snapshot_of(STORY, directory)
    (directory / "rollout.toml").write_text("", encoding="utf-8")
    found = {}
    for day in sorted({day for _, day, _ in TABLE}):
        result = CliRunner().invoke(
            cli,
            [
                "--config",
                str(directory / "rollout.toml"),
                "--tracker",
                f"snapshot:{snapshot}",
                "announce",
                "--due",
                "--as-of",
                day,
                "--json",
            ],
        )
        found[day] = due_json(result)
    return found


@pytest.mark.parametrize(("iid", "day", "expected"), TABLE, ids=[f"#{i}-{d}" for i, d, _ in TABLE])
def test_the_due_rules_day_by_day(
    due_by_day: dict[str, list[dict[str, object]]],
    iid: int,
    day: str,
    expected: list[tuple[str, str]],
) -> None:
    found = [(due["phase"], due["date"]) for due in due_by_day[day] if due["iid"] == iid]
    assert found == expected
    assert all(due["targets"] == ["gitlab"] for due in due_by_day[day])


def test_each_entry_says_why(due_by_day: dict[str, list[dict[str, object]]]) -> None:
    def reason(day: str, iid: int, phase: str) -> object:
        [due] = [d for d in due_by_day[day] if d["iid"] == iid and d["phase"] == phase]
        assert set(due) == {"iid", "phase", "date", "targets", "reason"}
        return due["reason"]

    assert reason("2027-01-29", 42, "reminder") == "ships in 3 days; the reminder day"
    assert (
        reason("2027-01-31", 42, "reminder")
        == "ships in 1 day; no reminder since the reminder day 2027-01-29"
    )
    assert reason("2027-02-01", 42, "reminder") == "ships today"
    assert reason("2027-02-02", 42, "post") == "shipped 2027-02-01; the post window ends 2027-02-08"
    assert reason("2027-01-29", 44, "pre") == "planned for 2027-03-01; moved from 2027-02-01"
    assert reason("2027-01-20", 45, "pre") == "planned for 2027-03-01"


def test_a_reminder_posted_since_the_reminder_day_holds_until_the_day_itself(
    workdir: Path, run
) -> None:  # type: ignore[no-untyped-def]
    story = (
        STORY
        + f'note 42 by rollout-bot on 2027-01-29 10:00: "Soon.\\n\\n{marker("reminder", "2027-02-01", "2027-01-29")}"\n'
    )
    snapshot = snapshot_of(story, workdir)

    def due(day: str) -> list[tuple[str, str]]:
        result = run(
            "--tracker", f"snapshot:{snapshot}", "announce", "--due", "--as-of", day, "--json"
        )
        return [(d["phase"], d["date"]) for d in due_json(result) if d["iid"] == 42]

    assert due("2027-01-29") == []
    assert due("2027-01-31") == []
    assert due("2027-02-01") == [("reminder", "2027-02-01"), ("post", "2027-02-01")]


def test_after_the_post_announcement_nothing_more_is_due(workdir: Path, run) -> None:  # type: ignore[no-untyped-def]
    """An issue left open after it shipped looks planned for the next deployment; its
    post-announcement says it went out, so it is not announced again."""
    story = (
        STORY
        + f'note 42 by rollout-bot on 2027-02-01 10:00: "Live.\\n\\n{marker("post", "2027-02-01")}"\n'
    )
    snapshot = snapshot_of(story, workdir)
    for day in ("2027-02-02", "2027-02-20", "2027-02-26", "2027-03-01", "2027-03-02"):
        result = run(
            "--tracker", f"snapshot:{snapshot}", "announce", "--due", "--as-of", day, "--json"
        )
        assert [d for d in due_json(result) if d["iid"] == 42] == [], day


def test_the_table_for_people(workdir: Path, run) -> None:  # type: ignore[no-untyped-def]
    snapshot = snapshot_of(STORY, workdir)
    result = run("--tracker", f"snapshot:{snapshot}", "announce", "--due", "--as-of", "2027-02-01")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == textwrap.dedent("""\
        Due on Monday 2027-02-01: 7 announcements
        Issue  Phase     Date        Why                                                  Targets
        #42    reminder  2027-02-01  ships today                                          gitlab
        #42    post      2027-02-01  shipped 2027-02-01; the post window ends 2027-02-08  gitlab
        #43    pre       2027-03-01  planned for 2027-03-01                               gitlab
        #44    pre       2027-03-01  planned for 2027-03-01; moved from 2027-02-01        gitlab
        #45    pre       2027-03-01  planned for 2027-03-01                               gitlab
        #46    reminder  2027-02-01  ships today                                          gitlab
        #46    post      2027-02-01  shipped 2027-02-01; the post window ends 2027-02-08  gitlab
    """)
    assert result.stderr == ""
    quiet = snapshot_of(
        HEADER + 'bug 50 "Not planned yet" by alice: 2027-01-04 triage\n', workdir, "quiet.json"
    )
    nothing = run("--tracker", f"snapshot:{quiet}", "announce", "--due", "--as-of", "2027-02-20")
    assert nothing.stdout == "Nothing due on Saturday 2027-02-20.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("announce", "42", "--due"), "--due finds the issues itself; leave out the IID"),
        (("announce", "--due", "--phase", "post"), "--due picks each phase and format itself"),
        (("announce", "--due", "--format", "slack"), "--due picks each phase and format itself"),
        (("announce",), "give an IID, or --due for every announcement due"),
        (("announce", "42", "--json"), "--json lists the announcements of --due"),
    ],
)
def test_usage_errors(run, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_posting_from_a_snapshot_is_refused_before_anything(workdir: Path, run) -> None:  # type: ignore[no-untyped-def]
    snapshot = snapshot_of(STORY, workdir)
    result = run(
        "--tracker", f"snapshot:{snapshot}", "announce", "--due", "--post", "--as-of", "2027-02-01"
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr == "Error: a snapshot is read-only; use --tracker gitlab to write to GitLab\n"
    )


# ------------------------------------------------------------------ delivering (both servers)

ONE = (
    HEADER
    + f"""\
feature 42 "Add a refund macro" by alice, C2, customer Support-EMEA, milestone "{FEB}",
    description "## What\\nA macro that answers refund requests.\\n\\n## Why\\nAgents type it forty times a week.":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received; 2027-01-11 14:00 implementation
"""
)
PRE = (42, "pre", "2027-02-01")


@pytest.fixture
def autopilot(workdir: Path) -> Iterator[Autopilot]:
    with Autopilot(load_story(ONE), workdir) as running:
        yield running


def post(autopilot: Autopilot, day: str = "2027-01-05", **kwargs: object) -> Result:
    return autopilot("announce", "--due", "--post", "--as-of", day, **kwargs)  # type: ignore[arg-type]


def test_a_due_announcement_goes_to_gitlab_and_slack_once(autopilot: Autopilot) -> None:
    first = post(autopilot)
    assert first.exit_code == 0, first.output
    [note] = autopilot.notes(42)
    assert note["body"].endswith(marker("pre", "2027-02-01") + "\n")
    [message] = autopilot.slack_messages()
    assert message.metadata == {
        "event_type": "rollout_announcement",
        "event_payload": {
            "project": "ops/tracker",
            "iid": 42,
            "phase": "pre",
            "deploy": "2027-02-01",
            "day": "2027-01-05",
        },
    }
    assert message.text.startswith(
        "*Planned change: Add a refund macro*\n• *Who:* Support Engineers in EMEA\n"
    )
    assert first.stderr == (
        f"gitlab: posted the pre announcement to #42 (note {note['id']})\n"
        f"slack: posted the pre announcement of #42 for 2027-02-01 in #releases (ts {message.ts})\n"
    )
    autopilot.slack.reset_requests()
    second = post(autopilot)
    assert second.exit_code == 0, second.output
    assert second.stdout == "Nothing due on Tuesday 2027-01-05.\n"
    assert (autopilot.gitlab_posts(), autopilot.slack_posts()) == (1, 0)
    assert len(autopilot.slack_messages()) == 1
    # The Slack ledger: who the bot is asked once, the channel's name looked up once, and
    # one history read.
    assert [r.method for r in autopilot.slack.requests] == [
        "auth.test",
        "conversations.list",
        "conversations.history",
    ]


def test_a_dry_run_writes_nothing_and_names_the_targets_missing_each(autopilot: Autopilot) -> None:
    # Slack has it already (say a run whose GitLab note failed); GitLab does not.
    autopilot.slack.state.add_message(
        "releases",
        "Planned",
        metadata={
            "event_type": "rollout_announcement",
            "event_payload": {
                "project": "ops/tracker",
                "iid": 42,
                "phase": "pre",
                "deploy": "2027-02-01",
                "day": "2027-01-04",
            },
        },
        ts=1_799_056_800,  # 2027-01-04 10:00 UTC
    )
    result = autopilot("announce", "--due", "--as-of", "2027-01-05", "--json")
    assert due_json(result) == [
        {
            "iid": 42,
            "phase": "pre",
            "date": "2027-02-01",
            "targets": ["gitlab"],
            "reason": "planned for 2027-02-01",
        }
    ]
    assert autopilot.gitlab_posts() == 0
    assert autopilot.slack_posts() == 0
    assert autopilot.gitlab.count(method="POST") == 0


def test_a_dropped_connection_after_the_slack_post_posts_once(autopilot: Autopilot) -> None:
    autopilot.slack.inject("drop", method="chat.postMessage")
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.slack_announcements() == [(*PRE, "2027-01-05")]
    assert autopilot.slack_posts() == 1
    # The history was read again before the retry, and found the message.
    assert [r.method for r in autopilot.slack.requests].count("conversations.history") == 2
    assert "slack: posted the pre announcement of #42" in result.stderr


def test_a_slack_post_slower_than_the_timeout_is_looked_for_once_it_can_have_landed(
    autopilot: Autopilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack posts the message after rollout gave up waiting: rollout waits as long again
    before it reads the history, finds it there, and posts nothing more."""
    monkeypatch.setattr(slack_delivery, "TIMEOUT", 1)
    autopilot.slack.inject("slow", method="chat.postMessage", seconds=1.6)
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.slack_posts() == 1
    assert autopilot.slack_announcements() == [(*PRE, "2027-01-05")]


def test_a_dropped_connection_after_the_gitlab_post_posts_once(autopilot: Autopilot) -> None:
    autopilot.gitlab.inject("drop", method="POST", match=r"/notes", after=True)
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.gitlab_posts() == 1
    assert [a[:3] for a in autopilot.gitlab_announcements()] == [PRE]
    assert "gitlab: posted the pre announcement to #42" in result.stderr


def test_ratelimited_is_retried_after_retry_after(autopilot: Autopilot) -> None:
    autopilot.slack.inject("ratelimited", method="chat.postMessage", retry_after=1)
    autopilot.slack.inject("ratelimited", method="conversations.history", retry_after=1)
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.slack_announcements() == [(*PRE, "2027-01-05")]
    posts = [r for r in autopilot.slack.requests if r.method == "chat.postMessage"]
    assert [r.status for r in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 1.0


def test_a_slack_that_stays_down_fails_slack_only_and_a_rerun_completes_it(
    autopilot: Autopilot,
) -> None:
    autopilot.slack.inject("status", method="chat.postMessage", status=503, times=10)
    failed = post(autopilot)
    assert failed.exit_code == 2
    assert autopilot.gitlab_posts() == 1
    assert autopilot.slack_messages() == []
    assert failed.stderr.splitlines()[-1] == (
        "slack: could not deliver the pre announcement of #42 for 2027-02-01: "
        "Slack answered HTTP 503 while posting in #releases; try again later"
    )
    assert failed.stdout.splitlines()[2].endswith("gitlab, slack")
    autopilot.slack.clear_faults()
    rerun = post(autopilot)
    assert rerun.exit_code == 0, rerun.output
    assert rerun.stdout.splitlines()[2].split()[-1] == "slack"  # due for Slack only
    assert autopilot.gitlab_posts() == 1  # no second note
    assert autopilot.slack_announcements() == [(*PRE, "2027-01-05")]


def test_a_gitlab_that_refuses_notes_fails_gitlab_only_and_a_rerun_completes_it(
    autopilot: Autopilot,
) -> None:
    autopilot.gitlab.inject("status", code=500, times=10, method="POST", match=r"/notes")
    failed = post(autopilot)
    assert failed.exit_code == 2
    assert autopilot.notes(42) == []
    assert autopilot.slack_announcements() == [(*PRE, "2027-01-05")]
    [line] = [line for line in failed.stderr.splitlines() if line.startswith("gitlab:")]
    assert line.startswith(
        "gitlab: could not deliver the pre announcement of #42 for 2027-02-01: GitLab answered 500"
    )
    autopilot.gitlab.clear_faults()
    autopilot.slack.reset_requests()
    rerun = post(autopilot)
    assert rerun.exit_code == 0, rerun.output
    assert [a[:3] for a in autopilot.gitlab_announcements()] == [PRE]
    assert autopilot.slack_posts() == 0  # no second message


def test_a_missing_slack_token_stops_a_post_before_anything(autopilot: Autopilot) -> None:
    result = post(autopilot, env={"SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: no Slack token: set SLACK_BOT_TOKEN to the bot token (xoxb-...) of the app "
        "that posts to the channel\n"
    )
    assert autopilot.gitlab.requests == []
    assert autopilot.slack.requests == []


def test_a_dry_run_without_a_slack_token_lists_slack_beside_gitlab(autopilot: Autopilot) -> None:
    result = autopilot(
        "announce", "--due", "--as-of", "2027-01-05", "--json", env={"SLACK_BOT_TOKEN": ""}
    )
    assert [d["targets"] for d in due_json(result)] == [["gitlab", "slack"]]
    assert result.stderr.startswith("no Slack token: set SLACK_BOT_TOKEN")
    assert result.stderr.endswith("; slack is not checked, and is listed wherever gitlab is\n")
    assert autopilot.slack.requests == []


def test_a_channel_that_does_not_exist_fails_slack_and_gitlab_still_posts(
    autopilot: Autopilot,
) -> None:
    autopilot.config.write_text(
        CONFIG.replace('channel = "releases"', 'channel = "nowhere"'), encoding="utf-8"
    )
    result = post(autopilot)
    assert result.exit_code == 2
    assert autopilot.gitlab_posts() == 1
    assert result.stderr.splitlines()[-1] == (
        "slack: Slack channel #nowhere not found among the public channels the bot can see; "
        "check [slack] channel (a private channel is named by its id, and the bot invited); "
        "nothing was delivered there"
    )
    assert autopilot.slack_posts() == 0


def test_a_channel_the_bot_is_not_in_says_to_invite_it(autopilot: Autopilot) -> None:
    autopilot.slack.state.channel("releases").is_member = False
    result = post(autopilot)
    assert result.exit_code == 2
    assert (
        "the bot is not in #releases (reading the history of #releases); invite it there with /invite"
        in result.stderr
    )


def test_tokens_never_appear_in_output(autopilot: Autopilot) -> None:
    autopilot.slack.inject("error", method="chat.postMessage", error="invalid_auth")
    result = post(autopilot)
    assert "Slack rejected the token (invalid_auth) while posting in #releases" in result.stderr
    assert autopilot.slack.token not in result.output
    assert autopilot.gitlab.token not in result.output
    wrong = post(autopilot, env={"SLACK_BOT_TOKEN": "xoxb-wrong-secret"})
    assert "xoxb-wrong-secret" not in wrong.output
    assert "Slack rejected the token (invalid_auth)" in wrong.stderr


HOSTILE = (
    HEADER
    + f"""\
feature 42 "<!channel> {{{{ 7*7 }}}} \\u001b[31mred <@U0ROLLOUT1> @here" by alice, C2, customer "<!everyone>", milestone "{FEB}",
    description "## What\\n<!subteam^S123|ops> {{% raw %}}{{{{ config }}}} @all\\n\\n## Why\\n\\u001b]8;;http://evil\\u0007click<!here>":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received; 2027-01-11 14:00 implementation
"""
)


def test_hostile_issue_text_is_inert_in_slack(workdir: Path) -> None:
    with Autopilot(load_story(HOSTILE), workdir) as autopilot:
        result = post(autopilot)
        assert result.exit_code == 0, result.output
        [message] = autopilot.slack_messages()
    text = message.text
    assert live_mentions(text) == []
    assert "\x1b" not in text and "\x07" not in text
    assert "{{ 7*7 }}" in text and "49" not in text  # printed, never run
    assert "{% raw %}{{ config }}" in text
    assert "`@here`" in text and "`@all`" in text
    assert "&lt;!channel&gt;" in text
    assert not any(
        r.params.get("link_names") or r.params.get("parse") == "full"
        for r in autopilot.slack.requests
    )


def test_the_readme_shows_the_real_output() -> None:
    shown, printed = readme_example("announce --due --as-of 2027-01-29")
    assert printed == shown


def payload(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "project": "ops/tracker",
        "iid": 42,
        "phase": "pre",
        "deploy": "2027-02-01",
        "day": "2027-01-04",
    }
    return {"event_type": "rollout_announcement", "event_payload": {**base, **changes}}


def test_the_slack_ledger_pages_through_a_busy_channel(autopilot: Autopilot) -> None:
    state = autopilot.slack.state
    start = 1_798_761_600  # 2027-01-01 00:00 UTC
    state.add_message("releases", "Planned", ts=start + 60, metadata=payload())  # the oldest
    for n in range(1_200):
        state.add_message("releases", f"chatter {n}", ts=start + 3_600 + n, user="U0PERSON01")
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.slack_posts() == 0  # found on the second page
    assert [r.method for r in autopilot.slack.requests].count("conversations.history") == 2


def test_only_this_projects_messages_hold_an_announcement(autopilot: Autopilot) -> None:
    state = autopilot.slack.state
    state.add_message(
        "releases", "Other team", ts=1_799_056_800, metadata=payload(project="other/tracker")
    )
    state.add_message(
        "releases", "Bad date", ts=1_799_056_801, metadata=payload(deploy="2027-02-30")
    )
    state.add_message(
        "releases",
        "Other event",
        ts=1_799_056_802,
        metadata={"event_type": "deploy", "event_payload": payload()["event_payload"]},
    )
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.slack_announcements()[-1] == (*PRE, "2027-01-05")
    assert autopilot.slack_posts() == 1


# Who posted a message with the announcement's metadata, and whether it holds the announcement.
AUTHORS = [
    pytest.param({}, True, id="the bot itself"),
    pytest.param({"user": "U0MALLORY1"}, False, id="another user"),
    pytest.param({"user": "U0OTHERAPP", "bot_id": "B0OTHERAPP"}, False, id="another app's bot"),
    pytest.param({"bot_id": "B0LEGACY01"}, False, id="a legacy integration"),
]


@pytest.mark.parametrize(("author", "holds"), AUTHORS)
def test_only_the_bots_own_messages_hold_an_announcement(
    autopilot: Autopilot, author: dict[str, str], holds: bool
) -> None:
    autopilot.slack.state.add_message(
        "releases", "Planned", ts=1_799_056_800, metadata=payload(), **author
    )
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.slack_posts() == (0 if holds else 1)
    assert ("slack: posted the pre announcement of #42" in result.stderr) is not holds


def test_a_long_announced_change_is_not_posted_to_slack_again_after_gitlab_failed(
    workdir: Path,
) -> None:
    # Pre-announced 50 days ahead of its deployment: further back than 45 days before it.
    story = (
        HEADER
        + """bug 50 "Move the help center" by alice, C1, milestone "CustSuppOps Deployment 2027-03-01":
  2027-01-04 development
"""
    )
    with Autopilot(load_story(story), workdir) as autopilot:
        autopilot.gitlab.inject("status", match="/notes", method="POST", code=500, times=3)
        failed = post(autopilot, "2027-01-10")
        assert failed.exit_code == 2, failed.output
        assert autopilot.slack_announcements() == [(50, "pre", "2027-03-01", "2027-01-10")]
        rerun = post(autopilot, "2027-01-10")
        assert rerun.exit_code == 0, rerun.output
        assert rerun.stdout.splitlines()[2].split()[-1] == "gitlab"  # due for GitLab only
        assert autopilot.slack_posts() == 1
        assert [a[:3] for a in autopilot.gitlab_announcements()] == [(50, "pre", "2027-03-01")]


def test_a_channel_given_by_id_is_not_looked_up(autopilot: Autopilot) -> None:
    channel = autopilot.slack.state.channel("releases").id
    autopilot.config.write_text(
        CONFIG.replace('channel = "releases"', f'channel = "{channel}"'), encoding="utf-8"
    )
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert [r.method for r in autopilot.slack.requests] == [
        "auth.test",
        "conversations.history",
        "chat.postMessage",
    ]
    assert f"in {channel} (ts " in result.stderr


def test_a_slack_api_url_that_is_no_url_is_one_line(autopilot: Autopilot) -> None:
    result = post(autopilot, env={"SLACK_API_URL": "slack.example.com"})
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: SLACK_API_URL is not an http(s) URL; set it to the Slack Web API's base URL, "
        "e.g. https://slack.com/api/, or leave it unset\n"
    )
    assert autopilot.gitlab.requests == []


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "error": "fatal_error"},
        {"kind": "status", "status": 502, "body": "empty"},
        {"kind": "drop_before"},
    ],
)
def test_transient_failures_of_the_history_read_are_retried(
    autopilot: Autopilot, fault: dict[str, object]
) -> None:
    autopilot.slack.inject(method="conversations.history", **fault)  # type: ignore[arg-type]
    result = post(autopilot)
    assert result.exit_code == 0, result.output
    assert autopilot.slack_announcements() == [(*PRE, "2027-01-05")]


PRES = [(43, "pre"), (44, "pre"), (45, "pre")]  # due all February long
BUSINESS = '[announce]\npost_window = "3 business days"\n'
NONE = '[announce]\npost_window = "0 days"\n'
FOUR = '[announce]\npost_window = "4 business days"\n'


@pytest.mark.parametrize(
    ("config", "day", "expected"),
    [
        # 3 business days after Monday Feb 1 is Thursday Feb 4.
        (BUSINESS, "2027-02-04", [(42, "post"), *PRES, (46, "post")]),
        (BUSINESS, "2027-02-05", PRES),
        # 4 business days end on Friday Feb 5: the weekend after it is outside, as it says.
        (FOUR, "2027-02-05", [(42, "post"), *PRES, (46, "post")]),
        (FOUR, "2027-02-06", PRES),
        (
            NONE,
            "2027-02-01",
            [(42, "reminder"), (42, "post"), *PRES, (46, "reminder"), (46, "post")],
        ),
        (NONE, "2027-02-02", PRES),
        # Only from Implementation: #43 to #45, in Development, are not pre-announced.
        (
            '[announce]\npre_stages = ["Implementation"]\n',
            "2027-01-29",
            [(42, "reminder"), (44, "pre"), (46, "reminder")],
        ),
        ("[announce]\npre_stages = []\n", "2027-01-29", [(42, "reminder"), (46, "reminder")]),
    ],
)
def test_the_window_and_the_stages_are_configurable(
    workdir: Path, run, config: str, day: str, expected: list[tuple[int, str]]
) -> None:  # type: ignore[no-untyped-def]
    snapshot = snapshot_of(STORY, workdir)
    (workdir / "rollout.toml").write_text(config, encoding="utf-8")
    result = run("--tracker", f"snapshot:{snapshot}", "announce", "--due", "--as-of", day, "--json")
    assert [(d["iid"], d["phase"]) for d in due_json(result)] == expected


# ------------------------------------------------------------------ the target interface


def test_a_new_target_is_one_small_class() -> None:
    """An outbox with its own ledger, beside a target that always fails: the interface is
    all deliver_all needs, a failing target stops nothing, and a second run sends nothing."""
    from datetime import date

    from helpers import issues_of_story

    from rollout.announce import Announcement
    from rollout.config import Config
    from rollout.delivery import Target, deliver_all, outstanding
    from rollout.due import DueAnnouncement, Held, find_due
    from rollout.errors import DeliveryError
    from rollout.markers import Trust

    class Outbox(Target):
        name, format = "outbox", "text"

        def __init__(self) -> None:
            self.sent: list[tuple[Held, str]] = []

        def missing(self, dues: Sequence[DueAnnouncement]) -> list[DueAnnouncement]:
            return [due for due in dues if not due.held_in(held for held, _ in self.sent)]

        def deliver(self, due: DueAnnouncement, announcement: Announcement) -> str:
            self.sent.append(
                (Held(due.iid, due.phase, due.deploy_date, due.as_of), announcement.text)
            )
            return "sent"

    class Broken(Outbox):
        name = "broken"

        def deliver(self, due: DueAnnouncement, announcement: Announcement) -> str:
            raise DeliveryError("the mail server is down")

    issues = list(issues_of_story(STORY).values())
    day = date(2027, 2, 1)
    outbox, broken = Outbox(), Broken()

    def render(due: DueAnnouncement, fmt: str) -> Announcement:
        from rollout.announce import compose_announcement

        return compose_announcement(due.issue, due.phase, due.deploy_date, fmt, due.as_of, Config())

    for run in (1, 2):
        dues, unread = outstanding(
            find_due(issues, Config(), day, Trust.of(["rollout-bot"])), [outbox, broken]
        )
        delivered, failed = deliver_all(dues, [outbox, broken], render)
        assert unread == []
        assert len(failed) == 8 and all(
            f.line().endswith(": the mail server is down") for f in failed
        )
        assert len(delivered) == (8 if run == 1 else 0)
    # #42's pre-announcement too: GitLab has it, the new outbox does not.
    assert [held.iid for held, _ in outbox.sent] == [42, 42, 42, 43, 44, 45, 46, 46]
    assert outbox.sent[1][1].startswith("Reminder: Add a refund macro ships today\n")
