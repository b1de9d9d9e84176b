"""rollout's benchmark: requests, waiting on latency, start-up and memory at a busy tracker's scale.

Starts the GitLab API test server on 127.0.0.1 with a generated project and a fixed latency
before every answer, runs the real ``rollout`` commands as separate processes, and prints a
table with each command's figures and PASS/FAIL against its targets (BENCHMARKS.md).

    python -m bench [--issues 5000] [--open 400] [--milestone 60] [--latency-ms 25]
                    [--concurrency 8] [--repeat 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.metadata
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the GitLab API test server lives with the tests

from gitlab_server import GitLabServer, RecordedRequest  # noqa: E402
from slack_server import SlackServer, SlackState  # noqa: E402

import rollout  # noqa: E402
from bench.measure import CommandFailed, Run, median_wall, peak_rss, run_once  # noqa: E402
from bench.needs import NOTHING, SLACK_READS, Need, Needs, Plan, changed_since  # noqa: E402
from bench.project import Project, change_some, generate, milestone_iids  # noqa: E402
from rollout.trackers.cache import remove_cache  # noqa: E402

WALL_RATIO = 1.5  # at most this times the lower bound
START_UP_RATIO = 2.5  # at most this times the start-up of python -c "import click"
CALENDAR_SECONDS = 2.0
SITE_SECONDS = 1.0  # a 12-month site without a tracker
MEMORY_BYTES = 150 * 1024 * 1024
CENTURY = 1200  # months
# The least any command that reads GitLab through python-gitlab starts with: the client
# object imports python-gitlab's API classes.
GITLAB_FLOOR = "import click, gitlab; gitlab.Gitlab('http://127.0.0.1')"
CACHE_FILE = "history-cache.sqlite"  # beside the configs: [cache] path
PER_ISSUE = re.compile(r"/issues/\d+/(resource_label_events|links|notes)$")
SLACK_CHANNEL = "support-ops-changes"


@dataclass(frozen=True)
class Requests:
    lists: int
    per_issue: int
    other: int

    @classmethod
    def of(cls, log: Sequence[RecordedRequest]) -> Requests:
        lists = sum(1 for r in log if r.path.endswith("/issues"))
        per_issue = sum(1 for r in log if PER_ISSUE.search(r.path))
        return cls(lists, per_issue, len(log) - lists - per_issue)


@dataclass
class Row:
    """One command of the table and what it is held to."""

    name: str
    command: list[str]
    config: str = "gitlab"  # which rollout.toml: "gitlab", "slack" (announce to it too),
    # "plain" (no tracker) or "none"
    need: Need = NOTHING
    slack_need: int = 0  # Slack API requests, one after another
    plan: Plan | None = None  # what it reads, for the warm run after it
    warm_up: Path | None = None  # a copy of the history cache its cold runs left
    kind: str = "gitlab"  # gitlab: wall vs lower bound; start-up: vs click; calendar: seconds
    ok_codes: tuple[int, ...] = (0,)
    # Run once before the measured runs (a command that writes: it is measured re-run),
    # held to first_need on that run.
    prime: bool = False
    first_need: Need = NOTHING
    first: Requests | None = None
    seconds: float = CALENDAR_SECONDS  # the target of a "calendar" row
    runs: list[Run] = field(default_factory=list)
    requests: Requests | None = None
    slack_requests: int | None = None
    network: float | None = None  # the network part of the lower bound
    bound: float | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return median_wall(self.runs)


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse(argv)
    started = time.perf_counter()
    project = generate(options.issues, options.open, options.milestone, options.seed)
    generated = time.perf_counter() - started
    latency = options.latency_ms / 1000
    try:
        measured = measure(project, latency, options.concurrency, options.repeat, options.months)
    except CommandFailed as failure:
        sys.exit(f"bench: {failure}")
    _print_report(options, project, generated, measured)
    return 1 if any(row.failures for row in measured.rows + measured.warm) else 0


@dataclass
class Measured:
    click: Row  # start-up references
    floor: Row
    rows: list[Row]  # cold runs: the history cache emptied before each
    warm: list[Row]  # the same commands again after CHANGED of the issues changed
    peers: list[Row]  # the plain python-gitlab script
    cache_sizes: dict[str, int]  # bytes of the history cache each cold command left


CHANGED = 0.02  # of the issues, between the cold and the warm runs


def measure(
    project: Project,
    latency: float,
    concurrency: int,
    repeat: int,
    months: int = CENTURY,
    clock: datetime | None = None,
) -> Measured:
    """Serve ``project`` with ``latency``, run every command ``repeat`` times and judge
    each against its targets: the two start-up references, the command rows (cold), the
    peer script, then the commands that read histories again after some issues changed
    (warm).

    With ``clock``, every command runs as if it were that moment (time-machine, started by
    a sitecustomize module): for tests, which never read the real clock."""
    slack_state = SlackState()
    slack_state.add_channel(SLACK_CHANNEL)
    with (
        GitLabServer(project.state, latency=latency) as server,
        SlackServer(slack_state, latency=latency) as slack,
        tempfile.TemporaryDirectory(prefix="rollout-bench-") as scratch,
    ):
        directory = Path(scratch)
        _write_configs(directory, project, concurrency)
        env = _environment(server, slack)
        if clock is not None:
            env["PYTHONPATH"] = str(_frozen_clock(directory, clock))
        needs = Needs(project)
        rows = _rows(project, needs, directory, months, clock or datetime.now(UTC))
        click_row = Row("start-up: python, click", [sys.executable, "-c", "import click"])
        floor_row = Row("start-up: python, click, gitlab", [sys.executable, "-c", GITLAB_FLOOR])
        peers = _peer_rows(project)
        _warm_up(rows, directory, env)
        for row in (click_row, floor_row, *rows):
            _measure(row, server, slack, directory, env, repeat)
        for row in peers:
            _measure(row, server, slack, directory, {**env, **_peer_environment(project)}, repeat)
        sizes = {row.name: _size(row.warm_up) for row in rows if row.warm_up is not None}
        before = {issue.iid: issue.updated_at for issue in needs.issues}
        fetched = project.state.now()  # the server's clock during the cold runs
        change_some(project, CHANGED)
        changed = changed_since(before, needs.issues)
        warm = _warm_rows(rows, Needs(project), project, changed, fetched, months)
        for row in warm:
            _measure(row, server, slack, directory, env, repeat)
        plain = next(row for row in rows if row.kind == "calendar")
        feeds = max(0.0, plain.wall - click_row.wall)
        for row in (*rows, *warm):
            _judge(row, click_row.wall, floor_row.wall, latency, concurrency, feeds)
    return Measured(click_row, floor_row, rows, warm, peers, sizes)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=5000, help="issues in the project")
    parser.add_argument("--open", type=int, default=400, help="of which open")
    parser.add_argument(
        "--milestone", type=int, default=60, help="open issues in the next deployment's milestone"
    )
    parser.add_argument("--latency-ms", type=float, default=25.0, help="before every answer")
    parser.add_argument("--concurrency", type=int, default=8, help="[tracker] concurrency")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (median)")
    parser.add_argument("--seed", type=int, default=7, help="of the generated project")
    parser.add_argument("--months", type=int, default=CENTURY, help="of the calendar rows")
    options = parser.parse_args(argv)
    if options.repeat < 1 or options.concurrency < 1 or options.latency_ms < 0:
        parser.error("--repeat and --concurrency must be positive, --latency-ms not negative")
    return options


def _rollout() -> list[str]:
    """The installed console script next to this interpreter, as people run it."""
    script = shutil.which("rollout", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "rollout"]


def _frozen_clock(directory: Path, clock: datetime) -> Path:
    """A folder whose sitecustomize module sets every Python started with it to ``clock``."""
    folder = directory / "clock"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        f"import time_machine\ntime_machine.travel({clock.timestamp()!r}).start()\n",
        encoding="utf-8",
    )
    return folder


def _rows(project: Project, needs: Needs, directory: Path, months: int, now: datetime) -> list[Row]:
    rollout = _rollout()
    in_milestone = milestone_iids(project)
    one, fifty = in_milestone[:1], in_milestone[:50]
    return [
        Row("rollout --help", [*rollout, "--help"], "plain", kind="start-up"),
        Row("rollout schedule", [*rollout, "schedule"], "plain", kind="start-up"),
        Row(
            "rollout check (1 issue)",
            [*rollout, "check", *map(str, one)],
            need=needs.check(one),
            ok_codes=(0, 1),
        ),
        Row(
            f"rollout check ({len(fifty)} issues)",
            [*rollout, "check", *map(str, fifty)],
            need=needs.check(fifty),
            plan=needs.check_plan(fifty),
            ok_codes=(0, 1),
        ),
        Row(
            f"rollout notes {project.deployment}",
            [*rollout, "notes", str(project.deployment)],
            need=needs.notes(),
            plan=needs.notes_plan(),
        ),
        Row(
            "rollout status",
            [*rollout, "status"],
            need=needs.status(),
            plan=needs.status_plan(),
        ),
        Row(
            "rollout announce --due",
            [*rollout, "announce", "--due"],
            need=needs.announce_due(project.today),
        ),
        Row(
            "rollout announce --due, + slack",
            [*rollout, "announce", "--due"],
            "slack",
            need=needs.announce_due(project.today),
            slack_need=SLACK_READS,
        ),
        Row("rollout digest", [*rollout, "digest"], need=needs.digest(project.today)),
        Row(
            "rollout snapshot",
            [*rollout, "snapshot", "--out", str(directory / "snapshot.json")],
            need=needs.snapshot(now),
        ),
        Row(
            f"rollout calendar, {_span(months)}",
            [*rollout, "calendar", "--months", str(months), "--out", str(directory / "plain")],
            "plain",
            kind="calendar",
        ),
        Row(
            f"rollout calendar, {_span(months)} + changes",
            [*rollout, "calendar", "--months", str(months), "--out", str(directory / "feeds")],
            need=needs.changes(project.today, months),
            plan=needs.changes_plan(project.today, months),
        ),
        Row(
            "rollout site, 12 months, no tracker",
            [*rollout, "site", "--out", str(directory / "plain-site")],
            "plain",
            kind="calendar",
            seconds=SITE_SECONDS,
        ),
        Row(
            "rollout site (notes of 12 months back)",
            [*rollout, "site", "--out", str(directory / "site")],
            need=needs.site(project.today, 12),
        ),
        # Last: --apply writes notes and labels the rows above would otherwise read.
        Row("rollout triage", [*rollout, "triage"], need=needs.triage(), ok_codes=(0, 1)),
        Row(
            "rollout triage --apply, run again",
            [*rollout, "triage", "--apply"],
            need=needs.triage(),
            ok_codes=(0, 1),
            prime=True,
            first_need=needs.triage_apply_first(),
        ),
    ]


def _warm_rows(
    cold: list[Row],
    needs: Needs,
    project: Project,
    changed: set[int],
    fetched: datetime,
    months: int,
) -> list[Row]:
    """The commands that read histories, again, each from the history cache its cold runs
    left: needed are the lists and what changed (bench/needs.py)."""
    fifty = milestone_iids(project)[:50]
    plans = {
        f"rollout check ({len(fifty)} issues)": needs.check_plan(fifty),
        f"rollout notes {project.deployment}": needs.notes_plan(),
        "rollout status": needs.status_plan(),
        f"rollout calendar, {_span(months)} + changes": needs.changes_plan(project.today, months),
    }
    warm = []
    for row in cold:
        if row.name not in plans or row.plan is None:
            continue
        now = plans[row.name]
        check = row.name.startswith("rollout check")
        need = needs.warm(row.plan, now, changed, fetched, merged_lists=check)
        warm.append(
            Row(
                f"{row.name}, warm",
                row.command,
                need=need,
                ok_codes=row.ok_codes,
                warm_up=row.warm_up,
            )
        )
    return warm


def _peer_rows(project: Project) -> list[Row]:
    script = [sys.executable, "-m", "bench.peer"]
    fifty = milestone_iids(project)[:50]
    return [
        Row(f"peer: check ({len(fifty)} issues)", [*script, "check", *map(str, fifty)], "none"),
        Row("peer: status", [*script, "status"], "none"),
    ]


def _peer_environment(project: Project) -> dict[str, str]:
    return {
        "PROJECT": project.path,
        "MILESTONE": project.milestone,
        "PYTHONPATH": str(ROOT),
    }


def _size(path: Path) -> int:
    return sum(
        candidate.stat().st_size
        for suffix in ("", "-wal")
        if (candidate := path.with_name(path.name + suffix)).exists()
    )


def _span(months: int) -> str:
    years, rest = divmod(months, 12)
    if rest:
        return f"{months} months"
    return f"{years} year{'s' if years > 1 else ''}"


def _write_configs(directory: Path, project: Project, concurrency: int) -> None:
    (directory / "plain.toml").write_text("# the built-in defaults\n", encoding="utf-8")
    tracker = (
        f'[tracker]\nkind = "gitlab"\nproject = "{project.path}"\nconcurrency = {concurrency}\n'
        f'[cache]\npath = "{CACHE_FILE}"\n'
    )
    (directory / "gitlab.toml").write_text(tracker, encoding="utf-8")
    slack = f'[announce]\ntargets = ["gitlab", "slack"]\n[slack]\nchannel = "{SLACK_CHANNEL}"\n'
    (directory / "slack.toml").write_text(tracker + slack, encoding="utf-8")


def _environment(server: GitLabServer, slack: SlackServer) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GITLAB_", "CI_", "SLACK_")) and name != "SOURCE_DATE_EPOCH"
    }
    return {
        **env,
        "GITLAB_URL": server.url,
        "GITLAB_TOKEN": server.token,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": slack.token,
        "NO_COLOR": "1",
    }


def _command(row: Row, directory: Path) -> list[str]:
    """The row's command with --config added after the program (not for python -c)."""
    if row.config == "none" or (row.command[0] == sys.executable and row.command[1] == "-c"):
        return row.command
    program = 3 if row.command[:2] == [sys.executable, "-m"] else 1
    config = ["--config", str(directory / f"{row.config}.toml")]
    return [*row.command[:program], *config, *row.command[program:]]


