"""What the commands share: parameter types, common options and the loaded config.

Nothing heavy is imported here: ``rollout --help`` must start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rollout.config import Config
    from rollout.trackers import Tracker

F = TypeVar("F", bound=Callable[..., Any])
# ctx.meta key: the dates given on the command line, for an error about where they lead.
DATES_GIVEN = "rollout.dates_given"


class DateType(click.ParamType):  # type: ignore[type-arg]
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        from rollout.dates import parse_date

        try:
            day = parse_date(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if ctx is not None:
            name = param.opts[0] if param is not None and param.opts else "DATE"
            shown = name if name.startswith("-") else name.upper()
            ctx.meta.setdefault(DATES_GIVEN, []).append(f"{shown} {day}")
        return day


DATE = DateType()


@dataclass(frozen=True)
class TrackerSpec:
    kind: str  # "gitlab" or "snapshot"
    path: Path | None = None


class TrackerType(click.ParamType):  # type: ignore[type-arg]
    name = "SPEC"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> TrackerSpec:
        if isinstance(value, TrackerSpec):
            return value
        text = str(value)
        if text == "gitlab":
            return TrackerSpec("gitlab")
        if text.startswith("snapshot:") and len(text) > len("snapshot:"):
            return TrackerSpec("snapshot", Path(text.removeprefix("snapshot:")))
        self.fail(f"{text!r} is not a tracker; use gitlab or snapshot:PATH", param, ctx)


@dataclass
class App:
    """The global options, and the config loaded the first time a command needs it."""

    config_path: Path | None = None
    tracker: TrackerSpec | None = None
    verbose: bool = False
    _config: Config | None = field(default=None, repr=False)

    def tracker_for(self) -> Tracker:
        """The tracker --tracker names, else the config's."""
        from rollout.trackers import open_tracker

        spec = self.tracker
        return open_tracker(self.config, spec.kind if spec else None, spec.path if spec else None)

    @property
    def config(self) -> Config:
        if self._config is None:
            from rollout.config import load_config

            self._config = load_config(self.config_path)
        return self._config


pass_app = click.make_pass_decorator(App)


def range_options(function: F) -> F:
    """--from and --months: which deployment periods a command covers."""
    function = click.option(
        "--months",
        type=click.IntRange(1, 1200),
        default=12,
        show_default=True,
        help="How many monthly deployment periods.",
    )(function)
    return click.option(
        "--from",
        "start",
        type=DATE,
        default=None,
        help="First period: the month of this date (default: today).",
    )(function)


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(function)


def as_of_option(function: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        type=DATE,
        default=None,
        help="Answer as on this date (default: today). Labels are still the current ones.",
    )(function)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def say(message: str) -> None:
    """Chatter for people goes to stderr, so stdout stays the product."""
    click.echo(message, err=True)


def today_in(config: Config) -> date:
    """Today in the schedule's time zone."""
    from datetime import datetime

    return datetime.now(config.schedule.zone).date()


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
