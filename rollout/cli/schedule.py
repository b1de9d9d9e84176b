"""rollout schedule: the coming deployments and their deadlines."""

from __future__ import annotations

from datetime import date

import click

from rollout.cli.options import App, json_option, pass_app, print_json, range_options, today_in


@click.command()
@range_options
@json_option
@pass_app
def schedule(app: App, start: date | None, months: int, as_json: bool) -> None:
    """Show the deployment dates with their sign-off cut-offs and announce-by dates.

    \b
    Examples:
      rollout schedule
      rollout schedule --from 2027-01-01 --months 6 --json
    """
    from rollout.schedule import Schedule
    from rollout.views.schedule import schedule_json, schedule_table

    config = app.config
    first = start or today_in(config)
    schedule = Schedule(config)
    deployments = schedule.deployments(first, months)
    if as_json:
        print_json(schedule_json(deployments))
    else:
        click.echo(schedule_table(deployments, schedule.skipped(first, months)), nl=False)
