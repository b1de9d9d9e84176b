"""examples/gitlab-ci.yml: valid YAML, the jobs the README documents, and rollout command lines
that rollout's own parser accepts."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from rollout.cli import cli

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "gitlab-ci.yml"
# What the shell variables of the jobs hold when they run.
SAMPLE = {
    "ISSUE": "42",
    "iid": "101",
    "YEAR": "2027",
    "NEXT_YEAR": "2028",
    "ROLLOUT_PACKAGE": "rollout",
    "CI_PAGES_URL": "https://ops.gitlab.io/tracker",
}
# Keys at the top of a .gitlab-ci.yml that are not jobs.
GLOBAL_KEYS = {"image", "variables", "default", "stages", "workflow", "include", "cache"}


def pipeline() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def jobs() -> dict[str, dict[str, Any]]:
    return {name: job for name, job in pipeline().items() if name not in GLOBAL_KEYS}


def script_lines() -> list[str]:
    data = pipeline()
    lines = list(data["default"]["before_script"])
    for job in jobs().values():
        lines += job["script"]
    return lines


def rollout_commands(line: str) -> list[list[str]]:
    """The argument lists of every ``rollout`` run in a shell line, variables filled in."""
    lexer = shlex.shlex(_expand(line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = []
    current: list[str] | None = None
    command_starts = True  # the next word is a command name
    for token in lexer:
        separator = set(token) <= set(";|&<>()") or token in ("do", "done", "then", "else")
        if current is not None and separator:
            commands.append(current)
            current = None
        elif current is not None:
            current.append(token)
        elif token == "rollout" and command_starts:
            current = []
        command_starts = separator
    if current is not None:
        commands.append(current)
    return commands


def _expand(line: str) -> str:
    """The line with $NAME and ${NAME} replaced by the sample values."""
    for name, value in sorted(SAMPLE.items(), key=lambda item: -len(item[0])):
        line = line.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return line


COMMANDS = [args for line in script_lines() for args in rollout_commands(line)]


def test_it_is_yaml_with_the_documented_jobs() -> None:
    found = jobs()
    assert set(found) == {"pages", "check", "reminders", "milestones"}
    stages = pipeline()["stages"]
    for name, job in found.items():
        assert job["stage"] in stages, name
        assert job["script"], name
        assert job["rules"], name
    assert found["pages"]["artifacts"]["paths"] == ["public"]  # what GitLab Pages publishes
    assert found["check"]["rules"] == [{"if": "$ISSUE"}]
    scheduled = {
        name: rule["if"]
        for name, job in found.items()
        for rule in job["rules"]
        if "schedule" in rule["if"]
    }
    assert scheduled == {
        "pages": '$CI_PIPELINE_SOURCE == "schedule" && $ROLLOUT_JOB == "calendars"',
        "reminders": '$CI_PIPELINE_SOURCE == "schedule" && $ROLLOUT_JOB == "reminders"',
        "milestones": '$CI_PIPELINE_SOURCE == "schedule" && $ROLLOUT_JOB == "milestones"',
    }


def test_the_rollout_command_lines() -> None:
    assert COMMANDS == [
        ["calendar", "--out", "public"],
        ["--tracker", "gitlab", "check", "42"],
        ["--tracker", "gitlab", "status", "--json"],
        ["--tracker", "gitlab", "announce", "101", "--phase", "reminder", "--post"],
        ["--tracker", "gitlab", "milestones", "--year", "2027", "--apply"],
        ["--tracker", "gitlab", "milestones", "--year", "2028", "--apply"],
    ]


def parse(args: list[str]) -> None:
    """Parse like ``rollout ARGS`` would: the global options, then the command's own."""
    context = click.Context(cli, info_name="rollout")
    rest = click.Command.parse_args(cli, context, list(args))  # the global options
    name, command, arguments = cli.resolve_command(context, rest)
    assert name is not None and command is not None
    command.make_context(name, arguments, parent=context)


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(args) for args in COMMANDS])
def test_every_rollout_command_line_parses(args: list[str]) -> None:
    """rollout's own parser accepts the line: the command exists, every option is known and
    every value converts (dates, years, choices), without running anything."""
    parse(args)


def test_a_bad_line_would_be_caught() -> None:
    """The check above is not vacuous."""
    for args in (
        ["--tracker", "gitlab", "announce", "101", "--phase", "later"],
        ["--tracker", "gitlab", "milestones", "--apply"],
        ["--tracker", "gitlab", "statuz"],
        ["calendar", "--outdir", "public"],
    ):
        with pytest.raises(click.UsageError):
            parse(args)


def test_the_reminder_job_reads_the_ready_issues_from_status_json(tmp_path: Path) -> None:
    """The job's own shell lines, run on the example tracker's board, find #101 and #102."""
    status = CliRunner().invoke(
        cli, ["--config", str(ROOT / "rollout.toml"), "status", "--as-of", "2027-01-20", "--json"]
    )
    assert status.exit_code == 0, status.stderr
    (tmp_path / "status.json").write_text(status.stdout, encoding="utf-8")
    [extract] = [line for line in jobs()["reminders"]["script"] if line.startswith("python3 -c")]
    command = extract.replace("python3", shlex.quote(sys.executable), 1)
    subprocess.run(command, shell=True, cwd=tmp_path, check=True)
    assert (tmp_path / "ready.txt").read_text() == "101 102\n"
    assert json.loads(status.stdout)["next_deployment"]["ready"][0]["iid"] == 101


def test_the_jobs_keep_the_history_cache_between_runs() -> None:
    """The committed rollout.toml puts the history cache where GitLab CI's cache: keeps it."""
    from rollout.config import load_config

    [kept] = [
        cache for cache in pipeline()["default"]["cache"] if cache["key"] == "rollout-history"
    ]
    path = load_config(ROOT / "rollout.toml").cache.path
    assert path is not None
    relative = path.resolve().relative_to(ROOT.resolve())
    assert any(relative.is_relative_to(directory.rstrip("/")) for directory in kept["paths"])
