"""What a network is, independent of how it is computed.

A `NetworkSpec` says the layer sizes, each layer's activation, the loss and whether layers
have biases. `Params` are the numbers: one `(W, b)` pair per layer, float64 NumPy arrays, `W`
of shape `(n_in, n_out)` (the Keras kernel layout) and `b` of shape `(n_out,)`. A network with
`bias=False` still carries a `b` of zeros, which no implementation ever changes, so every
piece of code can treat the layers alike.

`init_params` is the one place starting weights come from: every implementation receives the
same Params, and none draws random numbers of its own.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError, InputTypeError, UnknownNameError

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax")
LOSSES = ("mse", "binary_crossentropy", "categorical_crossentropy")
DTYPES = ("float64", "float32")

# Cross-entropy is computed from the last layer's pre-activation z (from logits, as Keras does
# it when asked to), which needs the activation the loss was derived for.
LOSS_NEEDS_OUTPUT = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax"}

Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class NetworkSpec:
    """Layer sizes `(n0, n1, ..., nL)`, one activation per weight layer, the loss, the biases.

    `alpha` is the negative slope of every leaky_relu layer.
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    bias: bool = True
    alpha: float = 0.01

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(self.sizes))
        object.__setattr__(self, "activations", tuple(self.activations))
        if len(self.sizes) < 2:
            raise InputError(f"a network needs at least 2 sizes (inputs, outputs), "
                             f"got {self.sizes}")
        for size in self.sizes:
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                raise InputTypeError(f"layer sizes must be integers, got {size!r} in {self.sizes}")
            if size < 1:
                raise InputError(f"layer sizes must be at least 1, got {self.sizes}")
        if len(self.activations) != len(self.sizes) - 1:
            raise InputError(
                f"{len(self.sizes) - 1} weight layers need {len(self.sizes) - 1} activations, "
                f"got {len(self.activations)}: {self.activations}"
            )
        for name in self.activations:
            if name not in ACTIVATIONS:
                raise UnknownNameError("activation", name, ACTIVATIONS)
        if "softmax" in self.activations[:-1]:
            raise InputError("softmax is only supported as the last layer's activation")
        if self.loss not in LOSSES:
            raise UnknownNameError("loss", self.loss, LOSSES)
        needed = LOSS_NEEDS_OUTPUT.get(self.loss)
        if needed and self.activations[-1] != needed:
            raise InputError(
                f"loss {self.loss} needs a {needed} output layer, got {self.activations[-1]}"
            )
        if not (math.isfinite(self.alpha) and self.alpha >= 0):
            raise InputError(f"leaky_relu alpha must be finite and >= 0, got {self.alpha}")

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        """`(n_in, n_out)` of each weight layer."""
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    def with_hidden(self, width: int) -> NetworkSpec:
        """The same network with every hidden layer `width` units wide."""
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise InputError(f"hidden width must be an integer >= 1, got {width!r}")
        if len(self.sizes) < 3:
            raise InputError(f"this network {self.sizes} has no hidden layer to resize")
        sizes = (self.sizes[0], *[width] * (len(self.sizes) - 2), self.sizes[-1])
        return dataclasses.replace(self, sizes=sizes)

    def flops_per_sample(self) -> dict[str, int]:
        """Multiply-adds of the dense layers, counted as 2 FLOPs each.

        Forward is one product per layer; training adds the two backward products (the
        delta through W, and the weight gradient), except the first layer's delta to the
        inputs, which nobody needs.
        """
        products = [n_in * n_out for n_in, n_out in self.layer_shapes]
        forward = 2 * sum(products)
        backward = 2 * (2 * sum(products) - products[0])
        return {"predict": forward, "train": forward + backward}


INIT_SCHEMES = ("uniform_sym", "uniform_pos", "glorot_uniform", "he_normal")


def init_params(spec: NetworkSpec, scheme: str = "glorot_uniform", seed: int = 0) -> Params:
    """Starting weights for `spec`, the same for a given (scheme, seed) on every machine.

    - `uniform_sym`: W and b uniform in [-1, 1) (the seeds' "random between -1 and 1").
    - `uniform_pos`: W and b uniform in [0, 1) (NumPy's `random_sample`, as seeds B and C).
    - `glorot_uniform`: W uniform in +-sqrt(6 / (n_in + n_out)), b zero (Keras's default).
    - `he_normal`: W normal with std sqrt(2 / n_in), truncated at 2 std as Keras does, b zero.

    Layers are drawn in order, W before b, from one PCG64 stream seeded with `seed`.
    """
    if scheme not in INIT_SCHEMES:
        raise UnknownNameError("init scheme", scheme, INIT_SCHEMES)
    rng = np.random.default_rng(seed)
    params: Params = []
    for n_in, n_out in spec.layer_shapes:
        if scheme == "uniform_sym":
            W = rng.uniform(-1.0, 1.0, (n_in, n_out))
            b = rng.uniform(-1.0, 1.0, n_out)
        elif scheme == "uniform_pos":
            W = rng.uniform(0.0, 1.0, (n_in, n_out))
            b = rng.uniform(0.0, 1.0, n_out)
        elif scheme == "glorot_uniform":
            limit = math.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, (n_in, n_out))
            b = np.zeros(n_out)
        else:  # he_normal
            W = _truncated_normal(rng, math.sqrt(2.0 / n_in), (n_in, n_out))
            b = np.zeros(n_out)
        if not spec.bias:
            b = np.zeros(n_out)
        params.append((W, b))
    return params


def _truncated_normal(rng: np.random.Generator, std: float, shape) -> np.ndarray:
    """Normal(0, std) with every draw beyond 2 std drawn again."""
    values = rng.normal(0.0, std, shape)
    outside = np.abs(values) > 2 * std
    while outside.any():
        values[outside] = rng.normal(0.0, std, outside.sum())
        outside = np.abs(values) > 2 * std
    return values


def copy_params(params: Params) -> Params:
    """A deep copy, so that nobody's training changes somebody else's starting weights."""
    return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]


def check_params(spec: NetworkSpec, params) -> Params:
    """Params converted to float64 copies, or a clear error if they do not fit `spec`."""
    if not isinstance(params, (list, tuple)):
        raise InputTypeError(f"params must be a list of (W, b) pairs, got {type(params).__name__}")
    if len(params) != len(spec.layer_shapes):
        raise InputError(
            f"params have {len(params)} layers, the network {spec.sizes} has "
            f"{len(spec.layer_shapes)}"
        )
    checked: Params = []
    for layer, (pair, (n_in, n_out)) in enumerate(zip(params, spec.layer_shapes), start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InputTypeError(f"layer {layer} of params must be a (W, b) pair")
        W = _float_array(pair[0], f"W of layer {layer}")
        b = _float_array(pair[1], f"b of layer {layer}")
        if W.shape != (n_in, n_out):
            raise InputError(f"W of layer {layer} has shape {W.shape}, expected {(n_in, n_out)}")
        if b.shape != (n_out,):
            raise InputError(f"b of layer {layer} has shape {b.shape}, expected {(n_out,)}")
        if not spec.bias and np.any(b != 0):
            raise InputError(f"b of layer {layer} must be zero: the network has bias=False")
        checked.append((W, b))
    return checked


def _float_array(value, what: str) -> np.ndarray:
    """`value` as a new float64 array; integers are converted, anything else is refused."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise InputTypeError(f"{what} must hold real numbers, got dtype {array.dtype}")
    array = np.array(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{what} contains NaN or infinity")
    return array
