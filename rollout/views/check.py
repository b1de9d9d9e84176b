"""Readiness verdicts for people (a block per issue) and for scripts (JSON, PRODUCT.md §3).

The block of checks is shared by the commands that answer with checks (check, triage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rollout.issues import Issue
from rollout.readiness import DEPLOYMENT_NAMES, Check, Verdict
from rollout.safety import terminal_text

MARKS = {"ok": "✓", "error": "✗", "warning": "!"}


def issue_json(issue: Issue) -> dict[str, Any]:
    """What every per-issue JSON object starts with."""
    return {"iid": issue.iid, "title": issue.title, "web_url": issue.web_url}


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        **issue_json(verdict.issue),
        "ready": verdict.ready,
        "ships_on": verdict.ships_on.isoformat() if verdict.ships_on else None,
        "deployment_type": verdict.deployment_type,
        "milestone": verdict.deployment.milestone if verdict.ready and verdict.deployment else None,
        "signed_off_at": verdict.signoff.at.isoformat()
        if verdict.signoff.given and verdict.signoff.at
        else None,
        "checks": [check_json(check) for check in verdict.checks],
    }


def check_json(check: Check) -> dict[str, Any]:
    return {"id": check.id, "ok": check.ok, "level": check.level, "detail": check.detail}


def verdicts_text(verdicts: Sequence[Verdict]) -> str:
    return "\n".join(_block(verdict) for verdict in verdicts)


def _block(verdict: Verdict) -> str:
    issue = verdict.issue
    if verdict.ready and verdict.ships_on is not None:
        kind = DEPLOYMENT_NAMES[verdict.deployment_type or "standard"]
        head = f"#{issue.iid} Ready — ships {verdict.ships_on}, {kind}"
    else:
        head = f"#{issue.iid} Not ready"
    return checks_block(head, issue.title, verdict.checks)


def checks_block(head: str, title: str, checks: Sequence[Check]) -> str:
    """A head line, the issue's title and one line per check with its mark."""
    width = max(len(check.id) for check in checks)
    lines = [head, f"  {terminal_text(title)}"]
    for check in checks:
        mark = MARKS["ok"] if check.ok else MARKS[check.level]
        lines.append(f"  {mark} {check.id.ljust(width)}  {terminal_text(check.detail, 400)}")
    return "\n".join(lines) + "\n"
