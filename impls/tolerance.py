"""How close an implementation must come to the reference: one rule, shared by the tests,
the benchmark's check against numpy and the claims.

The error of an array is its largest absolute difference from the reference, relative to the
reference's largest magnitude: an element-wise relative test is meaningless for entries that
are zero by cancellation (a gradient of 1e-17 where the rest are 1e-1).
"""

from __future__ import annotations

import math

import numpy as np

RTOL = {"float64": 1e-9, "float32": 1e-4}


def rtol_for(cls, dtype: str) -> float:
    """The tolerance `cls` is held to in `dtype`: the default, or a tighter one it declares."""
    return getattr(cls, "rtol", {}).get(dtype, RTOL[dtype])


def relative_error(actual, expected) -> float:
    """max |actual - expected| / max |expected|; inf for a shape mismatch or a non-finite value."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if actual.shape != expected.shape:
        return math.inf
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    difference = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    if scale == 0.0:
        return 0.0 if difference == 0.0 else math.inf
    return difference / scale if math.isfinite(difference) else math.inf


def largest_relative_error(params_a, params_b) -> float:
    """The worst `relative_error` over every W and b of two Params."""
    return max(relative_error(a, b) for pair_a, pair_b in zip(params_a, params_b)
               for a, b in zip(pair_a, pair_b))
