"""rollout digest: the Support Week in Review section, its content for a week with
announcements, a deployment and a slip, and posting it to Slack once a week."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from autopilot import Autopilot, marker
from conftest import RunCli
from helpers import readme_example
from scenarios import load_story
from slack_server import live_mentions

from rollout.digest import week_of

FEB, MAR = "CustSuppOps Deployment 2027-02-01", "CustSuppOps Deployment 2027-03-01"
URL = "https://gitlab.example.com/ops/tracker/-/issues"
# The week of Sunday 2027-01-31: February's deployment on Monday, a pre-announcement on
# Tuesday, and the digest written on Wednesday.
STORY = f"""\
project ops/tracker id 7
user alice "Alice Moreau"
user bob "Bob Okafor"
user rollout-bot "Rollout Bot"
milestone "{FEB}" start 2027-01-01 due 2027-02-01
milestone "{MAR}" start 2027-02-01 due 2027-03-01

# Shipped on Monday (post-announced), still open.
feature 42 "Add a refund macro" by alice, C2, customer Support-EMEA, milestone "{FEB}":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received; 2027-01-11 14:00 implementation
note 42 by rollout-bot on 2027-01-05: "Planned.\\n\\n{marker("pre", "2027-02-01")}"
note 42 by rollout-bot on 2027-02-01 10:00: "Live.\\n\\n{marker("post", "2027-02-01")}"

# Announced on Tuesday for March, and ready for it.
bug 43 "Fix the SLA <!channel> trigger @here" by alice, C3, customer Support-AMER, milestone "{MAR}":
  2027-01-25 development; 2027-01-27 validation; 2027-01-28 received; 2027-01-29 implementation
note 43 by rollout-bot on 2027-02-02 10:00: "Planned.\\n\\n{marker("pre", "2027-03-01")}"

# In March's milestone, not signed off: it slips. Mallory's marker announces nothing.
feature 44 "Route Japanese tickets" by alice, C1, customer Support-APAC, milestone "{MAR}":
  2027-01-25 development
note 44 by mallory on 2027-02-02 11:00: "{marker("pre", "2027-03-01")}"

# Completed and closed in January: it went out with February's deployment.
bug 45 "Old footer" by bob, C4, milestone "{FEB}":
  2027-01-04 development; 2027-01-05 validation; 2027-01-06 received; 2027-01-06 12:00 implementation
  2027-01-07 completed
close 45 on 2027-01-08

# Announced last week: not this week's news.
admin 46 "Rotate the API token" by bob, C4, milestone "{MAR}": 2027-01-20 development
note 46 by rollout-bot on 2027-01-27 10:00: "Planned.\\n\\n{marker("pre", "2027-03-01")}"
"""
CONFIG = '[audiences]\nSupport-EMEA = "Support Engineers in EMEA"\nSupport-AMER = "Support Engineers in AMER"\n'
SLIP = (
    "stage: in Stage::Development; it ships once it reaches Stage::Implementation; validation: "
    "waiting for Validation::Received from the requester; ships-on: waits for the sign-off (see validation)"
)
MARKDOWN = f"""\
## Change Management: the week of 2027-01-31

### Next deployment: Monday 2027-03-01 (CustSuppOps Deployment 2027-03-01), in 26 days

