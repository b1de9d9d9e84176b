"""Due announcements for people (a table) and for scripts (JSON, PRODUCT.md §8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from rollout.due import DueAnnouncement
from rollout.views.table import format_table


def due_json(dues: Sequence[DueAnnouncement]) -> list[dict[str, Any]]:
    """``{iid, phase, date, targets, reason}``: ``date`` is the date the announcement names,
    ``targets`` the targets that do not hold it yet."""
    return [
        {
            "iid": due.iid,
            "phase": due.phase,
            "date": due.deploy_date.isoformat(),
            "targets": list(due.targets),
            "reason": due.reason,
        }
        for due in dues
    ]


def due_text(dues: Sequence[DueAnnouncement], as_of: date) -> str:
    day = f"{as_of:%A} {as_of}"
    if not dues:
        return f"Nothing due on {day}.\n"
    count = len(dues)
    heading = f"Due on {day}: {count} announcement{'s' if count != 1 else ''}\n"
    rows = [
        (f"#{due.iid}", due.phase, str(due.deploy_date), due.reason, ", ".join(due.targets))
        for due in dues
    ]
    return heading + format_table(("Issue", "Phase", "Date", "Why", "Targets"), rows)
