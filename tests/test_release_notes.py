"""rollout notes: one deployment's release notes in Markdown and HTML."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import RunCli
from scenarios import load_story

STORY = (Path(__file__).parent / "stories" / "release_notes.story").read_text(encoding="utf-8")
URL = "https://gitlab.example.com/ops/tracker/-/issues"

MARKDOWN = f"""\
# Release notes: CustSuppOps Deployment 2027-02-01

Deployed Monday 2027-02-01: 4 changes.

## Features

- [Refund macro]({URL}/1) (#1) — requested by Alice Moreau, for Support Engineers in EMEA, C4

## Bugs

- [Attachment field dropped]({URL}/2) (#2) — requested by Carol Lindqvist, C3
- [Footer link]({URL}/5) (#5) — requested by Carol Lindqvist, C4

## Administrative

- [Rotate the API token]({URL}/3) (#3) — requested by Dave, C4

## Slipped

- [Queue view]({URL}/4) (#4): stage: in Stage::Validation; it ships once it reaches Stage::Implementation; validation: waiting for Validation::Received from the requester; ships-on: waits for the sign-off (see validation)
- [Survey in Japanese]({URL}/6) (#6): ships 2027-03-01 instead: C2 needs 3 weeks notice: announced 2027-01-20, after the 2027-02-01 deployment's announce-by date 2027-01-11
"""

HTML_BODY = f"""\
<body>
<h1>Release notes: CustSuppOps Deployment 2027-02-01</h1>
<p class="meta">Deployed Monday 2027-02-01: 4 changes.</p>
<h2>Features</h2>
<ul>
<li><a href="{URL}/1">Refund macro</a> (#1) <span class="meta">requested by Alice Moreau, for Support Engineers in EMEA, C4</span></li>
</ul>
<h2>Bugs</h2>
<ul>
<li><a href="{URL}/2">Attachment field dropped</a> (#2) <span class="meta">requested by Carol Lindqvist, C3</span></li>
<li><a href="{URL}/5">Footer link</a> (#5) <span class="meta">requested by Carol Lindqvist, C4</span></li>
</ul>
<h2>Administrative</h2>
<ul>
<li><a href="{URL}/3">Rotate the API token</a> (#3) <span class="meta">requested by Dave, C4</span></li>
</ul>
<h2>Slipped</h2>
<ul>
<li><a href="{URL}/4">Queue view</a> (#4): stage: in Stage::Validation; it ships once it reaches Stage::Implementation; validation: waiting for Validation::Received from the requester; ships-on: waits for the sign-off (see validation)</li>
<li><a href="{URL}/6">Survey in Japanese</a> (#6): ships 2027-03-01 instead: C2 needs 3 weeks notice: announced 2027-01-20, after the 2027-02-01 deployment&#39;s announce-by date 2027-01-11</li>
</ul>
</body>
</html>
"""


@pytest.fixture
def tracker(workdir: Path) -> str:
    (workdir / "s.json").write_text(json.dumps(load_story(STORY).snapshot(7)), encoding="utf-8")
    (workdir / "rollout.toml").write_text(
        '[audiences]\nSupport-EMEA = "Support Engineers in EMEA"\n', encoding="utf-8"
    )
    return "snapshot:s.json"


def test_markdown_notes(run: RunCli, tracker: str) -> None:
    result = run("--tracker", tracker, "notes", "2027-02-01", "--as-of", "2027-01-20")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == MARKDOWN


def test_html_notes_are_a_standalone_page(run: RunCli, tracker: str, workdir: Path) -> None:
    result = run("--tracker", tracker, "notes", "2027-02-01", "--as-of", "2027-01-20", "--format", "html", "--out", "notes/feb.html")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "wrote notes/feb.html\n"
    page = (workdir / "notes" / "feb.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")
    assert page.endswith(HTML_BODY)
    outline = Outline()
    outline.feed(page)
    outline.close()
    assert outline.open == []  # every element closed
    assert outline.text["title"] == "Release notes: CustSuppOps Deployment 2027-02-01"
    assert outline.text["h2"] == "FeaturesBugsAdministrativeSlipped"
    assert outline.count["li"] == 6 and outline.count["a"] == 6


def test_a_moved_deployment_is_found_by_its_period(run: RunCli, tracker: str, workdir: Path) -> None:
    (workdir / "rollout.toml").write_text(
        '[[schedule.override]]\nmonth = "2027-02"\ndate = "2027-02-03"\nreason = "offsite"\n', encoding="utf-8"
    )
    by_period = run("--tracker", tracker, "notes", "2027-02-01", "--as-of", "2027-01-20")
    by_date = run("--tracker", tracker, "notes", "2027-02-03", "--as-of", "2027-01-20")
    assert by_period.stdout == by_date.stdout
    assert "Deployed Wednesday 2027-02-03" in by_date.stdout


def test_no_deployment_on_that_date(run: RunCli, tracker: str) -> None:
    result = run("--tracker", tracker, "notes", "2027-02-10")
    assert result.exit_code == 2
    assert result.stderr == "Error: no deployment on 2027-02-10; the next one is 2027-03-01 (CustSuppOps Deployment 2027-03-01)\n"


def test_after_the_deployment_the_notes_still_list_what_shipped(run: RunCli, tracker: str) -> None:
    later = run("--tracker", tracker, "notes", "2027-02-01", "--as-of", "2027-02-05")
    # Judged as on the deployment day (not a week later, when the rule would name March);
    # #6 would have had to be announced by then.
    assert later.stdout == MARKDOWN.replace("announced 2027-01-20", "announced 2027-02-01")


class Outline(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "link", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.count: dict[str, int] = {}
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.count[tag] = self.count.get(tag, 0) + 1
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (self.open, tag)
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] in ("title", "h2"):
            self.text[self.open[-1]] = self.text.get(self.open[-1], "") + data
