"""rollout: the deployment calendar, readiness checks and announcements of a team that ships
standard changes on a fixed monthly date through a GitLab issue tracker.

The public API; everything else is an implementation detail. Names are imported on first
use, so that ``rollout --help`` and the calendar commands load only what they need.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# The name pip installs rollout by ("rollout" on the public index is someone else's); the
# import package and the command are rollout.
DISTRIBUTION = "rollout-calendar"

if TYPE_CHECKING:
    from rollout.board import Board, board_issues, build_board
    from rollout.business_days import BusinessCalendar
    from rollout.config import Config, load_config, parse_config
    from rollout.durations import Duration, parse_duration
    from rollout.errors import (
        ConfigError,
        OutputError,
        RolloutError,
        TemplateError,
        TrackerError,
    )
    from rollout.issues import Issue
    from rollout.milestones import MilestonePlan, apply_plan, plan_milestones
    from rollout.readiness import Assessor, Check, Verdict
    from rollout.schedule import Deployment, Schedule
    from rollout.trackers import IssueQuery, Tracker, open_tracker

_HOMES = {
    "rollout.board": ("Board", "board_issues", "build_board"),
    "rollout.business_days": ("BusinessCalendar",),
    "rollout.config": ("Config", "load_config", "parse_config"),
    "rollout.durations": ("Duration", "parse_duration"),
    "rollout.errors": (
        "ConfigError",
        "OutputError",
        "RolloutError",
        "TemplateError",
        "TrackerError",
    ),
    "rollout.issues": ("Issue",),
    "rollout.milestones": ("MilestonePlan", "apply_plan", "plan_milestones"),
    "rollout.readiness": ("Assessor", "Check", "Verdict"),
    "rollout.schedule": ("Deployment", "Schedule"),
    "rollout.trackers": ("IssueQuery", "Tracker", "open_tracker"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [
    "Assessor",
    "Board",
    "BusinessCalendar",
    "Check",
    "Config",
    "ConfigError",
    "Deployment",
    "Duration",
    "Issue",
    "IssueQuery",
    "MilestonePlan",
    "OutputError",
    "RolloutError",
    "Schedule",
    "TemplateError",
    "Tracker",
    "TrackerError",
    "Verdict",
    "apply_plan",
    "board_issues",
    "build_board",
    "load_config",
    "open_tracker",
    "parse_config",
    "parse_duration",
    "plan_milestones",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'rollout' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
