"""Sections of an issue description, found by their Markdown headings.

Issue templates write "## What" / "### Why" / "Why\\n---" / "**Business need**" sections;
announcements quote them and triage checks that they are there. The description is
parsed with markdown-it-py (CommonMark), so a heading inside a code fence of any kind
(``` or ~~~, longer fences, an unclosed one) or an HTML comment is text, and setext
headings are headings. A line that is nothing but bold text ("**Business need**", with
an optional colon) in a paragraph also works as a heading, the lowest level, as many
issue templates use it. Only headings at the top level count, not those in lists or
quotes.

A section is the original Markdown under its heading, up to the next heading of the
same or a higher level. Headings are matched case-insensitively on their plain text
("## **What:**" is "What"), ignoring a trailing colon.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # markdown-it-py is loaded when a description is first read
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# The level of a bold-line heading: below every ATX and setext level.
BOLD_LEVEL = 6
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass(frozen=True)
class Section:
    heading: str  # the heading's plain text, as written
    level: int  # 1 to 6; bold lines are BOLD_LEVEL
    text: str  # the original Markdown under the heading, without blank lines around it

    @property
    def empty(self) -> bool:
        """Nothing in it but blank lines and HTML comments (a template's instructions)."""
        return not _has_content(self.text)


@dataclass(frozen=True)
class _Heading:
    first: int  # first line of the heading
    after: int  # first line after it (setext headings take two lines or more)
    level: int
    text: str


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def normal(heading: str) -> str:
    """How headings are compared: case-folded, spaces collapsed, no trailing colon."""
    return " ".join(heading.strip().rstrip(":").strip().casefold().split())


def _lines(description: str) -> list[str]:
    return description.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@lru_cache(maxsize=512)
def sections(description: str) -> tuple[Section, ...]:
    """Every section of the description, in order; nested ones are also inside their
    parent's text."""
    lines = _lines(description)
    headings = _headings("\n".join(lines), lines)
    found = []
    for index, heading in enumerate(headings):
        end = next(
            (later.first for later in headings[index + 1 :] if later.level <= heading.level),
            len(lines),
        )
        text = "\n".join(lines[heading.after : end]).strip("\n")
        found.append(Section(heading.text, heading.level, text))
    return tuple(found)


def find_section(description: str, headings: Sequence[str]) -> Section | None:
    """The first section named like one of ``headings``, or None."""
    wanted = {normal(name) for name in headings}
    return next((s for s in sections(description) if normal(s.heading) in wanted), None)


def section(description: str, headings: Sequence[str]) -> str:
    """The Markdown under the first heading named like one of ``headings``; "" when
    there is none."""
    found = find_section(description, headings)
    return found.text if found else ""


def _headings(text: str, lines: list[str]) -> list[_Heading]:
    tokens = _parser().parse(text)
    found: list[_Heading] = []
    for index, token in enumerate(tokens):
        if token.level != 0 or token.map is None:
            continue
        first, after = token.map
        if token.type == "heading_open":
            title = _plain(tokens[index + 1].children or [])
            found.append(_Heading(first, after, int(token.tag[1:]), title))
        elif token.type == "paragraph_open":
            for number in range(first, after):
                bold = _bold_line(lines[number])
                if bold is not None:
                    found.append(_Heading(number, number + 1, BOLD_LEVEL, bold))
    return found


def _bold_line(line: str) -> str | None:
    """The text of a line that is nothing but bold text (and maybe a colon), else None."""
    if "**" not in line and "__" not in line:
        return None
    [inline] = _parser().parseInline(line.strip())
    children = [c for c in inline.children or [] if not (c.type == "text" and not c.content)]
    if not children or children[0].type != "strong_open":
        return None
    depth = 0
    for index, child in enumerate(children):
        depth += child.nesting if child.type in ("strong_open", "strong_close") else 0
        if depth == 0:
            rest = "".join(c.content if c.type == "text" else "\0" for c in children[index + 1 :])
            if rest.strip() not in ("", ":"):
                return None
            return _plain(children[1:index]) or None
    return None


def _plain(children: Sequence[Token]) -> str:
    """The text of inline tokens without their markup."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.children:
            parts.append(_plain(child.children))
    return " ".join("".join(parts).split())


def _has_content(markdown: str) -> bool:
    for token in _parser().parse(markdown):
        if token.level != 0 or token.nesting == -1:
            continue
        if token.type == "html_block" and not _COMMENT.sub("", token.content).strip():
            continue
        return True
    return False
