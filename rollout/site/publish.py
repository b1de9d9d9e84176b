"""Putting a built site in place: never half a site, never someone else's files lost.

The site is written into a new directory beside the target and swapped in. On Linux the
two directories are exchanged in one step (renameat2 with RENAME_EXCHANGE), so a web server
looking up a path finds the old site or the new one, never nothing; elsewhere the old
directory is renamed aside and the new one renamed in, a moment apart. A file a server
already has open stays readable after the old site is removed. Any failure before the swap
leaves the old site as it was and removes the new one.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from rollout.errors import OutputError
from rollout.files import TEMPORARY_SUFFIX, directory_lock

# What a site directory may hold: the files rollout writes there (and the feeds a CI job
# fetched into it first, as their memory). Anything else means --out names a directory
# that is not a site, and replacing it would lose someone's files.
SITE_FILE = re.compile(
    r"(index|calendar|board)\.html|(deployments|deadlines|changes)\.ics|style\.css|site\.js"
    r"|favicon\.svg"
    r"|notes/(index|\d{4}-\d{2}-\d{2})\.html"
)
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def publish_site(files: Mapping[str, bytes], out_dir: Path) -> None:
    """Make ``out_dir`` hold exactly ``files`` (relative POSIX paths -> bytes)."""
    target = Path(os.path.abspath(out_dir))
    _check_replaceable(target, out_dir)
    # One build at a time beside it, so that what a killed one left can be cleared away.
    with directory_lock(target.parent):
        _remove_stale_staging(target)
        _publish(files, target, out_dir)


def _publish(files: Mapping[str, bytes], target: Path, out_dir: Path) -> None:
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    except OSError as error:
        raise OutputError(f"cannot write {out_dir}: {error.strerror or error}") from None
    try:
        _write_tree(staging, files)
        if target.exists():
            _swap(staging, target)  # staging now holds the old site
        else:
            os.rename(staging, target)
    except OSError as error:
        raise OutputError(
            f"cannot write {out_dir}: {error.strerror or error}; the old site is unchanged"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_staging(target: Path) -> None:
    """The staging directories of builds killed before they swapped (``.<name>.new-*``):
    with the lock held, no live build owns one."""
    staging = re.compile(rf"\.{re.escape(target.name)}\.new-{TEMPORARY_SUFFIX}")
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if staging.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def check_out_dir(out_dir: Path) -> None:
    """Raise OutputError unless ``out_dir`` is missing, empty or a site (see SITE_FILE)."""
    _check_replaceable(Path(os.path.abspath(out_dir)), out_dir)


def _check_replaceable(target: Path, shown: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{shown} is not a directory; choose another --out")
    if not target.exists():
        return
    foreign = _first_foreign(target)
    if foreign is not None:
        raise OutputError(
            f"{shown} holds {foreign}, which is not part of a site rollout writes; "
            "choose another --out, or move it away (the whole directory is replaced)"
        )


def _first_foreign(target: Path) -> str | None:
    """The first entry of ``target`` that is not part of a site, or None: looked at one by
    one, so that --out / or a home directory is refused at once, not after a walk of it."""
    try:
        for entry in sorted(os.scandir(target), key=lambda e: e.name):
            if entry.name == "notes" and entry.is_dir(follow_symlinks=False):
                for note in sorted(os.scandir(entry.path), key=lambda e: e.name):
                    if not _site_file(note, f"notes/{note.name}"):
                        return f"notes/{note.name}"
            elif not _site_file(entry, entry.name):
                return entry.name
    except OSError as error:
        raise OutputError(f"cannot read {target}: {error.strerror or error}") from None
    return None


def _site_file(entry: os.DirEntry[str], relative: str) -> bool:
    return entry.is_file(follow_symlinks=False) and SITE_FILE.fullmatch(relative) is not None


def _write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    os.chmod(root, 0o755)  # mkdtemp makes it private; a web server must read it
    for name, content in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"not a path inside the site: {name!r}")
        path = root.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())


def _swap(new: Path, old: Path) -> None:
    """Exchange the two directories: ``old``'s path now holds the new site and ``new``'s
    the old one."""
    if _exchange(new, old):
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{old.name}.old-", dir=old.parent))
    os.rmdir(aside)
    os.rename(old, aside)
    try:
        os.rename(new, old)
    except OSError:
        os.rename(aside, old)
        raise
    os.rename(aside, new)


def _exchange(first: Path, second: Path) -> bool:
    """renameat2(RENAME_EXCHANGE) where the system has it; False where it does not."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # the file system cannot exchange: rename instead
    raise OSError(code, os.strerror(code), str(second))
