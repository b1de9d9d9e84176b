"""Connecting to GitLab: a URL that is not one, the CI job token GitLab will not take, and
the proxy the environment names."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from gitlab_server import GitLabServer
from scenarios import load_story

from rollout.cli import cli

PROJECT = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"
STORY = Path(__file__).parent / "stories" / "support_ops.story"


def check(workdir: Path, env: dict[str, str | None], url: str = "") -> tuple[int, str, str]:
    config = f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\n' + (
        f'url = "{url}"\n' if url else ""
    )
    (workdir / "rollout.toml").write_text(config, encoding="utf-8")
    result = CliRunner(env=env).invoke(cli, ["check", "101", "--as-of", "2027-01-20"])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("env", "url", "source"),
    [
        ({"GITLAB_URL": "not-a-url"}, "", "GITLAB_URL"),
        ({"GITLAB_URL": "gitlab.example.com"}, "", "GITLAB_URL"),
        ({"GITLAB_URL": "ftp://gitlab.example.com"}, "", "GITLAB_URL"),
        ({"GITLAB_URL": "https://"}, "", "GITLAB_URL"),
        ({}, "gitlab.example.com/ops", "[tracker] url"),
        ({"CI_SERVER_URL": "oauth2:glpat-secret@gitlab.example.com"}, "", "CI_SERVER_URL"),
    ],
)
def test_a_url_that_is_not_one_says_what_to_write(
    workdir: Path, env: dict[str, str | None], url: str, source: str
) -> None:
    code, stdout, stderr = check(workdir, {"GITLAB_TOKEN": "glpat-secret", **env}, url)
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"Error: {source} is not a web address: write it as https://gitlab.example.com "
        "(the scheme and the host of your GitLab)\n"
    )


def test_gitlab_refusing_a_ci_job_token_says_what_to_use_instead(workdir: Path) -> None:
    # A GitLab that takes no job token on these endpoints, as GitLab does for issues.
    with GitLabServer(load_story(STORY.read_text(encoding="utf-8"))) as server:
        env = {
            "GITLAB_TOKEN": None,
            "GITLAB_URL": None,
            "CI_SERVER_URL": server.url,
            "CI_JOB_TOKEN": "job-xyz",
        }
        code, stdout, stderr = check(workdir, env)
    assert (code, stdout) == (2, "")
    assert stderr.startswith("Error: GitLab refused the CI job token (401")
    assert stderr.endswith(
        "a job token cannot use the issues, notes or milestones API; "
        "set GITLAB_TOKEN to an access token with the api scope\n"
    )
    assert "job-xyz" not in stderr


def test_a_token_with_a_line_break_around_it_is_used_without_it(workdir: Path) -> None:
    """A token read from a file or a CI variable often ends in a line break."""
    with GitLabServer(
        load_story(STORY.read_text(encoding="utf-8")), token="glpat-secret"
    ) as server:
        env = {"GITLAB_URL": server.url, "GITLAB_TOKEN": "glpat-secret\n", "CI_JOB_TOKEN": None}
        code, stdout, stderr = check(workdir, env)
    assert code in (0, 1), stderr
    assert stdout.startswith("#101 ")


@pytest.mark.parametrize("variable", ["GITLAB_TOKEN", "CI_JOB_TOKEN"])
@pytest.mark.parametrize("token", ["glpat-secret\r\nX-Evil: 1", "glpat secret", "glpat-\x1bsecret"])
def test_a_token_with_a_control_character_inside_is_refused_unseen(
    workdir: Path, variable: str, token: str
) -> None:
    with GitLabServer(load_story(STORY.read_text(encoding="utf-8"))) as server:
        env = {
            "GITLAB_URL": server.url,
            "GITLAB_TOKEN": None,
            "CI_JOB_TOKEN": None,
            variable: token,
        }
        code, stdout, stderr = check(workdir, env)
        assert server.requests == []
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"Error: {variable} has white space or control characters inside it; "
        "set it to the token alone\n"
    )


@contextmanager
def forwarding_proxy() -> Iterator[tuple[str, list[str]]]:
    """An HTTP proxy on 127.0.0.1 that forwards GET requests and records their URLs."""
    seen: list[str] = []

    class Forward(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            target = urlsplit(self.path)
            upstream = http.client.HTTPConnection(target.netloc, timeout=10)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
            upstream.request("GET", f"{target.path}?{target.query}", headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}", seen
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize("bypassed", [False, True])
def test_every_request_goes_through_the_environments_proxy_unless_no_proxy_names_gitlab(
    workdir: Path, bypassed: bool
) -> None:
    with (
        GitLabServer(load_story(STORY.read_text(encoding="utf-8"))) as server,
        forwarding_proxy() as (
            proxy,
            seen,
        ),
    ):
        env = {
            "GITLAB_URL": server.url,
            "GITLAB_TOKEN": server.token,
            "HTTP_PROXY": proxy,
            "NO_PROXY": "127.0.0.1" if bypassed else "",
        }
        code, stdout, _ = check(workdir, env)
        made = len(server.requests)
    assert code in (0, 1) and stdout
    assert made > 3  # the list, the history, the token's user
    assert len(seen) == (0 if bypassed else made)
