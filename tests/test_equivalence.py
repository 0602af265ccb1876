"""Every implementation computes what numpy_vec computes, from the same starting weights.

For every preset: forward outputs, the loss, every gradient, and the weights after training
steps, in each dtype the implementation has. MNIST presets run with a hidden width of 16 on 8
real images (the real 784-512-10 shape gets one step on 2 images below).
"""

import functools

import nnbench
import numpy as np
import pytest
from conftest import assert_close, assert_params_close, impl_dtype_cases, rtol_for
from nnbench import networks
from nnbench.errors import BudgetError


@functools.cache
def case(preset_name: str):
    """(spec, params, X, Y, lr) for a preset: small, but the preset's own data and settings."""
    preset = networks.get(preset_name)
    if preset.spec.n_inputs == 784:
        preset = preset.with_hidden(16)
    data = preset.load_data(limit=8)
    return preset.spec, preset.initial_params(), data.X_train, data.Y_train, preset.lr


PRESETS = list(networks.PRESETS)


def reference(preset_name, dtype):
    spec, params, *_ = case(preset_name)
    return nnbench.create("numpy", spec, params, dtype=dtype)


@pytest.mark.parametrize("preset_name", PRESETS)
@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_forward(name, dtype, preset_name):
    spec, params, X, Y, lr = case(preset_name)
    impl = nnbench.create(name, spec, params, dtype=dtype)
    assert_close(impl.predict(X), reference(preset_name, dtype).predict(X),
                 rtol_for(name, dtype), f"{name} outputs")


@pytest.mark.parametrize("preset_name", PRESETS)
@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_loss_and_gradients(name, dtype, preset_name):
    spec, params, X, Y, lr = case(preset_name)
    loss, grads = nnbench.create(name, spec, params, dtype=dtype).loss_and_grads(X, Y)
    ref_loss, ref_grads = reference(preset_name, dtype).loss_and_grads(X, Y)
    rtol = rtol_for(name, dtype)
    assert_close(loss, ref_loss, rtol, f"{name} loss")
    assert_params_close(grads, ref_grads, rtol, f"{name} gradient")


@pytest.mark.parametrize("preset_name", PRESETS)
@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_weights_after_five_steps(name, dtype, preset_name):
    spec, params, X, Y, lr = case(preset_name)
    impl, ref = nnbench.create(name, spec, params, dtype=dtype), reference(preset_name, dtype)
    history = impl.fit(X, Y, epochs=5, lr=lr)  # full batch: one step per epoch
    ref_history = ref.fit(X, Y, epochs=5, lr=lr)
    rtol = rtol_for(name, dtype)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, f"{name} weights")
    assert_close(history.loss, ref_history.loss, rtol, f"{name} loss per epoch")


@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_mini_batches_with_a_short_last_batch(name, dtype):
    """8 samples in batches of 3 (3, 3, 2), two epochs: same weights and epoch losses."""
    spec, params, X, Y, lr = case("mnist-leaky")
    impl, ref = nnbench.create(name, spec, params, dtype=dtype), reference("mnist-leaky", dtype)
    history = impl.fit(X, Y, epochs=2, lr=0.05, batch_size=3)
    ref_history = ref.fit(X, Y, epochs=2, lr=0.05, batch_size=3)
    rtol = rtol_for(name, dtype)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, f"{name} weights")
    assert_close(history.loss, ref_history.loss, rtol, f"{name} loss per epoch")


@pytest.mark.parametrize("name,dtype", impl_dtype_cases())
def test_shuffled_epochs_see_the_same_batches(name, dtype):
    spec, params, X, Y, lr = case("digits")
    impl, ref = nnbench.create(name, spec, params, dtype=dtype), reference("digits", dtype)
    impl.fit(X, Y, epochs=3, lr=lr, batch_size=4, shuffle=True, seed=7)
    ref.fit(X, Y, epochs=3, lr=lr, batch_size=4, shuffle=True, seed=7)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol_for(name, dtype),
                        f"{name} weights")


@pytest.mark.parametrize("name", [p.values[0] for p in impl_dtype_cases()
                                  if p.values[1] == "float64"])
def test_real_mnist_shape_one_step(name):
    """784-512-10 as the seed ran it, one step on 2 real images."""
    preset = networks.get("mnist")
    data = preset.load_data(limit=2)
    params = preset.initial_params()
    try:
        impl = nnbench.create(name, preset.spec, params)
        impl.fit(data.X_train, data.Y_train, epochs=1, lr=preset.lr)
    except BudgetError:
        assert name == "jacobian", f"{name} refused the real MNIST shape"
        return
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
