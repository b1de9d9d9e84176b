"""Loading rollout.toml: discovery, defaults, and one clear line for every mistake."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from conftest import RunCli
from helpers import config_from, write_config

from rollout.config import Config, Freeze, MonthDay, load_config
from rollout.durations import Duration

BAD_CONFIGS = [
    (
        '[schedule]\ntimezon = "UTC"\n',
        'schedule.timezon: unknown key; did you mean "timezone"?',
    ),
    (
        "[schedul]\nday = 1\n",
        'schedul: unknown key; did you mean "schedule"?',
    ),
    (
        '[announce]\nposters = "alice"\n',
        "announce.posters: must be an array of GitLab usernames like [\"alice\"], not a string 'alice'",
    ),
    (
        '[announce]\nposters = ["alice", "bob smith"]\n',
        'announce.posters[2]: must be a GitLab username like "alice"',
    ),
    (
        '[notice]\nC5 = "1 week"\n',
        "notice.C5: unknown key",
    ),
    (
        '[schedule]\nday = "first"\n',
        "schedule.day: must be an integer from 1 to 31, not a string 'first'",
    ),
    (
        "[schedule]\nday = 0\n",
        "schedule.day: must be from 1 to 31, not 0",
    ),
    (
        "[schedule]\nday = true\n",
        "schedule.day: must be an integer from 1 to 31, not a boolean True",
    ),
    (
        '[schedule]\nextra_holidays = ["2027-02-30"]\n',
        'schedule.extra_holidays[1]: "2027-02-30" is not a real date',
    ),
    (
        '[[freeze]]\nfrom = "02-30"\nto = "03-01"\n',
        'freeze[1].from: "02-30" is not a real date',
    ),
    (
        '[[freeze]]\nfrom = "12-01"\nto = "13-01"\n',
        'freeze[1].to: "13-01" is not a real date',
    ),
    (
        '[schedule]\ntimezone = "Mars/Olympus_Mons"\n',
        'schedule.timezone: unknown time zone "Mars/Olympus_Mons"; use an IANA name like "Europe/Berlin"',
    ),
    (
        '[schedule]\nsignoff_cutoff = "three days"\n',
        'schedule.signoff_cutoff: cannot read duration "three days"; write "N days", "N business days", "N weeks", "N hours" or "N minutes"',
    ),
    (
        '[notice]\nC1 = "4 fortnights"\n',
        'notice.C1: cannot read duration "4 fortnights"',
    ),
    (
        '[[schedule.override]]\nmonth = "2027-05"\ndate = "2027-05-03"\n'
        '[[schedule.override]]\nmonth = "2027-05"\nskip = true\n',
        "schedule.override[2].month: 2027-05 is overridden twice; keep one [[schedule.override]]",
    ),
    (
        '[[schedule.override]]\nmonth = "2027-05"\n',
        "schedule.override[1].date: is required unless skip = true",
    ),
    (
        '[[schedule.override]]\nmonth = "2027-05"\ndate = "2027-07-01"\n',
        "schedule.override[1].date: 2027-07-01 is outside the 2027-05 period",
    ),
    (
        '[[schedule.override]]\nmonth = "2027-13"\nskip = true\n',
        'schedule.override[1].month: "2027-13" is not a month; write YYYY-MM',
    ),
    (
        '[[freeze]]\nfrom = "2027-12-20"\nto = "2027-12-01"\n',
        "freeze[1].to: the freeze ends (2027-12-01) before it starts (2027-12-20)",
    ),
    (
        '[[freeze]]\nfrom = "12-20"\nto = "2028-01-05"\n',
        "freeze[1].to: from and to must both be MM-DD (every year) or both YYYY-MM-DD",
    ),
    (
        '[[freeze]]\nfrom = "12-01"\nto = "12-31"\ncriticality = ["C9"]\n',
        'freeze[1].criticality: "C9" is not one of C1, C2, C3, C4',
    ),
    (
        '[schedule]\nholidays = { country = "Atlantis" }\n',
        'schedule.holidays.country: unknown holiday country "Atlantis"',
    ),
    (
        '[schedule]\nholidays = { country = "DE", subdivision = "XX" }\n',
        'schedule.holidays.subdivision: "XX" is not a subdivision of DE',
    ),
    (
        '[schedule]\nweekend = "skip"\n',
        'schedule.weekend: "skip" is not one of: keep, next-business-day, previous-business-day',
    ),
    (
        '[schedule]\ntime = "25:00"\n',
        'schedule.time: "25:00" is not a time of day; write HH:MM (24-hour)',
    ),
    (
        '[schedule]\nmilestone = "Deployment {when}"\n',
        "schedule.milestone: cannot format \"Deployment {when}\" ('when')",
    ),
    (  # GitLab strips the titles it stores: a second run would not find them
        '[schedule]\nmilestone = "Deployment {date:%Y-%m-%d} "\n',
        "schedule.milestone: must give titles of one line without spaces at either end, "
        "not 'Deployment 2027-01-01 '",
    ),
    (
        '[schedule]\nmilestone = "Deployment\\n{date:%Y-%m-%d}"\n',
        "schedule.milestone: must give titles of one line without spaces at either end, "
        "not 'Deployment\\n2027-01-01'",
    ),
    (
        '[tracker]\nkind = "jira"\n',
        "tracker.kind: its value is not one of: gitlab, snapshot",  # [tracker] is never echoed
    ),
    (
        "[schedule\nday = 1\n",
        "(syntax): not valid TOML:",
    ),
    (
        '[announce]\ntargets = ["gitlab", "slack"]\n',
        'slack.channel: is required when announce.targets has "slack"',
    ),
    (
        '[announce]\ntargets = ["gitlab", "email"]\n',
        'announce.targets[2]: "email" is not a target (known: gitlab, slack)',
    ),
    (
        '[announce]\ntargets = "slack"\n',
        'announce.targets: must be an array of targets like ["gitlab", "slack"], not a string \'slack\'',
    ),
    (
        '[announce]\npre_stages = ["Development", "Build"]\n',
        'announce.pre_stages[2]: "Build" is not a stage (known: Triage, Planning, Scheduling, Queued, Development, Validation, Implementation, Completed, Blocked, Backlogged)',
    ),
    (
        '[announce]\npost_window = "36 hours"\n',
        'announce.post_window: "36 hours" is not whole days; write "N days", "N business days" or "N weeks"',
    ),
    (
        '[announce]\npost_windw = "7 days"\n',
        'announce.post_windw: unknown key; did you mean "post_window"?',
    ),
    (
        '[slack]\nchanel = "releases"\n',
        'slack.chanel: unknown key; did you mean "channel"?',
    ),
    (
        "[slack]\nchannel = 5\n",
        "slack.channel: must be a string, not an integer 5",
    ),
    (
        '[slack]\nchannel = "release notes"\n',
        'slack.channel: "release notes" is not a Slack channel name or id',
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_config_is_one_line_exit_2_and_writes_nothing(
    run: RunCli, workdir: Path, text: str, message: str
) -> None:
    write_config(workdir, text)
    for args in (["schedule"], ["calendar", "--out", "out"]):
        result = run(*args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.startswith(f"Error: rollout.toml: {message}")
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr
    assert not (workdir / "out").exists()


def test_unknown_key_lists_the_valid_ones(run: RunCli, workdir: Path) -> None:
    write_config(workdir, '[calendar]\nnme = "x"\n')
    result = run("schedule")
    assert result.stderr == (
        'Error: rollout.toml: calendar.nme: unknown key; did you mean "name"? '
        "(valid keys here: domain, duration, name, refresh)\n"
    )


def test_missing_config_file_named_on_the_command_line(run: RunCli) -> None:
    result = run("--config", "nowhere.toml", "schedule")
    assert result.exit_code == 2
    assert (
        result.stderr == "Error: nowhere.toml: (file): cannot read it: No such file or directory\n"
    )


def test_config_is_found_in_a_parent_directory(workdir: Path) -> None:
    write_config(workdir, "[schedule]\nday = 15\n")
    nested = workdir / "a" / "b"
    nested.mkdir(parents=True)
    config = load_config(cwd=nested)
    assert config.schedule.day == 15
    assert config.source == str(workdir / "rollout.toml")


def test_no_config_anywhere_means_the_built_in_defaults(workdir: Path) -> None:
    config = load_config(cwd=workdir)
    assert config == Config()
    assert config.schedule.day == 1
    assert config.schedule.weekend == "keep"
    assert config.notice.by_criticality["C1"] == Duration(4, "weeks")
    assert config.freezes == (
        Freeze("December code freeze", MonthDay(12, 1), MonthDay(12, 31), ("C1", "C2")),
    )


def test_every_key_of_the_product_notes_is_accepted() -> None:
    config = config_from("""
        [schedule]
        timezone = "UTC"
        day = 1
        time = "09:00"
        weekend = "keep"
        holidays = { country = "US", subdivision = "CA" }
        extra_holidays = ["2027-12-24"]
        signoff_cutoff = "3 business days"
        milestone = "CustSuppOps Deployment {date:%Y-%m-%d}"

        [[schedule.override]]
        month = "2027-05"
        date = "2027-05-03"
        reason = "Moved off the May 1 holiday; announced in the Support Week in Review of 2027-04-02"

        [notice]
        C1 = "4 weeks"
        C2 = "3 weeks"
        C3 = "2 weeks"
        C4 = "0 days"
        reminder = "72 hours"

        [[freeze]]
        name = "December code freeze"
        from = "12-01"
        to = "12-31"
        criticality = ["C1", "C2"]

        [labels]
        stage = "Stage::"
        validation = "Validation::"
        request_type = "RequestType::"
        criticality = "Criticality::"
        deployment = "Deployment::"
        customer = "Customer::"

        [tracker]
        kind = "gitlab"
        project = "group/subgroup/project"
        url = "https://gitlab.example.com"
        gitlab_id = ""
        snapshot = "tracker.json"

        [calendar]
        name = "Support Operations deployments"
        domain = "rollout.example.com"
    """)
    assert config.schedule.time == time(9, 0)
    assert config.schedule.extra_holidays == (date(2027, 12, 24),)
    assert config.schedule.overrides[0].date == date(2027, 5, 3)
    assert config.tracker.kind == "gitlab"
    assert config.tracker.gitlab_id is None
    assert config.calendar.domain == "rollout.example.com"


def test_toml_dates_are_accepted_where_strings_are() -> None:
    config = config_from("[schedule]\nextra_holidays = [2027-12-24]\n")
    assert config.schedule.extra_holidays == (date(2027, 12, 24),)


def test_recurring_freeze_may_wrap_the_new_year() -> None:
    config = config_from('[[freeze]]\nfrom = "12-20"\nto = "01-05"\n')
    freeze = config.freezes[0]
    assert freeze.covers(date(2027, 12, 31))
    assert freeze.covers(date(2028, 1, 5))
    assert not freeze.covers(date(2028, 1, 6))
    assert not freeze.covers(date(2027, 12, 19))


def test_the_committed_config_describes_the_defaults() -> None:
    committed = load_config(Path(__file__).parent.parent / "rollout.toml")
    defaults = Config()
    assert committed.schedule == defaults.schedule
    assert committed.notice == defaults.notice
    assert committed.freezes == defaults.freezes
    assert committed.labels == defaults.labels
    assert committed.tracker.project == "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"


def test_the_autopilot_keys() -> None:
    defaults = Config().announce
    assert (defaults.targets, defaults.pre_stages, defaults.post_window) == (
        ("gitlab",),
        ("development", "validation", "implementation"),
        Duration(7, "days"),
    )
    config = config_from("""
        [labels.values]
        validation = ["Review", "Validation"]
        [announce]
        targets = ["slack"]
        pre_stages = ["Stage::Review", "implementation", "Development"]
        post_window = "5 business days"
        [slack]
        channel = "#support-ops-changes"
    """)
    assert config.announce.targets == ("gitlab", "slack")  # gitlab always, and first
    assert config.announce.pre_stages == ("validation", "implementation", "development")
    assert config.announce.post_window == Duration(5, "business days")
    assert config.slack.channel == "support-ops-changes"
