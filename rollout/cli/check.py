"""rollout check: is this issue ready to ship, and when? Exit 0 if all are, 1 if not."""

from __future__ import annotations

from datetime import date

import click

from rollout.cli.options import (
    DATE,
    App,
    as_of_option,
    json_option,
    pass_app,
    print_json,
    today_in,
)

EXIT_NOT_READY = 1


@click.command()
@click.argument("iids", nargs=-1, required=True, type=click.IntRange(min=1), metavar="IID...")
@as_of_option
@click.option(
    "--for",
    "for_date",
    type=DATE,
    default=None,
    help="Also fail an issue that would ship only after this date.",
)
@json_option
@pass_app
def check(
    app: App, iids: tuple[int, ...], as_of: date | None, for_date: date | None, as_json: bool
) -> None:
    """Check whether issues are ready to ship, and on which date.

    Exit code 0 when every issue is ready, 1 when any is not, 2 on errors: a gate for
    GitLab CI.

    \b
    Examples:
      rollout check 42
      rollout check 42 43 --for 2027-02-01 --json
      rollout --tracker snapshot:examples/snapshot.json check 12
    """
    from rollout.readiness import Assessor
    from rollout.views.check import verdict_json, verdicts_text

    config = app.config
    tracker = app.tracker_for()
    tracker.prefetch_user()
    issues = tracker.issues(list(iids))
    assessor = Assessor(config, trust=tracker.trust(config.announce.posters))
    day = as_of or today_in(config)
    verdicts = [assessor.assess(issue, day, for_date) for issue in issues]
    if as_json:
        print_json([verdict_json(verdict) for verdict in verdicts])
    else:
        click.echo(verdicts_text(verdicts), nl=False)
    if not all(verdict.ready for verdict in verdicts):
        raise SystemExit(EXIT_NOT_READY)
