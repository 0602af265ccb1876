"""Training that goes wrong: divergence stops with a clear error; extreme inputs stay finite."""

import warnings

import nnbench
import numpy as np
import pytest
from conftest import (
    OTHERS,
    assert_close,
    assert_params_close,
    impl_dtype_cases,
    rtol_for,
    supported_or_skip,
)
from nnbench import networks
from nnbench.errors import DivergenceError, UnsupportedError
from nnbench.spec import NetworkSpec


@pytest.mark.parametrize("name", [p.values[0] for p in impl_dtype_cases(["numpy", *OTHERS])
                                  if p.values[1] == "float64"])
def test_divergence_names_the_epoch_and_suggests_a_smaller_rate(name):
    preset = networks.get("binary-reversal")  # linear + mse: a large rate blows up geometrically
    data = preset.load_data()
    impl = nnbench.create(name, preset.spec, preset.initial_params())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own overflow notices
        with pytest.raises(DivergenceError, match=r"at epoch \d+; try a smaller learning rate"):
            impl.fit(data.X_train, data.Y_train, epochs=3000, lr=50.0, batch_size=8)


def extreme_case(output, loss):
    """One layer whose pre-activations are exactly +-1000, so outputs saturate to 0 and 1."""
    spec = NetworkSpec((2, 2), (output,), loss)
    params = [(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), np.zeros(2))]
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    if loss == "categorical_crossentropy":
        Y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])  # the confident, wrong answers too
    else:
        Y = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    return spec, params, X, Y


EXTREMES = [("sigmoid", "binary_crossentropy"), ("sigmoid", "mse"),
            ("softmax", "categorical_crossentropy"), ("softmax", "mse")]


@pytest.mark.parametrize("output,loss", EXTREMES)
@pytest.mark.parametrize("name,dtype", impl_dtype_cases(["numpy", *OTHERS]))
def test_saturated_outputs_give_finite_loss_and_gradients(name, dtype, output, loss):
    spec, params, X, Y = extreme_case(output, loss)
    supported_or_skip(name, spec, dtype)
    impl = nnbench.create(name, spec, params, dtype=dtype)
    outputs = impl.predict(X)
    try:
        value, grads = impl.loss_and_grads(X, Y)
    except UnsupportedError as exc:  # declined for these targets (the 0.5 row), with why
        pytest.skip(f"not supported: {exc.reason}")
    assert np.all(np.isfinite(outputs)) and np.isfinite(value)
    assert all(np.all(np.isfinite(dW)) and np.all(np.isfinite(db)) for dW, db in grads)
    assert set(np.round(outputs[:2].ravel(), 6)) <= {0.0, 1.0}  # really saturated
    ref = nnbench.create("numpy", spec, params, dtype=dtype)
    ref_value, ref_grads = ref.loss_and_grads(X, Y)
    rtol = rtol_for(name, dtype)
    assert_close(outputs, ref.predict(X), rtol, f"{name} outputs")
    assert_close(value, ref_value, rtol, f"{name} loss")
    assert_params_close(grads, ref_grads, rtol, f"{name} gradients")


def test_cross_entropy_of_confident_wrong_answers_is_large_but_finite():
    spec, params, X, Y = extreme_case("softmax", "categorical_crossentropy")
    value, _ = nnbench.create("numpy", spec, params).loss_and_grads(X, Y)
    # Samples 1 and 2 put all mass on the wrong class with a margin of 2000: loss 2000 each;
    # sample 3 has equal logits: loss log 2.
    assert value == pytest.approx((2000 + 2000 + np.log(2)) / 3, rel=1e-12)
