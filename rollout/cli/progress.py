"""A progress bar on stderr while issues are fetched, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import click

if TYPE_CHECKING:
    from rollout.trackers import Progress


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def fetch_progress(label: str, file: TextIO | None = None) -> Iterator[Progress | None]:
    """A ``progress(done, total)`` callback for the trackers, or None off a terminal (so
    logs and pipes get no bar). The bar starts with the first call, once the total is known."""
    stream = file if file is not None else sys.stderr
    if not (stream.isatty() if file is not None else stderr_is_terminal()):
        yield None
        return
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        # A new total (or a count that starts again) is the next round of fetching.
        if not bars or total != bars[-1].length or done < bars[-1].pos:
            if bars:
                bars[-1].__exit__(None, None, None)
            bar = click.progressbar(length=total, label=label, file=stream)
            bar.__enter__()
            bars.append(bar)
        bars[-1].update(done - bars[-1].pos)

    try:
        yield progress
    finally:
        if bars:
            bars[-1].__exit__(None, None, None)
