"""The fake GitLab, exercised only the way rollout will use it: python-gitlab over real HTTP
(plain ``requests`` where python-gitlab hides what we check, such as raw headers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from textwrap import dedent
from typing import Any
from urllib.parse import parse_qs, urlsplit

import gitlab
import pytest
import requests
from gitlab_server import GitLabServer, GitLabState, running_gitlab
from scenarios import LabelNames, StoryError, load_story

PATH = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"
NOW = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)

STORY = f"""
project {PATH} id 42
now 2027-02-01 10:00
user alice "Alice Requester"
user bob "Bob Ops"
milestone "CustSuppOps Deployment 2027-02-01" start 2027-01-01 due 2027-02-01
milestone "CustSuppOps Deployment 2027-03-01" start 2027-02-01 due 2027-03-01

feature 12 "Add a refund macro" by alice, C2, customer Support-EMEA, assignee bob,
           milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-03 triage by bob
  2027-01-05 development
  2027-01-10 validation
  2027-01-12 received
  2027-01-13 implementation by bob
bug 13 "Fix the SLA trigger" by carol, C3, description "The SLA trigger fires twice":
  2027-01-04 09:30 triage; 2027-01-06 development; 2027-01-09 validation
  2027-01-10 rejected; 2027-01-11 development; 2027-01-14 validation; 2027-01-15 received
admin 14 "Rotate the API key" by dave, C4, deployment Ad-hoc, due 2027-03-10:
  2027-01-05 triage; 2027-01-06 scheduling; 2027-01-07 development
  2027-01-08 implementation skipped by bob
