"""GNU Octave: the seed's per-row XOR (SEEDS A5), the bridge's exactness and timings, and the
reason shown when Octave is not installed. The equivalence suite covers the rest."""

import os
import subprocess
import sys
import time
from pathlib import Path

import nnbench
import numpy as np
import pytest
from conftest import AVAILABILITY, assert_params_close
from nnbench import networks
from nnbench.spec import NetworkSpec

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "apt-get install -y --no-install-recommends octave"

needs_octave = pytest.mark.skipif(not AVAILABILITY["octave"],
                                  reason=AVAILABILITY["octave"].reason)


@needs_octave
def test_per_row_equals_batched_equals_numpy_on_xor():
    """A5: from the same start, 1,000 epochs of the seed's per-row loop give the weights the
    whole-batch form gives, in Octave and in NumPy (only summation order can differ)."""
    from nnbench import octave_impl

    preset = networks.get("xor")
    data = preset.load_data()
    params = preset.initial_params()
    per_row, _ = octave_impl.xor_per_row(params, 1000, preset.lr)
    batched = nnbench.create("octave", preset.spec, params)
    batched.fit(data.X_train, data.Y_train, epochs=1000, lr=preset.lr)
    reference = nnbench.create("numpy", preset.spec, params)
    reference.fit(data.X_train, data.Y_train, epochs=1000, lr=preset.lr)

    assert_params_close(per_row, batched.get_weights(), 1e-12, "per-row vs batched Octave")
    assert_params_close(per_row, reference.get_weights(), 1e-12, "per-row Octave vs numpy")
    moved = max(np.max(np.abs(W - W0)) for (W, _), (W0, _) in zip(per_row, params))
    assert moved > 1e-3  # it trained


@needs_octave
def test_timing_inside_octave_is_positive_and_inside_the_call():
    from nnbench import octave_impl

    preset = networks.get("xor")
    data = preset.load_data()
    started = time.perf_counter()
    _, seconds = octave_impl.xor_per_row(preset.initial_params(), 200, preset.lr)
    wall = time.perf_counter() - started
    assert 0 < seconds < wall

    impl = nnbench.create("octave", preset.spec, preset.initial_params())
    history = impl.fit(data.X_train, data.Y_train, epochs=200, lr=preset.lr)
    assert 0 < impl.last_octave_seconds < impl.last_call_seconds <= history.seconds


@needs_octave
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numbers_cross_the_bridge_bit_for_bit(dtype):
    """An identity linear layer and a leaky_relu with an awkward slope: Octave must hand back
    exactly NumPy's bits (tiny, huge, subnormal and inexact values, and alpha = 0.1 + 0.2)."""
    rng = np.random.default_rng(0)
    tiny = np.finfo(dtype).smallest_subnormal
    X = rng.normal(0, 1, (5, 4)) * 10.0 ** rng.integers(-30, 30, (5, 4))
    X[0, :] = [tiny, 1 / 3, -np.finfo(dtype).max, np.pi]
    for activation in ("linear", "leaky_relu"):
        spec = NetworkSpec((4, 4), (activation,), "mse", alpha=0.1 + 0.2)
        params = [(np.eye(4), np.zeros(4))]
        got = nnbench.create("octave", spec, params, dtype=dtype).predict(X)
        expected = nnbench.create("numpy", spec, params, dtype=dtype).predict(X)
        assert np.array_equal(got, expected), activation


@needs_octave
def test_an_octave_failure_is_a_clear_error():
    from nnbench import octave_impl

    with pytest.raises(octave_impl.OctaveError, match="exit status 1.*no such thing here"):
        octave_impl.run_octave("error ('no such thing here')")


def test_without_octave_the_reason_says_how_to_install_it():
    """PATH emptied in a fresh interpreter: `octave` is unavailable, and the reason tells how
    to install it (this runs whether or not Octave is installed here)."""
    env = {key: value for key, value in os.environ.items() if key != "NNBENCH_OCTAVE"}
    env["PATH"] = ""
    code = ("import nnbench\n"  # asking for octave alone: no other framework is imported
            "try:\n    nnbench.get_class('octave'); print(True)\n"
            "except nnbench.errors.NNBenchError as exc:\n    print(False); print(exc)")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ok, reason = done.stdout.strip().split("\n", 1)
    assert ok == "False"
    assert "implementation 'octave' is unavailable" in reason
    assert "GNU Octave" in reason and INSTALL in reason
