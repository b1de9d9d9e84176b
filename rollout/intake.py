"""Triage on the tracker (PRODUCT.md §11): the new issues, what a run writes, writing it.

For every issue rollout.triage finds something missing in, one note names it, with a
hidden marker carrying the fingerprint of the findings. The latest trusted triage marker
on the issue (PRODUCT.md §3) decides: the same fingerprint means the note is there and
nothing is posted; another one, or none, means a new note. The ``[intake]
needs_info_label`` is added while something is missing and removed once nothing is, and
with ``[intake] close_self_service`` a self-service issue is closed, its note carrying
the instructions: the label changes and the closing are one issue update.

A request that is fixed gets no note of its own: the label's removal says so in the
issue's history, and asking nothing of the requester notifies nobody.

Posting goes through rollout.posting.post_once: the notes are read before every attempt,
so a note whose answer was lost is never posted twice. Issue text in a note is made
inert for Markdown (rollout.safety).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rollout.config import Config
from rollout.errors import RolloutError, TrackerError
from rollout.issues import Note
from rollout.markers import TriageMarker, Trust, last_triage
from rollout.posting import Finder, post_once
from rollout.safety import FORMATS
from rollout.trackers import IssueQuery, Tracker
from rollout.triage import Triager, TriageVerdict, fingerprint, is_new
from rollout.workflow import STAGES, Vocabulary

if TYPE_CHECKING:  # Jinja is loaded while the new issues are read
    from rollout.render import Templates

NOTE_TEMPLATE = "triage.md.j2"


class TriageWriteError(RolloutError):
    """Some of the notes or updates of ``triage --apply`` could not be made."""


@dataclass(frozen=True)
class TriagePlan:
    """What triage writes to one issue, and after --apply what it did."""

    verdict: TriageVerdict
    fingerprint: str | None  # of what the note says; None when nothing is missing
    note: str | None  # the note to post; None when there is nothing to say or it is there
    previous: Note | None  # the trusted note that already says it
    add_labels: tuple[str, ...]
    remove_labels: tuple[str, ...]
    close: bool
    applied: bool = False
    posted: Note | None = None  # the note --apply posted
    error: str | None = None  # why --apply could not finish

    @property
    def iid(self) -> int:
        return self.verdict.iid

    @property
    def updates(self) -> bool:
        return bool(self.add_labels or self.remove_labels or self.close)

    @property
    def writes(self) -> bool:
        return self.note is not None or self.updates


def new_issue_query(vocabulary: Vocabulary) -> IssueQuery:
    """The open issues with no stage label but Triage's: GitLab leaves out those in a
    later stage, so the list holds little more than the new ones (is_new decides the
    rest: GitLab compares label names exactly, rollout without regard to case)."""
    later = tuple(
        f"{vocabulary.prefixes.stage}{alias}"
        for stage in STAGES
        if stage != "triage"
        for alias in getattr(vocabulary.values, stage)
    )
    return IssueQuery("opened", without_labels=later)


def triage_tracker(
    tracker: Tracker,
    config: Config,
    iids: Sequence[int] = (),
    *,
    apply: bool = False,
    templates: Templates | None = None,
) -> list[TriagePlan]:
    """Triage ``iids``, or the new issues (open, in Triage or no stage), and plan the
    writes; with ``apply``, make them. Reads one list (or the issues asked for), the
    token's user, and the notes of the issues something is missing in."""
    tracker.prefetch_user()
    vocabulary = Vocabulary.from_config(config)
    query = new_issue_query(vocabulary)
    if not iids:
        tracker.prefetch_list(query)
    if templates is None:  # loaded while the issues are read
        from rollout.render import Templates

        templates = Templates(config.templates_dir)
    if iids:
        issues = tracker.issues(list(dict.fromkeys(iids)))
    else:
        listed = tracker.list_issues(query, history=())
        issues = sorted((i for i in listed if is_new(i, vocabulary)), key=lambda i: i.iid)
    triager = Triager(config)
    # Every issue is triaged before anything is written: a triage that fails (a pattern
    # that runs too long on someone's text) leaves no issue half done.
    verdicts = [triager.triage(issue) for issue in issues]
    trust = tracker.trust(config.announce.posters)
    notes: dict[int, Sequence[Note]] = {}
    if iids:
        notes = {issue.iid: issue.notes for issue in issues}
    elif not apply:  # --apply reads them right before posting
        wanted = [v.issue for v in verdicts if v.findings]
        notes = {issue.iid: issue.notes for issue in tracker.with_history(wanted, ("notes",))}
    plans = [
        plan_triage(verdict, config, trust, notes.get(verdict.iid), templates)
        for verdict in verdicts
    ]
    if apply:
        attempts = config.tracker.retries + 1
        # Each issue's writes stay in their order (its notes read, its note posted, its
        # labels changed); the issues are independent, so they are written side by side.
        with ThreadPoolExecutor(max_workers=config.tracker.concurrency) as pool:
            plans = list(pool.map(lambda plan: apply_triage(tracker, plan, trust, attempts), plans))
    return plans


