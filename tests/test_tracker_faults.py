"""GitLab misbehaving, through the CLI against the test server (PRODUCT.md §7): rate limits
with either form of Retry-After, pagination that never ends, answers that are not what
they should be, lost answers to writes, and credentials that must never be shown."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from gitlab_server import GitLabServer
from scenarios import load_story
from test_trackers import PROJECT, Rollout, error_line, support_ops

from rollout.retry_after import retry_after_seconds
from rollout.trackers.gitlab import MAX_PAGES, MAX_WAIT

PAST = "Wed, 21 Oct 2015 07:28:00 GMT"
FAR_FUTURE = "Fri, 31 Dec 9999 23:59:59 GMT"


@pytest.fixture
def server() -> Iterator[GitLabServer]:
    with GitLabServer(support_ops()) as running:
        yield running


@pytest.fixture
def rollout(workdir: Path, server: GitLabServer) -> Rollout:
    return Rollout(workdir, server)


def requests_to(server: GitLabServer, method: str, suffix: str) -> list[int | None]:
    return [r.status for r in server.requests if r.method == method and r.path.endswith(suffix)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ------------------------------------------------------------------ Retry-After (item 5)


def test_retry_after_as_an_http_date_is_waited_for(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("status", code=429, retry_after=PAST, match=r"/issues$")
    result = rollout("check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    assert requests_to(server, "GET", "/issues") == [429, 200]


def test_retry_after_in_seconds_is_waited_for(rollout: Rollout, server: GitLabServer) -> None:
    server.inject("status", code=429, retry_after=1, match=r"/issues$")
    result = rollout("check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    first, second = [r.received for r in server.requests if r.path.endswith("/issues")]
    assert second - first >= 1.0


@pytest.mark.parametrize(
    "value", ["soon", "-5", "Thu, 99 Foo 2027 99:99:99 GMT", "", "\u00b2", "\u00b9\u00b2"]
)
def test_a_retry_after_that_does_not_parse_backs_off(
    rollout: Rollout, server: GitLabServer, value: str
) -> None:
    server.inject("status", code=503, retry_after=value, match=r"/issues$")
    result = rollout("check", "101", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    assert requests_to(server, "GET", "/issues") == [503, 200]


def test_a_wait_longer_than_rollout_waits_is_reported_at_once(
    rollout: Rollout, server: GitLabServer
) -> None:
    server.inject("status", code=429, retry_after=FAR_FUTURE, match=r"/issues$")
    line = error_line(rollout("check", "101"))
    assert line.startswith(
        f"Error: GitLab answered 429 while reading issue #101 of {PROJECT} and asks to wait "
    )
    assert line.endswith(f"longer than rollout waits ({MAX_WAIT:.0f} s); try again later")
    assert requests_to(server, "GET", "/issues") == [429]


def test_http_date_rate_limits_stop_after_the_configured_retries(
    rollout: Rollout, server: GitLabServer
) -> None:
    server.inject("status", code=429, retry_after=PAST, times=10, match=r"/issues$")
    line = error_line(rollout("check", "101"))
    assert line == (
        f"Error: GitLab kept rate limiting (429) while reading issue #101 of {PROJECT}, even after "
        "retries; try again later"
    )
    assert requests_to(server, "GET", "/issues") == [429, 429, 429]  # retries = 2


def test_retry_after_seconds_reads_both_forms() -> None:
    now = datetime(2027, 1, 20, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(" 7 ", now) == 7
    assert retry_after_seconds("Wed, 20 Jan 2027 10:00:30 GMT", now) == 30
    assert (
        retry_after_seconds("Wednesday, 20-Jan-27 10:01:00 GMT", now) == 60
    )  # RFC 850, obsolete but allowed
    assert retry_after_seconds(PAST, now) == 0
    assert retry_after_seconds(FAR_FUTURE, now) > 10**11 - 10**10
    assert retry_after_seconds("9" * 5000, now) == 10**11
    for unreadable in (None, "", "soon", "-5", "1.5", "Thu, 99 Foo 2027 99:99:99 GMT", "\u00b2"):
        assert retry_after_seconds(unreadable, now) is None


# ------------------------------------------------------------------ a 429 on a write (item 6)

NOTE_STORY = """\
project ops/tracker id 7
now 2027-01-05 10:00
feature 42 "Add a refund macro" by alice, C2, customer Support-EMEA:
  2027-01-04 development
