"""One run at a time writes into a calendar directory, and what a killed run left there is
cleaned up: only rollout's own temporary files, and only those no live run can own."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
from conftest import RunCli

import rollout.files
from rollout.files import write_atomically

FEEDS = ("deployments.ics", "deadlines.ics")


def hold_lock(directory: Path) -> int:
    """Lock ``directory`` the way another rollout process would: flock on the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


def test_a_second_run_waits_for_the_one_writing(run: RunCli, workdir: Path) -> None:
    out = workdir / "out"
    descriptor = hold_lock(out)
    seen_while_locked: list[bool] = []

    def finish_the_other_run() -> None:
        time.sleep(1.0)
        seen_while_locked.append(any((out / name).exists() for name in FEEDS))
        os.close(descriptor)

    other = threading.Thread(target=finish_the_other_run)
    other.start()
    result = run("calendar", "--from", "2027-01-01", "--months", "2", "--out", "out")
    other.join()
    assert result.exit_code == 0, result.stderr
    assert seen_while_locked == [False]  # nothing was written while the other run held it
    assert all((out / name).exists() for name in FEEDS)


def test_a_run_that_waits_too_long_fails_with_one_line_and_writes_nothing(
    run: RunCli, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollout.files, "LOCK_WAIT", 0.2)
    out = workdir / "out"
    out.mkdir()
    (out / "deployments.ics").write_bytes(b"the other run's")
    descriptor = hold_lock(out)
    try:
        result = run("calendar", "--from", "2027-01-01", "--months", "2", "--out", "out")
    finally:
        os.close(descriptor)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: another rollout run is writing to out and did not finish within 0.2 s; "
        "try again when it has"
    )
    assert sorted(path.name for path in out.iterdir()) == ["deployments.ics"]
    assert (out / "deployments.ics").read_bytes() == b"the other run's"


def test_a_killed_runs_temporary_files_are_removed_and_nothing_else(
    run: RunCli, workdir: Path
) -> None:
    out = workdir / "out"
    out.mkdir()
    ours = [".deployments.ics.abcd1234", ".deadlines.ics.zz_9x8y7", ".changes.ics.0000aaaa"]
    others = [
        ".deployments.ics.backup",  # not mkstemp's naming
        ".deployments.ics.abcd12345",
        ".notes.md.abcd1234",  # not a file the calendar writes
        "deployments.ics.abcd1234",  # not hidden
        "keep.txt",
    ]
    for name in ours + others:
        (out / name).write_bytes(b"half a feed")
    (out / ".changes.ics.dir12345").mkdir()  # not a regular file
    result = run("calendar", "--from", "2027-01-01", "--months", "2", "--out", "out")
    assert result.exit_code == 0, result.stderr
    left = sorted(path.name for path in out.iterdir())
    assert left == sorted([*others, ".changes.ics.dir12345", *FEEDS])


def test_an_interrupted_write_leaves_no_temporary_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = workdir / "feed.ics"
    target.write_bytes(b"old")

    def interrupted(source: str, destination: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, b"new")
    assert [path.name for path in workdir.iterdir()] == ["feed.ics"]
    assert target.read_bytes() == b"old"


SNAPSHOT = Path(__file__).parent.parent / "examples" / "snapshot.json"
NOTES = (
    "--tracker",
    f"snapshot:{SNAPSHOT}",
    "notes",
    "2027-02-01",
    "--as-of",
    "2027-02-02",
    "--out",
)


def test_out_through_a_symbolic_link_replaces_its_target_and_keeps_the_link(
    run: RunCli, workdir: Path
) -> None:
    target = workdir / "published" / "notes.md"
    target.parent.mkdir()
    target.write_text("last month's\n", encoding="utf-8")
    link = workdir / "current.md"
    link.symlink_to(target)
    result = run(*NOTES, str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_text(encoding="utf-8").startswith("# Release notes: ")


def test_out_into_a_pipe_writes_into_it_and_leaves_it_a_pipe(run: RunCli, workdir: Path) -> None:
    """As --out /dev/stdout or /dev/null would: a device or a pipe is never replaced."""
    pipe = workdir / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = run(*NOTES, str(pipe))
    reader.join(timeout=10)
    assert result.exit_code == 0, result.stderr
    assert pipe.is_fifo()
    assert received and received[0].startswith(b"# Release notes: ")
