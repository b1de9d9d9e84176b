"""Every ```console block of the README, run and compared with what it shows, character for
character; and every ```ics block found in the feeds the tour writes.

Each block runs in a scratch copy of the repository's example files (rollout.toml and
examples/), as on 2027-01-20 (time-machine: no test reads the real clock). A command with
`--tracker gitlab` gets GITLAB_URL and GITLAB_TOKEN of a GitLab test server seeded with
tests/stories/support_ops.story; the others run without them, as a reader without GitLab.
A line starting with "$ " is a command; the lines after it, up to the next command, are
what it prints (stdout and stderr, as a terminal shows them). `rollout ...` runs in this
process (with VAR=value prefixes as its environment, and `| command` fed its stdout);
`echo $?` prints the exit code of the command before; `cd DIR` moves the rest of the block
to DIR; anything else runs in bash.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from gitlab_server import GitLabServer
from scenarios import load_story

from rollout.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
STORY = ROOT / "tests" / "stories" / "support_ops.story"
TODAY = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)
FENCE = re.compile(r"^```(console|ics)\n(.*?)^```$", re.S | re.M)


@dataclass
class Step:
    command: str
    shows: list[str] = field(default_factory=list)


def fenced(kind: str) -> list[tuple[int, str]]:
    """The README's blocks of one kind, with the line each starts on."""
    return [
        (README.count("\n", 0, match.start()) + 1, match.group(2))
        for match in FENCE.finditer(README)
        if match.group(1) == kind
    ]


def steps(block: str) -> list[Step]:
    found: list[Step] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append(Step(line[2:]))
        else:
            assert found, f"output before any command: {line!r}"
            found[-1].shows.append(line)
    return found


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the example files, the current directory, on the README's day."""
    shutil.copy(ROOT / "rollout.toml", tmp_path / "rollout.toml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for name in ("GITLAB_URL", "GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_SERVER_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    with time_machine.travel(TODAY):
        yield tmp_path


class Shell:
    def __init__(self, cwd: Path, gitlab: dict[str, str]) -> None:
        self.cwd = cwd
        self.gitlab = gitlab
        self.status = 0

    def run(self, command: str) -> str:
        if command == "echo $?":
            return f"{self.status}\n"
        words = shlex.split(command)
        if words[0] == "cd":
            moved = self.bash(f"{command} && pwd")
            self.cwd = Path(moved.strip())
            os.chdir(self.cwd)
            return ""
        assignments = {}
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            assignments[name] = value
        if not words or words[0] != "rollout":
            return self.bash(command)
        command, _, piped = command.partition(" | ")
        args = shlex.split(command)[len(assignments) + 1 :]
        env = {**(self.gitlab if "--tracker gitlab" in command else {}), **assignments}
        result = CliRunner(env=env).invoke(cli, args, prog_name="rollout", catch_exceptions=False)
        self.status = result.exit_code
        if not piped:
            return result.output
        return result.stderr + self.bash(piped, stdin=result.stdout)

    def bash(self, command: str, stdin: str = "") -> str:
        finished = subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env={**os.environ, "TMPDIR": str(self.cwd)},
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        self.status = finished.returncode
        return finished.stdout + finished.stderr


def run_block(block: str, scratch: Path) -> str:
    """The block as the commands print it."""
    with GitLabServer(load_story(STORY.read_text(encoding="utf-8"))) as server:
        shell = Shell(scratch, {"GITLAB_URL": server.url, "GITLAB_TOKEN": server.token})
        return "".join(f"$ {step.command}\n{shell.run(step.command)}" for step in steps(block))


CONSOLE = fenced("console")


@pytest.mark.parametrize(
    "block", [block for _, block in CONSOLE], ids=[f"line {line}" for line, _ in CONSOLE]
)
def test_console_block(block: str, scratch: Path) -> None:
    assert run_block(block, scratch) == block


def test_every_block_is_found() -> None:
    assert len(CONSOLE) == README.count("```console")
    assert len(CONSOLE) >= 12


def test_a_block_that_drifted_fails(scratch: Path) -> None:
    line, block = next((line, block) for line, block in CONSOLE if "rollout schedule" in block)
    drifted = block.replace("2027-02-01", "2027-02-02", 1)
    assert run_block(drifted, scratch) != drifted, f"README line {line}"


def test_the_ics_excerpts_are_from_the_feeds_the_tour_writes(scratch: Path) -> None:
    [tour] = [block for _, block in CONSOLE if "$ rollout calendar --from" in block]
    run_block(tour, scratch)
    feeds = "".join(
        path.read_text(encoding="utf-8").replace("\r\n", "\n")
        for path in sorted((scratch / "calendars").glob("*.ics"))
    )
    excerpts = fenced("ics")
    assert excerpts
    for line, excerpt in excerpts:
        assert excerpt in feeds, f"README line {line}"
