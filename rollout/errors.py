"""The exceptions rollout raises for conditions a user can fix.

The CLI turns every one of them into a single ``Error: ...`` line and exit code 2;
library callers catch :class:`RolloutError`.
"""

from __future__ import annotations


class RolloutError(Exception):
    """Base of every error rollout reports to its user."""


class ConfigError(RolloutError):
    """A value in rollout.toml is missing, mistyped or impossible."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}")


class TrackerError(RolloutError):
    """The issue tracker (GitLab or a snapshot file) could not answer."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
        settle: float = 0.0,
    ) -> None:
        super().__init__(message)
        # True when trying again later may work (rate limit, 5xx, network trouble).
        self.transient = transient
        # Seconds the tracker asked to wait before the next attempt (Retry-After), if it said.
        self.retry_after = retry_after
        # Seconds a request whose answer never came may still take to be carried out (a
        # timeout): a write looks for its result only after them.
        self.settle = settle


class IssuesNotFound(TrackerError):
    """Some of the issues asked for are not in the tracker; ``missing`` are their numbers."""

    def __init__(self, message: str, missing: tuple[int, ...]) -> None:
        super().__init__(message)
        self.missing = missing


class TrackerNotSetUp(TrackerError):
    """No tracker is set up for this run: none configured, or no GitLab credentials.

    Commands that can do without one (rollout calendar) carry on without it.
    """


class TemplateError(RolloutError):
    """A Jinja template is broken or uses a variable it was not given."""


class OutputError(RolloutError):
    """A file could not be written."""


class DeliveryError(RolloutError):
    """An announcement could not be delivered to a target (Slack, ...)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        # True when trying again may work (rate limit, 5xx, network trouble).
        self.transient = transient


class DateRangeError(RolloutError):
    """A date given or computed falls outside the years 1 to 9999 that dates can hold."""
