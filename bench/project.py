"""A generated Support Operations tracker at the scale of a busy team.

Every issue walks its request type's flow (PRODUCT.md §2) through scoped Stage:: labels, so its
label history is what GitLab would record: four labels on creation (type, criticality,
customer, Triage) and an add plus a remove for every later move, 4 to 20 events in all. Closed
issues mostly went through to Completed; the open ones stand in every stage, and a number of
them are in the next deployment's milestone. Some issues are linked, some have notes, and some
of the notes are rollout's own pre-announcements. The same seed gives the same project, dated
back from ``today``.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from gitlab_server import DEFAULT_TOKEN_USER, GitLabState

from rollout.config import Config
from rollout.schedule import Schedule

PROJECT = "support-ops/issue-tracker"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
OPS = ("bob", "dave")
CUSTOMERS = ("Support-EMEA", "Support-AMER", "Support-APAC", "Support-Global")
FLOWS = {
    "Feature": (
        "Triage",
        "Planning",
        "Scheduling",
        "Queued",
        "Development",
        "Validation",
        "Implementation",
        "Completed",
    ),
    "Bug": ("Triage", "Planning", "Development", "Validation", "Implementation", "Completed"),
    "Administrative": (
        "Triage",
        "Scheduling",
        "Queued",
        "Development",
        "Implementation",
        "Completed",
    ),
}
# Where the open issues that are not in the milestone stand (weights).
OPEN_STAGES = {
    "Triage": 30,
    "Planning": 40,
    "Scheduling": 40,
    "Queued": 40,
    "Development": 80,
    "Validation": 50,
    "Implementation": 30,
    "Completed": 10,
    "Blocked": 30,
    "Backlogged": 50,
}
# Where the milestone's issues stand: most are signed off and waiting for the deployment.
MILESTONE_STAGES = {"Implementation": 40, "Validation": 8, "Development": 8, "Blocked": 4}
HISTORY_YEARS = 5


@dataclass(frozen=True)
class Project:
    state: GitLabState
    path: str
    today: date
    deployment: date  # the next deployment
    period: date  # its period (the 1st of its month)
    milestone: str  # its milestone


def generate(
    issues: int = 5000,
    open_issues: int = 400,
    in_milestone: int = 60,
    seed: int = 7,
    today: date | None = None,
) -> Project:
    if not 0 <= in_milestone <= open_issues <= issues:
        raise ValueError("need 0 <= issues in the milestone <= open issues <= issues")
    today = today or date.today()
    rng = random.Random(seed)
    schedule = Schedule(Config())
    next_deployment = schedule.next_deployment(today)
    state = GitLabState(clock=datetime.combine(today, time(10, 0), tzinfo=UTC))
    state.add_project(PROJECT, id=1)
    first = today - timedelta(days=365 * HISTORY_YEARS)
    last = next_deployment.date + timedelta(days=400)
    for deployment in itertools.takewhile(lambda d: d.date <= last, schedule.iter_from(first)):
        state.add_milestone(
            PROJECT,
            deployment.milestone,
            start_date=deployment.date - timedelta(days=31),
            due_date=deployment.date,
            state="closed" if deployment.date < today else "active",
        )
    builder = _Builder(state, rng, today, schedule)
    # Issue numbers grow with creation time, as in GitLab: the closed issues are spread over
    # the whole history, the open ones were opened in the last months.
    closed = issues - open_issues
    for iid in range(1, closed + 1):
        opened = first + timedelta(days=(iid * 365 * HISTORY_YEARS) // (closed + 1))
        builder.closed_issue(iid, opened)
    open_iids = range(closed + 1, issues + 1)
    milestone_iids = set(rng.sample(list(open_iids), in_milestone))
    for iid in open_iids:
        if iid in milestone_iids:
            stage = _pick(rng, MILESTONE_STAGES)
            builder.open_issue(iid, stage, milestone=next_deployment.milestone)
        else:
            builder.open_issue(iid, _pick(rng, OPEN_STAGES))
    builder.links(issues)
    return Project(
        state,
        PROJECT,
        today,
        next_deployment.date,
        next_deployment.period,
        next_deployment.milestone,
    )


def change_some(project: Project, fraction: float, seed: int = 11) -> list[int]:
    """Change ``fraction`` of the issues, as people do between two runs: a comment and a
    label, a minute after the server's clock, which then moves on five minutes. GitLab moves
    each one's updated_at. Returns the issues changed."""
    state = project.state
    data = state.project(project.path)
    rng = random.Random(seed)
    changed = sorted(rng.sample(sorted(data.issues), round(len(data.issues) * fraction)))
    state.advance(timedelta(minutes=1))
    for iid in changed:
        state.add_note(project.path, iid, "Any news on this?", rng.choice(USERS))
        state.change_labels(project.path, iid, add=["Priority::3"], by=rng.choice(OPS))
    state.advance(timedelta(minutes=5))
    return changed


