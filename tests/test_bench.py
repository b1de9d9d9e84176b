"""The benchmark at a small scale: every command makes exactly the requests the generated
project says it needs, cold and warm, as the test server recorded them. (Times are the
benchmark's own business, not a test's: python -m bench.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bench.needs import NOTHING
from bench.project import generate
from bench.run import Measured, Requests, Row, measure

pytestmark = pytest.mark.slow  # a project of 400 issues, and every command as a process

# The project is dated back from this day, and every command runs as on it.
TODAY = date(2027, 1, 20)


@pytest.fixture(scope="module")
def measured() -> Measured:
    project = generate(issues=400, open_issues=80, in_milestone=12, seed=3, today=TODAY)
    clock = datetime(2027, 1, 20, 10, 30, tzinfo=UTC)
    return measure(project, latency=0.0, concurrency=4, repeat=1, months=12, clock=clock)


@pytest.fixture(scope="module")
def rows(measured: Measured) -> list[Row]:
    return measured.rows


def test_every_command_makes_the_requests_it_needs_and_no_more(rows: list[Row]) -> None:
    for row in rows:
        need = row.need
        assert row.requests == Requests(need.pages, need.per_issue, need.others), row.name
        if row.prime:
            first = row.first_need
            assert row.first == Requests(first.pages, first.per_issue, first.others), row.name
        assert row.slack_requests == row.slack_need, row.name


def test_announce_due_costs_no_more_than_status_plus_the_slack_ledger(rows: list[Row]) -> None:
    def total(name: str) -> int:
        made = next(row for row in rows if row.name == name).requests
        assert made is not None
        return made.lists + made.per_issue + made.other

    assert total("rollout announce --due") <= total("rollout status")
    assert total("rollout announce --due, + slack") == total("rollout announce --due")
    slack_row = next(row for row in rows if row.name == "rollout announce --due, + slack")
    # who the bot is and the channel, looked up once each, and its history read once
    assert slack_row.slack_requests == 3


def test_warm_runs_ask_for_the_lists_and_what_changed(measured: Measured) -> None:
    assert [row.name.removesuffix(", warm") for row in measured.warm] == [
        row.name for row in measured.rows if row.warm_up is not None
    ]
    assert len(measured.warm) == 4
    for row in measured.warm:
        need = row.need
        assert row.requests == Requests(need.pages, need.per_issue, need.others), row.name
    cold = {row.name: row.requests for row in measured.rows}
    for row in measured.warm:
        made, before = row.requests, cold[row.name.removesuffix(", warm")]
        assert made is not None and before is not None
        assert made.per_issue < before.per_issue / 2, row.name


def test_the_peer_script_runs_beside_rollout(measured: Measured) -> None:
    assert [row.name for row in measured.peers] == ["peer: check (12 issues)", "peer: status"]
    for row in measured.peers:
        assert row.requests is not None and row.requests.per_issue > 0
    assert all(size > 0 for size in measured.cache_sizes.values())


def test_the_commands_that_read_gitlab_read_something(rows: list[Row]) -> None:
    reading = [row for row in rows if row.config == "gitlab"]
    assert len(reading) == 11
    assert len([row for row in rows if row.config == "slack"]) == 1
    assert all(row.need != NOTHING and row.requests and row.requests.per_issue for row in reading)
    [apply] = [row for row in rows if row.prime]
    assert apply.first is not None and apply.first.other > apply.need.others  # it wrote
    offline = [row for row in rows if row.config == "plain"]
    assert all(row.requests == Requests(0, 0, 0) for row in offline)


def test_memory_is_measured_per_command(rows: list[Row]) -> None:
    # The benchmark holds the whole project; a command's peak must not include it.
    help_row = next(row for row in rows if row.name == "rollout --help")
    assert 5 * 2**20 < help_row.runs[0].max_rss < 40 * 2**20
