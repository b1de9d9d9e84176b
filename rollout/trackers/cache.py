"""The local history cache (PRODUCT.md §9): issue histories kept between runs.

One SQLite file per GitLab host and project holds the parts of each issue's history (label
events, links, notes: the fields rollout reads of them) with the ``updated_at`` of the issue
they belong to and the time GitLab answered with them. A part is used again only while the
issue's ``updated_at`` is unchanged and it was fetched at least two minutes after that
``updated_at``: GitLab touches an issue at most once a minute for notes, so a change made after
the fetch moved ``updated_at``.

The cache is never in the way: a file that is corrupt, locked, not writable or not rollout's
gives one warning and the run goes on without it; a file of another schema, host or project
is started afresh. Writes are short transactions in WAL mode, so runs may overlap.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from rollout.config import Config
from rollout.errors import OutputError, TrackerNotSetUp

SCHEMA = 2  # PRAGMA user_version: a file of another version is started afresh
APPLICATION_ID = 0x726F6C6C  # PRAGMA application_id: "roll", a file rollout made
REUSE_AFTER = timedelta(minutes=2)  # a part fetched this long after updated_at may be reused
BUSY_TIMEOUT = 2.0  # seconds to wait for another run's write before giving up on the cache
KEPT_RUNS = 20  # the hit counts of this many runs are kept
_CHUNK = 500  # iids per SELECT (SQLite allows 999 parameters in old versions)

Json = dict[str, Any]
Warn = Callable[[str], None]
# One part of one issue's history as asked for: (iid, part, the issue's updated_at).
Key = tuple[int, str, str]


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    exists: bool
    size: int  # bytes on disk, with the write-ahead log
    entries: int  # history parts kept
    issues: int
    last_hits: int | None  # of the last run that read the cache
    last_misses: int | None
    problem: str | None = None  # why it cannot be read

    @property
    def hit_rate(self) -> float | None:
        if self.last_hits is None or self.last_misses is None:
            return None
        asked = self.last_hits + self.last_misses
        return self.last_hits / asked if asked else None


class _NotOurs(Exception):
    """The file is an SQLite database, but not one rollout made."""


def cache_path(url: str, project: str) -> Path:
    """The default file: the user cache directory's rollout/<host>/<project>.sqlite, with the
    project's slashes written %2F. Only the host (and port) of ``url`` is used: never a user
    name or token that a URL may carry."""
    from platformdirs import user_cache_path

    return user_cache_path("rollout") / host_of(url) / f"{quote(project, safe='')}.sqlite"


def host_of(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return quote(f"{host}:{parts.port}" if parts.port else host, safe="")


def cache_key(updated_at: datetime) -> str:
    """How an issue's updated_at is written in the cache: in UTC, to the microsecond."""
    return updated_at.astimezone(UTC).isoformat()


def reusable(updated_at: str, fetched_at: datetime) -> bool:
    """§9's rule for a part fetched at ``fetched_at`` while the issue said ``updated_at``."""
    try:
        updated = datetime.fromisoformat(updated_at)
    except ValueError:
        return False
    if updated.tzinfo is None:
        return False
    return fetched_at >= updated + REUSE_AFTER


def history_cache_path(config: Config) -> Path:
    """Where the cache of the config's GitLab project is: [cache] path, else the user cache
    directory's file for its host and project."""
    if config.cache.path is not None:
        return config.cache.path
    from rollout.trackers import gitlab_url

    project = config.tracker.project
    url = gitlab_url(config.tracker)
    if not url and config.tracker.gitlab_id:
        url = _configured_url(config.tracker.gitlab_id)
    if not project or not url:
        raise TrackerNotSetUp(
            "no history cache without a GitLab project: set [tracker] project and url "
            "(or GITLAB_URL), or [cache] path"
        )
    return cache_path(url, project)


def _configured_url(gitlab_id: str) -> str | None:
    """The URL of a python-gitlab config file section, when there is one."""
    import gitlab.config

    try:
        return str(gitlab.config.GitlabConfigParser(gitlab_id).url)
    except gitlab.config.ConfigError:
        return None


