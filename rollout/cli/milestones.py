"""rollout milestones: the deployment-period milestones of a year, created or fixed on --apply."""

from __future__ import annotations

import click

from rollout.cli.options import App, json_option, pass_app, print_json


@click.command()
@click.option(
    "--year",
    type=click.IntRange(1000, 9998),
    required=True,
    metavar="YYYY",
    help="The year whose deployment periods need milestones.",
)
@click.option(
    "--apply",
    "apply_changes",
    is_flag=True,
    help="Create the missing milestones and fix wrong dates (default: only show them).",
)
@json_option
@pass_app
def milestones(app: App, year: int, apply_changes: bool, as_json: bool) -> None:
    """Compare the project's milestones with the deployment periods of a year.

    One milestone per deployment: titled by [schedule] milestone, starting one month before
    the period's date and due on the deployment date (a skipped month has none). Without
    --apply nothing is written; with it the missing ones are created and wrong dates fixed,
    and a second run changes nothing. Closed milestones are left alone.

    \b
    Examples:
      rollout milestones --year 2027
      rollout --tracker gitlab milestones --year 2028 --apply
    """
    from rollout.milestones import apply_plan, plan_milestones
    from rollout.schedule import Schedule
    from rollout.views.milestones import plan_json, plan_text

    tracker = app.tracker_for()
    plan = plan_milestones(Schedule(app.config), year, tracker.milestones())
    if apply_changes:
        plan = apply_plan(tracker, plan, attempts=app.config.tracker.retries + 1)
    if as_json:
        print_json(plan_json(plan, apply_changes))
    else:
        click.echo(plan_text(plan, apply_changes), nl=False)
