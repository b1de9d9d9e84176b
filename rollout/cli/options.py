"""What the commands share: parameter types, common options and the loaded config.

Nothing heavy is imported here: ``rollout --help`` must start fast.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
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
class IssueRef:
    """An issue as it was written: 101, #101, group/project#101 or the issue's web address."""

    iid: int
    project: str | None = None  # when the reference names one

    def __str__(self) -> str:
        return f"{self.project}#{self.iid}" if self.project else f"#{self.iid}"


_PROJECT = r"(?P<project>[\w.-]+(?:/[\w.-]+)+)"
_IID = r"(?P<iid>[0-9]{1,18})"  # ASCII digits, and few enough for an issue number
_ISSUE_REFERENCE = re.compile(rf"(?:{_PROJECT}#|#)?{_IID}")
_ISSUE_URL = re.compile(rf"https?://[^/\s]+/{_PROJECT}/-/issues/{_IID}/?")


class IssueType(click.ParamType):  # type: ignore[type-arg]
    name = "IID"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> IssueRef:
        if isinstance(value, IssueRef):
            return value
        text = str(value).strip()
        match = _ISSUE_REFERENCE.fullmatch(text) or _ISSUE_URL.fullmatch(text)
        if match is None or int(match["iid"]) < 1:
            shown = repr(text if len(text) <= 60 else text[:60] + "…")
            self.fail(f"{shown} is not an issue; write 101, #101 or group/project#101", param, ctx)
        return IssueRef(int(match["iid"]), match["project"])


ISSUE = IssueType()


def issue_numbers(refs: Sequence[IssueRef], project_path: str) -> list[int]:
    """The numbers of ``refs``; a reference that names a project must name the tracker's."""
    from rollout.errors import TrackerError

    for ref in refs:
        if ref.project is not None and ref.project.casefold() != project_path.casefold():
            raise TrackerError(
                f"{ref} is an issue of {ref.project}, but the tracker is {project_path}; "
                "check [tracker] project, or write the issue's number alone"
            )
    return [ref.iid for ref in refs]


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
    no_cache: bool = False
    _config: Config | None = field(default=None, repr=False)

    def tracker_for(self, cache: bool = True) -> Tracker:
        """The tracker --tracker names, else the config's; GitLab's histories go through the
        history cache unless ``cache`` is False, --no-cache is given or [cache] says so."""
        from rollout.trackers import open_tracker

        spec = self.tracker
        tracker = open_tracker(
            self.config,
            spec.kind if spec else None,
            spec.path if spec else None,
            cache=cache and not self.no_cache,
            warn=warn,
        )
        click.get_current_context().call_on_close(tracker.close)
        return tracker

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


class OutPath(click.Path):
    """A path to write to: an empty one (``--out ""``, an unset variable) would name the
    current directory."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("it is empty; name where to write", param, ctx)
        return super().convert(value, param, ctx)


def out_file_option(function: F) -> F:
    """--out FILE: the product goes to a file, written atomically, instead of stdout."""
    return click.option(
        "--out",
        "out_file",
        type=OutPath(path_type=Path, dir_okay=False),
        default=None,
        help="Write to this file (atomically) instead of stdout.",
    )(function)


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


def put_text(text: str, out_file: Path | None) -> None:
    """The product: to stdout, or to ``--out FILE`` written atomically (said on stderr)."""
    if out_file is None:
        click.echo(text, nl=False)
        return
    from rollout.files import write_atomically

    write_atomically(out_file, text.encode("utf-8"))
    say(f"wrote {out_file}")


def say(message: str) -> None:
    """Chatter for people goes to stderr, so stdout stays the product."""
    click.echo(message, err=True)


def warn(message: str) -> None:
    """Something went wrong that the run can do without: one line on stderr."""
    say(f"Warning: {message}")


def today_in(config: Config) -> date:
    """Today in the schedule's time zone."""
    from datetime import datetime

    return datetime.now(config.schedule.zone).date()


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
