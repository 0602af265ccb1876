"""Explicit Jacobians: backpropagation written out as the chain rule on full matrices.

This is the "long form" of backpropagation from SEEDS A2. For one sample, every step of the
network is a function from one vector to another, and each has a Jacobian matrix of partial
derivatives. The gradient of the loss with respect to a layer's weights is the product of the
Jacobians along the path from the loss back to those weights:

    dL/dW_1 = dL/da_2 . da_2/dz_2 . dz_2/da_1 . da_1/dz_1 . dz_1/dW_1

Shapes, for a layer with W of shape (n_in, n_out) and one sample:

    dL/da         (1, n_out)              a row vector: how the loss moves with each output
    da/dz         (n_out, n_out)          diagonal for elementwise activations;
                                          diag(S) - S S^T for softmax
    dz/dW         (n_out, n_in * n_out)   W flattened row-major (W[i, j] is column i*n_out + j),
                                          so a row vector times dz/dW reshapes straight into W
    dz/db         (n_out, n_out)          the identity
    dz/da_prev    (n_out, n_in)           W^T

The product is evaluated from the left (from the loss), so every intermediate result is a row
vector and each Jacobian is used once; the layer below reuses dL/dz of the layer above. The
cost is dz/dW: it holds n_out * n_in * n_out numbers, almost all zero, because z_j depends on
column j of W only. For the seed's 784-512-10 network that is 512 x 401408 float64 = 1.64 GB
for one sample's hidden layer, which is why this file estimates its memory before it allocates
and refuses above a budget (see the end of the file).

Beside it, `short_form_grads` computes the same gradient the way everybody does: the delta
rule, dL/dW = a_prev^T delta, which is the long form with the zeros of dz/dW never written
down. The tests check that the two agree.

Everything is computed in the implementation's dtype (float64 or float32).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import numpy as np

from .errors import BudgetError, InputError, InputTypeError
from .numpy_vec import NumpyVectorised, backprop_activation, loss_and_output_delta
from .spec import NetworkSpec, Params

# ---- the Jacobians, one by one, for one sample ----


def softmax_jacobian(S):
    """da/dz of softmax: dS_i/dz_j = S_i (delta_ij - S_j), i.e. diag(S) - S S^T.

    Symmetric, each row sums to 0 (the outputs always sum to 1, so no change of z moves that
    sum), and its diagonal is S_i (1 - S_i) (SEEDS A3).
    """
    return np.diag(S) - np.outer(S, S)


def activation_jacobian(name, z, a, alpha):
    """da/dz for one layer of one sample: an (n, n) matrix.

    An elementwise activation only couples a_i to z_i, so its Jacobian is diagonal: the
    derivative of the activation on the diagonal, zeros elsewhere. Softmax couples them all.
    """
    if name == "softmax":
        return softmax_jacobian(a)
    if name == "sigmoid":
        derivative = a * (1 - a)
    elif name == "tanh":
        derivative = 1 - a * a
    elif name == "relu":
        derivative = (z > 0).astype(z.dtype)
    elif name == "leaky_relu":
        derivative = np.where(z > 0, 1, alpha).astype(z.dtype)
    else:  # linear
        derivative = np.ones_like(z)
    return np.diag(derivative)


def weight_jacobian(a_prev, n_out):
    """dz/dW for one sample: the full (n_out, n_in * n_out) matrix.

    z_j = sum_i a_prev[i] W[i, j] + b_j, so dz_j / dW[i, k] = a_prev[i] if k == j, else 0.
    With W flattened row-major (W[i, k] at column i * n_out + k) this is the Kronecker
    product a_prev^T (x) I. We write it into zeros directly: one allocation of exactly
    n_out * n_in * n_out numbers (the memory estimate below counts it), no temporary.
    """
    n_in = len(a_prev)
    jacobian = np.zeros((n_out, n_in, n_out), dtype=a_prev.dtype)
    j = np.arange(n_out)
    jacobian[j, :, j] = a_prev  # row j holds a_prev in the slots of column j of W
    return jacobian.reshape(n_out, n_in * n_out)


def bias_jacobian(n_out, dtype):
    """dz/db: z_j = ... + b_j, so the identity."""
    return np.eye(n_out, dtype=dtype)


def input_jacobian(W):
    """dz/da_prev: dz_j / da_prev[i] = W[i, j], so the (n_out, n_in) matrix W^T."""
    return W.T


# ---- the loss of one sample, and its gradient: where the chain starts ----


def sample_loss_and_gradient(loss, z, a, y, activation, alpha):
    """One sample's loss, and the row vector the chain rule starts from: dL/dz of the last layer.

    Each sample's own loss is averaged over its outputs where the loss is (mse, binary
    cross-entropy); the batch's loss is the mean of these (`ExplicitJacobian._long_form`).

    For mse the loss is a function of the outputs a, so the chain starts at dL/da and goes
    through the activation's Jacobian: dL/dz = dL/da . da/dz.

    Cross-entropy is defined on the logits z (computed from logits, as Keras does it), so we
    take its gradient with respect to z directly: dL/dz = S - y for softmax (the base class
    checks that each row of Y sums to 1), (s - y) / k for sigmoid. The seed's route,
    dL/da = -y / S chained through diag(S) - S S^T, gives the same S - y in exact arithmetic
    (the 1/S cancels against S), but divides by S, which underflows to 0 for a confidently
    wrong output (then 1/0 = inf and inf * 0 = NaN), and its rounding drifts from the
    reference's S - y. The softmax Jacobian still carries the gradient whenever a softmax
    output is trained with mse, and the tests check the seed's route where it is safe.
    """
    if loss != "mse":
        total, delta = loss_and_output_delta(loss, z[None, :], a[None, :], y[None, :],
                                             activation, alpha)
        return total, delta
    k = len(y)
    error = a - y
    dL_da = (2 * error / k)[None, :]
    return np.sum(error * error) / k, dL_da @ activation_jacobian(activation, z, a, alpha)


class ExplicitJacobian(NumpyVectorised):
    """The reference's forward pass and update, with the backward pass replaced by the long
    form: everything this class adds is how the gradient is computed."""

    name = "jacobian"
    per_sample = True

    def __init__(self, spec: NetworkSpec, params: Params, dtype: str = "float64",
                 memory_budget: int | str | None = None):
        """`memory_budget`: bytes (an int, or a string such as "4GiB" or "500MB") that the
        long form may hold for one sample; None reads NNBENCH_JACOBIAN_BUDGET, else 1 GiB.
        A network over it is refused (`supports`) before any training."""
        self.memory_budget, self.budget_source = resolve_budget(memory_budget)
        self._options = {"memory_budget": memory_budget}
        super().__init__(spec, params, dtype)

    @classmethod
    def supports(cls, spec: NetworkSpec, dtype: str, memory_budget=None, **options):
        """Every network whose long form fits the memory budget for one sample."""
        reason = super().supports(spec, dtype)
        if reason is None:
            reason = over_budget(spec, dtype, *resolve_budget(memory_budget))
        return reason

    @property
    def options(self) -> dict:
        return self._options

    # ---- the long form: for each sample, the chain rule on explicit Jacobians ----

    def _long_form(self, X, Y):
        """The batch's mean loss and its gradient, one sample at a time, by Jacobian products."""
        spec = self.spec
        check_budget(spec, self.dtype, self.memory_budget, self.budget_source)
        layers = self._forward_all(X)
        sums = [(np.zeros_like(W), np.zeros_like(b)) for W, b in zip(self.weights, self.biases)]
        total = self.dtype.type(0)
        for s in range(len(X)):
            # This sample's vectors: a[0] is its input, (z[l], a[l + 1]) are layer l's.
            z = [z_l[s] for z_l, _ in layers]
            a = [X[s]] + [a_l[s] for _, a_l in layers]
            loss, dL_dz = sample_loss_and_gradient(spec.loss, z[-1], a[-1], Y[s],
                                                   spec.activations[-1], spec.alpha)
            total += loss
            for layer in reversed(range(len(layers))):
                W = self.weights[layer]
                dW_sum, db_sum = sums[layer]
                # dL/dW = dL/dz . dz/dW: a (1, n_in * n_out) row, reshaped into W's shape.
                # The biggest matrix of the paradigm lives for this one product only.
                dz_dW = weight_jacobian(a[layer], len(z[layer]))
                dW_sum += (dL_dz @ dz_dW).reshape(W.shape)
                del dz_dW
                if spec.bias:  # dL/db = dL/dz . I
                    db_sum += (dL_dz @ bias_jacobian(len(z[layer]), self.dtype))[0]
                if layer > 0:
                    # One step further back: dL/da_prev = dL/dz . W^T, then through the
                    # activation of the layer below: dL/dz_prev = dL/da_prev . da_prev/dz_prev.
                    dL_da = dL_dz @ input_jacobian(W)
                    dL_dz = dL_da @ activation_jacobian(spec.activations[layer - 1],
                                                        z[layer - 1], a[layer], spec.alpha)
        # The loss is the mean over the batch, and so is its gradient.
        n = len(X)
        return total / n, [(dW / n, db / n) for dW, db in sums]

    def _loss_and_grads(self, X, Y):
        loss, grads = self._long_form(X, Y)
        return float(loss), grads

    # ---- the short form, beside it: the delta rule, still one sample at a time ----

    def short_form_grads(self, X, Y) -> tuple[float, Params]:
        """The same loss and gradient by the delta rule (SEEDS A2's "short form").

        delta = dL/dz is carried back as a vector; dL/dW = outer(a_prev, delta) is what
        dL/dz . dz/dW leaves once the zeros of dz/dW are skipped, and each activation's
        Jacobian is applied without being formed: an elementwise product for the elementwise
        ones, S * (g - g.S) for softmax. The weights are not changed.
        """
        X, Y = self._check_XY(X, Y)
        spec = self.spec
        layers = self._forward_all(X)
        sums = [(np.zeros_like(W), np.zeros_like(b)) for W, b in zip(self.weights, self.biases)]
        total = self.dtype.type(0)
        for s in range(len(X)):
            z = [z_l[s] for z_l, _ in layers]
            a = [X[s]] + [a_l[s] for _, a_l in layers]
            # The reference's delta rule, applied to a batch of one sample.
            loss, delta = loss_and_output_delta(spec.loss, z[-1][None, :], a[-1][None, :],
                                                Y[s][None, :], spec.activations[-1], spec.alpha)
            delta = delta[0]
            total += loss
            for layer in reversed(range(len(layers))):
                dW_sum, db_sum = sums[layer]
                dW_sum += np.outer(a[layer], delta)
                if spec.bias:
                    db_sum += delta
                if layer > 0:
                    delta = backprop_activation(spec.activations[layer - 1], z[layer - 1],
                                                a[layer], self.weights[layer] @ delta, spec.alpha)
        n = len(X)
        return float(total / n), [(np.asarray(dW / n, np.float64), np.asarray(db / n, np.float64))
                                  for dW, db in sums]


