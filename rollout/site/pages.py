"""The release site's pages: what each one says, rendered from templates/site/.

Every value a template gets is plain data; text from issues is made safe by
FORMATS["html"] before it gets there, and the templates are autoescaped. Dates are shown
for people ("Mon 1 Feb 2027") inside ``<time datetime="YYYY-MM-DD">``, and so are the ISO
dates inside text (a slip reason, a title).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from rollout.board import Board, Deadline, NextDeployment, why_not
from rollout.config import CRITICALITIES, Config, Freeze
from rollout.dates import strftime
from rollout.feeds import CHANGES, DEADLINES, DEPLOYMENTS
from rollout.issues import Issue
from rollout.readiness import DEPLOYMENT_NAMES, Check, Verdict
from rollout.release_notes import ReleaseNotes, notes_context
from rollout.render import Templates
from rollout.safety import FORMATS
from rollout.schedule import Deployment, Schedule
from rollout.site.calendar_grid import Month, weekday_names
from rollout.workflow import Vocabulary, read_labels

HTML = FORMATS["html"]
# Files that are copied as they are (a team's template directory may replace them).
ASSETS = ("style.css", "site.js", "favicon.svg")
GOOGLE_ADD_BY_URL = "https://calendar.google.com/calendar/r?cid="
REQUEST_TYPES = {"feature": "Feature", "bug": "Bug", "administrative": "Administrative"}
CHECK_NAMES = {
    "state": "State",
    "request-type": "Request type",
    "stage": "Stage",
    "validation": "Sign-off",
    "blockers": "Blockers",
    "criticality": "Criticality",
    "ships-on": "Ships",
    "milestone": "Milestone",
}
_ISO_DATE = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])")


# --------------------------------------------------------------------------- dates


def human_date(day: date, style: str = "medium") -> str:
    """A date for people: long "Monday 1 February 2027", medium "Mon 1 Feb 2027",
    short "Mon 1 Feb", day "1"."""
    if style == "long":
        return f"{day:%A} {day.day} {strftime(day, '%B %Y')}"
    if style == "short":
        return f"{day:%a} {day.day} {day:%b}"
    if style == "day":
        return str(day.day)
    return f"{day:%a} {day.day} {strftime(day, '%b %Y')}"


def time_tag(day: date, style: str = "medium") -> Markup:
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), human_date(day, style))


def moment_tag(moment: datetime) -> Markup:
    """A time of day for people, "Sat 9 Jan 2027, 10:10 UTC": its date inside a <time>,
    as every date of the site is (PRODUCT.md §10)."""
    return Markup("{}, {} {}").format(time_tag(moment.date()), f"{moment:%H:%M}", moment.tzname())


def with_time_tags(text: str) -> Markup:
    """Escaped text (or Markup as it is) with every ISO date in it inside a <time>."""

    def tag(match: re.Match[str]) -> str:
        try:
            date.fromisoformat(match.group(0))
        except ValueError:
            return match.group(0)
        return f'<time datetime="{match.group(0)}">{match.group(0)}</time>'

    return Markup(_ISO_DATE.sub(tag, str(escape(text))))


def relative(days: int) -> str:
    """How far a day is from the as-of date, in words."""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def install_filters(templates: Templates) -> None:
    filters = templates.environment.filters
    filters["time_tag"] = time_tag
    filters["moment_tag"] = moment_tag
    filters["dates"] = with_time_tags
    filters["relative"] = relative


# --------------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class FeedLink:
    """A feed and the ways to subscribe to it."""

    filename: str
    title: str  # what the page calls it
    name: str  # what calendar apps call it
    about: str
    url: str | None  # the https:// address, when the site's address is known
    webcal: str | None
    google: str | None


FEEDS = {
    DEPLOYMENTS: ("Deployments", "Every deployment date."),
    DEADLINES: ("Deadlines", "Sign-off cut-offs, announce-by dates, reminders and freezes."),
    CHANGES: ("Ready changes", "Each change that is ready, on the day it ships."),
}


def feed_links(names: Mapping[str, str], base_url: str | None) -> list[FeedLink]:
    """``names``: file name -> calendar name, in the order to show them."""
    links = []
    for filename, name in names.items():
        url = f"{base_url.rstrip('/')}/{filename}" if base_url else None
        webcal = re.sub(r"^https?://", "webcal://", url) if url else None
        google = GOOGLE_ADD_BY_URL + quote(url, safe="") if url else None
        title, about = FEEDS[filename]
        links.append(FeedLink(filename, title, name, about, url, webcal, google))
    return links


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class SiteContent:
    """Everything the pages show, computed once."""

    config: Config
    schedule: Schedule
    as_of: date
    upcoming: NextDeployment  # the next deployment and the deadlines before it
    shown: tuple[Deployment, ...]  # deployments with release notes, oldest first
    months: tuple[Month, ...]
    feeds: tuple[FeedLink, ...]
    project: str | None  # None: no tracker, a calendar-only site
    board: Board | None
    notes: Mapping[date, ReleaseNotes]


@dataclass(frozen=True)
class Page:
    path: str  # relative to the site's root
    key: str  # which navigation entry it is under
    template: str
    context: dict[str, Any]

    @property
    def root(self) -> str:
        """The way back to the site's root from this page: "" or "../"."""
        return "../" * self.path.count("/")