issue 15 "Upstream fix" by erin, created 2027-01-02 08:00
link 13 blocked by 15
link 12 relates to 14 on 2027-01-21
note 12 by bob on 2027-01-20: "Ships on the 1st"
note 12 by alice on 2027-01-21 12:00: "Thanks!"
close 14 on 2027-02-02 by bob
"""


@pytest.fixture
def state() -> GitLabState:
    return load_story(STORY)


@pytest.fixture
def server(state: GitLabState) -> Iterator[GitLabServer]:
    with GitLabServer(state) as running:
        yield running


@pytest.fixture
def gl(server: GitLabServer) -> gitlab.Gitlab:
    return server.client()


def headers(server: GitLabServer) -> dict[str, str]:
    return {"PRIVATE-TOKEN": server.token}


# -- projects, users, auth ------------------------------------------------------------------------


def test_project_by_path_and_by_id(gl: gitlab.Gitlab, server: GitLabServer) -> None:
    by_path = gl.projects.get(PATH)
    by_id = gl.projects.get(42)

    assert by_path.asdict() == by_id.asdict()
    assert by_path.id == 42
    assert by_path.path_with_namespace == PATH
    assert by_path.web_url == f"https://gitlab.example.com/{PATH}"
    assert by_path.namespace["full_path"] == PATH.rsplit("/", 1)[0]
    assert server.requests[0].path == "/api/v4/projects/" + PATH.replace("/", "%2F")


def test_auth_names_the_token_user_and_the_token_is_never_recorded(
    gl: gitlab.Gitlab, server: GitLabServer
) -> None:
    gl.auth()

    assert gl.user.username == "rollout-bot"
    (request,) = server.requests
    assert (request.method, request.path, request.auth, request.status) == (
        "GET",
        "/api/v4/user",
        "PRIVATE-TOKEN",
        200,
    )
    assert server.token not in repr(server.requests)


def test_job_token_and_oauth_bearer_are_accepted(state: GitLabState) -> None:
    with GitLabServer(state, job_token="job-secret") as server:
        gitlab.Gitlab(server.url, job_token="job-secret").projects.get(PATH)
        gitlab.Gitlab(server.url, oauth_token=server.token).projects.get(PATH)

        assert [r.auth for r in server.requests] == ["JOB-TOKEN", "Bearer"]


@pytest.mark.parametrize("client_kwargs", [{"private_token": "glpat-wrong"}, {}])
def test_bad_or_missing_token_is_401(server: GitLabServer, client_kwargs: dict[str, str]) -> None:
    client = gitlab.Gitlab(server.url, **client_kwargs)

    with pytest.raises(gitlab.GitlabAuthenticationError) as raised:
        client.projects.get(PATH)

    assert raised.value.response_code == 401
    assert raised.value.error_message == "401 Unauthorized"
    raw = requests.get(f"{server.url}/api/v4/projects/42", timeout=5)
    assert (raw.status_code, raw.json()) == (401, {"message": "401 Unauthorized"})


def test_a_job_token_is_refused_when_none_is_configured(server: GitLabServer) -> None:
    with pytest.raises(gitlab.GitlabAuthenticationError):
        gitlab.Gitlab(server.url, job_token=server.token).projects.get(PATH)


def test_404_bodies_are_gitlabs(gl: gitlab.Gitlab, server: GitLabServer) -> None:
    with pytest.raises(gitlab.GitlabGetError) as project:
        gl.projects.get("no/such/project")
    with pytest.raises(gitlab.GitlabGetError) as issue:
        gl.projects.get(PATH, lazy=True).issues.get(999)
    route = requests.get(f"{server.url}/api/v4/nothing/here", headers=headers(server), timeout=5)

    assert (project.value.response_code, project.value.error_message) == (
        404,
        "404 Project Not Found",
    )
    assert (issue.value.response_code, issue.value.error_message) == (404, "404 Issue Not Found")
    assert (route.status_code, route.json()) == (404, {"message": "404 Not found"})


def test_bad_parameters_are_400(server: GitLabServer) -> None:
    url = f"{server.url}/api/v4/projects/42/issues"
    bad_state = requests.get(url, params={"state": "open"}, headers=headers(server), timeout=5)
    bad_page = requests.get(url, params={"per_page": "many"}, headers=headers(server), timeout=5)

    assert (bad_state.status_code, bad_state.json()) == (
        400,
        {"error": "state does not have a valid value"},
    )
    assert (bad_page.status_code, bad_page.json()) == (400, {"error": "per_page is invalid"})


# -- issues ---------------------------------------------------------------------------------------


def iids(issues: list[Any]) -> list[int]:
    return sorted(issue.iid for issue in issues)


def test_issue_list_filters(gl: gitlab.Gitlab, server: GitLabServer) -> None:
    project = gl.projects.get(PATH, lazy=True)

    def listed(**filters: Any) -> list[int]:
        return iids(project.issues.list(get_all=True, **filters))

    assert listed() == [12, 13, 14, 15]
    assert listed(labels=["Stage::Validation", "Validation::Received"]) == [13]
    assert listed(labels="Stage::Implementation") == [12, 14]
    assert listed(labels="None") == [15]
    assert listed(labels="Any") == [12, 13, 14]
    assert listed(state="opened") == [12, 13, 15]
    assert listed(state="closed") == [14]
    assert listed(milestone="CustSuppOps Deployment 2027-02-01") == [12]
    assert listed(milestone="None") == [13, 14, 15]
    assert listed(milestone="Any") == [12]
    assert listed(iids=[12, 15]) == [12, 15]
    assert listed(search="sla trigger") == [13]
    assert listed(search="fires twice") == [13]
    assert listed(created_after="2027-01-04T00:00:00Z") == [13, 14]
    assert listed(updated_after="2027-01-21T00:00:00Z") == [12, 14]
    assert [i.iid for i in project.issues.list(get_all=True)] == [14, 13, 12, 15]
    assert [i.iid for i in project.issues.list(get_all=True, sort="asc")] == [15, 12, 13, 14]
    assert [i.iid for i in project.issues.list(get_all=True, order_by="updated_at")] == [
        14,
        12,
        13,
        15,
    ]
    iid_request = next(r for r in server.requests if "iids[]" in r.query)
    assert iid_request.query["iids[]"] == ["12", "15"]


def test_issue_json_has_gitlabs_shape(gl: gitlab.Gitlab) -> None:
    issue = gl.projects.get(PATH, lazy=True).issues.get(14).asdict()

    required = {
        "id",
        "iid",
        "project_id",
        "title",
        "description",
        "state",
        "created_at",
        "updated_at",
        "labels",
        "milestone",
        "assignees",
        "author",
        "user_notes_count",
        "upvotes",
        "downvotes",
        "due_date",
        "confidential",
        "web_url",
    }
    assert required <= issue.keys()
    assert issue["state"] == "closed"
    assert issue["closed_at"] == "2027-02-02T09:00:00.000Z"
    assert issue["closed_by"]["username"] == "bob"
    assert issue["due_date"] == "2027-03-10"
    assert issue["web_url"] == f"https://gitlab.example.com/{PATH}/-/issues/14"
    assert issue["references"]["full"] == f"{PATH}#14"
    assert issue["labels"] == [
        "Criticality::C4",
        "Deployment::Ad-hoc",
        "RequestType::Administrative",
        "Stage::Implementation",
        "Validation::Skipped",
    ]
    assert set(issue["author"]) == {
        "id",
        "username",
        "name",
        "state",
        "locked",
        "avatar_url",
        "web_url",
    }


def test_issue_json_does_not_depend_on_the_port(state: GitLabState) -> None:
    bodies = []
    for _ in range(2):
        with running_gitlab(state) as server:
            bodies.append(
                requests.get(
                    f"{server.url}/api/v4/projects/42/issues/12", headers=headers(server), timeout=5
                ).json()
            )

    assert bodies[0] == bodies[1]


# -- pagination -----------------------------------------------------------------------------------


@pytest.fixture
def big_server() -> Iterator[GitLabServer]:
    state = GitLabState(clock=NOW)
    state.add_project("big/project")
    start = datetime(2027, 1, 1, tzinfo=UTC)
    for iid in range(1, 251):
        state.add_issue(
            "big/project",
            iid,
            f"Issue {iid}",
            "alice",
            start + timedelta(minutes=iid),
            labels=["Stage::Triage"],
        )
    with GitLabServer(state) as server:
        yield server


def test_iterator_over_250_issues_makes_3_requests(big_server: GitLabServer) -> None:
    project = big_server.client().projects.get("big/project", lazy=True)

    listed = list(project.issues.list(iterator=True, per_page=100))

    assert len(listed) == 250
    assert len({issue.iid for issue in listed}) == 250
    assert big_server.count("GET", "/issues") == 3


def test_get_all_over_250_issues_makes_3_requests(big_server: GitLabServer) -> None:
    project = big_server.client().projects.get("big/project", lazy=True)

    listed = project.issues.list(get_all=True, per_page=100, labels=["Stage::Triage"])

    assert len(listed) == 250
    assert big_server.count("GET", "/issues") == 3
    # The filter travels on in the Link URLs python-gitlab follows.
    assert all(r.query["labels"] == ["Stage::Triage"] for r in big_server.requests)


def test_default_page_size_is_20(big_server: GitLabServer) -> None:
    project = big_server.client().projects.get("big/project", lazy=True)

    assert len(project.issues.list(get_all=True)) == 250
    assert big_server.count("GET", "/issues") == 13


def test_headers_of_a_middle_page(big_server: GitLabServer) -> None:
    response = requests.get(
        f"{big_server.url}/api/v4/projects/big%2Fproject/issues",
        params={"labels": "Stage::Triage", "page": 2, "per_page": 100},
        headers=headers(big_server),
        timeout=5,
    )

    assert len(response.json()) == 100
    assert {
        k: response.headers[k]
        for k in ("X-Page", "X-Per-Page", "X-Next-Page", "X-Prev-Page", "X-Total", "X-Total-Pages")
    } == {
        "X-Page": "2",
        "X-Per-Page": "100",
        "X-Next-Page": "3",
        "X-Prev-Page": "1",
        "X-Total": "250",
        "X-Total-Pages": "3",
    }
    links = {rel: link["url"] for rel, link in response.links.items()}
    assert sorted(links) == ["first", "last", "next", "prev"]
    pages = {rel: parse_qs(urlsplit(url).query) for rel, url in links.items()}
    assert {rel: query["page"] for rel, query in pages.items()} == {
        "prev": ["1"],
        "next": ["3"],
        "first": ["1"],
        "last": ["3"],
    }
    assert all(query["labels"] == ["Stage::Triage"] for query in pages.values())
    assert links["next"].startswith(f"{big_server.url}/api/v4/projects/big%2Fproject/issues?")


def test_last_page_has_empty_next_headers(big_server: GitLabServer) -> None:
    response = requests.get(
        f"{big_server.url}/api/v4/projects/1/issues",
        params={"page": 3, "per_page": 100},
        headers=headers(big_server),
        timeout=5,
    )

    assert len(response.json()) == 50
    assert response.headers["X-Next-Page"] == ""
    assert "next" not in response.links


def test_per_page_above_100_is_clamped(big_server: GitLabServer) -> None:
    project = big_server.client().projects.get("big/project", lazy=True)
    page = project.issues.list(per_page=500, get_all=False)
    raw = requests.get(
        f"{big_server.url}/api/v4/projects/1/issues",
        params={"per_page": 500},
        headers=headers(big_server),
        timeout=5,
    )

    assert len(page) == 100
    assert raw.headers["X-Per-Page"] == "100"
    assert raw.headers["X-Total-Pages"] == "3"


def test_totals_are_left_out_above_the_limit(big_server: GitLabServer) -> None:
    big_server.total_headers_limit = 200  # GitLab's is 10,000; smaller keeps the test quick
    raw = requests.get(
        f"{big_server.url}/api/v4/projects/1/issues",
        params={"per_page": 100},
        headers=headers(big_server),
        timeout=5,
    )
    listed = big_server.client().projects.get(1, lazy=True).issues.list(iterator=True, per_page=100)

    assert "X-Total" not in raw.headers
    assert "X-Total-Pages" not in raw.headers
    assert "last" not in raw.links
    assert listed.total is None
    assert len(list(listed)) == 250


# -- labels and label events ----------------------------------------------------------------------


def test_scoped_swap_writes_remove_and_add_with_one_timestamp(
    gl: gitlab.Gitlab, server: GitLabServer, state: GitLabState
) -> None:
    project = gl.projects.get(PATH, lazy=True)
    project.issues.update(13, {"add_labels": "Stage::Implementation"})
    issue = project.issues.get(13)

    events = issue.resourcelabelevents.list(get_all=True)
    last_edit = [e for e in events if e.created_at == events[-1].created_at]

    assert "Stage::Implementation" in issue.labels
    assert "Stage::Validation" not in issue.labels
    assert [(e.action, e.label["name"]) for e in last_edit] == [
        ("add", "Stage::Implementation"),
        ("remove", "Stage::Validation"),
    ]
    assert {e.created_at for e in last_edit} == {"2027-02-01T10:00:00.000Z"}
    assert {e.user["username"] for e in last_edit} == {"rollout-bot"}
    assert issue.updated_at == "2027-02-01T10:00:00.000Z"


def test_saving_labels_replaces_them_with_events(gl: gitlab.Gitlab) -> None:
    issue = gl.projects.get(PATH, lazy=True).issues.get(15)
    issue.labels = ["RequestType::Bug", "Stage::Triage", "Stage::Planning"]
    issue.save()

    fresh = gl.projects.get(PATH, lazy=True).issues.get(15)
    assert fresh.labels == ["RequestType::Bug", "Stage::Planning"]  # the last of a scope wins
    assert [(e.action, e.label["name"]) for e in fresh.resourcelabelevents.list(get_all=True)] == [
        ("add", "RequestType::Bug"),
        ("add", "Stage::Planning"),
    ]


def test_free_tier_keeps_two_stage_labels(gl: gitlab.Gitlab, state: GitLabState) -> None:
    state.scoped_labels_exclusive = False
    project = gl.projects.get(PATH, lazy=True)
    project.issues.update(13, {"add_labels": "Stage::Implementation"})

    issue = project.issues.get(13)
    assert {"Stage::Validation", "Stage::Implementation"} <= set(issue.labels)
    last = issue.resourcelabelevents.list(get_all=True)[-1]
    assert (last.action, last.label["name"]) == ("add", "Stage::Implementation")


def test_label_events_are_paginated(gl: gitlab.Gitlab, server: GitLabServer) -> None:
    issue = gl.projects.get(PATH, lazy=True).issues.get(13, lazy=True)

    events = issue.resourcelabelevents.list(get_all=True, per_page=5)

    assert len(events) == 14
    assert server.count("GET", "resource_label_events") == 3
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert set(events[0].asdict()) == {
        "id",
        "user",
        "created_at",
        "resource_type",
        "resource_id",
        "label",
        "action",
    }


def test_put_closes_and_reopens(gl: gitlab.Gitlab, state: GitLabState) -> None:
    issue = gl.projects.get(PATH, lazy=True).issues.get(12)
    issue.state_event = "close"
    issue.save()  # save() refreshes the object from the server's answer
    # ProjectIssue.closed_by is a method (merge requests closing it): read the attribute.
    assert (issue.state, issue.closed_at, issue.attributes["closed_by"]["username"]) == (
        "closed",
        "2027-02-01T10:00:00.000Z",
        "rollout-bot",
    )

    state.advance(timedelta(hours=1))
    issue.state_event = "reopen"
    issue.save()
    reopened = gl.projects.get(PATH, lazy=True).issues.get(12)

    assert (reopened.state, reopened.closed_at, reopened.attributes["closed_by"]) == (
        "opened",
        None,
        None,
    )
    assert reopened.updated_at == "2027-02-01T11:00:00.000Z"


def test_put_sets_due_date_and_milestone(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get(PATH, lazy=True)
    march = project.milestones.list(title="CustSuppOps Deployment 2027-03-01", get_all=True)[0]

    project.issues.update(13, {"due_date": "2027-03-01", "milestone_id": march.id})
    set_ = project.issues.get(13)
    project.issues.update(13, {"due_date": None, "milestone_id": 0})
    cleared = project.issues.get(13)

    assert (set_.due_date, set_.milestone["title"]) == ("2027-03-01", march.title)
    assert (cleared.due_date, cleared.milestone) == (None, None)


def test_form_encoded_bodies_work_too(server: GitLabServer) -> None:
    url = f"{server.url}/api/v4/projects/42/issues/15"
    response = requests.put(
        url, data={"add_labels": "Stage::Triage,Priority::2"}, headers=headers(server), timeout=5
    )

    assert response.status_code == 200
    assert response.json()["labels"] == ["Priority::2", "Stage::Triage"]
    assert server.requests[-1].body == {"add_labels": "Stage::Triage,Priority::2"}


# -- links, notes, milestones ---------------------------------------------------------------------


def test_links_are_symmetric(gl: gitlab.Gitlab) -> None:
    project = gl.projects.get(PATH, lazy=True)
    source, target = project.issues.get(12, lazy=True).links.create(
        {"target_project_id": 42, "target_issue_iid": 15, "link_type": "blocks"}
    )

    def links(iid: int) -> list[tuple[int, str]]:
        return [
            (link.iid, link.link_type) for link in project.issues.get(iid, lazy=True).links.list()
        ]

    assert (source.iid, target.iid) == (12, 15)
    assert links(12) == [(14, "relates_to"), (15, "blocks")]
    assert links(15) == [(13, "blocks"), (12, "is_blocked_by")]
    assert links(13) == [(15, "is_blocked_by")]
    first = project.issues.get(13, lazy=True).links.list()[0]
    assert first.link_created_at == "2027-01-04T08:31:00.000Z"
    assert first.issue_link_id >= 1
    assert first.web_url == f"https://gitlab.example.com/{PATH}/-/issues/15"


def test_duplicate_link_is_409(gl: gitlab.Gitlab) -> None:
    links = gl.projects.get(PATH, lazy=True).issues.get(15, lazy=True).links

    with pytest.raises(gitlab.GitlabCreateError) as raised:
        links.create({"target_project_id": PATH, "target_issue_iid": 13})

    assert raised.value.response_code == 409


def test_notes_post_then_get(gl: gitlab.Gitlab, state: GitLabState) -> None:
    issue = gl.projects.get(PATH, lazy=True).issues.get(12)
    assert issue.user_notes_count == 2

    posted = issue.notes.create({"body": "Pre-announcement <!-- rollout:pre:2027-03-01 -->"})
    notes = issue.notes.list(get_all=True)
    oldest_first = issue.notes.list(get_all=True, sort="asc")

    assert (posted.author["username"], posted.created_at, posted.system) == (
        "rollout-bot",
        "2027-02-01T10:00:00.000Z",
        False,
    )
    assert [n.body for n in notes] == [posted.body, "Thanks!", "Ships on the 1st"]
    assert [n.id for n in oldest_first] == [n.id for n in reversed(notes)]
    assert gl.projects.get(PATH, lazy=True).issues.get(12).user_notes_count == 3
    assert state.issue(PATH, 12).updated_at == NOW


def test_note_without_body_is_400(gl: gitlab.Gitlab) -> None:
    notes = gl.projects.get(PATH, lazy=True).issues.get(12, lazy=True).notes

    with pytest.raises(gitlab.GitlabHttpError) as raised:
        gl.http_post(notes.path, post_data={"body": ""})

    assert (raised.value.response_code, raised.value.error_message) == (400, "body is missing")


def test_milestones_create_update_list(gl: gitlab.Gitlab) -> None:
    milestones = gl.projects.get(PATH, lazy=True).milestones
    created = milestones.create(
        {
            "title": "CustSuppOps Deployment 2027-04-01",
            "start_date": "2027-03-01",
            "due_date": "2027-04-01",
        }
    )
    created.description = "April"
    created.save()
    milestones.update(created.id, {"state_event": "close"})
    fetched = milestones.get(created.id)

    assert (created.iid, created.project_id, created.state) == (3, 42, "active")
    assert created.web_url == f"https://gitlab.example.com/{PATH}/-/milestones/3"
    assert (fetched.state, fetched.description, fetched.start_date, fetched.due_date) == (
        "closed",
        "April",
        "2027-03-01",
        "2027-04-01",
    )
    assert [m.title for m in milestones.list(get_all=True, state="active")] == [
        "CustSuppOps Deployment 2027-03-01",
        "CustSuppOps Deployment 2027-02-01",
    ]
    assert [m.iid for m in milestones.list(get_all=True, iids=[1, 3])] == [3, 1]
    assert [m.iid for m in milestones.list(get_all=True, search="2027-03")] == [2]
    assert [m.expired for m in milestones.list(get_all=True, state="active")] == [False, False]
    with pytest.raises(gitlab.GitlabCreateError) as duplicate:
        milestones.create({"title": created.title})
    assert duplicate.value.response_code == 400


def test_expired_milestone(gl: gitlab.Gitlab, state: GitLabState) -> None:
    state.set_clock("2027-02-02T00:00:00Z")
    january = gl.projects.get(PATH, lazy=True).milestones.list(get_all=True, iids=[1])[0]

    assert january.expired is True


# -- snapshot -------------------------------------------------------------------------------------


def test_snapshot_equals_what_the_api_returns(gl: gitlab.Gitlab, state: GitLabState) -> None:
    project = gl.projects.get(PATH)
    over_http = []
    for listed in sorted(project.issues.list(get_all=True), key=lambda i: i.iid):
        issue = project.issues.get(listed.iid)
        over_http.append(
            {
                **issue.asdict(),
                "label_events": [e.asdict() for e in issue.resourcelabelevents.list(get_all=True)],
                "links": [link.asdict() for link in issue.links.list()],
                "notes": [note.asdict() for note in issue.notes.list(get_all=True)],
            }
        )
        assert listed.asdict() == issue.asdict()

    gl.auth()
    assert state.snapshot(PATH) == {"project": project.asdict(), "user": {key: getattr(gl.user, key) for key in ("id", "username", "name")}, "issues": over_http}


# -- faults ---------------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_when_obeying_rate_limits(server: GitLabServer) -> None:
    server.inject("status", code=429, retry_after=0)

    project = server.client().projects.get(PATH)

    assert project.id == 42
    assert [(r.status, r.fault) for r in server.requests] == [(429, "status"), (200, None)]


def test_429_raises_when_not_obeying_rate_limits(server: GitLabServer) -> None:
    server.inject("status", code=429, retry_after=1)
    raw = requests.get(f"{server.url}/api/v4/projects/42", headers=headers(server), timeout=5)
    server.inject("status", code=429, retry_after=1)

    with pytest.raises(gitlab.GitlabGetError) as raised:
        server.client().projects.get(PATH, obey_rate_limit=False)  # per call, not per client

    assert raw.headers["Retry-After"] == "1"
    assert raw.json() == {"message": "429 Too Many Requests"}
    assert raised.value.response_code == 429


def test_503_is_retried_only_with_retry_transient_errors(server: GitLabServer) -> None:
    server.inject("status", code=503)
    with pytest.raises(gitlab.GitlabGetError) as raised:
        server.client().projects.get(PATH)
    server.inject("status", code=503, times=2)

    project = server.client(retry_transient_errors=True).projects.get(PATH)

    assert (raised.value.response_code, raised.value.error_message) == (
        503,
        "503 Service Unavailable",
    )
    assert project.id == 42
    assert [r.status for r in server.requests] == [503, 503, 503, 200]


def test_dropped_connection_raises_connection_error_unless_retrying(
    server: GitLabServer,
) -> None:
    server.inject("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        server.client().projects.get(PATH)
    server.inject("drop")

    project = server.client(retry_transient_errors=True).projects.get(PATH)

    assert project.id == 42
    assert [(r.fault, r.status) for r in server.requests] == [
        ("drop", None),
        ("drop", None),
        (None, 200),
    ]


def test_drop_after_applying_loses_only_the_answer(
    gl: gitlab.Gitlab, server: GitLabServer, state: GitLabState
) -> None:
    server.inject("drop", method="POST", after=True)
    notes = gl.projects.get(PATH, lazy=True).issues.get(15, lazy=True).notes

    with pytest.raises(requests.exceptions.ConnectionError):
        notes.create({"body": "posted, but the client never hears so"})

    assert [n.body for n in state.issue(PATH, 15).notes] == [
        "posted, but the client never hears so"
    ]
    assert (server.requests[-1].fault, server.requests[-1].status) == ("drop", 201)


def test_truncated_body_raises_parsing_error(server: GitLabServer) -> None:
    server.inject("truncate", match=r"/issues/12$")
    server.inject("truncate", match=r"/issues$")
    project = server.client().projects.get(PATH, lazy=True)

    with pytest.raises(gitlab.GitlabParsingError):
        project.issues.get(12)
    with pytest.raises(gitlab.GitlabParsingError):
        project.issues.list(get_all=True)

    raw = requests.get(f"{server.url}/api/v4/projects/42", headers=headers(server), timeout=5)
    assert raw.status_code == 200  # faults used up


def test_truncated_response_is_well_formed_http(server: GitLabServer) -> None:
    server.inject("truncate")
    raw = requests.get(f"{server.url}/api/v4/projects/42", headers=headers(server), timeout=5)

    assert raw.status_code == 200
    assert int(raw.headers["Content-Length"]) == len(raw.content)
    with pytest.raises(ValueError):
        raw.json()


def test_slow_answer_times_out_a_client_with_a_short_timeout(server: GitLabServer) -> None:
    server.inject("slow", seconds=0.5)

    with pytest.raises(requests.exceptions.Timeout):
        server.client(timeout=0.1).projects.get(PATH)
    server.inject("slow", seconds=0.2)
    assert server.client(timeout=5).projects.get(PATH).id == 42


def test_faults_match_method_and_path_and_are_consumed_in_order(
    gl: gitlab.Gitlab, server: GitLabServer
) -> None:
    server.inject("status", code=502, method="PUT")
    server.inject("status", code=500, match=r"/notes")
    server.inject("status", code=504)
    project = gl.projects.get(PATH, lazy=True)

    with pytest.raises(gitlab.GitlabGetError) as first:
        project.issues.get(12)  # neither PUT nor /notes: the third fault
    issue = project.issues.get(12)
    with pytest.raises(gitlab.GitlabListError) as second:
        issue.notes.list(get_all=True)
    with pytest.raises(gitlab.GitlabUpdateError) as third:
        project.issues.update(12, {"title": "New"})

    assert [e.value.response_code for e in (first, second, third)] == [504, 500, 502]
    assert project.issues.update(12, {"title": "New"})["title"] == "New"
    assert server.count(path_contains="/notes") == 1


def test_inject_refuses_unknown_kinds(server: GitLabServer) -> None:
    with pytest.raises(ValueError, match="fault kind"):
        server.inject("explode")


# -- concurrency and the request log --------------------------------------------------------------


def test_concurrent_note_posts_are_all_kept(server: GitLabServer, state: GitLabState) -> None:
    def post(n: int) -> None:
        client = server.client()
        client.projects.get(42, lazy=True).issues.get(15, lazy=True).notes.create(
            {"body": f"note {n}"}
        )

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    notes = state.issue(PATH, 15).notes
    assert sorted(note.body for note in notes) == sorted(f"note {n}" for n in range(20))
    assert len({note.id for note in notes}) == 20
    assert server.count("POST", "/notes") == 20


def test_count_and_reset(gl: gitlab.Gitlab, server: GitLabServer) -> None:
    project = gl.projects.get(PATH)
    project.issues.get(12)
    project.issues.list(get_all=True)

    assert server.count() == 3
    assert server.count("GET", "/issues") == 2
    assert server.count("POST") == 0
    server.reset_requests()
    assert server.requests == []


# -- stories --------------------------------------------------------------------------------------


def events_of(state: GitLabState, iid: int) -> list[tuple[str, str, str, str]]:
    return [
        (e["created_at"], e["action"], e["label"]["name"], e["user"]["username"])
        for e in state.label_events_json(PATH, iid)
    ]


def test_story_label_events_and_labels(state: GitLabState) -> None:
    assert events_of(state, 13) == [
        ("2027-01-04T08:30:00.000Z", "add", "RequestType::Bug", "carol"),
        ("2027-01-04T08:30:00.000Z", "add", "Criticality::C3", "carol"),
        ("2027-01-04T09:30:00.000Z", "add", "Stage::Triage", "ops"),
        ("2027-01-06T09:00:00.000Z", "add", "Stage::Development", "ops"),
        ("2027-01-06T09:00:00.000Z", "remove", "Stage::Triage", "ops"),
        ("2027-01-09T09:00:00.000Z", "add", "Stage::Validation", "ops"),
        ("2027-01-09T09:00:00.000Z", "remove", "Stage::Development", "ops"),
        ("2027-01-10T09:00:00.000Z", "add", "Validation::Rejected", "carol"),
        ("2027-01-11T09:00:00.000Z", "add", "Stage::Development", "ops"),
        ("2027-01-11T09:00:00.000Z", "remove", "Stage::Validation", "ops"),
        ("2027-01-14T09:00:00.000Z", "add", "Stage::Validation", "ops"),
        ("2027-01-14T09:00:00.000Z", "remove", "Stage::Development", "ops"),
        ("2027-01-15T09:00:00.000Z", "add", "Validation::Received", "carol"),
        ("2027-01-15T09:00:00.000Z", "remove", "Validation::Rejected", "carol"),
    ]
    assert state.issue(PATH, 13).labels == [
        "RequestType::Bug",
        "Criticality::C3",
        "Stage::Validation",
        "Validation::Received",
    ]
    assert events_of(state, 14)[-3:] == [
        ("2027-01-08T09:00:00.000Z", "add", "Stage::Implementation", "bob"),
        ("2027-01-08T09:00:00.000Z", "add", "Validation::Skipped", "bob"),
        ("2027-01-08T09:00:00.000Z", "remove", "Stage::Development", "bob"),
    ]


def test_story_issue_fields(state: GitLabState) -> None:
    feature = state.issue_json(PATH, 12)
    upstream = state.issue_json(PATH, 15)

    assert feature["created_at"] == "2027-01-03T08:00:00.000Z"  # an hour before the first event
    assert feature["author"] == state.user_json("alice")
    assert feature["author"]["name"] == "Alice Requester"
    assert [a["username"] for a in feature["assignees"]] == ["bob"]
    assert feature["milestone"]["title"] == "CustSuppOps Deployment 2027-02-01"
    assert "Customer::Support-EMEA" in feature["labels"]
    assert feature["updated_at"] == "2027-01-21T12:00:00.000Z"  # the last note
    assert (upstream["created_at"], upstream["labels"]) == ("2027-01-02T08:00:00.000Z", [])
    # ids grow with creation time, as in GitLab, whatever the story's order
    assert upstream["id"] < feature["id"]


def test_story_free_tier_keeps_both_stages_until_removed() -> None:
    state = load_story(
        dedent("""
        tier free
        project a/b
        bug 1 "Two stages" by alice, customers EMEA AMER:
          2027-01-04 triage
          2027-01-05 development
          2027-01-06 validation remove Stage::Triage remove Stage::Development
    """)
    )

    assert state.issue("a/b", 1).labels == [
        "RequestType::Bug",
        "Customer::EMEA",
        "Customer::AMER",
        "Stage::Validation",
    ]
    assert [(e.action, e.label) for e in state.issue("a/b", 1).label_events][-3:] == [
        ("add", "Stage::Validation"),
        ("remove", "Stage::Triage"),
        ("remove", "Stage::Development"),
    ]


def test_story_one_line_several_actions_is_one_edit() -> None:
    state = load_story(
        "project a/b\n"
        'feature 1 "x" by alice: 2027-01-04 10:15 development add Priority::1 note "go" by bob\n'
        "  2027-01-05 close\n"
        "events 1: 2027-01-06 reopen by alice\n"
    )
    issue = state.issue("a/b", 1)

    assert {e.created_at for e in issue.label_events[1:]} == {
        datetime(2027, 1, 4, 10, 15, tzinfo=UTC)
    }
    assert [n.body for n in issue.notes] == ["go"]
    assert (issue.state, issue.closed_at, issue.updated_at) == (
        "opened",
        None,
        datetime(2027, 1, 6, 9, 0, tzinfo=UTC),
    )


def test_story_label_prefixes_are_configurable() -> None:
    story = 'prefix stage "Workflow::"\nproject a/b\nbug 1 "x", C1: 2027-01-04 triage\n'
    labels = LabelNames(criticality="Crit::")

    state = load_story(story, labels=labels)

    assert state.issue("a/b", 1).labels == ["RequestType::Bug", "Crit::C1", "Workflow::Triage"]


@pytest.mark.parametrize(
    ("story", "line", "problem"),
    [
        ('feature 1 "x"', 1, "no project yet"),
        ('project a/b\nfeature 1 "x", C7: 2027-01-01 triage', 2, "unknown issue option 'C7'"),
        ('project a/b\nbug 1 "x": 2027-01-01 dance', 2, "unknown event word 'dance'"),
        ("project a/b\n  2027-01-01 triage", 2, "indented line must follow an issue"),
        ('project a/b\nbug 1 "x": 2027-01-01 triage\nlink 1 blocks 2', 3, "issue 2 is not in"),
        ('project a/b\nbug 1 "x", milestone "nope": 2027-01-01 triage', 2, "Milestone 'nope'"),
        ('project a/b\nbug 1 "x"', 2, "needs a 'created DATE'"),
        ('project a/b\nbug 1 "x: 2027-01-01', 2, "unbalanced quote"),
        (
            'project a/b\nbug 1 "x", customers A B: 2027-01-01 triage',
            2,
            "share the scope Customer::",
        ),
        ('project a/b\nbug 1 "x": 2027-13-01 triage', 2, "expected a date"),
        ('project a/b\nbug 1 "x": 2027-01-01 triage\nclose 1', 3, "close needs a date"),
        ("frobnicate", 1, "unknown statement 'frobnicate'"),
    ],
)
def test_story_errors_name_the_line(story: str, line: int, problem: str) -> None:
    with pytest.raises(StoryError) as raised:
        load_story(story)

    assert raised.value.line_no == line
    assert problem in str(raised.value)


def test_latency_delays_every_answer_and_concurrent_requests_wait_together(
    state: GitLabState,
) -> None:
    with GitLabServer(state, latency=0.2) as slow:
        url = f"{slow.url}/api/v4/user"
        headers = {"PRIVATE-TOKEN": slow.token}
        started = time.perf_counter()
        requests.get(url, headers=headers, timeout=5)
        one = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda _: requests.get(url, headers=headers, timeout=5), range(4)))
        four = time.perf_counter() - started
    assert one >= 0.2
    assert all(answer.status_code == 200 for answer in answers)
    assert four < 4 * 0.2  # not one after another
