"""The command line: a thin layer that parses options and calls the library.

Every RolloutError becomes one ``Error: ...`` line and exit code 2 here, in one place,
without credentials (rollout.safety.redact) or control characters in it. So does a date
that leaves the years 1 to 9999 on the way, and, as a last resort, anything unforeseen:
a traceback's exit code 1 would read as "not ready" to a CI gate.
"""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path
from typing import Any

import click

from rollout import DISTRIBUTION
from rollout.cli.options import DATES_GIVEN, App, TrackerSpec, TrackerType
from rollout.errors import RolloutError

EXIT_ERROR = 2
# Where a token may come from: taken out of every message, whatever quoted it.
SECRET_VARIABLES = ("GITLAB_TOKEN", "CI_JOB_TOKEN", "SLACK_BOT_TOKEN")
# What the datetime module says when arithmetic leaves the years 1 to 9999.
_OUT_OF_RANGE = re.compile(r"out of range|must have magnitude|too large", re.IGNORECASE)


class Failure(click.ClickException):
    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        from rollout.safety import clean, redact

        secrets = [os.environ.get(name) or "" for name in SECRET_VARIABLES]
        super().__init__(clean(redact(message, secrets), limit=2_000))


class RolloutGroup(click.Group):
    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise Failure(_usage_line(error)) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise Failure(_usage_line(error)) from None
        except RolloutError as error:
            raise Failure(str(error)) from None
        except (OverflowError, ValueError) as error:
            if not _OUT_OF_RANGE.search(str(error)):
                raise Failure(_unforeseen(ctx, error)) from None
            given = ", ".join(
                [*ctx.meta.get(DATES_GIVEN, []), "the config's and the tracker's dates"]
            )
            raise Failure(
                f"a date falls outside the years 1 to 9999 when computed from {given}; "
                "use dates further from the ends of the calendar"
            ) from None
        except RecursionError:
            raise Failure("the input is nested too deeply to read") from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            raise Failure(_unforeseen(ctx, error)) from None


def _usage_line(error: click.UsageError) -> str:
    """A usage error in one line (click's own takes four), with where to read more."""
    command = error.ctx.command_path if error.ctx is not None else "rollout"
    return f"{error.format_message().rstrip('.')}; see {command} --help"


def _unforeseen(ctx: click.Context, error: Exception) -> str:
    """A failure rollout did not foresee: one line, and the traceback with --verbose."""
    app = ctx.find_object(App)
    if app is not None and app.verbose:
        import traceback

        click.echo("".join(traceback.format_exception(error)), err=True, nl=False)
    from rollout.safety import clean

    return (
        f"rollout failed unexpectedly ({type(error).__name__}: {clean(str(error), limit=200)}); "
        "run it again with --verbose to see where, and report it"
    )


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

    from rollout.safety import redact

    class Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            secrets = [os.environ.get(name) or "" for name in SECRET_VARIABLES]
            return redact(super().format(record), secrets)

    logger = logging.getLogger("rollout")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Redacting("rollout: %(message)s"))
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
    # A run keeps what it reads until it ends: the cycle collector's scans, every 700 new
    # objects by default, find nothing to free and took a site build 0.4 s. Every 10,000.
    gc.set_threshold(10_000)
    try:
        cli(prog_name="rollout")
    finally:
        # Python's exit looks for reference cycles among every object left, for a tenth of
        # a second after a history read; the process frees them all at once anyway. (What
        # holds a file or connection open is closed with the command's context.)
        gc.freeze()
