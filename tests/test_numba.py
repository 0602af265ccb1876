"""What only the Numba implementations promise: bits that repeat, threads that agree, one
compiled call that equals many, and a compile step that can be timed on its own.

(That they compute what numpy_vec computes is checked for every implementation by
test_equivalence.py.)
"""

import math

import nnbench
import numpy as np
import pytest
from conftest import IMPLEMENTATIONS, assert_params_close
from hypothesis import given, settings
from hypothesis import strategies as st
from nnbench import networks

pytestmark = pytest.mark.skipif("numba" not in IMPLEMENTATIONS, reason="Numba is not installed")


@pytest.fixture(scope="module")
def numba_jit():
    from nnbench import numba_jit

    return numba_jit


@pytest.fixture
def two_threads(monkeypatch):
    """Numba's thread count set to 2 (or the most it has), with even the small batches of these
    tests shared among threads; restored afterwards."""
    import numba
    from nnbench import numba_parallel

    monkeypatch.setattr(numba_parallel, "MIN_WORK_PER_THREAD", 1)
    before = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    yield numba.get_num_threads()
    numba.set_num_threads(before)


def small_mnist(limit=24, width=16):
    """The mnist-leaky preset (leaky ReLU, softmax, cross-entropy) with a narrow hidden layer."""
    preset = networks.get("mnist-leaky").with_hidden(width)
    data = preset.load_data(limit=limit)
    return preset, data.X_train, data.Y_train


def train(name, dtype="float64", epochs=3, batch_size=5, **fit_options):
    preset, X, Y = small_mnist()
    impl = nnbench.create(name, preset.spec, preset.initial_params(), dtype=dtype)
    history = impl.fit(X, Y, epochs=epochs, lr=0.05, batch_size=batch_size, **fit_options)
    return impl.get_weights(), history.loss


def assert_bitwise_equal(first, second):
    for (W1, b1), (W2, b2) in zip(first, second):
        assert np.array_equal(W1, W2) and np.array_equal(b1, b2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_runs_give_the_same_bits(dtype):
    (weights, losses), (again, losses_again) = train("numba", dtype), train("numba", dtype)
    assert_bitwise_equal(weights, again)
    assert losses == losses_again


def test_one_call_for_many_epochs_equals_one_call_per_epoch():
    """fit hands all epochs to one compiled call; with a progress bar, a few at a time."""
    preset, X, Y = small_mnist()
    whole = nnbench.create("numba", preset.spec, preset.initial_params())
    losses = whole.fit(X, Y, epochs=4, lr=0.05, batch_size=5).loss
    stepwise = nnbench.create("numba", preset.spec, preset.initial_params())
    losses_stepwise = [stepwise.fit(X, Y, epochs=1, lr=0.05, batch_size=5).loss[0]
                       for _ in range(4)]
    assert_bitwise_equal(whole.get_weights(), stepwise.get_weights())
    assert losses == losses_stepwise


def test_train_step_is_one_full_batch_epoch():
    preset, X, Y = small_mnist()
    by_step = nnbench.create("numba", preset.spec, preset.initial_params())
    loss = by_step._train_step(X, Y, 0.05)
    by_fit = nnbench.create("numba", preset.spec, preset.initial_params())
    assert by_fit.fit(X, Y, epochs=1, lr=0.05).loss == [loss]
    assert_bitwise_equal(by_step.get_weights(), by_fit.get_weights())


def test_block_size_does_not_change_a_bit(numba_jit, monkeypatch):
    """A batch bigger than the scratch arrays is worked through in blocks of rows."""
    whole = train("numba", batch_size=24)
    monkeypatch.setattr(numba_jit, "MAX_ROWS", 7)  # blocks of 7, 7, 7, 3
    assert_bitwise_equal(train("numba", batch_size=24)[0], whole[0])


def test_a_large_batch_in_blocks_matches_the_reference(numba_jit, monkeypatch):
    monkeypatch.setattr(numba_jit, "MAX_ROWS", 5)
    preset, X, Y = small_mnist(limit=12)
    impl = nnbench.create("numba", preset.spec, preset.initial_params())
    ref = nnbench.create("numpy", preset.spec, preset.initial_params())
    loss, grads = impl.loss_and_grads(X, Y)
    ref_loss, ref_grads = ref.loss_and_grads(X, Y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert_params_close(grads, ref_grads, 1e-9, "gradient")


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-9), ("float32", 1e-4)])
def test_parallel_agrees_with_serial(two_threads, dtype, rtol):
    serial, serial_losses = train("numba", dtype)
    parallel, parallel_losses = train("numba-parallel", dtype)
    assert_params_close(parallel, serial, rtol, "weights")
    np.testing.assert_allclose(parallel_losses, serial_losses, rtol=rtol)