"""


class Announcing:
    def __init__(self, directory: Path, server: GitLabServer) -> None:
        self.run = Rollout(directory, server)
        (directory / "rollout.toml").write_text(
            '[tracker]\nkind = "gitlab"\nproject = "ops/tracker"\nretries = 2\n', encoding="utf-8"
        )
        self.server = server

    def __call__(self) -> Result:
        return self.run("announce", "42", "--as-of", "2027-01-05", "--post")

    def notes(self) -> list[str]:
        return [note["body"] for note in self.server.state.notes_json(7, 42)]


@pytest.fixture
def announcing(workdir: Path) -> Iterator[Announcing]:
    with GitLabServer(load_story(NOTE_STORY)) as running:
        yield Announcing(workdir, running)


def test_a_rate_limited_post_waits_for_retry_after_and_posts_once(announcing: Announcing) -> None:
    server = announcing.server
    server.inject("status", code=429, retry_after=1, method="POST", match=r"/notes$")
    result = announcing()
    assert result.exit_code == 0, result.stderr
    assert len(announcing.notes()) == 1
    writes = [r for r in server.requests if r.method == "POST"]
    assert [r.status for r in writes] == [429, 201]
    assert writes[1].received - writes[0].received >= 1.0  # waited as GitLab asked
    between = [r for r in server.requests if writes[0].received < r.received < writes[1].received]
    assert [r.method for r in between] == ["GET"]  # and read the notes again before posting
    assert between[0].path.endswith("/issues/42/notes")


def test_a_rate_limited_post_given_an_http_date_is_retried(announcing: Announcing) -> None:
    announcing.server.inject("status", code=429, retry_after=PAST, method="POST", match=r"/notes$")
    result = announcing()
    assert result.exit_code == 0, result.stderr
    assert requests_to(announcing.server, "POST", "/notes") == [429, 201]
    assert len(announcing.notes()) == 1


def test_a_post_rate_limited_for_too_long_is_not_retried(announcing: Announcing) -> None:
    announcing.server.inject(
        "status", code=429, retry_after=FAR_FUTURE, method="POST", match=r"/notes$"
    )
    line = error_line_after_output(announcing())
    assert "asks to wait" in line and "try again later" in line
    assert requests_to(announcing.server, "POST", "/notes") == [429]
    assert announcing.notes() == []


def test_rate_limited_posts_stop_after_the_retries(announcing: Announcing) -> None:
    announcing.server.inject(
        "status", code=429, retry_after=0, times=10, method="POST", match=r"/notes$"
    )
    line = error_line_after_output(announcing())
    assert line == (
        "Error: GitLab kept rate limiting (429) while posting a note on issue #42 of ops/tracker, "
        "even after retries; try again later"
    )
    assert requests_to(announcing.server, "POST", "/notes") == [429, 429, 429]
    assert announcing.notes() == []


@pytest.mark.parametrize(
    "user", ['{"id": 1}', '{"id": 1, "username": ""}', '{"id": 1, "username": 7}']
)
def test_a_token_user_without_a_username_stops_before_posting(
    announcing: Announcing, user: str
) -> None:
    """Nobody's markers would count: the announcement already there would go out again."""
    assert announcing().exit_code == 0
    announcing.server.inject(
        "body", code=200, body=user, content_type="application/json", match=r"/user$"
    )
    result = announcing()
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: GitLab at {announcing.server.url} gave no username while reading the token's "
        "user; check that GITLAB_URL is your GitLab's address\n"
    )
    assert len(announcing.notes()) == 1


def test_a_post_slower_than_the_timeout_is_looked_for_once_it_can_have_landed(
    announcing: Announcing,
) -> None:
    """GitLab makes the note after rollout gave up waiting: rollout waits as long again
    before it reads the notes, finds it there, and posts nothing more."""
    config = announcing.run.directory / "rollout.toml"
    config.write_text(config.read_text(encoding="utf-8") + "timeout = 1\n", encoding="utf-8")
    announcing.server.inject("slow", seconds=1.6, method="POST", match=r"/notes$")
    result = announcing()
    assert result.exit_code == 0, result.stderr
    assert len(announcing.notes()) == 1
    notes = [r.method for r in announcing.server.requests if r.path.endswith("/notes")]
    assert (notes.count("POST"), notes[-1]) == (1, "GET"), notes


