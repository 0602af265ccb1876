"""Bad input to the library: one clear error of nnbench's own type, naming what was wrong.

Each case is (what is tried, the error type, a fragment the message must contain). The CLI's
side (one line, exit status 2) is in test_cli.py. docs/errors.md lists these.
"""

import re

import nnbench
import numpy as np
import pytest
from conftest import IMPLEMENTATIONS
from nnbench import data, networks
from nnbench.errors import DataError, InputError, InputTypeError, NNBenchError, UnknownNameError
from nnbench.spec import NetworkSpec, init_params

XOR = networks.get("xor")
MNIST_SMALL = networks.get("mnist").with_hidden(4)


def xor_impl(name="numpy"):
    return nnbench.create(name, XOR.spec, XOR.initial_params())


def mnist_impl(name="numpy"):
    return nnbench.create(name, MNIST_SMALL.spec, MNIST_SMALL.initial_params())


X4, Y4 = data.xor().X_train, data.xor().Y_train

CASES = {
    # data of the wrong shape
    "X too wide": (lambda i: i.predict(np.zeros((4, 3))), InputError,
                   "X has 3 columns, the network expects 2"),
    "X of rank 1": (lambda i: i.predict(np.zeros(2)), InputError, "must be 2-D"),
    "X of rank 3": (lambda i: i.predict(np.zeros((1, 4, 2))), InputError, "must be 2-D"),
    "Y too wide": (lambda i: i.fit(X4, np.zeros((4, 2))), InputError,
                   "Y has 2 columns, the network expects 1"),
    "X and Y lengths differ": (lambda i: i.fit(X4, Y4[:3]), InputError,
                               "X has 4 samples but Y has 3"),
    "empty batch": (lambda i: i.predict(np.zeros((0, 2))), InputError, "empty"),
    # values that are not finite real numbers
    "NaN in X": (lambda i: i.predict(np.array([[0.0, np.nan]])), InputError, "NaN or infinity"),
    "infinity in Y": (lambda i: i.loss_and_grads(X4, np.full((4, 1), np.inf)), InputError,
                      "NaN or infinity"),
    "NaN in weights": (lambda i: i.set_weights([(np.full((2, 2), np.nan), np.zeros(2)),
                                                (np.zeros((2, 1)), np.zeros(1))]),
                       InputError, "W of layer 1 contains NaN"),
    "weights of the wrong shape": (lambda i: i.set_weights([(np.zeros((3, 2)), np.zeros(2)),
                                                            (np.zeros((2, 1)), np.zeros(1))]),
                                   InputError, "expected (2, 2)"),
    "object array": (lambda i: i.predict(np.array([["a", "b"]], dtype=object)), InputTypeError,
                     "real numbers"),
    "string array": (lambda i: i.predict(np.array([["0", "1"]])), InputTypeError,
                     "real numbers"),
    # targets the loss cannot take
    "BCE target outside [0, 1]": (lambda i: i.fit(X4, Y4 * 2), InputError, "targets in [0, 1]"),
    # training settings
    "learning rate 0": (lambda i: i.fit(X4, Y4, lr=0), InputError, "learning rate"),
    "learning rate NaN": (lambda i: i.fit(X4, Y4, lr=float("nan")), InputError, "learning rate"),
    "learning rate a string": (lambda i: i.fit(X4, Y4, lr="0.1"), InputTypeError,
                               "learning rate"),
    "epochs 0": (lambda i: i.fit(X4, Y4, epochs=0), InputError, "epochs must be at least 1"),
    "epochs 1.5": (lambda i: i.fit(X4, Y4, epochs=1.5), InputTypeError, "epochs must be"),
    "batch size 0": (lambda i: i.fit(X4, Y4, batch_size=0), InputError, "batch size"),
    "batch size over the data": (lambda i: i.fit(X4, Y4, batch_size=5), InputError,
                                 "larger than the data"),
}

MNIST_CASES = {
    "Y not one-hot for categorical_crossentropy": (
        lambda i: i.fit(np.zeros((2, 784)), np.full((2, 10), 0.5)), InputError, "one-hot"),
}


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_to_an_implementation(name, case):
    attempt, error, fragment = CASES[case]
    impl = xor_impl(name)
    before = impl.get_weights()
    with pytest.raises(error, match=re.escape(fragment)) as info:
        attempt(impl)
    assert isinstance(info.value, NNBenchError)
    for (W, b), (W0, b0) in zip(impl.get_weights(), before):  # nothing was lost
        assert np.array_equal(W, W0) and np.array_equal(b, b0)


@pytest.mark.parametrize("case", list(MNIST_CASES))
def test_bad_targets_for_mnist(case):
    attempt, error, fragment = MNIST_CASES[case]
    with pytest.raises(error, match=fragment):
        attempt(mnist_impl())


@pytest.mark.parametrize("make,fragment", [
    (lambda: nnbench.create("nope", XOR.spec, XOR.initial_params()), "unknown implementation"),
    (lambda: networks.get("nope"), "unknown preset"),
    (lambda: nnbench.create("numpy", XOR.spec, XOR.initial_params(), dtype="float16"),
     "unknown dtype 'float16'; expected one of: float32, float64"),
    (lambda: NetworkSpec((2, 1), ("swish",), "mse"), "unknown activation 'swish'"),
    (lambda: NetworkSpec((2, 1), ("sigmoid",), "hinge"), "unknown loss 'hinge'"),
    (lambda: init_params(XOR.spec, "orthogonal"), "unknown init scheme"),
    (lambda: data.load("cifar"), "unknown dataset"),
])
def test_unknown_names_list_the_valid_ones(make, fragment):
    with pytest.raises(UnknownNameError, match=fragment):
        make()


@pytest.mark.parametrize("make,fragment", [
    (lambda: NetworkSpec((2,), (), "mse"), "at least 2 sizes"),
    (lambda: NetworkSpec((2, 0, 1), ("relu", "sigmoid"), "mse"), "at least 1"),
    (lambda: NetworkSpec((2, 3, 1), ("relu",), "mse"), "need 2 activations"),
    (lambda: NetworkSpec((2, 3, 1), ("softmax", "sigmoid"), "mse"), "only supported as the last"),
    (lambda: NetworkSpec((2, 3), ("relu",), "categorical_crossentropy"), "needs a softmax"),
    (lambda: NetworkSpec((2, 1), ("relu",), "binary_crossentropy"), "needs a sigmoid"),
    (lambda: XOR.spec.with_hidden(0), "hidden width must be an integer >= 1"),
    (lambda: networks.get("copy-first-input").with_hidden(4), "no hidden layer"),
    (lambda: data.mnist(limit=0), "limit must be"),
])
def test_impossible_networks_and_settings(make, fragment):
    with pytest.raises(InputError, match=fragment):
        make()


def test_integer_arrays_are_accepted_after_conversion():
    impl = xor_impl()
    X_int = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)
    assert np.array_equal(impl.predict(X_int), impl.predict(X_int.astype(float)))


def test_labels_outside_0_to_9_are_refused():
    with pytest.raises(DataError, match=r"labels must be in 0..9"):
        data.one_hot(np.array([3, 12]))


def test_errors_are_also_the_builtin_types():
    assert issubclass(InputError, ValueError) and issubclass(InputTypeError, TypeError)
