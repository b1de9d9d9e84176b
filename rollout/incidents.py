"""When an incident is escalated (PRODUCT.md §1 "Incidents", §11).

An incident is first reported in the Support Operations Slack channel; with no response
it is escalated by opening a PagerDuty incident, after a wait set by the tier of the
system it is about: ``[incidents.systems]`` is the System Criticality sheet (system ->
tier), ``[incidents.tiers]`` the wait of each tier. Waits in minutes and hours are
elapsed time (8 hours after 01:30 on the night the clocks go forward is 10:30); days
and weeks keep the wall-clock time. Times are shown in the schedule's time zone, and a
time written without a zone is taken in it.

Pure: the config, the system and the times are all it looks at.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rollout.config import Config
from rollout.dates import strftime
from rollout.durations import Duration
from rollout.errors import RolloutError
from rollout.issues import Issue
from rollout.workflow import Vocabulary, read_labels

# What an incident issue includes (PRODUCT.md §1).
ISSUE_INCLUDES = (
    "a clear description of what is happening",
    "the impact on users and customers",
    "error messages or screenshots",
    "the troubleshooting steps already taken",
)
_SUGGESTIONS = 3


class IncidentError(RolloutError):
    """An unknown system, or a time that cannot be placed."""


@dataclass(frozen=True)
class Escalation:
    system: str  # as the criticality sheet names it
    tier: str
    wait: Duration
    reported_at: datetime  # in the schedule's zone
    escalate_at: datetime  # in the schedule's zone
    pagerduty_service: str
    channel: str

    @property
    def checklist(self) -> tuple[str, ...]:
        when = format_moment(self.escalate_at)
        return (
            f"Post in {self.channel} first (during Global Support Hours).",
            f"Wait {self.wait} for a response.",
            f'No response by {when}: open a PagerDuty incident with "{self.pagerduty_service}" '
            "as the impacted service.",
            "Be available to work with the on-call on a plan to resolve it.",
        )


@dataclass(frozen=True)
class OpenIncident:
    """An open incident issue with a System:: label, and when it is due for escalation."""

    issue: Issue
    system: str  # as labelled
    tier: str | None  # None when the sheet does not know the system
    wait: Duration | None
    escalate_by: datetime | None  # created_at plus the wait, in the schedule's zone
    overdue: bool

    @property
    def problem(self) -> str | None:
        return None if self.tier else "not in the criticality sheet ([incidents.systems])"


def format_moment(moment: datetime) -> str:
    """ "Wednesday 2027-01-20 09:10 UTC": for people."""
    return f"{strftime(moment, '%A %Y-%m-%d %H:%M')} {moment.tzname()}"


def find_system(config: Config, name: str) -> str:
    """The system of the criticality sheet named ``name`` (in any case), or an error
    naming the nearest known ones."""
    systems = config.incidents.systems
    wanted = " ".join(name.split()).casefold()
    by_name = {" ".join(system.split()).casefold(): system for system in systems}
    if wanted in by_name:
        return by_name[wanted]
    if not systems:
        raise IncidentError(
            f'unknown system "{name}": [incidents.systems] is empty; add the System '
            'Criticality sheet to rollout.toml, e.g. "Zendesk Global" = "Mission Critical"'
        )
    close = difflib.get_close_matches(wanted, list(by_name), n=_SUGGESTIONS, cutoff=0.5)
    close += [key for key in by_name if wanted in key and key not in close]
    if close:
        names = ", ".join(f'"{by_name[key]}"' for key in close[:_SUGGESTIONS])
        raise IncidentError(f'unknown system "{name}"; did you mean {names}?')
    known = ", ".join(f'"{system}"' for system in sorted(systems, key=str.casefold)[:10])
    more = f" and {len(systems) - 10} more" if len(systems) > 10 else ""
    raise IncidentError(f'unknown system "{name}"; the known systems are {known}{more}')


def in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` in ``zone``; a time without a zone is taken as the zone's wall-clock
    time, and one the zone skips or has twice is an error asking for the offset."""
    if moment.tzinfo is not None:
        return moment.astimezone(zone)
    first, second = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    written = moment.isoformat(timespec="minutes")
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        offset = _offset(first)
        raise IncidentError(
            f"{written} does not exist in {zone.key} (the clocks skip it); "
            f"add the offset, e.g. {written}{offset}"
        )
    if first.utcoffset() != second.utcoffset():
        raise IncidentError(
            f"{written} happens twice in {zone.key} (the clocks go back); add the offset: "
            f"{written}{_offset(first)} for the first, {written}{_offset(second)} for the second"
        )
    return first


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def after(moment: datetime, wait: Duration) -> datetime:
    """``wait`` after ``moment``, in its zone: elapsed time for minutes and hours,
    wall-clock time for days and weeks."""
    try:
        return wait.after(moment)
    except OverflowError:
        raise IncidentError(
            f"{wait} after {strftime(moment, '%Y-%m-%d %H:%M')} is past the year 9999"
        ) from None


def escalation(config: Config, system: str, reported_at: datetime) -> Escalation:
    """When to escalate an incident about ``system`` reported at ``reported_at`` (a time
    without a zone is in the schedule's zone)."""
    found = find_system(config, system)
    tier = config.incidents.systems[found]
    wait = config.incidents.tiers[tier]
    reported = in_zone(reported_at, config.schedule.zone)
    return Escalation(
        system=found,
        tier=tier,
        wait=wait,
        reported_at=reported,
        escalate_at=after(reported, wait),
        pagerduty_service=config.incidents.pagerduty_service,
        channel=config.incidents.channel,
    )


def open_incidents(
    config: Config, issues: Sequence[Issue], now: datetime
) -> tuple[OpenIncident, ...]:
    """The open RequestType::Incident issues with a System:: label, oldest first: each
    escalates by its creation time plus its system's wait, and is overdue from then on."""
    vocabulary = Vocabulary.from_config(config)
    zone = config.schedule.zone
    by_name = {" ".join(s.split()).casefold(): s for s in config.incidents.systems}
    found = []
    for issue in issues:
        reading = read_labels(issue.labels, vocabulary)
        if not issue.is_open or reading.request_type != "incident" or not reading.systems:
            continue
        for labelled in reading.systems:
            system = by_name.get(" ".join(labelled.split()).casefold())
            if system is None:
                found.append(OpenIncident(issue, labelled, None, None, None, False))
                continue
            tier = config.incidents.systems[system]
            wait = config.incidents.tiers[tier]
            try:
                due = after(issue.created_at.astimezone(zone), wait)
            except IncidentError:
                due = None
            overdue = due is not None and now >= due
            found.append(OpenIncident(issue, labelled, tier, wait, due, overdue))
    return tuple(sorted(found, key=lambda i: (i.issue.created_at, i.issue.iid, i.system)))
