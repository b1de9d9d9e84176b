"""Reading the dates people write: ``YYYY-MM-DD`` on the command line and in rollout.toml."""

from __future__ import annotations

import re
from datetime import date


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` as a date; ValueError with a message for people otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f'"{text}" is not a date; write YYYY-MM-DD')
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f'"{text}" is not a real date') from None
