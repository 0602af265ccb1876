"""The same preset, seed and implementation give bitwise-identical weights in two runs.

Every implementation is held to the same bits on a repeat, not merely to its tolerance
against numpy (tests/conftest.py), because each one's arithmetic is fixed by its inputs:
numba-parallel adds its threads' partial gradients in a fixed order (for a given thread
count), PyTorch and JAX run fixed CPU kernels, Octave's BLAS is the reference one, and Keras
on the CPU repeats itself with or without TensorFlow's op determinism (impls/keras_tf.py says
why the implementation leaves that switch alone). The runs shuffle, so the seeded shuffle of
the base class is part of what repeats.
"""

import subprocess
import sys

import nnbench
import numpy as np
import pytest
from conftest import IMPLEMENTATIONS, supported_or_skip
from nnbench import networks

PRESET, LIMIT, EPOCHS, BATCH, SEED = "digits", 40, 3, 16, 5


def preset_for(name):
    """digits, or MNIST at hidden width 16 for an implementation that cannot express digits."""
    cls = nnbench.get_class(name)
    presets = [networks.get(PRESET), networks.get("mnist").with_hidden(16)]
    for preset in presets:
        if cls.supports(preset.spec, "float64") is None:
            return preset
    supported_or_skip(name, presets[0].spec, "float64")


def train(name):
    preset = preset_for(name)
    data = preset.load_data(limit=LIMIT)
    impl = nnbench.create(name, preset.spec, preset.initial_params())
    impl.fit(data.X_train, data.Y_train, epochs=EPOCHS, lr=preset.lr, batch_size=BATCH,
             shuffle=True, seed=SEED)
    return impl.get_weights()


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_two_runs_are_bitwise_identical(name):
    device = getattr(nnbench.get_class(name), "device", "CPU")
    if device != "CPU":  # a GPU's sums may come in any order without op determinism
        pytest.skip(f"{name} runs on {device}; see the op determinism test")
    first, second = train(name), train(name)
    for (W1, b1), (W2, b2) in zip(first, second):
        assert np.array_equal(W1, W2) and np.array_equal(b1, b2)


# The same training in a fresh process, `runs` times, printing a digest of the weights after
# each: sys.argv = [name, runs, "op-determinism" or "default"].
TRAIN_AND_HASH = f"""
import hashlib, sys
import nnbench
from nnbench import networks

name, runs, switch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if switch == "op-determinism":
    nnbench.get_class("keras")  # imports TensorFlow quietly
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()  # and no seed: no random op may run
preset = networks.get({PRESET!r})
data = preset.load_data(limit={LIMIT})
for _ in range(runs):
    impl = nnbench.create(name, preset.spec, preset.initial_params())
    impl.fit(data.X_train, data.Y_train, epochs={EPOCHS}, lr=preset.lr, batch_size={BATCH},
             shuffle=True, seed={SEED})
    weights = b"".join(W.tobytes() + b.tobytes() for W, b in impl.get_weights())
    print(hashlib.sha256(weights).hexdigest())
"""


def digests_in_a_fresh_process(name: str, runs: int, switch: str = "default") -> list[str]:
    result = subprocess.run([sys.executable, "-c", TRAIN_AND_HASH, name, str(runs), switch],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    digests = result.stdout.split()
    assert len(digests) == runs and all(len(digest) == 64 for digest in digests)
    return digests


def test_two_processes_are_bitwise_identical():
    """A fresh process starts from the same Params and ends on the same bits."""
    assert digests_in_a_fresh_process("numpy", 1) == digests_in_a_fresh_process("numpy", 1)


@pytest.mark.skipif("keras" not in IMPLEMENTATIONS, reason="keras is not available here")
def test_keras_with_op_determinism_is_bitwise_identical():
    """TensorFlow's op determinism on (process-wide, hence a process of its own), no seed set:
    two trainings end on the same bits, and nothing asked for an unseeded random number."""
    first, second = digests_in_a_fresh_process("keras", 2, "op-determinism")
    assert first == second


def test_seeded_initialiser_is_stable():
    """The starting weights are a function of (scheme, seed) alone."""
    params = nnbench.init_params(networks.get("xor").spec, "uniform_sym", seed=3)
    again = nnbench.init_params(networks.get("xor").spec, "uniform_sym", seed=3)
    other = nnbench.init_params(networks.get("xor").spec, "uniform_sym", seed=4)
    assert all(np.array_equal(W, W2) for (W, _), (W2, _) in zip(params, again))
    assert not np.array_equal(params[0][0], other[0][0])