def notes_path(day: date) -> str:
    return f"notes/{day.isoformat()}.html"


def render_pages(content: SiteContent, templates: Templates) -> dict[str, bytes]:
    install_filters(templates)
    pages = _Pages(content).pages()
    site = _site_context(content)
    files = {}
    for page in pages:
        context = {**page.context, "site": site, "root": page.root, "path": page.path}
        context["current"] = page.key
        text = templates.render(f"site/{page.template}", context)
        files[page.path] = text.encode("utf-8")
    for name in ASSETS:
        files[name] = templates.source(f"site/{name}").encode("utf-8")
    return files


def _site_context(content: SiteContent) -> dict[str, Any]:
    navigation = [("index", "index.html", "Overview"), ("calendar", "calendar.html", "Calendar")]
    if content.project is not None:
        navigation += [
            ("notes", "notes/index.html", "Release notes"),
            ("board", "board.html", "Board"),
        ]
    return {
        "title": content.config.calendar.name,
        "as_of": content.as_of,
        "timezone": content.config.schedule.timezone,
        "project": content.project,
        "navigation": [{"key": k, "href": href, "label": label} for k, href, label in navigation],
    }


class _Pages:
    def __init__(self, content: SiteContent) -> None:
        self.content = content
        self.config = content.config
        self.as_of = content.as_of
        self.vocabulary = Vocabulary.from_config(content.config)

    def pages(self) -> list[Page]:
        pages = [self.index(), self.calendar()]
        if self.content.project is not None:
            pages += [self.notes_index(), *map(self.notes_page, self.content.shown)]
            pages.append(self.board())
        return pages

    # ---------------------------------------------------------------- pieces

    def issue(self, issue: Issue) -> dict[str, Any]:
        reading = read_labels(issue.labels, self.vocabulary)
        return {
            "iid": issue.iid,
            "reference": f"#{issue.iid}",
            "title": with_time_tags(HTML.inline(issue.title)),
            "url": issue.web_url if issue.web_url.startswith(("https://", "http://")) else "",
            "request_type": REQUEST_TYPES.get(reading.request_type or ""),
            "criticality": reading.criticality,
        }

    def check(self, check: Check) -> dict[str, Any]:
        return {
            "id": check.id,
            "name": CHECK_NAMES.get(check.id, check.id),
            "ok": check.ok,
            "level": check.level,
            "detail": with_time_tags(HTML.inline(check.detail)),
        }

    def deployment(self, deployment: Deployment) -> dict[str, Any]:
        return {
            "date": deployment.date,
            "days": (deployment.date - self.as_of).days,
            "milestone": deployment.milestone,
            "time": f"{deployment.start:%H:%M}" if deployment.start else None,
            "reason": with_time_tags(deployment.reason),
            "reason_kind": deployment.reason_kind,
            "signoff_cutoff": deployment.signoff_cutoff,
            "frozen_for": list(deployment.frozen_for),
            "freezes": list(deployment.freezes),
            "notes": notes_path(deployment.date) if self._has_notes(deployment) else None,
        }

    def _has_notes(self, deployment: Deployment) -> bool:
        return self.content.project is not None and deployment.date in self.content.notes

    def deadline(self, deadline: Deadline) -> dict[str, Any]:
        if deadline.kind == "signoff_cutoff":
            what = "Sign-off cut-off"
            about = "Validation received by this day ships with"
        else:
            what = f"Announce {deadline.criticality} changes by"
            about = f"The last day to announce a {deadline.criticality} change for"
        return {
            "day": deadline.day,
            "days": (deadline.day - self.as_of).days,
            "kind": deadline.kind,
            "what": what,
            "about": about,
            "deployment": deadline.deployment.date,
        }

    def notes_entries(self, notes: ReleaseNotes) -> dict[str, Any]:
        context = notes_context(notes, self.config, HTML)
        for entry in [i for group in context["groups"] for i in group["issues"]]:
            entry["title"] = with_time_tags(entry["title"])
            entry["request_type"] = REQUEST_TYPES.get(entry["request_type"] or "")
        for entry in context["slipped"]:
            entry["title"] = with_time_tags(entry["title"])
            entry["request_type"] = REQUEST_TYPES.get(entry["request_type"] or "")
            entry["reasons"] = [with_time_tags(_sentence(reason)) for reason in entry["reasons"]]
        return context

    # ---------------------------------------------------------------- index

    def index(self) -> Page:
        content = self.content
        upcoming = content.upcoming.deployment
        following = [
            d for d in content.schedule.deployments(upcoming.date, 7) if d.date > upcoming.date
        ][:3]
        past = [d for d in content.shown if d.date < self.as_of]
        context: dict[str, Any] = {
            "next": self.deployment(upcoming),
            "deadlines": [self.deadline(d) for d in content.upcoming.deadlines],
            "following": [self.deployment(d) for d in following],
            "feeds": content.feeds,
            "published": all(feed.url for feed in content.feeds),
            "rules": self.rules(),
            "ready": None,
            "slipping": None,
            "last": None,
        }
        notes = content.notes.get(upcoming.date)
        if notes is not None:
            entries = self.notes_entries(notes)
            context["ready"] = [i for group in entries["groups"] for i in group["issues"]]
            context["slipping"] = entries["slipped"]
        if past and past[-1].date in content.notes:
            last = content.notes[past[-1].date]
            context["last"] = {**self.deployment(past[-1]), "shipped": len(last.shipped)}
        return Page("index.html", "index", "index.html.j2", context)

    def rules(self) -> dict[str, Any]:
        notice = self.config.notice.by_criticality
        return {
            "signoff": str(self.config.schedule.signoff_cutoff),
            "notice": [(c, str(notice[c])) for c in CRITICALITIES if notice[c].amount],
            "freezes": [
                {"name": f.name, "criticality": list(f.criticality), "when": _freeze_when(f)}
                for f in self.config.freezes
            ],
        }

    # ---------------------------------------------------------------- calendar

    def calendar(self) -> Page:
        context = {"months": self.content.months, "weekdays": weekday_names()}
        return Page("calendar.html", "calendar", "calendar.html.j2", context)

    # ---------------------------------------------------------------- notes

    def notes_index(self) -> Page:
        rows = []
        for deployment in reversed(self.content.shown):
            notes = self.content.notes[deployment.date]
            rows.append(
                {
                    **self.deployment(deployment),
                    "shipped": len(notes.shipped),
                    "slipped": len(notes.slipped),
                }
            )
        return Page("notes/index.html", "notes", "notes_index.html.j2", {"deployments": rows})

    def notes_page(self, deployment: Deployment) -> Page:
        shown = list(self.content.shown)
        index = shown.index(deployment)
        context = {
            **self.notes_entries(self.content.notes[deployment.date]),
            "this": self.deployment(deployment),
            "older": self.deployment(shown[index - 1]) if index > 0 else None,
            "newer": self.deployment(shown[index + 1]) if index + 1 < len(shown) else None,
        }
        return Page(notes_path(deployment.date), "notes", "notes.html.j2", context)

    # ---------------------------------------------------------------- board

    def board(self) -> Page:
        board = self.content.board
        assert board is not None
        upcoming = board.next_deployment
        prefix = self.config.labels.stage
        context = {
            "count": board.issue_count,
            "overdue": sum(1 for group in board.stages for age in group.issues if age.overdue),
            "escalation": str(board.escalation),
            "stages": [
                {
                    "name": group.label.removeprefix(prefix),
                    "label": group.label,
                    "target": _target(group.target),
                    "issues": [
                        {
                            **self.issue(age.issue),
                            "since": age.entered_on,
                            "days": age.business_days,
                            "overdue": age.overdue,
                        }
                        for age in group.issues
                    ],
                }
                for group in board.stages
                if group.issues
            ],
            "unstaged": [
                {**self.issue(entry.issue), "problem": HTML.inline(entry.problem)}
                for entry in board.unstaged
            ],
            "blocked": [
                {
                    **self.issue(escalation.issue),
                    "since": escalation.entered_on,
                    "days": escalation.days,
                    "step": escalation.step,
                    "action": escalation.action,
                    "next_step_on": escalation.next_step_on,
                    "returns_to": (escalation.returns_to or "").removeprefix(prefix) or None,
                    "blocked_by": self.blockers(escalation.issue, escalation.blocked_by),
                }
                for escalation in board.blocked
            ],
            "incidents": [
                {
                    **self.issue(incident.issue),
                    "system": HTML.inline(incident.system),
                    "tier": incident.tier,
                    "wait": str(incident.wait) if incident.wait else None,
                    "escalate_by": incident.escalate_by,
                    "overdue": incident.overdue,
                    "problem": incident.problem,
                }
                for incident in board.incidents
            ],
            "waiting": [
                {
                    **self.issue(wait.issue),
                    "since": wait.entered_on,
                    "days": wait.business_days,
                    "target": _target(wait.target),
                    "remind": HTML.inline(f"@{wait.remind.username}"),
                    "remind_name": HTML.inline(wait.remind.name),
                }
                for wait in board.waiting
            ],
            "next": {
                **self.deployment(upcoming.deployment),
                "ready": [
                    {
                        **self.issue(v.issue),
                        "deployment_type": DEPLOYMENT_NAMES[v.deployment_type or "standard"],
                    }
                    for v in upcoming.ready
                ],
                "not_ready": [self.not_ready(v, upcoming.deployment) for v in upcoming.not_ready],
            },
        }
        return Page("board.html", "board", "board.html.j2", context)

    def blockers(self, issue: Issue, references: Sequence[str]) -> list[dict[str, Any]]:
        """The open blockers, linked to their issues where the history says where they are."""
        urls = {
            (
                f"#{link.iid}" if link.project_id == issue.project_id else link.reference
            ): link.web_url
            for link in issue.links
        }
        return [
            {
                "reference": HTML.inline(reference),
                "url": url if (url := urls.get(reference, "")).startswith("http") else "",
            }
            for reference in references
        ]

    def not_ready(self, verdict: Verdict, deployment: Deployment) -> dict[str, Any]:
        return {
            **self.issue(verdict.issue),
            "checks": [self.check(check) for check in why_not(verdict, deployment)],
        }


def _freeze_when(freeze: Freeze) -> Markup:
    if freeze.recurring:
        start, end = freeze.start.in_year(2001), freeze.end.in_year(2001)
        return Markup("every year from {} {} to {} {}").format(
            start.day, f"{start:%B}", end.day, f"{end:%B}"
        )
    assert freeze.start.year is not None and freeze.end.year is not None
    first = freeze.start.in_year(freeze.start.year)
    last = freeze.end.in_year(freeze.end.year)
    return Markup("from {} to {}").format(time_tag(first), time_tag(last))


def _sentence(text: Markup) -> Markup:
    """The text with its first letter a capital."""
    return Markup(text[:1].upper() + text[1:]) if text else text


def _target(target: Any) -> str | None:
    return str(target) if target is not None else None
