"""Is an issue ready to ship, and on which date? (PRODUCT.md §6)

``assess`` returns a Verdict: every check with what to do next, and the ships-on date.
Pure: the issue, the config and the as-of date are all it looks at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from rollout.config import Config
from rollout.durations import Duration
from rollout.issues import Issue
from rollout.markers import NOBODY, Trust, first_announced
from rollout.schedule import Deployment, Schedule
from rollout.workflow import (
    LabelReading,
    SignOff,
    Timeline,
    Vocabulary,
    conflicts,
    find_signoff,
    local_date,
    read_labels,
    timeline_of,
)

CHECK_IDS = (
    "state",
    "request-type",
    "stage",
    "validation",
    "blockers",
    "criticality",
    "ships-on",
    "milestone",
)
DEPLOYMENT_NAMES = {
    "standard": "standard deployment",
    "ad_hoc": "ad-hoc deployment",
    "exception": "exception deployment",
    "special": "special deployment",
}
# Stages an issue ships from: only these can be ready (the "stage" check).
SHIPPING_STAGES = ("implementation", "completed")
# A ships-on search that finds nothing in this many deployments gives up.
_SEARCH_LIMIT = 120
# The earliest and the latest ships-on date §6 leaves an issue (the latest None: no date).
ShipWindow = tuple[date, date | None]
# GitLab moves an issue's updated_at with every label change, and with a note at most once a
# minute (PRODUCT.md §9): so no sign-off or announcement is later than updated_at plus this.
_TOUCH_DELAY = timedelta(minutes=2)


def may_be_ready(issue: Issue, vocabulary: Vocabulary) -> bool:
    """Whether the issue's labels leave it a chance of being ready: its history is worth
    fetching. An issue in no shipping stage fails the stage check whatever its history."""
    return read_labels(issue.labels, vocabulary).stage in SHIPPING_STAGES


def in_milestone(issue: Issue, deployment: Deployment) -> bool:
    """Whether the issue's milestone is the deployment's."""
    return issue.milestone is not None and issue.milestone.title == deployment.milestone


def may_ship_with(issue: Issue, deployment: Deployment, vocabulary: Vocabulary) -> bool:
    """Whether readiness can say anything about the issue and ``deployment``: it may be
    ready, or it is in the deployment's milestone (and may have slipped from it)."""
    return in_milestone(issue, deployment) or may_be_ready(issue, vocabulary)


def evaluation_date(issue: Issue, as_of: date, config: Config) -> date:
    """The day to judge an issue on: as-of, or the day it was closed if that was earlier.

    A closed Completed issue is judged as of its closing day, when the rule gave the
    deployment it was waiting for; judged later, the rule would name a later one.
    """
    if issue.closed_at is not None:
        return min(as_of, local_date(issue.closed_at, config.schedule.zone))
    return as_of


def open_blockers(issue: Issue) -> tuple[str, ...]:
    """The open issues linked as blocking this one: "#12", or "group/other#12" elsewhere."""
    return tuple(
        f"#{link.iid}" if link.project_id == issue.project_id else link.reference
        for link in issue.links
        if link.link_type == "is_blocked_by" and link.state == "opened"
    )


@dataclass(frozen=True)
class Check:
    id: str
    ok: bool
    level: str  # "error" or "warning": only errors make an issue not ready
    detail: str


@dataclass(frozen=True)
class Verdict:
    issue: Issue
    ready: bool
    ships_on: date | None  # only when ready
    deployment_type: str | None
    deployment: Deployment | None  # the standard deployment it ships with, when there is one
    signoff: SignOff
    checks: tuple[Check, ...]
    missed: str | None = None  # why an earlier deployment could not take it

    @property
    def iid(self) -> int:
        return self.issue.iid

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


@dataclass(frozen=True)
class ShipDate:
    """The result of the ships-on rule: a date, or why there is none."""

    day: date | None
    deployment: Deployment | None = None
    problem: str | None = None
    missed: str | None = None  # why an earlier deployment was passed over, for people


