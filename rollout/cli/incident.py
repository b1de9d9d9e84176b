"""rollout incident: the tier of a system, and when an incident about it is escalated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from rollout.cli.options import App, json_option, pass_app, print_json


class MomentType(click.ParamType):  # type: ignore[type-arg]
    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        from rollout.dates import parse_moment

        try:
            return parse_moment(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


@click.command()
@click.argument("system")
@click.option(
    "--reported-at",
    type=MomentType(),
    default=None,
    help="When it was reported in the channel, ISO 8601 (default: now). Without an offset "
    "it is in the schedule's time zone.",
)
@json_option
@pass_app
def incident(app: App, system: str, reported_at: datetime | None, as_json: bool) -> None:
    """Say how critical a system is and when an incident about it goes to PagerDuty.

    The tier comes from the System Criticality sheet ([incidents.systems]), the wait from
    [incidents.tiers]: with no response in the Support Operations channel by the reported
    time plus the wait, open a PagerDuty incident. Prints the checklist and what the
    incident issue must include. An unknown system is an error naming the nearest ones.

    \b
    Examples:
      rollout incident "Zendesk Global"
      rollout incident "Zendesk Global" --reported-at 2027-03-28T01:30
      rollout incident calendly --reported-at 2027-01-20T09:00+01:00 --json
    """
    from rollout.incidents import escalation
    from rollout.views.incident import escalation_json, escalation_text

    config = app.config
    reported = reported_at or datetime.now(config.schedule.zone)
    found = escalation(config, system, reported)
    if as_json:
        print_json(escalation_json(found))
    else:
        click.echo(escalation_text(found), nl=False)
