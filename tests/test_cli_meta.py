"""The command line as a whole: help texts, the README, and what commands import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rollout.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_examples_and_is_in_the_readme(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help.strip()) > 40
    assert "Examples:" in command.help
    assert f"rollout {name}" in README


def test_readme_setup_block_is_two_commands() -> None:
    block = re.search(r"<!-- setup -->\n```sh\n(.*?)```\n<!-- /setup -->", README, re.S)
    assert block is not None
    lines = block.group(1).strip().splitlines()
    assert len(lines) == 2
    assert "pip install" in lines[0] and "rollout calendar" in lines[0]
    assert "pytest" in lines[1]


def imported_modules(tmp_path: Path, *args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rollout", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "args",
    [("schedule", "--months", "1"), ("calendar", "--months", "1", "--out", "feeds"), ("--help",)],
)
def test_calendar_commands_do_not_import_gitlab(tmp_path: Path, args: tuple[str, ...]) -> None:
    modules = imported_modules(tmp_path, *args)
    assert "rollout.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in ("gitlab", "requests")}


def test_help_does_not_import_the_heavy_libraries(tmp_path: Path) -> None:
    modules = imported_modules(tmp_path, "--help")
    heavy = {"holidays", "icalendar", "jinja2", "gitlab", "requests"}
    assert not {m for m in modules if m.split(".")[0] in heavy}


def test_version_is_the_installed_distributions() -> None:
    from importlib import metadata

    from click.testing import CliRunner

    import rollout

    result = CliRunner().invoke(cli, ["--version"], prog_name="rollout")
    assert result.output == f"rollout, version {metadata.version(rollout.DISTRIBUTION)}\n"


def test_the_public_api_names_what_it_exports() -> None:
    import rollout

    assert sorted(rollout.__all__) == sorted(rollout._MODULE_OF)
    for name in rollout.__all__:
        assert getattr(rollout, name).__name__ == name
    with pytest.raises(AttributeError):
        rollout.nothing_like_this  # noqa: B018


def test_help_loads_none_of_the_domain_modules(tmp_path: Path) -> None:
    modules = imported_modules(tmp_path, "--help")
    assert not modules & {
        "rollout.board",
        "rollout.readiness",
        "rollout.schedule",
        "rollout.trackers",
    }


def help_examples() -> list[tuple[str, list[str]]]:
    """Every example line of every command's --help: (command, its arguments after rollout)."""
    import shlex

    examples = []
    for name, command in sorted(cli.commands.items()):
        text = (command.help or "").split("Examples:", 1)[-1]
        for line in text.splitlines():
            if line.strip().startswith("rollout "):
                words = shlex.split(line.split(" > ")[0])[1:]
                examples.append((name, words))
    return examples


@pytest.mark.parametrize(
    ("name", "args"),
    help_examples(),
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_help_examples_parse_and_name_issues_of_the_example_data(
    name: str, args: list[str]
) -> None:
    import json

    import click

    context = click.Context(cli, info_name="rollout")
    rest = click.Command.parse_args(cli, context, list(args))
    found, command, arguments = cli.resolve_command(context, rest)
    assert found == name and command is not None
    parsed = command.make_context(name, arguments, parent=context).params
    snapshot = json.loads((ROOT / "examples" / "snapshot.json").read_text(encoding="utf-8"))
    known = {issue["iid"] for issue in snapshot["issues"]}
    issues = parsed.get("issues") or ([parsed["iid"]] if parsed.get("iid") else [])
    for issue in issues:
        assert getattr(issue, "iid", issue) in known, (
            f"rollout {' '.join(args)}: #{issue} is not in examples/snapshot.json"
        )
