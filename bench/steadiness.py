"""How fast the machine itself was while the benchmark ran: a fixed product, timed again and again.

A benchmark is only as repeatable as the machine under it, and a shared virtual machine's
speed is not constant. On the project's 2-core VM, single-threaded work repeats within 2-3%
from one minute to the next, but work shared between the two cores does not: the host places
the two virtual CPUs as it pleases, and the threads' hand-offs and shared data cost more in
some periods than in others. NumPy's two-thread MNIST training step (OpenBLAS shares its
packed matrices between its threads) took 17 us per sample in some minutes and 22 us in
others, for minutes at a time, while its one-thread step stayed at 30-31 us.

So every benchmark process times the same small, fixed piece of work when it starts and again
when it ends, and in the default mode also just before and just after the timed rounds of
each predict, train, GEMM and step-phase case: a float64 matrix product at the MNIST hidden
layer's shape, on the run's threads and on one. Its rate, in GFLOP/s, goes into the JSON (the
process's `nnbench.machine_check`, a case's `extra_info.machine_check`). The report shows it
beside each step, with how far it moved during the run, and `nnbench compare` sets it beside
the cases: when a case moved and the machine check made around it moved alike, the machine
moved, not the implementation.
"""

from __future__ import annotations

import functools
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from .workloads import threads_in_effect

SHAPE = (128, 784, 512)  # a batch of 128 through the MNIST network's hidden layer
CALLS = 10  # a check takes about 30 ms on the project's machine, both settings together


@functools.cache
def operands() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A, B and the output C of the product, made once per process."""
    m, k, n = SHAPE
    rng = np.random.default_rng(0)
    return rng.random((m, k)), rng.random((k, n)), np.empty((m, n))


def gemm_gflops(threads: int) -> float:
    """The median rate of CALLS products of SHAPE, on `threads` BLAS threads."""
    m, k, n = SHAPE
    A, B, C = operands()
    with threadpool_limits(limits=threads, user_api="blas"):
        for _ in range(3):  # wake the BLAS threads and warm the caches
            np.matmul(A, B, out=C)
        times = []
        for _ in range(CALLS):
            started = time.perf_counter()
            np.matmul(A, B, out=C)
            times.append(time.perf_counter() - started)
    return 2 * m * k * n / statistics.median(times) / 1e9


def check() -> dict:
    """The check's rates now: on the run's threads, and on one thread if that is another."""
    # The run's threads named, not None (no change): a case may call this inside a block that
    # holds BLAS to one thread (the GEMM step's one-thread cases).
    result = {"time": time.time(), "threads": threads_in_effect(),
              "run_threads_gflops": gemm_gflops(threads_in_effect())}
    result["one_thread_gflops"] = (gemm_gflops(1) if threads_in_effect() > 1
                                   else result["run_threads_gflops"])
    return result
