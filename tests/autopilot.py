"""rollout against the GitLab and Slack test servers at once, with both clocks on the as-of day.

with Autopilot(load_story(STORY)) as run:
    result = run("announce", "--due", "--post", "--as-of", "2027-01-29")
    run.notes(42)            # the notes on issue #42
    run.slack_announcements() # (iid, phase, deploy, day) of every Slack message's metadata
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from gitlab_server import GitLabServer, GitLabState
from slack_server import SlackServer, SlackState

from rollout.cli import cli

PROJECT = "ops/tracker"
PROJECT_ID = 7
CHANNEL = "releases"
CONFIG = f"""\
[audiences]
Support-EMEA = "Support Engineers in EMEA"

[tracker]
kind = "gitlab"
project = "{PROJECT}"
retries = 2

[announce]
targets = ["gitlab", "slack"]

[slack]
channel = "{CHANNEL}"
"""
MARKER = "<!-- rollout:announcement phase={phase} deploy={deploy}{posted} -->"


def marker(phase: str, deploy: str, posted: str | None = None) -> str:
    return MARKER.format(phase=phase, deploy=deploy, posted=f" posted={posted}" if posted else "")


class Autopilot:
    def __init__(self, state: GitLabState, directory: Path, config: str = CONFIG) -> None:
        self.gitlab = GitLabServer(state)
        slack = SlackState(clock=0)
        slack.add_channel(CHANNEL)
        self.slack = SlackServer(slack)
        self.directory = directory
        self.config = directory / "rollout.toml"
        self.config.write_text(textwrap.dedent(config), encoding="utf-8")
        self.env = {"SLACK_BOT_TOKEN": self.slack.token}

    def __enter__(self) -> Autopilot:
        self.gitlab.start()
        self.slack.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.slack.stop()
        self.gitlab.stop()

    def at(self, day: date, hour: int = 10) -> None:
        """Both servers' clocks at ``hour`` o'clock (UTC) on ``day``, as the daily job runs."""
        moment = datetime.combine(day, time(hour, 0), tzinfo=UTC)
        self.gitlab.state.set_clock(moment)
        self.slack.state.set_clock(moment.timestamp())

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run rollout; the clocks move to the --as-of day first."""
        if "--as-of" in args:
            self.at(date.fromisoformat(args[args.index("--as-of") + 1]))
        environment = {
            "GITLAB_URL": self.gitlab.url,
            "GITLAB_TOKEN": self.gitlab.token,
            "SLACK_API_URL": self.slack.url,
            **self.env,
            **(env or {}),
        }
        return CliRunner(env=environment).invoke(cli, ["--config", str(self.config), *args])

    # ------------------------------------------------------------------ what was written

    def notes(self, iid: int) -> list[dict[str, Any]]:
        return self.gitlab.state.notes_json(PROJECT_ID, iid)

    def gitlab_posts(self) -> int:
        return self.gitlab.count(method="POST", path_contains="/notes")

    def gitlab_announcements(self) -> list[tuple[int, str, str, str | None]]:
        """(iid, phase, deploy, posted) of every marker rollout posted, oldest first."""
        import re

        found = []
        for iid in sorted(self.gitlab.state.project(PROJECT_ID).issues):
            for note in self.notes(iid):
                if note["author"]["username"] != self.gitlab.username:
                    continue
                for m in re.finditer(
                    r"phase=(\w+) deploy=([\d-]+)(?: posted=([\d-]+))?", note["body"]
                ):
                    found.append((iid, m.group(1), m.group(2), m.group(3)))
        return found

    def slack_messages(self) -> list[Any]:
        return self.slack.messages(CHANNEL)

    def slack_announcements(self) -> list[tuple[int, str, str, str]]:
        """(iid, phase, deploy, day) of every message's metadata for PROJECT, oldest first."""
        found = []
        for message in self.slack_messages():
            metadata = message.metadata or {}
            if metadata.get("event_type") != "rollout_announcement":
                continue
            payload = metadata["event_payload"]
            if payload.get("project") != PROJECT:
                continue
            found.append((payload["iid"], payload["phase"], payload["deploy"], payload["day"]))
        return found

    def slack_posts(self) -> int:
        return self.slack.count("chat.postMessage")


def due_json(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def running(state: GitLabState, directory: Path, config: str = CONFIG) -> Iterator[Autopilot]:
    with Autopilot(state, directory, config) as autopilot:
        yield autopilot
