"""How fast the machine itself was while the benchmark ran: fixed work, timed again and again.

A shared virtual machine's speed is not constant, and work shared between cores moves most. So
every benchmark process times the same small pieces of work when it starts and ends, and in
the default mode's first block just before and after the timed rounds of each predict,
train, GEMM and step-phase case: a float64 matrix product at the MNIST hidden layer's shape,
on the run's threads and on one, and a dot product in pure Python (some slowdowns of a core
touch an interpreter's loop and not a product running from the caches). The rates go into the
JSON (the process's `nnbench.machine_check`, a case's `extra_info.machine_check`); the report
shows them per step, and `nnbench compare` sets them beside the cases: when a case and the
check around it moved alike, the machine moved, not the implementation. docs/method.md says more.
"""

from __future__ import annotations

import functools
import operator
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from .threads import threads_in_effect

SHAPE = (128, 784, 512)  # a batch of 128 through the MNIST network's hidden layer
CALLS = 10  # products per rate: a check takes tens of milliseconds
PYTHON_LENGTH = 30_000  # numbers in each list of the pure-Python dot product


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


@functools.cache
def python_operands() -> tuple[list[float], list[float]]:
    """The two lists of the pure-Python dot product, made once per process."""
    numbers = np.random.default_rng(0).random((2, PYTHON_LENGTH)).tolist()
    return numbers[0], numbers[1]


def python_mops() -> float:
    """The median rate, in millions of multiply-adds per second, of CALLS dot products written
    as impls/pure_python.py writes its layers' inner loop."""
    x, y = python_operands()
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        sum(map(operator.mul, x, y))
        times.append(time.perf_counter() - started)
    return PYTHON_LENGTH / statistics.median(times) / 1e6


def check() -> dict:
    """The check's rates now: the product on the run's threads, and on one thread if that is
    another; the pure-Python dot product."""
    # The run's threads named, not None (no change): a case may call this inside a block that
    # holds BLAS to one thread (the GEMM step's one-thread cases).
    result = {"time": time.time(), "threads": threads_in_effect(),
              "run_threads_gflops": gemm_gflops(threads_in_effect())}
    result["one_thread_gflops"] = (gemm_gflops(1) if threads_in_effect() > 1
                                   else result["run_threads_gflops"])
    result["python_mops"] = python_mops()
    return result
