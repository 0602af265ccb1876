"""The one tolerance rule (nnbench.tolerance): what it accepts and what it refuses."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nnbench import tolerance


def test_equal_arrays_have_no_error_and_a_scaled_difference_is_relative():
    a = np.array([1.0, -2.0, 4.0])
    assert tolerance.relative_error(a, a) == 0.0
    assert tolerance.relative_error(a * (1 + 1e-6), a) == pytest.approx(1e-6 / 2, rel=1e-6)


def test_an_entry_zero_by_cancellation_is_judged_against_the_arrays_scale():
    expected = np.array([1e-1, 1e-17])
    actual = np.array([1e-1, 1e-12])  # far from 1e-17, but 1e-11 of the array's scale
    assert tolerance.relative_error(actual, expected) < 1e-9


@pytest.mark.parametrize("actual", [np.array([1.0, np.nan]), np.array([1.0, np.inf]),
                                    np.array([1.0, 2.0, 3.0])])
def test_a_non_finite_value_or_another_shape_is_an_infinite_error(actual):
    assert tolerance.relative_error(actual, np.array([1.0, 2.0])) == math.inf


def test_a_zero_reference_allows_only_zero():
    assert tolerance.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert tolerance.relative_error(np.array([0.0, 1e-30]), np.zeros(2)) == math.inf


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20),
       st.floats(1e-12, 1e-3), st.integers(0, 2**31))
def test_the_rule_is_numpys_allclose_with_an_absolute_slack_of_the_scale(values, rtol, seed):
    expected = np.array(values)
    noise = np.random.default_rng(seed).uniform(-2, 2, expected.shape)
    actual = expected + noise * rtol * (np.max(np.abs(expected)) + np.abs(expected))
    error = tolerance.relative_error(actual, expected)
    scale = float(np.max(np.abs(expected)))
    for factor in (0.999, 1.001):  # just inside and just outside the error it reports
        if error > 0:
            assert np.allclose(actual, expected, rtol=error * factor,
                               atol=error * factor * scale) == (factor > 1)


def test_rtol_for_takes_a_tighter_tolerance_an_implementation_declares():
    class Tight:
        rtol = {"float64": 1e-10}

    assert tolerance.rtol_for(Tight, "float64") == 1e-10
    assert tolerance.rtol_for(Tight, "float32") == tolerance.RTOL["float32"]
