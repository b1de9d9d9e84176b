"""The schedule engine, by tables of (policy, period) -> date worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from helpers import config_from

from rollout.config import Config
from rollout.errors import ConfigError
from rollout.schedule import Deployment, Schedule

US = 'holidays = { country = "US" }'
BAVARIA = 'holidays = { country = "DE", subdivision = "BY" }'


def deployment_of(config: Config, month: str) -> Deployment | None:
    first = date.fromisoformat(f"{month}-01")
    found = Schedule(config).deployments(first, 1)
    return found[0] if found else None


def policy(weekend: str = "keep", extra: str = "", day: int = 1) -> Config:
    return config_from(f"""
        [schedule]
        day = {day}
        weekend = "{weekend}"
        {extra}
    """)


# Month -> (keep, next-business-day, previous-business-day), no holidays.
WEEKENDS = [
    ("2025-02", "2025-02-01", "2025-02-03", "2025-01-31"),  # Saturday
    ("2025-06", "2025-06-01", "2025-06-02", "2025-05-30"),  # Sunday
    ("2026-03", "2026-03-01", "2026-03-02", "2026-02-27"),  # Sunday
    ("2026-08", "2026-08-01", "2026-08-03", "2026-07-31"),  # Saturday
    ("2027-05", "2027-05-01", "2027-05-03", "2027-04-30"),  # Saturday
    ("2028-01", "2028-01-01", "2028-01-03", "2027-12-31"),  # Saturday, back across the year
    ("2028-10", "2028-10-01", "2028-10-02", "2028-09-29"),  # Sunday
    ("2029-12", "2029-12-01", "2029-12-03", "2029-11-30"),  # Saturday
    ("2030-09", "2030-09-01", "2030-09-02", "2030-08-30"),  # Sunday
    ("2031-03", "2031-03-01", "2031-03-03", "2031-02-28"),  # Saturday
    ("2032-02", "2032-02-01", "2032-02-02", "2032-01-30"),  # Sunday
    ("2032-08", "2032-08-01", "2032-08-02", "2032-07-30"),  # Sunday
    ("2027-02", "2027-02-01", "2027-02-01", "2027-02-01"),  # Monday: no policy applies
]


@pytest.mark.parametrize(("month", "keep", "following", "preceding"), WEEKENDS)
def test_weekend_policies(month: str, keep: str, following: str, preceding: str) -> None:
    for weekend, expected in (
        ("keep", keep),
        ("next-business-day", following),
        ("previous-business-day", preceding),
    ):
        found = deployment_of(policy(weekend), month)
        assert found is not None
        assert found.date == date.fromisoformat(expected), weekend


# (holidays, weekend policy, month, expected date)
HOLIDAYS = [
    (US, "next-business-day", "2025-01", "2025-01-02"),  # New Year's Day, Wednesday
    (US, "previous-business-day", "2025-01", "2024-12-31"),
    (US, "keep", "2025-01", "2025-01-01"),
    (US, "next-business-day", "2025-09", "2025-09-02"),  # Labor Day on the 1st
    (US, "previous-business-day", "2025-09", "2025-08-29"),
    (US, "next-business-day", "2029-09", "2029-09-04"),  # Saturday, then Labor Day Monday
    (US, "previous-business-day", "2028-01", "2027-12-30"),  # Saturday; Friday is the observed holiday
    (US, "next-business-day", "2028-01", "2028-01-03"),
    (US, "previous-business-day", "2029-01", "2028-12-29"),  # Monday holiday, weekend before it
    (US, "next-business-day", "2031-09", "2031-09-02"),
    (BAVARIA, "next-business-day", "2025-05", "2025-05-02"),  # Labour Day, Thursday
    (BAVARIA, "previous-business-day", "2025-05", "2025-04-30"),
    (BAVARIA, "next-business-day", "2025-11", "2025-11-03"),  # All Saints' on a Saturday
    (BAVARIA, "previous-business-day", "2025-11", "2025-10-31"),
    (BAVARIA, "next-business-day", "2027-11", "2027-11-02"),  # All Saints' on a Monday
    (BAVARIA, "previous-business-day", "2027-11", "2027-10-29"),
    (BAVARIA, "next-business-day", "2028-05", "2028-05-02"),
    (BAVARIA, "next-business-day", "2030-11", "2030-11-04"),  # Friday holiday, then a weekend
    (BAVARIA, "keep", "2032-05", "2032-05-01"),
    (BAVARIA, "next-business-day", "2032-11", "2032-11-02"),
    (BAVARIA, "previous-business-day", "2026-01", "2025-12-31"),
    (BAVARIA, "next-business-day", "2027-02", "2027-02-01"),  # an ordinary Monday
]


@pytest.mark.parametrize(("holidays", "weekend", "month", "expected"), HOLIDAYS)
def test_holidays_move_the_date_like_weekends(
    holidays: str, weekend: str, month: str, expected: str
) -> None:
    found = deployment_of(policy(weekend, holidays), month)
    assert found is not None
    assert found.date == date.fromisoformat(expected)


# (holidays and one-offs, deployment month, expected cut-off 3 business days before)
CUTOFFS = [
    ("", "2027-02", "2027-01-27"),  # Monday -> Wednesday before
    ("", "2027-04", "2027-03-29"),  # Thursday -> Monday
    ("", "2027-05", "2027-04-28"),  # kept Saturday: Fri, Thu, Wed
    ("", "2028-03", "2028-02-25"),  # leap year: Tue 29, Mon 28, Fri 25
    ("", "2027-03", "2027-02-24"),  # common year: Fri 26, Thu 25, Wed 24
    (US, "2027-01", "2026-12-29"),  # holiday kept; Dec 31, 30, 29
    (US, "2029-01", "2028-12-27"),
    (US, "2027-12", "2027-11-26"),  # Tue 30, Mon 29, Fri 26 (Thanksgiving is the 25th)
    ('holidays = { country = "US", subdivision = "CA" }', "2027-12", "2027-11-24"),  # + day after
    (BAVARIA, "2027-04", "2027-03-25"),  # Easter Monday and Good Friday skipped
    (BAVARIA, "2027-06", "2027-05-26"),  # Mon 31, Fri 28, Corpus Christi Thu 27 skipped
    ('extra_holidays = ["2027-01-29"]', "2027-02", "2027-01-26"),
    ('extra_holidays = ["2027-01-27", "2027-01-28"]', "2027-02", "2027-01-25"),
]


@pytest.mark.parametrize(("extra", "month", "expected"), CUTOFFS)
def test_signoff_cutoff_skips_weekends_and_holidays(extra: str, month: str, expected: str) -> None:
    found = deployment_of(policy("keep", extra), month)
    assert found is not None
    assert found.signoff_cutoff == date.fromisoformat(expected)


def test_one_off_holiday_moves_a_deployment() -> None:
    config = policy("next-business-day", 'extra_holidays = ["2027-03-01"]')
    found = deployment_of(config, "2027-03")
    assert found is not None
    assert found.date == date(2027, 3, 2)
    assert found.reason_kind == "shift"
    assert "holiday" in found.reason


def test_cutoff_in_calendar_days_lands_on_a_business_day() -> None:
    config = config_from("""
        [schedule]
        signoff_cutoff = "2 days"
    """)
    found = deployment_of(config, "2027-02")  # Monday; two days before is Saturday
    assert found is not None
    assert found.signoff_cutoff == date(2027, 1, 29)


# day = N: (day, month, weekend policy, expected)
DAYS = [
    (15, "2027-02", "keep", "2027-02-15"),
    (31, "2027-04", "keep", "2027-04-30"),  # 30-day month: its last day
    (31, "2027-02", "keep", "2027-02-28"),
    (31, "2028-02", "keep", "2028-02-29"),  # leap year
    (30, "2032-02", "keep", "2032-02-29"),
    (29, "2028-02", "keep", "2028-02-29"),
    (29, "2027-02", "keep", "2027-02-28"),
    (29, "2027-02", "next-business-day", "2027-03-01"),  # Feb 28 2027 is a Sunday
    (31, "2027-03", "keep", "2027-03-31"),
    (31, "2027-10", "previous-business-day", "2027-10-29"),  # Sunday 31st
]


@pytest.mark.parametrize(("day", "month", "weekend", "expected"), DAYS)
def test_day_of_month_beyond_the_month_is_its_last_day(
    day: int, month: str, weekend: str, expected: str
) -> None:
    found = deployment_of(policy(weekend, day=day), month)
    assert found is not None
    assert found.date == date.fromisoformat(expected)


def test_day_31_reason_says_the_month_is_shorter() -> None:
    found = deployment_of(policy(day=31), "2027-04")
    assert found is not None
    assert found.reason == "the last day of the month (it has no 31st)"


OVERRIDES = """
    [[schedule.override]]
    month = "2027-05"
    date = "2027-05-04"
    reason = "Moved off the May 1 weekend; announced 2027-04-02"

    [[schedule.override]]
    month = "2027-08"
    skip = true
    reason = "Summer break"
