"""The peer: a plain python-gitlab script doing what ``rollout check`` and ``rollout status``
do, written the way a careful engineer would in an afternoon: python-gitlab's defaults,
iterators and ``get_all``, one request after another, no cache.

    python -m bench.peer check IID...     each issue with its label events, links and notes
    python -m bench.peer status           the open issues: every label history; links and
                                          notes of the milestone's, the shipping and the
                                          Blocked ones

It reads GITLAB_URL, GITLAB_TOKEN, PROJECT and MILESTONE from the environment, and prints a
line per issue (its stage and how many label events, links and notes it has), so the work
is done and not skipped. The benchmark runs it beside rollout, in the same run.
"""

from __future__ import annotations

import os
import sys

import gitlab

SHIPPING = {"Stage::Implementation", "Stage::Completed"}


def main(argv: list[str]) -> int:
    client = gitlab.Gitlab(os.environ["GITLAB_URL"], private_token=os.environ["GITLAB_TOKEN"])
    project = client.projects.get(os.environ["PROJECT"])
    if argv[:1] == ["check"]:
        iids = [int(iid) for iid in argv[1:]]
        issues = project.issues.list(iids=iids, state="all", get_all=True)
        for issue in issues:
            report(issue, links_and_notes=True)
        return 0
    if argv[:1] == ["status"]:
        milestone = os.environ.get("MILESTONE")
        for issue in project.issues.list(state="opened", iterator=True):
            labels = set(issue.labels)
            in_milestone = bool(issue.milestone) and issue.milestone["title"] == milestone
            judged = in_milestone or bool(labels & SHIPPING) or "Stage::Blocked" in labels
            report(issue, links_and_notes=judged)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


def report(issue: object, links_and_notes: bool) -> None:
    events = issue.resourcelabelevents.list(get_all=True)  # type: ignore[attr-defined]
    links = issue.links.list(get_all=True) if links_and_notes else []  # type: ignore[attr-defined]
    notes = issue.notes.list(get_all=True) if links_and_notes else []  # type: ignore[attr-defined]
    stage = next((label for label in issue.labels if label.startswith("Stage::")), "-")  # type: ignore[attr-defined]
    print(issue.iid, stage, len(events), len(links), len(notes))  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
