"""Small helpers the test modules share."""

from __future__ import annotations

import textwrap
from pathlib import Path

from rollout.config import Config, parse_config
from rollout.issues import Issue, issue_from_json


def write_config(directory: Path, text: str) -> Path:
    path = directory / "rollout.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_from(text: str) -> Config:
    return parse_config(textwrap.dedent(text))


def issues_of_story(story: str) -> dict[int, Issue]:
    """The issues a scenario story describes, as the trackers would hand them over."""
    from scenarios import load_story

    state = load_story(textwrap.dedent(story))
    [project] = state.projects.values()
    snapshot = state.snapshot(project)
    return {int(data["iid"]): issue_from_json(data) for data in snapshot["issues"]}


def readme_example(command: str) -> tuple[str, str]:
    """The output the README's tour shows for ``$ rollout COMMAND``, and what that command
    prints from the committed example data (rollout.toml + examples/snapshot.json)."""
    import re
    import shlex

    from click.testing import CliRunner

    from rollout.cli import cli

    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"```console\n\$ rollout {re.escape(command)}\n(.*?)```", readme, re.S)
    assert block is not None, f"the README shows no `rollout {command}`"
    result = CliRunner().invoke(
        cli, ["--config", str(root / "rollout.toml"), *shlex.split(command)]
    )
    assert result.exit_code == 0, result.stderr
    return block.group(1), result.stdout
