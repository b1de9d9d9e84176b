"""rollout: the deployment calendar, readiness checks and announcements of a team that ships
standard changes on a fixed monthly date through a GitLab issue tracker.

The public API; everything else is an implementation detail.
"""

from rollout.business_days import BusinessCalendar
from rollout.config import Config, load_config, parse_config
from rollout.durations import Duration, parse_duration
from rollout.errors import ConfigError, OutputError, RolloutError, TemplateError, TrackerError
from rollout.schedule import Deployment, Schedule

__all__ = [
    "BusinessCalendar",
    "Config",
    "ConfigError",
    "Deployment",
    "Duration",
    "OutputError",
    "RolloutError",
    "Schedule",
    "TemplateError",
    "TrackerError",
    "load_config",
    "parse_config",
    "parse_duration",
]