def _warm_up(rows: list[Row], directory: Path, env: dict[str, str]) -> None:
    """Compile rollout's modules as `pip install` does (an editable install, or
    PYTHONDONTWRITEBYTECODE, would otherwise compile them again in every run), then run a
    start-up command once unmeasured, so that the measured runs find everything cached."""
    compileall.compile_dir(Path(rollout.__file__).parent, quiet=1)
    run_once(_command(rows[0], directory), env, directory)


def _measure(
    row: Row,
    server: GitLabServer,
    slack: SlackServer,
    directory: Path,
    env: dict[str, str],
    repeat: int,
) -> None:
    cache = directory / CACHE_FILE
    if row.prime:
        remove_cache(cache)
        server.reset_requests()
        run_once(_command(row, directory), env, directory, row.ok_codes)
        row.first = Requests.of(server.requests)
    for _ in range(repeat):
        remove_cache(cache)  # a cold run, or one from what the cold runs left
        if row.warm_up is not None and row.plan is None:
            for suffix in ("", "-wal"):
                kept = row.warm_up.with_name(row.warm_up.name + suffix)
                if kept.exists():
                    shutil.copyfile(kept, cache.with_name(cache.name + suffix))
        server.reset_requests()
        slack.reset_requests()
        row.runs.append(run_once(_command(row, directory), env, directory, row.ok_codes))
        made = Requests.of(server.requests)
        if row.requests is not None and made != row.requests:
            row.failures.append(f"requests differ between runs ({row.requests} / {made})")
        row.requests = made
        row.slack_requests = slack.count()
    if row.plan is not None and cache.exists():  # keep what the cold runs left
        row.warm_up = directory / f"cold-{len(list(directory.glob('cold-*')))}.sqlite"
        for suffix in ("", "-wal"):
            kept = cache.with_name(cache.name + suffix)
            if kept.exists():
                shutil.copyfile(kept, row.warm_up.with_name(row.warm_up.name + suffix))


