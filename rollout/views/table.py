"""Aligned text tables for the terminal, optionally coloured.

Columns are padded by display width (wcwidth), so a title in Japanese or Chinese, whose
characters take two columns each, does not push the columns after it out of line.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

# A cell with a colour: (text, a click colour name such as "red").
Cell = str | tuple[str, str]


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal; a character wcwidth cannot measure counts as 1."""
    if text.isascii():  # one column a character; and no wcwidth import for `rollout schedule`
        return len(text)
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else len(text)


def paint(text: str, colour: str | None = None, *, bold: bool = False) -> str:
    """``text`` in a colour (and/or bold) for a terminal: the one place escapes are made."""
    return click.style(text, fg=colour, bold=bold or None)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart, no trailing blanks."""
    return styled_table(headers, rows, color=False)


def styled_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], color: bool) -> str:
    """format_table, with the coloured cells (and the headers, bold) styled when ``color``.

    Padding stays outside the escape sequences, so the columns line up on a terminal.
    """

    def text(cell: Cell) -> str:
        return cell if isinstance(cell, str) else cell[0]

    widths = [display_width(header) for header in headers]
    for row in rows:
        widths = [
            max(width, display_width(text(cell))) for width, cell in zip(widths, row, strict=True)
        ]

    def render(cell: Cell, width: int, bold: bool) -> str:
        padding = " " * (width - display_width(text(cell)))
        if not color or not text(cell):
            return text(cell) + padding
        colour = None if isinstance(cell, str) else cell[1]
        if colour is None and not bold:
            return text(cell) + padding
        return paint(text(cell), colour, bold=bold) + padding

    lines = [
        "  ".join(
            render(cell, width, bold) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line, bold in ((headers, True), *((row, False) for row in rows))
    ]
    return "\n".join(lines) + "\n"
