"""Running a child process, and peak memory: the one place nnbench waits on a process.

`subprocess` reaps its children with `waitpid`, which throws their resource usage away;
`os.wait4` returns it, including `ru_maxrss`, the peak resident set of the child and of the
children it waited for itself. A helper thread blocks in `wait4` so the caller can keep its
progress display moving and enforce a timeout; on timeout the child's whole process group is
killed. (The caller waits on an Event the helper sets, not by joining the thread: a
`Thread.join` that a signal's exception interrupts can report the thread finished while it is
still running, in Python up to 3.12.)

A child does not outlive a wait for it that ends early. Each child starts a session of its
own, so that a Ctrl-C at the terminal reaches only nnbench, which decides what happens to its
children (and its timeout can kill the child's whole process group). When the wait ends
early, by a timeout or by any exception (Ctrl-C's KeyboardInterrupt, or `Interrupted` for
SIGINT or SIGTERM inside `interrupt_signals`), `stop_child` stops the child's process group:
SIGINT first, so that a Python child unwinds and stops its own children the same way (a
benchmark process stops its cold-start probe), then, after a short grace, SIGKILL to the
group and to the groups of every process that descended from the child (found in /proc on
Linux), for a child that did not listen or left a process of its own session behind.

A child may be held to some of the CPUs (`cpus`; the runner's `--threads N` below the core
count): it is started from a thread set to those CPUs, and a new process inherits the CPU
set of the thread that made it, before any of its own threads exist. (Setting it in the
child would be too late for the BLAS and OpenMP threads a library starts as it loads, and
`preexec_fn` is unsafe beside the runner's other threads.)

One catch: Linux keeps a process's `ru_maxrss` across `exec`, so a child started by a big
process starts with its parent's high-water mark. A process that wants its own peak reads
`VmHWM` from /proc/self/status (`peak_rss_self`), which belongs to the program it runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .threads import cpus_of_this_thread

GRACE_S = 2.0  # how long a child may take to stop on SIGINT before it is killed


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while `interrupt_signals` was in effect.

    A KeyboardInterrupt, so that it unwinds the program the way Ctrl-C does (every `finally`
    runs, and `except Exception` does not swallow it), whichever of the two signals it was;
    `exit_status` is the shell's convention for a program ended by that signal (130, 143).
    """

    def __init__(self, signum: int, message: str = ""):
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(message or f"interrupted by {self.signal_name}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def interrupt_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` in the main thread, inside the block.

    Python's default for SIGTERM is to die on the spot, with no `finally` run: children left
    running, files half written. Raised as an exception, either signal lets the program stop
    its children and say what it kept. A second signal while the program is stopping after
    the first is ignored, so the clean-up itself is not cut short (it is bounded: GRACE_S and
    a SIGKILL). Outside the main thread (where Python cannot set handlers) nothing changes.
    """
    received: list[int] = []

    def handler(signum, frame):
        if not received:
            received.append(signum)
            raise Interrupted(signum)

    with _handling(handler):
        yield


@contextlib.contextmanager
def _handling(handler: Callable) -> Iterator[None]:
    """`handler` for SIGINT and SIGTERM inside the block, the previous ones after it. Only the
    main thread can set handlers: in another thread the block runs with nothing changed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler)
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, action in previous.items():
            # None: a handler set outside Python, which Python cannot put back.
            signal.signal(signum, signal.SIG_DFL if action is None else action)


@dataclass(frozen=True)
class ChildResult:
    returncode: int  # negative: killed by that signal
    seconds: float  # wall time from start to exit, measured here
    cpu_seconds: float  # user + system time, its own and its waited-for children's
    peak_rss_bytes: int
    timed_out: bool


