"""The machine's own limit: the matrix-multiply rate of NumPy's BLAS, float64 and float32.

Measured in the run, under the run's thread setting, at the MNIST hidden layer's shape
(a batch of 128 through 784x512) and at a larger square one. The report states every
implementation's GFLOP/s as a share of the best of these.

When the run uses more than one thread, the rate is measured on one thread too (threadpoolctl
limits OpenBLAS in this process): the fair yardstick for an implementation whose loops run on
one thread by design (numba, python).
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from .measure import repeats_for, rounds_for, seconds, timed
from .threads import threads_in_effect

THREAD_SETTINGS = ["run"] + (["one"] if threads_in_effect() > 1 else [])


@pytest.mark.parametrize("threads", THREAD_SETTINGS)
def test_gemm(benchmark, gemm_dtype, gemm_shape, threads, mode):
    m, k, n = gemm_shape
    rng = np.random.default_rng(0)
    A = rng.random((m, k)).astype(gemm_dtype)
    B = rng.random((k, n)).astype(gemm_dtype)
    C = np.empty((m, n), dtype=gemm_dtype)  # written in place: the product, not the allocation

    def multiply():
        np.matmul(A, B, out=C)

    with threadpool_limits(limits=1 if threads == "one" else None, user_api="blas"):
        first_call = seconds(multiply)
        iterations = repeats_for(lambda count: [multiply() for _ in range(count)], 100_000,
                                 mode.timing.round_s)
        benchmark.extra_info.update(kind="gemm", dtype=gemm_dtype, m=m, k=k, n=n,
                                    flops=2 * m * k * n,
                                    threads=1 if threads == "one" else threads_in_effect(),
                                    thread_setting=threads,
                                    first_call_s=first_call)
        benchmark.group = f"gemm {gemm_dtype}"
        timed(benchmark, mode, multiply, rounds=rounds_for(first_call * iterations, mode),
              iterations=iterations)
