"""The rollout.toml that `rollout init` writes: every key of the policy spelled out and
commented, reading a GitLab project. The committed example rollout.toml is rendered from the
same template (tests/test_init.py holds it to that), so the two never tell different stories.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from rollout.errors import RolloutError
from rollout.render import Templates
from rollout.trackers import is_web_address

TEMPLATE = "rollout.toml.j2"
PROJECT_PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)+", re.ASCII)  # as GitLab allows them


def starter_config(project: str, url: str) -> str:
    """The text of a starter rollout.toml for the GitLab project ``project`` at ``url``."""
    if not PROJECT_PATH.fullmatch(project):
        raise RolloutError(
            f"--project: {project!r} is not a GitLab project path; write it as group/project, "
            "as in the project's web address"
        )
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password or parts.query or parts.fragment or ";" in parts.path:
        raise RolloutError(
            "--url: give GitLab's bare address, without a user, query or fragment (a token "
            "does not belong in the file: put it in GITLAB_TOKEN)"
        )
    if not is_web_address(url):
        raise RolloutError("--url: not a web address; write it as https://gitlab.example.com")
    return render_config(project, url.rstrip("/"))


def render_config(
    project: str,
    url: str,
    *,
    snapshot: Path | None = None,
    audiences: Mapping[str, str] | None = None,
    example: bool = False,
) -> str:
    """The template with its values: a starter, or (``example``) the committed example."""
    context = {
        "project": project,
        "url": url,
        "snapshot": snapshot.as_posix() if snapshot else None,
        "audiences": dict(audiences or {}),
        "example": example,
    }
    return Templates().render(TEMPLATE, context)
