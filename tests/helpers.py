"""Small helpers the test modules share."""

from __future__ import annotations

import textwrap
from pathlib import Path

from rollout.config import Config, parse_config


def write_config(directory: Path, text: str) -> Path:
    path = directory / "rollout.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_from(text: str) -> Config:
    return parse_config(textwrap.dedent(text))
