"""Bad input of every kind ends in one ``Error:`` line and exit 2 (PRODUCT.md §7): dates at
the ends of the calendar, durations and numbers out of bounds, config values however large
or nested. Specific cases first, then hypothesis over CLI dates and over config values."""

from __future__ import annotations

import json
import math
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rollout.cli import cli

ROOT = Path(__file__).parent.parent
SNAPSHOT = ROOT / "examples" / "snapshot.json"


def rollout(directory: Path, *args: str, config: str = "") -> Result:
    path = directory / "rollout.toml"
    path.write_text(config, encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(path), *args], catch_exceptions=False)


def one_error_line(result: Result) -> str:
    """The single ``Error:`` line of a failed run, from rollout's own handling: not the
    unforeseen-failure net of the CLI."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "unexpectedly" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr) < 600
    return result.stderr.rstrip("\n")


def ends_well(result: Result, codes: tuple[int, ...] = (0,)) -> None:
    """A run either answers (one of ``codes``) or fails with one error line (after what it
    said on the way, like calendar's "changes.ics skipped")."""
    if result.exit_code != 2:
        assert result.exit_code in codes, (result.exit_code, result.stderr)
        return
    *chatter, last = result.stderr.splitlines() or [""]
    assert last.startswith("Error: ") and not [line for line in chatter if "Error" in line], (
        result.stderr
    )
    assert "unexpectedly" not in last and "Traceback" not in result.stderr and len(last) < 600


TRACKER = f'[tracker]\nkind = "snapshot"\nsnapshot = "{SNAPSHOT}"\n'


# ------------------------------------------------------------------ dates at the ends (item 10)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("schedule", "--from", "9999-12-01"), "--from 9999-12-01"),
        (("schedule", "--from", "0001-01-01"), "--from 0001-01-01"),
        (("calendar", "--from", "9999-06-01", "--out", "out"), "--from 9999-06-01"),
        (("check", "101", "--as-of", "0001-01-01"), "--as-of 0001-01-01"),
        (("check", "101", "--as-of", "9999-12-31"), "--as-of 9999-12-31"),
        (("check", "101", "--for", "9999-12-31", "--as-of", "9999-12-30"), "--as-of 9999-12-30"),
        (("notes", "9999-12-01"), "DEPLOY_DATE 9999-12-01"),
        (("notes", "0001-01-01"), "DEPLOY_DATE 0001-01-01"),
        (("announce", "101", "--as-of", "9999-12-31"), "--as-of 9999-12-31"),
        (("status", "--as-of", "0001-01-01"), "--as-of 0001-01-01"),
    ],
)
def test_dates_that_lead_out_of_the_calendar_are_one_error_line(
    workdir: Path, args: tuple[str, ...], named: str
) -> None:
    line = one_error_line(rollout(workdir, *args, config=TRACKER))
    assert line.startswith("Error: a date falls outside the years 1 to 9999 when computed from ")
    assert named in line
    assert not (workdir / "out").exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[schedule]\nsignoff_cutoff = "99999999 business days"\n', "schedule.signoff_cutoff: "),
        ('[notice]\nC1 = "1000000 weeks"\n', "notice.C1: "),
        ('[notice]\nreminder = "9999999999999999999999 hours"\n', "notice.reminder: "),
        ('[targets]\nplanning = "40000 days"\n', "targets.planning: "),
        ('[calendar]\nrefresh = "6000 weeks"\n', "calendar.refresh: "),
        (
            '[[schedule.override]]\nmonth = "9999-12"\ndate = "9999-12-02"\n',
            "schedule.override[1].month: ",
        ),
        ("[tracker]\ntimeout = inf\n", "tracker.timeout: "),
        ("[tracker]\ntimeout = -inf\n", "tracker.timeout: "),
        ("[tracker]\ntimeout = nan\n", "tracker.timeout: "),
        ("[tracker]\ntimeout = 1e308\n", "tracker.timeout: "),
        ("[tracker]\ntimeout = 0\n", "tracker.timeout: "),
        ("[tracker]\nretries = 9223372036854775807\n", "tracker.retries: "),
        ("[tracker]\nconcurrency = 100000000\n", "tracker.concurrency: "),
        ("[schedule]\nday = -9223372036854775808\n", "schedule.day: "),
        ("a = " + "[" * 5_000 + "]" * 5_000 + "\n", "(syntax): "),
        ("a = " + "{b = " * 5_000 + "1" + "}" * 5_000 + "\n", "(syntax): "),
        ("[" + ".".join(["a"] * 5_000) + "]\n", None),
        (
            "[schedule]\nextra_holidays = " + "[" * 100 + "]" * 100 + "\n",
            "schedule.extra_holidays[1]: ",
        ),
        ("[freeze]\ncriticality = " + "[" * 100 + "]" * 100 + "\n", "freeze: "),
        (
            '[[freeze]]\nfrom = "12-01"\nto = "12-31"\ncriticality = ['
            + "[" * 100
            + "]" * 100
            + "]\n",
            "freeze[1].criticality: ",
        ),
        ("[audiences]\nX = " + "[" * 100 + "]" * 100 + "\n", "audiences.X: "),
        ('[schedule]\nweekend = "' + "x" * 1_000_000 + '"\n', "schedule.weekend: "),
        ('[schedule]\ntimezone = "' + "x" * 100_000 + '"\n', "schedule.timezone: "),
        ("[schedule]\nday = 1\n" + "[schedule]\n", "(syntax): "),
    ],
)
def test_config_values_out_of_bounds_are_one_error_line(
    workdir: Path, config: str, message: str | None
) -> None:
    for args in (("schedule", "--from", "2027-01-01"), ("calendar", "--out", "out")):
        line = one_error_line(rollout(workdir, *args, config=config))
        assert line.startswith("Error: rollout.toml: ")
        if message is not None:
            assert line.startswith(f"Error: rollout.toml: {message}"), line
    assert not (workdir / "out").exists()


# ------------------------------------------------------------------ hypothesis: CLI dates

COMMANDS: list[tuple[str, ...]] = [
    ("schedule", "--from", "{day}", "--months", "3"),
    ("schedule", "--from", "{day}", "--json"),
    ("check", "101", "104", "112", "--as-of", "{day}"),
    ("check", "101", "--for", "{day}", "--as-of", "2027-01-20"),
    ("notes", "{day}", "--as-of", "2027-01-20"),
    ("notes", "2027-02-01", "--as-of", "{day}"),
    ("announce", "101", "--as-of", "{day}"),
    ("announce", "101", "--phase", "post", "--as-of", "{day}"),
    ("status", "--as-of", "{day}"),
    ("calendar", "--from", "{day}", "--months", "2", "--out", "out"),
    ("milestones", "--year", "{year}"),
]
EDGES = [
    date(1, 1, 1),
    date(1, 1, 31),
    date(1, 3, 1),
    date(2, 1, 1),
    date(9998, 12, 31),
    date(9999, 1, 1),
    date(9999, 12, 31),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command))
def test_any_cli_date_answers_or_fails_with_one_line(
    workdir: Path, command: tuple[str, ...]
) -> None:
    (workdir / "rollout.toml").write_text(TRACKER, encoding="utf-8")

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.dates(date(1, 1, 1), date(9999, 12, 31)))
    @with_edges
    def run(day: date) -> None:
        args = [part.format(day=day.isoformat(), year=day.year) for part in command]
        result = CliRunner().invoke(
            cli, ["--config", str(workdir / "rollout.toml"), *args], catch_exceptions=False
        )
        if command[0] == "milestones" and not 1000 <= day.year <= 9998:  # click's IntRange
            assert result.exit_code == 2 and "Invalid value for '--year'" in result.stderr
            return
        ends_well(result, (0, 1) if command[0] == "check" else (0,))

    run()


def with_edges(test: Any) -> Any:
    """The first and last days of the calendar, tried before any random date."""
    for edge in reversed(EDGES):
        test = example(edge)(test)
    return test


# ------------------------------------------------------------------ hypothesis: config values

