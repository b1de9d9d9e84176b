"""rollout site: the release site of PRODUCT.md §10, read as HTML (the browser tests are in
test_site_browser.py), its one tracker read counted on the GitLab test server, and its
publishing, which never leaves half a site."""

from __future__ import annotations

import itertools
import json
import os
import re
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner, Result
from conftest import RunCli
from gitlab_server import GitLabServer
from scenarios import load_story
from site_html import LANDMARKS, Page, is_external, read_page, resolve, valid_day

from rollout.board import board_issues, build_board
from rollout.cli import cli
from rollout.config import load_config, parse_config
from rollout.errors import OutputError
from rollout.release_notes import release_notes, render_release_notes
from rollout.schedule import Schedule
from rollout.site import build_site, publish_site, shown_deployments
from rollout.trackers.snapshot import SnapshotTracker
from rollout.views.status import board_json

ROOT = Path(__file__).parent.parent
AS_OF = date(2027, 1, 20)
NOW = datetime(2027, 1, 20, 6, 0, tzinfo=UTC)
EXAMPLE_URL = (
    "https://gitlab.example.com/gitlab-com/gl-security/corp/cust-support-ops/issue-tracker/-/issues"
)
PROJECT = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"
BASE = "https://support-ops.gitlab.io/releases"
NOTES = [
    f"notes/{year}-{month:02d}-01.html"
    for year, month in [(2026, m) for m in range(2, 13)] + [(2027, 1), (2027, 2)]
]


def example_site(base_url: str | None = None) -> dict[str, bytes]:
    config = load_config(ROOT / "rollout.toml")
    tracker = SnapshotTracker.load(ROOT / "examples" / "snapshot.json")
    return build_site(config, AS_OF, tracker=tracker, now=NOW, base_url=base_url)


@pytest.fixture(scope="module")
def site() -> dict[str, bytes]:
    return example_site(BASE)


def pages(files: dict[str, bytes]) -> dict[str, Page]:
    return {
        path: read_page(path, content.decode("utf-8"))
        for path, content in files.items()
        if path.endswith(".html")
    }


# ------------------------------------------------------------------ what is there


def test_the_files_of_the_site(site: dict[str, bytes]) -> None:
    assert sorted(site) == sorted(
        [
            "index.html",
            "calendar.html",
            "board.html",
            "notes/index.html",
            *NOTES,
            "deployments.ics",
            "deadlines.ics",
            "changes.ics",
            "style.css",
            "site.js",
            "favicon.svg",
        ]
    )


