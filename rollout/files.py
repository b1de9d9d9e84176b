"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rollout.errors import OutputError


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to a temporary file beside ``path``, then rename it over ``path``.

    A subscriber fetching the file meanwhile gets the old version or the new one, never a
    mix; a failure leaves the old file as it was.
    """
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
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    return temporary
