"""rollout status: the stage board of the open issues."""

from __future__ import annotations

import os
from datetime import date, datetime

import click

from rollout.cli.options import (
    App,
    as_of_option,
    json_option,
    pass_app,
    print_json,
    stdout_is_terminal,
    today_in,
)
from rollout.cli.progress import fetch_progress


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stdout_is_terminal() and not os.environ.get("NO_COLOR")


@click.command()
@as_of_option
@json_option
@pass_app
def status(app: App, as_of: date | None, as_json: bool) -> None:
    """Show the board: how long each open issue has been in its stage against the stage's
    target, the escalation step due for Blocked issues, the validations to chase, what is
    ready for the next deployment, and when open incidents go to PagerDuty (judged now, or
    at the end of another --as-of day).

    \b
    Examples:
      rollout status
      rollout status --as-of 2027-01-20
      rollout --tracker gitlab status --json > board.json
    """
    from rollout.trackers import OPEN_ISSUES

    config = app.config
    today = today_in(config)
    day = as_of or today
    # Incidents are judged now, or at the end of another --as-of day.
    now = datetime.now(config.schedule.zone) if day == today else None
    tracker = app.tracker_for()
    tracker.prefetch_list(OPEN_ISSUES)  # read while the board's modules load
    from rollout.board import board_issues, build_board
    from rollout.views.status import board_json, board_text

    with fetch_progress("Fetching issues") as progress:
        issues = board_issues(tracker, config, day, progress)
    board = build_board(config, issues, day, tracker.trust(config.announce.posters), now=now)
    if as_json:
        print_json(board_json(board))
    else:
        color = use_color()
        click.echo(board_text(board, color=color), nl=False, color=color)
