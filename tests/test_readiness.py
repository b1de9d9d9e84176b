"""PRODUCT.md §6: when is an issue ready, and when does it ship."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest
from helpers import config_from, issues_of_story

from rollout.config import Config
from rollout.markers import Trust
from rollout.readiness import CHECK_IDS, Assessor, Verdict

TRUSTED = Trust.of(["rollout-bot"])

# Deployments of early 2027 (defaults): Feb 1 (cut-off Jan 27; announce C1 Jan 4, C2 Jan 11,
# C3 Jan 18, C4 Feb 1) and Mar 1 (cut-off Feb 24; C1 Feb 1, C2 Feb 8, C3 Feb 15).
READY_FEATURE = """\
project ops/tracker
feature 1 "Refund macro" by alice, {crit}{extra}:
  2026-12-28 triage; 2026-12-29 development; 2026-12-30 validation
  {signed} received implementation
"""


def verdict(
    story: str, iid: int, as_of: str, config: Config | None = None, for_date: str | None = None
) -> Verdict:
    issue = issues_of_story(story)[iid]
    chosen = date.fromisoformat(for_date) if for_date else None
    return Assessor(config or Config(), trust=TRUSTED).assess(
        issue, date.fromisoformat(as_of), chosen
    )


def feature(crit: str = "C4", signed: str = "2027-01-12", extra: str = "") -> str:
    """A feature signed off (and moved to Implementation) at ``signed``, plus ``extra`` options."""
    return READY_FEATURE.format(crit=crit, signed=signed, extra=extra)


def failing(result: Verdict) -> dict[str, str]:
    return {check.id: check.detail for check in result.checks if not check.ok}


def test_ready_feature_ships_on_the_next_deployment() -> None:
    result = verdict(feature(), 1, "2027-01-20")
    assert result.ready
    assert result.ships_on == date(2027, 2, 1)
    assert [check.id for check in result.checks] == list(CHECK_IDS)
    assert failing(result) == {}
    assert {c.id: c.detail for c in result.checks}["ships-on"] == "2027-02-01, standard deployment"


def test_ready_bug_and_administrative() -> None:
    story = """
        project ops/tracker
        bug 2 "SLA trigger" by carol, C4:
          2027-01-04 triage; 2027-01-06 development; 2027-01-09 validation; 2027-01-10 received
          2027-01-11 implementation
        admin 3 "Rotate key" by dave, C4:
          2027-01-05 triage; 2027-01-06 scheduling; 2027-01-07 development
          2027-01-26 implementation skipped
    """
    assert verdict(story, 2, "2027-01-20").ships_on == date(2027, 2, 1)
    admin = verdict(story, 3, "2027-01-20")
    assert admin.ready and admin.ships_on == date(2027, 2, 1)
    assert admin.signoff.at is not None and admin.signoff.at.date() == date(2027, 1, 26)
    # Signed off (entered Implementation) after the Feb cut-off: the March deployment.
    late = story.replace("2027-01-26 implementation", "2027-01-28 implementation")
    assert verdict(late, 3, "2027-01-20").ships_on == date(2027, 3, 1)


def test_administrative_needs_validation_skipped() -> None:
    story = """
        project ops/tracker
        admin 3 "Rotate key" by dave, C4:
          2027-01-07 development; 2027-01-12 implementation
    """
    assert failing(verdict(story, 3, "2027-01-20"))["validation"] == (
        "Administrative requests need Validation::Skipped; add it"
    )


def test_incident_and_missing_request_type_are_refused() -> None:
    story = """
        project ops/tracker
        incident 4 "Zendesk down" by erin, C1: 2027-01-05 implementation
        issue 5 "No template" by erin, C4: 2027-01-05 implementation
    """
    assert failing(verdict(story, 4, "2027-01-20"))["request-type"] == (
        "RequestType::Incident: incidents have their own process and are never scheduled"
    )
    assert failing(verdict(story, 5, "2027-01-20"))["request-type"] == (
        "no request type; add one of RequestType::Bug, RequestType::Feature, RequestType::Administrative"
    )


@pytest.mark.parametrize(
    ("change", "check", "detail"),
    [
        (
            "close 1 on 2027-01-14",
            "state",
            "closed without Stage::Completed (won't do); reopen it if it should still ship",
        ),
        (
            "events 1: 2027-01-14 validation",
            "stage",
            "in Stage::Validation; it ships once it reaches Stage::Implementation",
        ),
        (
            "events 1: 2027-01-14 blocked",
            "stage",
            "Stage::Blocked; it returns to Stage::Implementation when unblocked",
        ),
        (
            "events 1: 2027-01-14 remove Stage::Implementation",
            "stage",
            "no stage label; it ships from Stage::Implementation",
        ),
        (
            "events 1: 2027-01-14 awaiting",
            "validation",
            "waiting for Validation::Received from the requester",
        ),
        (
            "events 1: 2027-01-14 remove Criticality::C4",
            "criticality",
            "no criticality; add one of Criticality::C1 to Criticality::C4",
        ),
        (
            'issue 9 "Upstream" by erin, created 2027-01-02\nlink 1 blocked by 9',
            "blockers",
            "blocked by open #9; close or unlink them first",
        ),
    ],
)
def test_every_check_fails_on_its_own(change: str, check: str, detail: str) -> None:
    result = verdict(feature() + change + "\n", 1, "2027-01-20")
    assert not result.ready
    assert result.ships_on is None
    found = failing(result)
    if check == "criticality":
        # Without a criticality there is no notice period, so no ships-on either.
        assert found.pop("ships-on") == "needs exactly one criticality to know the notice period"
    if check == "validation":
        assert found.pop("ships-on") == "waits for the sign-off (see validation)"
    assert found == {check: detail}


def test_closed_as_completed_is_fine_and_closed_blocker_does_not_block() -> None:
    story = feature() + textwrap.dedent("""\
        issue 9 "Upstream" by erin, created 2027-01-02
        link 1 blocked by 9
        close 9 on 2027-01-13
        events 1: 2027-01-14 completed
        close 1 on 2027-01-15
    """)
    result = verdict(story, 1, "2027-01-20")
    assert result.ready, failing(result)
    assert {c.id: c.detail for c in result.checks}["blockers"] == "1 blocking issue(s), all closed"
    assert {c.id: c.detail for c in result.checks}["state"] == "closed as Stage::Completed"


@pytest.mark.parametrize(
    ("signed", "ships_on"),
    [("2027-01-27", "2027-02-01"), ("2027-01-28", "2027-03-01")],
)
def test_signoff_on_the_cutoff_day_and_one_day_after(signed: str, ships_on: str) -> None:
    result = verdict(feature(signed=signed), 1, "2027-01-27")
    assert result.ready
    assert result.ships_on == date.fromisoformat(ships_on)


def test_late_signoff_says_why_the_earlier_deployment_was_missed() -> None:
    result = verdict(feature(signed="2027-01-28"), 1, "2027-01-28")
    detail = {c.id: c.detail for c in result.checks}["ships-on"]
    assert detail == (
        "2027-03-01, standard deployment (not earlier: signed off 2027-01-28, "
        "after the 2027-02-01 deployment's cut-off 2027-01-27)"
    )


@pytest.mark.parametrize(
    ("crit", "as_of", "ships_on"),
    [
        ("C1", "2027-01-04", "2027-02-01"),  # announce-by Jan 4
        ("C1", "2027-01-05", "2027-03-01"),
        ("C2", "2027-01-11", "2027-02-01"),
        ("C2", "2027-01-12", "2027-03-01"),
        ("C3", "2027-01-18", "2027-02-01"),
        ("C3", "2027-01-19", "2027-03-01"),
        ("C4", "2027-01-27", "2027-02-01"),
        ("C1", "2027-02-02", "2027-04-01"),  # Mar 1 needs Feb 1 for C1
    ],
)
def test_notice_moves_ships_on_out(crit: str, as_of: str, ships_on: str) -> None:
    result = verdict(feature(crit=crit, signed="2027-01-02"), 1, as_of)
    assert result.ships_on == date.fromisoformat(ships_on)


def test_posted_pre_announcement_date_is_the_announcement_date() -> None:
    marker = "<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"
    story = (
        feature(crit="C2", signed="2027-01-08")
        + f'note 1 by rollout-bot on 2027-01-10: "Planned {marker}"'
    )
    # Announced Jan 10, before the Feb 1 announce-by date for C2 (Jan 11).
    assert verdict(story, 1, "2027-01-20").ships_on == date(2027, 2, 1)
    # The same text without the marker is just a comment: today counts, too late for Feb.
    plain = story.replace(marker, "")
    assert verdict(plain, 1, "2027-01-20").ships_on == date(2027, 3, 1)


@pytest.mark.parametrize(
    "quoted",
    [
        "`<!-- rollout:announcement phase=pre deploy=2027-02-01 -->`",
        "```\\n<!-- rollout:announcement phase=pre deploy=2027-02-01 -->\\n```",
        "~~~~\\n<!-- rollout:announcement phase=pre deploy=2027-02-01 -->",
        "    <!-- rollout:announcement phase=pre deploy=2027-02-01 -->",
    ],
)
def test_a_marker_quoted_as_code_is_not_an_announcement(quoted: str) -> None:
    """Even by rollout's own user: GitLab shows it as text, so nobody was told anything."""
    story = feature(crit="C2", signed="2027-01-08") + (
        f'note 1 by rollout-bot on 2027-01-10: "How the marker looks:\\n\\n{quoted}"'
    )
    assert verdict(story, 1, "2027-01-20").ships_on == date(2027, 3, 1)


