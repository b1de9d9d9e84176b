"""examples/gitlab-ci.yml: valid YAML, the jobs the README documents, and rollout command lines
that rollout's own parser accepts."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib
import venv
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
    "ROLLOUT_REPO_URL": "https://gitlab.example.com/tools/rollout.git",
    "ROLLOUT_REF": "main",
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


def test_it_installs_this_project_by_its_distribution_name() -> None:
    """pip checks the name before "@" against the metadata it builds: the one in pyproject."""
    import rollout

    name = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
    assert name == rollout.DISTRIBUTION == "rollout-calendar"
    [install] = [line for line in pipeline()["default"]["before_script"] if "pip install" in line]
    assert f'"{name} @ git+${{ROLLOUT_REPO_URL}}@${{ROLLOUT_REF}}"' in install


def test_it_stops_with_a_clear_line_when_the_repository_url_is_not_set(tmp_path: Path) -> None:
    [guard, _] = pipeline()["default"]["before_script"]
    env = {key: value for key, value in os.environ.items() if key != "ROLLOUT_REPO_URL"}
    result = subprocess.run(
        ["bash", "-c", guard], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert (
        result.stderr
        == "Set the CI/CD variable ROLLOUT_REPO_URL to the clone URL of rollout's repository\n"
    )


@pytest.mark.slow
def test_the_install_lines_install_this_project_from_its_repository(tmp_path: Path) -> None:
    """The job's own before_script, run in a fresh virtual environment with ROLLOUT_REPO_URL set
    to this repository and ROLLOUT_REF to its current commit (what is committed is installed),
    gives a plain install whose `rollout` finds its templates from any directory."""
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    env = {
        **os.environ,
        "PATH": f"{environment / 'bin'}{os.pathsep}{os.environ['PATH']}",
        # pip's own parser wants a host in a file URL.
        "ROLLOUT_REPO_URL": f"file://localhost{ROOT.resolve()}",
        "ROLLOUT_REF": commit,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    for line in pipeline()["default"]["before_script"]:
        subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, check=True)
    rollout = environment / "bin" / "rollout"
    shipped = subprocess.run(
        [environment / "bin" / "python", "-c", SHIPPED_TEMPLATES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert shipped == sorted(
        str(path.relative_to(ROOT / "templates"))
        for path in (ROOT / "templates").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    version = subprocess.run([rollout, "--version"], capture_output=True, text=True, check=True)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert version.stdout == f"rollout, version {project['version']}\n"
    feeds = subprocess.run(
        [rollout, "calendar", "--from", "2027-01-01", "--months", "2", "--out", "feeds"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert feeds.stderr.splitlines()[-2:] == [
        "wrote feeds/deployments.ics",
        "wrote feeds/deadlines.ics",
    ]
    assert (
        "UID:deployment-2027-02@rollout.local"
        in (tmp_path / "feeds" / "deployments.ics").read_text()
    )


# Every file the installed rollout.templates package holds, subfolders included.
SHIPPED_TEMPLATES = """
from importlib import resources
def walk(folder, prefix=""):
    for entry in folder.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from walk(entry, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name
print("\\n".join(sorted(walk(resources.files("rollout.templates")))))
"""
