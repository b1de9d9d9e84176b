"""Issue text is data: hostile titles and descriptions in every output format."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import vobject
from scenarios import load_story

from rollout.issues import Note, Person
from rollout.markers import Trust, markers_in

STORY = """\
project ops/tracker id 7
feature 42 "placeholder" by alice, C4, customer Support-EMEA, assignee bob, milestone "CustSuppOps Deployment 2027-02-01":
  2027-01-04 development; 2027-01-08 validation; 2027-01-11 received; 2027-01-11 14:00 implementation
milestone "CustSuppOps Deployment 2027-02-01" start 2027-01-01 due 2027-02-01
"""
MENTIONS = "@all @here @channel @everyone @alice @gitlab-com/support/managers"
SLACK = "<!channel> <!here> <@U123ABC> <!subteam^S042|@support>"
TITLE = (
    f"{MENTIONS} {SLACK} <script>alert(1)</script> {{{{ 7*7 }}}} {{{{ config }}}}"
    " CRLF\r\nBEGIN:VEVENT\r\nUID:evil\r\nEND:VEVENT \u202eRTL\u202c zero\u200bwidth 🚀👩‍💻"
)
DESCRIPTION = (
    "## What\n/close\n/assign @mallory\n@all please look\n"
    "<!-- rollout:announcement phase=pre deploy=2027-01-01 -->\n<img src=x onerror=alert(1)>\n"
    "## Why\n{{ config.tracker }} and {% for x in range(3) %}{{ x }}{% endfor %}\n"
)
# A mention in backticks (Markdown, Slack, text) or <code> (HTML) notifies nobody.
LIVE_MENTION = re.compile(
    r"(?<![`\w])(?<!<code>)@(all|here|channel|everyone|alice|gitlab-com|mallory|support)\b"
)


LONG_TITLE = "A" * 4_000 + " " + "b" * 6_000


def write_snapshot(workdir: Path, title: str) -> Path:
    data = load_story(STORY).snapshot(7)
    [issue] = data["issues"]
    issue["title"] = title
    issue["description"] = DESCRIPTION
    issue["author"]["name"] = "Alice @all <!here>"
    path = workdir / "snapshot.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    (workdir / "rollout.toml").write_text(
        '[tracker]\nkind = "snapshot"\nsnapshot = "snapshot.json"\n', encoding="utf-8"
    )
    return path


@pytest.fixture(params=[TITLE, LONG_TITLE], ids=["hostile", "10000-characters"])
def snapshot(request: pytest.FixtureRequest, workdir: Path) -> Path:
    return write_snapshot(workdir, request.param)


def assert_inert(text: str, *, markup: bool = True) -> None:
    """No live mention, no evaluated template, no hidden characters; no live HTML where
    the format is read as markup (plain text may say <script> as words)."""
    assert not LIVE_MENTION.search(text), LIVE_MENTION.search(text)
    assert "49" not in text  # {{ 7*7 }} was never evaluated
    assert "\u202e" not in text and "\u200b" not in text and "\r" not in text
    if markup:
        assert "<script" not in text and "<img" not in text and "<!--" not in text


@pytest.mark.parametrize("fmt", ["md", "slack", "text"])
def test_announcements_are_inert(run, snapshot: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = run("announce", "42", "--as-of", "2027-01-20", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert_inert(text, markup=fmt != "text")
    if fmt == "md":  # a GitLab note: no quick action may run, no marker may be faked
        assert not re.search(r"^\s*/(close|assign)", text, re.M)
    assert not markers_in([Note(1, text, Person("x", "x"), datetime(2027, 1, 20, tzinfo=UTC), False)], Trust.of(["x"]))
    if fmt == "slack":
        for sequence in ("<!channel>", "<!here>", "<@U123ABC>", "<!subteam^"):
            assert sequence not in text
    title_line = text.splitlines()[0]
    assert len(title_line) < 400  # a 10,000-character title is cut short


def test_hostile_title_keeps_its_words_as_text(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    write_snapshot(workdir, TITLE)
    text = run("announce", "42", "--as-of", "2027-01-20", "--format", "md").stdout
    assert "`@all` `@here` `@channel` `@everyone` `@alice` `@gitlab-com/support/managers`" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "{{ 7\\*7 }}" in text and "{{ config }}" in text  # Markdown-escaped, not evaluated
    assert "🚀👩‍💻" in text
    assert "\\/close" in text  # shown, not run
    slack = run("announce", "42", "--as-of", "2027-01-20", "--format", "slack").stdout
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;`@U123ABC`&gt; &lt;!subteam^S042|`@support`&gt;" in slack


def test_release_notes_are_inert_in_markdown_and_html(run, snapshot: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    markdown = run("notes", "2027-02-01", "--as-of", "2027-01-20")
    assert markdown.exit_code == 0, markdown.stderr
    assert_inert(markdown.stdout)
    html = run("notes", "2027-02-01", "--as-of", "2027-01-20", "--format", "html", "--out", "notes.html")
    assert html.exit_code == 0
    page = (workdir / "notes.html").read_text(encoding="utf-8")
    assert_inert(page)
    parsed = Outline()
    parsed.feed(page)
    assert parsed.tags.count("script") == 0
    assert parsed.tags.count("a") == 1
    assert parsed.links == ["https://gitlab.example.com/ops/tracker/-/issues/42"]


def test_changes_feed_is_inert_and_well_formed(run, snapshot: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    out = run("calendar", "--from", "2027-01-01", "--months", "3", "--out", "feeds")
    assert out.exit_code == 0, out.stderr
    raw = (workdir / "feeds" / "changes.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "change-7-42@rollout.local"
    assert len(re.findall(rb"^BEGIN:VEVENT\r$", raw, re.M)) == 1
    assert_inert(str(event["SUMMARY"]) + str(event["DESCRIPTION"]))
    assert len(recurring_ical_events.of(calendar).between((2027, 1, 1), (2027, 4, 1))) == 1
    parsed = vobject.readOne(raw.decode("utf-8"))
    assert len(parsed.vevent_list) == 1
    assert parsed.vevent.uid.value == "change-7-42@rollout.local"


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.links.extend(value or "" for name, value in attrs if name == "href")
