"""The README's triage and incident examples are the real output of the example data."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from rollout.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def session(first_command: str) -> list[tuple[str, str]]:
    """The (command, output) pairs of the console block that starts with ``first_command``."""
    block = re.search(rf"```console\n(\$ {re.escape(first_command)}\n.*?)```", README, re.S)
    assert block is not None, first_command
    pairs: list[tuple[str, str]] = []
    for line in block.group(1).splitlines(keepends=True):
        if line.startswith("$ "):
            pairs.append((line[2:].rstrip("\n"), ""))
        else:
            command, output = pairs[-1]
            pairs[-1] = (command, output + line)
    return pairs


@pytest.mark.parametrize(
    "first",
    ["rollout triage 115 116", 'rollout incident "Zendesk Global" --reported-at 2027-01-20T09:00'],
)
def test_the_readme_shows_real_output(first: str) -> None:
    exit_code = None
    for command, shown in session(first):
        if command == "echo $?":
            assert shown == f"{exit_code}\n"
            continue
        args = shlex.split(command)
        assert args[0] == "rollout"
        result = CliRunner().invoke(cli, ["--config", str(ROOT / "rollout.toml"), *args[1:]])
        exit_code = result.exit_code
        assert (result.stdout if exit_code in (0, 1) else result.stderr) == shown, command
