"""Delivery targets: where due announcements go (PRODUCT.md §8), one small module each.

A target has the name ``[announce] targets`` spells, the announcement format it sends (md,
slack or text), and its own ledger: :meth:`Target.missing` reads it and says which due
announcements it does not hold yet, and :meth:`Target.deliver` asks it again before every
attempt, so a retried job or a lost answer never delivers twice, and a rerun after a failure
completes exactly the missing ones. A failure of one target never stops the others.

A new target (email, Mattermost) is a module here with one Target subclass, its name in
``rollout.config.DELIVERY_TARGETS`` and a line in :func:`open_targets`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from rollout.announce import Announcement, compose_announcement
from rollout.config import Config
from rollout.due import DueAnnouncement, due_issues, find_due
from rollout.errors import DeliveryError, RolloutError, TrackerError
from rollout.schedule import Schedule
from rollout.trackers import Progress, Tracker


class Target(ABC):
    name: str  # as [announce] targets spells it
    format: str  # the announcement template it sends: md, slack or text

    @abstractmethod
    def missing(self, dues: Sequence[DueAnnouncement]) -> list[DueAnnouncement]:
        """The ones this target does not hold yet, from its ledger as it is now."""

    @abstractmethod
    def deliver(self, due: DueAnnouncement, announcement: Announcement) -> str:
        """Deliver one, unless the ledger shows it arrived meanwhile; say what was done.
        Raises a RolloutError when it cannot."""


@dataclass(frozen=True)
class Delivered:
    target: str
    due: DueAnnouncement
    said: str  # what was done, for people

    def line(self) -> str:
        return f"{self.target}: {self.said}"


@dataclass(frozen=True)
class Failure:
    target: str
    due: DueAnnouncement | None  # None: the target's ledger could not be read at all
    message: str

    def line(self) -> str:
        if self.due is None:
            return f"{self.target}: {self.message}; nothing was delivered there"
        due = self.due
        return (
            f"{self.target}: could not deliver the {due.phase} announcement of #{due.iid} "
            f"for {due.deploy_date}: {self.message}"
        )


def outstanding(
    dues: Sequence[DueAnnouncement], targets: Sequence[Target]
) -> tuple[list[DueAnnouncement], list[Failure]]:
    """Each due announcement with the targets that do not hold it yet; those every target
    holds are left out. A target whose ledger cannot be read is a failure, and gets nothing."""
    missing: dict[str, set[object]] = {}
    failures = []
    for target in targets:
        try:
            missing[target.name] = {due.key for due in target.missing(dues)}
        except RolloutError as error:
            failures.append(Failure(target.name, None, str(error)))
    found = []
    for due in dues:
        names = tuple(t.name for t in targets if due.key in missing.get(t.name, ()))
        if names:
            found.append(replace(due, targets=names))
    return found, failures


Renderer = Callable[[DueAnnouncement, str], Announcement]


def deliver_all(
    dues: Sequence[DueAnnouncement], targets: Sequence[Target], render: Renderer
) -> tuple[list[Delivered], list[Failure]]:
    """Deliver each announcement to the targets that miss it (``due.targets``).

    Every text is rendered before anything is sent, so a broken template stops the run with
    nothing half-delivered; after that, a failure of one target never stops the others.
    """
    by_name = {target.name: target for target in targets}
    texts = {
        (due.key, by_name[name].format): render(due, by_name[name].format)
        for due in dues
        for name in due.targets
    }
    delivered, failures = [], []
    for due in dues:
        for name in due.targets:
            target = by_name[name]
            try:
                said = target.deliver(due, texts[(due.key, target.format)])
            except RolloutError as error:
                failures.append(Failure(name, due, str(error)))
            else:
                delivered.append(Delivered(name, due, said))
    return delivered, failures


# --------------------------------------------------------------------------- targets


class Unchecked(Target):
    """A target whose ledger cannot be read in a dry run (it has no credentials): it is
    listed wherever ``like`` misses an announcement, and never delivers."""

    def __init__(self, name: str, format: str, like: Target, why: str) -> None:
        self.name = name
        self.format = format
        self.like = like
        self.why = why

    def missing(self, dues: Sequence[DueAnnouncement]) -> list[DueAnnouncement]:
        return self.like.missing(dues)

    def deliver(self, due: DueAnnouncement, announcement: Announcement) -> str:
        raise DeliveryError(self.why)


def open_targets(
    config: Config, tracker: Tracker, *, post: bool, warn: Callable[[str], None]
) -> list[Target]:
    """The targets of ``[announce] targets``, gitlab first. With ``post`` every one must be
    able to deliver: a read-only tracker or a missing token is an error before anything is
    sent. Without it a target that cannot be checked is listed like gitlab, with a warning."""
    from rollout.delivery.gitlab import GitLabTarget
    from rollout.trackers.snapshot import READ_ONLY, SnapshotTracker

    if post and isinstance(tracker, SnapshotTracker):
        raise TrackerError(READ_ONLY)
    gitlab = GitLabTarget(tracker, config.announce.posters, config.tracker.retries + 1)
    targets: list[Target] = [gitlab]
    if "slack" in config.announce.targets:
        from rollout.delivery.slack import SlackTarget

        try:
            targets.append(SlackTarget.connect(config, tracker.project_path))
        except DeliveryError as error:
            if post:
                raise
            warn(f"{error}; slack is not checked, and is listed wherever gitlab is")
            targets.append(Unchecked("slack", "slack", gitlab, str(error)))
    return targets


# --------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class Plan:
    """What ``announce --due`` found: the due announcements with the targets missing each."""

    as_of: date
    dues: list[DueAnnouncement]
    targets: list[Target]
    failures: list[Failure]  # targets whose ledger could not be read


def plan_due(
    tracker: Tracker,
    config: Config,
    as_of: date,
    *,
    post: bool,
    warn: Callable[[str], None],
    progress: Progress | None = None,
) -> Plan:
    """Every announcement due on ``as_of`` and the targets that do not hold it yet. With
    ``post`` the targets are checked for what delivering needs before anything is read."""
    targets = open_targets(config, tracker, post=post, warn=warn)
    issues = due_issues(tracker, config, as_of, progress)
    trust = tracker.trust(config.announce.posters)
    dues, failures = outstanding(find_due(issues, config, as_of, trust), targets)
    return Plan(as_of, dues, targets, failures)


def deliver_plan(plan: Plan, config: Config) -> tuple[list[Delivered], list[Failure]]:
    """Deliver every announcement of ``plan`` to the targets missing it."""
    from rollout.render import Templates

    templates = Templates(config.templates_dir)
    schedule = Schedule(config)

    def render(due: DueAnnouncement, fmt: str) -> Announcement:
        return compose_announcement(
            due.issue,
            due.phase,
            due.deploy_date,
            fmt,
            due.as_of,
            config,
            moved_from=due.moved_from,
            templates=templates,
            schedule=schedule,
        )

    return deliver_all(plan.dues, plan.targets, render)
