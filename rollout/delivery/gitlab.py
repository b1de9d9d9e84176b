"""GitLab: the note on the issue, with its hidden marker, the record §6 reads.

Always a target. Delivered by the code ``rollout announce --post`` uses
(announce.post_announcement, posting.post_once: the notes are read again before every
attempt); its ledger is the trusted markers on the issue (PRODUCT.md §3).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from rollout.announce import Announcement, describe, post_announcement
from rollout.delivery import Target
from rollout.due import DueAnnouncement, held_on_issue
from rollout.markers import Trust
from rollout.trackers import Tracker


class GitLabTarget(Target):
    """A note on the issue per announcement; the trusted markers are the ledger."""

    name = "gitlab"
    format = "md"

    def __init__(self, tracker: Tracker, posters: Sequence[str], attempts: int) -> None:
        self.tracker = tracker
        self.posters = tuple(posters)
        self.attempts = attempts

    @cached_property
    def trust(self) -> Trust:
        return self.tracker.trust(self.posters)

    def missing(self, dues: Sequence[DueAnnouncement]) -> list[DueAnnouncement]:
        # The notes were fetched with the issues: the ledger as the run found it.
        return [
            due
            for due in dues
            if not due.held_in(held_on_issue(due.issue.notes, self.trust, due.iid))
        ]

    def deliver(self, due: DueAnnouncement, announcement: Announcement) -> str:
        outcome = post_announcement(self.tracker, announcement, self.trust, self.attempts)
        return describe(outcome, announcement)