def milestone_iids(project: Project) -> list[int]:
    """The issues in the next deployment's milestone, by number."""
    data = project.state.project(project.path)
    return sorted(
        issue.iid
        for issue in data.issues.values()
        if issue.milestone_id and data.milestones[issue.milestone_id].title == project.milestone
    )


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Builder:
    def __init__(
        self, state: GitLabState, rng: random.Random, today: date, schedule: Schedule
    ) -> None:
        self.state = state
        self.rng = rng
        self.today = today
        self.schedule = schedule

    def closed_issue(self, iid: int, opened: date) -> None:
        kind = self._kind()
        flow = FLOWS[kind]
        wont_do = self.rng.random() < 0.1
        stages = flow[: self.rng.randint(1, 3)] if wont_do else flow
        at = self._create(iid, kind, datetime.combine(opened, time(9, 0), tzinfo=UTC))
        # Closed before today: the last issues opened would otherwise close in the future.
        yesterday = self.today - timedelta(days=1)
        at = self._walk(iid, kind, stages[1:], at, limit=yesterday)
        closing = min(
            at + timedelta(days=self.rng.randint(0, 2), hours=2),
            datetime.combine(yesterday, time(11, 0), tzinfo=UTC),
        )
        self.state.close_issue(PROJECT, iid, at=closing, by=self.rng.choice(OPS))
        self._notes(iid, at, pre_announced=not wont_do)

    def open_issue(self, iid: int, stage: str, milestone: str | None = None) -> None:
        kind = self._kind()
        flow = FLOWS[kind]
        if stage in ("Blocked", "Backlogged"):
            before = flow[: self.rng.randint(1, flow.index("Development") + 1)]
            stages = (*before, stage)
        elif stage in flow:
            stages = flow[: flow.index(stage) + 1]
        else:  # e.g. Validation for an Administrative change: take the nearest stage it has
            stages = flow[: flow.index("Development") + 1]
        days = sum(self.rng.randint(1, 6) for _ in stages) + self.rng.randint(1, 20)
        created = datetime.combine(self.today - timedelta(days=days), time(9, 0), tzinfo=UTC)
        at = self._create(iid, kind, created, milestone)
        at = self._walk(iid, kind, stages[1:], at, limit=self.today)
        self._notes(iid, at, pre_announced=milestone is not None)

    def _kind(self) -> str:
        return self.rng.choices(list(FLOWS), weights=(5, 4, 2))[0]

    def _create(self, iid: int, kind: str, at: datetime, milestone: str | None = None) -> datetime:
        labels = [
            f"RequestType::{kind}",
            f"Criticality::C{self.rng.choices((1, 2, 3, 4), weights=(1, 2, 4, 4))[0]}",
            f"Customer::{self.rng.choice(CUSTOMERS)}",
            "Stage::Triage",
        ]
        self.state.add_issue(
            PROJECT,
            iid,
            f"Change request {iid}: {self.rng.choice(('macro', 'trigger', 'form', 'view'))}",
            self.rng.choice(USERS),
            at,
            description="### What\n\nA change.\n\n### Why\n\nBecause.",
            labels=labels,
            milestone=milestone,
            assignees=[self.rng.choice(OPS)],
        )
        return at

    def _walk(
        self, iid: int, kind: str, stages: tuple[str, ...], at: datetime, limit: date | None
    ) -> datetime:
        """Move the issue through ``stages``: an add and a remove for each move (the stage
        labels are scoped), and the sign-off with the move to Implementation. With the four
        labels of its creation, a history has 4 to 19 events."""
        end = datetime.combine(limit, time(9, 0), tzinfo=UTC) if limit else None
        for stage in stages:
            at += timedelta(days=self.rng.randint(1, 6), minutes=self.rng.randint(0, 300))
            if end is not None and at > end:
                at = end
            added = [f"Stage::{stage}"]
            if stage == "Implementation":
                validation = "Skipped" if kind == "Administrative" else "Received"
                added.append(f"Validation::{validation}")
            self.state.edit_labels(PROJECT, iid, add=added, at=at, by=self.rng.choice(OPS))
        return at

    def _notes(self, iid: int, at: datetime, pre_announced: bool) -> None:
        if self.rng.random() < 0.35:
            self.state.add_note(PROJECT, iid, "Picked up; see the proposal.", "bob", at=at)
        if pre_announced and self.rng.random() < 0.5:
            deploy = self.schedule.next_deployment(at.date()).date
            body = f"Planned.\n\n<!-- rollout:announcement phase=pre deploy={deploy} -->"
            self.state.add_note(PROJECT, iid, body, DEFAULT_TOKEN_USER, at=at)

    def links(self, issues: int) -> None:
        """About one issue in twelve is blocked by, or relates to, an earlier one."""
        for iid in range(2, issues + 1):
            if self.rng.random() < 1 / 12:
                other = self.rng.randint(max(1, iid - 300), iid - 1)
                kind = "is_blocked_by" if self.rng.random() < 0.5 else "relates_to"
                at = self.state.issue(PROJECT, iid).created_at + timedelta(hours=1)
                self.state.add_link(PROJECT, iid, other, kind, at=at)
