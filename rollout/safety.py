"""Text from issues is data: making it harmless wherever it lands.

Titles and descriptions come from anyone who can open an issue. They are never compiled
as templates, never allowed to notify people, and are escaped for their destination.
"""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls (ANSI escapes start with one) and the bidi controls that can reorder
# what a terminal shows; tabs and newlines are handled by the callers.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str, limit: int = 200) -> str:
    """One line, safe to print on a terminal: no control sequences, bounded length."""
    flat = " ".join(_CONTROL.sub("", text).split())
    flat = unicodedata.normalize("NFC", flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
