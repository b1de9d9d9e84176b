"""Invariants of the schedule over random policies (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import holidays as holiday_data
from helpers import config_from
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout.config import Config
from rollout.schedule import Schedule

HOLIDAY_CHOICES = ["", 'holidays = { country = "US" }', 'holidays = { country = "DE", subdivision = "BY" }']
WEEKENDS = ["keep", "next-business-day", "previous-business-day"]


@st.composite
def policies(draw: st.DrawFn) -> tuple[Config, str, list[date], list[tuple[date, date, set[str]]]]:
    day = draw(st.integers(1, 31))
    weekend = draw(st.sampled_from(WEEKENDS))
    holidays = draw(st.sampled_from(HOLIDAY_CHOICES))
    extra = draw(st.lists(st.dates(date(2025, 1, 1), date(2032, 12, 31)), max_size=6))
    skipped = draw(st.lists(st.tuples(st.integers(2025, 2032), st.integers(1, 12)), max_size=3, unique=True))
    freeze_start = draw(st.tuples(st.integers(1, 12), st.integers(1, 28)))
    freeze_end = draw(st.tuples(st.integers(1, 12), st.integers(1, 28)))
    frozen = draw(st.sets(st.sampled_from(["C1", "C2", "C3", "C4"]), min_size=1))
    text = f"""
        [schedule]
        day = {day}
        weekend = "{weekend}"
        extra_holidays = [{", ".join(f'"{d}"' for d in extra)}]
        {holidays}
    """
    for year, month in skipped:
        text += f'\n[[schedule.override]]\nmonth = "{year}-{month:02d}"\nskip = true\n'
    text += (
        f'\n[[freeze]]\nfrom = "{freeze_start[0]:02d}-{freeze_start[1]:02d}"\n'
        f'to = "{freeze_end[0]:02d}-{freeze_end[1]:02d}"\ncriticality = {sorted(frozen)!r}\n'.replace("'", '"')
    )
    windows = []
    for year in range(2023, 2034):
        start = date(year, *freeze_start)
        end = date(year, *freeze_end)
        if end < start:
            end = date(year + 1, *freeze_end)
        windows.append((start, end, frozen))
    return config_from(text), holidays, extra, windows


def days_off(holidays: str, extra: list[date], year: int) -> set[date]:
    found = set(extra)
    if "US" in holidays:
        found |= set(holiday_data.country_holidays("US", years=year))
    if "DE" in holidays:
        found |= set(holiday_data.country_holidays("DE", subdiv="BY", years=year))
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.dates(date(2025, 1, 1), date(2031, 1, 1)), st.integers(1, 24))
def test_schedule_invariants(policy, start: date, months: int) -> None:  # type: ignore[no-untyped-def]
    config, holidays, extra, windows = policy
    skipped = {override.month for override in config.schedule.overrides}
    deployments = Schedule(config).deployments(start, months)

    # Strictly increasing, one per period unless skipped.
    dates = [d.date for d in deployments]
    assert dates == sorted(set(dates))
    periods = [d.period.replace(day=1) for d in deployments]
    expected_periods = []
    month = start.replace(day=1)
    for _ in range(months):
        if month not in skipped:
            expected_periods.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    assert periods == expected_periods

    for deployment in deployments:
        # frozen_for is exactly the union of the freezes covering the date.
        covering: set[str] = set()
        for first, last, criticalities in windows:
            if first <= deployment.date <= last:
                covering |= criticalities
        assert set(deployment.frozen_for) == covering

        # The cut-off is a business day before the deployment.
        cutoff = deployment.signoff_cutoff
        assert cutoff < deployment.date
        assert cutoff.weekday() < 5
        assert cutoff not in days_off(holidays, extra, cutoff.year)

        # A shifted date is a business day; the rule's own date stays within its period.
        if deployment.reason_kind == "shift":
            assert deployment.date.weekday() < 5
            assert deployment.date not in days_off(holidays, extra, deployment.date.year)
        if deployment.reason_kind in ("rule", "kept"):
            assert deployment.date == deployment.period
