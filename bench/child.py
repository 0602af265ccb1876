"""Running a child process, and peak memory: the one place nnbench waits on a process.

`subprocess` reaps its children with `waitpid`, which throws their resource usage away;
`os.wait4` returns it, including `ru_maxrss`, the peak resident set of the child and of the
children it waited for itself. A helper thread blocks in `wait4` so the caller can keep its
progress display moving and enforce a timeout; on timeout the child's whole process group is
killed.

One catch: Linux keeps a process's `ru_maxrss` across `exec`, so a child started by a big
process starts with its parent's high-water mark. A process that wants its own peak reads
`VmHWM` from /proc/self/status (`peak_rss_self`), which belongs to the program it runs.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildResult:
    returncode: int  # negative: killed by that signal
    seconds: float  # wall time from start to exit, measured here
    cpu_seconds: float  # user + system time, its own and its waited-for children's
    peak_rss_bytes: int
    timed_out: bool


def run_child(command: list[str], env: dict[str, str], log: Path | None, cwd: Path,
              timeout_s: float | None = None, on_tick: Callable[[float], None] | None = None,
              tick_s: float = 0.25, stdout=None) -> ChildResult:
    """Run `command` in `cwd` to the end (or until `timeout_s`), its output appended to `log`.

    `stdout` may be given separately (an open file) when the caller wants to read it;
    `on_tick(elapsed)` is called every `tick_s` while the child runs. The working directory
    matters: `python -m` puts it first on the child's path, so it must not be one holding
    another copy of the package (a source tree beside an installed nnbench).
    """
    log_file = open(log, "ab") if isinstance(log, Path) else None  # noqa: SIM115
    try:
        sink = log_file if log_file is not None else subprocess.DEVNULL
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=stdout if stdout is not None else sink,
                                   stderr=sink if log_file is not None else subprocess.DEVNULL,
                                   start_new_session=True)
        waited: list = []
        ended_at: list[float] = []

        def wait():
            waited.append(os.wait4(process.pid, 0))
            ended_at.append(time.perf_counter())

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        timed_out = False
        while waiter.is_alive():
            waiter.join(tick_s)
            elapsed = time.perf_counter() - started
            if waiter.is_alive() and timeout_s is not None and elapsed > timeout_s:
                timed_out = True
                _kill_group(process.pid)
                waiter.join()
            elif waiter.is_alive() and on_tick is not None:
                on_tick(elapsed)
        _, status, usage = waited[0]
        process.returncode = os.waitstatus_to_exitcode(status)  # it is reaped: tell Popen
        return ChildResult(process.returncode, ended_at[0] - started,
                           usage.ru_utime + usage.ru_stime, maxrss_bytes(usage), timed_out)
    finally:
        if log_file is not None:
            log_file.close()


def peak_rss_self() -> int:
    """This program's own peak resident memory, in bytes (see the module's note)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF))


def peak_rss_children() -> int:
    """The largest peak of the children this process has waited for (Octave's processes)."""
    return maxrss_bytes(resource.getrusage(resource.RUSAGE_CHILDREN))


def maxrss_bytes(usage) -> int:
    """`ru_maxrss` in bytes: Linux counts it in KiB, macOS in bytes."""
    return usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
