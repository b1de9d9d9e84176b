"""rollout announce: the Change Management announcements of one change, or every one due."""

from __future__ import annotations

from datetime import date

import click

from rollout.cli.options import App, as_of_option, json_option, pass_app, print_json, say, today_in
from rollout.cli.progress import fetch_progress

EXIT_FAILED = 2


@click.command()
@click.argument("iid", type=click.IntRange(min=1), required=False)
@click.option(
    "--due",
    is_flag=True,
    help="Every announcement due that day, over all the changes, for every target.",
)
@as_of_option
@click.option(
    "--phase",
    type=click.Choice(["pre", "reminder", "post"]),
    default=None,
    help="pre: planned for a date; reminder: ships in N days or today; post: live since. "
    "[default: pre]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "slack", "text"]),
    default=None,
    help="Markdown (GitLab, the weekly review), Slack mrkdwn or plain text. [default: md]",
)
@click.option(
    "--post",
    is_flag=True,
    help="Deliver it: a note on the issue (with --due: to every [announce] target), "
    "unless it is there already.",
)
@json_option
@pass_app
def announce(
    app: App,
    iid: int | None,
    due: bool,
    as_of: date | None,
    phase: str | None,
    fmt: str | None,
    post: bool,
    as_json: bool,
) -> None:
    """Print the announcement of a change: who, what, when, why and the request link.

    The date is the one the change is planned for; a C1 change can be announced weeks
    before its sign-off. With --post the Markdown goes on the issue as a note carrying a
    hidden marker, so running it again posts nothing, and a date that moved is announced
    anew. Before the change's date a post-announcement is only a draft: printed with a
    warning, and --post refuses it.

    With --due instead of an issue: every pre-announcement, reminder and post-announcement
    due that day, with the targets that do not have it yet (a table, or --json). Nothing is
    written without --post; with it each goes to every target of [announce] targets that
    misses it (a GitLab note, a Slack message), and the run exits 2 if any delivery failed.

    \b
    Examples:
      rollout announce 101
      rollout announce 102 --phase reminder --format slack
      rollout announce 101 --phase pre --post
      rollout announce --due --as-of 2027-01-29
      rollout --tracker gitlab announce --due --post
    """
    if due:
        if iid is not None:
            raise click.UsageError("--due finds the issues itself; leave out the IID")
        if phase is not None or fmt is not None:
            raise click.UsageError(
                "--due picks each phase and format itself; leave out --phase and --format"
            )
        _announce_due(app, as_of, post, as_json)
        return
    if iid is None:
        raise click.UsageError("give an IID, or --due for every announcement due")
    if as_json:
        raise click.UsageError("--json lists the announcements of --due")
    _announce_one(app, iid, as_of, phase or "pre", fmt or "md", post)


def _announce_one(app: App, iid: int, as_of: date | None, phase: str, fmt: str, post: bool) -> None:
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


def _announce_due(app: App, as_of: date | None, post: bool, as_json: bool) -> None:
    from rollout.delivery import deliver_plan, plan_due
    from rollout.views.due import due_json, due_text

    config = app.config
    day = as_of or today_in(config)
    tracker = app.tracker_for()
    with fetch_progress("Fetching issues") as progress:
        plan = plan_due(tracker, config, day, post=post, warn=say, progress=progress)
    if as_json:
        print_json(due_json(plan.dues))
    else:
        click.echo(due_text(plan.dues, day), nl=False)
    failures = list(plan.failures)
    if post:
        delivered, failed = deliver_plan(plan, config)
        for done in delivered:
            say(done.line())
        failures += failed
    for failure in failures:
        say(failure.line())
    if failures:
        raise SystemExit(EXIT_FAILED)
