"""Sections of issue descriptions, read with a real Markdown parser."""

from __future__ import annotations

import pytest

from rollout.descriptions import find_section, section, sections

WHAT = ["What", "Proposal"]

# (description, headings asked for, the section's Markdown)
SECTIONS = [
    pytest.param("## What\nA macro.\n\n## Why\nSpeed.", WHAT, "A macro.", id="atx"),
    pytest.param("# What #\nclosed ATX\n# Why", WHAT, "closed ATX", id="atx-closing-hashes"),
    pytest.param("What\n====\nA macro.\n\nWhy\n===\nSpeed.", WHAT, "A macro.", id="setext-h1"),
    pytest.param(
        "What\n====\nA macro.\n\nWhy\n---\nSpeed.",
        WHAT,
        "A macro.\n\nWhy\n---\nSpeed.",
        id="setext-h2-inside-h1",
    ),
    pytest.param(
        "Intro\n\nWhat\n---\nA macro.\n\nWhy\n---\nSpeed.", WHAT, "A macro.", id="setext-h2"
    ),
    pytest.param("**What**\nA macro.\n\n**Why**\nSpeed.", WHAT, "A macro.", id="bold-line"),
    pytest.param("__What:__\nA macro.\n**Why**:\nSpeed.", WHAT, "A macro.", id="bold-line-colon"),
    pytest.param("## **Proposal:**\nA macro.\n## Why", WHAT, "A macro.", id="bold-inside-heading"),
    pytest.param("### what  \nlower case\n### Why", WHAT, "lower case", id="case-insensitive"),
    pytest.param(
        "## What\nA macro.\n### Details\nTwo lines.\n## Why\nSpeed.",
        WHAT,
        "A macro.\n### Details\nTwo lines.",
        id="nested-levels-stay-inside",
    ),
    pytest.param(
        "### Why\nSpeed.\n## What\nA macro.\n#### Note\nx",
        WHAT,
        "A macro.\n#### Note\nx",
        id="deeper-heading-inside",
    ),
    pytest.param(
        "## What\nA macro **with bold** text\n**Note**\nkept\n## Why",
        WHAT,
        "A macro **with bold** text\n**Note**\nkept",
        id="bold-line-below-an-atx-heading",
    ),
    pytest.param("```\n## What\nin a fence\n```\n## What\nreal", WHAT, "real", id="backtick-fence"),
    pytest.param(
        "~~~\n## What\n```\nstill fenced\n~~~\n## What\nreal",
        WHAT,
        "real",
        id="tilde-fence-holding-backticks",
    ),
    pytest.param("````\n```\n## What\n````\n**What**\nreal", WHAT, "real", id="longer-fence"),
    pytest.param("## Why\nx\n```\n## What\nnever closed", WHAT, "", id="unclosed-fence"),
    pytest.param("<!--\n## What\n-->\n## What\nreal", WHAT, "real", id="html-comment"),
    pytest.param(
        "- ## What\n- item\n\n> ## What\n\n## What\nreal",
        WHAT,
        "real",
        id="list-and-quote-do-not-count",
    ),
    pytest.param(
        "    ## What\n    indented code\n\n## What\nreal", WHAT, "real", id="indented-code"
    ),
    pytest.param("## What\n\n## Why\nSpeed.", WHAT, "", id="empty-section"),
    pytest.param("## Why\nSpeed.", WHAT, "", id="absent"),
    pytest.param("## What\r\nWindows\r\n## Why\r\n", WHAT, "Windows", id="crlf"),
    pytest.param(
        "**What** and more\ntext\n## What\nreal", WHAT, "real", id="bold-with-more-is-text"
    ),
]


@pytest.mark.parametrize(("description", "headings", "expected"), SECTIONS)
def test_section(description: str, headings: list[str], expected: str) -> None:
    assert section(description, headings) == expected


def test_sections_lists_headings_with_levels() -> None:
    found = sections("# Title\nintro\n\nWhat\n---\na\n\n**Why:**\nb\n### Deep\nc")
    assert [(s.heading, s.level) for s in found] == [
        ("Title", 1),
        ("What", 2),
        ("Why:", 6),  # as written; the colon is ignored when matching
        ("Deep", 3),
    ]
    assert found[0].text == "intro\n\nWhat\n---\na\n\n**Why:**\nb\n### Deep\nc"
    assert found[2].text == "b"  # a bold-line section ends at any heading


@pytest.mark.parametrize(
    ("body", "empty"),
    [
        ("", True),
        ("\n\n   \n", True),
        ("<!-- Describe the steps here -->", True),
        ("<!-- one -->\n\n<!--\ntwo\n-->", True),
        ("<!-- hint --> actual text", False),
        ("1. Open a ticket", False),
        ("```\n```", False),  # an empty code block is still something written
        ("### Sub-heading", False),
    ],
)
def test_empty_means_nothing_but_blank_lines_and_comments(body: str, empty: bool) -> None:
    found = find_section(
        f"## Steps to reproduce\n{body}\n## Expected behavior\nx", ["steps to reproduce"]
    )
    assert found is not None
    assert found.empty is empty