ANY_DATE = st.dates(date(1, 1, 1), date(9999, 12, 31))
DURATIONS = st.builds(
    lambda amount, unit: f"{amount} {unit}",
    st.one_of(
        st.integers(0, 40_000),
        st.sampled_from([0, 1, 5_218, 5_219, 26_100, 26_101, 36_525, 10**30]),
    ),
    st.sampled_from(["days", "business days", "weeks", "hours", "minutes"]),
)
MONTHS = st.builds(lambda d: d.isoformat()[:7], ANY_DATE)
MONTH_DAYS = st.one_of(
    st.builds(lambda d: d.isoformat()[5:], st.dates(date(2000, 1, 1), date(2000, 12, 31))),
    st.builds(date.isoformat, ANY_DATE),
)
# Per key, values of the right kind at any size (so the schedule gets computed with them),
# besides values of any kind (so the loader has to refuse them).
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "schedule.timezone": st.sampled_from(
        ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin"]
    ),
    "schedule.day": st.integers(1, 31),
    "schedule.time": st.builds(lambda t: t.strftime("%H:%M"), st.times()),
    "schedule.weekend": st.sampled_from(["keep", "next-business-day", "previous-business-day"]),
    "schedule.holidays": st.sampled_from(
        [{"country": "US"}, {"country": "DE", "subdivision": "BY"}, {"country": "JP"}]
    ),
    "schedule.extra_holidays": st.lists(ANY_DATE, max_size=3),
    "schedule.signoff_cutoff": DURATIONS,
    "schedule.milestone": st.sampled_from(
        ["{date:%Y-%m-%d}", "D {deploy_date}", "{date.year}-{date.month}", "{date:%B}"]
    ),
    "notice": DURATIONS,
    "targets": DURATIONS,
    "calendar.refresh": DURATIONS,
    "calendar.duration": DURATIONS,
    "tracker.concurrency": st.integers(-5, 100),
    "tracker.retries": st.integers(-5, 100),
    "tracker.timeout": st.floats(),
    "schedule.override.month": MONTHS,
    "schedule.override.date": st.builds(date.isoformat, ANY_DATE),
    "schedule.override.skip": st.booleans(),
    "freeze.from": MONTH_DAYS,
    "freeze.to": MONTH_DAYS,
    "freeze.criticality": st.lists(st.sampled_from(["C1", "C2", "C3", "C4"]), max_size=4),
}
KEYS: dict[str, list[str]] = {
    "schedule": [
        "timezone",
        "day",
        "time",
        "weekend",
        "holidays",
        "extra_holidays",
        "signoff_cutoff",
        "milestone",
    ],
    "notice": ["C1", "C2", "C3", "C4", "reminder"],
    "labels": ["stage", "validation", "criticality", "customer"],
    "labels.values": ["awaiting", "ad_hoc", "completed"],
    "tracker": [
        "kind",
        "project",
        "url",
        "gitlab_id",
        "snapshot",
        "concurrency",
        "retries",
        "timeout",
    ],
    "calendar": ["name", "domain", "refresh", "duration"],
    "targets": ["triage", "development", "escalation"],
    "announce": ["what_headings", "posters"],
    "audiences": ["Support-EMEA"],
    "templates": ["dir"],
}
ARRAYS: dict[str, list[str]] = {
    "schedule.override": ["month", "date", "skip", "reason"],
    "freeze": ["name", "from", "to", "criticality"],
}
NUMBERS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, 3, 31, 32, 9999, 10**6, 10**18]),
    st.floats(allow_nan=True, allow_infinity=True),
)
TEXTS = st.one_of(
    st.text(max_size=30),
    DURATIONS,
    st.builds(date.isoformat, ANY_DATE),
    MONTHS,
    MONTH_DAYS,
    st.sampled_from(["UTC", "gitlab", "snapshot", "keep", "C1", "US", "{date}", "{", "x" * 10_000]),
)
SCALARS = st.one_of(TEXTS, NUMBERS, st.booleans(), ANY_DATE, st.times())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["country", "subdivision", "x"]), inner, max_size=2),
    ),
    max_leaves=6,
)


def value_for(draw: st.DrawFn, table: str, key: str) -> Any:
    plausible = PLAUSIBLE.get(f"{table}.{key}", PLAUSIBLE.get(table))
    if plausible is not None and draw(st.integers(0, 7)):
        return draw(plausible)
    return draw(VALUES)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"


@st.composite
def configs(draw: st.DrawFn) -> str:
    lines = []
    for table in draw(st.lists(st.sampled_from(sorted(KEYS)), min_size=1, max_size=3, unique=True)):
        keys = draw(st.lists(st.sampled_from(KEYS[table]), min_size=1, max_size=4, unique=True))
        lines.append(f"[{table}]")
        lines += [f"{key} = {toml_value(value_for(draw, table, key))}" for key in keys]
    for table in draw(st.lists(st.sampled_from(sorted(ARRAYS)), max_size=2)):
        keys = draw(st.lists(st.sampled_from(ARRAYS[table]), min_size=1, max_size=4, unique=True))
        lines.append(f"[[{table}]]")
        lines += [f"{key} = {toml_value(value_for(draw, table, key))}" for key in keys]
    return "\n".join(lines) + "\n"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(configs(), ANY_DATE)
