"""numpy_vec's gradients equal central finite differences of its own loss.

This is what makes numpy_vec a reference: the equivalence suite holds every other
implementation to it, and this file holds it to calculus.
"""

import nnbench
import numpy as np
import pytest
from conftest import assert_close
from nnbench.spec import NetworkSpec, init_params

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUTS = [  # (last activation, loss): every loss, with each output it accepts
    *[(act, "mse") for act in ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"]],
    ("sigmoid", "binary_crossentropy"),
    ("softmax", "categorical_crossentropy"),
]


def finite_difference_grads(impl, X, Y, h=1e-6):
    params = impl.get_weights()
    grads = []
    for W, b in params:
        layer_grads = []
        for array in (W, b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                original = array[index]
                array[index] = original + h
                impl.set_weights(params)
                plus = impl.loss_and_grads(X, Y)[0]
                array[index] = original - h
                impl.set_weights(params)
                minus = impl.loss_and_grads(X, Y)[0]
                array[index] = original
                grad[index] = (plus - minus) / (2 * h)
            layer_grads.append(grad)
        grads.append(tuple(layer_grads))
    impl.set_weights(params)
    return grads


def targets(rng, n, k, loss):
    if loss == "categorical_crossentropy":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.uniform(0, 1, (n, k))


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss", OUTPUTS)
def test_gradients_match_finite_differences(hidden, output, loss):
    rng = np.random.default_rng(hash((hidden, output, loss)) % 2**32)
    spec = NetworkSpec((3, 4, 3), (hidden, output), loss, alpha=0.1)
    impl = nnbench.create("numpy", spec, init_params(spec, "uniform_sym", seed=1))
    X = rng.normal(size=(5, 3))
    Y = targets(rng, 5, 3, loss)
    _, grads = impl.loss_and_grads(X, Y)
    numeric = finite_difference_grads(impl, X, Y)
    for (dW, db), (nW, nb) in zip(grads, numeric):
        assert_close(dW, nW, 1e-6, f"{hidden}/{output}/{loss} W")
        assert_close(db, nb, 1e-6, f"{hidden}/{output}/{loss} b")


def test_no_bias_means_zero_bias_gradients():
    spec = NetworkSpec((3, 5, 1), ("sigmoid", "sigmoid"), "mse", bias=False)
    impl = nnbench.create("numpy", spec, init_params(spec, "uniform_pos", 0))
    _, grads = impl.loss_and_grads(np.ones((4, 3)), np.zeros((4, 1)))
    assert all(np.all(db == 0) for _, db in grads)
    assert any(np.any(dW != 0) for dW, _ in grads)
