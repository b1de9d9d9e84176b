"""A milestone plan for people (a table and a summary) and for scripts (JSON)."""

from __future__ import annotations

from typing import Any

from rollout.dates import strftime
from rollout.milestones import CLOSED, CREATE, FIX, OK, MilestoneLine, MilestonePlan
from rollout.safety import terminal_text
from rollout.views import iso_day
from rollout.views.table import format_table

FIELD_NAMES = {"start_date": "start date", "due_date": "due date"}


def plan_json(plan: MilestonePlan, applied: bool) -> dict[str, Any]:
    return {
        "year": plan.year,
        "applied": applied,
        "milestones": [
            {
                "title": line.title,
                "start_date": line.start_date.isoformat(),
                "due_date": line.due_date.isoformat(),
                "action": line.action,
                "wrong": list(line.wrong),
                "applied": line.applied,
                "current": None
                if line.current is None
                else {
                    "id": line.current.id,
                    "iid": line.current.iid,
                    "state": line.current.state,
                    "start_date": iso_day(line.current.start_date),
                    "due_date": iso_day(line.current.due_date),
                    "web_url": line.current.web_url,
                },
            }
            for line in plan.lines
        ],
        "skipped": [
            {"month": strftime(override.month, "%Y-%m"), "reason": override.reason}
            for override in plan.skipped
        ],
    }


def plan_text(plan: MilestonePlan, applied: bool) -> str:
    """The expected milestones with what is (or would be) done to each, and a summary."""
    rows = [
        [line.title, line.start_date.isoformat(), line.due_date.isoformat(), _status(line, applied)]
        for line in plan.lines
    ]
    table = (
        format_table(["Milestone", "Start", "Due", "Status"], rows)
        if rows
        else f"No deployments in {plan.year:04d}.\n"
    )
    skipped = "".join(
        f"No deployment in {strftime(override.month, '%Y-%m')} "
        f"({override.reason or 'skipped'}): no milestone.\n"
        for override in plan.skipped
    )
    return table + skipped + _summary(plan, applied) + "\n"


def _status(line: MilestoneLine, applied: bool) -> str:
    if line.action == OK:
        return "ok"
    if line.action == CLOSED:
        return "closed; left alone"
    if line.action == CREATE:
        return "created" if applied else "missing; would create"
    assert line.action == FIX and line.current is not None
    verb = "was" if applied else "is"
    wrong = ", ".join(
        f"{FIELD_NAMES[name]} {verb} {iso_day(getattr(line.current, name)) or 'unset'}"
        for name in line.wrong
    )
    return terminal_text(f"{wrong}; {'fixed' if applied else 'would fix'}")


def _summary(plan: MilestonePlan, applied: bool) -> str:
    verbs = ("created", "fixed") if applied else ("create", "fix")
    counts = [
        (verb, number)
        for verb, number in zip(verbs, (plan.count(CREATE), plan.count(FIX)), strict=True)
        if number
    ]
    if not counts:
        return "Nothing to change."
    words = [f"{verb} {number}" for verb, number in counts]
    words[0] += " milestone" if counts[0][1] == 1 else " milestones"
    text = " and ".join(words)
    if applied:
        return text[0].upper() + text[1:] + "."
    return f"Would {text}; run again with --apply to write them."
