"""Every key the config loader accepts is documented twice: in the README's Configuration
table and, with its default, in the committed rollout.toml (commented out where it is
optional). A key added to the loader and not to both fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from rollout import config as config_module
from rollout.config import parse_config

ROOT = Path(__file__).parent.parent
EXAMPLE = (ROOT / "rollout.toml").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Keys whose names are the user's own (Customer:: label values).
FREE_FORM = {"audiences"}


def uncommented(text: str) -> str:
    """The file with its commented-out keys and tables put back in."""
    setting = re.compile(r"# ?((?:\[\[?[\w.]+\]\]?)|(?:[\w-]+ = .*))$")
    return "\n".join(
        match.group(1) if (match := setting.fullmatch(line)) else line for line in text.splitlines()
    )


def accepted_keys(
    text: str, base_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> set[tuple[str, str]]:
    """(table, key) for every key the loader asked for while reading ``text``."""
    asked: set[tuple[str, str]] = set()
    finish = config_module._Table.finish

    def recording(table: Any) -> None:
        path = re.sub(r"\[\d+\]", "", table.path)
        asked.update((path, key) for key in table.known)
        finish(table)

    monkeypatch.setattr(config_module._Table, "finish", recording)
    parse_config(text, base_dir=base_dir)
    tables = {path for path, _ in asked}  # a sub-table is documented by its own keys
    return {
        (path, key)
        for path, key in asked
        if path and path not in FREE_FORM and f"{path}.{key}" not in tables
    }


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    (tmp_path / "team-templates").mkdir()  # [templates] dir must exist
    found = accepted_keys(uncommented(EXAMPLE), tmp_path, monkeypatch)
    assert ("schedule.override", "skip") in found and ("labels.values", "ad_hoc") in found
    return found


def in_file(data: dict[str, Any], path: str, key: str) -> bool:
    """Whether the TOML ``data`` sets ``key`` in the table (or every table array) ``path``."""
    nodes = [data]
    for part in path.split("."):
        below: list[dict[str, Any]] = []
        for node in nodes:
            value = node.get(part)
            if isinstance(value, list):
                below.extend(item for item in value if isinstance(item, dict))
            elif isinstance(value, dict):
                below.append(value)
        nodes = below
    return any(key in node for node in nodes)


def in_readme(readme: str, path: str, key: str) -> bool:
    """`path.key` in the Configuration section, or a row for the table (`path`, `[path]`,
    `[[path]]`, `path.*` or `path.<name>`) that names the key in backticks."""
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    if re.search(rf"`{re.escape(path)}\.{re.escape(key)}(\.\*|\.<\w+>)?`", section):
        return True  # the key, or a table of names of the user's own (`path.key.<name>`)
    table = re.compile(rf"`(\[\[?{re.escape(path)}\]\]?|{re.escape(path)}(\.\*|\.<\w+>)?)`")
    for row in section.splitlines():
        head = row.split(" | ", 1)[0]
        spans = re.findall(r"`([^`]*)`", row)
        if table.search(head) and any(re.search(rf"\b{re.escape(key)}\b", span) for span in spans):
            return True
    return False


def test_every_key_is_in_the_committed_rollout_toml(keys: set[tuple[str, str]]) -> None:
    data = tomllib.loads(uncommented(EXAMPLE))
    missing = sorted(f"{path}.{key}" for path, key in keys if not in_file(data, path, key))
    assert not missing, f"not in rollout.toml (templates/rollout.toml.j2): {missing}"


def test_every_key_is_in_the_readme_configuration_table(keys: set[tuple[str, str]]) -> None:
    missing = sorted(f"{path}.{key}" for path, key in keys if not in_readme(README, path, key))
    assert not missing, f"not in the README's Configuration table: {missing}"


def test_a_key_left_out_would_be_caught(keys: set[tuple[str, str]]) -> None:
    data = tomllib.loads(uncommented(EXAMPLE).replace('\nreminder = "72 hours"', ""))
    assert ("notice", "reminder") in keys and not in_file(data, "notice", "reminder")
    assert ("tracker", "timeout") in keys and in_readme(README, "tracker", "timeout")
    assert not in_readme(
        README.replace("`tracker.timeout`", "`tracker.wait`"), "tracker", "timeout"
    )