def error_line_after_output(result: Result) -> str:
    """The one error line of a command that printed its draft before it failed to post."""
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr.rstrip("\n")


# ------------------------------------------------------------------ pagination (item 7)


def test_a_next_link_back_to_the_first_page_is_stopped(
    rollout: Rollout, server: GitLabServer
) -> None:
    server.inject("pagination", mode="loop", totals=False, times=10_000, match=r"/issues$")
    line = error_line(rollout("status", "--as-of", "2027-01-20"))
    assert line.startswith(
        f"Error: GitLab's pagination led back to a page already read while listing the issues of {PROJECT}"
    )
    assert len(requests_to(server, "GET", "/issues")) <= 3


def test_a_next_link_past_the_announced_pages_is_stopped(
    rollout: Rollout, server: GitLabServer
) -> None:
    server.inject("pagination", mode="endless", times=10_000, match=r"/notes$")
    line = error_line(rollout("check", "101"))
    assert line == (
        f"Error: GitLab's pagination did not end while reading the history of issue #101 of {PROJECT}: "
        "stopped after 1 pages, as many as it announced. Try again later, or ask the GitLab "
        "administrators to check the API's pagination"
    )
    assert len(requests_to(server, "GET", "/notes")) == 1


def test_a_list_that_never_ends_and_announces_nothing_stops_at_the_cap(
    rollout: Rollout, server: GitLabServer
) -> None:
    server.inject("pagination", mode="endless", totals=False, times=10_000, match=r"/notes$")
    line = error_line(rollout("check", "101"))
    assert f"stopped after {MAX_PAGES} pages, as many as rollout reads at most" in line
    assert len(requests_to(server, "GET", "/notes")) == MAX_PAGES


# ------------------------------------------------------------------ a lost milestone answer (item 8)


def test_a_lost_answer_to_a_milestone_post_is_not_made_twice(
    rollout: Rollout, server: GitLabServer
) -> None:
    server.inject("drop", method="POST", match=r"/milestones$", after=True)
    server.inject("status", code=502, method="POST", match=r"/milestones$")
    server.inject("status", code=429, retry_after=0, method="POST", match=r"/milestones$")
    result = rollout("milestones", "--year", "2027", "--apply")
    assert result.exit_code == 0, result.stderr
    titles = [m.title for m in server.state.project(PROJECT).milestones.values()]
    assert len(titles) == len(set(titles))  # each once
    expected = [f"CustSuppOps Deployment 2027-{month:02d}-01" for month in range(1, 13)]
    assert set(expected) <= set(titles)
    # 9 to make, and two retries of the second (after its 502 and its 429): the first, whose
    # answer was lost, is found when the milestones are read again.
    assert requests_to(server, "POST", "/milestones") == [201, 502, 429, 201] + [201] * 7
    again = rollout("milestones", "--year", "2027")
    assert again.stdout.endswith("Nothing to change.\n"), again.stdout


# ------------------------------------------------------------------ answers that make no sense (item 11)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "body"}, "answered with text/html, not JSON, while reading issue #101"),
        (
            {"kind": "body", "content_type": "application/json", "body": "[{"},
            "sent an answer that is not valid JSON",
        ),
        (
            {
                "kind": "body",
                "content_type": "application/json",
                "body": "[" * 100_000 + "]" * 100_000,
            },
            "not valid JSON",
        ),
        (
            {"kind": "body", "content_type": "application/json", "body": b"\xff\xfe\x00["},
            "not valid JSON",
        ),
        (
            {"kind": "body", "content_type": "application/json", "body": '{"iid": 101}'},
            "expected a list of objects",
        ),
        (
            {"kind": "body", "content_type": "application/json", "body": "[1, 2]"},
            "expected a list of objects",
        ),
        (
            {"kind": "body", "content_type": "application/json", "body": '[{"iid": 101}]'},
            "issue #101: id: missing (expected a whole number)",
        ),
        ({"kind": "body", "code": 204, "body": ""}, "answered with text/html, not JSON"),
        (
            {"kind": "body", "code": 200, "content_type": "", "body": "[]"},
            "answered with no content type",
        ),
        ({"kind": "truncate"}, "not valid JSON"),
    ],
)
def test_an_answer_that_is_not_what_gitlab_sends_is_one_error_line(
    rollout: Rollout, server: GitLabServer, fault: dict, expected: str
) -> None:
    server.inject(**fault, match=r"/issues$")
    line = error_line(rollout("check", "101"))
    assert expected in line


