"""The command line: a thin layer that parses options and calls the library.

Every RolloutError becomes one ``Error: ...`` line and exit code 2 here, in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rollout import DISTRIBUTION
from rollout.cli.options import App, TrackerSpec, TrackerType
from rollout.errors import RolloutError

EXIT_ERROR = 2


class Failure(click.ClickException):
    exit_code = EXIT_ERROR


class RolloutGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RolloutError as error:
            raise Failure(str(error)) from None


@click.group(cls=RolloutGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="rollout.toml to use (default: ./rollout.toml or the nearest parent's, "
    "else the built-in defaults).",
)
@click.option(
    "--tracker",
    type=TrackerType(),
    default=None,
    help="gitlab | snapshot:PATH (default: [tracker] in the config).",
)
@click.option("-v", "--verbose", is_flag=True, help="Say more on stderr about what is happening.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Read every issue history from GitLab; neither read nor write the history cache.",
)
@click.version_option(package_name=DISTRIBUTION)
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    tracker: TrackerSpec | None,
    verbose: bool,
    no_cache: bool,
) -> None:
    """Deployment calendar, readiness checks and change announcements for a team that
    ships standard changes on a fixed monthly date through a GitLab issue tracker."""
    ctx.obj = App(config_path=config_path, tracker=tracker, verbose=verbose, no_cache=no_cache)
    if verbose:
        _log_to_stderr()


def _log_to_stderr() -> None:
    """--verbose: rollout's own debug messages on stderr (never python-gitlab's or urllib3's)."""
    import logging
    import sys

    logger = logging.getLogger("rollout")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rollout: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


def _register() -> None:
    from rollout.cli.announce import announce
    from rollout.cli.cache import cache
    from rollout.cli.calendar import calendar
    from rollout.cli.check import check
    from rollout.cli.digest import digest
    from rollout.cli.incident import incident
    from rollout.cli.init import init
    from rollout.cli.milestones import milestones
    from rollout.cli.notes import notes
    from rollout.cli.schedule import schedule
    from rollout.cli.site import site
    from rollout.cli.snapshot import snapshot
    from rollout.cli.status import status
    from rollout.cli.triage import triage

    for command in (init, schedule, calendar, check, announce, notes, status, milestones, snapshot):
        cli.add_command(command)
    cli.add_command(triage)
    cli.add_command(incident)
    cli.add_command(site)
    cli.add_command(digest)
    cli.add_command(cache)


_register()


def main() -> None:
    cli(prog_name="rollout")
