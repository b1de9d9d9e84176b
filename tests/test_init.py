"""rollout init: a starter rollout.toml that loads, works without a token, and never
overwrites; and the committed example rollout.toml, rendered from the same template.

Regenerate the committed rollout.toml after changing the template: python tests/test_init.py
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import time_machine
from conftest import RunCli

from rollout.config import load_config
from rollout.starter import render_config

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "rollout.toml"
AUDIENCES = {
    "Support-EMEA": "Support Engineers in EMEA",
    "Support-AMER": "Support Engineers in AMER",
    "Support-APAC": "Support Engineers in APAC",
    "Support-Global": "all of Support",
    "Support-Managers": "Support Managers",
    "Support-Readiness": "Support Readiness",
}


def example() -> str:
    return render_config(
        "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker",
        "https://gitlab.com",
        snapshot=Path("examples/snapshot.json"),
        audiences=AUDIENCES,
        example=True,
    )


def test_the_committed_example_is_the_template_with_the_examples_values() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == example(), (
        "rollout.toml is not the template's: python tests/test_init.py"
    )


@time_machine.travel(datetime(2027, 1, 20, 12, tzinfo=UTC))
def test_the_starter_loads_and_the_calendar_works_without_a_token(
    run: RunCli, workdir: Path
) -> None:
    result = run(
        "init", "--project", "my-group/issue-tracker", "--url", "https://gitlab.example.com/"
    )
    assert (result.exit_code, result.stdout) == (0, "")
    assert (
        result.stderr
        == "wrote rollout.toml for my-group/issue-tracker; set GITLAB_TOKEN to read its issues\n"
    )
    config = load_config(workdir / "rollout.toml")
    assert (config.tracker.kind, config.tracker.project, config.tracker.url) == (
        "gitlab",
        "my-group/issue-tracker",
        "https://gitlab.example.com",
    )
    assert config.announce.audiences == {}
    calendar = run("calendar", "--from", "2027-01-01", "--months", "2")
    assert calendar.exit_code == 0, calendar.stderr
    assert calendar.stderr.splitlines() == [
        "changes.ics skipped: no GitLab token: set GITLAB_TOKEN (in GitLab CI too: a CI job "
        "token cannot read issues), or name a python-gitlab config section in [tracker] gitlab_id",
        "wrote calendars/deployments.ics",
        "wrote calendars/deadlines.ics",
    ]
    schedule = run("schedule", "--from", "2027-01-01", "--months", "1")
    assert schedule.stdout.splitlines()[1].startswith(
        "2027-01-01  Fri  CustSuppOps Deployment 2027-01-01"
    )


def test_the_starter_spells_out_the_same_policy_as_the_example(run: RunCli, workdir: Path) -> None:
    run("init", "--project", "ops/tracker")
    starter, committed = load_config(workdir / "rollout.toml"), load_config(EXAMPLE)
    for part in ("schedule", "notice", "freezes", "labels", "label_values", "targets", "calendar"):
        assert getattr(starter, part) == getattr(committed, part), part


def test_it_never_overwrites(run: RunCli, workdir: Path) -> None:
    (workdir / "rollout.toml").write_text("# ours\n", encoding="utf-8")
    result = run("init", "--project", "ops/tracker")
    assert (result.exit_code, result.stdout) == (2, "")
    assert (
        result.stderr
        == "Error: rollout.toml already exists; move it away first, or write elsewhere\n"
    )
    assert (workdir / "rollout.toml").read_text(encoding="utf-8") == "# ours\n"
    assert sorted(path.name for path in workdir.iterdir()) == ["rollout.toml"]


def test_it_writes_where_it_is_told(run: RunCli, workdir: Path) -> None:
    assert run("init", "--project", "ops/tracker", "--out", "team/ops.toml").exit_code == 0
    assert load_config(workdir / "team" / "ops.toml").tracker.project == "ops/tracker"
    assert run("--config", "other.toml", "init", "--project", "ops/tracker").exit_code == 0
    assert load_config(workdir / "other.toml").tracker.project == "ops/tracker"


def test_bad_values_are_refused_and_nothing_is_written(run: RunCli, workdir: Path) -> None:
    cases = {
        ("--project", "tracker"): "Error: --project: 'tracker' is not a GitLab project path; "
        "write it as group/project, as in the project's web address\n",
        ("--project", 'ops/"x"'): "Error: --project: 'ops/\"x\"' is not a GitLab project path; "
        "write it as group/project, as in the project's web address\n",
        (
            "--url",
            "gitlab.example.com",
        ): "Error: --url: not a web address; write it as https://gitlab.example.com\n",
        **{
            ("--url", url): "Error: --url: give GitLab's bare address, without a user, query or "
            "fragment (a token does not belong in the file: put it in GITLAB_TOKEN)\n"
            for url in (
                "https://oauth2:glpat-secret@gitlab.example.com",
                "https://gitlab.example.com/?private_token=glpat-secret",
                "https://gitlab.example.com/#private_token=glpat-secret",
                "https://gitlab.example.com/;private_token=glpat-secret",
            )
        },
        ("--project", "g/\U0001d49c"): "Error: --project: 'g/\U0001d49c' is not a GitLab "
        "project path; write it as group/project, as in the project's web address\n",
    }
    for (option, value), error in cases.items():
        args = ["init", "--project", "ops/tracker", option, value]
        result = run(*args)
        assert (result.exit_code, result.stderr) == (2, error), value
    assert list(workdir.iterdir()) == []


def test_any_address_is_written_as_toml_reads_it(run: RunCli, workdir: Path) -> None:
    """JSON writes a character beyond the Basic Multilingual Plane as two surrogate escapes,
    which TOML refuses."""
    url = "https://gitlab.example.com/\U0001f600/\x7f"
    assert run("init", "--project", "ops/tracker", "--url", url).exit_code == 0
    assert load_config(workdir / "rollout.toml").tracker.url == url


if __name__ == "__main__":
    EXAMPLE.write_text(example(), encoding="utf-8")
    print(f"wrote {EXAMPLE}")
    sys.exit(0)
