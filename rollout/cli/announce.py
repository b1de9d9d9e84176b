"""rollout announce: the Change Management announcements of one change."""

from __future__ import annotations

from datetime import date

import click

from rollout.cli.options import App, as_of_option, pass_app, say, today_in


@click.command()
@click.argument("iid", type=click.IntRange(min=1))
@as_of_option
@click.option(
    "--phase",
    type=click.Choice(["pre", "reminder", "post"]),
    default="pre",
    show_default=True,
    help="pre: planned for a date; reminder: ships in N days or today; post: live since.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "slack", "text"]),
    default="md",
    show_default=True,
    help="Markdown (GitLab, the weekly review), Slack mrkdwn or plain text.",
)
@click.option(
    "--post",
    is_flag=True,
    help="Add it to the issue as a note, unless the same announcement is already there.",
)
@pass_app
def announce(app: App, iid: int, as_of: date | None, phase: str, fmt: str, post: bool) -> None:
    """Print the announcement of a change: who, what, when, why and the request link.

    The date is the one the change is planned for; a C1 change can be announced weeks
    before its sign-off. With --post the Markdown goes on the issue as a note carrying a
    hidden marker, so running it again posts nothing, and a date that moved is announced
    anew. Before the change's date a post-announcement is only a draft: printed with a
    warning, and --post refuses it.

    \b
    Examples:
      rollout announce 42
      rollout announce 42 --phase reminder --format slack
      rollout announce 42 --phase pre --post
    """
    from rollout.announce import describe, post_announcement, render_announcement

    if post and fmt != "md":
        raise click.UsageError("--post adds Markdown to the issue; leave out --format or use md")
    config = app.config
    tracker = app.tracker_for()
    tracker.prefetch_user()
    issue = tracker.issue(iid)
    trust = tracker.trust(config.announce.posters)
    announcement = render_announcement(issue, phase, fmt, as_of or today_in(config), config, trust)
    if post:
        announcement.check_postable()
    click.echo(announcement.text, nl=False)
    if announcement.draft_only is not None:
        say(f"warning: a draft: {announcement.draft_only}")
    if post:
        outcome = post_announcement(
            tracker, announcement, trust, attempts=config.tracker.retries + 1
        )
        say(describe(outcome, announcement))