def _judge(
    row: Row, click: float, floor: float, latency: float, concurrency: int, feeds: float = 0.0
) -> None:
    """``feeds``: the seconds the calendar rows spend on their feeds after start-up, which
    changes.ics overlaps with its network wait."""
    made = row.requests or Requests(0, 0, 0)
    need = row.need
    if made.lists > need.pages or made.per_issue > need.per_issue or made.other > need.others:
        row.failures.append("requests")
    first, wanted = row.first, row.first_need
    if first is not None and (
        first.lists > wanted.pages
        or first.per_issue > wanted.per_issue
        or first.other > wanted.others
    ):
        row.failures.append("first run's requests")
    if (row.slack_requests or 0) > row.slack_need:
        row.failures.append("Slack requests")
    if row.kind == "gitlab":
        # The Slack ledger is read after the issues, one request after another.
        row.network = row.need.lower_bound(latency, concurrency) + row.slack_need * latency
        work = feeds if "+ changes" in row.name else 0.0
        row.bound = floor + max(row.network, work)
        if row.wall > WALL_RATIO * row.bound:
            row.failures.append(f"wall > {WALL_RATIO}x bound")
    elif row.kind == "start-up":
        row.bound = click
        if row.wall > START_UP_RATIO * click:
            row.failures.append(f"wall > {START_UP_RATIO}x start-up")
    elif row.wall >= row.seconds:
        row.failures.append(f"wall >= {row.seconds:g} s")
    if peak_rss(row.runs) >= MEMORY_BYTES:
        row.failures.append("memory")


