"""How close an implementation must come to the reference: one rule, shared by the tests,
the benchmark's check against numpy and the claims.

Each entry may differ from the reference by `rtol` times (the reference array's largest
magnitude + the entry's own magnitude): relative where the entry is large, and never stricter
than `rtol` of the array's scale, since an element-wise relative test is meaningless for
entries that are zero by cancellation (a gradient of 1e-17 where the rest are 1e-1). It is
numpy's `allclose(actual, expected, rtol, atol=rtol * max|expected|)`.
"""

from __future__ import annotations

import math

import numpy as np

RTOL = {"float64": 1e-9, "float32": 1e-4}


def rtol_for(cls, dtype: str) -> float:
    """The tolerance `cls` is held to in `dtype`: the default, or a tighter one it declares."""
    return getattr(cls, "rtol", {}).get(dtype, RTOL[dtype])


def relative_error(actual, expected) -> float:
    """The smallest rtol by which `actual` is within the rule of `expected`; inf for a shape
    mismatch or a non-finite difference."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if actual.shape != expected.shape:
        return math.inf
    if not expected.size:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(actual - expected)
    if not np.all(np.isfinite(difference)):
        return math.inf
    allowed = float(np.max(np.abs(expected))) + np.abs(expected)
    if not np.any(difference):
        return 0.0
    if np.any((allowed == 0) & (difference > 0)):
        return math.inf
    return float(np.max(np.divide(difference, allowed, out=np.zeros_like(difference),
                                  where=allowed > 0)))


def largest_relative_error(params_a, params_b) -> float:
    """The worst `relative_error` over every W and b of two Params."""
    return max(relative_error(a, b) for pair_a, pair_b in zip(params_a, params_b)
               for a, b in zip(pair_a, pair_b))


def disagreement(actual, expected, rtol: float, what: str) -> str | None:
    """None when `actual` is within `rtol` of `expected` by the rule above, else one line
    naming `what`, the worst entry, both values, the error and the tolerance."""
    error = relative_error(actual, expected)
    if error <= rtol:
        return None
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if actual.shape != expected.shape:
        return f"{what}: shape {actual.shape}, numpy's is {expected.shape}"
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isfinite(actual), np.abs(actual - expected), np.inf)
    worst = np.unravel_index(int(np.argmax(gap)), actual.shape) if actual.ndim else ()
    at = f" at {tuple(map(int, worst))}" if worst else ""
    return (f"{what}{at}: {actual[worst]:.10g} against numpy's {expected[worst]:.10g}, relative "
            f"error {error:.3g} > tolerance {rtol:g}")
