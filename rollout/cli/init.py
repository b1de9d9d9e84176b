"""rollout init: a commented starter rollout.toml for a GitLab project."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import App, OutPath, pass_app, say


@click.command()
@click.option(
    "--project",
    required=True,
    metavar="GROUP/PROJECT",
    help="The GitLab project that holds the change requests: its path, as in its address.",
)
@click.option("--url", default="https://gitlab.com", show_default=True, help="GitLab's address.")
@click.option(
    "--out",
    "out_file",
    type=OutPath(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write it (default: --config's file, else rollout.toml). An existing "
    "file is never overwritten.",
)
@pass_app
def init(app: App, project: str, url: str, out_file: Path | None) -> None:
    """Write a starter rollout.toml for a GitLab project: the Support Operations policy
    with every key spelled out and commented, reading the project's issues.

    Without a token, `rollout schedule` and `rollout calendar` work at once (calendar
    skips changes.ics); set GITLAB_TOKEN to check, announce and read the board.

    \b
    Examples:
      rollout init --project my-group/issue-tracker
      rollout init --project ops/tracker --url https://gitlab.example.com --out ops.toml
    """
    from rollout.files import write_new
    from rollout.starter import starter_config

    path = out_file or app.config_path or Path("rollout.toml")
    write_new(path, starter_config(project, url).encode("utf-8"))
    say(f"wrote {path} for {project}; set GITLAB_TOKEN to read its issues")
