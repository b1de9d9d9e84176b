"""Writing files so that a reader never sees half of one, and a directory of them that
two runs never mix."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rollout.errors import OutputError

# How long a run waits for another one writing into the same directory to finish.
LOCK_WAIT = 60.0
# The random part mkstemp puts after a temporary file's prefix (tempfile's own alphabet).
TEMPORARY_SUFFIX = "[a-z0-9_]{8}"


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to a temporary file beside ``path``, then rename it over ``path``.

    A subscriber fetching the file meanwhile gets the old version or the new one, never a
    mix; a failure leaves the old file as it was. The temporary file is ``.<name>.<random>``
    (see remove_stale_temporaries for what a killed run leaves).

    A symbolic link is followed: the file it points to is replaced, the link stays. A
    device or a pipe (``--out /dev/stdout``) is written into: it cannot be replaced, and
    must never be (``/dev/null`` replaced by a file breaks the whole machine).
    """
    if path.is_symlink():
        try:
            path = path.resolve()
        except (OSError, RuntimeError) as error:  # a loop of links
            raise OutputError(f"cannot write {path}: {error}") from None
    if path.exists() and not path.is_file() and not path.is_dir():
        _write_into(path, content)
        return
    # mkstemp makes the file private (0600); keep the old file's mode, else a published
    # feed should be readable like any other file.
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    temporary = _written_beside(path, content, mode)
    try:
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _write_into(path: Path, content: bytes) -> None:
    try:
        with path.open("wb") as handle:
            handle.write(content)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def write_all_atomically(files: dict[Path, bytes]) -> None:
    """Write several files, each atomically; everything is rendered before the first write."""
    for path, content in files.items():
        write_atomically(path, content)


def write_new(path: Path, content: bytes) -> None:
    """Write ``path`` whole, only if no file is there: an existing file is never replaced,
    even one that appears while this runs (the finished file is linked into place)."""
    exists = f"{path} already exists; move it away first, or write elsewhere"
    if path.exists():
        raise OutputError(exists)
    temporary = _written_beside(path, content, 0o644)
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise OutputError(exists) from None
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _written_beside(path: Path, content: bytes, mode: int) -> Path:
    """``content`` in a new hidden file in ``path``'s directory, on disk, with ``mode``."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
    except BaseException as error:  # an interrupt too: leave no temporary file behind
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
        raise
    return temporary


@contextmanager
def directory_lock(directory: Path, wait: float | None = None) -> Iterator[None]:
    """Hold rollout's lock on ``directory`` (created if missing): an flock on the directory
    itself, so no lock file is left in it. Another run holding it is waited for, ``wait``
    seconds at most (LOCK_WAIT); then OutputError. The lock goes with the process, however
    it ends."""
    limit = LOCK_WAIT if wait is None else wait
    try:
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError as error:
        raise OutputError(f"cannot write to {directory}: {error.strerror or error}") from None
    try:
        deadline = time.monotonic() + limit
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise OutputError(
                        f"cannot lock {directory}: {error.strerror or error}"
                    ) from None
                if time.monotonic() >= deadline:
                    raise OutputError(
                        f"another rollout run is writing to {directory} and did not finish "
                        f"within {limit:g} s; try again when it has"
                    ) from None
                time.sleep(min(0.05, limit))
        yield
    finally:
        os.close(descriptor)  # releases the lock


def remove_stale_temporaries(directory: Path, names: Iterable[str]) -> list[Path]:
    """Remove the temporary files a killed run of write_atomically left beside ``names``
    in ``directory``; only those (``.<name>.<8 random characters>``, regular files), and
    only while holding directory_lock, when no run writing them can still be alive."""
    pattern = re.compile(
        "|".join(rf"\.{re.escape(name)}\.{TEMPORARY_SUFFIX}" for name in names) or "(?!)"
    )
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed
