"""The intake checks of new requests (PRODUCT.md §11), as tables of labels and descriptions."""

from __future__ import annotations

import time

import pytest
from helpers import config_from

from rollout.config import Config
from rollout.issues import Issue, issue_from_json
from rollout.triage import SlowPattern, Triager, TriageVerdict, fingerprint, is_new
from rollout.workflow import Vocabulary

BUG = "## Steps to reproduce\n1. Open a ticket\n\n## Expected behavior\nIt saves.\n\n## Actual behavior\nIt does not."
FEATURE = "## What\nA macro.\n\n## Why\nSpeed."


def issue(
    labels: list[str], description: str = "", title: str = "A request", state: str = "opened"
) -> Issue:
    return issue_from_json(
        {
            "id": 1,
            "iid": 7,
            "project_id": 1,
            "title": title,
            "description": description,
            "state": state,
            "labels": labels,
            "created_at": "2027-01-18T09:00:00Z",
            "updated_at": "2027-01-18T09:00:00Z",
        }
    )


def verdict(
    labels: list[str], description: str = "", title: str = "A request", config: Config | None = None
) -> TriageVerdict:
    return Triager(config or Config()).triage(issue(labels, description, title))


def check(result: TriageVerdict, check_id: str) -> tuple[bool, str]:
    [found] = [c for c in result.checks if c.id == check_id]
    return found.ok, found.detail


def keys(result: TriageVerdict, check_id: str) -> list[str]:
    return [f.key for f in result.findings if f.key.startswith(check_id)]


# ------------------------------------------------------------------ request-type

REQUEST_TYPES = [
    (["RequestType::Bug", "Priority::2"], True, "RequestType::Bug", []),
    (["RequestType::feature"], True, "RequestType::Feature", []),  # any case
    (["RequestType::Incident"], True, "RequestType::Incident", []),
    (
        [],
        False,
        "no request type; add one of RequestType::Bug, RequestType::Feature, RequestType::Administrative, RequestType::Incident",
        ["request-type:none"],
    ),
    (["Stage::Triage"], False, "no request type", ["request-type:none"]),
    (
        ["RequestType::Bug", "RequestType::Feature"],
        False,
        "2 request type labels at once (RequestType::Bug, RequestType::Feature); keep one",
        ["request-type:bug,feature"],
    ),
    (
        ["RequestType::Question"],
        False,
        "unknown request type RequestType::Question",
        ["request-type:?Question"],
    ),
]


@pytest.mark.parametrize(("labels", "ok", "detail", "found"), REQUEST_TYPES)
def test_request_type(labels: list[str], ok: bool, detail: str, found: list[str]) -> None:
    result = verdict(labels, BUG)
    assert check(result, "request-type")[0] is ok
    assert check(result, "request-type")[1].startswith(detail)
    assert keys(result, "request-type") == found


def test_without_a_request_type_template_and_severity_wait_for_it() -> None:
    result = verdict([], "")
    assert check(result, "template") == (
        False,
        "needs a request type first, to know which sections (see request-type)",
    )
    assert check(result, "severity") == (False, "needs a request type first (see request-type)")
    assert [f.key for f in result.findings] == ["request-type:none"]  # one thing to ask for


# ------------------------------------------------------------------ template

TEMPLATES = [
    pytest.param(
        ["RequestType::Bug"],
        BUG,
        True,
        "Steps to reproduce, Expected behavior, Actual behavior: filled in",
        [],
        id="bug-present",
    ),
    pytest.param(
        ["RequestType::Bug"],
        "## Expected behavior\nIt saves.\n## Actual behavior\nNo.",
        False,
        "missing Steps to reproduce",
        ["template:missing:steps to reproduce"],
        id="bug-missing-steps",
    ),
    pytest.param(
        ["RequestType::Bug"],
        BUG.replace("It does not.", "<!-- What happens instead? -->"),
        False,
        "empty Actual behavior",
        ["template:empty:actual behavior"],
        id="bug-empty-comment-only",
    ),
    pytest.param(
        ["RequestType::Bug"],
        "## Steps to reproduce\n\n## Expected behavior\n\n## Actual behavior\nNo.",
        False,
        "empty Steps to reproduce, Expected behavior",
        ["template:empty:steps to reproduce", "template:empty:expected behavior"],
        id="bug-two-empty",
    ),
    pytest.param(
        ["RequestType::Bug"],
        "Steps to reproduce\n---\n1. Open\n\nExpected behavior\n---\nSaves\n\nActual behavior\n---\nDoes not",
        True,
        "Steps to reproduce, Expected behavior, Actual behavior: filled in",
        [],
        id="setext-headings",
    ),
    pytest.param(
        ["RequestType::Bug"],
        "**Steps to reproduce:**\n1. Open\n\n**Expected behavior**\nSaves\n\n**Actual behavior**\nDoes not",
        True,
        "Steps to reproduce, Expected behavior, Actual behavior: filled in",
        [],
        id="bold-line-headings",
    ),
    pytest.param(
        ["RequestType::Bug"],
        "## Expected behavior\nSaves\n## Actual behavior\nNo\n```\n## Steps to reproduce\n1. Open\n```",
        False,
        "missing Steps to reproduce",
        ["template:missing:steps to reproduce"],
        id="section-inside-a-code-fence",
    ),
    pytest.param(
        ["RequestType::Bug"],
        "~~~\n## Steps to reproduce\n```\n~~~\n## Expected behavior\nSaves\n## Actual behavior\nNo",
        False,
        "missing Steps to reproduce",
        ["template:missing:steps to reproduce"],
        id="section-inside-a-tilde-fence",
    ),
    pytest.param(
        ["RequestType::Bug"],
        "## Expected behavior\nSaves\n## Actual behavior\nNo\n<!--\n## Steps to reproduce\n1. Open\n-->",
        False,
        "missing Steps to reproduce",
        ["template:missing:steps to reproduce"],
        id="section-inside-a-comment",
    ),
    pytest.param(
        ["RequestType::Feature"], FEATURE, True, "What, Why: filled in", [], id="feature-present"
    ),
    pytest.param(
        ["RequestType::Feature"],
        "## Proposal\nA macro.\n\n### Business need\nSpeed.",
        True,
        "What, Why: filled in",
        [],
        id="feature-announce-aliases",
    ),
    pytest.param(
        ["RequestType::Feature"],
        "## What\nA macro.",
        False,
        "missing Why",
        ["template:missing:why"],
        id="feature-missing-why",
    ),
    pytest.param(
        ["RequestType::Feature"],
        "",
        False,
        "missing What, Why",
        ["template:missing:what", "template:missing:why"],
        id="feature-empty-description",
    ),
    pytest.param(
        ["RequestType::Feature"],
        "## What\n## Why\nSpeed.",
        False,
        "empty What",
        ["template:empty:what"],
        id="feature-empty-what",
    ),
    pytest.param(
        ["RequestType::Administrative"],
        "## What\nRotate the token.",
        True,
        "What: filled in",
        [],
        id="administrative-present",
    ),
    pytest.param(
        ["RequestType::Administrative"],
        "Rotate the token.",
        False,
        "missing What",
        ["template:missing:what"],
        id="administrative-missing",
    ),
    pytest.param(
        ["RequestType::Incident"],
        "",
        True,
        "no sections required for Incident",
        [],
        id="incident-nothing-required",
    ),
]


@pytest.mark.parametrize(("labels", "description", "ok", "detail", "found"), TEMPLATES)
def test_template(
    labels: list[str], description: str, ok: bool, detail: str, found: list[str]
) -> None:
    result = verdict(labels, description)
    assert check(result, "template") == (ok, detail)
    assert keys(result, "template") == found


def test_sections_are_configurable_per_request_type() -> None:
    config = config_from("""
        [intake.sections]
        bug = ["Summary"]
        Incident = ["Impact", "Troubleshooting steps"]
    """)
    assert check(
        verdict(["RequestType::Bug", "Priority::1"], "## Summary\nBroken.", config=config),
        "template",
    )[0]
    result = verdict(["RequestType::Incident"], "## Impact\nEveryone.", config=config)
    assert check(result, "template") == (False, "missing Troubleshooting steps")
    assert check(verdict(["RequestType::Feature"], FEATURE, config=config), "template")[
        0
    ]  # default kept


def test_what_and_why_follow_the_announce_headings() -> None:
    config = config_from(
        '[announce]\nwhat_headings = ["Change", "What"]\nwhy_headings = ["Reason"]\n[intake.sections]\nfeature = ["What", "Reason"]\n'
    )
    result = verdict(
        ["RequestType::Feature"], "## Change\nA macro.\n## Reason\nSpeed.", config=config
    )
    assert check(result, "template") == (True, "What, Reason: filled in")


# ------------------------------------------------------------------ severity

SEVERITIES = [
    (["RequestType::Bug", "Priority::1"], True, "Priority::1 (urgent)", []),
    (["RequestType::Bug", "Priority::4"], True, "Priority::4 (low)", []),
    (
        ["RequestType::Bug"],
        False,
        "no Priority:: label; a bug needs one of Priority::1 (urgent), Priority::2 (high), Priority::3 (medium), Priority::4 (low)",
        ["severity:none"],
    ),
    (
        ["RequestType::Bug", "Priority::1", "Priority::3"],
        False,
        "2 priority labels at once (Priority::1, Priority::3); keep one",
        ["severity:several"],
    ),
    (
        ["RequestType::Bug", "Priority::P1"],
        False,
        "unknown priority Priority::P1; use one of Priority::1 (urgent)",
        ["severity:unknown:p1"],
    ),
    (["RequestType::Feature"], True, "only bugs need a severity", []),
    (["RequestType::Feature", "Priority::3"], True, "Priority::3 (medium)", []),
    (["RequestType::Administrative"], True, "only bugs need a severity", []),
]


@pytest.mark.parametrize(("labels", "ok", "detail", "found"), SEVERITIES)
def test_severity(labels: list[str], ok: bool, detail: str, found: list[str]) -> None:
    result = verdict(labels, BUG)
    assert check(result, "severity")[0] is ok
    assert check(result, "severity")[1].startswith(detail)
    assert keys(result, "severity") == found


def test_the_priority_prefix_is_configurable() -> None:
    config = config_from('[labels]\npriority = "Severity::"\n')
    assert check(verdict(["RequestType::Bug", "Severity::2"], BUG, config=config), "severity") == (
        True,
        "Severity::2 (high)",
    )
    assert not check(verdict(["RequestType::Bug", "Priority::2"], BUG, config=config), "severity")[
        0
    ]


# ------------------------------------------------------------------ self-service

ZENDESK = "Zendesk managed content"
YAML = "Support Team YAML files"
SELF_SERVICE = [
    # what people file that they could do themselves
    ("Update the refund macro wording", "", ZENDESK),
    ("Add a macro for refund requests", "", ZENDESK),
    ("New trigger for premium support routing", "", ZENDESK),
    ("Please fix a typo in the SLA macro", "", ZENDESK),
    ("Retire the old escalation macros", "", ZENDESK),
    ("Refund requests", "## What\nCreate a new macro that answers refund requests.", ZENDESK),
    ("Trigger update request: notify EMEA managers", "", ZENDESK),
    ("Changes to Zendesk managed content", "", ZENDESK),
    ("Deactivate the holiday automation", "", ZENDESK),
    ("Update my working hours in the support team YAML", "", YAML),
    ("Add new hire Jane to support-team.yaml", "", YAML),
    ("Change my Zendesk groups", "## What\nPlease change the groups in my YAML file.", YAML),
    ("Support-team yml: new focus area for Alex", "", YAML),
    # near misses: about the same things, but not a change people make themselves
    ("Macro app crashes when applying a macro", "", None),
    ("Triggers are not firing after the Zendesk upgrade", "", None),
    ("Trigger a re-sync of the organization field", "", None),
    ("Create a macro usage report for managers", "", None),
    ("Change the trigger loop detection", "", None),
    ("Rotate the Zendesk API token", "", None),
    ("A sandbox for the Zendesk app", "", None),
    ("Zendesk outage on 2027-01-09", "", None),
    ("Support team YAML sync job fails with a parser error", "", None),
    ("The YAML file of the org sync has a syntax error", "", None),
    ("Add a ticket form for Japanese customers", "", None),
    (
        "Knowledge base search box",
        "<!-- Macro updates are self-service: see the handbook -->\n## What\nA search box.",
        None,
    ),
    ("Reminders", "```\nupdate the macro\n```", ZENDESK),  # a fence is still the request's text
]


