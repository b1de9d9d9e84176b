"""Snapshot files that are not what `rollout snapshot` writes: one ``Error:`` line naming the
file and what is wrong, exit 2, whatever the command (PRODUCT.md §4, §7)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout.cli import cli

EXAMPLE = json.loads(
    (Path(__file__).parent.parent / "examples" / "snapshot.json").read_text(encoding="utf-8")
)
COMMANDS: list[tuple[str, ...]] = [
    ("check", "101", "--as-of", "2027-01-20"),
    ("status", "--as-of", "2027-01-20"),
    ("notes", "2027-02-01", "--as-of", "2027-01-20"),
    ("announce", "101", "--as-of", "2027-01-20"),
    ("calendar", "--from", "2027-01-01", "--months", "2", "--out", "out"),
    ("milestones", "--year", "2027"),
]


def run(directory: Path, content: bytes, *args: str) -> Result:
    (directory / "s.json").write_bytes(content)
    return CliRunner().invoke(cli, ["--tracker", "snapshot:s.json", *args], catch_exceptions=False)


def error_line(result: Result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "unexpectedly" not in result.stderr
    return result.stderr.rstrip("\n")


def changed(edit: Any) -> bytes:
    data = copy.deepcopy(EXAMPLE)
    edit(data)
    return json.dumps(data).encode()


def issue(data: dict[str, Any], iid: int) -> dict[str, Any]:
    return next(item for item in data["issues"] if item["iid"] == iid)


CASES = [
    (b"\xff\xfe{\x00}", "s.json is not a snapshot file: it is not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "s.json is not a snapshot file: it is nested too deeply"),
    (
        b'{"project": {}, "issues": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "s.json is not a snapshot file: it is nested too deeply",
    ),
    (b"[]", 's.json: expected {"project": {...}, "issues": [...]}'),
    (b'{"project": {}, "issues": {}}', 's.json: expected {"project": {...}, "issues": [...]}'),
    (
        changed(lambda d: issue(d, 108).update(closed_at="yesterday")),
        's.json: issue #108: closed_at: expected a timestamp with a zone, like 2027-01-05T09:00:00.000Z, not "yesterday"',
    ),
    (
        changed(lambda d: issue(d, 105).pop("updated_at")),
        "s.json: issue #105: updated_at: missing (expected a timestamp",
    ),
    (
        changed(lambda d: issue(d, 105).update(created_at="2027-01-05T09:00:00")),
        "s.json: issue #105: created_at: expected a timestamp with a zone",
    ),
    (
        changed(lambda d: d["milestones"][0].update(due_date="2027-02-30")),
        's.json: milestone "CustSuppOps Deployment 2027-03-01": due_date: expected a real date (YYYY-MM-DD), not "2027-02-30"',
    ),
    (
        changed(lambda d: issue(d, 101)["milestone"].update(start_date="someday")),
        's.json: issue #101: milestone.start_date: expected a date (YYYY-MM-DD), not "someday"',
    ),
    (
        changed(lambda d: issue(d, 101).update(labels="Stage::Completed")),
        's.json: issue #101: labels: expected a list, not "Stage::Completed"',
    ),
    (
        changed(lambda d: issue(d, 101).update(labels=[7])),
        "s.json: issue #101: labels[0]: expected an object, not 7",
    ),
    (
        changed(lambda d: issue(d, 101).update(iid="101")),
        's.json: an issue: iid: expected a whole number, not "101"',
    ),
    (
        changed(lambda d: issue(d, 101).update(id=True)),
        "s.json: issue #101: id: expected a whole number, not true",
    ),
    (
        changed(lambda d: issue(d, 101).update(state="reopened")),
        's.json: issue #101: state: expected "opened" or "closed", not "reopened"',
    ),
    (
        changed(lambda d: issue(d, 101).update(title=["a"])),
        "s.json: issue #101: title: expected a string, not a list",
    ),
    (
        changed(lambda d: issue(d, 101)["notes"][0].update(system="no")),
        's.json: issue #101: notes[0].system: expected true or false, not "no"',
    ),
    (
        changed(lambda d: issue(d, 101)["label_events"][0].update(action="toggle")),
        's.json: issue #101: label_events[0].action: expected "add" or "remove", not "toggle"',
    ),
    (
        changed(lambda d: issue(d, 101)["links"].append({"iid": 5})),
        "s.json: issue #101: links[0].state: missing",
    ),
    (
        changed(lambda d: issue(d, 101).update(author="alice")),
        's.json: issue #101: author: expected an object, not "alice"',
    ),
    (changed(lambda d: d["issues"].append(issue(d, 101))), "s.json: issue #101 appears twice"),
    (changed(lambda d: d.update(milestones={"a": 1})), "s.json: milestones: expected a list"),
    (
        changed(lambda d: d.update(user={"username": 5})),
        "s.json: user: username: expected a string, not 5",
    ),
    (
        changed(lambda d: d["project"].update(path_with_namespace=7)),
        "s.json: project.path_with_namespace: expected a string",
    ),
    (
        changed(lambda d: issue(d, 101).update(title="x" * 2_000_000, due_date="x" * 100_000)),
        's.json: issue #101: due_date: expected a date (YYYY-MM-DD), not "xxxxxxxx',
    ),
]


@pytest.mark.parametrize(("content", "message"), CASES, ids=[message[:60] for _, message in CASES])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_a_broken_snapshot_is_one_error_line_naming_the_file(
    workdir: Path, command: tuple[str, ...], content: bytes, message: str
) -> None:
    line = error_line(run(workdir, content, *command))
    assert line.startswith(f"Error: {message}"), line
    assert len(line) < 400
    assert not (workdir / "out").exists()


# ------------------------------------------------------------------ any field, any value

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "2027-01-05T09:00:00Z",
            "2027-02-30",
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31",
            "opened",
            "closed",
            "add",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "username", "title", "id", "iid"]), inner, max_size=3
        )
    ),
    max_leaves=5,
)
FIELDS = (
    [
        ("issue", key)
        for key in (
            "id",
            "iid",
            "project_id",
            "title",
            "description",
            "state",
            "labels",
            "author",
            "assignees",
            "milestone",
            "due_date",
            "created_at",
            "updated_at",
            "closed_at",
            "web_url",
            "references",
            "label_events",
            "links",
            "notes",
        )
    ]
    + [("milestone", key) for key in ("id", "iid", "title", "state", "start_date", "due_date")]
    + [("label_event", key) for key in ("id", "created_at", "action", "label", "user")]
    + [("link", key) for key in ("iid", "project_id", "state", "link_type", "references")]
    + [("note", key) for key in ("id", "body", "author", "created_at", "system")]
    + [("top", "project"), ("top", "user"), ("top", "milestones"), ("top", "issues")]
)


def target(data: dict[str, Any], kind: str, index: int) -> dict[str, Any]:
    issues = data["issues"]
    picked = issues[index % len(issues)]
    if kind == "issue":
        return picked
    if kind == "milestone":
        return data["milestones"][index % len(data["milestones"])]
    if kind == "top":
        return data
    parts = {"label_event": "label_events", "link": "links", "note": "notes"}[kind]
    found = [item for issue in issues for item in issue[parts]]
    return found[index % len(found)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(FIELDS),
    st.integers(0, 100),
    JSON_VALUES | st.just("<deleted>"),
    st.sampled_from(COMMANDS),
)
def test_any_field_with_any_value_answers_or_fails_with_one_line(
    workdir: Path, field: tuple[str, str], index: int, value: Any, command: tuple[str, ...]
) -> None:
    data = copy.deepcopy(EXAMPLE)
    record = target(data, field[0], index)
    if value == "<deleted>":
        record.pop(field[1], None)
    else:
        record[field[1]] = value
    result = run(workdir, json.dumps(data).encode(), *command)
    if result.exit_code in (0, 1):
        assert result.exit_code == 0 or command[0] == "check"
        return
    error_line(result)  # the file, or what its data leads to (a date nobody can announce)


@pytest.mark.parametrize(
    ("timestamp", "accepted"),
    [
        ("9999-12-30T23:59:59Z", True),
        ("9999-12-31T00:00:00Z", False),
        ("0001-01-02T00:00:00Z", True),
    ],
)
def test_the_timestamps_range_is_the_one_it_names(
    workdir: Path, timestamp: str, accepted: bool
) -> None:
    """'from 0001-01-02 to 9999-12-30' takes both days whole."""

    def edit(data: dict[str, Any]) -> None:
        issue(data, 101)["notes"].append(
            {
                "id": 999999,
                "body": "late",
                "author": {"username": "someone", "name": "Someone"},
                "created_at": timestamp,
                "system": False,
            }
        )

    result = run(workdir, changed(edit), "check", "101", "--as-of", "2027-01-20")
    if accepted:
        assert result.exit_code in (0, 1), result.stderr
    else:
        assert "expected a timestamp from 0001-01-02 to 9999-12-30" in error_line(result)


def test_a_timestamp_at_the_end_of_the_calendar_is_named(workdir: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        issue(data, 101)["label_events"][0]["created_at"] = "0001-01-01T00:00:00+00:00"

    (workdir / "rollout.toml").write_text(
        '[schedule]\ntimezone = "America/New_York"\n', encoding="utf-8"
    )
    line = error_line(run(workdir, changed(edit), "check", "101", "--as-of", "2027-01-20"))
    assert line == (
        "Error: s.json: issue #101: label_events[0].created_at: expected a timestamp from 0001-01-02 to "
        '9999-12-30, not "0001-01-01T00:00:00+00:00"; write it again with rollout snapshot'
    )
