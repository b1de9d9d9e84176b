"""The GitLab tracker: the live project through python-gitlab and the REST API v4.

The only module that imports python-gitlab. GitLab filters the lists (state, labels,
milestone, iids[]); label events, links and notes are fetched only for the issues a
command needs, several at a time. 429 and 502/503/504 answers are retried by
python-gitlab itself a bounded number of times; every other failure becomes one
TrackerError that says what we were doing and what to do about it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import gitlab
import gitlab.exceptions
import requests
import requests.adapters

from rollout.config import CacheConfig, TrackerConfig
from rollout.errors import IssuesNotFound, TrackerError, TrackerNotSetUp
from rollout.trackers import (
    HISTORY,
    NO_GITLAB_TOKEN,
    IssueQuery,
    Json,
    Parts,
    Progress,
    Tracker,
    gitlab_url,
    parts_for,
    versions_of,
)
from rollout.trackers.cache import HistoryCache, cache_key, cache_path, host_of

log = logging.getLogger("rollout.gitlab")
PER_PAGE = 100  # GitLab's maximum; python-gitlab asks for 20 otherwise
TRANSIENT = (429, 500, 502, 503, 504)
# What a link says about the link itself; the rest of its JSON is the linked issue's.
LINK_FIELDS = ("issue_link_id", "link_type", "link_created_at", "link_updated_at")
# One history request in flight: (iid, part, its answer and when GitLab gave it).
Pending = tuple[int, str, "Future[tuple[list[Json], datetime | None]]"]


class GitLabTracker(Tracker):
    """``cache``: the history cache of this host and project (PRODUCT.md §9), or None."""

    def __init__(
        self,
        client: gitlab.Gitlab,
        settings: TrackerConfig,
        project_path: str,
        cache: HistoryCache | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.project_path = project_path
        self.url = client.url
        self.cache = cache
        self._user_lock = threading.Lock()
        self._user: Future[Json | None] | None = None
        # lazy: no request until something is read through it
        self._project = client.projects.get(project_path, lazy=True)
        # The issues listed in this run, by iid: their current state, for the links kept in
        # the cache (closing a blocker does not touch the issue it blocks).
        self._listed: dict[int, Json] = {}
        self._listed_lock = threading.Lock()
        # When GitLab answered the request this thread is making (its Date header): the
        # time a history part was fetched, on the clock that stamps updated_at.
        self._answered = threading.local()
        client.session.hooks["response"].append(self._note_answer_time)

    @classmethod
    def connect(
        cls,
        settings: TrackerConfig,
        cache: CacheConfig | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> GitLabTracker:
        """A tracker of [tracker] project; with ``cache``, its histories are kept in the
        history cache, and ``warn`` hears (once) when that cannot be used."""
        if not settings.project:
            raise TrackerError(
                'no GitLab project: set [tracker] project = "group/project" in rollout.toml'
            )
        client = _client(settings)
        # requests keeps 10 connections per host; more concurrent requests than that would
        # open and drop a connection each time.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(10, settings.concurrency))
        client.session.mount("https://", adapter)
        client.session.mount("http://", adapter)
        history = None
        if cache is not None:
            history = HistoryCache(
                cache.path or cache_path(client.url, settings.project),
                host_of(client.url),
                settings.project,
                warn or (lambda message: None),
            )
        return cls(client, settings, settings.project, history)

    # ------------------------------------------------------------ reading

    def project(self) -> Json:
        with self._reporting(f"reading project {self.project_path}"):
            return self.client.projects.get(self.project_path, **self._retries()).asdict()

    def user(self) -> Json | None:
        """GET /user, once per run. A CI job token may not read it: then None, and only
        [announce] posters are trusted."""
        return self._reading_user().result()

    def prefetch_user(self) -> None:
        self._reading_user()

    def _reading_user(self) -> Future[Json | None]:
        """GET /user in a thread of its own, started once."""
        with self._user_lock:
            if self._user is None:
                pool = ThreadPoolExecutor(max_workers=1)
                self._user = pool.submit(self._read_user)
                pool.shutdown(wait=False)
            return self._user

    def _read_user(self) -> Json | None:
        try:
            with self._reporting("reading the token's user"):
                answer = self.client.http_get("/user", **self._retries())
        except TrackerError:
            if self.client.job_token:
                return None
            raise
        return answer if isinstance(answer, dict) else None

    def issues_json(self, iids: Sequence[int], progress: Progress | None = None) -> list[Json]:
        wanted = list(dict.fromkeys(iids))
        kept = self._kept_parts(wanted)
        # The histories of issues the cache knows nothing of are asked for together with the
        # issues themselves: one round trip instead of two. The others wait for the list,
        # whose updated_at says which parts the cache may answer.
        fresh = [iid for iid in wanted if not kept.get(iid)]
        known = [iid for iid in wanted if kept.get(iid)]
        # The open-or-closed state of the issues that kept links name as blockers comes with
        # the same list, so that those links can be used again.
        listed_too = self._kept_blockers(known)
        with self._requests_in_flight() as pool:
            listing = pool.submit(self._issues_by_iid, [*wanted, *listed_too])
            pending = self._submit_history(pool, fresh, HISTORY)
            found = listing.result()
            missing = [iid for iid in wanted if iid not in found]
            if missing:
                raise IssuesNotFound(
                    f"{_issues_named(missing, self.project_path)} not found "
                    "(check the issue numbers)",
                    tuple(missing),
                )
            versions = versions_of(found[iid] for iid in wanted)
            extras = dict(zip(fresh, self._collect(pending, fresh, HISTORY, progress), strict=True))
        self._keep(pending, versions)
        if known:
            kept_history = self.fetch_history(known, HISTORY, progress, versions)
            extras.update(zip(known, kept_history, strict=True))
        for iid in wanted:
            found[iid].update(extras[iid])
        return [found[iid] for iid in iids]

    def _issues_by_iid(self, iids: Sequence[int]) -> dict[int, Json]:
        found: dict[int, Json] = {}
        for start in range(0, len(iids), PER_PAGE):
            chunk = iids[start : start + PER_PAGE]
            query = {"iids": chunk, "state": "all", "per_page": PER_PAGE}
            with self._reporting(f"reading {_issues_named(chunk, self.project_path)}"):
                for issue in self._project.issues.list(iterator=True, **query, **self._retries()):
                    found[int(issue.iid)] = issue.asdict()
        self._remember_listed(found.values())
        return found

    def list_json(
        self,
        query: IssueQuery,
        *,
        history: Collection[str] = HISTORY,
        progress: Progress | None = None,
    ) -> list[Json]:
        params: dict[str, Any] = {"state": query.state, "per_page": PER_PAGE}
        if query.labels:
            params["labels"] = list(query.labels)
        if query.without_labels:
            params["not"] = {"labels": ",".join(query.without_labels)}
        if query.milestone is not None:
            params["milestone"] = query.milestone
        if query.updated_after is not None:
            params["updated_after"] = query.updated_after.isoformat()
        with self._reporting(f"listing the issues of {self.project_path}"):
            listed = [
                issue.asdict()
                for issue in self._project.issues.list(iterator=True, **params, **self._retries())
            ]
        self._remember_listed(listed)
        if history:
            self.add_history(listed, history, progress)
        return listed

    def note_list(self, iid: int) -> list[Json]:
        with self._reporting(f"reading the notes of issue #{iid} of {self.project_path}"):
            return self._notes(iid)

    def milestone_list(self) -> list[Json]:
        with self._reporting(f"listing the milestones of {self.project_path}"):
            return [
                m.asdict()
                for m in self._project.milestones.list(
                    iterator=True, per_page=PER_PAGE, **self._retries()
                )
            ]

    # ------------------------------------------------------------ writing

    def post_note(self, iid: int, body: str) -> Json:
        # Not retried by python-gitlab: a POST whose answer was lost may have created the
        # note, so the caller looks for it again before trying once more.
        try:
            with self._reporting(f"posting a note on issue #{iid} of {self.project_path}"):
                issue = self._project.issues.get(iid, lazy=True)
                note = issue.notes.create(
                    {"body": body}, retry_transient_errors=False, max_retries=0
                )
                return note.asdict()
        finally:
            # The note is on the issue, or may be (a lost answer): what the cache kept of
            # the issue is out of date either way.
            if self.cache is not None:
                self.cache.forget(iid)

    def update_issue(
        self,
        iid: int,
        *,
        add_labels: Sequence[str] = (),
        remove_labels: Sequence[str] = (),
        close: bool = False,
    ) -> Json:
        data: dict[str, str] = {}
        if add_labels:
            data["add_labels"] = ",".join(add_labels)
        if remove_labels:
            data["remove_labels"] = ",".join(remove_labels)
        if close:
            data["state_event"] = "close"
        try:
            with self._reporting(f"updating issue #{iid} of {self.project_path}"):
                # python-gitlab retries transient failures: the same update again is harmless.
                return dict(self._project.issues.update(iid, data, **self._retries()))
        finally:
            # Its labels changed, or may have (a lost answer): the cache's entry is stale.
            if self.cache is not None:
                self.cache.forget(iid)

    def create_milestone(self, title: str, start_date: str, due_date: str) -> Json:
        data = {"title": title, "start_date": start_date, "due_date": due_date}
        with self._reporting(f"creating milestone {title!r} in {self.project_path}"):
            return self._project.milestones.create(data, **self._retries()).asdict()

    def update_milestone(self, milestone_id: int, **fields: str) -> Json:
        with self._reporting(f"updating milestone {milestone_id} of {self.project_path}"):
            return dict(self._project.milestones.update(milestone_id, fields, **self._retries()))

    # ------------------------------------------------------------ internals

    def _retries(self) -> dict[str, Any]:
        return {"max_retries": self.settings.retries}

    def fetch_history(
        self,
        iids: Sequence[int],
        parts: Parts,
        progress: Progress | None = None,
        versions: Mapping[int, datetime] | None = None,
    ) -> list[Json]:
        """The ``parts`` of each issue's history: each is a request of its own, and up to
        [tracker] concurrency requests are in flight at a time. With ``versions`` (each
        issue's updated_at as just listed), the cache answers what §9 lets it, and keeps
        what is fetched."""
        cached = self._cached(iids, parts, versions or {})
        with self._requests_in_flight() as pool:
            blockers = self._submit_blocker_states(pool, cached)
            pending = self._submit_history(pool, iids, parts, cached)
            pending += self._submit_history(pool, self._stale_links(cached, blockers), ["links"])
            fetched = self._collect(pending, iids, parts, progress, cached)
        self._keep(pending, versions or {})
        return fetched

    # ------------------------------------------------------------ the history cache

    def _kept_parts(self, iids: Sequence[int]) -> dict[int, set[str]]:
        return self.cache.parts_kept(iids) if self.cache is not None else {}

    def _cached(
        self, iids: Sequence[int], parts: Parts, versions: Mapping[int, datetime]
    ) -> dict[tuple[int, str], list[Json]]:
        """What the cache may answer: parts of issues whose updated_at was just listed."""
        if self.cache is None or not versions:
            return {}
        asked = [
            (iid, kind, cache_key(versions[iid]))
            for iid in iids
            if iid in versions
            for kind in parts_for(parts, iid)
        ]
        return self.cache.lookup(asked)

    def _keep(self, pending: list[Pending], versions: Mapping[int, datetime]) -> None:
        """Store what was fetched under the updated_at the issue was listed with, stamped
        with GitLab's own time of the answer (none without a Date header: nothing kept)."""
        if self.cache is None:
            return
        entries = []
        for iid, kind, future in pending:
            version = versions.get(iid)
            if version is None or not future.done() or future.exception() is not None:
                continue
            data, answered = future.result()
            if answered is not None:
                entries.append((iid, kind, cache_key(version), answered, data))
        if entries:
            self.cache.store(entries)

    def _kept_blockers(self, iids: Sequence[int]) -> list[int]:
        """The issues that the kept links of ``iids`` name as blocking them."""
        if self.cache is None or not iids:
            return []
        named = {
            int(link["iid"])
            for links in self.cache.cached_links(iids).values()
            for link in links
            if link.get("link_type") == "is_blocked_by"
        }
        return sorted(named - set(iids))

    def _remember_listed(self, listed: Iterable[Json]) -> None:
        with self._listed_lock:
            for data in listed:
                self._listed[int(data["iid"])] = data

    def _submit_blocker_states(
        self, pool: ThreadPoolExecutor, cached: Mapping[tuple[int, str], list[Json]]
    ) -> Future[dict[int, Json]] | None:
        """Kept links name issues as blockers; whether those are still open is asked of
        GitLab with one list request (per 100), unless this run listed them already."""
        unknown = sorted(
            {
                int(link["iid"])
                for (iid, kind), links in cached.items()
                if kind == "links"
                for link in links
                if link.get("link_type") == "is_blocked_by"
                and self._same_project(iid, link)
                and int(link["iid"]) not in self._listed
            }
        )
        if not unknown:
            return None
        return pool.submit(self._issues_by_iid, unknown)

    def _stale_links(
        self,
        cached: dict[tuple[int, str], list[Json]],
        blockers: Future[dict[int, Json]] | None,
    ) -> list[int]:
        """Bring the kept links up to date with the linked issues as listed in this run, and
        name the issues whose links must be fetched again: a blocker in another project, or
        one GitLab no longer lists (deleted, moved)."""
        if blockers is not None:
            blockers.result()  # now in self._listed
        stale = []
        for (iid, kind), links in list(cached.items()):
            if kind != "links":
                continue
            for link in links:
                other = self._listed.get(int(link["iid"]))
                if other is not None and self._same_project(iid, link):
                    link.update(
                        {k: v for k, v in other.items() if k in link and k not in LINK_FIELDS}
                    )
                elif link.get("link_type") == "is_blocked_by":
                    stale.append(iid)
                    del cached[(iid, kind)]
                    break
        return stale

    def _same_project(self, iid: int, link: Json) -> bool:
        listed = self._listed.get(iid)
        return listed is not None and link.get("project_id") == listed.get("project_id")

    def _note_answer_time(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if getattr(self._answered, "at", None) is None:
            self._answered.at = _server_time(response.headers.get("Date"))

    @contextmanager
    def _requests_in_flight(self) -> Iterator[ThreadPoolExecutor]:
        pool = ThreadPoolExecutor(max_workers=self.settings.concurrency)
        try:
            yield pool
        finally:
            # On a failure, requests not yet sent are not sent at all.
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit_history(
        self,
        pool: ThreadPoolExecutor,
        iids: Sequence[int],
        parts: Parts,
        cached: Mapping[tuple[int, str], list[Json]] | None = None,
    ) -> list[Pending]:
        return [
            (iid, kind, pool.submit(self._timed_detail, iid, kind))
            for iid in dict.fromkeys(iids)
            for kind in parts_for(parts, iid)
            if not cached or (iid, kind) not in cached
        ]

    def _collect(
        self,
        pending: list[Pending],
        iids: Sequence[int],
        parts: Parts,
        progress: Progress | None,
        cached: Mapping[tuple[int, str], list[Json]] | None = None,
    ) -> list[Json]:
        fetched: dict[int, Json] = {iid: {} for iid in iids}
        for (iid, kind), data in (cached or {}).items():
            fetched[iid][kind] = data
        wanted = {iid: len(parts_for(parts, iid)) for iid in fetched}
        done = 0
        for iid in fetched:
            if progress is not None and len(fetched[iid]) == wanted[iid]:
                done += 1
                progress(done, len(fetched))
        for iid, kind, future in pending:
            fetched[iid][kind] = future.result()[0]
            if progress is not None and len(fetched[iid]) == wanted[iid]:
                done += 1
                progress(done, len(fetched))
        return [fetched[iid] for iid in iids]

    def _timed_detail(self, iid: int, kind: str) -> tuple[list[Json], datetime | None]:
        """One part of an issue's history, and when GitLab answered (its first page)."""
        self._answered.at = None
        data = self._detail(iid, kind)
        return data, self._answered.at

    def _detail(self, iid: int, kind: str) -> list[Json]:
        with self._reporting(f"reading the history of issue #{iid} of {self.project_path}"):
            handle = self._project.issues.get(iid, lazy=True)
            if kind == "label_events":
                events = handle.resourcelabelevents.list(
                    iterator=True, per_page=PER_PAGE, **self._retries()
                )
                return [event.asdict() for event in events]
            if kind == "links":
                links = handle.links.list(get_all=True, **self._retries())
                return [link.asdict() for link in links]
            return self._notes(iid)

    def _notes(self, iid: int) -> list[Json]:
        handle = self._project.issues.get(iid, lazy=True)
        notes = handle.notes.list(iterator=True, per_page=PER_PAGE, **self._retries())
        return [note.asdict() for note in notes]

    @contextmanager
    def _reporting(self, what: str) -> Iterator[None]:
        """Turn whatever GitLab or the network did into one TrackerError; ``what`` is what we
        were doing, e.g. "reading issue #42 of group/project"."""
        log.debug("GitLab: %s", what)
        try:
            yield
        except gitlab.exceptions.GitlabError as error:
            transient = error.response_code in TRANSIENT or isinstance(
                error, gitlab.exceptions.GitlabParsingError
            )
            raise TrackerError(
                _explain_gitlab(error, what, self.url, bool(self.client.job_token)),
                transient=transient,
            ) from None
        except requests.exceptions.Timeout:
            raise TrackerError(
                f"GitLab at {self.url} did not answer within {self.settings.timeout:g} s while "
                f"{what}; try again, or raise [tracker] timeout",
                transient=True,
            ) from None
        except requests.exceptions.RequestException as error:
            raise TrackerError(
                f"cannot reach GitLab at {self.url} while {what}: "
                f"{_network_reason(error)}; "
                "check GITLAB_URL and your network",
                transient=True,
            ) from None


def _issues_named(iids: Sequence[int], project: str) -> str:
    names = ", ".join(f"#{iid}" for iid in iids)
    return f"issue{'s' if len(iids) > 1 else ''} {names} of {project}"


def _client(settings: TrackerConfig) -> gitlab.Gitlab:
    """A client from GITLAB_URL and GITLAB_TOKEN (or CI_JOB_TOKEN), else a config section."""
    url = gitlab_url(settings)
    token = os.environ.get("GITLAB_TOKEN")
    job_token = os.environ.get("CI_JOB_TOKEN")
    options: dict[str, Any] = {
        "timeout": settings.timeout,
        "per_page": PER_PAGE,
        "retry_transient_errors": True,
    }
    if token or job_token:
        if not url:
            raise TrackerError("no GitLab URL: set GITLAB_URL or [tracker] url")
        credentials = {"private_token": token} if token else {"job_token": job_token}
        return gitlab.Gitlab(url, **credentials, **options)
    if settings.gitlab_id:
        try:
            client = gitlab.Gitlab.from_config(settings.gitlab_id)
        except gitlab.config.GitlabConfigMissingError:
            raise TrackerError(
                "no python-gitlab config file found for "
                f"[tracker] gitlab_id = {settings.gitlab_id!r}; see python-gitlab's docs"
            ) from None
        except gitlab.config.ConfigError as error:
            raise TrackerError(
                f"python-gitlab config section {settings.gitlab_id!r}: {error}"
            ) from None
        client.per_page = PER_PAGE
        client.retry_transient_errors = True
        client.timeout = settings.timeout
        return client
    raise TrackerNotSetUp(NO_GITLAB_TOKEN)


def _explain_gitlab(
    error: gitlab.exceptions.GitlabError, what: str, url: str, job_token: bool = False
) -> str:
    code = error.response_code
    message = _one_line(str(error.error_message or "")) or "no message"
    # GitLab's messages usually start with the code already ("404 Project Not Found").
    status = message if message.startswith(str(code)) else f"{code} {message}"
    if isinstance(error, gitlab.exceptions.GitlabParsingError):
        return f"GitLab at {url} sent an answer that is not valid JSON while {what}; try again"
    if job_token and code in (401, 403, 404):
        return (
            f"GitLab refused the CI job token ({status}) while {what}: a job token cannot use "
            "the issues, notes or milestones API; set GITLAB_TOKEN to an access token with the "
            "api scope"
        )
    if code == 401:
        return (
            f"GitLab rejected the token ({status}) while {what}; "
            "check GITLAB_TOKEN and that it has the api or read_api scope"
        )
    if code == 403:
        return (
            f"GitLab rejected the token ({status}) while {what}: "
            "it has no access to this; use a token of a project member"
        )
    if code == 404:
        if "project" in message.lower():
            return f"project not found while {what} ({status}); check [tracker] project"
        return f"not found while {what} ({status})"
    if code == 429:
        return (
            f"GitLab kept rate limiting ({code}) while {what}, even after retries; try again later"
        )
    if code is not None and code >= 500:
        return f"GitLab answered {status} while {what}, even after retries; try again later"
    return f"GitLab refused this while {what} ({status})"


def _network_reason(error: requests.exceptions.RequestException) -> str:
    text = str(error)
    for reason in ("Connection refused", "Name or service not known", "Connection aborted"):
        if reason in text:
            return reason.lower()
    return type(error).__name__


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def _server_time(header: str | None) -> datetime | None:
    if not header:
        return None
    try:
        answered = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return answered if answered.tzinfo is not None else None