def test_december_freeze_holds_c2_back_but_not_c3() -> None:
    story = """
        project ops/tracker
        feature 1 "Macro" by alice, {crit}:
          2027-10-20 development; 2027-10-25 validation; 2027-10-26 received; 2027-10-27 implementation
    """
    # As of Oct 27 both missed November's notice. December: C2 announce-by Nov 10 and
    # C3 Nov 17, but December is frozen for C2.
    as_of = "2027-10-27"
    c2 = verdict(story.format(crit="C2"), 1, as_of)
    c3 = verdict(story.format(crit="C3"), 1, as_of)
    assert c2.ships_on == date(2028, 1, 1)
    assert c3.ships_on == date(2027, 12, 1)
    # From November on, C3 still makes December; C2 waits for January.
    assert verdict(story.format(crit="C3"), 1, "2027-11-02").ships_on == date(2027, 12, 1)
    assert verdict(story.format(crit="C2"), 1, "2027-11-02").ships_on == date(2028, 1, 1)
    detail = {c.id: c.detail for c in verdict(story.format(crit="C2"), 1, "2027-11-02").checks}[
        "ships-on"
    ]
    assert "the 2027-12-01 deployment is frozen for C2 (December code freeze)" in detail


def test_ad_hoc_ships_after_notice_on_a_day_not_frozen() -> None:
    story = feature(crit="C3", extra=", deployment Ad-hoc", signed="2027-01-19")
    result = verdict(story, 1, "2027-01-20")
    assert result.ready
    assert result.ships_on == date(2027, 2, 3)  # announced today, 2 weeks of notice
    assert {c.id: c.detail for c in result.checks}["ships-on"] == "2027-02-03, ad-hoc deployment"
    c4 = feature(crit="C4", extra=", deployment Ad-hoc", signed="2027-01-19")
    assert verdict(c4, 1, "2027-01-20").ships_on == date(2027, 1, 20)
    # Signed off later than as-of: not before the sign-off.
    assert verdict(c4, 1, "2027-01-15").ships_on == date(2027, 1, 19)


