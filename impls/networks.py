"""Named presets: the networks of the seed write-ups (docs/seeds.md), ready to train.

A preset holds everything needed to reproduce a run: the network, how its starting weights
are drawn, the data, and the training settings. Where a write-up used a cost other than ours
(we use Keras's definitions: means over samples and outputs), the preset's learning rate is
chosen so that the weight update is the same, and its notes show the arithmetic.

The seed write-ups, cited by title:
  A  "Solving MNIST with a Neural Network from the ground up" (and its companion posts)
  B  a neural networks tutorial (feed-forward, backpropagation, scikit-learn digits)
  C  "Code a Neural Network"
  D  "Building a program that actually learns"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import data
from .errors import UnknownNameError
from .spec import NetworkSpec, Params, init_params


@dataclass(frozen=True)
class Preset:
    name: str
    source: str  # the seed id (docs/seeds.md) and the write-up it comes from
    spec: NetworkSpec
    dataset: str  # a name in data.LOADERS
    lr: float
    epochs: int
    batch_size: int | None = None  # None: the whole training set in one batch
    init: str = "glorot_uniform"
    seed: int = 0
    shuffle: bool = False
    fixed_params: Callable[[], Params] | None = None  # weights the write-up gave by value
    notes: str = ""

    def initial_params(self) -> Params:
        """The starting weights: the write-up's own when it gave them, else drawn from the seed."""
        if self.fixed_params is not None:
            return self.fixed_params()
        return init_params(self.spec, self.init, self.seed)

    def load_data(self, limit: int | None = None) -> data.Dataset:
        return data.load(self.dataset, limit)

    def with_hidden(self, width: int) -> Preset:
        """The same preset with every hidden layer `width` wide (drawn weights, not fixed)."""
        return dataclasses.replace(self, spec=self.spec.with_hidden(width), fixed_params=None)


def _feedforward_example_weights() -> Params:
    # The write-up's W1 has one row per hidden unit (z = W x + b); ours is its transpose.
    W1 = np.array([[0.2, 0.2, 0.2], [0.4, 0.4, 0.4], [0.6, 0.6, 0.6]]).T
    W2 = np.array([[0.5], [0.5], [0.5]])
    return [(W1, np.full(3, 0.8)), (W2, np.array([0.2]))]


