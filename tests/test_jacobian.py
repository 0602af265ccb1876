"""The explicit-Jacobian implementation's own claims (SEEDS A2, A3), beyond the shared suite.

- the long form (Jacobian products) and the short form (delta rule) give the same gradient;
- the softmax Jacobian has the properties the seed works out by hand;
- the memory estimate is what the long form really allocates, and the budget that guards it
  refuses the seed's 784-512-10 network with a message that says how to raise it.
"""

import tracemalloc

import nnbench
import numpy as np
import pytest
from conftest import assert_close, assert_params_close
from nnbench import jacobian, networks, numpy_vec
from nnbench.errors import InputError, InputTypeError, UnsupportedError
from nnbench.spec import NetworkSpec, init_params

MNIST = networks.get("mnist")


def preset_case(name, limit=8):
    preset = networks.get(name)
    if preset.spec.n_inputs == 784:
        preset = preset.with_hidden(16)
    data = preset.load_data(limit=limit)
    return preset.spec, preset.initial_params(), data.X_train, data.Y_train


@pytest.fixture(autouse=True)
def no_budget_from_the_environment(monkeypatch):
    monkeypatch.delenv(jacobian.BUDGET_ENV, raising=False)


# ---- long form == short form (SEEDS A2) ----


@pytest.mark.parametrize("preset_name", ["xor", "xor-bias-column", "digits", "mnist",
                                         "mnist-leaky", "binary-reversal"])
def test_long_form_equals_short_form(preset_name):
    spec, params, X, Y = preset_case(preset_name)
    impl = nnbench.create("jacobian", spec, params)
    loss, grads = impl.loss_and_grads(X, Y)
    short_loss, short_grads = impl.short_form_grads(X, Y)
    assert_close(short_loss, loss, 1e-10, "loss")
    assert_params_close(short_grads, grads, 1e-10, "short form")


@pytest.mark.parametrize("hidden,output", [("tanh", "softmax"), ("sigmoid", "relu"),
                                           ("leaky_relu", "linear")])
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-10), ("float32", 1e-5)])
def test_long_form_equals_short_form_with_mse_through_every_jacobian(hidden, output, dtype, rtol):
    """mse makes the chain start at dL/da and pass through the output's Jacobian (softmax too)."""
    spec = NetworkSpec((4, 6, 3), (hidden, output), "mse", alpha=0.2)
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(7, 4)), rng.uniform(size=(7, 3))
    impl = nnbench.create("jacobian", spec, init_params(spec, "uniform_sym", seed=2), dtype=dtype)
    loss, grads = impl.loss_and_grads(X, Y)
    short_loss, short_grads = impl.short_form_grads(X, Y)
    assert_close(short_loss, loss, rtol, "loss")
    assert_params_close(short_grads, grads, rtol, "short form")
    reference = nnbench.create("numpy", spec, impl.get_weights(), dtype)
    ref_loss, ref_grads = reference.loss_and_grads(X, Y)
    ref_rtol = 1e-9 if dtype == "float64" else 1e-4
    assert_close(loss, ref_loss, ref_rtol, "loss vs numpy")
    assert_params_close(grads, ref_grads, ref_rtol, "gradient vs numpy")


def test_short_form_leaves_the_weights_alone():
    spec, params, X, Y = preset_case("digits")
    impl = nnbench.create("jacobian", spec, params)
    impl.short_form_grads(X, Y)
    assert_params_close(impl.get_weights(), params, 0.0, "weights")


# ---- the Jacobians themselves ----


def test_softmax_jacobian_properties():
    """SEEDS A3: for a 5-vector S, diag(S) - S S^T is symmetric, rows sum to 0, diag S(1-S)."""
    z = np.random.default_rng(3).normal(size=5)
    S = numpy_vec.softmax(z)
    J = jacobian.softmax_jacobian(S)
    assert J.shape == (5, 5)
    np.testing.assert_allclose(J, J.T, rtol=0, atol=0)
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-16)
    np.testing.assert_allclose(np.diag(J), S * (1 - S), rtol=1e-15)
    # and it is the derivative: central differences of softmax, column by column
    h = 1e-6
    softmax = numpy_vec.softmax
    numeric = np.column_stack([(softmax(z + h * e) - softmax(z - h * e)) / (2 * h)
                               for e in np.eye(5)])
    np.testing.assert_allclose(J, numeric, atol=1e-9)


