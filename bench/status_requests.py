"""How many requests, and how long, `rollout status` takes for a project of many open issues.

Seeds the GitLab API test server (tests/gitlab_server.py) with a story of N open issues whose
label histories walk the Support Operations stages (a few blocked, backlogged, linked or
pre-announced), runs `rollout status` against it in a separate process, and prints the figures.
Not a test: it prints numbers.

    python bench/status_requests.py [--issues 500] [--concurrency 8] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from gitlab_server import GitLabServer  # noqa: E402
from scenarios import load_story  # noqa: E402

PROJECT = "support-ops/issue-tracker"
AS_OF = date(2027, 1, 20)
FLOWS = {
    "bug": ["triage", "planning", "development", "validation", "received", "implementation"],
    "feature": [
        "triage",
        "planning",
        "scheduling",
        "queued",
        "development",
        "validation",
        "received",
        "implementation",
    ],
    "admin": ["triage", "scheduling", "development", "implementation skipped"],
}
MILESTONES = ("CustSuppOps Deployment 2027-02-01", "CustSuppOps Deployment 2027-03-01")
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace")


def story(count: int, seed: int) -> str:
    """A project of ``count`` open issues with label histories ending by the as-of date."""
    rng = random.Random(seed)
    lines = [f"project {PROJECT} id 1", "now 2027-01-20 10:00", "ops bob"]
    lines += [f'milestone "{title}"' for title in MILESTONES]
    for iid in range(1, count + 1):
        kind = rng.choice(("bug", "feature", "feature", "admin"))
        flow = FLOWS[kind]
        steps = flow[: rng.randint(1, len(flow))]
        if rng.random() < 0.08:
            steps.append("blocked")
        elif rng.random() < 0.05:
            steps = ["triage", "backlogged"]
        day = AS_OF - timedelta(days=rng.randint(3, 90))
        events = []
        for step in steps:
            events.append(f"{day} {step}")
            day = min(AS_OF, day + timedelta(days=rng.randint(1, 6)))
            if rng.random() < 0.1 and step == "validation":
                events.append(f"{day} rejected")  # and back to development
                events.append(f"{day + timedelta(days=1)} development")
                day = min(AS_OF, day + timedelta(days=3))
        options = [
            f"C{rng.randint(1, 4)}",
            f"customer Support-{rng.choice(('EMEA', 'AMER', 'APAC'))}",
        ]
        if rng.random() < 0.3:
            options.append(f'milestone "{rng.choice(MILESTONES)}"')
        author = rng.choice(USERS)
        lines.append(f'{kind} {iid} "Change request {iid}" by {author}, {", ".join(options)}:')
        lines += [f"  {event}" for event in events]
        if rng.random() < 0.1 and iid > 1:
            lines.append(f"link {iid} blocked by {rng.randint(1, iid - 1)}")
        if rng.random() < 0.2:
            lines.append(
                f'note {iid} on {AS_OF - timedelta(days=25)}: "Planned.\\n\\n'
                '<!-- rollout:announcement phase=pre deploy=2027-02-01 -->"'
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    started = time.perf_counter()
    state = load_story(story(options.issues, options.seed))
    seeded = time.perf_counter() - started
    with GitLabServer(state) as server, tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "rollout.toml"
        config.write_text(
            f'[tracker]\nkind = "gitlab"\nproject = "{PROJECT}"\n'
            f"concurrency = {options.concurrency}\n",
            encoding="utf-8",
        )
        env = {**os.environ, "GITLAB_URL": server.url, "GITLAB_TOKEN": server.token}
        command = [sys.executable, "-m", "rollout", "--config", str(config), "status"]
        command += ["--as-of", AS_OF.isoformat(), "--json"]
        server.reset_requests()
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"rollout status failed: {result.stderr}")
        requests = server.requests

    kinds = Counter(_kind(request.path) for request in requests)
    print(f"open issues:      {options.issues} (story seeded in {seeded:.1f} s)")
    print(f"requests:         {len(requests)} ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    print(f"writes:           {sum(1 for r in requests if r.method != 'GET')}")
    print(f"concurrency:      {options.concurrency}")
    print(f"wall time:        {elapsed:.2f} s (rollout status --json, a separate process)")


def _kind(path: str) -> str:
    for suffix in ("resource_label_events", "links", "notes"):
        if path.endswith(suffix):
            return suffix
    return "issue lists" if path.endswith("/issues") else path


if __name__ == "__main__":
    main()
