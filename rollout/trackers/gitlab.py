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
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import gitlab
import gitlab.exceptions
import requests
import requests.adapters

from rollout.config import TrackerConfig
from rollout.errors import IssuesNotFound, TrackerError, TrackerNotSetUp
from rollout.trackers import (
    HISTORY,
    NO_GITLAB_TOKEN,
    IssueQuery,
    Json,
    Progress,
    Tracker,
    is_web_address,
)

log = logging.getLogger("rollout.gitlab")
PER_PAGE = 100  # GitLab's maximum; python-gitlab asks for 20 otherwise
TRANSIENT = (429, 500, 502, 503, 504)


class GitLabTracker(Tracker):
    def __init__(self, client: gitlab.Gitlab, settings: TrackerConfig, project_path: str) -> None:
        self.client = client
        self.settings = settings
        self.project_path = project_path
        self.url = client.url
        self._user_lock = threading.Lock()
        self._user: Future[Json | None] | None = None
        # lazy: no request until something is read through it
        self._project = client.projects.get(project_path, lazy=True)

    @classmethod
    def connect(cls, settings: TrackerConfig) -> GitLabTracker:
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
        return cls(client, settings, settings.project)

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
        with self._requests_in_flight() as pool:
            # The histories are asked for together with the issues themselves: one round
            # trip instead of two. Unknown iids are reported from the list.
            listing = pool.submit(self._issues_by_iid, wanted)
            pending = self._submit_history(pool, wanted, HISTORY)
            found = listing.result()
            missing = [iid for iid in wanted if iid not in found]
            if missing:
                raise IssuesNotFound(
                    f"{_issues_named(missing, self.project_path)} not found "
                    "(check the issue numbers)",
                    tuple(missing),
                )
            extras = self._collect(pending, wanted, HISTORY, progress)
        for iid, extra in zip(wanted, extras, strict=True):
            found[iid].update(extra)
        return [found[iid] for iid in iids]

    def _issues_by_iid(self, iids: Sequence[int]) -> dict[int, Json]:
        found: dict[int, Json] = {}
        for start in range(0, len(iids), PER_PAGE):
            chunk = iids[start : start + PER_PAGE]
            query = {"iids": chunk, "state": "all", "per_page": PER_PAGE}
            with self._reporting(f"reading {_issues_named(chunk, self.project_path)}"):
                for issue in self._project.issues.list(iterator=True, **query, **self._retries()):
                    found[int(issue.iid)] = issue.asdict()
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
        with self._reporting(f"posting a note on issue #{iid} of {self.project_path}"):
            issue = self._project.issues.get(iid, lazy=True)
            note = issue.notes.create({"body": body}, retry_transient_errors=False, max_retries=0)
            return note.asdict()

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
        with self._reporting(f"updating issue #{iid} of {self.project_path}"):
            # python-gitlab retries transient failures: the same update again is harmless.
            return dict(self._project.issues.update(iid, data, **self._retries()))

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
        self, iids: Sequence[int], parts: Collection[str], progress: Progress | None = None
    ) -> list[Json]:
        """The ``parts`` of each issue's history: each is a request of its own, and up to
        [tracker] concurrency requests are in flight at a time."""
        with self._requests_in_flight() as pool:
            pending = self._submit_history(pool, iids, parts)
            return self._collect(pending, iids, parts, progress)

    @contextmanager
    def _requests_in_flight(self) -> Iterator[ThreadPoolExecutor]:
        pool = ThreadPoolExecutor(max_workers=self.settings.concurrency)
        try:
            yield pool
        finally:
            # On a failure, requests not yet sent are not sent at all.
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit_history(
        self, pool: ThreadPoolExecutor, iids: Sequence[int], parts: Collection[str]
    ) -> list[tuple[int, str, Future[list[Json]]]]:
        return [
            (iid, kind, pool.submit(self._detail, iid, kind))
            for iid in iids
            for kind in _kinds(parts)
        ]

    def _collect(
        self,
        pending: list[tuple[int, str, Future[list[Json]]]],
        iids: Sequence[int],
        parts: Collection[str],
        progress: Progress | None,
    ) -> list[Json]:
        fetched: dict[int, Json] = {iid: {} for iid in iids}
        wanted = len(_kinds(parts))
        done = 0
        for iid, kind, future in pending:
            fetched[iid][kind] = future.result()
            if progress is not None and len(fetched[iid]) == wanted:
                done += 1
                progress(done, len(iids))
        return [fetched[iid] for iid in iids]

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


def _kinds(parts: Collection[str]) -> list[str]:
    """The parts of the history asked for, in a fixed order."""
    return [kind for kind in HISTORY if kind in parts]


def _issues_named(iids: Sequence[int], project: str) -> str:
    names = ", ".join(f"#{iid}" for iid in iids)
    return f"issue{'s' if len(iids) > 1 else ''} {names} of {project}"


def _client(settings: TrackerConfig) -> gitlab.Gitlab:
    """A client from GITLAB_URL and GITLAB_TOKEN (or CI_JOB_TOKEN), else a config section."""
    url = _gitlab_url(settings)
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


def _gitlab_url(settings: TrackerConfig) -> str | None:
    """GITLAB_URL, else [tracker] url, else CI_SERVER_URL; an error when it is no web address
    (the value is not echoed: it may hold a token)."""
    for source, url in (
        ("GITLAB_URL", os.environ.get("GITLAB_URL")),
        ("[tracker] url", settings.url),
        ("CI_SERVER_URL", os.environ.get("CI_SERVER_URL")),
    ):
        if not url:
            continue
        if not is_web_address(url):
            raise TrackerError(
                f"{source} is not a web address: write it as https://gitlab.example.com "
                "(the scheme and the host of your GitLab)"
            )
        return url
    return None


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
