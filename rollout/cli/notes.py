"""rollout notes: the release notes of one deployment."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from rollout.cli.options import (
    DATE,
    App,
    as_of_option,
    out_file_option,
    pass_app,
    put_text,
    today_in,
)


@click.command()
@click.argument("deploy_date", type=DATE, metavar="DEPLOY_DATE")
@as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html"]),
    default="md",
    show_default=True,
    help="Markdown, or a standalone HTML page.",
)
@out_file_option
@pass_app
def notes(app: App, deploy_date: date, as_of: date | None, fmt: str, out_file: Path | None) -> None:
    """Write the release notes of the deployment on DEPLOY_DATE.

    Every issue that ships on that date, and the Completed issues of its milestone, by
    request type, with a short list of what slipped from the milestone and why.
    DEPLOY_DATE may be the actual date or the period's date (2027-05-01 finds a May
    deployment moved to the 3rd).

    \b
    Examples:
      rollout notes 2027-02-01
      rollout notes 2027-02-01 --format html --out public/notes-2027-02.html
    """
    from rollout.release_notes import release_notes, render_release_notes

    config = app.config
    result = release_notes(app.tracker_for(), config, deploy_date, as_of or today_in(config))
    text = render_release_notes(result, fmt, config)
    put_text(text, out_file)
