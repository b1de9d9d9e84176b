"""The schedule for people (a table) and for scripts (JSON, PRODUCT.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rollout.config import CRITICALITIES, Override
from rollout.dates import strftime
from rollout.schedule import Deployment
from rollout.views.table import format_table

_ANNOUNCED = ("C1", "C2", "C3")


def schedule_json(deployments: Sequence[Deployment]) -> list[dict[str, Any]]:
    return [
        {
            "date": deployment.date.isoformat(),
            "weekday": deployment.weekday,
            "period": deployment.period_key,
            "milestone": deployment.milestone,
            "start": deployment.start.isoformat() if deployment.start else None,
            "timezone": deployment.timezone,
            "signoff_cutoff": deployment.signoff_cutoff.isoformat(),
            "announce_by": {c: deployment.announce_by[c].isoformat() for c in CRITICALITIES},
            "reminder": deployment.reminder.isoformat(),
            "frozen_for": list(deployment.frozen_for),
            "freezes": list(deployment.freezes),
            "reason": deployment.reason,
            "reason_kind": deployment.reason_kind,
        }
        for deployment in deployments
    ]


def schedule_table(deployments: Sequence[Deployment], skipped: Sequence[Override] = ()) -> str:
    footer = "".join(
        f"No deployment in {strftime(o.month, '%Y-%m')}: {o.reason or 'skipped by an override'}\n"
        for o in skipped
    )
    if not deployments:
        return "No deployments in this range.\n" + footer
    timed = any(deployment.start for deployment in deployments)
    headers = ["Date", "Day", *(["Time"] if timed else []), "Milestone", "Sign-off by"]
    headers += [*(f"Announce {c}" for c in _ANNOUNCED), "Notes"]
    rows = [
        [
            deployment.date.isoformat(),
            f"{deployment.date:%a}",
            *([f"{deployment.start:%H:%M %Z}" if deployment.start else "all day"] if timed else []),
            deployment.milestone,
            deployment.signoff_cutoff.isoformat(),
            *(
                "frozen" if deployment.is_frozen_for(c) else deployment.announce_by[c].isoformat()
                for c in _ANNOUNCED
            ),
            _notes(deployment),
        ]
        for deployment in deployments
    ]
    return format_table(headers, rows) + footer


def _notes(deployment: Deployment) -> str:
    notes = []
    if deployment.reason_kind != "rule":
        notes.append(deployment.reason)
    if deployment.frozen_for:
        notes.append(f"{', '.join(deployment.frozen_for)} frozen ({', '.join(deployment.freezes)})")
    return "; ".join(notes)
