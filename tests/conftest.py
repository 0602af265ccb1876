"""Shared test helpers: which implementations to hold to the reference, and how closely.

Every test that compares implementations is parametrised over `IMPLEMENTATIONS`, the names
that `nnbench.available()` says can run here. With NNBENCH_REQUIRE_ALL=1 (as in CI) an
implementation that cannot run is a failure, not a skip, so the suite cannot pass by skipping.
"""

import os

import numpy as np
import pytest

import nnbench

AVAILABILITY = nnbench.available()
IMPLEMENTATIONS = [name for name, status in AVAILABILITY.items() if status]
OTHERS = [name for name in IMPLEMENTATIONS if name != "numpy"]  # held to the reference

# Relative tolerance against numpy_vec, per dtype; an implementation may hold a tighter one.
RTOL = {"float64": 1e-9, "float32": 1e-4}
RTOL_OVERRIDE = {("python", "float64"): 1e-10}


def rtol_for(name: str, dtype: str) -> float:
    return RTOL_OVERRIDE.get((name, dtype), RTOL[dtype])


def impl_dtype_cases(names=None):
    """(name, dtype) for every implementation and each dtype it supports."""
    cases = []
    for name in names if names is not None else OTHERS:
        for dtype in nnbench.get_class(name).dtypes:
            cases.append(pytest.param(name, dtype, id=f"{name}-{dtype}"))
    return cases


def assert_close(actual, expected, rtol, what=""):
    """Equal within rtol, measured against the largest magnitude of `expected`.

    An element-wise relative test is meaningless for entries that are zero by cancellation
    (a gradient of 1e-17 where the rest are 1e-1), so the absolute slack is rtol times the
    array's own scale.
    """
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def assert_params_close(actual, expected, rtol, what=""):
    assert len(actual) == len(expected)
    for layer, ((W, b), (W_ref, b_ref)) in enumerate(zip(actual, expected), start=1):
        assert_close(W, W_ref, rtol, f"{what} W{layer}")
        assert_close(b, b_ref, rtol, f"{what} b{layer}")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NNBENCH_REQUIRE_ALL") != "1":
        return
    missing = {name: status.reason for name, status in AVAILABILITY.items() if not status}
    if missing:
        raise pytest.UsageError(
            "NNBENCH_REQUIRE_ALL=1 but these implementations cannot run: "
            + "; ".join(f"{name}: {reason}" for name, reason in missing.items())
        )