@pytest.mark.parametrize(
    ("title", "description", "rule"), SELF_SERVICE, ids=[t for t, _, _ in SELF_SERVICE]
)
def test_self_service_matches_and_near_misses(
    title: str, description: str, rule: str | None
) -> None:
    result = verdict(["RequestType::Feature"], description or FEATURE, title)
    match = result.self_service
    assert (match.rule.name if match else None) == rule
    ok, detail = check(result, "self-service")
    assert ok is (rule is None)
    if rule:
        assert detail.startswith(f'"{rule}" (matched "')
        assert keys(result, "self-service") == [f"self-service:{rule.casefold()}"]


def test_incidents_are_never_self_service() -> None:
    result = verdict(["RequestType::Incident"], "", "Update the refund macro: it is down")
    assert result.self_service is None
    assert check(result, "self-service") == (True, "incidents are never self-service")


def test_configured_rules_replace_the_defaults() -> None:
    config = config_from("""
        [[intake.self_service]]
        name = "Calendly"
        patterns = ['\\bcalendly\\b']
        instructions = "https://handbook.example.com/calendly"
    """)
    assert (
        verdict(
            ["RequestType::Feature"], FEATURE, "Add me to the Calendly event", config
        ).self_service
        is not None
    )
    assert (
        verdict(["RequestType::Feature"], FEATURE, "Update the refund macro", config).self_service
        is None
    )
    assert (
        verdict(
            ["RequestType::Feature"],
            FEATURE,
            "Update the refund macro",
            config_from("[intake]\nself_service = []\n"),
        ).self_service
        is None
    )


def test_a_runaway_pattern_is_stopped_naming_the_rule_the_pattern_and_the_issue() -> None:
    # (a|aa)+$ tries every way of splitting the a's before failing at the "!".
    config = config_from("""
        [[intake.self_service]]
        name = "Evil"
        patterns = ['calendly', '(a|aa)+$']
        instructions = "https://example.com/x"
    """)
    started = time.monotonic()
    with pytest.raises(SlowPattern) as raised:
        verdict(["RequestType::Feature"], FEATURE + "a" * 40 + "!", config=config)
    assert time.monotonic() - started < 5
    assert str(raised.value).startswith(
        'self-service rule "Evil": patterns[2] took longer than 0.25 s on issue #7 and was stopped; '
        "simplify the pattern"
    )


def test_the_classic_runaway_pattern_just_does_not_match() -> None:
    # The regex module searches (a+)+$ without backtracking through every split.
    config = config_from("""
        [[intake.self_service]]
        name = "Evil"
        patterns = ['(a+)+$']
        instructions = "https://example.com/x"
    """)
    result = verdict(["RequestType::Feature"], FEATURE + "a" * 40 + "!", config=config)
    assert result.self_service is None


def test_the_defaults_have_time_for_a_long_description() -> None:
    # Each "update" starts a search for its object: about a microsecond a character, more
    # than the 0.25 s floor at this length, well within the time that grows with the text.
    result = verdict(["RequestType::Feature"], FEATURE + "\n" + "update " * 60_000)
    assert result.self_service is None
    assert verdict(["RequestType::Feature"], FEATURE + "\nupdate the macro").self_service


# ------------------------------------------------------------------ verdicts and fingerprints


def test_ready_when_every_check_passes() -> None:
    assert verdict(["RequestType::Bug", "Priority::2"], BUG).ready
    result = verdict(["RequestType::Bug"], "## Expected behavior\nx")
    assert not result.ready
    assert [c.id for c in result.failures] == ["template", "severity"]
    assert [f.key for f in result.findings] == [
        "template:missing:steps to reproduce",
        "template:missing:actual behavior",
        "severity:none",
    ]


def test_the_fingerprint_changes_with_the_set_of_findings_only() -> None:
    assert fingerprint(["a", "b"]) == fingerprint(["b", "a", "a"])
    assert fingerprint(["a"]) != fingerprint(["a", "b"])
    assert len(fingerprint([])) == 12


@pytest.mark.parametrize(
    ("labels", "state", "new"),
    [
        ([], "opened", True),
        (["Stage::Triage"], "opened", True),
        (["Stage::triage", "RequestType::Bug"], "opened", True),
        (["Stage::Planning"], "opened", False),
        (["Stage::Triage", "Stage::Planning"], "opened", False),
        (["Stage::Unknown"], "opened", False),
        (["Stage::Triage"], "closed", False),
    ],
)
def test_new_issues_are_open_in_triage_or_no_stage(
    labels: list[str], state: str, new: bool
) -> None:
    assert is_new(issue(labels, state=state), Vocabulary.from_config(Config())) is new