def plan_triage(
    verdict: TriageVerdict,
    config: Config,
    trust: Trust,
    notes: Sequence[Note] | None,
    templates: Templates,
) -> TriagePlan:
    """What to write to the issue. ``notes`` None: not read yet; the note is then planned
    whenever something is missing, and --apply looks for it before posting."""
    issue = verdict.issue
    label = config.intake.needs_info_label
    present = tuple(name for name in issue.labels if name.casefold() == label.casefold())
    if not issue.is_open:  # closed already: nothing to ask for
        return TriagePlan(verdict, None, None, None, (), (), False)
    closing = config.intake.close_self_service and verdict.self_service is not None
    if not verdict.findings:
        return TriagePlan(verdict, None, None, None, (), present, False)
    keys = [finding.key for finding in verdict.findings] + (["action:close"] if closing else [])
    printed = fingerprint(keys)
    previous = _said(notes, printed, trust) if notes is not None else None
    note = None if previous else note_body(verdict, config, printed, closing, templates)
    if closing:
        return TriagePlan(verdict, printed, note, previous, (), present, True)
    return TriagePlan(verdict, printed, note, previous, () if present else (label,), (), False)


def _said(notes: Sequence[Note], printed: str, trust: Trust) -> Note | None:
    """The note whose trusted marker is the latest and carries this fingerprint."""
    last = last_triage(notes, trust)
    return last[1] if last is not None and last[0].fingerprint == printed else None


def _finder(printed: str, trust: Trust) -> Finder:
    return lambda notes: _said(notes, printed, trust)


def note_body(
    verdict: TriageVerdict, config: Config, printed: str, closing: bool, templates: Templates
) -> str:
    """The note for the requester, issue text made inert, and the marker."""
    md = FORMATS["md"]
    match = verdict.self_service
    context = {
        "issue": {"iid": verdict.iid, "reference": f"#{verdict.iid}"},
        "findings": [
            md.inline(finding.text)
            for finding in verdict.findings
            if not finding.key.startswith("self-service:")
        ],
        "self_service": None
        if match is None
        else {
            "name": md.inline(match.rule.name),
            "instructions": match.rule.instructions,
            "matched": md.inline(match.matched),
        },
        "closing": closing,
        "label": md.inline(config.intake.needs_info_label),
    }
    text = templates.render(NOTE_TEMPLATE, context).strip()
    return f"{text}\n\n{TriageMarker(printed).render()}\n"


def apply_triage(tracker: Tracker, plan: TriagePlan, trust: Trust, attempts: int) -> TriagePlan:
    """Post the note unless it is there, then update the issue; a failure is recorded in
    the plan (the issue is not updated when its note could not be posted)."""
    if not plan.writes:
        return replace(plan, applied=True)
    done = plan
    try:
        if plan.note is not None and plan.fingerprint is not None:
            outcome = post_once(
                tracker, plan.iid, plan.note, _finder(plan.fingerprint, trust), attempts
            )
            if outcome.posted:
                done = replace(done, posted=outcome.note)
            else:
                done = replace(done, note=None, previous=outcome.note)
        if plan.updates:
            tracker.update_issue(
                plan.iid,
                add_labels=plan.add_labels,
                remove_labels=plan.remove_labels,
                close=plan.close,
            )
    except TrackerError as error:
        return replace(done, error=str(error))
    return replace(done, applied=True)


def raise_for_errors(plans: Sequence[TriagePlan]) -> None:
    """One error for the writes --apply could not make (the others were made)."""
    failed = [plan for plan in plans if plan.error]
    if failed:
        names = ", ".join(f"#{plan.iid}" for plan in failed)
        raise TriageWriteError(f"could not finish triaging {names}: {failed[0].error}")