def test_a_mistyped_field_names_the_issue_and_the_field(
    rollout: Rollout, server: GitLabServer
) -> None:
    issue = server.state.issue_json(PROJECT, 101)
    issue["closed_at"] = "yesterday"
    server.inject("status", code=200, body=[issue], match=r"/issues$")
    line = error_line(rollout("check", "101"))
    assert line == (
        f"Error: GitLab at {server.url} sent unexpected data while reading issue #101 of {PROJECT}: "
        'issue #101: closed_at: expected a timestamp with a zone, like 2027-01-05T09:00:00.000Z, not "yesterday"'
    )


@pytest.mark.parametrize(
    "code", [301, 400, 401, 403, 404, 405, 409, 418, 422, 500, 502, 503, 504, 599]
)
def test_any_status_is_one_error_line(rollout: Rollout, server: GitLabServer, code: int) -> None:
    server.inject("status", code=code, times=10, match=r"/notes$")
    error_line(rollout("check", "101"))


@pytest.mark.parametrize(
    "command",
    [("status",), ("notes", "2027-02-01"), ("announce", "101"), ("milestones", "--year", "2027")],
)
def test_a_broken_list_fails_every_command_with_one_line(
    rollout: Rollout, server: GitLabServer, command: tuple[str, ...]
) -> None:
    server.inject(
        "body",
        content_type="application/json",
        body='[{"iid": "x"}]',
        times=100,
        match=r"/(issues|milestones)$",
    )
    error_line(
        rollout(*command, *(() if command[0] == "milestones" else ("--as-of", "2027-01-20")))
    )


# ------------------------------------------------------------------ credentials (item 3)


@pytest.mark.parametrize(
    "url",
    [
        "http://oauth2:glpat-SECRET-in-url@127.0.0.1:{port}",
        "http://127.0.0.1:{port}/?private_token=glpat-SECRET-in-url",
        "http://127.0.0.1:{port}?access_token=glpat-SECRET-in-url&job_token=glpat-SECRET-in-url",
        "http://u:glpat-SECRET-in-url@127.0.0.1:{port}/gitlab/?token=glpat-SECRET-in-url#x",
    ],
)
def test_credentials_in_gitlab_url_are_never_shown(rollout: Rollout, url: str) -> None:
    port = closed_port()
    result = rollout("--verbose", "check", "101", env={"GITLAB_URL": url.format(port=port)})
    assert result.exit_code == 2
    assert "SECRET" not in result.stdout + result.stderr
    assert f"cannot reach GitLab at http://127.0.0.1:{port}" in result.stderr


def test_credentials_in_gitlab_url_are_neither_sent_nor_printed(
    rollout: Rollout, server: GitLabServer
) -> None:
    host = server.url.removeprefix("http://")
    url = f"http://oauth2:glpat-SECRET-in-url@{host}/?private_token=glpat-SECRET-in-url"
    result = rollout("--verbose", "check", "101", "--as-of", "2027-01-20", env={"GITLAB_URL": url})
    assert result.exit_code == 0, result.stderr
    assert "SECRET" not in result.stdout + result.stderr
    assert {r.auth for r in server.requests} == {"PRIVATE-TOKEN"}  # no Basic auth from the URL
    assert all("private_token" not in r.query for r in server.requests)


def test_a_token_quoted_back_by_gitlab_is_not_shown(rollout: Rollout, server: GitLabServer) -> None:
    server.inject(
        "status",
        code=400,
        body={"message": f"token {server.token} is not allowed here"},
        match=r"/issues$",
    )
    line = error_line(rollout("check", "101"))
    assert server.token not in line
    assert "token *** is not allowed here" in line


def test_a_redirect_to_another_host_never_gets_the_token(
    rollout: Rollout, server: GitLabServer
) -> None:
    with GitLabServer(support_ops()) as elsewhere:
        server.inject(
            "status",
            code=302,
            headers={"Location": f"{elsewhere.url}/api/v4/user"},
            match=r"/user$",
        )
        line = error_line(rollout("check", "101"))
        assert elsewhere.requests == []
        address = elsewhere.url
    assert line == (
        f"Error: GitLab at {server.url} sent rollout to another address ({address}) while reading "
        "the token's user; rollout sends the token only to GITLAB_URL: set it to GitLab's own address"
    )


