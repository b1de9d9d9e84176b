"""rollout triage: are new requests complete? Exit 0 if all are, 1 if not; --apply tells them."""

from __future__ import annotations

from datetime import date

import click

from rollout.cli.options import App, as_of_option, json_option, pass_app, print_json

EXIT_INCOMPLETE = 1


@click.command()
@click.argument("iids", nargs=-1, type=click.IntRange(min=1), metavar="[IID...]")
@as_of_option
@json_option
@click.option(
    "--apply",
    "apply_changes",
    is_flag=True,
    help="Post the notes and change the labels (default: only show what would be written).",
)
@pass_app
def triage(
    app: App, iids: tuple[int, ...], as_of: date | None, as_json: bool, apply_changes: bool
) -> None:
    """Check new requests: a request type, the sections of its template filled in, a
    severity for bugs, and not something people can do themselves.

    Without IIDs it checks the open issues in Stage::Triage or in no stage. Exit code 0
    when every issue passes, 1 when any does not, 2 on errors. Nothing is written without
    --apply, which posts one note per issue naming what is missing (once per set of
    findings: running it again posts nothing), adds [intake] needs_info_label while
    something is missing and removes it once nothing is, and, with [intake]
    close_self_service, closes self-service requests with their instructions. The checks
    read the current labels and description; --as-of changes nothing yet.

    \b
    Examples:
      rollout triage
      rollout triage 115 116 --json
      rollout --tracker gitlab triage --apply
    """
    from rollout.intake import raise_for_errors, triage_tracker
    from rollout.views.triage import triage_json, triage_text

    plans = triage_tracker(app.tracker_for(), app.config, iids, apply=apply_changes)
    if as_json:
        print_json([triage_json(plan) for plan in plans])
    else:
        click.echo(triage_text(plans, apply_changes), nl=False)
    raise_for_errors(plans)
    if not all(plan.verdict.ready for plan in plans):
        raise SystemExit(EXIT_INCOMPLETE)
