"""The stage board for people (aligned tables, colour on a terminal) and for scripts (JSON).

Both carry the same content. Titles, names and check details come from the tracker and
are untrusted: on the terminal they go through terminal_text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rollout.board import (
    Board,
    Deadline,
    Escalation,
    NextDeployment,
    StageAge,
    StageGroup,
    ValidationWait,
    why_not,
)
from rollout.config import CRITICALITIES
from rollout.dates import strftime
from rollout.durations import Duration
from rollout.incidents import OpenIncident, format_moment
from rollout.issues import Issue, Person
from rollout.readiness import DEPLOYMENT_NAMES, Verdict
from rollout.safety import terminal_text
from rollout.views import iso_day
from rollout.views.check import check_json
from rollout.views.table import Cell, paint, styled_table

# click's colour names
RED = "red"
GREEN = "green"
YELLOW = "yellow"

# --------------------------------------------------------------------------- JSON


def board_json(board: Board) -> dict[str, Any]:
    return {
        "as_of": board.as_of.isoformat(),
        "open_issues": board.issue_count,
        "stages": [_group_json(group) for group in board.stages],
        "unstaged": [
            {**_issue_json(entry.issue), "problem": entry.problem} for entry in board.unstaged
        ],
        "blocked": [_escalation_json(escalation) for escalation in board.blocked],
        "validation_waiting": [_waiting_json(wait) for wait in board.waiting],
        "next_deployment": _next_json(board.next_deployment),
        "incidents": [_incident_json(incident) for incident in board.incidents],
    }


def _incident_json(incident: OpenIncident) -> dict[str, Any]:
    return {
        **_issue_json(incident.issue),
        "system": incident.system,
        "tier": incident.tier,
        "wait": _duration(incident.wait),
        "created_at": incident.issue.created_at.isoformat(),
        "escalate_by": incident.escalate_by.isoformat() if incident.escalate_by else None,
        "overdue": incident.overdue,
        "problem": incident.problem,
    }


def _issue_json(issue: Issue) -> dict[str, Any]:
    return {"iid": issue.iid, "title": issue.title, "web_url": issue.web_url}


def _duration(duration: Duration | None) -> str | None:
    return str(duration) if duration is not None else None


def _group_json(group: StageGroup) -> dict[str, Any]:
    return {
        "stage": group.stage,
        "label": group.label,
        "target": _duration(group.target),
        "issues": [
            {
                **_issue_json(age.issue),
                "entered_on": iso_day(age.entered_on),
                "business_days": age.business_days,
                "overdue": age.overdue,
            }
            for age in group.issues
        ],
    }


def _escalation_json(escalation: Escalation) -> dict[str, Any]:
    return {
        **_issue_json(escalation.issue),
        "entered_on": iso_day(escalation.entered_on),
        "days": escalation.days,
        "step": escalation.step,
        "action": escalation.action,
        "next_step_on": iso_day(escalation.next_step_on),
        "returns_to": escalation.returns_to,
        "blocked_by": list(escalation.blocked_by),
    }


def _waiting_json(wait: ValidationWait) -> dict[str, Any]:
    return {
        **_issue_json(wait.issue),
        "entered_on": wait.entered_on.isoformat(),
        "business_days": wait.business_days,
        "target": str(wait.target),
        "remind": {"username": wait.remind.username, "name": wait.remind.name},
    }


def _next_json(upcoming: NextDeployment) -> dict[str, Any]:
    deployment = upcoming.deployment
    return {
        "date": deployment.date.isoformat(),
        "milestone": deployment.milestone,
        "signoff_cutoff": deployment.signoff_cutoff.isoformat(),
        "announce_by": {c: deployment.announce_by[c].isoformat() for c in CRITICALITIES},
        "frozen_for": list(deployment.frozen_for),
        "ready": [
            {
                **_issue_json(verdict.issue),
                "ships_on": iso_day(verdict.ships_on),
                "deployment_type": verdict.deployment_type,
            }
            for verdict in upcoming.ready
        ],
        "not_ready": [
            {
                **_issue_json(verdict.issue),
                "ready": verdict.ready,
                "ships_on": iso_day(verdict.ships_on),
                "reasons": [check_json(check) for check in why_not(verdict, deployment)],
            }
            for verdict in upcoming.not_ready
        ],
        "deadlines": [
            {
                "date": deadline.day.isoformat(),
                "kind": deadline.kind,
                "criticality": deadline.criticality,
                "deployment": deadline.deployment.date.isoformat(),
            }
            for deadline in upcoming.deadlines
        ],
    }


# --------------------------------------------------------------------------- text


def board_text(board: Board, color: bool = False) -> str:
    """The board as sections of aligned tables; ANSI colour only when ``color``."""
    text = _Text(board, color)
    incidents = [text.incidents()] if board.incidents else []
    return "\n".join(
        [
            text.heading(
                f"Status on {strftime(board.as_of, '%A %Y-%m-%d')}: {_count(board.issue_count)}"
            ),
            *incidents,
            text.stages(),
            text.blocked(),
            text.waiting(),
            text.next_deployment(),
        ]
    )


def _count(number: int, what: str = "open issue") -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"


def _title(issue: Issue) -> str:
    return terminal_text(issue.title, 80)


def _person(person: Person) -> str:
    name = terminal_text(person.name, 60)
    return f"@{terminal_text(person.username, 60)}" + (f" ({name})" if name else "")


def _target(target: Duration | None) -> str:
    if target is None:
        return "-"
    return str(target.amount) if target.is_business else str(target)


def _in_days(day: date, as_of: date) -> str:
    days = (day - as_of).days
    return "today" if days == 0 else f"in {_count(days, 'day')}"


class _Text:
    def __init__(self, board: Board, color: bool) -> None:
        self.board = board
        self.color = color

    def heading(self, text: str) -> str:
        return f"{paint(text, bold=True)}\n" if self.color else f"{text}\n"

    def table(self, headers: list[str], rows: list[list[Cell]]) -> str:
        return styled_table(headers, rows, self.color)

    # ---------------------------------------------------------------- sections

    def stages(self) -> str:
        head = self.heading("Stages: business days in the stage, against its target")
        rows: list[list[Cell]] = []
        for group in self.board.stages:
            for index, age in enumerate(group.issues):
                rows.append(self._stage_row(group, age, first=index == 0))
        if not rows and not self.board.unstaged:
            return head + "No open issues.\n"
        headers = ["Stage", "Issue", "Since", "Days", "Target", "", "Title"]
        text = head + self.table(headers, rows) if rows else head
        if self.board.unstaged:
            unstaged: list[list[Cell]] = [
                [f"#{entry.issue.iid}", (terminal_text(entry.problem), RED), _title(entry.issue)]
                for entry in self.board.unstaged
            ]
            text += "Without one stage label:\n" + _indent(
                self.table(["Issue", "Problem", "Title"], unstaged)
            )
        return text

    def _stage_row(self, group: StageGroup, age: StageAge, first: bool) -> list[Cell]:
        days = str(age.business_days) if age.business_days is not None else "?"
        return [
            group.label if first else "",
            f"#{age.issue.iid}",
            iso_day(age.entered_on) or "?",
            (days, RED) if age.overdue else days,
            _target(group.target) if first else "",
            ("overdue", RED) if age.overdue else "",
            _title(age.issue),
        ]

    def incidents(self) -> str:
        """Shown only when there are open incidents with a System:: label."""
        head = self.heading("Incidents: open a PagerDuty incident if nobody has responded by")
        rows: list[list[Cell]] = [
            [
                f"#{incident.issue.iid}",
                terminal_text(incident.system, 60),
                incident.tier or ("not in [incidents.systems]", RED),
                format_moment(incident.escalate_by) if incident.escalate_by else "?",
                ("overdue", RED) if incident.overdue else "",
                _title(incident.issue),
            ]
            for incident in self.board.incidents
        ]
        return head + self.table(["Issue", "System", "Tier", "Escalate by", "", "Title"], rows)

    def blocked(self) -> str:
        period = self.board.escalation
        head = self.heading(f"Blocked: the escalation step due (one step every {period})")
        if not self.board.blocked:
            return head + "Nothing is blocked.\n"
        headers = ["Issue", "Since", "Blocked for", "Step due", "Next step", "Returns to"]
        headers += ["Blocked by", "Title"]
        rows: list[list[Cell]] = [
            [
                f"#{escalation.issue.iid}",
                iso_day(escalation.entered_on) or "?",
                _count(escalation.days, "day") if escalation.days is not None else "?",
                self._step(escalation),
                iso_day(escalation.next_step_on) or "-",
                terminal_text(escalation.returns_to or "?", 60),
                terminal_text(", ".join(escalation.blocked_by), 60) or "-",
                _title(escalation.issue),
            ]
            for escalation in self.board.blocked
        ]
        return head + self.table(headers, rows)

    def _step(self, escalation: Escalation) -> Cell:
        if escalation.step is None:
            return (escalation.action, RED)
        text = f"{escalation.step}: {escalation.action}"
        if escalation.step == 0:
            return text
        return (text, RED if escalation.step >= 4 else YELLOW)

    def waiting(self) -> str:
        head = self.heading("Waiting for the requester's validation longer than the target")
        if not self.board.waiting:
            return head + "Nobody to remind.\n"
        headers = ["Issue", "Since", "Days", "Target", "Remind", "Title"]
        rows: list[list[Cell]] = [
            [
                f"#{wait.issue.iid}",
                wait.entered_on.isoformat(),
                (str(wait.business_days), RED),
                _target(wait.target),
                _person(wait.remind),
                _title(wait.issue),
            ]
            for wait in self.board.waiting
        ]
        return head + self.table(headers, rows)

    def next_deployment(self) -> str:
        upcoming = self.board.next_deployment
        deployment = upcoming.deployment
        head = self.heading(
            f"Next deployment: {strftime(deployment.date, '%A %Y-%m-%d')} "
            f"({deployment.milestone}), "
            f"{_in_days(deployment.date, self.board.as_of)}"
        )
        parts = [head, self._ready(upcoming.ready), self._not_ready(upcoming)]
        parts.append(self._deadlines(upcoming.deadlines))
        return "".join(parts)

    def _ready(self, verdicts: tuple[Verdict, ...]) -> str:
        if not verdicts:
            return "Ready for it: none\n"
        rows: list[list[Cell]] = [
            [
                (f"#{verdict.iid}", GREEN),
                DEPLOYMENT_NAMES[verdict.deployment_type or "standard"],
                _title(verdict.issue),
            ]
            for verdict in verdicts
        ]
        return f"Ready for it: {len(verdicts)}\n" + _indent(
            self.table(["Issue", "Deployment", "Title"], rows)
        )

    def _not_ready(self, upcoming: NextDeployment) -> str:
        if not upcoming.not_ready:
            return "In its milestone but not shipping with it: none\n"
        lines = [f"In its milestone but not shipping with it: {len(upcoming.not_ready)}\n"]
        for verdict in upcoming.not_ready:
            lines.append(f"  #{verdict.iid} {_title(verdict.issue)}\n")
            for check in why_not(verdict, upcoming.deployment):
                mark = (
                    "✗" if check.level == "error" and not check.ok else "!" if not check.ok else "→"
                )
                style = RED if mark == "✗" else YELLOW
                detail = f"{check.id}: {terminal_text(check.detail, 400)}"
                mark_text = paint(mark, style) if self.color else mark
                lines.append(f"    {mark_text} {detail}\n")
        return "".join(lines)

    def _deadlines(self, deadlines: tuple[Deadline, ...]) -> str:
        if not deadlines:
            return "Coming up: no cut-off or announce-by date before it\n"
        rows: list[list[Cell]] = [
            [
                deadline.day.isoformat(),
                _in_days(deadline.day, self.board.as_of),
                deadline.what,
                f"the {deadline.deployment.date} deployment",
            ]
            for deadline in deadlines
        ]
        return "Coming up:\n" + _indent(self.table(["Date", "When", "What", "For"], rows))


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line else line for line in text.splitlines(keepends=True))
