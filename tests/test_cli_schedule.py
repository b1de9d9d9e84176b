"""rollout schedule, for people and for scripts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import RunCli
from helpers import write_config


def test_schedule_table(run: RunCli, workdir: Path) -> None:
    write_config(
        workdir,
        """
        [[schedule.override]]
        month = "2027-12"
        skip = true
        reason = "Year-end break"
    """,
    )
    result = run("schedule", "--from", "2027-04-15", "--months", "3")
    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent("""\
        Date        Day  Milestone                          Sign-off by  Announce C1  Announce C2  Announce C3  Notes
        2027-04-01  Thu  CustSuppOps Deployment 2027-04-01  2027-03-29   2027-03-04   2027-03-11   2027-03-18
        2027-05-01  Sat  CustSuppOps Deployment 2027-05-01  2027-04-28   2027-04-03   2027-04-10   2027-04-17   the 1st of the month; kept although it is a Saturday
        2027-06-01  Tue  CustSuppOps Deployment 2027-06-01  2027-05-27   2027-05-04   2027-05-11   2027-05-18
    """)
    result = run("schedule", "--from", "2027-11-01", "--months", "2")
    assert result.stdout == textwrap.dedent("""\
        Date        Day  Milestone                          Sign-off by  Announce C1  Announce C2  Announce C3  Notes
        2027-11-01  Mon  CustSuppOps Deployment 2027-11-01  2027-10-27   2027-10-04   2027-10-11   2027-10-18
        No deployment in 2027-12: Year-end break
    """)


def test_schedule_table_with_deploy_time_and_freeze(run: RunCli, workdir: Path) -> None:
    write_config(workdir, '[schedule]\ntimezone = "America/New_York"\ntime = "09:00"\n')
    result = run("schedule", "--from", "2027-11-01", "--months", "2")
    assert result.stdout == textwrap.dedent("""\
        Date        Day  Time       Milestone                          Sign-off by  Announce C1  Announce C2  Announce C3  Notes
        2027-11-01  Mon  09:00 EDT  CustSuppOps Deployment 2027-11-01  2027-10-27   2027-10-04   2027-10-11   2027-10-18
        2027-12-01  Wed  09:00 EST  CustSuppOps Deployment 2027-12-01  2027-11-26   frozen       frozen       2027-11-17   C1, C2 frozen (December code freeze)
    """)


def test_schedule_json_contract(run: RunCli, workdir: Path) -> None:
    write_config(
        workdir,
        """
        [schedule]
        weekend = "next-business-day"
        [[schedule.override]]
        month = "2027-06"
        date = "2027-06-03"
        reason = "Moved for the offsite"
    """,
    )
    result = run("schedule", "--from", "2027-05-20", "--months", "2", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "date": "2027-05-03",
            "weekday": "Monday",
            "period": "2027-05",
            "milestone": "CustSuppOps Deployment 2027-05-01",
            "start": None,
            "timezone": "UTC",
            "signoff_cutoff": "2027-04-28",
            "announce_by": {
                "C1": "2027-04-05",
                "C2": "2027-04-12",
                "C3": "2027-04-19",
                "C4": "2027-05-03",
            },
            "reminder": "2027-04-30T00:00:00+00:00",
            "frozen_for": [],
            "freezes": [],
            "reason": "the 1st of the month (2027-05-01) is a Saturday; moved to the next business day",
            "reason_kind": "shift",
        },
        {
            "date": "2027-06-03",
            "weekday": "Thursday",
            "period": "2027-06",
            "milestone": "CustSuppOps Deployment 2027-06-01",
            "start": None,
            "timezone": "UTC",
            "signoff_cutoff": "2027-05-31",
            "announce_by": {
                "C1": "2027-05-06",
                "C2": "2027-05-13",
                "C3": "2027-05-20",
                "C4": "2027-06-03",
            },
            "reminder": "2027-05-31T00:00:00+00:00",
            "frozen_for": [],
            "freezes": [],
            "reason": "Moved for the offsite",
            "reason_kind": "override",
        },
    ]


def test_schedule_json_frozen_and_timed(run: RunCli, workdir: Path) -> None:
    write_config(workdir, '[schedule]\ntimezone = "Pacific/Auckland"\ntime = "09:00"\n')
    result = run("schedule", "--from", "2027-12-01", "--months", "1", "--json")
    [december] = json.loads(result.stdout)
    assert december["start"] == "2027-12-01T09:00:00+13:00"
    assert december["frozen_for"] == ["C1", "C2"]
    assert december["freezes"] == ["December code freeze"]
    assert december["reminder"] == "2027-11-28T09:00:00+13:00"


def test_bad_dates_are_usage_errors(run: RunCli) -> None:
    result = run("schedule", "--from", "2027-02-30")
    assert result.exit_code == 2
    assert '"2027-02-30" is not a real date' in result.stderr
    result = run("schedule", "--from", "next week")
    assert result.exit_code == 2
    assert '"next week" is not a date; write YYYY-MM-DD' in result.stderr
    result = run("schedule", "--months", "0")
    assert result.exit_code == 2


def test_the_last_months_of_the_calendar_answer_as_a_table_and_as_json(
    run: RunCli, workdir: Path
) -> None:
    """The table also lists the months an override skips: counting them must not need a
    month after December 9999."""
    write_config(workdir, '[[schedule.override]]\nmonth = "9999-11"\nskip = true\n')
    table = run("schedule", "--from", "9999-01-01", "--months", "12")
    assert table.exit_code == 0, table.stderr
    assert "9999-12-01" in table.stdout and "No deployment in 9999-11" in table.stdout
    answer = run("schedule", "--from", "9999-01-01", "--months", "12", "--json")
    assert answer.exit_code == 0, answer.stderr
    assert json.loads(answer.stdout)[-1]["date"] == "9999-12-01"


def test_a_range_past_december_9999_fails_alike_as_a_table_and_as_json(run: RunCli) -> None:
    for output in ([], ["--json"]):
        past = run("schedule", "--from", "9999-12-01", *output)  # twelve months: to 10000-11
        assert past.exit_code == 2 and "outside the years 1 to 9999" in past.stderr
        last = run("schedule", "--from", "9999-12-01", "--months", "1", *output)
        assert last.exit_code == 0 and "9999-12-01" in last.stdout, last.stderr
