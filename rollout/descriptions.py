"""Sections of an issue description, found by their Markdown headings.

Issue templates write "## What" / "### Why" / "**Business need**" sections; announcements
quote them. Matching is on the heading text, case-insensitively, ignoring a trailing colon.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# A line that is nothing but bold text works as a heading in many issue templates.
_BOLD = re.compile(r"^\s{0,3}(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def _normal(heading: str) -> str:
    return " ".join(heading.strip().rstrip(":").strip().casefold().split())


def _heading(line: str) -> tuple[int, str] | None:
    """(level, text) when ``line`` is a heading; bold lines count as level 6."""
    match = _ATX.match(line)
    if match:
        return len(match.group(1)), match.group(2)
    match = _BOLD.match(line)
    if match:
        return 6, match.group(1)
    return None


def section(description: str, headings: Sequence[str]) -> str:
    """The text under the first heading named like one of ``headings``, up to the next
    heading of the same or a higher level; "" when there is none."""
    wanted = {_normal(name) for name in headings}
    lines = description.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    in_fence = False
    found: list[str] | None = None
    level = 0
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _heading(line)
        if found is None:
            if heading and _normal(heading[1]) in wanted:
                found, level = [], heading[0]
            continue
        if heading and heading[0] <= level:
            break
        found.append(line)
    return "\n".join(found or []).strip("\n")
