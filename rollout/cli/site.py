"""rollout site: the release site, for GitLab Pages or any static host."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click

from rollout.cli.options import App, OutPath, as_of_option, pass_app, say, today_in


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=OutPath(path_type=Path, file_okay=False),
    default=Path("public"),
    show_default=True,
    help="Directory of the site; it is replaced as a whole (its .ics files are the feeds' memory).",
)
@as_of_option
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=12,
    show_default=True,
    help="Months of calendar, from the month of --as-of.",
)
@pass_app
def site(app: App, out_dir: Path, as_of: date | None, months: int) -> None:
    """Write the release site: the next deployment and what is in it, a calendar of the
    coming months, the release notes of each deployment from [site] history months back,
    the board of `rollout status`, and the calendar feeds with links to subscribe.

    One read of the tracker serves every page. Without a tracker (no [tracker], or no
    GitLab token) the site shows the calendar only. The site is built beside --out and
    swapped in, so a web server never serves half of it; the feeds already in --out are
    their memory, as for `rollout calendar`. The subscribe links need the site's address:
    [site] url, else CI_PAGES_URL in GitLab CI.

    \b
    Examples:
      rollout site
      rollout site --as-of 2027-01-20 --out public/
    """
    from rollout.errors import TrackerNotSetUp
    from rollout.site.publish import check_out_dir

    config = app.config
    check_out_dir(out_dir)  # before reading anything
    day = as_of or today_in(config)
    try:
        tracker = app.tracker_for()
    except TrackerNotSetUp as reason:
        say(f"calendar-only site: {reason}")
        tracker = None
    # Imported once the tracker is opened: the site's libraries load while it connects.
    from rollout.feeds import build_time, previous_in
    from rollout.site import build_site, publish_site

    files = build_site(
        config,
        day,
        months=months,
        tracker=tracker,
        previous=previous_in(out_dir),
        now=build_time(),
        base_url=config.site.url or os.environ.get("CI_PAGES_URL") or None,
    )
    publish_site(files, out_dir)
    pages = sum(1 for name in files if name.endswith(".html"))
    feeds = sum(1 for name in files if name.endswith(".ics"))
    say(f"wrote {out_dir}/: {pages} pages, {feeds} feeds, {len(files)} files")