def _print_report(
    options: argparse.Namespace, project: Project, generated: float, measured: Measured
) -> None:
    out = print
    click, floor = measured.click, measured.floor
    rows = measured.rows + measured.warm
    version = importlib.metadata.version(rollout.DISTRIBUTION)
    out(
        f"rollout {version} benchmark: {options.issues} issues ({options.open} open, "
        f"{options.milestone} in {project.milestone}), generated in {generated:.1f} s"
    )
    out(
        f"latency {options.latency_ms:g} ms, concurrency {options.concurrency}, "
        f"median of {options.repeat} runs, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, today {project.today}"
    )
    out("")
    header: tuple[str, ...] = (
        "command",
        "requests",
        "needed",
        "wall s",
        "network s",
        "bound s",
        "ratio",
        "target",
        "max RSS",
        "result",
    )
    table = [header]
    for row in (click, floor):
        table.append(
            (row.name, "", "", f"{row.wall:.3f}", "", "", "", "", _megabytes(row), "reference")
        )
    for row in rows:
        table.append(_cells(row))
    for row in measured.peers:
        made = row.requests or Requests(0, 0, 0)
        requests = _sum(made.lists, made.per_issue, made.other)
        wall = f"{row.wall:.3f}"
        table.append((row.name, requests, "", wall, "", "", "", "", _megabytes(row), "reference"))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        ]
        out("  ".join(cells).rstrip())
    for row in rows:
        if row.first is not None:
            first, wanted = row.first, row.first_need
            out(
                f"{row.name}: its first run made "
                f"{_sum(first.lists, first.per_issue, first.other)} requests, "
                f"needed {_sum(wanted.pages, wanted.per_issue, wanted.others)}"
            )
    out("")
    out(_legend())
    out("")
    for peer in measured.peers:
        what = peer.name.removeprefix("peer: ")
        ours = next(row for row in measured.rows if row.name == f"rollout {what}")
        warm = next((row for row in measured.warm if row.name == f"rollout {what}, warm"), None)
        out(_against(f"rollout {what}", ours, peer))
        if warm is not None:
            out(_against(f"rollout {what}, warm", warm, peer))
    sizes = ", ".join(
        f"{name.removeprefix('rollout ')}: {size / 1024:.0f} kB"
        for name, size in measured.cache_sizes.items()
    )
    out(f"history cache on disk after each cold run ({options.issues} issues): {sizes}")
    failed = [row for row in rows if row.failures]
    out(f"{len(rows) - len(failed)} of {len(rows)} commands PASS")


