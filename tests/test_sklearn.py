"""What only the scikit-learn row needs checking: which networks it declines and why, that
it equals numpy_vec on networks it can express beyond the presets (tests/test_equivalence.py
holds it to numpy on every preset it supports), and the corners of partial_fit (classes
missing from a batch, a learning rate that changes between calls, non-finite weights,
targets that are not labels).
"""

import nnbench
import numpy as np
import pytest
from conftest import IMPLEMENTATIONS, assert_close, assert_params_close
from nnbench import networks
from nnbench.bench.verify import small_case
from nnbench.errors import DivergenceError, UnsupportedError
from nnbench.spec import NetworkSpec, init_params
from nnbench.tolerance import RTOL, largest_relative_error

pytestmark = pytest.mark.skipif("sklearn" not in IMPLEMENTATIONS,
                                reason="scikit-learn is not installed")

SUPPORTED = ["xor", "mnist", "mnist-best", "binary-reversal"]
DECLINED = {
    "xor-keras": "MLPRegressor's output layer is linear",
    "xor-bias-column": "always have biases",
    "copy-first-input": "always have biases",
    "feedforward-example": "MLPRegressor's output layer is linear",
    "digits": "MLPRegressor's output layer is linear",
    "mnist-leaky": "no leaky_relu",
}
DTYPES = ["float64", "float32"]


def sklearn_class():
    return nnbench.get_class("sklearn")


def case(preset_name: str):
    """(spec, params, X, Y, lr): the small case of `nnbench verify` and the equivalence tests."""
    preset, X, Y = small_case(preset_name)
    return preset.spec, preset.initial_params(), X, Y, preset.lr


def pair(spec, params, dtype):
    return (nnbench.create("sklearn", spec, params, dtype=dtype),
            nnbench.create("numpy", spec, params, dtype=dtype))


def test_every_preset_is_listed_here():
    assert set(SUPPORTED) | set(DECLINED) == set(networks.PRESETS)


@pytest.mark.parametrize("preset_name", list(networks.PRESETS))
def test_supports_exactly_the_presets_it_can_express(preset_name):
    spec = networks.get(preset_name).spec
    reason = sklearn_class().supports(spec, "float64")
    if preset_name in SUPPORTED:
        assert reason is None
        return
    assert reason is not None and DECLINED[preset_name] in reason
    with pytest.raises(UnsupportedError) as info:
        nnbench.create("sklearn", spec, init_params(spec))
    assert reason in str(info.value) and info.value.reason == reason


@pytest.mark.parametrize("spec,fragment", [
    (NetworkSpec((3, 4, 4, 2), ("tanh", "relu", "linear"), "mse"), "one activation"),
    (NetworkSpec((3, 4, 2), ("relu", "softmax"), "categorical_crossentropy"), "3 or more"),
    (NetworkSpec((3, 1), ("softmax",), "categorical_crossentropy"), "3 or more"),
    (NetworkSpec((3, 4, 2), ("relu", "softmax"), "mse"), "needs a linear output"),
    (NetworkSpec((3, 4, 2), ("relu", "tanh"), "mse"), "needs a linear output"),
])
def test_supports_names_each_limit(spec, fragment):
    for dtype in DTYPES:
        reason = sklearn_class().supports(spec, dtype)
        assert reason is not None and fragment in reason


