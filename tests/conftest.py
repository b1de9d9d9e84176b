"""Shared fixtures: a CLI runner that works in a scratch directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rollout.cli import cli


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory, so no rollout.toml of the repository is found."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # The history cache's default place (platformdirs' user cache directory) is in here too.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    for name in ("GITLAB_URL", "GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_SERVER_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


RunCli = Callable[..., Result]


@pytest.fixture
def run(workdir: Path) -> RunCli:
    """Invoke ``rollout`` in ``workdir``; stdout and stderr are kept apart."""

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke
