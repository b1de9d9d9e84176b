"""rollout calendar: write the iCal feeds people subscribe to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rollout.cli.options import App, OutPath, pass_app, range_options, say, today_in

if TYPE_CHECKING:
    from rollout.readiness import Verdict


@click.command()
@range_options
@click.option(
    "--out",
    "out_dir",
    type=OutPath(path_type=Path, file_okay=False),
    default=Path("calendars"),
    show_default=True,
    help="Directory for the .ics files (the previous files there are the feeds' memory).",
)
@pass_app
def calendar(app: App, start: date | None, months: int, out_dir: Path) -> None:
    """Write deployments.ics, deadlines.ics and changes.ics for calendar apps.

    changes.ics has one event per ready change on its ships-on date; it needs a tracker
    and is skipped (with a note on stderr) when none is set up (no [tracker], or no GitLab
    token). A tracker that is set up but fails is an error, and nothing is written.

    An event that changed since the files in --out were written gets SEQUENCE + 1;
    unchanged inputs give byte-identical files.

    \b
    Examples:
      rollout calendar
      rollout calendar --from 2027-01-01 --months 24 --out public/
    """
    from rollout.errors import TrackerNotSetUp

    config = app.config
    today = today_in(config)
    changes: Callable[[], list[Verdict]] | None = None
    try:
        tracker = app.tracker_for()
    except TrackerNotSetUp as reason:
        say(f"changes.ics skipped: {reason}")
    else:
        from dateutil.relativedelta import relativedelta

        from rollout.changes import ready_changes_in_background

        first = (start or today).replace(day=1)  # the feeds' span (write_calendars)
        last = first + relativedelta(months=months, days=-1)
        changes = ready_changes_in_background(tracker, config, today, first, last)
    # Imported once the tracker is being read: the feeds' libraries load meanwhile.
    from rollout.feeds import build_time, write_calendars

    written = write_calendars(config, start or today, months, out_dir, build_time(), changes)
    for path in written:
        say(f"wrote {path}")
