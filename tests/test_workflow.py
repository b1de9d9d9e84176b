"""Labels and label history: stages, validation, sign-off."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from helpers import config_from, issues_of_story

from rollout.business_days import BusinessCalendar
from rollout.config import Config
from rollout.workflow import (
    Vocabulary,
    business_days_in_stage,
    conflicts,
    find_signoff,
    read_labels,
    timeline_of,
)

VOCABULARY = Vocabulary.from_config(Config())
UTC_ZONE = ZoneInfo("UTC")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stages(iid: int, story: str) -> list[tuple[str, str, str | None, str]]:
    issue = issues_of_story(story)[iid]
    timeline = timeline_of(issue, VOCABULARY)
    return [
        (
            span.stage,
            span.entered_at.strftime("%m-%d %H:%M"),
            span.left_at.strftime("%m-%d %H:%M") if span.left_at else None,
            span.entered_by.username,
        )
        for span in timeline.spans
    ]


def test_straight_flow() -> None:
    story = """
        project ops/tracker
        ops bob
        feature 12 "Refund macro" by alice, C2:
          2027-01-03 triage; 2027-01-05 development; 2027-01-10 validation
          2027-01-12 received; 2027-01-13 implementation; 2027-02-01 completed
    """
    assert stages(12, story) == [
        ("triage", "01-03 09:00", "01-05 09:00", "bob"),
        ("development", "01-05 09:00", "01-10 09:00", "bob"),
        ("validation", "01-10 09:00", "01-13 09:00", "bob"),
        ("implementation", "01-13 09:00", "02-01 09:00", "bob"),
        ("completed", "02-01 09:00", None, "bob"),
    ]
    issue = issues_of_story(story)[12]
    timeline = timeline_of(issue, VOCABULARY)
    reading = read_labels(issue.labels, VOCABULARY)
    signoff = find_signoff(reading, timeline, VOCABULARY, UTC_ZONE)
    assert signoff.given and signoff.at == at("2027-01-12T09:00")
    assert timeline.validation[0].by.username == "alice"  # the requester signs off


def test_rejected_reworked_and_validated_again() -> None:
    story = """
        project ops/tracker
        bug 13 "SLA trigger" by carol, C3:
          2027-01-04 triage; 2027-01-06 development; 2027-01-09 validation
          2027-01-10 rejected; 2027-01-11 development; 2027-01-14 validation
          2027-01-15 received; 2027-01-18 implementation
    """
    assert [s[0] for s in stages(13, story)] == [
        "triage", "development", "validation", "development", "validation", "implementation",
    ]
    issue = issues_of_story(story)[13]
    timeline = timeline_of(issue, VOCABULARY)
    assert timeline.last_entered("development") == at("2027-01-11T09:00")
    signoff = find_signoff(read_labels(issue.labels, VOCABULARY), timeline, VOCABULARY, UTC_ZONE)
    assert signoff.at == at("2027-01-15T09:00") and signoff.given


def test_signoff_before_the_rework_does_not_count() -> None:
    story = """
        project ops/tracker
        feature 20 "Macro" by alice, C3:
          2027-01-05 development; 2027-01-07 validation; 2027-01-07 15:00 received
          2027-01-08 development; 2027-01-12 validation; 2027-01-13 implementation
    """
    issue = issues_of_story(story)[20]
    signoff = find_signoff(
        read_labels(issue.labels, VOCABULARY), timeline_of(issue, VOCABULARY), VOCABULARY, UTC_ZONE
    )
    assert not signoff.given
    assert signoff.problem == (
        "Validation::Received was added on 2027-01-07, before the rework that started "
        "2027-01-08; ask the requester to validate again"
    )


def test_received_then_rejected_is_no_signoff() -> None:
    story = """
        project ops/tracker
        feature 21 "Macro" by alice, C3:
          2027-01-05 development; 2027-01-07 validation; 2027-01-08 received; 2027-01-09 rejected
    """
    issue = issues_of_story(story)[21]
    reading = read_labels(issue.labels, VOCABULARY)
    signoff = find_signoff(reading, timeline_of(issue, VOCABULARY), VOCABULARY, UTC_ZONE)
    assert signoff.problem == "Validation::Rejected: rework it in Development and ask for validation again"


def test_blocked_and_back_to_the_previous_stage() -> None:
    story = """
        project ops/tracker
        feature 22 "Macro" by alice, C3:
          2027-01-05 development; 2027-01-07 blocked; 2027-01-14 development; 2027-01-20 validation
    """
    assert [s[0] for s in stages(22, story)] == ["development", "blocked", "development", "validation"]
    blocked_story = story.replace("; 2027-01-14 development; 2027-01-20 validation", "")
    issue = issues_of_story(blocked_story)[22]
    timeline = timeline_of(issue, VOCABULARY)
    assert timeline.current is not None and timeline.current.stage == "blocked"
    assert timeline.previous_stage() == "development"


def test_one_edit_is_one_change_never_two_stages() -> None:
    # GitLab writes "remove Stage::Development" and "add Stage::Validation" with the same
    # timestamp; listed add-first, they still make one swap.
    story = """
        project ops/tracker
        feature 23 "Macro" by alice, C3:
          2027-01-05 development
          2027-01-08 validation add Priority::2
    """
    issue = issues_of_story(story)[23]
    events = [(e.at, e.action, e.label) for e in issue.label_events if e.label and e.label.startswith("Stage::")]
    swap = [e for e in events if e[0] == at("2027-01-08T09:00")]
    assert sorted(e[1] for e in swap) == ["add", "remove"]
    assert [s[0] for s in stages(23, story)] == ["development", "validation"]


def test_labels_removed_and_added_again() -> None:
    story = """
        project ops/tracker
        feature 24 "Macro" by alice, C3:
          2027-01-05 development
          2027-01-06 remove Stage::Development
          2027-01-09 add Stage::Development
    """
    assert stages(24, story) == [
        ("development", "01-05 09:00", "01-06 09:00", "ops"),
        ("development", "01-09 09:00", None, "ops"),
    ]


def test_two_stage_labels_at_once_on_the_free_tier() -> None:
    story = """
        project ops/tracker
        tier free
        feature 25 "Macro" by alice, C3:
          2027-01-05 development
          2027-01-08 validation
    """
    issue = issues_of_story(story)[25]
    reading = read_labels(issue.labels, VOCABULARY)
    assert set(reading.stages) == {"development", "validation"}
    assert reading.stage is None
    assert conflicts(reading, VOCABULARY) == [
        "2 stage labels at once (Stage::Development, Stage::Validation); keep one"
    ]
    # The timeline still has one stage at a time: the one added last.
    assert [s[0] for s in stages(25, story)] == ["development", "validation"]


def test_unknown_stage_and_label_conflicts() -> None:
    reading = read_labels(
        ["Stage::Shipping", "Criticality::C2", "Criticality::C9", "Customer::EMEA", "Deployment::Ad-hoc"],
        VOCABULARY,
    )
    assert reading.stages == ("?Shipping",)
    assert reading.stage is None
    assert reading.customers == ("EMEA",)
    assert reading.deployment_type == "ad_hoc"
    assert conflicts(reading, VOCABULARY) == [
        "unknown stage Stage::Shipping",
        "2 criticality labels at once (Criticality::C2, Criticality::C9); keep one",
        "unknown criticality Criticality::C9",
    ]


def test_renamed_labels_and_aliases_from_the_config() -> None:
    config = config_from("""
        [labels]
        stage = "Flow::"
        [labels.values]
        implementation = "Deploying"
        awaiting = ["Awaiting", "Requested"]
    """)
    vocabulary = Vocabulary.from_config(config)
    reading = read_labels(["Flow::Deploying", "Validation::Requested", "RequestType::Feature"], vocabulary)
    assert reading.stage == "implementation"
    assert reading.validations == ("awaiting",)
    assert vocabulary.stage_label("implementation") == "Flow::Deploying"


def test_business_days_in_the_current_stage_skip_weekends_and_holidays() -> None:
    story = """
        project ops/tracker
        feature 26 "Macro" by alice, C3:
          2027-01-04 development; 2027-01-11 validation
    """
    issue = issues_of_story(story)[26]
    timeline = timeline_of(issue, VOCABULARY)
    plain = BusinessCalendar()
    us = BusinessCalendar.for_policy(config_from('[schedule]\nholidays = { country = "US" }').schedule)
    # Entered Monday 11th; by Friday 22nd: 9 business days, 8 with Martin Luther King Day (18th).
    assert business_days_in_stage(timeline, date(2027, 1, 22), plain, UTC_ZONE) == 9
    assert business_days_in_stage(timeline, date(2027, 1, 22), us, UTC_ZONE) == 8
    assert business_days_in_stage(timeline, date(2027, 1, 11), plain, UTC_ZONE) == 0