def test_a_next_link_to_another_host_is_followed_on_gitlabs_own(
    rollout: Rollout, server: GitLabServer
) -> None:
    with GitLabServer(support_ops()) as elsewhere:
        path = f"/api/v4/projects/{PROJECT.replace('/', '%2F')}/issues/101/notes"
        link = f'<{elsewhere.url}{path}?page=2&per_page=100>; rel="next"'
        server.inject("status", code=200, body=[], headers={"Link": link}, match=r"/101/notes$")
        result = rollout("check", "101", "--as-of", "2027-01-20")
        assert elsewhere.requests == []
    assert result.exit_code == 0, result.stderr
    followed = [r for r in server.requests if r.path.endswith("/issues/101/notes")]
    assert [r.query.get("page") for r in followed] == [None, ["2"]]


@pytest.mark.parametrize(
    "setting",
    [
        'retries = "glpat-SECRET-in-config"',
        'timeout = "glpat-SECRET-in-config"',
        'concurrency = ["glpat-SECRET-in-config"]',
        'kind = "glpat-SECRET-in-config"',
        'url = "https://oauth2:glpat-SECRET-in-config@gitlab.example.com"\nretries = -1',
        "retries = 123456789",
    ],
)
def test_tracker_values_are_not_echoed_in_config_errors(
    rollout: Rollout, workdir: Path, setting: str
) -> None:
    (workdir / "rollout.toml").write_text(
        f'[tracker]\nproject = "{PROJECT}"\n{setting}\n', encoding="utf-8"
    )
    line = error_line(rollout("schedule"))
    assert line.startswith("Error: rollout.toml: tracker.")
    assert "SECRET" not in line
    assert "123456789" not in line


def test_the_token_is_not_in_any_output_or_file(
    rollout: Rollout, server: GitLabServer, workdir: Path
) -> None:
    runs = [
        rollout("--verbose", "snapshot", "--out", str(workdir / "s.json"), "--state", "all"),
        rollout("--verbose", "status", "--as-of", "2027-01-20", "--json"),
        rollout("--verbose", "calendar", "--from", "2027-01-01", "--out", str(workdir / "cal")),
        rollout("--verbose", "milestones", "--year", "2027", "--json"),
    ]
    assert [r.exit_code for r in runs] == [0, 0, 0, 0], [r.stderr for r in runs]
    texts = [(r.stdout + r.stderr).encode() for r in runs]
    # Every file, the history cache's SQLite file too.
    texts += [path.read_bytes() for path in workdir.rglob("*") if path.is_file()]
    assert any(path.suffix == ".sqlite" for path in workdir.rglob("*"))
    assert not [text for text in texts if server.token.encode() in text]
    assert (
        json.loads((workdir / "s.json").read_text(encoding="utf-8"))["user"]["username"]
        == "rollout-bot"
    )


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",
        "http://[::1",
        "http://gitlab.example.com:99999",
        "ftp://gitlab.example.com",
        "http://",
        "https://exa mple.com",
    ],
)
def test_a_gitlab_url_that_is_not_a_web_address_is_one_error_line(
    rollout: Rollout, url: str
) -> None:
    line = error_line(rollout("check", "101", env={"GITLAB_URL": url}))
    assert line == (
        "Error: GITLAB_URL is not a web address: write it as https://gitlab.example.com "
        "(the scheme and the host of your GitLab)"
    )


def test_a_snapshot_keeps_no_credential_gitlab_showed(
    rollout: Rollout, server: GitLabServer, workdir: Path
) -> None:
    project = server.state.project_json(PROJECT)
    project["runners_token"] = "GR1348941-SECRET-runner"
    project["import_url"] = "https://importer:SECRET-import@github.com/group/repo.git"
    project["ci_job_token_scope_enabled"] = False
    server.inject("status", code=200, body=project, match=r"/projects/[^/]+$")
    result = rollout("snapshot", "--out", str(workdir / "s.json"), "--state", "all")
    assert result.exit_code == 0, result.stderr
    saved = json.loads((workdir / "s.json").read_text(encoding="utf-8"))["project"]
    assert "SECRET" not in json.dumps(saved)
    assert "runners_token" not in saved and "ci_job_token_scope_enabled" not in saved
    assert saved["import_url"] == "https://***@github.com/group/repo.git"
    assert saved["path_with_namespace"] == PROJECT