def cache_info(path: Path) -> CacheInfo:
    """What the cache file at ``path`` holds, read without changing it."""
    size = sum(
        candidate.stat().st_size
        for suffix in ("", "-wal")
        if (candidate := path.with_name(path.name + suffix)).exists()
    )
    if not path.exists():
        return CacheInfo(path, False, 0, 0, 0, None, None)
    if path.is_dir():
        problem = "a directory, not a history cache; set [cache] path to a file"
        return CacheInfo(path, True, 0, 0, 0, None, None, problem)
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
        try:
            if not _ours_or_blank(db):
                problem = "not a rollout history cache, so rollout leaves it alone"
                return CacheInfo(path, True, size, 0, 0, None, None, problem)
            application = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if application != APPLICATION_ID or version != SCHEMA:
                problem = "not a cache of this version of rollout; the next run starts it afresh"
                return CacheInfo(path, True, size, 0, 0, None, None, problem)
            entries, issues = db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT iid) FROM history"
            ).fetchone()
            last = db.execute("SELECT hits, misses FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            db.close()
    except sqlite3.Error as error:
        return CacheInfo(path, True, size, 0, 0, None, None, _reason(error))
    return CacheInfo(
        path,
        True,
        size,
        int(entries or 0),
        int(issues or 0),
        int(last[0]) if last else None,
        int(last[1]) if last else None,
    )


def describe(info: CacheInfo, enabled: bool = True) -> str:
    """What rollout cache info prints."""
    lines = [f"path:     {info.path}"]
    if not enabled:
        lines.append("enabled:  no (--no-cache or [cache] enabled = false)")
    if not info.exists:
        lines.append("no cache yet: the next run that reads GitLab makes it")
        return "\n".join(lines) + "\n"
    lines.append(f"size:     {_size(info.size)}")
    if info.problem is not None:
        lines.append(f"problem:  {info.problem}")
        return "\n".join(lines) + "\n"
    lines.append(f"entries:  {info.entries} parts of the histories of {info.issues} issues")
    rate = info.hit_rate
    if rate is None or info.last_hits is None or info.last_misses is None:
        lines.append("last run: asked the cache nothing")
    else:
        asked = info.last_hits + info.last_misses
        lines.append(f"last run: {info.last_hits} of {asked} parts from the cache ({rate:.0%})")
    return "\n".join(lines) + "\n"


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB"
    return f"{size / 1024 / 1024:.1f} MB"


def remove_cache(path: Path) -> bool:
    """Delete the cache file and its write-ahead log; whether there was anything. A file
    that is not one rollout made (see made_by_rollout) is an OutputError, and stays."""
    if path.is_dir():
        raise OutputError(f"{path} is a directory, not a history cache; set [cache] path to a file")
    if path.is_file() and not made_by_rollout(path):
        raise OutputError(
            f"{path} is not a rollout history cache, so rollout leaves it alone; "
            "set [cache] path to another file"
        )
    found = False
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()
            found = True
    return found


class HistoryCache:
    """The cache file of one GitLab host and project, opened on first use.

    Thread-safe: a command may read the tracker from a background thread.
    """

    def __init__(self, path: Path, host: str, project: str, warn: Warn) -> None:
        self.path = path
        self.host = host
        self.project = project
        self._warn = warn
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._off = False
        self._run: int | None = None
        self.hits = 0
        self.misses = 0

    @property
    def usable(self) -> bool:
        return not self._off

    # ------------------------------------------------------------------ reading and writing

    def lookup(self, wanted: Iterable[Key]) -> dict[tuple[int, str], list[Json]]:
        """The parts asked for that §9 allows to reuse, by (iid, part)."""
        asked = {(iid, part): updated for iid, part, updated in wanted}
        found: dict[tuple[int, str], list[Json]] = {}
        if not asked:
            return found
        with self._using() as db:
            if db is None:
                return found
            rows = _select(db, "iid, part, updated_at, fetched_at, data", (i for i, _ in asked))
            for iid, part, updated, fetched, data in rows:
                key = (int(iid), str(part))
                if asked.get(key) != updated:
                    continue
                if reusable(updated, datetime.fromisoformat(fetched)):
                    found[key] = json.loads(data)
            self.hits += len(found)
            self.misses += len(asked) - len(found)
            with _transaction(db):
                self._record_run(db)
        return found

    def parts_kept(self, iids: Iterable[int]) -> dict[int, set[str]]:
        """Which parts the cache holds of these issues, whatever their age."""
        kept: dict[int, set[str]] = {}
        with self._using() as db:
            if db is None:
                return kept
            for iid, part in _select(db, "iid, part", iids):
                kept.setdefault(int(iid), set()).add(str(part))
        return kept

    def cached_links(self, iids: Iterable[int]) -> dict[int, list[Json]]:
        """The links kept for these issues, whatever their age: which issues they name."""
        found: dict[int, list[Json]] = {}
        with self._using() as db:
            if db is None:
                return found
            for iid, data in _select(db, "iid, data", iids, "part = 'links' AND "):
                found[int(iid)] = json.loads(data)
        return found

    def store(self, entries: Iterable[tuple[int, str, str, datetime, list[Json]]]) -> None:
        """Keep parts: (iid, part, the issue's updated_at they belong to, when GitLab
        answered, the JSON list). Also records this run's hits and misses."""
        rows = [
            (iid, part, updated, fetched.astimezone(UTC).isoformat(), json.dumps(data))
            for iid, part, updated, fetched, data in entries
        ]
        with self._using() as db:
            if db is None:
                return
            with _transaction(db):
                db.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?, ?)", rows)
                self._record_run(db)

    def forget(self, iid: int) -> None:
        """Drop what is kept of an issue (rollout just changed it)."""
        with self._using() as db:
            if db is None:
                return
            with _transaction(db):
                db.execute("DELETE FROM history WHERE iid = ?", (iid,))

    def _record_run(self, db: sqlite3.Connection) -> None:
        if self._run is None:
            cursor = db.execute("INSERT INTO runs (hits, misses) VALUES (?, ?)", (0, 0))
            self._run = cursor.lastrowid
            db.execute("DELETE FROM runs WHERE id <= (SELECT MAX(id) FROM runs) - ?", (KEPT_RUNS,))
        db.execute(
            "UPDATE runs SET hits = ?, misses = ? WHERE id = ?", (self.hits, self.misses, self._run)
        )

    # ------------------------------------------------------------------ what is in it

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ------------------------------------------------------------------ trouble

    @contextmanager
    def _using(self) -> Iterator[sqlite3.Connection | None]:
        """The open database, or None once the cache is off: any trouble turns it off with
        one warning, and what the block was doing is skipped."""
        with self._lock:
            if not self._off and self._db is None:
                try:
                    self._db = self._open()
                except _NotOurs:
                    self._give_up("it is not a rollout history cache; set [cache] path elsewhere")
                except (sqlite3.Error, OSError, ValueError) as error:
                    self._give_up(_reason(error))
            if self._db is None:
                yield None
                return
            try:
                yield self._db
            except (sqlite3.Error, OSError, ValueError) as error:
                self._give_up(_reason(error))

    def _give_up(self, reason: str) -> None:
        self._off = True
        if self._db is not None:
            with suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        self._warn(f"history cache {self.path}: {reason}; going on without it")

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            if not _ours_or_blank(db):  # asked before anything is written to it
                raise _NotOurs
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            with _transaction(db):
                self._prepare(db)
        except BaseException:
            db.close()
            raise
        return db

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Create the tables in a new file; start afresh a file of another schema, host or
        project; refuse a database that is not a rollout cache."""
        application = db.execute("PRAGMA application_id").fetchone()[0]
        if application != APPLICATION_ID:  # a new file (see _ours_or_blank)
            self._create(db)
            return
        version = db.execute("PRAGMA user_version").fetchone()[0]
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if version else {}
        if version != SCHEMA or meta != {"host": self.host, "project": self.project}:
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall():
                db.execute(f'DROP TABLE IF EXISTS "{name}"')
            self._create(db)
            self._warn(
                f"history cache {self.path} was written by another version of rollout or for "
                "another project; starting it afresh"
            )

    def _create(self, db: sqlite3.Connection) -> None:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA}")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)", [("host", self.host), ("project", self.project)]
        )
        db.execute(
            "CREATE TABLE history (iid INTEGER NOT NULL, part TEXT NOT NULL, "
            "updated_at TEXT NOT NULL, fetched_at TEXT NOT NULL, data TEXT NOT NULL, "
            "PRIMARY KEY (iid, part))"
        )
        db.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, "
            "hits INTEGER NOT NULL, misses INTEGER NOT NULL)"
        )


def _ours_or_blank(db: sqlite3.Connection) -> bool:
    """Whether the database is rollout's cache, or new and empty: anything else is another
    program's, never to be changed."""
    application = db.execute("PRAGMA application_id").fetchone()[0]
    tables = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    return bool(application == APPLICATION_ID or (application == 0 and not tables))


def _select(
    db: sqlite3.Connection, columns: str, iids: Iterable[int], where: str = ""
) -> list[tuple[Any, ...]]:
    """SELECT ``columns`` of the history of these issues, so many at a time."""
    wanted = sorted(set(iids))
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT {columns} FROM history WHERE {where}iid IN ({marks})"
        rows += db.execute(query, chunk).fetchall()
    return rows


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


_SQLITE_HEADER = b"SQLite format 3\x00"


def made_by_rollout(path: Path) -> bool:
    """Whether the file at ``path`` may be rollout's cache: empty, or an SQLite file whose
    header (read as bytes: the file may be damaged) names rollout's application id."""
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError:
        return False
    if not header:
        return True
    application = int.from_bytes(header[68:72], "big")
    return header.startswith(_SQLITE_HEADER) and application == APPLICATION_ID


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if "locked" in text or "busy" in text:
        return "it is locked by another run"
    if "not a database" in text or "malformed" in text:
        return f"it is damaged or not rollout's ({text}); rollout cache clear removes it if it is"
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return f"it cannot be written ({text})"
    if isinstance(error, OSError):
        return f"it cannot be written ({error.strerror or text})"
    return text
