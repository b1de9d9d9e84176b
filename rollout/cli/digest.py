"""rollout digest: the Change Management section of the Support Week in Review."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from rollout.cli.options import (
    App,
    as_of_option,
    out_file_option,
    pass_app,
    put_text,
    say,
    today_in,
)
from rollout.cli.progress import fetch_progress


@click.command()
@as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "slack"]),
    default=None,
    help="Markdown (the review's document) or Slack mrkdwn. [default: md; slack with --post]",
)
@out_file_option
@click.option(
    "--post",
    is_flag=True,
    help="Post it to [slack] channel, unless this week's is there already.",
)
@pass_app
def digest(
    app: App, as_of: date | None, fmt: str | None, out_file: Path | None, post: bool
) -> None:
    """Write the Support Week in Review section for the week (Sunday to Saturday) holding
    --as-of: the next deployment and what ships with it, the changes announced and shipped
    this week, what slipped from the next deployment's milestone and why, and the deadlines
    of the next 14 days.

    With --post the Slack text goes to [slack] channel (the token from SLACK_BOT_TOKEN),
    once a week: a week's digest already in the channel is not posted again.

    \b
    Examples:
      rollout digest --as-of 2027-01-20
      rollout digest --format slack --out swir.txt
      rollout --tracker gitlab digest --post
    """
    from rollout.digest import digest as build
    from rollout.digest import render_digest

    if post and fmt not in (None, "slack"):
        raise click.UsageError("--post posts the Slack text; leave out --format or use slack")
    config = app.config
    fmt = fmt or ("slack" if post else "md")
    channel = None
    if post:  # no channel or no token: an error before anything is read
        from rollout.delivery.slack import digest_channel, post_digest

        channel = digest_channel(config)
    day = as_of or today_in(config)
    tracker = app.tracker_for()
    with fetch_progress("Fetching issues") as progress:
        result = build(tracker, config, day, progress)
    text = render_digest(result, fmt, config)
    put_text(text, out_file)
    if channel is not None:
        say(post_digest(channel, tracker.project_path, result.week, text, config.schedule.zone))
