"""Shared test helpers: which implementations to hold to the reference, and how closely.

Every test that compares implementations is parametrised over `IMPLEMENTATIONS`, the names
that `nnbench.available()` says can run here. With NNBENCH_REQUIRE_ALL=1 (as in CI) an
implementation that cannot run is a failure, not a skip, so the suite cannot pass by skipping.
"""

import os

import nnbench
import pytest
from nnbench import tolerance
from nnbench.errors import UnsupportedError
from nnbench.spec import init_params

AVAILABILITY = nnbench.available()
IMPLEMENTATIONS = [name for name, status in AVAILABILITY.items() if status]
OTHERS = [name for name in IMPLEMENTATIONS if name != "numpy"]  # held to the reference



def rtol_for(name: str, dtype: str) -> float:
    """The project's tolerance (nnbench.tolerance) for implementation `name`."""
    return tolerance.rtol_for(nnbench.get_class(name), dtype)


def supported_or_skip(name: str, spec, dtype: str) -> None:
    """Return if `name` supports `spec` in `dtype`; else check that it refuses to build it,
    with the reason it declares, and skip the test as "not supported: <reason>"."""
    reason = nnbench.get_class(name).supports(spec, dtype)
    if reason is None:
        return
    with pytest.raises(UnsupportedError) as refused:
        nnbench.create(name, spec, init_params(spec), dtype=dtype)
    assert refused.value.reason == reason
    pytest.skip(f"not supported: {reason}")


def impl_dtype_cases(names=None):
    """(name, dtype) for every implementation and each dtype it supports."""
    cases = []
    for name in names if names is not None else OTHERS:
        for dtype in nnbench.get_class(name).dtypes:
            cases.append(pytest.param(name, dtype, id=f"{name}-{dtype}"))
    return cases


def assert_close(actual, expected, rtol, what=""):
    """Within `rtol` by the project's one rule (nnbench.tolerance), as `nnbench verify` checks."""
    problem = tolerance.disagreement(actual, expected, rtol, what)
    assert problem is None, problem


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