"""


def test_override_moves_a_month_and_keeps_its_milestone() -> None:
    config = config_from(OVERRIDES)
    found = Schedule(config).deployments(date(2027, 4, 1), 3)
    assert [d.date for d in found] == [date(2027, 4, 1), date(2027, 5, 4), date(2027, 6, 1)]
    moved = found[1]
    assert moved.reason == "Moved off the May 1 weekend; announced 2027-04-02"
    assert moved.reason_kind == "override"
    assert moved.period == date(2027, 5, 1)
    assert moved.milestone == "CustSuppOps Deployment 2027-05-01"
    assert moved.signoff_cutoff == date(2027, 4, 29)  # Mon 3, Fri 30, Thu 29


def test_override_skip_yields_nothing_for_that_month() -> None:
    schedule = Schedule(config_from(OVERRIDES))
    found = schedule.deployments(date(2027, 7, 1), 3)
    assert [d.date for d in found] == [date(2027, 7, 1), date(2027, 9, 1)]
    assert schedule.next_deployment(date(2027, 7, 2)).date == date(2027, 9, 1)
    assert deployment_of(config_from(OVERRIDES), "2027-08") is None


def test_milestone_title_may_name_the_actual_date() -> None:
    config = config_from(OVERRIDES + '\n[schedule]\nmilestone = "Deploy {deploy_date:%d %b} ({date:%Y-%m})"\n')
    found = deployment_of(config, "2027-05")
    assert found is not None
    assert found.milestone == "Deploy 04 May (2027-05)"


# (freeze config, month, weekend policy, expected frozen_for)
FREEZES = [
    ("", "2027-12", "keep", ("C1", "C2")),
    ("", "2028-01", "keep", ()),
    ("", "2027-11", "keep", ()),
    ("", "2028-01", "previous-business-day", ("C1", "C2")),  # Jan 1 moves back to Dec 31
    ('[[freeze]]\nfrom = "12-20"\nto = "01-05"\ncriticality = ["C1"]', "2028-01", "keep", ("C1",)),
    ('[[freeze]]\nfrom = "12-20"\nto = "01-05"\ncriticality = ["C1"]', "2027-12", "keep", ()),
    ('[[freeze]]\nfrom = "2027-06-01"\nto = "2027-06-01"', "2027-06", "keep", ("C1", "C2", "C3", "C4")),
    ('[[freeze]]\nfrom = "2027-06-01"\nto = "2027-06-01"', "2028-06", "keep", ()),
    ('[[freeze]]\nname = "a"\nfrom = "03-01"\nto = "03-01"\ncriticality = ["C3"]\n'
     '[[freeze]]\nname = "b"\nfrom = "02-15"\nto = "03-15"\ncriticality = ["C1"]', "2029-03", "keep", ("C1", "C3")),
]


@pytest.mark.parametrize(("freezes", "month", "weekend", "expected"), FREEZES)
def test_freezes_hold_back_their_criticalities(
    freezes: str, month: str, weekend: str, expected: tuple[str, ...]
) -> None:
    config = config_from(f'[schedule]\nweekend = "{weekend}"\n{freezes}')
    found = deployment_of(config, month)
    assert found is not None
    assert found.frozen_for == expected


def test_december_freeze_is_named() -> None:
    found = deployment_of(Config(), "2027-12")
    assert found is not None
    assert found.freezes == ("December code freeze",)
    assert found.is_frozen_for("C2") and not found.is_frozen_for("C3")


def test_announce_by_per_criticality() -> None:
    found = deployment_of(Config(), "2027-02")
    assert found is not None
    assert dict(found.announce_by) == {
        "C1": date(2027, 1, 4),
        "C2": date(2027, 1, 11),
        "C3": date(2027, 1, 18),
        "C4": date(2027, 2, 1),
    }
    assert found.reminder == datetime(2027, 1, 29, 0, 0, tzinfo=UTC)


def test_business_day_notice_counts_business_days() -> None:
    config = config_from('[notice]\nC3 = "5 business days"\n[schedule]\nholidays = { country = "US" }')
    found = deployment_of(config, "2027-01")  # Friday Jan 1; Dec 25 2026 is a Friday holiday
    assert found is not None
    # Thu 31, Wed 30, Tue 29, Mon 28, (Fri 25 is Christmas) Thu 24
    assert found.announce_by["C3"] == date(2026, 12, 24)


# Zone, month -> (local start, UTC start)
TIMED = [
    ("America/New_York", "2027-03", "2027-03-01T09:00:00-05:00", "2027-03-01T14:00:00"),
    ("America/New_York", "2027-04", "2027-04-01T09:00:00-04:00", "2027-04-01T13:00:00"),
    ("America/New_York", "2027-11", "2027-11-01T09:00:00-04:00", "2027-11-01T13:00:00"),
    ("America/New_York", "2027-12", "2027-12-01T09:00:00-05:00", "2027-12-01T14:00:00"),
    ("Europe/Berlin", "2027-03", "2027-03-01T09:00:00+01:00", "2027-03-01T08:00:00"),
    ("Europe/Berlin", "2027-04", "2027-04-01T09:00:00+02:00", "2027-04-01T07:00:00"),
    ("Europe/Berlin", "2027-10", "2027-10-01T09:00:00+02:00", "2027-10-01T07:00:00"),
    ("Europe/Berlin", "2027-11", "2027-11-01T09:00:00+01:00", "2027-11-01T08:00:00"),
    ("Pacific/Auckland", "2027-02", "2027-02-01T09:00:00+13:00", "2027-01-31T20:00:00"),
    ("Pacific/Auckland", "2027-07", "2027-07-01T09:00:00+12:00", "2027-06-30T21:00:00"),
]


@pytest.mark.parametrize(("zone", "month", "local", "utc"), TIMED)
def test_timed_deployments_across_daylight_saving(zone: str, month: str, local: str, utc: str) -> None:
    config = config_from(f'[schedule]\ntimezone = "{zone}"\ntime = "09:00"')
    found = deployment_of(config, month)
    assert found is not None and found.start is not None
    assert found.start.isoformat() == local
    assert found.start.astimezone(UTC).replace(tzinfo=None).isoformat() == utc
    assert found.date == date.fromisoformat(local[:10])


def test_auckland_deployment_date_differs_from_utc() -> None:
    config = config_from('[schedule]\ntimezone = "Pacific/Auckland"\ntime = "09:00"')
    found = deployment_of(config, "2027-02")
    assert found is not None and found.start is not None
    assert found.date == date(2027, 2, 1)
    assert found.start.astimezone(UTC).date() == date(2027, 1, 31)


def test_reminder_hours_are_elapsed_time_across_dst() -> None:
    # New York springs forward on 2027-03-14: 72 hours before 09:00 EDT on the 15th
    # is 08:00 EST on the 12th.
    config = config_from('[schedule]\ntimezone = "America/New_York"\ntime = "09:00"\nday = 15')
    found = deployment_of(config, "2027-03")
    assert found is not None
    assert found.reminder.isoformat() == "2027-03-12T08:00:00-05:00"


def test_all_day_reminder_is_local_midnight() -> None:
    config = config_from('[schedule]\ntimezone = "Europe/Berlin"')
    found = deployment_of(config, "2027-04")
    assert found is not None
    assert found.start is None
    assert found.reminder.isoformat() == "2027-03-29T00:00:00+02:00"


def test_next_deployment_and_the_deployment_a_date_belongs_to() -> None:
    schedule = Schedule(config_from('[schedule]\ntime = "09:00"\ntimezone = "Europe/Berlin"'))
    assert schedule.next_deployment(date(2027, 1, 15)).date == date(2027, 2, 1)
    assert schedule.next_deployment(date(2027, 2, 1)).date == date(2027, 2, 1)
    berlin = schedule.policy.zone
    assert schedule.next_deployment(datetime(2027, 2, 1, 8, 59, tzinfo=berlin)).date == date(2027, 2, 1)
    assert schedule.next_deployment(datetime(2027, 2, 1, 9, 1, tzinfo=berlin)).date == date(2027, 3, 1)
    assert schedule.deployment_for(date(2027, 1, 2)).period == date(2027, 2, 1)


def test_deployment_on_finds_a_moved_date_by_its_period() -> None:
    schedule = Schedule(config_from(OVERRIDES))
    by_date = schedule.deployment_on(date(2027, 5, 4))
    by_period = schedule.deployment_on(date(2027, 5, 1))
    assert by_date is not None and by_period is not None
    assert by_date == by_period
    assert schedule.deployment_on(date(2027, 5, 2)) is None


def test_previous_business_day_into_a_moved_neighbour_is_a_config_error() -> None:
    # 2030-06-01 is a Saturday: the June deployment moves back to Friday May 31,
    # where the May override already put May's deployment.
    config = config_from("""
        [schedule]
        weekend = "previous-business-day"
        [[schedule.override]]
        month = "2030-05"
        date = "2030-05-31"
    """)
    with pytest.raises(ConfigError, match=r"schedule\.override: the 2030-06 deployment \(2030-05-31\)"):
        Schedule(config).deployments(date(2030, 5, 1), 2)


def test_deployments_are_listed_from_the_month_of_start() -> None:
    found = Schedule(Config()).deployments(date(2027, 1, 31), 3)
    assert [d.period for d in found] == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]
    assert found[0].start is None
