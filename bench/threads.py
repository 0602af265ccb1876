"""Threads and CPU placement: one thread setting, handed to every library, and the CPUs a
benchmark process is held to.

The runner sets the thread count of BLAS, OpenMP, Numba and TensorFlow through their own
environment variables (`thread_environment`); with fewer threads than cores it also starts each
process on that many CPUs (`held_cpus`), which is what limits JAX's XLA, a runtime with no
thread variable of its own. docs/method.md explains the choices.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection, Iterator

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
THREADS_ENV = "NNBENCH_THREADS"  # the runner's setting, as the cases record it

# OpenBLAS's threads spin for 2**28 cycles after a product before they sleep; a thread left
# spinning by one product (the machine check, the check against numpy) would take a core from
# the rounds of the case that follows. 2**24 cycles are still far longer than the gaps between
# the products of one training step, and `wait_for_blas_threads` waits them out before timing.
BLAS_SPIN_VARIABLE = "OPENBLAS_THREAD_TIMEOUT"
BLAS_SPIN_LOG2_CYCLES = 24
BLAS_SPIN_DEFAULT_LOG2_CYCLES = 28  # OpenBLAS's own


def thread_environment(threads: int) -> dict[str, str]:
    """The environment variables that make BLAS, Numba and TensorFlow use `threads` threads
    (and OpenBLAS's threads stop spinning sooner)."""
    env = {name: str(threads) for name in THREAD_VARIABLES}
    env[BLAS_SPIN_VARIABLE] = str(BLAS_SPIN_LOG2_CYCLES)
    env[THREADS_ENV] = str(threads)
    return env


def threads_in_effect() -> int:
    """The thread setting this process was started with (all cores when none was set)."""
    value = os.environ.get(THREADS_ENV) or os.environ.get("OMP_NUM_THREADS")
    return int(value) if value and value.isdigit() else (os.cpu_count() or 1)


def wait_for_blas_threads() -> None:
    """Sleep until OpenBLAS's threads, woken by the last product, have stopped spinning; at
    once in a one-thread process, which has none."""
    if threads_in_effect() > 1:
        setting = os.environ.get(BLAS_SPIN_VARIABLE, "")
        log2_cycles = (min(max(int(setting), 4), 30) if setting.isdigit()
                       else BLAS_SPIN_DEFAULT_LOG2_CYCLES)
        time.sleep(2 ** log2_cycles / 1e9)  # long enough on a CPU of 1 GHz or faster


def cpus() -> list[int]:
    """The CPUs this process may run on (a container's share, not the host's)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on macOS: every CPU
        return list(range(os.cpu_count() or 1))


def cores() -> int:
    """How many CPUs this process may run on."""
    return len(cpus())


def held_cpus(threads: int) -> list[int] | None:
    """The CPUs every step is held to: the first `threads` of them when that is fewer than the
    cores, else None (all).

    Held to that many CPUs, every library uses that many, XLA too, which sizes its pool by the
    CPUs it may use; and a one-thread process neither moves between cores nor shares one with
    the runner.
    """
    available = cpus()
    return available[:threads] if threads < len(available) else None


@contextlib.contextmanager
def cpus_of_this_thread(chosen: Collection[int] | None) -> Iterator[None]:
    """Inside the block, the calling thread runs on `chosen` only (None: no change); a child
    started from it inherits the set."""
    if not chosen:
        yield
        return
    before = os.sched_getaffinity(0)  # on Linux, 0 is the calling thread, not the process
    os.sched_setaffinity(0, chosen)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
