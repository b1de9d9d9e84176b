"""examples/gitlab-ci.yml: valid YAML, the jobs the README documents, and rollout command lines
that rollout's own parser accepts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
import venv
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from gitlab_server import GitLabServer
from scenarios import load_story
from slack_server import SlackServer, SlackState

from rollout.cli import cli
from rollout.config import parse_config

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "gitlab-ci.yml"
SUPPORT_OPS = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"
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
    assert set(found) == {"pages", "check", "announcements", "digest", "milestones", "triage"}
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
        "announcements": '$CI_PIPELINE_SOURCE == "schedule" && $ROLLOUT_JOB == "announcements"',
        "digest": '$CI_PIPELINE_SOURCE == "schedule" && $ROLLOUT_JOB == "digest"',
        "milestones": '$CI_PIPELINE_SOURCE == "schedule" && $ROLLOUT_JOB == "milestones"',
        "triage": '$CI_PIPELINE_SOURCE == "schedule" && $ROLLOUT_JOB == "triage"',
    }


def test_the_rollout_command_lines() -> None:
    assert COMMANDS == [
        ["site", "--out", "public"],
        ["--tracker", "gitlab", "check", "42"],
        ["--tracker", "gitlab", "announce", "--due", "--post"],
        ["--tracker", "gitlab", "digest", "--post", "--out", "digest.txt"],
        ["--tracker", "gitlab", "milestones", "--year", "2027", "--apply"],
        ["--tracker", "gitlab", "milestones", "--year", "2028", "--apply"],
        ["--tracker", "gitlab", "triage", "--apply"],
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
        ["--tracker", "gitlab", "announce", "--due", "--post", "--send"],
        ["--tracker", "gitlab", "digest", "--format", "html"],
        ["--tracker", "gitlab", "milestones", "--apply"],
        ["--tracker", "gitlab", "statuz"],
        ["calendar", "--outdir", "public"],
    ):
        with pytest.raises(click.UsageError):
            parse(args)


def test_no_job_carries_inline_python() -> None:
    assert not [line for line in script_lines() if "python" in line]


def job_commands(name: str) -> list[list[str]]:
    return [args for line in jobs()[name]["script"] for args in rollout_commands(line)]


def test_the_daily_and_weekly_jobs_against_the_example_tracker(tmp_path: Path) -> None:
    """The announcements and digest jobs' own command lines, run on 2027-01-29 against the
    GitLab and Slack test servers holding the example tracker: the reminders of #101 and #102
    and the week's digest go out, and a retried job sends nothing more."""
    state = load_story(
        (ROOT / "tests" / "stories" / "support_ops.story").read_text(encoding="utf-8")
    )
    slack = SlackState(clock=datetime(2027, 1, 29, 10, 0, tzinfo=UTC).timestamp())
    slack.add_channel("support-ops-changes")
    config = tmp_path / "rollout.toml"
    config.write_text(
        f'[tracker]\nkind = "gitlab"\nproject = "{SUPPORT_OPS}"\n'
        '[announce]\ntargets = ["gitlab", "slack"]\n[slack]\nchannel = "support-ops-changes"\n',
        encoding="utf-8",
    )
    state.set_clock(datetime(2027, 1, 29, 10, 0, tzinfo=UTC))
    with GitLabServer(state) as gitlab, SlackServer(slack) as server:
        env = {
            "GITLAB_URL": gitlab.url,
            "GITLAB_TOKEN": gitlab.token,
            "SLACK_API_URL": server.url,
            "SLACK_BOT_TOKEN": server.token,
        }
        for attempt in (1, 2):
            for name in ("announcements", "digest"):
                for args in job_commands(name):
                    args = [*args, "--as-of", "2027-01-29"]
                    if "--out" in args:
                        args[args.index("--out") + 1] = str(tmp_path / "digest.txt")
                    result = CliRunner(env=env).invoke(cli, ["--config", str(config), *args])
                    assert result.exit_code == 0, (attempt, name, result.output)
        reminders = [
            (iid, note["body"].splitlines()[0])
            for iid in (101, 102)
            for note in state.notes_json(278964, iid)
            if "phase=reminder" in note["body"]
        ]
        events = [m.metadata["event_type"] for m in slack.messages("support-ops-changes")]
    assert reminders == [
        (101, "### Reminder: Add a macro for refund requests ships in 3 days"),
        (102, "### Reminder: Ticket form drops the attachment field ships in 3 days"),
    ]
    # Once each: 2 reminders, 3 pre-announcements, 1 post-announcement, and the two
    # pre-announcements GitLab had before Slack was set up (still due for Slack).
    assert events.count("rollout_announcement") == 8
    assert events.count("rollout_digest") == 1
    assert (
        (tmp_path / "digest.txt")
        .read_text(encoding="utf-8")
        .startswith("*Change Management: the week of 2027-01-24*\n")
    )


