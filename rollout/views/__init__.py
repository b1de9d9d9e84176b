"""Views: turning library results into text tables and JSON-ready data for the CLI."""

from __future__ import annotations

from datetime import date


def iso_day(day: date | None) -> str | None:
    """A date for JSON: ``YYYY-MM-DD``, or null."""
    return day.isoformat() if day else None
