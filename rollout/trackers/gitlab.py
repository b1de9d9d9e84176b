"""The GitLab tracker: the live project through python-gitlab and the REST API v4.

The only module that imports python-gitlab. GitLab filters the lists (state, labels,
milestone, iids[]); label events, links and notes are fetched only for the issues a
command needs, several at a time.

Every answer is checked before it is used: a status that is not 2xx, a body that is not
JSON, a list walk that does not end (see MAX_PAGES), a redirect to another host. Reads are
sent again after a rate limit (429), a 5xx or a network failure, waiting as GitLab's
``Retry-After`` says (seconds or an HTTP date), at most ``[tracker] retries`` times; writes
are sent once, and their callers look for the result before trying again
(rollout.posting). Whatever goes wrong becomes one TrackerError that says what we were
doing and what to do about it, and never carries the token. With the history cache
(PRODUCT.md §9), the parts of an issue's history kept for its current updated_at are not
asked for again.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import gitlab
import gitlab.exceptions
import requests
import requests.adapters

from rollout.config import CacheConfig, TrackerConfig
from rollout.errors import IssuesNotFound, TrackerError, TrackerNotSetUp
from rollout.issues import Issue, history_as_read, issue_from_json
from rollout.retry_after import retry_after_seconds
from rollout.safety import clean, keep_secret, secret_variable
from rollout.trackers import (
    HISTORY,
    NO_GITLAB_TOKEN,
    Arrived,
    IssueQuery,
    Json,
    Parts,
    Progress,
    Tracker,
    gitlab_url,
    parts_for,
)
from rollout.trackers.cache import HistoryCache, cache_key, cache_path, host_of

log = logging.getLogger("rollout.gitlab")
PER_PAGE = 100  # GitLab's maximum; python-gitlab asks for 20 otherwise
TRANSIENT = (429, 500, 502, 503, 504)
# Requests that may be sent again without looking first: they change nothing, or change
# it to the same end however often they are sent.
IDEMPOTENT = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
# A list walk follows GitLab's pagination for at most this many pages: the page count
# GitLab announces (X-Total-Pages, X-Total, rel="last") when it does, and this cap when it
# leaves them out (it does above 10,000 records) or announces more. 1,000 pages of 100.
MAX_PAGES = 1_000
# The longest Retry-After rollout waits for; a rate limit asking for more is reported at once.
MAX_WAIT = 60.0
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
        self._api = f"/projects/{quote(project_path, safe='')}"
        # requests keeps 10 connections per host; a request in flight beyond the pool's size
        # opens a connection that is dropped afterwards, and urllib3 warns of it on stderr. In
        # flight at once: the histories and the list pages ([tracker] concurrency each, and
        # check has both), the token's user and a list started early.
        in_flight = 2 * settings.concurrency + 2
        self._http = _Retrying(settings.retries, client.url, pool_maxsize=in_flight)
        client.session.mount("https://", self._http)
        client.session.mount("http://", self._http)
        # The issue list pages in flight, whatever list they belong to (lists are read side
        # by side, and so are the pages of one): at most [tracker] concurrency.
        self._list_slots = threading.BoundedSemaphore(settings.concurrency)
        self._user_lock = threading.Lock()
        self._user: Future[Json | None] | None = None
        self._prefetched: dict[IssueQuery, Future[list[Json]]] = {}
        # The issues listed in this run, by iid: their current state, for the links kept in
        # the cache (closing a blocker does not touch the issue it blocks).
        self._listed: dict[int, Json] = {}
        self._listed_lock = threading.Lock()
        # The record made of each listed issue's JSON while the list was checked, by the
        # JSON's identity (the JSON is kept with it), so that it is parsed once.
        self._records: dict[int, tuple[Json, Issue]] = {}
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
        history = None
        if cache is not None:
            history = HistoryCache(
                cache.path or cache_path(client.url, settings.project),
                host_of(client.url),
                settings.project,
                warn or (lambda message: None),
            )
        return cls(client, settings, settings.project, history)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self.client.session.close()

    # ------------------------------------------------------------ reading

    def project(self) -> Json:
        what = f"reading project {self.project_path}"
        return _object(self._request("get", self._api, what=what), self.url, what)

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
        what = "reading the token's user"
        try:
            user = _object(self._request("get", "/user", what=what), self.url, what)
        except TrackerError:
            if self.client.job_token:
                return None
            raise
        username = user.get("username")
        if not isinstance(username, str) or not username.strip():
            # Without it none of rollout's own markers count, and every note goes out again.
            raise TrackerError(
                f"GitLab at {self.url} gave no username while {what}; "
                "check that GITLAB_URL is your GitLab's address"
            )
        return user

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
            listed = self.records(found[iid] for iid in wanted)
            versions = {issue.iid: issue.updated_at for issue in listed}
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
            query = {"iids[]": list(chunk), "state": "all", "per_page": PER_PAGE}
            found.update(self._issues(query, f"reading {_issues_named(chunk, self.project_path)}"))
        self._remember_listed(found.values())
        return found

    def list_json(
        self,
        query: IssueQuery,
        *,
        history: Collection[str] = HISTORY,
        progress: Progress | None = None,
    ) -> list[Json]:
        started = self._prefetched.pop(query, None)
        listed = started.result() if started is not None else self._listing(query)
        if history:
            self.add_history(listed, history, progress)
        return listed

    def prefetch_list(self, query: IssueQuery) -> None:
        if query not in self._prefetched:
            pool = ThreadPoolExecutor(max_workers=1)
            self._prefetched[query] = pool.submit(self._listing, query)
            pool.shutdown(wait=False)

    def _listing(self, query: IssueQuery) -> list[Json]:
        params: dict[str, Any] = {"state": query.state, "per_page": PER_PAGE}
        if query.labels:
            params["labels"] = ",".join(query.labels)
        if query.without_labels:
            params["not[labels]"] = ",".join(query.without_labels)
        if query.milestone is not None:
            params["milestone"] = query.milestone
        if query.updated_after is not None:
            params["updated_after"] = query.updated_after.isoformat()
        listed = list(self._issues(params, f"listing the issues of {self.project_path}").values())
        self._remember_listed(listed)
        return listed

    def _issues(self, params: dict[str, Any], what: str) -> dict[int, Json]:
        """The issues listed with ``params`` by iid, in GitLab's order, each checked by the
        one parser of issue JSON. An issue that moved between pages while they were read
        comes once."""
        found: dict[int, Json] = {}
        for data in self._list(f"{self._api}/issues", params, what, side_by_side=True):
            try:
                issue = issue_from_json(data)
            except TrackerError as error:
                raise TrackerError(_unexpected(self.url, what, str(error))) from None
            if issue.iid not in found:
                found[issue.iid] = data
                with self._listed_lock:
                    self._records[id(data)] = (data, issue)
        return found

    def records(self, listed: Iterable[Json]) -> list[Issue]:
        return [self._record(data) for data in listed]

    def _record(self, data: Json) -> Issue:
        """The record made when the issue was listed, unless history was added to its JSON
        since (the only change made to listed JSON)."""
        kept = self._records.get(id(data))
        if kept is not None and kept[0] is data and not any(part in data for part in HISTORY):
            return kept[1]
        return issue_from_json(data)

    def note_list(self, iid: int) -> list[Json]:
        return self._notes(iid, f"reading the notes of issue #{iid} of {self.project_path}")

    def milestone_list(self) -> list[Json]:
        what = f"listing the milestones of {self.project_path}"
        return self._list(f"{self._api}/milestones", {"per_page": PER_PAGE}, what)

    # ------------------------------------------------------------ writing

    def post_note(self, iid: int, body: str) -> Json:
        # Sent once: a POST whose answer was lost may have created the note, so the caller
        # looks for it again before trying once more (rollout.posting).
        what = f"posting a note on issue #{iid} of {self.project_path}"
        path = f"{self._api}/issues/{iid}/notes"
        try:
            answer = self._request("post", path, what=what, data={"body": body})
            return _object(answer, self.url, what)
        finally:
            # The note is on the issue, or may be (a lost answer): what the cache kept of
            # the issue is out of date either way.
            self._forget(iid)

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
        what = f"updating issue #{iid} of {self.project_path}"
        try:
            # A PUT: sent again after a lost answer, the same update changes nothing more.
            answer = self._request("put", f"{self._api}/issues/{iid}", what=what, data=data)
            return _object(answer, self.url, what)
        finally:
            # Its labels changed, or may have (a lost answer): the cache's entry is stale.
            self._forget(iid)

    def create_milestone(self, title: str, start_date: str, due_date: str) -> Json:
        data = {"title": title, "start_date": start_date, "due_date": due_date}
        what = f"creating milestone {title!r} in {self.project_path}"
        answer = self._request("post", f"{self._api}/milestones", what=what, data=data)
        return _object(answer, self.url, what)

    def update_milestone(self, milestone_id: int, **fields: str) -> Json:
        what = f"updating milestone {milestone_id} of {self.project_path}"
        path = f"{self._api}/milestones/{milestone_id}"
        return _object(self._request("put", path, what=what, data=dict(fields)), self.url, what)

    # ------------------------------------------------------------ internals

    def fetch_history(
        self,
        iids: Sequence[int],
        parts: Parts,
        progress: Progress | None = None,
        versions: Mapping[int, datetime] | None = None,
        arrived: Arrived | None = None,
    ) -> list[Json]:
        """The ``parts`` of each issue's history: each is a request of its own, and up to
        [tracker] concurrency requests are in flight at a time. With ``versions`` (each
        issue's updated_at as just listed), the cache answers what §9 lets it, and keeps
        what is fetched."""
        cached = self._cached(iids, parts, versions or {})
        with self._requests_in_flight() as pool:
            unlisted = self._unlisted_blockers(cached)
            blockers = pool.submit(self._issues_by_iid, unlisted) if unlisted else None
            pending = self._submit_history(pool, iids, parts, cached)
            # The kept links naming those wait for their state; the rest are read meanwhile.
            waiting = _links_naming(cached, set(unlisted))
            pending += self._submit_history(pool, self._stale_links(cached), ["links"])
            pending += [
                (iid, "links", pool.submit(self._links_once_known, iid, links, blockers))
                for iid, links in waiting.items()
            ]
            fetched = self._collect(pending, iids, parts, progress, cached, arrived)
        self._keep(pending, versions or {})
        return fetched

    # ------------------------------------------------------------ the history cache

    def _forget(self, iid: int) -> None:
        if self.cache is not None:
            self.cache.forget(iid)

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
                kept = history_as_read(kind, data)
                entries.append((iid, kind, cache_key(version), answered, kept))
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

    def _unlisted_blockers(self, cached: Mapping[tuple[int, str], list[Json]]) -> list[int]:
        """Kept links name issues as blockers; whether those are still open is asked of
        GitLab with one list request (per 100), unless this run listed them already."""
        return sorted(
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

    def _stale_links(self, cached: dict[tuple[int, str], list[Json]]) -> list[int]:
        """Bring the kept links up to date with the linked issues as listed in this run, and
        name the issues whose links must be fetched again: a blocker in another project, or
        one GitLab no longer lists (deleted, moved)."""
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

    def _links_once_known(
        self, iid: int, links: list[Json], blockers: Future[dict[int, Json]] | None
    ) -> tuple[list[Json], datetime | None]:
        """An issue's kept links, once the state of the blockers they name is in: brought up
        to date, or fetched again when stale."""
        if blockers is not None:
            blockers.result()  # now in self._listed
        if self._stale_links({(iid, "links"): links}):
            return self._timed_detail(iid, "links")
        return links, None  # kept already: nothing to store

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
        arrived: Arrived | None = None,
    ) -> list[Json]:
        fetched: dict[int, Json] = {iid: {} for iid in iids}
        for (iid, kind), data in (cached or {}).items():
            fetched[iid][kind] = data
        wanted = {iid: len(parts_for(parts, iid)) for iid in fetched}
        done = 0

        def complete(iid: int) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, len(fetched))
            if arrived is not None:
                arrived(iid, fetched[iid])

        for iid in fetched:
            if len(fetched[iid]) == wanted[iid]:
                complete(iid)
        for iid, kind, future in pending:
            fetched[iid][kind] = future.result()[0]
            if len(fetched[iid]) == wanted[iid]:
                complete(iid)
        return [fetched[iid] for iid in iids]

    def _timed_detail(self, iid: int, kind: str) -> tuple[list[Json], datetime | None]:
        """One part of an issue's history, and when GitLab answered (its first page)."""
        self._answered.at = None
        data = self._detail(iid, kind)
        return data, self._answered.at

    def _detail(self, iid: int, kind: str) -> list[Json]:
        what = f"reading the history of issue #{iid} of {self.project_path}"
        if kind == "notes":
            return self._notes(iid, what)
        endpoint = "resource_label_events" if kind == "label_events" else kind
        return self._list(f"{self._api}/issues/{iid}/{endpoint}", {"per_page": PER_PAGE}, what)

    def _notes(self, iid: int, what: str) -> list[Json]:
        return self._list(f"{self._api}/issues/{iid}/notes", {"per_page": PER_PAGE}, what)

    def _list(
        self, path: str, params: Mapping[str, Any], what: str, *, side_by_side: bool = False
    ) -> list[Json]:
        """Every page of a list, following GitLab's ``next`` links, and never for ever: a link
        back to a page already read, or more pages than GitLab announced (MAX_PAGES when it
        announces none), is an error.

        ``side_by_side``: once the first page says how many there are, the other pages are
        asked for by number, up to [tracker] concurrency at a time (for every list of the
        tracker together), instead of one round trip after another. The same requests; the
        walk goes on from the last page's ``next`` link should the list have grown."""
        items: list[Json] = []
        seen: set[str] = set()
        limit = MAX_PAGES
        query: Mapping[str, Any] | None = params
        url: str | None = path
        while url is not None:
            if url in seen:
                raise TrackerError(
                    f"GitLab's pagination led back to a page already read while {what} "
                    f"(after {len(seen)} pages); stopped there. Try again later, or ask the "
                    "GitLab administrators to check the API's pagination"
                )
            if len(seen) >= limit:
                announced = "it announced" if limit < MAX_PAGES else "rollout reads at most"
                raise TrackerError(
                    f"GitLab's pagination did not end while {what}: stopped after {len(seen)} "
                    f"pages, as many as {announced}. Try again later, or ask the GitLab "
                    "administrators to check the API's pagination"
                )
            seen.add(url)
            response = self._page(url, query, what, side_by_side)
            items.extend(_page_items(response, self.url, what))
            # The latest count: a list may grow while it is read.
            limit = min(_page_count(response) or MAX_PAGES, MAX_PAGES)
            url, query = self._next_page(response), None
            if side_by_side and len(seen) == 1 and url is not None and 2 < limit < MAX_PAGES:
                numbers = range(2, limit + 1)
                seen.update(f"{path}#page={number}" for number in numbers)
                pages = self._pages_by_number(path, params, numbers, what)
                for response in pages:
                    items.extend(_page_items(response, self.url, what))
                url = self._next_page(pages[-1])
        return items

    def _page(
        self, url: str, query: Mapping[str, Any] | None, what: str, counted: bool
    ) -> requests.Response:
        if not counted:
            return self._request("get", url, what=what, params=query)
        with self._list_slots:
            return self._request("get", url, what=what, params=query)

    def _pages_by_number(
        self, path: str, params: Mapping[str, Any], numbers: range, what: str
    ) -> list[requests.Response]:
        """The pages of a list with these numbers, several at a time, in order."""
        with ThreadPoolExecutor(max_workers=min(len(numbers), self.settings.concurrency)) as pool:
            asked = [
                pool.submit(self._page, path, {**params, "page": number}, what, True)
                for number in numbers
            ]
            try:
                return [page.result() for page in asked]
            finally:
                for page in asked:
                    page.cancel()

    def _next_page(self, response: requests.Response) -> str | None:
        """The ``next`` link, on the URL rollout was given: a link to another host is taken
        as a path on ours (python-gitlab's keep_base_url), so the token goes nowhere else."""
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        base, target = urlsplit(self.url), urlsplit(str(link))
        return urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))

    def _request(
        self,
        verb: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        """One request through python-gitlab, with its own retries off: _Retrying retries."""
        log.debug("GitLab: %s", what)
        with self._reporting(what):
            return self.client.http_request(
                verb,
                path,
                query_data=dict(params or {}),
                post_data=dict(data) if data is not None else None,
                obey_rate_limit=False,
                retry_transient_errors=False,
                max_retries=0,
            )

    @contextmanager
    def _reporting(self, what: str) -> Iterator[None]:
        """Turn whatever GitLab or the network did into one TrackerError; ``what`` is what we
        were doing, e.g. "reading issue #42 of group/project"."""
        try:
            yield
        except gitlab.exceptions.GitlabError as error:
            code = error.response_code
            wait = self._http.last_wait() if code in TRANSIENT else None
            raise TrackerError(
                _explain_gitlab(error, what, self.url, wait, bool(self.client.job_token)),
                # Not worth trying again when GitLab asks for a longer wait than we give.
                transient=code in TRANSIENT and (wait is None or wait <= MAX_WAIT),
                retry_after=wait,
            ) from None
        except requests.exceptions.Timeout:
            raise TrackerError(
                f"GitLab at {self.url} did not answer within {self.settings.timeout:g} s while "
                f"{what}; try again, or raise [tracker] timeout",
                transient=True,
                settle=self.settings.timeout,
            ) from None
        except ForeignHost as error:
            raise TrackerError(
                f"GitLab at {self.url} sent rollout to another address ({error.origin}) while "
                f"{what}; rollout sends the token only to GITLAB_URL: set it to GitLab's own "
                "address",
            ) from None
        except requests.exceptions.RequestException as error:
            raise TrackerError(
                f"cannot reach GitLab at {self.url} while {what}: "
                f"{_network_reason(error)}; "
                "check GITLAB_URL and your network",
                transient=True,
            ) from None


class _Session(requests.Session):
    """python-gitlab's session, reading the environment once per address: requests looks
    up the proxies and the CA bundle (REQUESTS_CA_BUNDLE ...) on every request, a scan of
    the whole environment, about a quarter of a history request's CPU. The environment does
    not change during a run."""

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        key = (_origin(str(url)), tuple(sorted((proxies or {}).items())), stream, verify, cert)
        if key not in self._settings:
            self._settings[key] = super().merge_environment_settings(
                url, proxies, stream, verify, cert
            )
        settings = self._settings[key]
        return {**settings, "proxies": dict(settings["proxies"])}


class ForeignHost(requests.exceptions.RequestException):
    """A request (a redirect, mostly) to another scheme, host or port than GitLab's."""

    def __init__(self, origin: str) -> None:
        super().__init__(origin)
        self.origin = origin


class _Retrying(requests.adapters.HTTPAdapter):
    """The transport under python-gitlab: sends reads again after a rate limit, a 5xx or a
    network failure, waiting as ``Retry-After`` says (seconds or an HTTP date) or backing off,
    at most ``retries`` times; refuses to send anything (the token) to another origin.

    Writes go out once. What the last answer of this thread asked to wait is kept for the
    error that python-gitlab raises about it (its exceptions carry no headers).
    """

    def __init__(
        self,
        retries: int,
        base_url: str,
        pool_maxsize: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(pool_maxsize=max(10, pool_maxsize))
        self.retries = retries
        self.origin = _origin(base_url)
        self._sleep = sleep
        self._local = threading.local()

    def last_wait(self) -> float | None:
        wait: float | None = getattr(self._local, "wait", None)
        return wait

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        origin = _origin(str(request.url))
        if origin != self.origin:
            raise ForeignHost(origin)
        again = str(request.method).upper() in IDEMPOTENT
        attempt = 0
        while True:
            self._local.wait = None
            try:
                response = super().send(request, *args, **kwargs)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
                if not again or attempt >= self.retries:
                    raise
                self._sleep(_backoff(attempt))
                attempt += 1
                continue
            if response.status_code not in TRANSIENT:
                return response
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            self._local.wait = wait
            if not again or attempt >= self.retries or (wait is not None and wait > MAX_WAIT):
                return response
            response.close()
            self._sleep(_backoff(attempt) if wait is None else wait)
            attempt += 1


def _backoff(attempt: int) -> float:
    """Waits of 0.1, 0.2, 0.4 ... seconds, at most 5, when GitLab did not say how long."""
    return float(min(0.1 * 2**attempt, 5.0))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def _links_naming(
    cached: dict[tuple[int, str], list[Json]], named: set[int]
) -> dict[int, list[Json]]:
    """Take out of ``cached`` the links of the issues whose kept links name any of ``named``."""
    taken = {}
    for (iid, kind), links in list(cached.items()):
        if kind == "links" and any(int(link["iid"]) in named for link in links):
            taken[iid] = cached.pop((iid, kind))
    return taken


def _page_items(response: requests.Response, url: str, what: str) -> list[Json]:
    page = _json(response, url, what)
    if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
        raise TrackerError(_unexpected(url, what, "expected a list of objects"))
    return page


def _page_count(response: requests.Response) -> int | None:
    """How many pages GitLab says the list has: X-Total-Pages, else X-Total, else the page
    number of the rel="last" link; None when it does not say."""
    headers = response.headers
    pages = headers.get("X-Total-Pages", "").strip()
    if _digits(pages):
        return max(1, int(pages[:9]))
    total, per_page = headers.get("X-Total", "").strip(), headers.get("X-Per-Page", "").strip()
    if _digits(total) and _digits(per_page) and int(per_page[:9]) > 0:
        return max(1, math.ceil(int(total[:12]) / int(per_page[:9])))
    last = response.links.get("last", {}).get("url")
    if last:
        page = parse_qs(urlsplit(str(last)).query).get("page", [""])[0]
        if _digits(page):
            return max(1, int(page[:9]))
    return None


def _json(response: requests.Response, url: str, what: str) -> Any:
    kind = response.headers.get("Content-Type", "")
    if "json" not in kind.lower():
        shown = clean(kind, limit=60) or "no content type"
        raise TrackerError(
            f"GitLab at {url} answered with {shown}, not JSON, while {what}; "
            "check GITLAB_URL (a proxy or a sign-in page answers like this)"
        )
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        raise TrackerError(
            f"GitLab at {url} sent an answer that is not valid JSON while {what}; try again",
            transient=True,
        ) from None


def _object(response: requests.Response, url: str, what: str) -> Json:
    answer = _json(response, url, what)
    if not isinstance(answer, dict):
        raise TrackerError(_unexpected(url, what, "expected an object"))
    return answer


def _unexpected(url: str, what: str, problem: str) -> str:
    return f"GitLab at {url} sent unexpected data while {what}: {problem}"


def _issues_named(iids: Sequence[int], project: str) -> str:
    names = ", ".join(f"#{iid}" for iid in iids)
    return f"issue{'s' if len(iids) > 1 else ''} {names} of {project}"


_NOT_A_WEB_ADDRESS = (
    "GITLAB_URL (or [tracker] url) is not a web address ({}); "
    "write it like https://gitlab.example.com"
)
_HOST = re.compile(r"[A-Za-z0-9._\-:]+")


def base_url(url: str) -> str:
    """GitLab's address as rollout uses and shows it: without the user:password@ or query
    (a token there is never sent or printed; the token comes only from GITLAB_TOKEN,
    CI_JOB_TOKEN or a python-gitlab config section)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # "http://[::1", "http://host:99999"
        raise TrackerError(_NOT_A_WEB_ADDRESS.format("it does not parse")) from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or not _HOST.fullmatch(host):
        shown = urlunsplit((parts.scheme, host, parts.path, "", "")) or "empty"
        raise TrackerError(_NOT_A_WEB_ADDRESS.format(shown))
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _client(settings: TrackerConfig) -> gitlab.Gitlab:
    """A client from GITLAB_URL and GITLAB_TOKEN (or CI_JOB_TOKEN), else a config section."""
    url = gitlab_url(settings)
    try:
        token = secret_variable("GITLAB_TOKEN")
        job_token = secret_variable("CI_JOB_TOKEN")
    except ValueError as error:
        raise TrackerError(str(error)) from None
    options: dict[str, Any] = {"timeout": settings.timeout, "per_page": PER_PAGE}
    if token or job_token:
        if not url:
            raise TrackerError("no GitLab URL: set GITLAB_URL or [tracker] url")
        address = base_url(url)
        credentials = {"private_token": token} if token else {"job_token": job_token}
        return gitlab.Gitlab(address, **credentials, **options, session=_Session())
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
        for secret in (client.private_token, client.oauth_token, client.job_token):
            keep_secret(secret)
        # The same client again, on the address without credentials in it.
        return gitlab.Gitlab(
            base_url(client.url),
            private_token=client.private_token,
            oauth_token=client.oauth_token,
            job_token=client.job_token,
            ssl_verify=client.ssl_verify,
            api_version=client.api_version,
            **options,
            session=_Session(),
        )
    raise TrackerNotSetUp(NO_GITLAB_TOKEN)


def _explain_gitlab(
    error: gitlab.exceptions.GitlabError,
    what: str,
    url: str,
    wait: float | None = None,
    job_token: bool = False,
) -> str:
    code = error.response_code
    message = _one_line(error.error_message) or "no message"
    # GitLab's messages usually start with the code already ("404 Project Not Found").
    status = message if code is None or message.startswith(str(code)) else f"{code} {message}"
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
    if code in TRANSIENT and wait is not None and wait > MAX_WAIT:
        return (
            f"GitLab answered {code} while {what} and asks to wait {wait:.0f} s, longer than "
            f"rollout waits ({MAX_WAIT:.0f} s); try again later"
        )
    if code == 429:
        return (
            f"GitLab kept rate limiting ({code}) while {what}, even after retries; try again later"
        )
    if code is not None and code >= 500:
        return f"GitLab answered {status} while {what}, even after retries; try again later"
    if code is None:
        return f"GitLab at {url} gave no usable answer while {what} ({status})"
    return f"GitLab refused this while {what} ({status})"


def _network_reason(error: requests.exceptions.RequestException) -> str:
    text = str(error)
    for reason in ("Connection refused", "Name or service not known", "Connection aborted"):
        if reason in text:
            return reason.lower()
    return type(error).__name__


def _one_line(message: object) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    return clean(str(message or ""), limit=200)


def _server_time(header: str | None) -> datetime | None:
    if not header:
        return None
    try:
        answered = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return answered if answered.tzinfo is not None else None


def _digits(text: str) -> bool:
    """Whether a header's value is a whole number: ASCII digits (str.isdigit takes "²" too)."""
    return text.isascii() and text.isdigit()
