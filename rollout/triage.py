"""Is a new request complete enough to plan? (PRODUCT.md §11)

Four checks with readiness's shape (rollout.readiness.Check): **request-type** (one
``RequestType::`` label), **template** (the sections ``[intake.sections]`` requires for
the type, present and filled in), **severity** (a bug has one ``Priority::`` label) and
**self-service** (no ``[[intake.self_service]]`` rule matches). Each failed check also
gives findings: what is missing and how to fix it, for the requester, with a stable key;
the fingerprint of the keys tells whether the findings changed since the last note.

A required section named like one of an ``[announce]`` heading group ("What" is one of
``what_headings``) is satisfied by any heading of that group, so a request that passes
triage has what its announcements will quote.

Pure: the issue and the config are all it looks at.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rollout.config import INTAKE_TYPES, Config, PatternTimeout, SelfServiceRule
from rollout.descriptions import find_section, normal
from rollout.errors import RolloutError
from rollout.issues import Issue
from rollout.readiness import Check
from rollout.safety import clean
from rollout.workflow import (
    PRIORITIES,
    LabelReading,
    Vocabulary,
    conflicts,
    read_labels,
)

TRIAGE_CHECK_IDS = ("request-type", "template", "severity", "self-service")
# HTML comments in a description are a template's instructions, not the request.
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)


class SlowPattern(RolloutError):
    """A self-service pattern ran too long on an issue's text and was stopped."""

    def __init__(self, rule: SelfServiceRule, iid: int, slow: PatternTimeout) -> None:
        super().__init__(
            f'self-service rule "{rule.name}": {slow} on issue #{iid} and was stopped; '
            "simplify the pattern in [[intake.self_service]] (repeats that can match the same "
            "text in many ways, like (a|aa)+, take for ever on some text)"
        )


@dataclass(frozen=True)
class Finding:
    """One thing a request lacks."""

    key: str  # stable, for the fingerprint: "template:missing:steps to reproduce"
    text: str  # what is missing and how to fix it, for the requester (plain text)


@dataclass(frozen=True)
class SelfServiceMatch:
    rule: SelfServiceRule
    matched: str  # the words of the title or description that matched


@dataclass(frozen=True)
class TriageVerdict:
    issue: Issue
    request_type: str | None  # a role of workflow.REQUEST_TYPES, when there is one
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]
    self_service: SelfServiceMatch | None

    @property
    def iid(self) -> int:
        return self.issue.iid

    @property
    def ready(self) -> bool:
        """Every check passes: nothing for the requester to add."""
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def fingerprint(keys: list[str]) -> str:
    """Twelve hex digits that change whenever the set of keys does."""
    digest = hashlib.sha256("\n".join(sorted(set(keys))).encode("utf-8"))
    return digest.hexdigest()[:12]


def is_new(issue: Issue, vocabulary: Vocabulary) -> bool:
    """Open, and in Stage::Triage or in no stage at all."""
    stages = read_labels(issue.labels, vocabulary).stages
    return issue.is_open and stages in ((), ("triage",))


