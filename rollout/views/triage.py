"""Triage results for people (check's blocks, then what is or would be written) and for
scripts (JSON: check's shape, plus the writes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rollout.intake import TriagePlan
from rollout.safety import terminal_text
from rollout.triage import TriageVerdict
from rollout.views.check import check_json, checks_block, issue_json


def triage_json(plan: TriagePlan) -> dict[str, Any]:
    verdict = plan.verdict
    match = verdict.self_service
    return {
        **issue_json(verdict.issue),
        "ready": verdict.ready,
        "request_type": verdict.request_type,
        "checks": [check_json(check) for check in verdict.checks],
        "self_service": None
        if match is None
        else {
            "name": match.rule.name,
            "instructions": match.rule.instructions,
            "matched": match.matched,
        },
        "fingerprint": plan.fingerprint,
        "note": plan.note,
        "previous_note": plan.previous.id if plan.previous else None,
        "add_labels": list(plan.add_labels),
        "remove_labels": list(plan.remove_labels),
        "close": plan.close,
        "applied": plan.applied,
        "posted_note": plan.posted.id if plan.posted else None,
        "error": plan.error,
    }


def triage_text(plans: Sequence[TriagePlan], applied: bool) -> str:
    if not plans:
        return "No new issues to triage.\n"
    blocks = [_block(plan, applied) for plan in plans]
    return "\n".join(blocks) + "\n" + _summary(plans, applied) + "\n"


def _head(verdict: TriageVerdict) -> str:
    if verdict.ready:
        return f"#{verdict.iid} Complete"
    if verdict.self_service is not None:
        return f"#{verdict.iid} Self-service: {verdict.self_service.rule.name}"
    return f"#{verdict.iid} Needs information"


def _block(plan: TriagePlan, applied: bool) -> str:
    verdict = plan.verdict
    text = checks_block(_head(verdict), verdict.issue.title, verdict.checks)
    if not verdict.issue.is_open:
        return text + "  Closed: nothing to write.\n"
    if plan.previous is not None:
        when = plan.previous.created_at.date()
        text += (
            f"  The note listing this is already there (note {plan.previous.id} of {when}); "
            "nothing to post.\n"
        )
    if plan.error is not None:
        done = _actions(plan, applied=True, posted_only=True)
        text += f"  {done[0].upper() + done[1:]}; then failed: " if done else "  Failed: "
        return text + terminal_text(plan.error, 400) + "\n"
    actions = _actions(plan, applied)
    if not actions:
        return text
    if applied:
        return text + f"  {actions[0].upper() + actions[1:]}.\n"
    if plan.note is None:
        return text + f"  Would {actions}.\n"
    body = "".join(f"    {line}".rstrip() + "\n" for line in plan.note.splitlines())
    return text + f"  Would {actions}:\n" + body


def _actions(plan: TriagePlan, applied: bool, posted_only: bool = False) -> str:
    parts = []
    if applied and plan.posted is not None:
        parts.append(f"posted note {plan.posted.id}")
    elif not applied and plan.note is not None:
        parts.append("post this note")
    if posted_only:
        return ", ".join(parts)
    verbs = ("added", "removed", "closed") if applied else ("add", "remove", "close")
    parts += [f"{verbs[0]} the label {terminal_text(name)}" for name in plan.add_labels]
    parts += [f"{verbs[1]} the label {terminal_text(name)}" for name in plan.remove_labels]
    if plan.close:
        parts.append(f"{verbs[2]} the issue")
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _summary(plans: Sequence[TriagePlan], applied: bool) -> str:
    if applied:
        notes = sum(1 for plan in plans if plan.posted is not None)
        updates = sum(1 for plan in plans if plan.updates and plan.applied)
    else:
        notes = sum(1 for plan in plans if plan.note is not None)
        updates = sum(1 for plan in plans if plan.updates)
    if not notes and not updates:
        return "Nothing written." if applied else "Nothing to write."
    verbs = ("posted", "updated") if applied else ("post", "update")
    parts = [f"{verbs[0]} {_count(notes, 'note')}"] if notes else []
    parts += [f"{verbs[1]} {_count(updates, 'issue')}"] if updates else []
    text = " and ".join(parts)
    if applied:
        return text[0].upper() + text[1:] + "."
    return f"Would {text}; run again with --apply to write them."


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"