def _against(name: str, ours: Row, peer: Row) -> str:
    """rollout against the peer script: requests and wall time, and their ratios."""
    made = ours.requests or Requests(0, 0, 0)
    theirs = peer.requests or Requests(0, 0, 0)
    mine, other = (
        made.lists + made.per_issue + made.other,
        (theirs.lists + theirs.per_issue + theirs.other),
    )
    return (
        f"{name} against {peer.name}: requests {mine} / {other} = {mine / max(1, other):.2f}x, "
        f"wall {ours.wall:.3f} s / {peer.wall:.3f} s = {ours.wall / peer.wall:.2f}x"
    )


def _cells(row: Row) -> tuple[str, ...]:
    made = row.requests or Requests(0, 0, 0)
    requests = _sum(made.lists, made.per_issue, made.other)
    needed = _sum(row.need.pages, row.need.per_issue, row.need.others)
    if row.slack_need or row.slack_requests:
        requests += f" +{row.slack_requests or 0} Slack"
        needed += f" +{row.slack_need} Slack"
    network = f"{row.network:.3f}" if row.network is not None else ""
    if row.kind == "calendar":
        bound, ratio, target = "", "", f"< {row.seconds:g} s"
    else:
        assert row.bound is not None
        bound, ratio = f"{row.bound:.3f}", f"{row.wall / row.bound:.2f}x"
        target = f"<= {WALL_RATIO if row.kind == 'gitlab' else START_UP_RATIO}x"
    result = "PASS" if not row.failures else "FAIL: " + ", ".join(row.failures)
    return (
        row.name,
        requests,
        needed,
        f"{row.wall:.3f}",
        network,
        bound,
        ratio,
        target,
        _megabytes(row),
        result,
    )