def test_seed_route_through_the_softmax_jacobian_gives_s_minus_y():
    """dL/da = -y/S chained through diag(S) - S S^T is S - y (where S is not tiny)."""
    S = numpy_vec.softmax(np.array([0.3, -1.2, 2.0, 0.1]))
    y = np.array([0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose((-y / S) @ jacobian.softmax_jacobian(S), S - y, atol=1e-15)


def test_cross_entropy_stays_finite_when_the_seed_route_would_not():
    """A confidently wrong softmax (S of the true class underflows to 0): dL/da = -y/S is
    infinite, but the gradient from the logits is finite and matches the reference."""
    spec = NetworkSpec((2, 3), ("softmax",), "categorical_crossentropy")
    params = [(np.array([[800.0, 0.0, -800.0], [0.0, 0.0, 0.0]]), np.zeros(3))]
    X, Y = np.array([[1.0, 0.0]]), np.array([[0.0, 0.0, 1.0]])
    impl = nnbench.create("jacobian", spec, params)
    assert impl.predict(X)[0, 2] == 0.0  # the seed's -y / S would divide by zero
    loss, grads = impl.loss_and_grads(X, Y)
    ref_loss, ref_grads = nnbench.create("numpy", spec, params).loss_and_grads(X, Y)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for pair in grads for g in pair)
    assert_close(loss, ref_loss, 1e-12, "loss")
    assert_params_close(grads, ref_grads, 1e-12, "gradient")


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_elementwise_activation_jacobians_are_diagonal(name):
    z = np.array([-1.5, -0.2, 0.0, 0.7, 2.0])
    a = numpy_vec.activate(name, z, 0.1)
    J = jacobian.activation_jacobian(name, z, a, 0.1)
    assert np.array_equal(J, np.diag(np.diag(J)))
    h = 1e-6
    activate = numpy_vec.activate
    numeric = (activate(name, z + h, 0.1) - activate(name, z - h, 0.1)) / (2 * h)
    kink = (z == 0) & (name in ("relu", "leaky_relu"))  # no derivative at 0
    np.testing.assert_allclose(np.diag(J)[~kink], numeric[~kink], atol=1e-8)


def test_weight_jacobian_is_the_kronecker_product_and_reshapes_into_w():
    rng = np.random.default_rng(0)
    a_prev, g = rng.normal(size=4), rng.normal(size=3)
    J = jacobian.weight_jacobian(a_prev, 3)
    assert J.shape == (3, 4 * 3)
    np.testing.assert_array_equal(J, np.kron(a_prev, np.eye(3)))
    # z = a_prev @ W is linear in W: J @ vec(W) reproduces z, and g @ J is outer(a_prev, g)
    W = rng.normal(size=(4, 3))
    np.testing.assert_allclose(J @ W.ravel(), a_prev @ W, rtol=1e-14)
    np.testing.assert_allclose((g @ J).reshape(4, 3), np.outer(a_prev, g), rtol=1e-15)


def test_bias_false_keeps_b_at_zero():
    spec, params, X, Y = preset_case("xor-bias-column")
    impl = nnbench.create("jacobian", spec, params)
    _, grads = impl.loss_and_grads(X, Y)
    assert all(not db.any() for _, db in grads)
    impl.fit(X, Y, epochs=3, lr=2.0)
    assert all(not b.any() for _, b in impl.get_weights())


# ---- memory: the estimate, and the budget ----


def test_full_mnist_is_refused_at_the_default_budget():
    with pytest.raises(UnsupportedError) as caught:
        nnbench.create("jacobian", MNIST.spec, MNIST.initial_params())
    message = str(caught.value)
    assert "\n" not in message
    for needed in ["1.65 GB", "dz/dW of layer 1 is 512 x 401408 float64 = 1.64 GB",
                   f"{jacobian.long_form_bytes(MNIST.spec):,} bytes", "1.07 GB", "the default",
                   "memory_budget=", jacobian.BUDGET_ENV, "--jacobian-budget"]:
        assert needed in message, f"{needed!r} missing from: {message}"


@pytest.mark.parametrize("budget", ["2GiB", 2**31, "1700MB", "1.7e9"])
def test_budget_raised_by_argument(budget):
    impl = nnbench.create("jacobian", MNIST.spec, MNIST.initial_params(), memory_budget=budget)
    assert impl.memory_budget >= jacobian.long_form_bytes(MNIST.spec)  # constructed, not run


def test_budget_raised_by_environment(monkeypatch):
    monkeypatch.setenv(jacobian.BUDGET_ENV, "4GiB")
    impl = nnbench.create("jacobian", MNIST.spec, MNIST.initial_params())
    assert impl.memory_budget == 4 * 2**30


def test_argument_wins_over_environment(monkeypatch):
    monkeypatch.setenv(jacobian.BUDGET_ENV, "4GiB")
    with pytest.raises(UnsupportedError, match="from memory_budget="):
        nnbench.create("jacobian", MNIST.spec, MNIST.initial_params(), memory_budget="100MB")


@pytest.mark.parametrize("value", ["lots", "4 GiBs", "-1GB", "GB", "0", "1e-3"])
def test_bad_environment_budget_is_a_clear_input_error(monkeypatch, value):
    monkeypatch.setenv(jacobian.BUDGET_ENV, value)
    with pytest.raises(InputError, match=jacobian.BUDGET_ENV):
        nnbench.create("jacobian", *preset_case("xor")[:2])


@pytest.mark.parametrize("value,error", [("lots", InputError), (0, InputError),
                                         (-5, InputError), (float("inf"), InputError),
                                         (True, InputTypeError), ([1], InputTypeError)])
def test_bad_budget_argument(value, error):
    with pytest.raises(error, match="memory_budget"):
        nnbench.create("jacobian", *preset_case("xor")[:2], memory_budget=value)


@pytest.mark.parametrize("text,expected", [
    ("2147483648", 2**31), ("4GiB", 4 * 2**30), ("500MB", 500 * 10**6), ("1.5GB", 15 * 10**8),
    (" 4 gib ", 4 * 2**30), ("4G", 4 * 2**30), ("512KiB", 512 * 1024), ("1e9", 10**9),
    ("64kB", 64_000), ("10B", 10)])
def test_parse_budget(text, expected):
    assert jacobian.parse_budget(text) == expected


def test_hidden_32_runs_at_the_default_budget():
    preset = MNIST.with_hidden(32)
    data = preset.load_data(limit=4)
    impl = nnbench.create("jacobian", preset.spec, preset.initial_params())
    ref = nnbench.create("numpy", preset.spec, preset.initial_params())
    impl.fit(data.X_train, data.Y_train, epochs=1, lr=preset.lr)
    ref.fit(data.X_train, data.Y_train, epochs=1, lr=preset.lr)
    assert_params_close(impl.get_weights(), ref.get_weights(), 1e-9, "weights")


def test_budget_is_checked_again_before_the_long_form_allocates():
    spec, params, X, Y = preset_case("mnist")
    impl = nnbench.create("jacobian", spec, params)
    impl.memory_budget = 1000
    with pytest.raises(UnsupportedError):
        impl.loss_and_grads(X, Y)
    impl.short_form_grads(X, Y)  # the short form needs no Jacobians


def test_long_form_bytes_grows_like_n_out_squared_times_n_in():
    def spec(n_in, hidden):
        return NetworkSpec((n_in, hidden, 10), ("relu", "softmax"), "categorical_crossentropy")

    for n_in, n_out in [(784, 16), (64, 30), (3, 1)]:
        layer = jacobian.long_form_breakdown(spec(n_in, n_out)).layers[0]
        assert layer.dz_dW == n_out * n_in * n_out * 8
    size = jacobian.long_form_bytes
    assert size(spec(784, 512)) / size(spec(784, 256)) == pytest.approx(4, rel=0.01)
    assert size(spec(1568, 256)) / size(spec(784, 256)) == pytest.approx(2, rel=0.01)
    assert size(spec(784, 256), "float32") * 2 == size(spec(784, 256))
    sizes = [size(spec(784, hidden)) for hidden in (8, 16, 32, 64, 128)]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)


def test_the_estimate_is_what_the_long_form_really_allocates():
    """numpy reports its buffers to tracemalloc: one sample's peak is the estimate, to 1%."""
    preset = MNIST.with_hidden(64)
    data = preset.load_data(limit=1)
    impl = nnbench.create("jacobian", preset.spec, preset.initial_params())
    X, Y = data.X_train.copy(), data.Y_train.copy()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        impl.loss_and_grads(X, Y)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert peak == pytest.approx(jacobian.long_form_bytes(preset.spec), rel=0.01)
