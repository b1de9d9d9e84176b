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
from click.testing import CliRunner
from gitlab_server import GitLabServer
from markdown_it import MarkdownIt
from scenarios import load_story
from slack_server import live_mentions

from rollout.cli import cli
from rollout.issues import Note, Person
from rollout.markers import Trust, markers_in
from rollout.safety import FORMATS

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


def write_snapshot(
    workdir: Path, title: str, description: str = DESCRIPTION, author: str = "Alice @all <!here>"
) -> Path:
    data = load_story(STORY).snapshot(7)
    [issue] = data["issues"]
    issue["title"] = title
    issue["description"] = description
    issue["author"]["name"] = author
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
    assert not markers_in(
        [Note(1, text, Person("x", "x"), datetime(2027, 1, 20, tzinfo=UTC), False)], Trust.of(["x"])
    )
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
    assert (
        "&lt;!channel&gt; &lt;!here&gt; &lt;`@U123ABC`&gt; &lt;!subteam^S042|`@support`&gt;"
        in slack
    )


def test_release_notes_are_inert_in_markdown_and_html(run, snapshot: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    markdown = run("notes", "2027-02-01", "--as-of", "2027-01-20")
    assert markdown.exit_code == 0, markdown.stderr
    assert_inert(markdown.stdout)
    html = run(
        "notes", "2027-02-01", "--as-of", "2027-01-20", "--format", "html", "--out", "notes.html"
    )
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
    """Tags, link targets, and the text outside <code> and <a> (where GitLab looks for
    mentions) of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.live_text: list[str] = []
        self._inert = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.links.extend(value or "" for name, value in attrs if name == "href")
        if tag in ("a", "code", "pre", "style", "title"):
            self._inert += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "code", "pre", "style", "title"):
            self._inert -= 1

    def handle_data(self, data: str) -> None:
        if not self._inert:
            self.live_text.append(data)


# ------------------------------------------------------------------ GitLab's own mention rule (§7)

# Each line is an attack on one way of making a mention inert: a mention right after another
# "@", a lone backtick, punctuation or a letter outside ASCII (GitLab's \w is ASCII), a
# backslash, backtick runs that could pair with the fence rollout adds, and Slack's own
# control sequences and links.
EVASIONS = [
    "@@all",
    "`@all",
    "`` `@all",
    "x`y @all z`",
    "(@all) [@here] {@channel} é@all 日本@all",
    "\\@all \\\\@all @all\\",
    "```@all``` ``` @here",
    "<!channel> <!here> <@U123ABC> <!subteam^S042|@support> <#C123|general>",
    "<https://evil.example|https://good.example>",
    "&#64;all &commat;here &#x40;channel &amp;#64;everyone",
    "`" * 40 + " @all " + "`" * 39,
]
EVASIVE_TITLE = " ".join(EVASIONS)
EVASIVE_DESCRIPTION = (
    "## What\n"
    + "\n".join(EVASIONS)
    + "\nSee [https://good.example](https://evil.example) and ![https://img.example](https://evil.example/p.png)"
    + "\nor [the docs][1], [https://good.example][1], [https://good.example].\n\n"
    + "[1]: https://evil.example/ref\n[https://good.example]: https://evil.example/short\n"
    + "- [x](https://evil.example/list)\n  [2]: https://evil.example/nested\n"
    + "```\nan unclosed fence, to swallow the rest of the note @all\n"
    + "## Why\nstill inside the fence\n"
)
# GitLab's User.reference_pattern, on text outside code and links.
GITLAB_MENTION = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9_.][A-Za-z0-9_.\-]*")
COMMONMARK = MarkdownIt("commonmark")


def live_gitlab_mentions(markdown: str) -> list[str]:
    """The mentions GitLab would notify for ``markdown``, read by an independent CommonMark
    parser: text outside code spans, code blocks and links, consecutive text runs joined."""
    found: list[str] = []
    for block in COMMONMARK.parse(markdown):
        if block.type == "html_block":
            found += GITLAB_MENTION.findall(block.content)
        for run in _text_runs(block.children or []):
            found += GITLAB_MENTION.findall(run)
    return found


def _text_runs(tokens: list) -> list[str]:  # type: ignore[type-arg]
    runs, current, in_link = [], "", 0
    for token in tokens:
        if token.type == "link_open":
            in_link += 1
        elif token.type == "link_close":
            in_link -= 1
        if token.type in ("text", "html_inline") and not in_link:
            current += token.content
        elif token.type in ("softbreak", "hardbreak"):
            current += "\n"
        else:
            runs.append(current)
            current = ""
    return [*runs, current]


def links(markdown: str) -> list[str]:
    """Every link and image target in ``markdown``, as CommonMark reads it."""
    return [
        str(token.attrs.get("href") or token.attrs.get("src"))
        for block in COMMONMARK.parse(markdown)
        for token in block.children or []
        if token.type in ("link_open", "image")
    ]


def assert_nobody_notified(text: str) -> None:
    """Read as GitLab Markdown (a note, or plain text pasted into a comment) and as Slack
    text (posted, or pasted into chat), ``text`` notifies nobody."""
    assert live_gitlab_mentions(text) == [], live_gitlab_mentions(text)
    assert live_mentions(text) == []


@pytest.fixture
def evasive(workdir: Path) -> Path:
    return write_snapshot(workdir, EVASIVE_TITLE, EVASIVE_DESCRIPTION, "Mallory é@all `@here")


@pytest.mark.parametrize("fmt", ["md", "slack", "text"])
def test_announcements_follow_gitlabs_mention_rule(run, evasive: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = run("announce", "42", "--as-of", "2027-01-20", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert_nobody_notified(result.stdout)
    if fmt == "md":
        assert [link for link in links(result.stdout) if "evil" in link] == []
        assert "https://evil.example" in result.stdout  # shown, as the text it is
    if fmt == "slack":
        assert "&lt;https://evil.example|https://good.example&gt;" in result.stdout


def test_release_notes_follow_gitlabs_mention_rule(run, evasive: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    markdown = run("notes", "2027-02-01", "--as-of", "2027-01-20")
    assert markdown.exit_code == 0, markdown.stderr
    assert_nobody_notified(markdown.stdout)
    assert links(markdown.stdout) == ["https://gitlab.example.com/ops/tracker/-/issues/42"]
    run("notes", "2027-02-01", "--as-of", "2027-01-20", "--format", "html", "--out", "notes.html")
    page = Outline()
    page.feed((workdir / "notes.html").read_text(encoding="utf-8"))
    assert [m for text in page.live_text for m in GITLAB_MENTION.findall(text)] == []
    assert page.links == ["https://gitlab.example.com/ops/tracker/-/issues/42"]


def test_calendar_events_follow_gitlabs_mention_rule(run, evasive: Path, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("calendar", "--from", "2027-01-01", "--months", "3", "--out", "feeds").exit_code == 0
    [event] = icalendar.Calendar.from_ical((workdir / "feeds" / "changes.ics").read_bytes()).walk(
        "VEVENT"
    )
    assert_nobody_notified(str(event["SUMMARY"]))
    assert_nobody_notified(str(event["DESCRIPTION"]))


@pytest.mark.parametrize("command", [("status",), ("check", "42")])
def test_terminal_views_follow_gitlabs_mention_rule(
    run, evasive: Path, command: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    result = run(*command, "--as-of", "2027-01-20")
    assert result.exit_code in (0, 1), result.stderr
    assert "@all" in result.stdout  # the title is there...
    assert_nobody_notified(result.stdout)  # ...and notifies nobody when pasted into chat


@pytest.mark.parametrize("fmt", ["md", "slack", "text", "html", "ics"])
@pytest.mark.parametrize("evasion", EVASIONS, ids=lambda evasion: evasion[:50])
def test_every_format_neutralises_every_evasion(fmt: str, evasion: str) -> None:
    safe = FORMATS[fmt]
    for text in (
        safe.inline(evasion),
        safe.block(f"{evasion}\n{evasion}"),
        safe.inline(f"a {evasion} b"),
    ):
        assert len(text) < 10 * len(evasion) + 100
        if fmt == "html":
            page = Outline()
            page.feed(str(text))
            assert [m for run in page.live_text for m in GITLAB_MENTION.findall(run)] == []
        else:
            assert_nobody_notified(text)


# ------------------------------------------------------------------ the posted note (§3 "Posting")

POST_STORY = """\
project ops/tracker id 7
now 2027-01-05 10:00
feature 42 "placeholder" by alice, C4:
  2027-01-04 development
"""


def test_an_unclosed_fence_does_not_swallow_the_rest_of_the_note(workdir: Path) -> None:
    state = load_story(POST_STORY)
    state.update_issue(7, 42, title=EVASIVE_TITLE, description=EVASIVE_DESCRIPTION)
    with GitLabServer(state) as server:
        (workdir / "rollout.toml").write_text(
            '[tracker]\nkind = "gitlab"\nproject = "ops/tracker"\n', encoding="utf-8"
        )
        env = {"GITLAB_URL": server.url, "GITLAB_TOKEN": server.token}
        result = CliRunner(env=env).invoke(
            cli, ["announce", "42", "--as-of", "2027-01-05", "--post"]
        )
        assert result.exit_code == 0, result.stderr
        [note] = server.state.notes_json(7, 42)
    body = note["body"]
    assert_nobody_notified(body)
    assert [link for link in links(body) if "evil" in link] == []
    # The marker is an HTML comment of its own, not text inside a code block.
    last = [token for token in COMMONMARK.parse(body) if token.block][-1]
    assert last.type == "html_block"
    assert last.content.strip() == "<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"
    fences = [token for token in COMMONMARK.parse(body) if token.type == "fence"]
    assert [fence.content.splitlines()[0] for fence in fences] == [
        # the fence: longer than the longest backtick run (40 in EVASIONS, cut to 16)
        "an unclosed fence, to swallow the rest of the note " + "`" * 17 + "@all" + "`" * 17
    ]


def test_a_hostile_web_url_makes_no_link_and_no_mention(run, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    data = load_story(STORY).snapshot(7)
    data["issues"][0]["web_url"] = "https://gitlab.example.com/x) @all [click](https://evil.example"
    (workdir / "s.json").write_text(json.dumps(data), encoding="utf-8")
    for args in (("notes", "2027-02-01"), ("announce", "42")):
        result = run("--tracker", "snapshot:s.json", *args, "--as-of", "2027-01-20")
        assert result.exit_code == 0, result.stderr
        assert_nobody_notified(result.stdout)
        assert [link for link in links(result.stdout) if "evil" in link] == []