class Triager:
    """Applies the intake checks to issues against one config; reuse it for many."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.intake = config.intake
        self.vocabulary = Vocabulary.from_config(config)
        announce = config.announce
        self._groups = (announce.what_headings, announce.why_headings, announce.other_headings)

    def triage(self, issue: Issue) -> TriageVerdict:
        reading = read_labels(issue.labels, self.vocabulary)
        kind = reading.request_type
        match = self.self_service(issue, kind)
        results = [
            self._request_type(reading),
            self._template(issue, kind),
            self._severity(reading, kind),
            self._self_service(match, kind),
        ]
        return TriageVerdict(
            issue=issue,
            request_type=kind,
            checks=tuple(check for check, _ in results),
            findings=tuple(finding for _, findings in results for finding in findings),
            self_service=match,
        )

    def self_service(self, issue: Issue, kind: str | None) -> SelfServiceMatch | None:
        """The first self-service rule that matches the title or the description (its HTML
        comments, a template's instructions, left out); incidents never match. SlowPattern
        when a pattern runs too long on the text."""
        if kind == "incident":
            return None
        text = f"{issue.title}\n\n{_COMMENT.sub('', issue.description)}"
        for rule in self.intake.self_service:
            try:
                match = rule.search(text)
            except PatternTimeout as slow:
                raise SlowPattern(rule, issue.iid, slow) from None
            if match is not None:
                return SelfServiceMatch(rule, clean(match.group(0), limit=80))
        return None

    def required_headings(self, name: str) -> tuple[str, ...]:
        """The headings that satisfy a required section: its [announce] group, if it is
        named like one of a group's headings, else the name itself."""
        for group in self._groups:
            if normal(name) in {normal(heading) for heading in group}:
                return (name, *(h for h in group if normal(h) != normal(name)))
        return (name,)

    # ------------------------------------------------------------------ the checks

    def _type_label(self, role: str) -> str:
        return self.vocabulary.label(self.vocabulary.prefixes.request_type, role)

    def _request_type(self, reading: LabelReading) -> tuple[Check, list[Finding]]:
        options = ", ".join(self._type_label(role) for role in INTAKE_TYPES)
        problems = [p for p in conflicts(reading, self.vocabulary) if "request type" in p]
        if problems:
            text = "; ".join(problems)
            key = "request-type:" + ",".join(sorted(reading.request_types))
            finding = Finding(key, f"Fix the request type labels: {text}. Use one of {options}.")
            return Check("request-type", False, "error", text), [finding]
        kind = reading.request_type
        if kind is None:
            detail = f"no request type; add one of {options}"
            finding = Finding(
                "request-type:none",
                f"Add a request type label: one of {options}.",
            )
            return Check("request-type", False, "error", detail), [finding]
        return Check("request-type", True, "error", self._type_label(kind)), []

    def _template(self, issue: Issue, kind: str | None) -> tuple[Check, list[Finding]]:
        if kind is None:
            detail = "needs a request type first, to know which sections (see request-type)"
            return Check("template", False, "error", detail), []
        required = self.intake.sections.get(kind, ())
        if not required:
            return (
                Check("template", True, "error", f"no sections required for {INTAKE_TYPES[kind]}"),
                [],
            )
        missing, empty, findings = [], [], []
        for name in required:
            found = find_section(issue.description, self.required_headings(name))
            if found is None:
                missing.append(name)
                findings.append(
                    Finding(
                        f"template:missing:{normal(name)}",
                        f'Add a "{name}" section to the description: a heading "{name}" '
                        "with the details under it.",
                    )
                )
            elif found.empty:
                empty.append(name)
                findings.append(
                    Finding(
                        f"template:empty:{normal(name)}",
                        f'Fill in the "{name}" section of the description.',
                    )
                )
        if not findings:
            return Check("template", True, "error", ", ".join(required) + ": filled in"), []
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"empty {', '.join(empty)}"] if empty else []
        return Check("template", False, "error", "; ".join(parts)), findings

    def _severity(self, reading: LabelReading, kind: str | None) -> tuple[Check, list[Finding]]:
        prefix = self.config.labels.priority
        scale = ", ".join(f"{prefix}{value} ({meaning})" for value, meaning in PRIORITIES.items())
        found = reading.priorities
        if reading.priority is not None:
            value = reading.priority
            return Check("severity", True, "error", f"{prefix}{value} ({PRIORITIES[value]})"), []
        if kind is None:
            return (
                Check("severity", False, "error", "needs a request type first (see request-type)"),
                [],
            )
        if kind != "bug" and not found:
            return Check("severity", True, "error", "only bugs need a severity"), []
        labels = ", ".join(f"{prefix}{value}" for value in found)
        if len(found) > 1:
            detail = f"{len(found)} priority labels at once ({labels}); keep one"
            finding = Finding("severity:several", f"Keep one severity label: it has {labels}.")
        elif found:
            detail = f"unknown priority {labels}; use one of {scale}"
            finding = Finding(
                f"severity:unknown:{found[0].casefold()}",
                f"{labels} is not a severity: use one of {scale}.",
            )
        else:
            detail = f"no {prefix} label; a bug needs one of {scale}"
            finding = Finding("severity:none", f"Select a severity: add one of the labels {scale}.")
        return Check("severity", False, "error", detail), [finding]

    def _self_service(
        self, match: SelfServiceMatch | None, kind: str | None
    ) -> tuple[Check, list[Finding]]:
        if kind == "incident":
            return Check("self-service", True, "error", "incidents are never self-service"), []
        if match is None:
            return Check("self-service", True, "error", "no self-service rule matches"), []
        rule = match.rule
        detail = f'"{rule.name}" (matched "{match.matched}"); self-serve it: {rule.instructions}'
        finding = Finding(
            f"self-service:{normal(rule.name)}",
            f"This looks like something you can do yourself ({rule.name}): {rule.instructions}",
        )
        return Check("self-service", False, "error", detail), [finding]