def test_the_triage_job_runs_hourly_in_working_hours_and_tolerates_exit_1() -> None:
    from rollout.cli.triage import EXIT_INCOMPLETE

    assert jobs()["triage"]["allow_failure"] == {"exit_codes": [EXIT_INCOMPLETE]}
    header = EXAMPLE.read_text(encoding="utf-8").split("\nimage:")[0]
    assert re.search(
        r"ROLLOUT_JOB=triage\s+hourly in working hours.*\n#\s+\"0 8-18 \* \* 1-5\"", header
    )


def test_the_triage_job_twice_against_gitlab_writes_once(tmp_path: Path) -> None:
    """The job's own command line, run twice on the example tracker: the second run (a
    retried job, or the next hour) makes no write request."""
    from gitlab_server import GitLabServer
    from scenarios import load_story

    story = (ROOT / "tests" / "stories" / "support_ops.story").read_text(encoding="utf-8")
    [line] = jobs()["triage"]["script"]
    [args] = rollout_commands(line)
    config = tmp_path / "rollout.toml"
    config.write_text(
        '[tracker]\nkind = "gitlab"\n'
        'project = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"\n',
        encoding="utf-8",
    )
    with GitLabServer(load_story(story)) as server:
        env = {"GITLAB_URL": server.url, "GITLAB_TOKEN": server.token}
        first = CliRunner(env=env).invoke(cli, ["--config", str(config), *args])
        assert first.exit_code == 1, first.stderr  # 114, 115 and 116 need more
        assert server.count("POST") == 3 and server.count("PUT") == 3
        server.reset_requests()
        second = CliRunner(env=env).invoke(cli, ["--config", str(config), *args])
        assert second.exit_code == 1
        assert [r.method for r in server.requests if r.method != "GET"] == []


def test_the_pages_job_builds_the_site_from_the_published_feeds(tmp_path: Path) -> None:
    """The job's own shell lines, with the published site served at CI_PAGES_URL: the feeds
    it fetches first are the memory, so an event that changed before keeps its SEQUENCE."""
    from browser import serving

    from rollout.feeds import previous_in
    from rollout.site import build_site, publish_site

    override = '[[schedule.override]]\nmonth = "2027-05"\ndate = "2027-05-03"\nreason = "Moved"\n'
    moved = tmp_path / "moved.toml"
    moved.write_text(override, encoding="utf-8")
    published = tmp_path / "published"
    now = datetime(2027, 1, 20, tzinfo=UTC)
    for text in ("", override):  # published once as planned, then with May moved
        config = parse_config(text)
        publish_site(
            build_site(config, date(2027, 1, 20), previous=previous_in(published), now=now),
            published,
        )
    assert b"SEQUENCE:1" in (published / "deployments.ics").read_bytes()

    project = tmp_path / "project"
    project.mkdir()
    (project / "rollout.toml").write_text(override, encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    rollout = Path(sys.executable).parent / "rollout"
    (bin_dir / "rollout").write_text(
        f'#!/bin/sh\nexec "{rollout}" "$@" --as-of 2027-01-20\n', encoding="utf-8"
    )
    (bin_dir / "rollout").chmod(0o755)
    with serving(published) as url:
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "CI_PAGES_URL": url.rstrip("/"),
            "SOURCE_DATE_EPOCH": "1800000000",
        }
        for line in jobs()["pages"]["script"]:
            subprocess.run(
                ["bash", "-ec", line], cwd=project, env=env, check=True, capture_output=True
            )
    site = project / "public"
    assert (site / "index.html").is_file() and (site / "calendar.html").is_file()
    feed = (site / "deployments.ics").read_text(encoding="utf-8")
    may = feed[
        feed.index("UID:deployment-2027-05") - 400 : feed.index("UID:deployment-2027-05") + 200
    ]
    assert "SEQUENCE:1" in may  # remembered from the published feed, not 0 as if new
    assert (
        f"webcal://{url.removeprefix('http://').rstrip('/')}/deployments.ics"
        in (site / "index.html").read_text()
    )


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