def test_parallel_repeats_itself_for_a_given_thread_count(two_threads):
    """The threads' partial gradients are added in a fixed order."""
    first, second = train("numba-parallel"), train("numba-parallel")
    assert_bitwise_equal(first[0], second[0])


def test_parallel_with_more_threads_than_samples(two_threads):
    """Batches of one sample leave all threads but one without work."""
    serial, _ = train("numba", epochs=1, batch_size=1)
    parallel, _ = train("numba-parallel", epochs=1, batch_size=1)
    assert_params_close(parallel, serial, 1e-9, "weights")
    preset, X, _ = small_mnist(limit=1)
    impl = nnbench.create("numba-parallel", preset.spec, preset.initial_params())
    reference = nnbench.create("numba", preset.spec, preset.initial_params())
    np.testing.assert_allclose(impl.predict(X), reference.predict(X), rtol=1e-12)


def test_small_batches_stay_on_one_thread():
    """XOR's batches of 4 are too little work to share: numba-parallel computes them serially."""
    preset = networks.get("xor")
    data = preset.load_data()
    parallel = nnbench.create("numba-parallel", preset.spec, preset.initial_params())
    assert len(parallel._chunks(4)[0]) == 1
    serial = nnbench.create("numba", preset.spec, preset.initial_params())
    for impl in (parallel, serial):
        impl.fit(data.X_train, data.Y_train, epochs=50, lr=preset.lr)
    assert_bitwise_equal(parallel.get_weights(), serial.get_weights())


def test_without_biases_b_stays_zero():
    preset = networks.get("xor-bias-column")
    data = preset.load_data()
    impl = nnbench.create("numba", preset.spec, preset.initial_params())
    _, grads = impl.loss_and_grads(data.X_train, data.Y_train)
    impl.fit(data.X_train, data.Y_train, epochs=20, lr=preset.lr)
    assert all(not db.any() for _, db in grads)
    assert all(not b.any() for _, b in impl.get_weights())


def test_float32_networks_compute_in_float32():
    preset, X, _ = small_mnist(limit=2)
    impl = nnbench.create("numba", preset.spec, preset.initial_params(), dtype="float32")
    assert impl.params.dtype == np.float32
    assert impl._forward(X.astype(np.float32)).dtype == np.float32


def test_training_stops_at_the_first_epoch_that_diverges():
    """The compiled loop does not run on through thousands of NaN epochs."""
    preset = networks.get("binary-reversal")
    data = preset.load_data()
    impl = nnbench.create("numba", preset.spec, preset.initial_params())
    with np.errstate(all="ignore"):
        losses = impl._train_epochs(data.X_train, data.Y_train, 3000, 50.0, 8)
    assert len(losses) < 3000
    assert not math.isfinite(losses[-1]) and all(math.isfinite(v) for v in losses[:-1])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_warm_up_returns_the_seconds_it_took(numba_jit, dtype):
    seconds = numba_jit.warm_up(dtype)
    assert isinstance(seconds, float) and 0 < seconds < math.inf
    assert 0 < numba_jit.warm_up(dtype, parallel=False) < math.inf


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=4),
       dtype=st.sampled_from(["float64", "float32", "int64"]))
def test_aligned_empty_starts_on_a_cache_line(shape, dtype):
    """(An empty array has no first number to place: NumPy may give it any address.)"""
    from nnbench.numba_jit import CACHE_LINE, aligned_empty

    array = aligned_empty(tuple(shape), dtype)
    assert array.shape == tuple(shape) and array.dtype == np.dtype(dtype)
    assert array.flags.c_contiguous and array.flags.writeable
    assert array.ctypes.data % CACHE_LINE == 0


@pytest.mark.parametrize("name", ["numba", "numba-parallel"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_array_the_kernels_loop_over_starts_on_a_cache_line(two_threads, name, dtype):
    """Where an array starts changes the speed of the same loops by up to a third (see
    CACHE_LINE): the weights, the gradient, the scratch arrays and each thread's rows."""
    from nnbench.numba_jit import CACHE_LINE

    preset, _, _ = small_mnist()
    impl = nnbench.create(name, preset.spec, preset.initial_params(), dtype=dtype)
    arrays = [impl.params, impl._gradient_array(), *impl._work(128)]
    if name == "numba-parallel":
        chunk_grads, chunk_work, _ = impl._chunks(128)
        assert len(chunk_grads) == two_threads
        arrays += [*chunk_grads, *(copy for work in chunk_work for copy in work)]
    assert all(array.ctypes.data % CACHE_LINE == 0 for array in arrays)