@pytest.mark.parametrize("spec", [
    NetworkSpec((3, 4, 4, 3), ("tanh", "tanh", "sigmoid"), "binary_crossentropy"),  # multilabel
    NetworkSpec((3, 5, 2), ("sigmoid", "linear"), "mse"),
    NetworkSpec((3, 4, 3), ("linear", "softmax"), "categorical_crossentropy"),
    NetworkSpec((3, 1), ("sigmoid",), "binary_crossentropy"),
], ids=["multilabel", "regressor-2-outputs", "linear-hidden-softmax", "no-hidden-logistic"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_other_expressible_networks_equal_numpy(spec, dtype):
    rng = np.random.default_rng(4)
    X = rng.normal(0, 1, (7, spec.n_inputs))
    if spec.loss == "mse":
        Y = rng.normal(0, 1, (7, spec.n_outputs))
    elif spec.loss == "binary_crossentropy":
        Y = rng.integers(0, 2, (7, spec.n_outputs)).astype(float)
    else:
        Y = np.eye(spec.n_outputs)[rng.integers(0, spec.n_outputs, 7)]
    params = init_params(spec, "glorot_uniform", seed=2)
    impl, ref = pair(spec, params, dtype)
    rtol = RTOL[dtype]
    assert sklearn_class().supports(spec, dtype) is None
    assert_close(impl.predict(X), ref.predict(X), rtol, "outputs")
    (loss, grads), (ref_loss, ref_grads) = impl.loss_and_grads(X, Y), ref.loss_and_grads(X, Y)
    assert_close(loss, ref_loss, rtol, "loss")
    assert_params_close(grads, ref_grads, rtol, "gradient")
    history = impl.fit(X, Y, epochs=3, lr=0.3, batch_size=3)
    ref_history = ref.fit(X, Y, epochs=3, lr=0.3, batch_size=3)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, "trained weights")
    assert_close(history.loss, ref_history.loss, rtol, "loss per epoch")


@pytest.mark.parametrize("dtype", DTYPES)
def test_subsets_missing_some_classes_still_train(dtype):
    spec, params, X, Y, lr = case("mnist")
    impl, ref = pair(spec, params, dtype)
    labels = Y.argmax(axis=1)
    for subset in (slice(0, 2), slice(2, 5), slice(5, 6)):
        assert len(set(labels[subset])) < spec.n_outputs  # some classes are missing
        impl.fit(X[subset], Y[subset], epochs=2, lr=lr)
        ref.fit(X[subset], Y[subset], epochs=2, lr=lr)
    assert set(labels[2:5]) - set(labels[0:2])  # a later subset brings classes the first lacked
    assert_params_close(impl.get_weights(), ref.get_weights(), RTOL[dtype], "weights")


@pytest.mark.parametrize("attempt", ["fit", "loss_and_grads"])
def test_softmax_targets_that_are_not_one_hot_are_refused(attempt):
    spec, params, X, Y, lr = case("mnist")
    soft = Y.copy()
    soft[3] = 0.0
    soft[3, :2] = 0.5  # a probability row: fine for the loss, not a class label
    impl = nnbench.create("sklearn", spec, params)
    with pytest.raises(UnsupportedError, match="one-hot rows in Y, row 3") as info:
        getattr(impl, attempt)(X, soft)
    assert "class labels" in info.value.reason
    assert_params_close(impl.get_weights(), params, 0.0, "weights after the refusal")
    impl.fit(X, Y, epochs=1, lr=lr)  # and it still trains on proper targets


def test_binary_targets_that_are_not_labels_are_refused():
    spec, params, X, Y, lr = case("xor")
    soft = Y.copy()
    soft[1] = 0.25
    impl = nnbench.create("sklearn", spec, params)
    for attempt in (lambda: impl.fit(X, soft, lr=lr), lambda: impl.loss_and_grads(X, soft)):
        with pytest.raises(UnsupportedError, match="exactly 0 or 1, row 1"):
            attempt()
    assert_params_close(impl.get_weights(), params, 0.0, "weights after the refusal")


@pytest.mark.parametrize("preset_name", SUPPORTED)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_new_learning_rate_between_fits_is_honoured(preset_name, dtype):
    spec, params, X, Y, lr = case(preset_name)
    impl, ref = pair(spec, params, dtype)
    stale = nnbench.create("numpy", spec, params, dtype=dtype)
    for rate in (lr, 5 * lr, lr):
        impl.fit(X, Y, epochs=2, lr=rate, batch_size=3)
        ref.fit(X, Y, epochs=2, lr=rate, batch_size=3)
        stale.fit(X, Y, epochs=2, lr=lr, batch_size=3)
    rtol = RTOL[dtype]
    assert largest_relative_error(stale.get_weights(), ref.get_weights()) > 100 * rtol
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, "weights")
    step_impl, step_ref = pair(spec, params, dtype)  # single steps, each at its own rate
    for rate in (lr, 3 * lr):
        assert_close(step_impl._train_step(X, Y, rate), step_ref._train_step(X, Y, rate), rtol,
                     "step loss")
    assert_params_close(step_impl.get_weights(), step_ref.get_weights(), rtol, "step weights")


def test_divergence_stops_at_the_same_epoch_as_numpy():
    """scikit-learn raises its own ValueError on non-finite weights; it becomes ours."""
    preset = networks.get("binary-reversal")
    data = preset.load_data()
    messages = []
    for name in ("sklearn", "numpy"):
        impl = nnbench.create(name, preset.spec, preset.initial_params())
        with pytest.raises(DivergenceError) as info, np.errstate(all="ignore"):
            impl.fit(data.X_train, data.Y_train, epochs=3000, lr=50.0, batch_size=8)
        messages.append(str(info.value).split(": ", 1)[1])
    assert messages[0] == messages[1]
