"""Connecting to GitLab: a URL that is not one, and the CI job token GitLab will not take."""

from __future__ import annotations

from pathlib import Path

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