A = '"Solving MNIST with a Neural Network from the ground up"'
B = "a neural networks tutorial (feed-forward, backpropagation, digits)"
C = '"Code a Neural Network"'
D = '"Building a program that actually learns"'

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset(
        "xor", f"A4, {A} (XOR in Octave)",
        NetworkSpec((2, 2, 1), ("sigmoid", "sigmoid"), "binary_crossentropy"),
        "xor", lr=0.01, epochs=100_000, init="uniform_sym", seed=3,
        notes="The logistic cost averaged over the 4 rows is our binary cross-entropy, so "
              "the write-up's learning rate 0.01 carries over unchanged. The write-up gives "
              "no seed; seed 3 is ours.",
    ),
    Preset(
        "xor-keras", f"A6, {A} (XOR in Keras)",
        NetworkSpec((2, 2, 1), ("sigmoid", "sigmoid"), "mse"),
        "xor", lr=0.01, epochs=100_000, batch_size=4, init="glorot_uniform", seed=3,
        notes="Keras's defaults, as the write-up used them: Glorot-uniform kernels, zero "
              "biases, SGD at learning rate 0.01, mean squared error. The write-up gives no "
              "seed; seed 3 is ours (as for xor).",
    ),
    Preset(
        "xor-bias-column", f"C1, {C}",
        NetworkSpec((3, 5, 1), ("sigmoid", "sigmoid"), "mse", bias=False),
        "xor-bias-column", lr=2.0, epochs=5_000, init="uniform_pos", seed=0,
        notes="The write-up's update is W += X^T delta at learning rate 1 on half the summed "
              "squared error: dCost/da = (a - y). Our mse is the mean over N=4 samples and "
              "K=1 output, dL/da = 2 (a - y) / (N K), so lr = 1 * N K / 2 = 2 gives the "
              "same update.",
    ),
    Preset(
        "copy-first-input", f"D1, {D}",
        NetworkSpec((3, 1), ("sigmoid",), "mse", bias=False),
        "copy-first-input", lr=2.0, epochs=10_000, init="uniform_sym", seed=1,
        notes="The update adds X^T (error * sigmoid'), i.e. learning rate 1 on half the "
              "summed squared error; with N=4 samples and K=1 output our mean squared error "
              "needs lr = N K / 2 = 2 for the same step.",
    ),
    Preset(
        "feedforward-example", f"B1, {B}",
        NetworkSpec((3, 3, 1), ("sigmoid", "sigmoid"), "mse"),
        "feedforward-example", lr=0.25, epochs=1, fixed_params=_feedforward_example_weights,
        notes="The write-up's fixed weights; its one input gives 0.8354. It only runs the "
              "network forward; the target 1 and learning rate are ours, for the tests.",
    ),
    Preset(
        "digits", f"B3, {B}",
        NetworkSpec((64, 30, 10), ("sigmoid", "sigmoid"), "mse"),
        "digits", lr=1.25, epochs=3_000, init="uniform_pos", seed=0,
        notes="The write-up's cost is half the summed squared error averaged over the m "
              "samples: dCost/da = (a - y) / m, stepped at 0.25. Our mse also averages over "
              "the K=10 outputs, dL/da = 2 (a - y) / (m K), so lr = 0.25 * K / 2 = 1.25 gives "
              "the same update.",
    ),
    Preset(
        "mnist", f"A1, {A} (as the text describes it: ReLU)",
        NetworkSpec((784, 512, 10), ("relu", "softmax"), "categorical_crossentropy"),
        "mnist", lr=0.1, epochs=5, batch_size=50, init="he_normal", seed=0,
        notes="The text's network with plain ReLU. The text names no initialisation; He "
              "normal is the standard one for ReLU. Cross-entropy averaged over each "
              "mini-batch of 50, learning rate 0.1, no shuffling.",
    ),
    Preset(
        "mnist-leaky", f"A1, {A} (as the author's notebook ran it)",
        NetworkSpec((784, 512, 10), ("leaky_relu", "softmax"), "categorical_crossentropy",
                    alpha=0.1),
        "mnist", lr=0.1, epochs=5, batch_size=50, init="uniform_sym", seed=0,
        notes="The notebook's settings: leaky ReLU of slope 0.1, biases as an extra weight "
              "row (the same as a bias drawn like the weights), weights uniform(-1, 1), "
              "mini-batch 50, learning rate 0.1, 5 epochs, no shuffling.",
    ),
    Preset(
        "mnist-best", "nnbench, beyond the seeds (A1's network, trained for accuracy)",
        NetworkSpec((784, 512, 10), ("relu", "softmax"), "categorical_crossentropy"),
        "mnist", lr=0.1, epochs=10, batch_size=32, init="he_normal", seed=0, shuffle=True,
        notes="Still plain SGD on 784-512-10 with no new layer types: He-normal start, "
              "smaller mini-batches (32) and data reshuffled every epoch, for 10 epochs. "
              "Chosen to pass 98.0% test accuracy, against A1's 92-95%.",
    ),
    Preset(
        "binary-reversal", f"A7, {A} (networks do not generalise)",
        NetworkSpec((4, 4), ("linear",), "mse"),
        "binary-reversal", lr=0.1, epochs=10_000, batch_size=8, init="glorot_uniform", seed=0,
        notes="One linear Dense(4) layer trained to reverse the 4-bit strings that start "
              "with 0; tested on those that start with 1, whose first bit it never saw set.",
    ),
]}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise UnknownNameError("preset", name, PRESETS)
    return PRESETS[name]
