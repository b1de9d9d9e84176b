"""Run a command as a separate process: its wall time and its peak memory."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class CommandFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    max_rss: int  # bytes, the process's peak resident memory


# Runs in a small interpreter of its own: started straight from the benchmark (which holds the
# whole generated project), the command would be counted as big as the benchmark until its
# exec, because subprocess forks with vfork and the kernel's peak RSS includes those pages.
_TIMER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
print(wall, usage.ru_maxrss, file=sys.stdout, flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_once(
    command: Sequence[str], env: dict[str, str], cwd: Path, ok_codes: Sequence[int] = (0,)
) -> Run:
    """Run ``command`` with its output discarded: its wall time from start to exit, and the
    peak RSS the kernel recorded for it (os.wait4)."""
    with tempfile.TemporaryFile() as errors:
        finished = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _TIMER, *command],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            check=False,
        )
        if finished.returncode not in ok_codes:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise CommandFailed(
                f"{' '.join(command)} exited {finished.returncode}: "
                f"{said[-1] if said else 'no message'}"
            )
    wall, max_rss = finished.stdout.split()
    return Run(float(wall), int(max_rss) * 1024)  # Linux reports kilobytes


def median_wall(runs: Sequence[Run]) -> float:
    return statistics.median(run.wall for run in runs)


def peak_rss(runs: Sequence[Run]) -> int:
    return max(run.max_rss for run in runs)