- **What:** [Fix the SLA &lt;!channel&gt; trigger `@here`]({URL}/43) (#43); **Who:** Support Engineers in AMER

### Announced this week

- [Fix the SLA &lt;!channel&gt; trigger `@here`]({URL}/43) (#43): planned for 2027-03-01, announced 2027-02-02

### Shipped this week

- [Add a refund macro]({URL}/42) (#42): live since 2027-02-01
- [Old footer]({URL}/45) (#45): live since 2027-02-01

### Slipped from CustSuppOps Deployment 2027-03-01

- [Route Japanese tickets]({URL}/44) (#44): {SLIP}
- [Rotate the API token]({URL}/46) (#46): stage: in Stage::Development; it ships once it reaches Stage::Implementation; validation: Administrative requests need Validation::Skipped; add it; ships-on: waits for the sign-off (see validation)

### Deadlines in the next 14 days

- Monday 2027-02-08: announce C2 changes by, for the 2027-03-01 deployment
- Monday 2027-02-15: announce C3 changes by, for the 2027-03-01 deployment
"""


@pytest.fixture
def snapshot(workdir: Path) -> Path:
    path = workdir / "snapshot.json"
    path.write_text(json.dumps(load_story(STORY).snapshot(7)), encoding="utf-8")
    (workdir / "rollout.toml").write_text(CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("day", "sunday"),
    [
        ("2027-01-31", "2027-01-31"),
        ("2027-02-03", "2027-01-31"),
        ("2027-02-06", "2027-01-31"),
        ("2027-02-07", "2027-02-07"),
    ],
)
def test_the_week_runs_sunday_to_saturday(day: str, sunday: str) -> None:
    from datetime import date

    assert week_of(date.fromisoformat(day)) == date.fromisoformat(sunday)


def test_a_week_with_a_deployment_announcements_and_a_slip(run: RunCli, snapshot: Path) -> None:
    result = run("--tracker", f"snapshot:{snapshot}", "digest", "--as-of", "2027-02-03")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == MARKDOWN


def test_the_slack_format(run: RunCli, snapshot: Path) -> None:
    result = run(
        "--tracker", f"snapshot:{snapshot}", "digest", "--as-of", "2027-02-03", "--format", "slack"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "*Change Management: the week of 2027-01-31*",
        "",
        "*Next deployment: Monday 2027-03-01 (CustSuppOps Deployment 2027-03-01), in 26 days*",
        f"• *What:* <{URL}/43|Fix the SLA &lt;!channel&gt; trigger `@here`> (#43); *Who:* Support Engineers in AMER",
    ]
    assert f"• <{URL}/42|Add a refund macro> (#42): live since 2027-02-01" in lines
    assert "*Slipped from CustSuppOps Deployment 2027-03-01*" in lines
    assert live_mentions(result.stdout) == []


def test_on_the_deployment_day_it_has_shipped_and_the_next_one_is_next(
    run: RunCli, snapshot: Path
) -> None:
    result = run("--tracker", f"snapshot:{snapshot}", "digest", "--as-of", "2027-02-01")
    assert "### Next deployment: Monday 2027-03-01" in result.stdout
    shipped = result.stdout.split("### Shipped this week\n\n")[1].split("\n\n")[0]
    assert (
        shipped
        == f"- [Add a refund macro]({URL}/42) (#42): live since 2027-02-01\n- [Old footer]({URL}/45) (#45): live since 2027-02-01"
    )


def test_the_week_before_the_deployment(run: RunCli, snapshot: Path) -> None:
    result = run("--tracker", f"snapshot:{snapshot}", "digest", "--as-of", "2027-01-29")
    text = result.stdout
    assert text.startswith(
        "## Change Management: the week of 2027-01-24\n\n### Next deployment: Monday 2027-02-01 (CustSuppOps Deployment 2027-02-01), in 3 days\n\n"
    )
    assert (
        f"- **What:** [Add a refund macro]({URL}/42) (#42); **Who:** Support Engineers in EMEA\n"
        in text
    )
    assert (
        f"- **What:** [Old footer]({URL}/45) (#45); **Who:** everyone who uses the changed workflow\n"
        in text
    )
    assert (
        f"- [Rotate the API token]({URL}/46) (#46): planned for 2027-03-01, announced 2027-01-27\n"
        in text
    )
    assert "### Shipped this week\n\nNothing shipped.\n" in text
    assert "### Slipped from CustSuppOps Deployment 2027-02-01\n\nNothing slipped.\n" in text
    assert "- Monday 2027-02-01: announce C1 changes by, for the 2027-03-01 deployment\n" in text


def test_out_writes_the_file(run: RunCli, snapshot: Path, workdir: Path) -> None:
    result = run(
        "--tracker",
        f"snapshot:{snapshot}",
        "digest",
        "--as-of",
        "2027-02-03",
        "--out",
        "swir/digest.md",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "wrote swir/digest.md\n"
    assert (workdir / "swir" / "digest.md").read_text(encoding="utf-8") == MARKDOWN
    assert [p.name for p in (workdir / "swir").iterdir()] == ["digest.md"]  # no temporary left


def test_a_team_template_replaces_the_shipped_one(
    run: RunCli, snapshot: Path, workdir: Path
) -> None:
    (workdir / "team").mkdir()
    (workdir / "team" / "digest.md.j2").write_text(
        "{{ week.start }}: {% for c in shipped %}{{ c.reference }} {% endfor %}/ {{ next.slipped | length }} slipped\n",
        encoding="utf-8",
    )
    (workdir / "rollout.toml").write_text(CONFIG + '[templates]\ndir = "team"\n', encoding="utf-8")
    result = run("--tracker", f"snapshot:{snapshot}", "digest", "--as-of", "2027-02-03")
    assert result.stdout == "2027-01-31: #42 #45 / 2 slipped\n"


# ------------------------------------------------------------------ posting to Slack


@pytest.fixture
def autopilot(workdir: Path) -> Iterator[Autopilot]:
    with Autopilot(load_story(STORY), workdir) as running:
        yield running


def test_posting_it_twice_posts_once(autopilot: Autopilot) -> None:
    first = autopilot("digest", "--post", "--as-of", "2027-02-03")
    assert first.exit_code == 0, first.output
    [message] = autopilot.slack_messages()
    assert message.metadata == {
        "event_type": "rollout_digest",
        "event_payload": {"project": "ops/tracker", "week": "2027-01-31"},
    }
    assert message.text == first.stdout  # what was printed is what was posted
    assert first.stdout.startswith("*Change Management: the week of 2027-01-31*\n")
    assert (
        first.stderr
        == f"posted the Support Week in Review of 2027-01-31 in #releases (ts {message.ts})\n"
    )
    again = autopilot("digest", "--post", "--as-of", "2027-02-05")  # same week, later day
    assert again.exit_code == 0, again.output
    assert (
        again.stderr
        == f"the Support Week in Review of 2027-01-31 is already in #releases (ts {message.ts}); nothing posted\n"
    )
    assert autopilot.slack_posts() == 1
    next_week = autopilot("digest", "--post", "--as-of", "2027-02-08")
    assert next_week.exit_code == 0, next_week.output
    assert autopilot.slack_posts() == 2


@pytest.mark.parametrize(
    ("author", "holds"),
    [
        pytest.param({}, True, id="the bot itself"),
        pytest.param({"user": "U0MALLORY1"}, False, id="another user"),
        pytest.param({"user": "U0OTHERAPP", "bot_id": "B0OTHERAPP"}, False, id="another app"),
        pytest.param({"bot_id": "B0LEGACY01"}, False, id="a legacy integration"),
    ],
)
def test_only_the_bots_own_message_holds_the_weeks_digest(
    autopilot: Autopilot, author: dict[str, str], holds: bool
) -> None:
    metadata = {
        "event_type": "rollout_digest",
        "event_payload": {"project": "ops/tracker", "week": "2027-01-31"},
    }
    autopilot.slack.state.add_message(
        "releases",
        "Week in Review",
        ts=1_801_389_600,  # 2027-01-31 10:00 UTC
        metadata=metadata,
        **author,
    )
    result = autopilot("digest", "--post", "--as-of", "2027-02-03")
    assert result.exit_code == 0, result.output
    assert autopilot.slack_posts() == (0 if holds else 1)
    assert result.stderr.startswith("posted the Support Week in Review") is not holds


def test_a_dropped_connection_after_the_post_posts_once(autopilot: Autopilot) -> None:
    autopilot.slack.inject("drop", method="chat.postMessage")
    result = autopilot("digest", "--post", "--as-of", "2027-02-03")
    assert result.exit_code == 0, result.output
    assert len(autopilot.slack_messages()) == 1


def test_post_needs_a_token_and_the_slack_text(autopilot: Autopilot) -> None:
    result = autopilot("digest", "--post", "--as-of", "2027-02-03", env={"SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: no Slack token: set SLACK_BOT_TOKEN")
    assert autopilot.gitlab.requests == [] and autopilot.slack.requests == []
    markdown = autopilot("digest", "--post", "--format", "md")
    assert markdown.exit_code == 2
    assert "--post posts the Slack text; leave out --format or use slack" in markdown.stderr


def test_post_needs_a_channel(run: RunCli, snapshot: Path) -> None:
    result = run("--tracker", f"snapshot:{snapshot}", "digest", "--post")
    assert result.exit_code == 2
    assert result.stderr == 'Error: no Slack channel: set [slack] channel = "..." in rollout.toml\n'


def test_a_slack_failure_is_one_line(autopilot: Autopilot) -> None:
    autopilot.slack.inject("error", method="chat.postMessage", error="not_in_channel")
    result = autopilot("digest", "--post", "--as-of", "2027-02-03")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: the bot is not in #releases (posting in #releases); invite it there with /invite\n"
    )
    assert textwrap.dedent(result.stdout).startswith("*Change Management")


def test_the_readme_shows_the_real_output() -> None:
    shown, printed = readme_example("digest --as-of 2027-01-29")
    assert printed == shown