class Assessor:
    """Applies §6 to issues against one config; reuse it for many issues.

    ``trust`` says whose announcement markers count (PRODUCT.md §3); by default nobody's,
    so the announcement date is the as-of date.
    """

    def __init__(
        self, config: Config, schedule: Schedule | None = None, trust: Trust = NOBODY
    ) -> None:
        self.config = config
        self.schedule = schedule or Schedule(config)
        self.trust = trust
        self.vocabulary = Vocabulary.from_config(config)
        self.zone = config.schedule.zone
        # ship_window's answers, by the issue's identity (the issue is kept with it).
        self._windows: dict[tuple[int, date, bool], tuple[Issue, ShipWindow | None]] = {}

    # ------------------------------------------------------------------ verdict

    def assess(self, issue: Issue, as_of: date, for_date: date | None = None) -> Verdict:
        reading = read_labels(issue.labels, self.vocabulary)
        timeline = timeline_of(issue, self.vocabulary)
        signoff = find_signoff(reading, timeline, self.vocabulary, self.zone)
        shipping = self.ship_date(issue, reading, signoff, as_of, use_cutoff=True)
        checks = [
            self._state(issue, reading),
            self._request_type(reading),
            self._stage(reading, timeline),
            self._validation(signoff),
            self._blockers(issue),
            self._criticality(reading),
            self._ships_on(shipping, reading, for_date),
            self._milestone(issue, shipping),
        ]
        ready = all(check.ok or check.level == "warning" for check in checks)
        return Verdict(
            issue=issue,
            ready=ready,
            ships_on=shipping.day if ready else None,
            deployment_type=reading.deployment_type,
            deployment=shipping.deployment,
            signoff=signoff,
            checks=tuple(checks),
            missed=shipping.missed,
        )

    def planned_date(self, issue: Issue, as_of: date) -> ShipDate:
        """The date an announcement names: §6's rule with the other checks ignored and,
        before sign-off, without the cut-off condition."""
        reading = read_labels(issue.labels, self.vocabulary)
        signoff = self.signoff(issue)
        return self.ship_date(issue, reading, signoff, as_of, use_cutoff=signoff.given)

    def signoff(self, issue: Issue) -> SignOff:
        """When the issue was signed off (PRODUCT.md §6), or why it was not."""
        reading = read_labels(issue.labels, self.vocabulary)
        timeline = timeline_of(issue, self.vocabulary)
        return find_signoff(reading, timeline, self.vocabulary, self.zone)

    def may_ship_between(
        self,
        issue: Issue,
        day: date,
        first: date | None = None,
        last: date | None = None,
        *,
        label_events: bool = False,
    ) -> bool:
        """Whether §6, judged on ``day``, leaves the issue a chance of being ready with a
        ships-on date from ``first`` to ``last`` (either open), whatever the parts of its
        history not read yet say: False only when what is known rules that out, so that
        the rest need not be read. ``label_events``: the issue's label events are read (its
        sign-off is known); else only its labels, state and dates are."""
        window = self.ship_window(issue, day, label_events=label_events)
        if window is None:
            return False
        earliest, latest = window
        if last is not None and earliest > last:
            return False
        return first is None or latest is None or latest >= first

    def ship_window(
        self, issue: Issue, day: date, *, label_events: bool = False
    ) -> ShipWindow | None:
        """The ships-on dates that §6, judged on ``day``, leaves the issue whatever the
        parts of its history not read yet say; None when it cannot be ready. Remembered
        per issue and day: the site asks for a dozen deployments, mostly on the same day.

        The sign-off and the announcement date come from the history, but lie between the
        issue's creation and its updated_at (every label change and note moves it), and
        the ships-on rule gives a later date for a later sign-off or announcement: the
        rule applied to the earliest and to the latest they can be bounds the date.
        """
        key = (id(issue), day, label_events)
        kept = self._windows.get(key)
        if kept is None or kept[0] is not issue:
            kept = self._windows[key] = (issue, self._ship_window(issue, day, label_events))
        return kept[1]

    def _ship_window(self, issue: Issue, day: date, label_events: bool) -> ShipWindow | None:
        reading = read_labels(issue.labels, self.vocabulary)
        kind = reading.request_type
        if not issue.is_open and reading.stage != "completed":
            return None
        if kind not in ("bug", "feature", "administrative") or reading.stage not in SHIPPING_STAGES:
            return None
        if reading.criticality is None or reading.deployment_type is None:
            return None
        if kind == "administrative":
            signed = reading.has_validation("skipped")
        else:
            signed = reading.has_validation("received") and not reading.has_validation("rejected")
        if not signed:
            return None
        if reading.deployment_type in ("exception", "special"):
            return None if issue.due_date is None else (issue.due_date, issue.due_date)
        created = local_date(issue.created_at, self.zone)
        touched = local_date(issue.updated_at + _TOUCH_DELAY, self.zone)
        signed_first = signed_last = None
        if label_events:
            signoff = self.signoff(issue)
            if not signoff.given or signoff.at is None:
                return None
            signed_first = signed_last = local_date(signoff.at, self.zone)
        earliest = self._dated(reading, signed_first or created, min(day, created), day).day
        if earliest is None:
            return None  # not even the earliest sign-off and announcement find a date
        latest = self._dated(reading, signed_last or touched, max(day, touched), day).day
        return earliest, latest

    def reads_announcements(self, issue: Issue) -> bool:
        """Whether the issue's verdict depends on its notes: the ships-on rule of a signed
        off standard or ad-hoc change starts from the date it was announced (its label
        events must be read)."""
        reading = read_labels(issue.labels, self.vocabulary)
        if reading.deployment_type not in ("standard", "ad_hoc") or reading.criticality is None:
            return False
        return self.signoff(issue).given

    def _dated(
        self, reading: LabelReading, signed_on: date, announced: date, as_of: date
    ) -> ShipDate:
        """The ships-on rule of a standard or ad-hoc change for a given sign-off and
        announcement date."""
        criticality = reading.criticality
        assert criticality is not None
        if reading.deployment_type == "ad_hoc":
            return self._ad_hoc(criticality, signed_on, announced, as_of)
        return self._standard(criticality, signed_on, announced, as_of)

    # ------------------------------------------------------------------ the ships-on rule

    def ship_date(
        self,
        issue: Issue,
        reading: LabelReading,
        signoff: SignOff,
        as_of: date,
        *,
        use_cutoff: bool,
    ) -> ShipDate:
        kind = reading.deployment_type
        if kind is None:
            found = [p for p in conflicts(reading, self.vocabulary) if "deployment type" in p]
            return ShipDate(None, problem="; ".join(found))
        if kind in ("exception", "special"):
            return self._approved_date(issue, kind)
        criticality = reading.criticality
        if criticality is None:
            return ShipDate(None, problem="needs exactly one criticality to know the notice period")
        signed_on = local_date(signoff.at, self.zone) if signoff.given and signoff.at else None
        if use_cutoff and signed_on is None:
            return ShipDate(None, problem="waits for the sign-off (see validation)")
        announced = first_announced(issue.notes, self.trust, self.zone) or as_of
        if kind == "ad_hoc":
            return self._ad_hoc(criticality, signed_on, announced, as_of)
        return self._standard(criticality, signed_on if use_cutoff else None, announced, as_of)

    def _standard(
        self, criticality: str, signed_on: date | None, announced: date, as_of: date
    ) -> ShipDate:
        missed = None
        for count, deployment in enumerate(self.schedule.iter_from(as_of)):
            reason = self._passes_over(deployment, criticality, signed_on, announced)
            if reason is None:
                return ShipDate(deployment.date, deployment, missed=missed)
            missed = missed or reason
            if count >= _SEARCH_LIMIT:
                break
        return ShipDate(None, problem=f"no deployment in the next ten years takes it ({missed})")

    def _passes_over(
        self, deployment: Deployment, criticality: str, signed_on: date | None, announced: date
    ) -> str | None:
        """Why ``deployment`` cannot take the change, or None when it can."""
        day = deployment.date
        if signed_on is not None and signed_on > deployment.signoff_cutoff:
            return (
                f"signed off {signed_on}, after the {day} deployment's cut-off "
                f"{deployment.signoff_cutoff}"
            )
        announce_by = deployment.announce_by[criticality]
        if announced > announce_by:
            notice = self.config.notice.by_criticality[criticality]
            return (
                f"{criticality} needs {notice} notice: announced {announced}, after the {day} "
                f"deployment's announce-by date {announce_by}"
            )
        if deployment.is_frozen_for(criticality):
            freezes = ", ".join(deployment.freezes)
            return f"the {day} deployment is frozen for {criticality} ({freezes})"
        return None

    def _ad_hoc(
        self, criticality: str, signed_on: date | None, announced: date, as_of: date
    ) -> ShipDate:
        notice = self.config.notice.by_criticality[criticality]
        earliest = max(as_of, signed_on or as_of, self._after(announced, notice))
        day = earliest
        for _ in range(_SEARCH_LIMIT):
            ends = [
                end
                for freeze in self.config.freezes
                if criticality in freeze.criticality
                for start, end in freeze.windows(day.year - 1, day.year)
                if start <= day <= end
            ]
            if not ends:
                missed = (
                    None if day == earliest else f"a freeze holds {criticality} back until {day}"
                )
                return ShipDate(day, self.schedule.deployment_for(day), missed=missed)
            day = max(ends) + timedelta(days=1)
        return ShipDate(None, problem=f"freezes hold {criticality} back without end")

    def _after(self, day: date, duration: Duration) -> date:
        """The first day ``duration`` after ``day`` (the end of a notice period)."""
        if duration.amount == 0:
            return day
        if duration.is_business:
            return self.schedule.calendar.after(day, duration.amount)
        if duration.is_elapsed:
            return day + timedelta(days=math.ceil(duration.as_timedelta() / timedelta(days=1)))
        return day + duration.as_timedelta()

    def _approved_date(self, issue: Issue, kind: str) -> ShipDate:
        if issue.due_date is None:
            name = _with_article(DEPLOYMENT_NAMES[kind])
            return ShipDate(
                None,
                problem=f"{name} ships on the date leadership approved; set it as the issue's "
                "due date",
            )
        return ShipDate(issue.due_date, self.schedule.deployment_for(issue.due_date))

    # ------------------------------------------------------------------ the checks

    def _label(self, prefix: str, role: str) -> str:
        return self.vocabulary.label(prefix, role)

    def _state(self, issue: Issue, reading: LabelReading) -> Check:
        if issue.is_open:
            return Check("state", True, "error", "open")
        if reading.stage == "completed":
            return Check(
                "state",
                True,
                "error",
                f"closed as {self._label(self.config.labels.stage, 'completed')}",
            )
        completed = self._label(self.config.labels.stage, "completed")
        return Check(
            "state",
            False,
            "error",
            f"closed without {completed} (won't do); reopen it if it should still ship",
        )

    def _request_type(self, reading: LabelReading) -> Check:
        prefix = self.config.labels.request_type
        kind = reading.request_type
        problems = [p for p in conflicts(reading, self.vocabulary) if "request type" in p]
        if problems:
            return Check("request-type", False, "error", "; ".join(problems))
        if kind is None:
            options = ", ".join(
                self._label(prefix, r) for r in ("bug", "feature", "administrative")
            )
            return Check("request-type", False, "error", f"no request type; add one of {options}")
        if kind == "incident":
            return Check(
                "request-type",
                False,
                "error",
                f"{self._label(prefix, 'incident')}: "
                "incidents have their own process and are never scheduled",
            )
        return Check("request-type", True, "error", self._label(prefix, kind))

    def _stage(self, reading: LabelReading, timeline: Timeline) -> Check:
        prefix = self.config.labels.stage
        problems = [p for p in conflicts(reading, self.vocabulary) if "stage" in p]
        if problems:
            return Check("stage", False, "error", "; ".join(problems))
        stage = reading.stage
        wanted = self._label(prefix, "implementation")
        if stage is None:
            return Check("stage", False, "error", f"no stage label; it ships from {wanted}")
        label = self._label(prefix, stage)
        if stage in SHIPPING_STAGES:
            return Check("stage", True, "error", label)
        if stage == "blocked":
            back = timeline.previous_stage()
            where = (
                f"; it returns to {self.vocabulary.stage_label(back)} when unblocked"
                if back
                else ""
            )
            return Check("stage", False, "error", f"{label}{where}")
        return Check("stage", False, "error", f"in {label}; it ships once it reaches {wanted}")

    def _validation(self, signoff: SignOff) -> Check:
        if not signoff.given or signoff.at is None:
            return Check("validation", False, "error", signoff.problem or "not signed off")
        return Check("validation", True, "error", f"signed off {local_date(signoff.at, self.zone)}")

    def _blockers(self, issue: Issue) -> Check:
        blocking = [link for link in issue.links if link.link_type == "is_blocked_by"]
        still_open = open_blockers(issue)
        if still_open:
            names = ", ".join(still_open)
            return Check(
                "blockers", False, "error", f"blocked by open {names}; close or unlink them first"
            )
        if blocking:
            return Check(
                "blockers", True, "error", f"{len(blocking)} blocking issue(s), all closed"
            )
        return Check("blockers", True, "error", "nothing blocks it")

    def _criticality(self, reading: LabelReading) -> Check:
        prefix = self.config.labels.criticality
        problems = [p for p in conflicts(reading, self.vocabulary) if "criticality" in p]
        if problems:
            return Check("criticality", False, "error", "; ".join(problems))
        if reading.criticality is None:
            return Check(
                "criticality",
                False,
                "error",
                f"no criticality; add one of {prefix}C1 to {prefix}C4",
            )
        notice = self.config.notice.by_criticality[reading.criticality]
        needs = f"{notice} notice" if notice.amount else "no notice needed"
        return Check("criticality", True, "error", f"{prefix}{reading.criticality} ({needs})")

    def _ships_on(self, shipping: ShipDate, reading: LabelReading, for_date: date | None) -> Check:
        if shipping.day is None:
            return Check("ships-on", False, "error", shipping.problem or "no date")
        kind = DEPLOYMENT_NAMES[reading.deployment_type or "standard"]
        detail = f"{shipping.day}, {kind}"
        if shipping.missed:
            detail += f" (not earlier: {shipping.missed})"
        if for_date is not None and shipping.day > for_date:
            return Check(
                "ships-on", False, "error", f"{detail}: later than {for_date}, the date asked for"
            )
        return Check("ships-on", True, "error", detail)

    def _milestone(self, issue: Issue, shipping: ShipDate) -> Check:
        expected = shipping.deployment.milestone if shipping.deployment else None
        actual = issue.milestone.title if issue.milestone else None
        if expected is None:
            return Check("milestone", True, "warning", actual or "no milestone")
        if actual is None:
            return Check("milestone", True, "warning", f"no milestone; {expected} would match")
        if actual != expected:
            return Check(
                "milestone",
                False,
                "warning",
                f"the milestone is {actual}, but it ships with {expected}; move it",
            )
        return Check("milestone", True, "warning", actual)


def _with_article(name: str) -> str:
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"
