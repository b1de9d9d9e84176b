"""When to escalate an incident, for people and for scripts (JSON)."""

from __future__ import annotations

from typing import Any

from rollout.incidents import ISSUE_INCLUDES, Escalation, format_moment


def escalation_json(escalation: Escalation) -> dict[str, Any]:
    wait = escalation.wait
    return {
        "system": escalation.system,
        "tier": escalation.tier,
        "wait": str(wait),
        "wait_minutes": int(wait.as_timedelta().total_seconds() // 60),
        "reported_at": escalation.reported_at.isoformat(),
        "escalate_at": escalation.escalate_at.isoformat(),
        "timezone": str(escalation.reported_at.tzinfo),
        "pagerduty_service": escalation.pagerduty_service,
        "channel": escalation.channel,
        "checklist": list(escalation.checklist),
        "issue_includes": list(ISSUE_INCLUDES),
    }


def escalation_text(escalation: Escalation) -> str:
    rows = [
        ("Reported", format_moment(escalation.reported_at)),
        ("Wait", f"{escalation.wait} for a response in {escalation.channel}"),
        ("Escalate at", f"{format_moment(escalation.escalate_at)}, if nobody has responded"),
        ("PagerDuty", f'open an incident on the service "{escalation.pagerduty_service}"'),
    ]
    width = max(len(name) for name, _ in rows) + 1
    lines = [f"{escalation.system}: {escalation.tier}"]
    lines += [f"  {(name + ':').ljust(width)}  {value}" for name, value in rows]
    lines += ["", "Checklist:"]
    lines += [f"  {number}. {step}" for number, step in enumerate(escalation.checklist, 1)]
    lines += ["The incident issue includes:"]
    lines += [f"  - {item}" for item in ISSUE_INCLUDES]
    return "\n".join(lines) + "\n"