def test_ad_hoc_c1_waits_out_the_december_freeze() -> None:
    story = feature(crit="C1", extra=", deployment Ad-hoc", signed="2027-11-10")
    assert verdict(story, 1, "2027-11-15").ships_on == date(2028, 1, 1)


def test_exception_ships_on_its_due_date_and_needs_one() -> None:
    story = feature(extra=", deployment Exception, due 2027-01-22")
    result = verdict(story, 1, "2027-01-20")
    assert result.ready and result.ships_on == date(2027, 1, 22)
    assert {c.id: c.detail for c in result.checks}["ships-on"] == "2027-01-22, exception deployment"
    no_due = feature(extra=", deployment Exception")
    assert failing(verdict(no_due, 1, "2027-01-20")) == {
        "ships-on": "an exception deployment ships on the date leadership approved; set it as the issue's due date"
    }


def test_an_unknown_deployment_type_is_named_as_unknown_not_as_a_conflict() -> None:
    result = verdict(feature(extra=", deployment Hotfix"), 1, "2027-01-20")
    assert {c.id: c.detail for c in result.checks}["ships-on"] == (
        "unknown deployment type Deployment::Hotfix"
    )


def test_for_date_earlier_than_ships_on_is_an_error() -> None:
    result = verdict(feature(signed="2027-01-28"), 1, "2027-01-28", for_date="2027-02-01")
    assert not result.ready
    assert failing(result)["ships-on"].endswith(": later than 2027-02-01, the date asked for")
    fine = verdict(feature(), 1, "2027-01-20", for_date="2027-02-01")
    assert fine.ready


def test_milestone_mismatch_is_only_a_warning() -> None:
    story = feature(extra=', milestone "CustSuppOps Deployment 2027-03-01"').replace(
        "project ops/tracker\n",
        'project ops/tracker\nmilestone "CustSuppOps Deployment 2027-03-01" start 2027-02-01 due 2027-03-01\n',
    )
    result = verdict(story, 1, "2027-01-20")
    assert result.ready
    [milestone] = [c for c in result.checks if c.id == "milestone"]
    assert (milestone.ok, milestone.level) == (False, "warning")
    assert milestone.detail == (
        "the milestone is CustSuppOps Deployment 2027-03-01, but it ships with "
        "CustSuppOps Deployment 2027-02-01; move it"
    )


def test_timezone_decides_the_signoff_date() -> None:
    # Received at 11:30 UTC on the cut-off day (Jan 27) is already the 28th in Auckland.
    config = config_from('[schedule]\ntimezone = "Pacific/Auckland"')
    story = feature(signed="2027-01-27 11:30")
    assert verdict(story, 1, "2027-01-27", config).ships_on == date(2027, 3, 1)
    assert verdict(story, 1, "2027-01-27").ships_on == date(2027, 2, 1)


def test_planned_date_ignores_the_other_checks_and_the_cutoff_before_signoff() -> None:
    story = """
        project ops/tracker
        feature 1 "Macro" by alice, C1: 2027-01-02 development
    """
    issue = issues_of_story(story)[1]
    planned = Assessor(Config()).planned_date(issue, date(2027, 1, 3))
    assert planned.day == date(2027, 2, 1)