# ---- memory: what the long form holds for one sample, and the budget that guards it ----

DEFAULT_BUDGET = 2**30  # 1 GiB: refuses the seed's 784-512-10 (1.65 GB), runs widths up to ~360
BUDGET_ENV = "NNBENCH_JACOBIAN_BUDGET"


@dataclass(frozen=True)
class LayerMemory:
    """Bytes the long form allocates for one layer of one sample."""

    layer: int  # 1-based, as in the error messages
    n_in: int
    n_out: int
    dz_dW: int  # the (n_out, n_in * n_out) Jacobian
    dL_dW: int  # the (1, n_in * n_out) row it is multiplied into
    square: int  # da/dz or dz/db, (n_out, n_out); never alive together with dz/dW

    @property
    def peak(self) -> int:
        """What is alive at once while this layer's dz/dW exists."""
        return self.dz_dW + self.dL_dW


@dataclass(frozen=True)
class MemoryEstimate:
    """The long form's memory for one sample: the largest layer's peak plus the gradient sums."""

    dtype: str
    layers: tuple[LayerMemory, ...]
    gradient_sums: int  # the per-layer (dW, db) accumulators, alive for the whole batch

    @property
    def largest(self) -> LayerMemory:
        return max(self.layers, key=lambda layer: layer.peak)

    @property
    def total(self) -> int:
        return self.largest.peak + self.gradient_sums


