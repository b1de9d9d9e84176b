"""The history cache (PRODUCT.md §9): warm runs answer exactly as cold ones, through the CLI
against the GitLab test server, asking GitLab only for what changed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from gitlab_server import GitLabServer, GitLabState
from scenarios import load_story

from rollout.cli import cli
from rollout.errors import TrackerError
from rollout.issues import history_as_read, issue_from_json, with_history
from rollout.trackers import cache as cache_module

STORIES = Path(__file__).parent / "stories"
SUPPORT_OPS = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"
NOW = datetime(2027, 1, 20, 10, 0, tzinfo=UTC)  # the stories' server clock
CACHE = "history.sqlite"


def story(name: str) -> GitLabState:
    state = load_story((STORIES / name).read_text(encoding="utf-8"))
    state.set_clock(NOW)
    return state


class Rollout:
    """``rollout`` with a rollout.toml that reads the test server's project and keeps its
    history cache in the scratch directory."""

    def __init__(
        self, directory: Path, server: GitLabServer, project: str, extra: str = ""
    ) -> None:
        self.directory = directory
        self.server = server
        self.config = directory / "rollout.toml"
        self.config.write_text(
            f'[tracker]\nkind = "gitlab"\nproject = "{project}"\nretries = 1\ntimeout = 5\n'
            f'[cache]\npath = "{CACHE}"\n{extra}',
            encoding="utf-8",
        )
        self.env = {
            "GITLAB_URL": server.url,
            "GITLAB_TOKEN": server.token,
            "SOURCE_DATE_EPOCH": "1800000000",
        }

    @property
    def cache(self) -> Path:
        return self.directory / CACHE

    def __call__(self, *args: str) -> Result:
        runner = CliRunner(env=self.env)
        return runner.invoke(cli, ["--config", str(self.config), *args])


@pytest.fixture
def server() -> Iterator[GitLabServer]:
    with GitLabServer(story("support_ops.story")) as running:
        yield running


@pytest.fixture
def rollout(workdir: Path, server: GitLabServer) -> Rollout:
    return Rollout(workdir, server, SUPPORT_OPS)


def history_requests(server: GitLabServer) -> dict[int, list[str]]:
    """Per issue, which parts of its history were asked for."""
    asked: dict[int, list[str]] = {}
    for request in server.requests:
        parts = request.path.split("/")
        if len(parts) >= 3 and parts[-3] == "issues" and parts[-2].isdigit():
            asked.setdefault(int(parts[-2]), []).append(parts[-1])
    return {iid: sorted(kinds) for iid, kinds in asked.items()}


def outputs(rollout: Rollout, *extra: str) -> dict[str, str]:
    """What every command that reads histories answers, as of the stories' day."""
    as_of = ("--as-of", "2027-01-20")
    [project] = rollout.server.state.projects.values()
    iids = [str(iid) for iid in sorted(project.issues)]
    runs = {
        "check": ["check", *iids, *as_of],
        "check --json": ["check", *iids[::2], "--json", *as_of],
        "status": ["status", *as_of],
        "status --json": ["status", "--json", *as_of],
        "notes": ["notes", "2027-02-01", *as_of],
        "notes --format html": ["notes", "2027-02-01", "--format", "html", *as_of],
        "announce": ["announce", iids[0], "--phase", "reminder", *as_of],
    }
    found = {}
    for name, args in runs.items():
        result = rollout(*extra, *args)
        assert result.exit_code in (0, 1), f"{name}: {result.stderr}"
        found[name] = f"exit {result.exit_code}\n{result.stdout}"
    out = rollout.directory / f"feeds-{len(list(rollout.directory.glob('feeds-*')))}"
    result = rollout(*extra, "calendar", "--from", "2027-01-01", "--months", "3", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    found["changes.ics"] = (out / "changes.ics").read_text(encoding="utf-8")
    return found


# ------------------------------------------------------------------ warm equals cold


@pytest.mark.parametrize("name", ["support_ops.story", "release_notes.story"])
def test_a_warm_run_answers_as_a_cold_one_and_asks_only_for_lists(workdir: Path, name: str) -> None:
    state = story(name)
    [project] = state.projects.values()
    with GitLabServer(state) as server:
        rollout = Rollout(workdir, server, project.path)
        uncached = outputs(rollout, "--no-cache")
        assert not rollout.cache.exists()
        cold = outputs(rollout)
        assert rollout.cache.exists()
        server.reset_requests()
        warm = outputs(rollout)
        assert warm == cold == uncached
        assert history_requests(server) == {}  # nothing changed: only the lists were read


def test_an_issue_changed_between_runs_is_fetched_again_and_only_it(
    rollout: Rollout, server: GitLabServer
) -> None:
    cold = outputs(rollout)
    server.state.advance(timedelta(minutes=1))
    server.state.add_note(SUPPORT_OPS, 101, "Moved to next month, sorry.", "bob")
    server.state.change_labels(SUPPORT_OPS, 104, add=["Validation::Received"])
    server.state.advance(timedelta(minutes=5))
    server.reset_requests()
    warm = outputs(rollout)
    assert {iid for iid in history_requests(server)} == {101, 104}
    assert warm == outputs(rollout, "--no-cache")
    assert warm != cold  # 104 is signed off now


def test_a_change_that_touches_no_listed_field_is_seen_too(
    rollout: Rollout, server: GitLabServer
) -> None:
    outputs(rollout)
    server.state.advance(timedelta(minutes=3))
    # The blocker of 107 is closed: GitLab does not touch 107, whose kept links say "opened".
    server.state.close_issue(SUPPORT_OPS, 111)
    # A new blocker of 102: a link touches both issues.
    server.state.add_link(SUPPORT_OPS, 102, 110, "is_blocked_by")
    server.state.advance(timedelta(minutes=3))
    server.reset_requests()
    warm = outputs(rollout)
    assert warm == outputs(rollout, "--no-cache")
    assert "blocked by open #110" in warm["check"]
    assert "Stage::Blocked" in warm["status"] and "#111" not in warm["status"].split("Blocked:")[1]


def test_a_kept_link_to_a_blocker_gitlab_no_longer_lists_is_fetched_again(
    rollout: Rollout, server: GitLabServer
) -> None:
    """The blocker of 107 is deleted: GitLab drops its links without touching 107, and no
    longer lists it. The kept links of 107 name it, so they are asked for again (and only
    they), while the other issues are read from the cache meanwhile."""
    cold = outputs(rollout)
    state = server.state
    state.advance(timedelta(minutes=3))
    [project] = state.projects.values()
    blocker = project.issues.pop(111)
    state.links[:] = [
        link for link in state.links if blocker.id not in (link.source.id, link.target.id)
    ]
    state.advance(timedelta(minutes=3))
    server.reset_requests()
    warm = outputs(rollout)
    asked = history_requests(server)
    assert warm == outputs(rollout, "--no-cache")
    assert warm != cold
    assert "#111" not in warm["status"]
    assert asked == {107: ["links"]}, asked


def test_the_cache_keeps_only_the_fields_rollout_reads(
    rollout: Rollout, server: GitLabServer
) -> None:
    """A label event comes with its label's colour and its user's avatar: the cache keeps
    what the parsers read, and what it keeps reads as GitLab's whole answer does."""
    outputs(rollout)
    with sqlite3.connect(rollout.cache) as db:
        kept = {(iid, part): json.loads(data) for iid, part, data in db.execute(KEPT)}
    assert {part for _, part in kept} == {"label_events", "links", "notes"}
    [project] = server.state.projects.values()
    api = f"{server.url}/api/v4/projects/{project.id}/issues"
    headers = {"PRIVATE-TOKEN": server.token}
    endpoints = {"label_events": "resource_label_events", "links": "links", "notes": "notes"}
    for (iid, part), items in kept.items():
        issue = issue_from_json(server.state.issue_json(project, iid))
        url = f"{api}/{iid}/{endpoints[part]}?per_page=100"
        answer = requests.get(url, headers=headers, timeout=5).json()
        assert with_history(issue, {part: items}) == with_history(issue, {part: answer})
        if answer:
            assert len(json.dumps(items)) < len(json.dumps(answer)) / 2, (iid, part)
    assert "avatar_url" not in json.dumps(list(kept.values()))


def test_what_the_cache_cannot_read_is_kept_as_it_came(server: GitLabServer) -> None:
    """A malformed answer reads from the cache as it read from GitLab: as the same error."""
    wrong_field = [{"id": 1, "body": 7, "author": None, "confidential": False}]
    not_an_object = ["a note"]
    assert history_as_read("notes", wrong_field) == [{"id": 1, "body": 7, "author": None}]
    assert history_as_read("notes", not_an_object) == not_an_object
    [project] = server.state.projects.values()
    issue = issue_from_json(server.state.issue_json(project, min(project.issues)))
    for answer, problem in ((wrong_field, "notes[0].body"), (not_an_object, "notes[0]: expected")):
        errors = []
        for items in (answer, history_as_read("notes", answer)):
            with pytest.raises(TrackerError) as raised:
                with_history(issue, {"notes": items})
            errors.append(str(raised.value))
        assert errors[0] == errors[1] and problem in errors[0], errors


KEPT = "SELECT iid, part, data FROM history"


# ------------------------------------------------------------------ the two-minute rule


def test_a_history_fetched_within_two_minutes_of_its_update_is_not_reused(
    rollout: Rollout, server: GitLabServer
) -> None:
    state = server.state
    state.change_labels(SUPPORT_OPS, 103, add=["Priority::3"], at=NOW - timedelta(seconds=60))
    state.change_labels(SUPPORT_OPS, 102, add=["Priority::3"], at=NOW - timedelta(seconds=121))
    assert rollout("check", "102", "103", "--as-of", "2027-01-20").exit_code == 0
    # GitLab touches an issue at most once a minute for notes: this one leaves updated_at.
    state.add_note(
        SUPPORT_OPS, 103, "<!-- rollout:announcement phase=pre deploy=2027-02-01 -->", "rollout-bot"
    )
    state.issue(SUPPORT_OPS, 103).updated_at = NOW - timedelta(seconds=60)
    state.advance(timedelta(minutes=10))
    server.reset_requests()
    warm = rollout("check", "102", "103", "--as-of", "2027-01-20", "--json")
    # 102 was fetched 121 s after its update: reused. 103 only 60 s after: asked again.
    assert history_requests(server) == {103: ["links", "notes", "resource_label_events"]}
    assert (
        warm.stdout
        == rollout("--no-cache", "check", "102", "103", "--as-of", "2027-01-20", "--json").stdout
    )


def test_a_history_that_changed_while_it_was_listed_is_never_reused_wrongly(
    rollout: Rollout, server: GitLabServer
) -> None:
    """check asks for the issue and its history in one round trip. If the issue changes
    after its history was read but before the list answers, the list's newer updated_at must
    not make the older history look current."""
    state = server.state
    server.inject("slow", match=r"/issues$", seconds=1)

    def change_once_the_history_is_read() -> None:
        deadline = time.monotonic() + 5
        while len(history_requests(server).get(101, [])) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # the answers are out
        state.add_note(SUPPORT_OPS, 101, "Actually, wait for the March deployment.", "alice")

    changer = threading.Thread(target=change_once_the_history_is_read)
    changer.start()
    first = rollout("check", "101", "--as-of", "2027-01-20")
    changer.join()
    assert first.exit_code == 0, first.stderr
    state.advance(timedelta(minutes=10))
    server.reset_requests()
    again = rollout("check", "101", "--as-of", "2027-01-20", "--json")
    assert history_requests(server) == {101: ["links", "notes", "resource_label_events"]}
    uncached = rollout("--no-cache", "check", "101", "--as-of", "2027-01-20", "--json")
    assert again.stdout == uncached.stdout


# ------------------------------------------------------------------ posting


def test_a_posted_note_refreshes_its_issue(rollout: Rollout, server: GitLabServer) -> None:
    as_of = ("--as-of", "2027-01-20")
    assert rollout("check", "104", *as_of).exit_code == 1
    server.state.advance(timedelta(minutes=5))
    updated = server.state.issue(SUPPORT_OPS, 104).updated_at
    posted = rollout("announce", "104", "--phase", "pre", "--post", *as_of)
    assert posted.exit_code == 0, posted.stderr
    # Even if GitLab had not moved updated_at (it touches an issue once a minute at most),
    # the note rollout posted is not hidden by what the cache kept.
    server.state.issue(SUPPORT_OPS, 104).updated_at = updated
    server.state.advance(timedelta(minutes=5))
    server.reset_requests()
    again = rollout("check", "104", "--json", *as_of)
    assert history_requests(server) == {104: ["links", "notes", "resource_label_events"]}
    assert again.stdout == rollout("--no-cache", "check", "104", "--json", *as_of).stdout


# ------------------------------------------------------------------ never in the way


def run_with_trouble(rollout: Rollout) -> tuple[Result, Result]:
    """A run of status with the cache in whatever state the test left it, and one without."""
    troubled = rollout("status", "--as-of", "2027-01-20")
    plain = rollout("--no-cache", "status", "--as-of", "2027-01-20")
    return troubled, plain


def one_warning(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Warning: history cache ")
    return lines[0]


def test_a_corrupt_cache_gives_one_warning_and_the_same_answer(rollout: Rollout) -> None:
    assert rollout("status", "--as-of", "2027-01-20").exit_code == 0  # a cache of rollout's
    kept = rollout.cache.read_bytes()
    rollout.cache.write_bytes(kept[:100] + b"damaged" * (len(kept) // 7))  # its header stays
    troubled, plain = run_with_trouble(rollout)
    assert troubled.exit_code == 0
    assert "damaged" in one_warning(troubled)
    assert "rollout cache clear" in troubled.stderr
    assert troubled.stdout == plain.stdout
    assert rollout("cache", "clear").exit_code == 0
    assert not rollout.cache.exists()


@pytest.mark.parametrize("content", [b"name = 'my notes'\n", b"SQLite format 3\x00" + bytes(200)])
def test_a_file_that_is_not_the_cache_is_never_cleared(rollout: Rollout, content: bytes) -> None:
    """[cache] path naming another file (a config, another program's database) by mistake."""
    rollout.cache.write_bytes(content)
    troubled, plain = run_with_trouble(rollout)
    assert troubled.stdout == plain.stdout
    cleared = rollout("cache", "clear")
    assert (cleared.exit_code, cleared.stdout) == (2, "")
    assert cleared.stderr == (
        f"Error: {rollout.cache} is not a rollout history cache, so rollout leaves it alone; "
        "set [cache] path to another file\n"
    )
    assert rollout.cache.read_bytes() == content


def test_a_locked_cache_gives_one_warning_and_the_same_answer(
    rollout: Rollout, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rollout("status", "--as-of", "2027-01-20").exit_code == 0
    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT", 0.2)
    holder = sqlite3.connect(rollout.cache, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        troubled, plain = run_with_trouble(rollout)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert troubled.exit_code == 0
    assert "locked by another run" in one_warning(troubled)
    assert troubled.stdout == plain.stdout


def test_an_unwritable_cache_gives_one_warning_and_the_same_answer(rollout: Rollout) -> None:
    blocker = rollout.directory / "not-a-directory"
    blocker.write_text("a file where the cache's directory should be", encoding="utf-8")
    rollout.config.write_text(
        rollout.config.read_text(encoding="utf-8").replace(CACHE, "not-a-directory/h.sqlite"),
        encoding="utf-8",
    )
    troubled, plain = run_with_trouble(rollout)
    assert troubled.exit_code == 0
    assert "cannot be written" in one_warning(troubled)
    assert troubled.stdout == plain.stdout


def test_a_read_only_cache_gives_one_warning_and_the_same_answer(
    rollout: Rollout, server: GitLabServer
) -> None:
    assert rollout("status", "--as-of", "2027-01-20").exit_code == 0
    server.state.advance(timedelta(minutes=3))
    server.state.add_note(SUPPORT_OPS, 101, "Changed behind the cache's back.", "bob")
    server.state.advance(timedelta(minutes=3))
    read_only(rollout.cache)
    try:
        troubled, plain = run_with_trouble(rollout)
    finally:
        writable(rollout.cache)
    assert troubled.exit_code == 0
    assert "cannot be written" in one_warning(troubled)
    assert troubled.stdout == plain.stdout


def read_only(path: Path) -> None:
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    # root writes through file modes; the immutable attribute stops it
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    assert done.returncode == 0, f"root needs chattr +i to make {path} read-only: {done.stderr!r}"


def writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
    path.chmod(0o644)


@pytest.mark.parametrize("how", ["old schema", "another project", "another host"])
def test_a_cache_of_another_schema_or_project_is_started_afresh(
    rollout: Rollout, server: GitLabServer, how: str
) -> None:
    assert rollout("status", "--as-of", "2027-01-20").exit_code == 0
    db = sqlite3.connect(rollout.cache, isolation_level=None)
    if how == "old schema":
        db.execute(f"PRAGMA user_version = {cache_module.SCHEMA + 1}")
    else:
        key = "project" if how == "another project" else "host"
        db.execute("UPDATE meta SET value = 'elsewhere' WHERE key = ?", (key,))
    # what it holds must not be read: a history that would change the answer
    db.execute("UPDATE history SET data = '[]'")
    db.close()
    troubled, plain = run_with_trouble(rollout)
    assert "starting it afresh" in one_warning(troubled)
    assert troubled.stdout == plain.stdout
    server.reset_requests()
    assert rollout("status", "--as-of", "2027-01-20").stdout == plain.stdout
    assert history_requests(server) == {}  # rebuilt and filled again


def test_a_database_that_is_not_a_rollout_cache_is_left_alone(rollout: Rollout) -> None:
    db = sqlite3.connect(rollout.cache)
    db.execute("CREATE TABLE recipes (name TEXT)")
    db.execute("INSERT INTO recipes VALUES ('bread')")
    db.commit()
    db.close()
    before = rollout.cache.read_bytes()
    troubled, plain = run_with_trouble(rollout)
    assert "not a rollout history cache" in one_warning(troubled)
    assert troubled.stdout == plain.stdout
    assert rollout.cache.read_bytes() == before  # not even switched to WAL
    assert "problem:  not a rollout history cache" in rollout("cache", "info").stdout
    db = sqlite3.connect(rollout.cache)
    assert db.execute("SELECT name FROM recipes").fetchall() == [("bread",)]
    db.close()


def test_a_cache_path_that_is_a_directory_is_one_line_each(rollout: Rollout) -> None:
    rollout.cache.mkdir()
    troubled, plain = run_with_trouble(rollout)
    assert troubled.stdout == plain.stdout
    assert "problem:  a directory, not a history cache" in rollout("cache", "info").stdout
    cleared = rollout("cache", "clear")
    assert (cleared.exit_code, cleared.stderr) == (
        2,
        f"Error: {rollout.cache} is a directory, not a history cache; set [cache] path to a file\n",
    )
    assert rollout.cache.is_dir()


def test_two_runs_at_once(rollout: Rollout, server: GitLabServer) -> None:
    """Real processes, one cache file: both answer right, and the file is sound after."""
    command = [sys.executable, "-m", "rollout", "--config", str(rollout.config)]
    env = {**os.environ, **rollout.env}
    expected = rollout("--no-cache", "status", "--as-of", "2027-01-20").stdout
    runs = [
        subprocess.Popen(
            [*command, *args, "--as-of", "2027-01-20"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in (["status"], ["status"], ["check", "101", "102"], ["status"])
    ]
    answers = [run.communicate(timeout=60) for run in runs]
    for run, (_stdout, stderr) in zip(runs, answers, strict=True):
        assert run.returncode == 0, stderr
        assert stderr == ""
    assert answers[0][0] == answers[1][0] == answers[3][0] == expected
    server.reset_requests()
    assert rollout("status", "--as-of", "2027-01-20").stdout == expected
    assert history_requests(server) == {}


def test_off_by_option_and_by_config(rollout: Rollout, server: GitLabServer) -> None:
    assert rollout("--no-cache", "status", "--as-of", "2027-01-20").exit_code == 0
    assert not rollout.cache.exists()
    rollout.config.write_text(
        rollout.config.read_text(encoding="utf-8") + "enabled = false\n", encoding="utf-8"
    )
    assert rollout("status", "--as-of", "2027-01-20").exit_code == 0
    assert not rollout.cache.exists()
    info = rollout("cache", "info")
    assert "enabled:  no" in info.stdout


def test_snapshots_neither_read_nor_write_it(rollout: Rollout, workdir: Path) -> None:
    taken = rollout("snapshot", "--out", str(workdir / "s.json"))
    assert taken.exit_code == 0, taken.stderr
    assert not rollout.cache.exists()
    assert rollout("--tracker", "snapshot:s.json", "status", "--as-of", "2027-01-20").exit_code == 0
    assert not rollout.cache.exists()


def test_the_default_place_is_the_user_cache_directory_per_host_and_project(
    workdir: Path, server: GitLabServer
) -> None:
    rollout = Rollout(workdir, server, SUPPORT_OPS)
    rollout.config.write_text(
        rollout.config.read_text(encoding="utf-8").replace(f'path = "{CACHE}"', ""),
        encoding="utf-8",
    )
    host = server.url.split("//")[1].split("/")[0]
    rollout.env["GITLAB_URL"] = server.url.replace("//", f"//someone:{server.token}@")
    assert rollout("status", "--as-of", "2027-01-20").exit_code == 0
    expected = (
        workdir
        / ".cache"
        / "rollout"
        / host.replace(":", "%3A")
        / "gitlab-com%2Fgl-security%2Fcorp%2Fcust-support-ops%2Fissue-tracker.sqlite"
    )
    assert expected.is_file()
    info = rollout("cache", "info")
    assert info.stdout.startswith(f"path:     {expected}\n")
    # no token anywhere: not in the path, not in the file
    for written in expected.parent.iterdir():
        assert server.token.encode() not in written.read_bytes()
    assert server.token not in str(expected) + info.stdout + info.stderr


def test_cache_info_and_clear(rollout: Rollout, server: GitLabServer) -> None:
    before = rollout("cache", "info")
    assert before.exit_code == 0
    assert before.stdout == (
        f"path:     {rollout.cache}\nno cache yet: the next run that reads GitLab makes it\n"
    )
    rollout("status", "--as-of", "2027-01-20")
    rollout("status", "--as-of", "2027-01-20")
    info = rollout("cache", "info").stdout.splitlines()
    assert info[0] == f"path:     {rollout.cache}"
    assert info[1].startswith("size:     ") and info[1].endswith(" kB")
    # status read the label events of the 15 open issues, the links of the Blocked one and of
    # the 4 in the next deployment's milestone, and the notes of the 3 of those signed off
    assert info[2] == "entries:  23 parts of the histories of 15 issues"
    assert info[3] == "last run: 23 of 23 parts from the cache (100%)"
    cleared = rollout("cache", "clear")
    assert cleared.exit_code == 0
    assert cleared.stderr == f"removed {rollout.cache}\n"
    assert not rollout.cache.exists()
    assert rollout("cache", "clear").stderr == f"no cache at {rollout.cache}\n"
