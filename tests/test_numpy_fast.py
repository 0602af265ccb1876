"""What only numpy-fast promises: a training step makes no temporary of a weight's size, and
updates the weights in place; its numbers are the reference's (tests/test_equivalence.py,
tests/test_properties.py)."""

import tracemalloc

import nnbench
import numpy as np
import pytest
from conftest import IMPLEMENTATIONS
from nnbench import networks

pytestmark = pytest.mark.skipif("numpy-fast" not in IMPLEMENTATIONS,
                                reason="numpy-fast is not available here")

MNIST = networks.get("mnist")


def batch(n=128):
    rng = np.random.default_rng(0)
    return rng.random((n, 784)), np.eye(10)[rng.integers(0, 10, n)]


def peak_of_one_step(name, dtype) -> int:
    """Bytes NumPy allocated at most during one training step (after a first one)."""
    impl = nnbench.create(name, MNIST.spec, MNIST.initial_params(), dtype=dtype)
    X, Y = (np.ascontiguousarray(a, dtype) for a in batch())
    impl._train_step(X, Y, 0.1)  # buffers, if any, are made here
    tracemalloc.start()
    try:
        impl._train_step(X, Y, 0.1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_step_allocates_nothing_of_a_weights_size(dtype):
    weight_bytes = 784 * 512 * np.dtype(dtype).itemsize
    assert peak_of_one_step("numpy", dtype) > weight_bytes  # the reference's dW, for scale
    assert peak_of_one_step("numpy-fast", dtype) < weight_bytes / 4


def test_the_weights_are_updated_in_place():
    impl = nnbench.create("numpy-fast", MNIST.spec, MNIST.initial_params())
    arrays = [(W, W.ctypes.data) for W in impl.weights]
    before = [W.copy() for W in impl.weights]
    X, Y = batch(64)
    impl.fit(X, Y, epochs=2, lr=0.1, batch_size=32)
    for (W, address), (new, old) in zip(arrays, zip(impl.weights, before)):
        assert new is W and new.ctypes.data == address
        assert not np.array_equal(new, old)  # and it did train


def test_the_buffers_are_made_once_per_batch_size():
    impl = nnbench.create("numpy-fast", MNIST.spec, MNIST.initial_params())
    X, Y = batch(10)
    impl.fit(X, Y, epochs=3, lr=0.1, batch_size=4)  # batches of 4, 4 and 2 in every epoch
    layers = impl._layers(4)
    impl.fit(X, Y, epochs=1, lr=0.1, batch_size=4)
    assert sorted(impl._buffers) == [2, 4] and impl._layers(4) is layers
