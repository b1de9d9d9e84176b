"""rollout calendar: write the iCal feeds people subscribe to."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from rollout.cli.options import App, pass_app, range_options, say, today_in


@click.command()
@range_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("calendars"),
    show_default=True,
    help="Directory for the .ics files (the previous files there are the feeds' memory).",
)
@pass_app
def calendar(app: App, start: date | None, months: int, out_dir: Path) -> None:
    """Write deployments.ics and deadlines.ics for calendar apps to subscribe to.

    An event that changed since the files in --out were written gets SEQUENCE + 1;
    unchanged inputs give byte-identical files.

    \b
    Examples:
      rollout calendar
      rollout calendar --from 2027-01-01 --months 24 --out public/
    """
    from rollout.feeds import build_time, write_calendars

    config = app.config
    written = write_calendars(config, start or today_in(config), months, out_dir, build_time())
    for path in written:
        say(f"wrote {path}")