def _sum(lists: int, per_issue: int, other: int) -> str:
    """The total, then list pages + per-issue (+ other) requests: "154 (4+150)"."""
    total = lists + per_issue + other
    if not total:
        return "0"
    parts = f"{lists}+{per_issue}" + (f"+{other}" if other else "")
    return f"{total} ({parts})"


def _megabytes(row: Row) -> str:
    return f"{peak_rss(row.runs) / 1024 / 1024:.0f} MB"


def _legend() -> str:
    return (
        'start-up: python, click is `python -c "import click"`; start-up: python, click,\n'
        f'  gitlab is `python -c "{GITLAB_FLOOR}"`.\n'
        "requests: made, as the test server recorded them: issue list pages + per-issue\n"
        "  requests (+ others: the project, milestone pages), and the Slack API requests\n"
        "  (who the bot is, a channel looked up by name, its history read) where a row\n"
        "  announces to Slack.\n"
        "needed: the same, counting only what the command cannot do without, worked out\n"
        "  from the generated project.\n"
        "network: (a list's first page, then its other pages concurrency at a time + others\n"
        "  + per-issue requests / concurrency + Slack requests) x latency, the network wait no\n"
        "  client can avoid; independent lists side by side.\n"
        "cold: the history cache emptied before every run; warm: the same command from what\n"
        f"  its cold runs left, after {CHANGED:.0%} of the issues changed (labels and notes).\n"
        "peer: bench/peer.py, a plain python-gitlab script (defaults, one request at a time).\n"
        "bound: for GitLab commands, start-up: python, click, gitlab plus network (for\n"
        "  changes.ics, or the calendar's own work beyond start-up when that is longer); for\n"
        "  --help and schedule, start-up: python, click. ratio: wall / bound.\n"
        "wall: the median of the runs; max RSS: the largest. Every command must stay under\n"
        "  150 MB."
    )
