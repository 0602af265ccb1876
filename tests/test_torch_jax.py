"""What only PyTorch and JAX need checking: global state left alone, torch.compile, determinism.

The equivalence suite already holds both to numpy_vec; these are the framework's own promises
(see the docstrings of impls/torch_impl.py and impls/jax_impl.py).
"""

import shutil
import subprocess
import sys
import warnings

import nnbench
import numpy as np
import pytest
from conftest import assert_close, assert_params_close
from nnbench.spec import NetworkSpec, init_params

SPEC = NetworkSpec((6, 5, 3), ("tanh", "softmax"), "categorical_crossentropy")


def data(n=7, spec=SPEC, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, spec.n_inputs))
    if spec.loss == "categorical_crossentropy":
        return X, np.eye(spec.n_outputs)[rng.integers(0, spec.n_outputs, n)]
    return X, rng.uniform(0, 1, (n, spec.n_outputs))


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def jax():
    return pytest.importorskip("jax")


# ---- imports are quiet ----


def test_importing_torch_and_jax_implementations_prints_nothing():
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    done = subprocess.run([sys.executable, "-c", "import nnbench.torch_impl, nnbench.jax_impl"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


# ---- JAX: float64 through a context, never a global switch ----


def test_jax_float64_does_not_switch_x64_on_for_anybody_else(jax):
    import jax.numpy as jnp

    before = jax.config.jax_enable_x64
    X, Y = data()
    impl = nnbench.create("jax", SPEC, init_params(SPEC, seed=1), dtype="float64")
    impl.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    impl.predict(X)
    impl.loss_and_grads(X, Y)
    assert jax.config.jax_enable_x64 == before
    assert jnp.zeros(1).dtype == (jnp.float64 if before else jnp.float32)
    # ... and yet it computed in float64: closer to numpy than float32 ever could be.
    assert impl.params[0][0].dtype == jnp.float64
    ref = nnbench.create("numpy", SPEC, init_params(SPEC, seed=1))
    ref.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    assert_params_close(impl.get_weights(), ref.get_weights(), 1e-12, "jax float64")


def test_jax_float32_keeps_float32_and_the_users_own_x64_setting(jax):
    import jax.numpy as jnp

    X, Y = data()
    with jax.enable_x64(True):  # a user who runs JAX in 64-bit themselves
        impl = nnbench.create("jax", SPEC, init_params(SPEC, seed=1), dtype="float32")
        impl.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
        assert jnp.zeros(1).dtype == jnp.float64  # still theirs after our calls
    assert impl.params[0][0].dtype == jnp.float32
    ref = nnbench.create("numpy", SPEC, init_params(SPEC, seed=1), dtype="float32")
    ref.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    assert_params_close(impl.get_weights(), ref.get_weights(), 1e-4, "jax float32")


# ---- PyTorch: no global state touched ----


def test_torch_draws_no_random_numbers_and_keeps_the_thread_count(torch):
    rng_state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    X, Y = data()
    impl = nnbench.create("torch", SPEC, init_params(SPEC, seed=1))
    impl.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    assert torch.get_num_threads() == threads


def test_torch_takes_read_only_arrays_without_a_warning(torch):
    X, Y = data()
    X.setflags(write=False)
    Y.setflags(write=False)
    impl = nnbench.create("torch", SPEC, init_params(SPEC, seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        impl.predict(X)
        impl.loss_and_grads(X, Y)
        impl.fit(X, Y, epochs=1, lr=0.1)


# ---- torch.compile: the same numbers as eager ----


def has_cxx_compiler():
    return any(shutil.which(name) for name in ("g++", "c++", "clang++"))


@pytest.mark.skipif(not has_cxx_compiler(), reason="torch.compile on the CPU needs a C++ compiler")
# torch's own compiler stack imports a deprecated torch.jit helper; not ours to fix.
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_torch_compile_equals_eager_and_each_instance_keeps_its_own_graphs(torch, monkeypatch):
    """Compiled = eager (float64, 1e-12), through a short last batch and a second network.

    Each instance needs up to 3 graphs of the same method (batch 3, batch 1, all 7 samples);
    with Dynamo's per-function limit lowered to 3, two instances sharing one set of graphs
    would exceed it (fullgraph=True makes that an error rather than a silent eager run).
    """
    monkeypatch.setattr(torch._dynamo.config, "recompile_limit", 3)
    for spec in (SPEC, NetworkSpec((6, 4, 2), ("relu", "sigmoid"), "binary_crossentropy")):
        X, Y = data(spec=spec)
        params = init_params(spec, seed=2)
        compiled = nnbench.create("torch", spec, params, compile=True)
        eager = nnbench.create("torch", spec, params)
        history = compiled.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
        eager_history = eager.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
        assert_close(history.loss, eager_history.loss, 1e-12, "loss per epoch")
        assert_params_close(compiled.get_weights(), eager.get_weights(), 1e-12, "weights")
        assert_close(compiled.predict(X), eager.predict(X), 1e-12, "outputs")
        loss, grads = compiled.loss_and_grads(X, Y)
        eager_loss, eager_grads = eager.loss_and_grads(X, Y)
        assert_close(loss, eager_loss, 1e-12, "loss")
        assert_params_close(grads, eager_grads, 1e-12, "gradients")


# ---- determinism: the same run twice gives the same bits ----


@pytest.mark.parametrize("name", ["torch", "jax"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_identical_runs_are_bitwise_equal(name, dtype):
    if nnbench.available()[name].ok is False:
        pytest.skip(nnbench.available()[name].reason)
    spec = NetworkSpec((64, 48, 10), ("relu", "softmax"), "categorical_crossentropy")
    X, Y = data(n=100, spec=spec, seed=3)
    runs = []
    for _ in range(2):
        impl = nnbench.create(name, spec, init_params(spec, "he_normal", seed=4), dtype=dtype)
        history = impl.fit(X, Y, epochs=3, lr=0.1, batch_size=32)
        runs.append((history.loss, impl.get_weights()))
    (loss_a, weights_a), (loss_b, weights_b) = runs
    assert loss_a == loss_b
    for (W_a, b_a), (W_b, b_b) in zip(weights_a, weights_b):
        assert np.array_equal(W_a, W_b) and np.array_equal(b_a, b_b)
