"""The release site (PRODUCT.md §10): static pages for GitLab Pages or any static host.

``build_site`` makes the whole site as data (relative path -> bytes) from one tracker read;
``publish_site`` swaps it into a directory without a moment of half a site.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import urlsplit, urlunsplit

from dateutil.relativedelta import relativedelta

from rollout.board import build_board
from rollout.changes import ready_among
from rollout.config import Config
from rollout.feeds import Previous, calendar_files, feed_names
from rollout.markers import NOBODY
from rollout.readiness import Verdict
from rollout.release_notes import build_release_notes
from rollout.render import Templates
from rollout.schedule import Deployment, Schedule
from rollout.site.calendar_grid import month_grids
from rollout.site.pages import SiteContent, feed_links, render_pages
from rollout.site.publish import publish_site
from rollout.site.reading import read_tracker
from rollout.trackers import Tracker

__all__ = ["build_site", "publish_site", "shown_deployments"]


def shown_deployments(schedule: Schedule, as_of: date, history: int) -> list[Deployment]:
    """The deployments with release notes: from ``history`` months before ``as_of`` up to
    and including the next one."""
    upcoming = schedule.next_deployment(as_of)
    shown = []
    for deployment in schedule.iter_from(as_of - relativedelta(months=history)):
        if deployment.date > upcoming.date:
            break
        shown.append(deployment)
    return shown


def build_site(
    config: Config,
    as_of: date,
    *,
    months: int = 12,
    tracker: Tracker | None = None,
    previous: Previous = lambda filename: None,
    now: datetime,
    base_url: str | None = None,
) -> dict[str, bytes]:
    """Every file of the site by its path relative to the site's root.

    ``tracker`` None makes a calendar-only site. ``previous`` gives the feeds' last
    published versions (their memory, as for ``rollout calendar``); ``now`` stamps new
    events. ``base_url`` is where the site will be published: without it the subscribe
    links cannot be made and the page says how to get them.
    """
    templates = Templates(config.templates_dir)
    schedule = Schedule(config)
    shown = shown_deployments(schedule, as_of, config.site.history)
    read = read_tracker(tracker, config, as_of, shown, months) if tracker is not None else None
    trust = read.trust if read is not None else NOBODY
    board = build_board(config, read.open_issues if read else (), as_of, trust, schedule)
    notes = {}
    changes: Sequence[Verdict] | None = None
    if read is not None:
        for deployment in shown:
            issues = list(read.candidates[deployment.date])
            notes[deployment.date] = build_release_notes(issues, deployment, as_of, config, trust)
        first = as_of.replace(day=1)  # the feeds' span, as rollout calendar's
        last = first + relativedelta(months=months, days=-1)
        changes = ready_among(read.recent, config, as_of, trust, first, last)
    feeds = calendar_files(
        config,
        as_of,
        months,
        previous,
        now,
        (lambda: changes) if changes is not None else None,
        templates,
    )
    content = SiteContent(
        config=config,
        schedule=schedule,
        as_of=as_of,
        upcoming=board.next_deployment,
        shown=tuple(shown),
        months=tuple(month_grids(config, schedule, as_of, months, as_of)),
        feeds=tuple(feed_links(feed_names(config, changes=read is not None), _public(base_url))),
        project=read.project if read is not None else None,
        board=board if read is not None else None,
        notes=notes,
    )
    return {**render_pages(content, templates), **feeds}


def _public(url: str | None) -> str | None:
    """The site's address as published: without a user:password@, query or fragment. A
    credential there would be on every page, and sent to Google in its subscribe link."""
    if not url:
        return url
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # "https://[::1": no address to link to
        return None
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