@example('[schedule]\nsignoff_cutoff = "26100 business days"\n', date(2027, 1, 1))
@example('[notice]\nC1 = "5218 weeks"\nreminder = "876600 hours"\n', date(102, 1, 1))
@example('[[schedule.override]]\nmonth = "9999-11"\ndate = "9999-11-30"\n', date(9999, 11, 1))
@example('[[freeze]]\nfrom = "9999-12-01"\nto = "9999-12-31"\n', date(9999, 1, 1))
@example("[schedule]\nextra_holidays = [9999-12-31, 0001-01-01]\nday = 31\n", date(1, 1, 1))
def test_any_config_value_answers_or_fails_with_one_line(
    workdir: Path, config: str, start: date
) -> None:
    for args in (
        ("schedule", "--from", "2027-01-01", "--months", "2"),
        ("calendar", "--from", start.isoformat(), "--months", "2", "--out", "out"),
    ):
        try:
            result = rollout(workdir, *args, config=config)
        except UnicodeEncodeError:  # a lone surrogate cannot even be written to the file
            return
        ends_well(result)


# ------------------------------------------------------------------ the sweep: other ways in


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (b"{{ 1/0 }}", "Error: template announce.md.j2: ZeroDivisionError: division by zero"),
        (b'{{ "%d" % "x" }}', "Error: template announce.md.j2: TypeError: "),
        (
            b"{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
            "Error: template announce.md.j2: it calls itself without end",
        ),
        (b"\xff\xfe{{ issue }}", "Error: template announce.md.j2: cannot read it ("),
    ],
)
def test_a_broken_template_override_is_one_error_line(
    workdir: Path, template: bytes, message: str
) -> None:
    (workdir / "templates").mkdir()
    (workdir / "templates" / "announce.md.j2").write_bytes(template)
    line = one_error_line(
        rollout(
            workdir,
            "announce",
            "101",
            "--as-of",
            "2027-01-20",
            config=TRACKER + '[templates]\ndir = "templates"\n',
        )
    )
    assert line.startswith(message), line


def test_a_source_date_epoch_past_the_calendar_is_one_error_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "99999999999999")
    line = one_error_line(rollout(workdir, "calendar", "--out", "out", config=TRACKER))
    assert line == "Error: SOURCE_DATE_EPOCH=99999999999999 is not a time before the year 10000"
    assert not (workdir / "out").exists()


# ------------------------------------------------------------------ usage errors (§3)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["schedule", "--from", "2027-02-29"],
            "Error: Invalid value for '--from': \"2027-02-29\" is not a real date; "
            "see rollout schedule --help",
        ),
        (["bogus"], "Error: No such command 'bogus'; see rollout --help"),
        (
            ["--bogus", "schedule"],
            "Error: No such option '--bogus'. Did you mean '--verbose'?; see rollout --help",
        ),
        (["check"], "Error: Missing argument 'IID...'; see rollout check --help"),
        (["schedule", "--months", "0"], None),
        *(
            (
                [*command, "--out", ""],
                "Error: Invalid value for '--out': it is empty; name where to write; "
                f"see rollout {command[0]} --help",
            )
            for command in (["calendar"], ["notes", "2027-02-01"], ["site"], ["snapshot"])
        ),
        (["announce", "--due", "5"], None),
        (
            ["check", "9" * 4301],
            "Error: Invalid value for 'IID...': '"
            + "9" * 60
            + "…' is not an issue; write 101, #101 or group/project#101; see rollout check --help",
        ),
    ],
)
def test_a_usage_error_is_one_line_that_says_where_to_read_more(
    workdir: Path, args: list[str], line: str | None
) -> None:
    result = CliRunner().invoke(cli, args, prog_name="rollout")
    error = one_error_line(result)
    assert error == line if line else error.endswith(" --help"), error


def test_a_snapshot_number_too_long_to_read_is_one_error_line(workdir: Path) -> None:
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    text = json.dumps(snapshot).replace('"iid": 101', '"iid": ' + "1" * 5000, 1)
    (workdir / "long.json").write_text(text, encoding="utf-8")
    config = f'[tracker]\nkind = "snapshot"\nsnapshot = "{workdir / "long.json"}"\n'
    line = one_error_line(rollout(workdir, "status", config=config))
    assert line.endswith("long.json is not a snapshot file: a number is too long"), line