def long_form_breakdown(spec: NetworkSpec, dtype="float64") -> MemoryEstimate:
    """Per layer, the bytes one sample's long form allocates (see `long_form_bytes`).

    Not counted: the forward pass's (z, a) of the whole batch (batch x sum of the widths, the
    same for every implementation), and small vectors.
    """
    dtype = np.dtype(dtype)
    size = dtype.itemsize
    layers = tuple(
        LayerMemory(layer, n_in, n_out, dz_dW=n_out * n_in * n_out * size,
                    dL_dW=n_in * n_out * size, square=n_out * n_out * size)
        for layer, (n_in, n_out) in enumerate(spec.layer_shapes, start=1)
    )
    sums = sum((n_in * n_out + n_out) * size for n_in, n_out in spec.layer_shapes)
    return MemoryEstimate(dtype.name, layers, sums)


def long_form_bytes(spec: NetworkSpec, dtype="float64") -> int:
    """Bytes the long form holds at once for one sample; it grows as n_out^2 * n_in.

    The peak is one layer's dz/dW (the others are freed after their product) with the row it
    multiplies out to, plus the gradient sums of every layer.
    """
    return long_form_breakdown(spec, dtype).total


def check_budget(spec: NetworkSpec, dtype, budget: int, source: str = "the default") -> None:
    """Raise a BudgetError if the budget is too small (see `over_budget`)."""
    reason = over_budget(spec, dtype, budget, source)
    if reason is not None:
        raise BudgetError(reason)