def run_child(command: list[str], env: dict[str, str], log: Path | None, cwd: Path,
              timeout_s: float | None = None, on_tick: Callable[[float], None] | None = None,
              tick_s: float = 0.25, stdout=None,
              cpus: Collection[int] | None = None) -> ChildResult:
    """Run `command` in `cwd` to the end (or until `timeout_s`), its output appended to `log`.

    `cpus`, when given, are the only CPUs the child and its threads and children may run on.
    `stdout` may be given separately (an open file) when the caller wants to read it;
    `on_tick(elapsed)` is called every `tick_s` while the child runs. The working directory
    matters: `python -m` puts it first on the child's path, so it must not be one holding
    another copy of the package (a source tree beside an installed nnbench).
    """
    log_file = open(log, "ab") if isinstance(log, Path) else None  # noqa: SIM115
    try:
        sink = log_file if log_file is not None else subprocess.DEVNULL
        started = time.perf_counter()
        process = None
        waited: list = []
        ended_at: list[float] = []
        reaped = threading.Event()

        def wait():
            waited.append(os.wait4(process.pid, 0))
            ended_at.append(time.perf_counter())
            reaped.set()

        timed_out = False
        try:
            with signals_held():  # until the child is known, and waited for
                with cpus_of_this_thread(cpus):
                    process = subprocess.Popen(
                        command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                        stdout=stdout if stdout is not None else sink,
                        stderr=sink if log_file is not None else subprocess.DEVNULL,
                        start_new_session=True)
                threading.Thread(target=wait, daemon=True).start()
            while not reaped.wait(tick_s):
                elapsed = time.perf_counter() - started
                if timeout_s is not None and elapsed > timeout_s:
                    timed_out = True
                    stop_child(process.pid, reaped, grace_s=0.0)  # hung: no time to lose
                elif on_tick is not None:
                    on_tick(elapsed)
        except BaseException:  # Ctrl-C, a signal, an error in on_tick: the child goes too
            if process is not None:
                stop_child(process.pid, reaped, grace_s=GRACE_S)
            raise
        finally:
            if waited:  # reaped by the waiter: tell Popen, or it would wait for it again
                process.returncode = os.waitstatus_to_exitcode(waited[0][1])
        _, _, usage = waited[0]
        return ChildResult(process.returncode, ended_at[0] - started,
                           usage.ru_utime + usage.ru_stime, maxrss_bytes(usage), timed_out)
    finally:
        if log_file is not None:
            log_file.close()


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the end of the block, then take their usual course.

    For work that must not stop halfway: writing a report's files, and starting a child (an
    exception raised inside `Popen` after the fork, as a signal handler may raise at any
    point, leaves `Popen` before it returns the process, so nobody knows the child, which runs
    on). Held, the signal is sent again once the block is over, to whatever handles it then.
    """
    held: list[int] = []
    try:
        with _handling(lambda signum, frame: held.append(signum)):
            yield
    finally:
        if held:
            os.kill(os.getpid(), held[0])


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


# ---- stopping a child and everything it started ----


def stop_child(pid: int, reaped: threading.Event, grace_s: float) -> None:
    """Stop the child `pid` (a session leader: its process group is `pid`) and what it
    started; return once it is `reaped`.

    With a grace, the group gets SIGINT and that long to exit: a Python child then unwinds
    and stops its own children. Then SIGKILL to the child's group and to the group of every
    descendant: those seen before the SIGINT (a descendant whose parent exited meanwhile is
    no longer found under the child) and those still there now.
    """
    groups = _descendant_groups(pid)
    if grace_s > 0:
        _signal_group(pid, signal.SIGINT)
        reaped.wait(grace_s)
    groups |= _descendant_groups(pid)
    for group in {pid, *groups} - {os.getpgrp()}:  # never our own group
        _signal_group(group, signal.SIGKILL)
    reaped.wait()


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):  # gone already (or its number reused)
        pass


def _descendant_groups(pid: int) -> set[int]:
    """The process groups of every descendant of `pid`, from /proc (empty where there is no
    /proc: then the child's own group is all that is stopped)."""
    children: dict[int, list[tuple[int, int]]] = {}  # parent -> [(pid, process group)]
    try:
        entries = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return set()
    for name in entries:
        try:
            with open(f"/proc/{name}/stat") as stat:
                # "pid (command) state ppid pgrp ...": the command may hold spaces and ")".
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # it ended while we looked
            continue
        children.setdefault(int(fields[1]), []).append((int(name), int(fields[2])))
    groups, parents = set(), [pid]
    while parents:
        for child, group in children.get(parents.pop(), []):
            groups.add(group)
            parents.append(child)
    return groups


@dataclass
class Reported:
    """What a child that reports one marked JSON line said (see `run_reporting`)."""

    wall_s: float  # the whole process, measured from outside
    inner: dict = field(default_factory=dict)  # the JSON object it printed
    error: str = ""  # why it did not report ("" when it did)


def run_reporting(command: list[str], marker: str, env: dict[str, str], timeout_s: float,
                  into: type[Reported] = Reported) -> Reported:
    """Run a child that prints its findings as one line, `marker` then a JSON object: its
    wall time, that object, and why there is none, as an `into`."""
    with tempfile.TemporaryDirectory(prefix="nnbench-child-") as scratch:
        out_path, log_path = Path(scratch, "out"), Path(scratch, "log")
        with open(out_path, "wb") as out:
            result = run_child(command, env, log_path, Path(scratch), timeout_s, stdout=out)
        lines = out_path.read_text(errors="replace").splitlines()
        log_tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
    reports = [line[len(marker):] for line in lines if line.startswith(marker)]
    if result.timed_out:
        return into(result.seconds, error=f"timed out after {timeout_s:g} s")
    if result.returncode != 0 or not reports:
        return into(result.seconds, error=f"exit status {result.returncode}: "
                                          f"{log_tail[0] if log_tail else 'no output'}")
    return into(result.seconds, json.loads(reports[-1]))
