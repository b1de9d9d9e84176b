"""rollout snapshot: save the tracker's issues to a file any command can read."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from rollout.cli.options import App, OutPath, pass_app, say


@click.command()
@click.option(
    "--out",
    "out_file",
    type=OutPath(path_type=Path, dir_okay=False),
    required=True,
    help="The snapshot file to write.",
)
@click.option(
    "--state",
    type=click.Choice(["recent", "opened", "closed", "all"]),
    default="recent",
    show_default=True,
    help="recent: open issues plus those closed in the last 90 days.",
)
@click.option("--milestone", default=None, help="Only the issues of this milestone (its title).")
@pass_app
def snapshot(app: App, out_file: Path, state: str, milestone: str | None) -> None:
    """Write the tracker's issues, with their label history, links and notes, to a file.

    Read it back with --tracker snapshot:FILE: every command gives the same answers from the
    file as from GitLab, without a token or a network.

    \b
    Examples:
      rollout --tracker gitlab snapshot --out tracker.json
      rollout --tracker gitlab snapshot --out may.json --state all
    """
    from rollout.trackers.snapshot import take_snapshot, write_snapshot

    # A snapshot is a copy of GitLab as it is now: it reads past the history cache.
    tracker = app.tracker_for(cache=False)
    data = take_snapshot(tracker, state, milestone, now=datetime.now().astimezone())
    write_snapshot(out_file, data)
    say(f"wrote {out_file} ({len(data['issues'])} issues)")
