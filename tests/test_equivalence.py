"""Every implementation computes what numpy_vec computes, from the same starting weights.

For every preset: forward outputs, the loss, every gradient, and the weights after training
steps, in each dtype the implementation has, on the case `nnbench verify` checks
(bench/verify.py `small_case`: MNIST presets with a hidden width of 16 on 8 real images; the
real 784-512-10 shape gets one step on 2 images below). A case an implementation declares it
cannot compute is checked to be refused, and skipped as "not supported: <reason>".
"""

import nnbench
import numpy as np
import pytest
from conftest import (
    assert_close,
    assert_params_close,
    impl_dtype_cases,
    rtol_for,
    supported_or_skip,
)
from nnbench import networks
from nnbench.bench.verify import small_case


def case(preset_name: str, name: str | None = None, dtype: str = "float64"):
    """(spec, params, X, Y, lr) for a preset: small, but the preset's own data and settings;
    given an implementation, only if it supports the preset in `dtype`."""
    preset, X, Y = small_case(preset_name)
    if name is not None:
        supported_or_skip(name, preset.spec, dtype)
    return preset.spec, preset.initial_params(), X, Y, preset.lr


PRESETS = list(networks.PRESETS)


def reference(preset_name, dtype):
    spec, params, *_ = case(preset_name)
    return nnbench.create("numpy", spec, params, dtype=dtype)


@pytest.mark.parametrize("preset_name", PRESETS)
@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_forward(name, dtype, preset_name):
    spec, params, X, Y, lr = case(preset_name, name, dtype)
    impl = nnbench.create(name, spec, params, dtype=dtype)
    assert_close(impl.predict(X), reference(preset_name, dtype).predict(X),
                 rtol_for(name, dtype), f"{name} outputs")


@pytest.mark.parametrize("preset_name", PRESETS)
@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_loss_and_gradients(name, dtype, preset_name):
    spec, params, X, Y, lr = case(preset_name, name, dtype)
    loss, grads = nnbench.create(name, spec, params, dtype=dtype).loss_and_grads(X, Y)
    ref_loss, ref_grads = reference(preset_name, dtype).loss_and_grads(X, Y)
    rtol = rtol_for(name, dtype)
    assert_close(loss, ref_loss, rtol, f"{name} loss")
    assert_params_close(grads, ref_grads, rtol, f"{name} gradient")


@pytest.mark.parametrize("preset_name", PRESETS)
@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_weights_after_five_steps(name, dtype, preset_name):
    spec, params, X, Y, lr = case(preset_name, name, dtype)
    impl, ref = nnbench.create(name, spec, params, dtype=dtype), reference(preset_name, dtype)
    history = impl.fit(X, Y, epochs=5, lr=lr)  # full batch: one step per epoch
    ref_history = ref.fit(X, Y, epochs=5, lr=lr)
    rtol = rtol_for(name, dtype)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, f"{name} weights")
    assert_close(history.loss, ref_history.loss, rtol, f"{name} loss per epoch")


@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_mini_batches_with_a_short_last_batch(name, dtype):
    """8 samples in batches of 3 (3, 3, 2), two epochs: same weights and epoch losses."""
    spec, params, X, Y, lr = case("mnist", name, dtype)
    impl, ref = nnbench.create(name, spec, params, dtype=dtype), reference("mnist", dtype)
    history = impl.fit(X, Y, epochs=2, lr=0.05, batch_size=3)
    ref_history = ref.fit(X, Y, epochs=2, lr=0.05, batch_size=3)
    rtol = rtol_for(name, dtype)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, f"{name} weights")
    assert_close(history.loss, ref_history.loss, rtol, f"{name} loss per epoch")


@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_shuffled_epochs_see_the_same_batches(name, dtype):
    spec, params, X, Y, lr = case("mnist-best", name, dtype)
    impl, ref = nnbench.create(name, spec, params, dtype=dtype), reference("mnist-best", dtype)
    impl.fit(X, Y, epochs=3, lr=lr, batch_size=4, shuffle=True, seed=7)
    ref.fit(X, Y, epochs=3, lr=lr, batch_size=4, shuffle=True, seed=7)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol_for(name, dtype),
                        f"{name} weights")


@pytest.mark.parametrize("name", [p.values[0] for p in impl_dtype_cases()
                                  if p.values[1] == "float64"])
def test_real_mnist_shape_one_step(name):
    """784-512-10 as the seed ran it, one step on 2 real images."""
    preset = networks.get("mnist")
    supported_or_skip(name, preset.spec, "float64")
    data = preset.load_data(limit=2)
    params = preset.initial_params()
    impl = nnbench.create(name, preset.spec, params)
    impl.fit(data.X_train, data.Y_train, epochs=1, lr=preset.lr)
    ref = nnbench.create("numpy", preset.spec, params)
    ref.fit(data.X_train, data.Y_train, epochs=1, lr=preset.lr)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol_for(name, "float64"),
                        f"{name} weights")


def test_starting_weights_are_not_changed_by_training():
    spec, params, X, Y, lr = case("xor")
    before = [(W.copy(), b.copy()) for W, b in params]
    nnbench.create("numpy", spec, params).fit(X, Y, epochs=3, lr=lr)
    for (W, b), (W0, b0) in zip(params, before):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)
