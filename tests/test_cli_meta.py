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
    "args", [("schedule", "--months", "1"), ("calendar", "--months", "1", "--out", "feeds"), ("--help",)]
)
def test_calendar_commands_do_not_import_gitlab(tmp_path: Path, args: tuple[str, ...]) -> None:
    modules = imported_modules(tmp_path, *args)
    assert "rollout.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in ("gitlab", "requests")}


def test_help_does_not_import_the_heavy_libraries(tmp_path: Path) -> None:
    modules = imported_modules(tmp_path, "--help")
    heavy = {"holidays", "icalendar", "jinja2", "gitlab", "requests"}
    assert not {m for m in modules if m.split(".")[0] in heavy}


def test_every_package_is_listed_for_the_wheel() -> None:
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "rollout").rglob("__init__.py")
    }
    assert found | {"rollout.templates"} == listed


def test_the_public_api_names_what_it_exports() -> None:
    import rollout

    assert sorted(rollout.__all__) == sorted(rollout._MODULE_OF)
    for name in rollout.__all__:
        assert getattr(rollout, name).__name__ == name
    with pytest.raises(AttributeError):
        rollout.nothing_like_this  # noqa: B018


def test_help_loads_none_of_the_domain_modules(tmp_path: Path) -> None:
    modules = imported_modules(tmp_path, "--help")
    assert not modules & {"rollout.board", "rollout.readiness", "rollout.schedule", "rollout.trackers"}