def over_budget(spec: NetworkSpec, dtype, budget: int, source: str = "the default") -> str | None:
    """None if one sample's long form fits `budget`, else why not, in one line that says how
    to raise the budget."""
    estimate = long_form_breakdown(spec, dtype)
    if estimate.total <= budget:
        return None
    big = estimate.largest
    if estimate.total < 2**30:  # the smallest round size that fits, to put in the advice
        suggestion = f"{math.ceil(estimate.total / 2**20)}MiB"
    else:
        suggestion = f"{math.ceil(estimate.total / 2**30)}GiB"
    return (
        f"the long form needs {_size(estimate.total)} ({estimate.total:,} bytes) for one sample: "
        f"dz/dW of layer {big.layer} is {big.n_out} x {big.n_in * big.n_out} {estimate.dtype} = "
        f"{_size(big.dz_dW)} (it grows as n_out^2 * n_in), plus "
        f"{_size(estimate.total - big.dz_dW)} of products and gradient sums; "
        f"the budget is {_size(budget)} ({budget:,} bytes, {source}); raise it with "
        f"memory_budget={suggestion!r}, the environment variable {BUDGET_ENV}={suggestion} "
        f"or `nnbench train --jacobian-budget {suggestion}`, or use narrower hidden layers"
    )


def resolve_budget(memory_budget=None) -> tuple[int, str]:
    """(bytes, where they came from): the argument, else the environment variable, else 1 GiB."""
    if memory_budget is not None:
        return parse_budget(memory_budget, "memory_budget"), "from memory_budget="
    value = os.environ.get(BUDGET_ENV)
    if value is not None and value.strip():
        return parse_budget(value, BUDGET_ENV), f"from {BUDGET_ENV}"
    return DEFAULT_BUDGET, "the default"


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*([a-zA-Z]*)\s*")


def parse_budget(value, what: str = "memory budget") -> int:
    """Bytes from an int or a string: "2147483648", "1e9", "500MB", "4GiB", "4G" (= 4 GiB).

    kB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB (and bare K/M/G/T) powers of 1024.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, str)):
        raise InputTypeError(f"{what} must be a number of bytes or a string such as '4GiB', "
                             f"got {value!r}")
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        unit = match.group(3).lower() if match else None
        if unit not in _UNITS:
            raise InputError(f"{what}={value!r} is not a size: expected bytes (2147483648) or a "
                             f"number with a unit (500MB, 1.5GB, 4GiB)")
        number = float(match.group(1) + (f"e{match.group(2)}" if match.group(2) else ""))
        value = number * _UNITS[unit]
    if not (math.isfinite(value) and value >= 1):
        raise InputError(f"{what} must be a positive number of bytes, got {value!r}")
    return int(value)


def _size(n: int) -> str:
    """Bytes for a person: 1.64 GB, 6.5 MB (powers of 1000)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"
