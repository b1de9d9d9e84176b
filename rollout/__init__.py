"""rollout: the deployment calendar, readiness checks and announcements of a team that ships
standard changes on a fixed monthly date through a GitLab issue tracker.

The public API; everything else is an implementation detail.
"""

from rollout.board import Board, board_issues, build_board
from rollout.business_days import BusinessCalendar
from rollout.config import Config, load_config, parse_config
from rollout.durations import Duration, parse_duration
from rollout.errors import ConfigError, OutputError, RolloutError, TemplateError, TrackerError
from rollout.issues import Issue
from rollout.milestones import MilestonePlan, apply_plan, plan_milestones
from rollout.readiness import Assessor, Check, Verdict
from rollout.schedule import Deployment, Schedule
from rollout.trackers import IssueQuery, Tracker, open_tracker

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
