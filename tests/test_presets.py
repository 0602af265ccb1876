"""The presets reproduce the seed write-ups' settings, including their cost conventions."""

import math

import nnbench
import numpy as np
import pytest
from nnbench import networks


def test_feedforward_example_gives_the_published_output():
    preset = networks.get("feedforward-example")
    data = preset.load_data()
    for name in [n for n, ok in nnbench.available().items() if ok]:
        if nnbench.get_class(name).supports(preset.spec, "float64") is not None:
            continue  # declined, with its reason: tests/test_equivalence.py checks the refusal
        impl = nnbench.create(name, preset.spec, preset.initial_params())
        output = impl.predict(data.X_train)[0, 0]
        # The write-up printed 0.8354: the output 0.83546 cut (not rounded) to 4 decimals.
        assert math.floor(output * 1e4) / 1e4 == 0.8354, (name, output)


@pytest.mark.parametrize("name", list(networks.PRESETS))
def test_every_preset_builds_and_its_data_fits(name):
    preset = networks.get(name)
    params = preset.initial_params()
    assert [W.shape for W, _ in params] == preset.spec.layer_shapes
    data = preset.load_data(limit=5)
    assert data.X_train.shape[1] == preset.spec.n_inputs
    assert data.Y_train.shape[1] == preset.spec.n_outputs
    assert preset.source and preset.notes


def seed_update(params, X, Y, lr, average):
    """One step of the write-ups' own rule: half the summed squared error of sigmoid layers,
    backpropagated by hand, optionally averaged over the m samples (SEEDS B3)."""
    activations = [X]
    for W, b in params:
        activations.append(1 / (1 + np.exp(-(activations[-1] @ W + b))))
    a = activations[-1]
    delta = (a - Y) * a * (1 - a)
    new = []
    for layer in reversed(range(len(params))):
        W, b = params[layer]
        scale = lr / len(X) if average else lr
        new.append((W - scale * activations[layer].T @ delta, b - scale * delta.sum(axis=0)))
        h = activations[layer]
        delta = (delta @ W.T) * h * (1 - h)
    return new[::-1]


@pytest.mark.parametrize("name,seed_lr,average", [
    ("xor-bias-column", 1.0, False),  # C1: W += X^T delta, learning rate 1
    ("copy-first-input", 1.0, False),  # D1: the same rule
    ("digits", 0.25, True),  # B3: averaged over the samples, learning rate 0.25
])
def test_preset_learning_rate_reproduces_the_seed_update(name, seed_lr, average):
    preset = networks.get(name)
    data = preset.load_data()
    params = preset.initial_params()
    impl = nnbench.create("numpy", preset.spec, params)
    impl.fit(data.X_train, data.Y_train, epochs=1, lr=preset.lr)
    expected = seed_update(params, data.X_train, data.Y_train, seed_lr, average)
    for (W, b), (W_seed, b_seed) in zip(impl.get_weights(), expected):
        np.testing.assert_allclose(W, W_seed, rtol=1e-12, atol=1e-14)
        if preset.spec.bias:
            np.testing.assert_allclose(b, b_seed, rtol=1e-12, atol=1e-14)


def test_with_hidden_resizes_every_hidden_layer():
    preset = networks.get("mnist").with_hidden(32)
    assert preset.spec.sizes == (784, 32, 10)
    assert preset.initial_params()[0][0].shape == (784, 32)


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown preset 'nope'.*mnist"):
        networks.get("nope")
