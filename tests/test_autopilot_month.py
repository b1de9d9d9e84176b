"""The acceptance scenario of issue 11: a month of the daily CI job against the GitLab and
Slack test servers.

Every day from the first pre-announcement to the end of the post window the servers' clocks
move to 10:00 of that day, what happened to the issues that morning happens (labels change
at 09:00), and ``rollout announce --due --post`` runs twice, as a retried job would. At the
end every announcement is on GitLab and in Slack exactly once, posted on the day it was due.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from autopilot import PROJECT_ID, Autopilot
from scenarios import load_story

FEB, MAR = "CustSuppOps Deployment 2027-02-01", "CustSuppOps Deployment 2027-03-01"
STORY = f"""\
project ops/tracker id 7
user alice "Alice Moreau"
user bob "Bob Okafor"
user rollout-bot "Rollout Bot"
milestone "{FEB}" start 2027-01-01 due 2027-02-01
milestone "{MAR}" start 2027-02-01 due 2027-03-01
feature 42 "Add a refund macro" by alice, C2, customer Support-EMEA, milestone "{FEB}": 2027-01-03 triage
bug 43 "Fix the SLA trigger" by alice, C3, customer Support-AMER, milestone "{FEB}": 2027-01-03 triage
admin 44 "Rotate the API token" by bob, C4, milestone "{FEB}": 2027-01-03 triage
feature 45 "Route Japanese tickets to APAC" by alice, C1, customer Support-APAC, milestone "{MAR}": 2027-01-03 triage
"""
# What the team does, morning by morning (09:00 UTC, before the job runs at 10:00).
MORNINGS: dict[str, list[tuple[int, list[str]]]] = {
    "2027-01-04": [
        (42, ["Stage::Development"]),
        (43, ["Stage::Development"]),
        (45, ["Stage::Development"]),
    ],
    "2027-01-08": [(42, ["Stage::Validation", "Validation::Awaiting"])],
    "2027-01-11": [(42, ["Validation::Received"]), (42, ["Stage::Implementation"])],
    "2027-01-12": [(43, ["Stage::Validation", "Validation::Awaiting"])],
    "2027-01-14": [(43, ["Validation::Rejected"]), (43, ["Stage::Development"])],
    "2027-01-18": [(44, ["Stage::Development"])],
    "2027-01-20": [(44, ["Stage::Implementation", "Validation::Skipped"])],
    "2027-01-25": [(43, ["Stage::Validation", "Validation::Awaiting"])],
    # After February's sign-off cut-off (Jan 27): #43 moves to March.
    "2027-01-28": [(43, ["Validation::Received"]), (43, ["Stage::Implementation"])],
    "2027-02-03": [(42, ["Stage::Completed"])],
}
CLOSED = {"2027-02-03": [42]}
FIRST, LAST = date(2027, 1, 4), date(2027, 2, 8)  # the first pre-announcement, the window's end

# (iid, phase, deploy, day posted): every announcement, on the day it is due.
EXPECTED = [
    (42, "pre", "2027-02-01", "2027-01-04"),
    (43, "pre", "2027-02-01", "2027-01-04"),
    # C1, announced on its February announce-by day: planned for February until it passes.
    (45, "pre", "2027-02-01", "2027-01-04"),
    (44, "pre", "2027-02-01", "2027-01-18"),
    (43, "pre", "2027-03-01", "2027-01-28"),  # signed off after the cut-off: moved
    (42, "reminder", "2027-02-01", "2027-01-29"),
    (44, "reminder", "2027-02-01", "2027-01-29"),
    (42, "reminder", "2027-02-01", "2027-02-01"),
    (44, "reminder", "2027-02-01", "2027-02-01"),
    (42, "post", "2027-02-01", "2027-02-01"),
    (44, "post", "2027-02-01", "2027-02-01"),
    (45, "pre", "2027-03-01", "2027-02-02"),  # never signed off for February: moved
]


def morning(autopilot: Autopilot, day: date) -> None:
    at = datetime(day.year, day.month, day.day, 9, 0).isoformat() + "Z"
    state = autopilot.gitlab.state
    for iid, labels in MORNINGS.get(str(day), []):
        state.change_labels(PROJECT_ID, iid, add=labels, at=at, by="bob")
    for iid in CLOSED.get(str(day), []):
        state.close_issue(PROJECT_ID, iid, at=at, by="bob")


def gitlab_ledger(autopilot: Autopilot) -> list[tuple[int, str, str, str]]:
    """(iid, phase, deploy, the day the note was posted) of rollout's notes, by day."""
    found = []
    for iid, phase, deploy, posted in autopilot.gitlab_announcements():
        [note] = [
            n
            for n in autopilot.notes(iid)
            if f"phase={phase} deploy={deploy}" in n["body"]
            and (posted is None or f"posted={posted}" in n["body"])
        ]
        day = note["created_at"][:10]
        assert posted in (None, day)  # a reminder's marker records the day it went out
        found.append((iid, phase, deploy, day))
    return found


def slack_ledger(autopilot: Autopilot) -> list[tuple[int, str, str, str]]:
    """(iid, phase, deploy, day) of every Slack message; each was posted on its day."""
    found = autopilot.slack_announcements()
    posted = [
        str(datetime.fromtimestamp(float(m.ts), tz=UTC).date()) for m in autopilot.slack_messages()
    ]
    assert posted == [entry[3] for entry in found]
    return found


def by_day(entries: list[Any]) -> list[Any]:
    return sorted(entries, key=lambda e: (e[3], e[1] != "pre", e[1] != "reminder", e[0], e[2]))


def test_a_month_of_daily_runs_posts_every_announcement_once_and_in_time(workdir: Path) -> None:
    with Autopilot(load_story(STORY), workdir) as autopilot:
        day = FIRST
        while day <= LAST:
            morning(autopilot, day)
            for attempt in (1, 2):
                before = (autopilot.gitlab_posts(), len(autopilot.slack_messages()))
                autopilot.slack.reset_requests()
                result = autopilot("announce", "--due", "--post", "--as-of", str(day))
                assert result.exit_code == 0, (day, result.output)
                # The Slack ledger is read once a run, however many announcements are due.
                assert autopilot.slack.count("conversations.history") <= 1, day
                if attempt == 2:  # a retried job finds everything done
                    assert (autopilot.gitlab_posts(), len(autopilot.slack_messages())) == before, (
                        day
                    )
                    assert autopilot.slack.count("chat.postMessage") == 0, day
                    assert result.stdout == f"Nothing due on {day:%A} {day}.\n", day
            day += timedelta(days=1)

        assert by_day(gitlab_ledger(autopilot)) == by_day(EXPECTED)
        assert by_day(slack_ledger(autopilot)) == by_day(EXPECTED)
        assert autopilot.gitlab_posts() == len(autopilot.slack_messages()) == len(EXPECTED)
        moved = [m.text for m in autopilot.slack_messages() if "moved from" in m.text]
        assert len(moved) == 2
        assert "*When:* Monday 2027-03-01 (moved from 2027-02-01), standard deployment" in moved[0]
