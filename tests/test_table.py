"""Terminal tables: columns line up by display width, colour never shifts them."""

from __future__ import annotations

import re
import textwrap

from wcwidth import wcswidth

from rollout.views.table import format_table, styled_table


def test_wide_characters_take_two_columns() -> None:
    table = format_table(
        ["Issue", "Title", "Stage"],
        [
            ["#104", "日本語のチケットを APAC へ", "Validation"],
            ["#110", "Satisfaction survey", "Backlogged"],
            ["#115", "Café ½ off", "Triage"],
        ],
    )
    assert table == textwrap.dedent("""\
        Issue  Title                       Stage
        #104   日本語のチケットを APAC へ  Validation
        #110   Satisfaction survey         Backlogged
        #115   Café ½ off                  Triage
        """)
    # What a terminal shows: the third column starts in the same place on every line.
    starts = {
        wcswidth(line[: line.index(stage)])
        for line, stage in zip(
            table.splitlines(), ["Stage", "Validation", "Backlogged", "Triage"], strict=True
        )
    }
    assert starts == {35}


def test_colour_wraps_the_text_and_leaves_the_padding_plain() -> None:
    rows = [["#1", ("overdue", "red"), "ok"], ["#22", "", "fine"]]
    coloured = styled_table(["Issue", "", "Note"], rows, color=True)
    assert coloured == (
        "\x1b[1mIssue\x1b[0m           \x1b[1mNote\x1b[0m\n"
        "#1     \x1b[31moverdue\x1b[0m  ok\n"
        "#22             fine\n"
    )
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == styled_table(
        ["Issue", "", "Note"], rows, color=False
    )
