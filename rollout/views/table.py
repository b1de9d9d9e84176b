"""Aligned text tables for the terminal, optionally coloured."""

from __future__ import annotations

from collections.abc import Sequence

# A cell with a style: (text, ANSI SGR parameters such as "31" for red or "1" for bold).
Cell = str | tuple[str, str]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart, no trailing blanks."""
    return styled_table(headers, rows, color=False)


def styled_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], color: bool) -> str:
    """format_table, with the styled cells (and the headers, bold) coloured when ``color``.

    Padding stays outside the escape sequences, so the columns line up on a terminal.
    """

    def text(cell: Cell) -> str:
        return cell if isinstance(cell, str) else cell[0]

    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(text(cell))) for width, cell in zip(widths, row, strict=True)]

    def render(cell: Cell, width: int) -> str:
        padding = " " * (width - len(text(cell)))
        if isinstance(cell, str) or not color or not cell[0]:
            return text(cell) + padding
        return f"\x1b[{cell[1]}m{cell[0]}\x1b[0m{padding}"

    lines = [
        "  ".join(render(cell, width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in ([(header, "1") for header in headers], *rows)
    ]
    return "\n".join(lines) + "\n"
