"""examples/snapshot.json is what `rollout snapshot` takes of the support_ops story.

Regenerate it after changing the story: python tests/test_example_snapshot.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner
from gitlab_server import GitLabServer
from scenarios import load_story

from rollout.cli import cli

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "snapshot.json"
STORY = Path(__file__).parent / "stories" / "support_ops.story"
PROJECT = "gitlab-com/gl-security/corp/cust-support-ops/issue-tracker"


def take(out: Path) -> None:
    state = load_story(STORY.read_text(encoding="utf-8"))
    with GitLabServer(state) as server:
        config = out.parent / "take-snapshot.toml"
        config.write_text(f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\n', encoding="utf-8")
        result = CliRunner(env={"GITLAB_URL": server.url, "GITLAB_TOKEN": server.token}).invoke(
            cli, ["--config", str(config), "snapshot", "--out", str(out), "--state", "all"]
        )
        config.unlink()
        if result.exit_code != 0:
            raise RuntimeError(result.stderr)


def test_example_snapshot_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "snapshot.json"
    take(fresh)
    assert fresh.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8"), (
        "examples/snapshot.json is stale: python tests/test_example_snapshot.py"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    take(EXAMPLE)
    print(f"wrote {EXAMPLE}")