def test_the_notes_go_from_history_months_back_to_the_next_deployment() -> None:
    schedule = Schedule(parse_config(""))
    assert [d.date for d in shown_deployments(schedule, AS_OF, 2)] == [
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert [d.date for d in shown_deployments(schedule, date(2027, 2, 1), 0)] == [date(2027, 2, 1)]


def test_the_front_page_says_what_ships_next_and_what_slips(site: dict[str, bytes]) -> None:
    index = pages(site)["index.html"]
    text = index.text
    assert index.headings[0] == (1, "Next deployment: Monday 1 February 2027")
    assert "In 12 days" in text
    assert "Ready to ship 3" in text and "Slipping 2" in text
    links = dict(index.links)
    for iid, title in [
        (101, "Add a macro for refund requests"),
        (102, "Ticket form drops the attachment field"),
        (108, "Broken link in the form footer"),
        (105, "SLA breach emails go to the wrong group"),
        (106, "Auto-close solved tickets after 7 days"),
    ]:
        assert links[f"{EXAMPLE_URL}/{iid}"] == title  # every change links to its issue
    ready = text[text.index("Ready to ship") : text.index("Slipping 2")]
    assert "Add a macro for refund requests" in ready and "SLA breach" not in ready
    assert "Ships 2027-03-01 instead: C3 needs 2 weeks notice" in text  # why it slips
    assert "Validation: Validation::Received was added on 2027-01-08, before the rework" in text
    deadlines = text[text.index("Coming deadlines") : text.index("The whole calendar")]
    assert "Wed 27 Jan in 7 days Sign-off cut-off" in deadlines
    assert "Mon 1 Feb in 12 days Announce C1 changes by" in deadlines
    assert "Friday 1 January 2027: 0 changes shipped" in text


def test_subscribe_links_for_each_feed(site: dict[str, bytes]) -> None:
    index = pages(site)["index.html"]
    for feed in ("deployments.ics", "deadlines.ics", "changes.ics"):
        assert f"webcal://support-ops.gitlab.io/releases/{feed}" in index.hrefs
        assert (
            "https://calendar.google.com/calendar/r?cid=https%3A%2F%2Fsupport-ops.gitlab.io%2Freleases%2F"
            + feed
        ) in index.hrefs
        assert f'value="{BASE}/{feed}"' in site["index.html"].decode()
        assert feed in index.hrefs  # the download, relative


def test_without_the_sites_address_the_links_stay_relative_and_the_page_says_why() -> None:
    files = example_site(None)
    index = pages(files)["index.html"]
    assert not [href for href in index.hrefs if href.startswith(("webcal:", "https://calendar"))]
    assert "Once this site is published, each calendar gets its address" in index.text
    assert "deployments.ics" in index.hrefs


def test_the_calendar_marks_deployments_deadlines_freezes_and_today(site: dict[str, bytes]) -> None:
    html = site["calendar.html"].decode()
    calendar = pages(site)["calendar.html"]
    assert [h for level, h in calendar.headings if level == 2] == [
        f"{month} {year}"
        for year, month in [
            (2027, m)
            for m in (
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            )
        ]
    ]
    today = re.search(r'<td class="day[^"]*today"[^>]*aria-current="date">(.*?)</td>', html, re.S)
    assert today and 'datetime="2027-01-20"' in today.group(1)
    assert "Fri 1 Jan Deployment: CustSuppOps Deployment 2027-01-01" in calendar.text
    assert "Wed 27 Jan Sign-off cut-off for the Mon 1 Feb deployment" in calendar.text
    assert "Mon 4 Jan Announce C1 changes by, for the Mon 1 Feb deployment" in calendar.text
    assert (
        "Wed 1 Dec to Fri 31 Dec December code freeze: C1 and C2 changes are held back"
        in calendar.text
    )
    december = html[html.index('id="m-2027-12"') :]
    assert december.count('class="day frozen') + december.count("day off frozen") == 31
    assert "Announce C1 changes by, for the Wed 1 Dec" not in calendar.text  # the freeze holds C1


def test_the_board_page_is_the_status_board(site: dict[str, bytes]) -> None:
    board = pages(site)["board.html"]
    text = board.text
    assert "15 open issues" in text
    assert "Implementation 5 target 3 business days" in text
    assert (
        "A sandbox for the Zendesk app #107 Mon 4 Jan (16 days) 2: ping their leadership Mon 25 Jan Planning #111"
        in text
    )
    assert (f"{EXAMPLE_URL}/111", "#111") in board.links  # the blocker, linked
    assert "Nobody to remind." in text


def test_the_board_page_lists_the_open_incidents_and_when_to_escalate(
    site: dict[str, bytes],
) -> None:
    board = site["board.html"].decode()
    section = board[board.index('id="incidents"') : board.index('id="stages"')]
    rows = section.split("<tr>")[2:]
    assert [re.search(r'class="ref">(#\d+)', row).group(1) for row in rows] == ["#109", "#117"]  # type: ignore[union-attr]
    assert '<time datetime="2027-01-09">Sat 9 Jan 2027</time>, 08:10 UTC' in rows[0]
    assert "overdue" in rows[0] and "Mission Critical" in rows[0]
    assert "waiting" in rows[1] and "overdue" not in rows[1]


def test_release_notes_pages_and_their_list(site: dict[str, bytes]) -> None:
    found = pages(site)
    february = found["notes/2027-02-01.html"].text
    assert "Planned: ships in 12 days, with 3 changes ready so far." in february
    assert "Features 1 Feature Add a macro for refund requests" in february
    assert "Slipped 2" in february
    assert "No change shipped with this deployment." in found["notes/2027-01-01.html"].text
    archive = found["notes/index.html"]
    assert [href for href in archive.hrefs if href.startswith("../notes/2")] == [
        f"../{path}" for path in reversed(NOTES)
    ]
    assert "Monday 1 February 2027 planned, in 12 days 3 changes ready · 2 slipped" in archive.text


# ------------------------------------------------------------------ HTML rules of §10


def test_every_page_has_lang_title_landmarks_and_headings_in_order(site: dict[str, bytes]) -> None:
    for path, page in pages(site).items():
        assert page.lang == "en", path
        assert page.title.strip() and page.title.endswith("· Support Operations deployments"), path
        for landmark in LANDMARKS:
            assert page.tags.count(landmark) >= 1, (path, landmark)
        assert page.tags.count("main") == 1 and page.tags.count("h1") == 1, path
        levels = [level for level, _ in page.headings]
        assert levels[0] == 1, path
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (path, page.headings)


def test_every_date_shown_is_in_a_time_element(site: dict[str, bytes]) -> None:
    for path, page in pages(site).items():
        assert page.times, path
        assert all(valid_day(value) for value in page.times), (path, page.times)
        assert page.dates_outside_time == [], path


def test_every_relative_link_resolves_to_a_file_and_fragment_of_the_site(
    site: dict[str, bytes],
) -> None:
    found = pages(site)
    for path, page in found.items():
        for href in page.hrefs + page.srcs:
            if is_external(href):
                continue
            assert not href.startswith("/"), (path, href)  # relative: works under a sub-path
            target, fragment = resolve(path, href)
            assert target in site, (path, href)
            if fragment:
                assert fragment in found[target].ids, (path, href)


def test_nothing_external_but_issues_and_subscribe_links(site: dict[str, bytes]) -> None:
    snapshot = json.loads((ROOT / "examples" / "snapshot.json").read_text(encoding="utf-8"))
    issue_urls = {issue["web_url"] for issue in snapshot["issues"]}
    for path, page in pages(site).items():
        assert not [src for src in page.srcs if is_external(src)], path
        for href in page.hrefs:
            if not is_external(href):
                continue
            allowed = href in issue_urls or href.startswith(
                (
                    "webcal://support-ops.gitlab.io/releases/",
                    "https://calendar.google.com/calendar/r",
                )
            )
            assert allowed, (path, href)


def test_no_inline_script_or_style_for_a_strict_csp(site: dict[str, bytes]) -> None:
    for path, page in pages(site).items():
        assert page.inline_script == [] and page.forbidden == [], path
        assert page.srcs.count("site.js") + page.srcs.count("../site.js") == 1, path
    css = site["style.css"].decode()
    assert "@import" not in css and "url(" not in css  # no font, no image from anywhere
    assert "@media (prefers-color-scheme: dark)" in css and "@media print" in css


def test_hostile_titles_are_inert(tmp_path: Path) -> None:
    from test_hostile_issues import TITLE, assert_inert, write_snapshot

    write_snapshot(tmp_path, TITLE)
    config = load_config(tmp_path / "rollout.toml")
    files = build_site(
        config, AS_OF, tracker=SnapshotTracker.load(tmp_path / "snapshot.json"), now=NOW
    )
    for path, content in files.items():
        if not path.endswith(".html"):
            continue
        html = content.decode("utf-8")
        page = read_page(path, html)
        assert page.tags.count("script") == 1 and page.inline_script == [], path
        assert "<img" not in html.replace('<img src="favicon.svg"', "").replace(
            '<img src="../favicon.svg"', ""
        ), path
        assert_inert(re.sub(r"<(script|link|img)[^>]*>", "", html).replace("<!DOCTYPE html>", ""))
        if "42" in page.text:
            assert "<script>alert(1)</script>" in page.text  # shown as text


# ------------------------------------------------------------------ the same answers as the commands


STORY = (Path(__file__).parent / "stories" / "support_ops.story").read_text(encoding="utf-8")


@pytest.fixture
def server() -> Iterator[GitLabServer]:
    with GitLabServer(load_story(STORY)) as running:
        yield running


def gitlab_config(directory: Path) -> Path:
    path = directory / "rollout.toml"
    path.write_text(
        f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\nretries = 1\n', encoding="utf-8"
    )
    return path


def invoke(
    server: GitLabServer, config: Path, *args: str, env: dict[str, str] | None = None
) -> Result:
    base = {
        "GITLAB_URL": server.url,
        "GITLAB_TOKEN": server.token,
        "SOURCE_DATE_EPOCH": "1800000000",
    }
    return CliRunner(env={**base, **(env or {})}).invoke(cli, ["--config", str(config), *args])


def test_one_read_costs_no_more_than_status_and_the_notes_shown(
    workdir: Path, server: GitLabServer
) -> None:
    config = gitlab_config(workdir)
    # Cold, every run: the history cache would spare the later runs what the first read.
    result = invoke(
        server, config, "--no-cache", "site", "--as-of", "2027-01-20", "--out", "public"
    )
    assert result.exit_code == 0, result.stderr
    made = list(server.requests)
    assert {r.method for r in made} == {"GET"}
    keys = [(r.path, json.dumps(r.query, sort_keys=True)) for r in made]
    assert len(keys) == len(set(keys))  # nothing is asked for twice

    def fetched(kind: str) -> list[int]:
        return sorted(
            int(r.path.split("/issues/")[1].split("/")[0])
            for r in made
            if r.path.endswith(f"/{kind}")
        )

    # Label events: every open issue with a stage (its age) and #108, closed Completed in the
    # next milestone. Links: what the board and the notes show a verdict of (the shipping
    # ones, #106 in the next milestone, #107 Blocked). Notes: of those signed off, whose
    # ships-on date reads the announcement date.
    assert fetched("resource_label_events") == [*range(101, 113), 114, 115, 116, 117]
    assert fetched("links") == [101, 102, 103, 105, 106, 107, 108, 112]
    assert fetched("notes") == [101, 102, 103, 105, 108]
    lists = [r for r in made if r.path.endswith("/issues")]
    milestones = sorted(q["milestone"][0] for q in (r.query for r in lists) if "milestone" in q)
    assert milestones == [f"CustSuppOps Deployment {p[6:16]}" for p in NOTES]
    assert len(lists) == 2 + 13 and len(made) == 15 + 16 + 8 + 5 + 1  # and GET /user

    separately = 0
    for args in [("status", "--as-of", "2027-01-20")] + [
        ("notes", p[6:16], "--as-of", "2027-01-20") for p in NOTES
    ]:
        server.reset_requests()
        assert invoke(server, config, "--no-cache", *args).exit_code == 0
        separately += len(server.requests)
    assert len(made) <= separately == 92  # the README says so


def test_the_board_and_notes_are_those_of_status_and_notes(
    workdir: Path, server: GitLabServer
) -> None:
    from rollout.site.reading import read_tracker
    from rollout.trackers.gitlab import GitLabTracker

    config = parse_config(gitlab_config(workdir).read_text(), base_dir=workdir)
    env = {"GITLAB_URL": server.url, "GITLAB_TOKEN": server.token}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        shown = shown_deployments(Schedule(config), AS_OF, 12)
        read = read_tracker(GitLabTracker.connect(config.tracker), config, AS_OF, shown, 12)
        alone = GitLabTracker.connect(config.tracker)
        trust = alone.trust(())
        status = build_board(config, board_issues(alone, config, AS_OF), AS_OF, trust)
        assert board_json(build_board(config, read.open_issues, AS_OF, read.trust)) == board_json(
            status
        )
        from rollout.release_notes import build_release_notes

        for deployment in shown:
            mine = build_release_notes(
                list(read.candidates[deployment.date]), deployment, AS_OF, config, read.trust
            )
            theirs = release_notes(alone, config, deployment.date, AS_OF)
            assert render_release_notes(mine, "md", config) == render_release_notes(
                theirs, "md", config
            )


def test_the_feeds_are_those_of_calendar(workdir: Path, server: GitLabServer) -> None:
    config = gitlab_config(workdir)
    assert invoke(server, config, "site", "--as-of", "2027-01-20", "--months", "6").exit_code == 0
    # calendar has no --as-of: the changes it finds are judged as of today, which is the
    # story's 2027-01-20 only in the site; compare the two feeds that do not depend on it.
    assert (
        invoke(
            server, config, "calendar", "--from", "2027-01-20", "--months", "6", "--out", "feeds"
        ).exit_code
        == 0
    )
    for feed in ("deployments.ics", "deadlines.ics"):
        assert (workdir / "public" / feed).read_bytes() == (workdir / "feeds" / feed).read_bytes()
    changes = icalendar.Calendar.from_ical((workdir / "public" / "changes.ics").read_bytes())
    assert sorted(str(e["UID"]) for e in changes.walk("VEVENT")) == [
        f"change-278964-{iid}@rollout.local" for iid in (101, 102, 103, 105, 108, 112)
    ]


def test_the_previous_feeds_in_out_are_the_memory(run: RunCli, workdir: Path) -> None:
    first = run("site", "--as-of", "2027-01-20", "--out", "public")
    assert first.exit_code == 0, first.stderr
    (workdir / "rollout.toml").write_text(
        '[[schedule.override]]\nmonth = "2027-05"\ndate = "2027-05-03"\nreason = "Moved off the 1st"\n',
        encoding="utf-8",
    )
    again = run("site", "--as-of", "2027-01-20", "--out", "public")
    assert again.exit_code == 0, again.stderr
    feed = icalendar.Calendar.from_ical((workdir / "public" / "deployments.ics").read_bytes())
    sequences = {str(e["UID"]): int(e["SEQUENCE"]) for e in feed.walk("VEVENT")}
    assert sequences["deployment-2027-05@rollout.local"] == 1
    assert sequences["deployment-2027-04@rollout.local"] == 0


# ------------------------------------------------------------------ without a tracker


def test_without_a_tracker_it_is_a_calendar_only_site(run: RunCli, workdir: Path) -> None:
    result = run("site", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("calendar-only site: no tracker configured")
    files = sorted(
        p.relative_to(workdir / "public").as_posix()
        for p in (workdir / "public").rglob("*")
        if p.is_file()
    )
    assert files == [
        "calendar.html",
        "deadlines.ics",
        "deployments.ics",
        "favicon.svg",
        "index.html",
        "site.js",
        "style.css",
    ]
    index = read_page("index.html", (workdir / "public" / "index.html").read_text(encoding="utf-8"))
    assert (
        "No issue tracker is connected to this site, so it shows the deployment calendar only"
        in index.text
    )
    assert [label for href, label in index.links if href.endswith(".html")][:3] == [
        "Support Operations deployments",
        "Overview",
        "Calendar",
    ]
    assert "board.html" not in index.hrefs and "notes/index.html" not in index.hrefs


# ------------------------------------------------------------------ reproducible and atomic


def test_unchanged_inputs_give_identical_bytes(
    run: RunCli, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    config = ["--config", str(ROOT / "rollout.toml")]
    assert run(*config, "site", "--as-of", "2027-01-20", "--out", "one").exit_code == 0
    assert run(*config, "site", "--as-of", "2027-01-20", "--out", "two").exit_code == 0
    assert (
        run(*config, "site", "--as-of", "2027-01-20", "--out", "two").exit_code == 0
    )  # over itself

    def tree(name: str) -> dict[str, bytes]:
        root = workdir / name
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }

    assert tree("one") == tree("two") and len(tree("one")) == 23
    assert sorted(p.name for p in workdir.iterdir()) == ["one", "two"]  # nothing left beside them
    assert oct((workdir / "one").stat().st_mode & 0o777) == "0o755"


def test_publishing_replaces_the_whole_site(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_site(
        {"index.html": b"old", "notes/2027-01-01.html": b"old notes", "changes.ics": b"x"}, out
    )
    publish_site({"index.html": b"new", "notes/2027-02-01.html": b"new notes"}, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "index.html",
        "notes/2027-02-01.html",
    ]
    assert (out / "index.html").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_a_failure_midway_leaves_the_old_site_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "public"
    publish_site({"index.html": b"old", "style.css": b"old"}, out)
    real_fsync = os.fsync
    calls = []

    def failing(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr("rollout.site.publish.os.fsync", failing)
    with pytest.raises(OutputError, match=r"No space left on device; the old site is unchanged"):
        publish_site({"index.html": b"new", "style.css": b"new", "calendar.html": b"new"}, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {
        "index.html": b"old",
        "style.css": b"old",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_a_reader_never_sees_half_a_site(tmp_path: Path) -> None:
    """While sites are swapped in, every read of a page finds it, whole, and the page and
    the stylesheet it was read with belong together or to neighbouring builds."""
    out = tmp_path / "public"
    publish_site({"index.html": b"0" * 50_000, "style.css": b"0"}, out)
    stop = threading.Event()
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append((out / "index.html").read_bytes())
            except BaseException as error:
                errors.append(error)
                return

    reader = threading.Thread(target=read)
    reader.start()
    for build in range(1, 40):
        digit = str(build % 10).encode()
        publish_site({"index.html": digit * 50_000, "style.css": digit}, out)
    stop.set()
    reader.join()
    assert errors == []
    assert seen and all(len(set(page)) == 1 and len(page) == 50_000 for page in seen)


def test_a_directory_that_is_not_a_site_is_left_alone(run: RunCli, workdir: Path) -> None:
    (workdir / "public").mkdir()
    (workdir / "public" / "thesis.docx").write_bytes(b"years of work")
    result = run("site", "--as-of", "2027-01-20")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: public holds thesis.docx, which is not part of a site rollout writes; "
        "choose another --out, or move it away (the whole directory is replaced)\n"
    )
    assert (workdir / "public" / "thesis.docx").read_bytes() == b"years of work"
    # The feeds a CI job fetched first (their memory) are fine.
    (workdir / "public" / "thesis.docx").unlink()
    (workdir / "public" / "deployments.ics").write_bytes(b"")
    assert run("site", "--as-of", "2027-01-20").exit_code == 0


@pytest.mark.parametrize(
    "foreign", ["team-holidays.ics", "notes/minutes.md", "notes/2027-01-01.html.bak"]
)
def test_files_of_the_same_kind_that_rollout_did_not_write_are_left_alone(
    run: RunCli, workdir: Path, foreign: str
) -> None:
    path = workdir / "public" / foreign
    path.parent.mkdir(parents=True)
    path.write_bytes(b"BEGIN:VCALENDAR")
    result = run("site", "--as-of", "2027-01-20")
    assert (result.exit_code, result.stderr.startswith(f"Error: public holds {foreign}, ")) == (
        2,
        True,
    ), result.stderr
    assert path.read_bytes() == b"BEGIN:VCALENDAR"


def test_the_whole_file_system_is_refused_at_its_first_entry(run: RunCli) -> None:
    result = run("site", "--as-of", "2027-01-20", "--out", "/")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: / holds ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("variable", ["", "CI_PAGES_URL"])
def test_credentials_in_the_sites_address_are_never_published(
    run: RunCli, workdir: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    address = "https://depl0yer:s3cret@support-ops.gitlab.io/releases"
    if variable:  # GitLab's own has no credentials: one set by hand might
        address += "?private_token=s3cret#x"
        monkeypatch.setenv(variable, address)
    else:
        (workdir / "rollout.toml").write_text(f'[site]\nurl = "{address}"\n', encoding="utf-8")
    assert run("site", "--as-of", "2027-01-20").exit_code == 0
    published = b"".join(p.read_bytes() for p in (workdir / "public").rglob("*") if p.is_file())
    assert b"s3cret" not in published and b"depl0yer" not in published
    assert b"webcal://support-ops.gitlab.io/releases/deployments.ics" in published


def test_what_a_killed_build_left_beside_the_site_is_cleared_away(
    run: RunCli, workdir: Path
) -> None:
    left = workdir / ".public.new-k1ll3d_x"  # mkdtemp's eight characters
    (left / "notes").mkdir(parents=True)
    (left / "index.html").write_bytes(b"half")
    other = workdir / ".public.new-mine"
    other.mkdir()
    assert run("site", "--as-of", "2027-01-20").exit_code == 0
    assert not left.exists() and other.is_dir()
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".public")) == [
        ".public.new-mine"
    ]


def test_a_tracker_that_fails_stops_it_before_anything_is_written(
    workdir: Path, server: GitLabServer
) -> None:
    config = gitlab_config(workdir)
    assert invoke(server, config, "site", "--as-of", "2027-01-20").exit_code == 0
    before = (workdir / "public" / "index.html").read_bytes()
    server.inject("status", code=500, times=1000, match=r"/issues$")
    result = invoke(server, config, "site", "--as-of", "2027-01-22")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: GitLab answered 500") and result.stderr.count("\n") == 1
    assert (workdir / "public" / "index.html").read_bytes() == before


# ------------------------------------------------------------------ config, templates, packaging


def test_the_sites_address_from_the_config_or_gitlab_pages(
    run: RunCli, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_PAGES_URL", "https://ops.gitlab.io/tracker")
    assert run("site", "--as-of", "2027-01-20").exit_code == 0
    assert (
        "webcal://ops.gitlab.io/tracker/deployments.ics"
        in (workdir / "public" / "index.html").read_text()
    )
    (workdir / "rollout.toml").write_text(
        '[site]\nurl = "https://intranet.example.com/releases/"\n', encoding="utf-8"
    )
    assert run("site", "--as-of", "2027-01-20").exit_code == 0
    assert (
        "webcal://intranet.example.com/releases/deployments.ics"
        in (workdir / "public" / "index.html").read_text()
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[site]\nurl = "ops.gitlab.io"\n', 'site.url: "ops.gitlab.io" is not an http(s) URL'),
        ("[site]\nhistory = -1\n", "site.history: must be 0 to 120 months, not -1"),
        ("[site]\nhistroy = 3\n", 'site.histroy: unknown key; did you mean "history"?'),
    ],
)
def test_site_config_errors(run: RunCli, workdir: Path, toml: str, message: str) -> None:
    (workdir / "rollout.toml").write_text(toml, encoding="utf-8")
    result = run("site")
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_a_team_overrides_a_site_template_or_the_stylesheet(run: RunCli, workdir: Path) -> None:
    (workdir / "team" / "site").mkdir(parents=True)
    (workdir / "team" / "site" / "style.css").write_text(
        "body { color: black; }\n", encoding="utf-8"
    )
    (workdir / "team" / "site" / "calendar.html.j2").write_text(
        textwrap.dedent(
            """\
            {% extends "site/base.html.j2" %}
            {% block title %}Our calendar{% endblock %}
            {% block main %}<h1>{{ months | length }} months</h1>{% endblock %}
            """
        ),
        encoding="utf-8",
    )
    (workdir / "rollout.toml").write_text('[templates]\ndir = "team"\n', encoding="utf-8")
    assert run("site", "--as-of", "2027-01-20", "--months", "3").exit_code == 0
    assert (workdir / "public" / "style.css").read_text() == "body { color: black; }\n"
    calendar = read_page("calendar.html", (workdir / "public" / "calendar.html").read_text())
    assert calendar.headings == [(1, "3 months")] and calendar.title.startswith("Our calendar")
    assert "Next deployment" in (workdir / "public" / "index.html").read_text()  # rollout's own


# ------------------------------------------------------------------ colours


def _colours(css: str) -> tuple[dict[str, str], dict[str, str]]:
    light = dict(
        re.findall(
            r"--([\w-]+):\s*(#[0-9a-f]{6})", css.split("@media (prefers-color-scheme: dark)")[0]
        )
    )
    dark_block = css.split("@media (prefers-color-scheme: dark)")[1].split("\n}\n")[0]
    dark = {**light, **dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", dark_block))}
    return light, dark


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# (text, background) pairs as style.css uses them
TEXT_PAIRS = [
    *[
        (text, ground)
        for text in ("text", "muted", "link")
        for ground in ("bg", "surface", "surface-2")
    ],
    ("text", "off-bg"),
    ("text", "accent-soft"),
    ("muted", "accent-soft"),
    ("link", "accent-soft"),
    ("accent-strong", "accent-soft"),
    ("accent-strong", "surface"),
    ("accent-strong", "bg"),
    ("accent-text", "accent"),
    ("ok-text", "ok-bg"),
    ("warn-text", "warn-bg"),
    ("bad-text", "bad-bg"),
    ("bad-text", "surface"),
    ("warn-text", "surface"),
    ("deploy-text", "deploy-bg"),
    ("signoff-text", "signoff-bg"),
    ("announce-text", "announce-bg"),
    ("freeze-text", "freeze-bg"),
    ("today-text", "today"),
    ("link", "freeze-bg"),
]
# (colour, background) of things that are not text: focus rings, markers (WCAG 1.4.11: 3:1)
UI_PAIRS = [
    ("focus", "bg"),
    ("focus", "surface"),
    ("today", "surface"),
    ("deploy-bg", "surface"),
    ("signoff-text", "surface"),
    ("announce-text", "surface"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colours_meet_wcag_aa(scheme: str) -> None:
    css = (ROOT / "templates" / "site" / "style.css").read_text(encoding="utf-8")
    light, dark = _colours(css)
    colours = light if scheme == "light" else dark
    assert len(colours) > 25
    used = set(re.findall(r"var\(--([\w-]+)\)", css))
    assert {name for pair in TEXT_PAIRS + UI_PAIRS for name in pair} <= used
    low = [
        (f, b, round(contrast(colours[f], colours[b]), 2))
        for f, b in TEXT_PAIRS
        if contrast(colours[f], colours[b]) < 4.5
    ]
    low += [
        (f, b, round(contrast(colours[f], colours[b]), 2))
        for f, b in UI_PAIRS
        if contrast(colours[f], colours[b]) < 3
    ]
    assert low == []


def test_every_rule_that_sets_both_colours_meets_aa() -> None:
    """Any rule giving text a colour and a background of its own is one of the pairs above."""
    css = (ROOT / "templates" / "site" / "style.css").read_text(encoding="utf-8")
    pairs = set()
    for body in re.findall(r"\{([^{}]*)\}", css):
        text = re.search(r"(?<![-\w])color:\s*var\(--([\w-]+)\)", body)
        ground = re.search(r"background:\s*var\(--([\w-]+)\)", body)
        if text and ground:
            pairs.add((text.group(1), ground.group(1)))
    assert pairs and pairs <= set(TEXT_PAIRS)


def test_the_readme_shows_the_real_command(workdir: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ rollout site --as-of 2027-01-20\n(.*?)```", readme, re.S)
    assert block is not None
    (workdir / "examples").mkdir()
    (workdir / "examples" / "snapshot.json").write_bytes(
        (ROOT / "examples" / "snapshot.json").read_bytes()
    )
    (workdir / "rollout.toml").write_bytes((ROOT / "rollout.toml").read_bytes())
    result = CliRunner().invoke(cli, ["site", "--as-of", "2027-01-20"])
    assert result.exit_code == 0
    assert result.stderr == block.group(1)
    for shot in re.findall(r"docs/screenshots/[\w-]+\.png", readme):
        assert (ROOT / shot).stat().st_size > 10_000
