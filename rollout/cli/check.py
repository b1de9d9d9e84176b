"""rollout check: is this issue ready to ship, and when? Exit 0 if all are, 1 if not."""

from __future__ import annotations

from datetime import date

import click

from rollout.cli.options import (
    DATE,
    ISSUE,
    App,
    IssueRef,
    as_of_option,
    issue_numbers,
    json_option,
    pass_app,
    print_json,
    today_in,
)

EXIT_NOT_READY = 1


@click.command()
@click.argument("issues", nargs=-1, required=True, type=ISSUE, metavar="IID...")
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
    app: App, issues: tuple[IssueRef, ...], as_of: date | None, for_date: date | None, as_json: bool
) -> None:
    """Check whether issues are ready to ship, and on which date.

    An issue is its number, #101, group/project#101 (of the tracker's project) or its web
    address. Exit code 0 when every issue is ready, 1 when any is not, 2 on errors: a gate
    for GitLab CI. An issue the tracker does not have is named on stderr, the others are
    still checked, and the exit code is 2.

    \b
    Examples:
      rollout check 101
      rollout check 101 '#106' --for 2027-02-01 --json
      rollout --tracker snapshot:examples/snapshot.json check 102
    """
    from rollout.errors import IssuesNotFound
    from rollout.readiness import Assessor
    from rollout.views.check import verdict_json, verdicts_text

    config = app.config
    tracker = app.tracker_for()
    tracker.prefetch_user()
    wanted = issue_numbers(issues, tracker.project_path)
    unknown: IssuesNotFound | None = None
    try:
        found = tracker.issues(wanted)
    except IssuesNotFound as error:
        unknown = error
        known = [iid for iid in wanted if iid not in error.missing]
        found = tracker.issues(known) if known else []
    assessor = Assessor(config, trust=tracker.trust(config.announce.posters))
    day = as_of or today_in(config)
    verdicts = [assessor.assess(issue, day, for_date) for issue in found]
    if as_json and verdicts:
        print_json([verdict_json(verdict) for verdict in verdicts])
    elif verdicts:
        click.echo(verdicts_text(verdicts), nl=False)
    if unknown is not None:
        raise unknown  # one Error: line, exit 2, after the verdicts of the others
    if not all(verdict.ready for verdict in verdicts):
        raise SystemExit(EXIT_NOT_READY)
