"""Numba: the loop algorithm of pure_python, compiled to machine code.

The math is pure_python's, written as loops over samples, inputs and neurons; Numba compiles
those loops (`@njit`) to machine code, so a loop over 512 weights costs nanoseconds instead of
the interpreter's tens of microseconds. What it takes to get there:

- All weights live in ONE flat array, [W1, b1, W2, b2, ...], each W row-major (n_in, n_out) as
  in the common Params, found through a small `Layout` of sizes and offsets. So one compiled
  kernel serves any number of layers, the gradient has the same layout, and the update is one
  loop. Activations and losses travel as integer codes, so one compilation serves every
  network: kernels are compiled once per process and dtype, and kept on disk (`cache=True`)
  for the next process to load; `warm_up` measures that cost on its own.
- The whole of training, every epoch, mini-batch and update, runs inside ONE compiled call
  (`train_epochs`): Python is entered once per `fit`, not once per step, and nothing is
  allocated once training has begun.
- The innermost loop runs over contiguous memory. Row i of W (the weights leaving input i) is
  contiguous, so the forward loop is "for i: for j: z[j] += a[i] * W[i, j]". Its iterations
  are independent, so the compiler turns it into SIMD instructions with IEEE arithmetic intact.
  (pure_python keeps each neuron's incoming weights instead, because there a dot product is one
  `sum(map(...))`; compiled, a dot product is a chain of additions that can only be vectorised
  by reordering them, which needs fastmath. We do not use fastmath.) The index of that loop is
  the loop counter itself, never "offset + j": Numba wraps negative indices around as Python
  does, and when it cannot see that an index is >= 0 the check stops the vectorisation.
- The loop over the samples of a mini-batch sits inside the loop over layers, not outside it as
  in pure_python. Each sample's arithmetic is the same, but a layer's weight gradient can be
  summed row by row over the batch while that row is in cache.
- Numba counts references to arrays, and updates a count (an atomic instruction, slow next to a
  multiply-add) whenever a function receives an array or makes a view of one, unless it can
  prove the update unneeded, which it can in a function that calls no other compiled function
  and cannot raise. For XOR's 2-2-1 network the updates would cost more than the arithmetic. So
  the kernels that do the work (`forward`, `loss_and_output_delta`, `backward`) use only
  helpers inlined into them, let a division by zero give inf as NumPy does instead of raising
  (`error_model="numpy"`), index whole arrays ([level, sample, unit]) rather than slicing a
  view per sample, and are called straight from the epoch loop.

`NumbaParallel` (impls/numba_parallel.py) runs these kernels on several threads.

float32 networks compute in float32: arrays, products and updates are in the implementation's
dtype (a few scalar intermediates, such as the running loss total, are float64: more exact, not
less).
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np
from numba import njit

from .base import Implementation
from .spec import NetworkSpec, Params, init_params

# ---- integer codes for what the spec names, so the kernels can branch on them ----

SIGMOID, TANH, RELU, LEAKY_RELU, LINEAR, SOFTMAX = range(6)
ACTIVATION_CODES = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU,
                    "linear": LINEAR, "softmax": SOFTMAX}
MSE, BINARY_CROSSENTROPY, CATEGORICAL_CROSSENTROPY = range(3)
LOSS_CODES = {"mse": MSE, "binary_crossentropy": BINARY_CROSSENTROPY,
              "categorical_crossentropy": CATEGORICAL_CROSSENTROPY}

# Samples processed together: the scratch arrays have this many rows (or the batch's size, if
# smaller); a larger batch is worked through in blocks, so memory stays bounded.
MAX_ROWS = 256

# The forward pass takes this many samples through each row of W together (see `forward`).
SAMPLE_BLOCK = 4

# Every array the kernels read or write in their inner loops starts on a cache line (64 bytes,
# also the width of an AVX-512 register): NumPy promises only 16 bytes, and the kernels' speed
# depends on where an array starts, so unaligned arrays made the time vary between processes.
CACHE_LINE = 64

# Every kernel is compiled once per dtype and kept on disk. error_model="numpy": a division by
# zero gives inf or nan, as in NumPy, instead of raising ZeroDivisionError. Without the code
# paths that raise, Numba can also drop its reference counting (see the notes at the top).
kernel = njit(cache=True, error_model="numpy")
# Small helpers are inlined into the kernels that call them: a call from one compiled function
# to another costs Numba an atomic reference-count update for every array it is given.
helper = njit(cache=True, error_model="numpy", inline="always")


class Layout(NamedTuple):
    """The network, as the kernels see it: sizes, codes, and where each layer's numbers are.

    Layer l (counting from 0) has n_in = sizes[l] inputs and n_out = sizes[l + 1] neurons; its
    W is params[param_start[l]:], n_in * n_out numbers row by row, followed by its n_out biases.
    """

    sizes: np.ndarray  # (n0, n1, ..., nL), int64
    activations: np.ndarray  # one code per layer, int64
    param_start: np.ndarray  # int64, one per layer
    loss: int
    bias: bool
    alpha: float  # leaky_relu's slope, in the network's dtype


def make_layout(spec: NetworkSpec, dtype: np.dtype) -> Layout:
    n_params = [n_in * n_out + n_out for n_in, n_out in spec.layer_shapes]
    return Layout(
        sizes=np.array(spec.sizes, np.int64),
        activations=np.array([ACTIVATION_CODES[name] for name in spec.activations], np.int64),
        param_start=np.cumsum([0, *n_params[:-1]]).astype(np.int64),
        loss=LOSS_CODES[spec.loss],
        bias=bool(spec.bias),
        alpha=dtype.type(spec.alpha),
    )


def aligned_empty(shape, dtype) -> np.ndarray:
    """np.empty(shape, dtype), starting on a cache line."""
    shape, dtype = tuple(np.atleast_1d(shape)), np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + CACHE_LINE, np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def padded_length(n: int, dtype: np.dtype) -> int:
    """n, rounded up to whole cache lines of `dtype` numbers."""
    per_line = CACHE_LINE // dtype.itemsize
    return -(-n // per_line) * per_line


def layer_views(flat: np.ndarray, net: Layout) -> Params:
    """Every layer's (W, b) as NumPy views into a flat array laid out like the parameters."""
    views = []
    for l, start in enumerate(net.param_start):
        n_in, n_out = net.sizes[l], net.sizes[l + 1]
        W = flat[start:start + n_in * n_out].reshape(n_in, n_out)
        views.append((W, flat[start + n_in * n_out:start + n_in * n_out + n_out]))
    return views


@helper
def layer_params(flat, net, l):
    """Layer l's W and b, as views into a flat array laid out like the parameters.

    W stays 1-D, row-major: W[i, j] is W[i * n_out + j]. (Reshaping it to 2-D would cost a call
    into Numba's runtime for every layer of every mini-batch.)
    """
    n_in, n_out = net.sizes[l], net.sizes[l + 1]
    start = net.param_start[l]
    return flat[start:start + n_in * n_out], flat[start + n_in * n_out:start + n_in * n_out + n_out]


def scratch(spec: NetworkSpec, n_samples: int, dtype: np.dtype, copies: int | None = None):
    """The kernels' working memory: arrays Z, A and D, indexed [level, sample, unit].

    Level 0 is the input (in A); level l + 1 holds layer l's pre-activations z (in Z), its
    activations a (in A) and its deltas dL/dz (in D). They have a row for each of up to
    MAX_ROWS samples, and as many columns as the widest level. With `copies`, one set per thread.
    The kernels write every entry before they read it, so the arrays need no zeroing.
    """
    shape = (len(spec.sizes), min(n_samples, MAX_ROWS), max(spec.sizes))
    if copies is not None:
        shape = (copies, *shape)
    return tuple(aligned_empty(shape, dtype) for _ in "ZAD")


# ---- activations, and the way back through them ----


@helper
def activation(code, z, alpha):
    """One neuron's activation (any code but softmax, which needs the whole layer)."""
    if code == SIGMOID:
        # exp of a negative number never overflows: one formula on either side of 0.
        if z >= 0:
            return 1 / (1 + math.exp(-z))
        e = math.exp(z)
        return e / (1 + e)
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        return z if z > 0 else 0
    if code == LEAKY_RELU:
        return z if z > 0 else alpha * z
    return z  # linear


@helper
def derivative(code, z, a, alpha):
    """da/dz of one neuron, from its z and a (any code but softmax)."""
    if code == SIGMOID:
        return a * (1 - a)
    if code == TANH:
        return 1 - a * a
    if code == RELU:
        return 1 if z > 0 else 0
    if code == LEAKY_RELU:
        return 1 if z > 0 else alpha
    return 1  # linear


@helper
def activate(code, Z, A, l, m, n, alpha):
    """A[l] = act(Z[l]) for the first m samples and n units of level l."""
    for s in range(m):
        if code == SOFTMAX:
            top = Z[l, s, 0]  # subtracting the largest z keeps exp from overflowing
            for j in range(n):
                top = max(top, Z[l, s, j])
            total = 0.0
            for j in range(n):
                A[l, s, j] = math.exp(Z[l, s, j] - top)
                total += A[l, s, j]
            for j in range(n):
                A[l, s, j] /= total
        else:
            for j in range(n):
                A[l, s, j] = activation(code, Z[l, s, j], alpha)


@helper
def backprop_activation(code, Z, A, D, l, s, n, alpha):
    """Turn D[l, s] = dL/da into dL/dz, in place, for the first n units of level l, sample s."""
    if code == SOFTMAX:
        # (diag(S) - S S^T) g, without forming the matrix.
        dot = 0.0
        for j in range(n):
            dot += D[l, s, j] * A[l, s, j]
        for j in range(n):
            D[l, s, j] = A[l, s, j] * (D[l, s, j] - dot)
    else:
        for j in range(n):
            D[l, s, j] *= derivative(code, Z[l, s, j], A[l, s, j], alpha)


# ---- forward: every sample through every layer ----


@kernel
def forward(params, net, X, lo, hi, Z, A):
    """Every layer's z and a for samples lo .. hi - 1 of X, into rows 0 .. hi - lo - 1 of Z, A."""
    m = hi - lo
    for s in range(m):  # the inputs are level 0, so layer 0 reads them like any other layer
        for i in range(X.shape[1]):
            A[0, s, i] = X[lo + s, i]
    for l in range(len(net.activations)):
        n_in, n_out = net.sizes[l], net.sizes[l + 1]
        W, b = layer_params(params, net, l)
        # For each sample: z = b + sum over inputs i of a[i] * (row i of W), i in order. A few
        # samples at a time share each row of W while it is in cache: W is read from memory
        # once per block of samples instead of once per sample.
        for first in range(0, m, SAMPLE_BLOCK):
            last = min(first + SAMPLE_BLOCK, m)
            for s in range(first, last):
                for j in range(n_out):
                    Z[l + 1, s, j] = b[j]
            for i in range(n_in):
                for s in range(first, last):
                    a_i = A[l, s, i]
                    for j in range(n_out):  # every neuron: contiguous in W, so vectorised
                        Z[l + 1, s, j] += a_i * W[i * n_out + j]
        activate(net.activations[l], Z, A, l + 1, m, n_out, net.alpha)


@kernel
def predict(params, net, X, out, work):
    """The last layer's activations for the samples of X, into out, in blocks of rows."""
    Z, A, _ = work
    rows, last = Z.shape[1], len(net.activations)
    for start in range(0, len(X), rows):
        stop = min(start + rows, len(X))
        forward(params, net, X, start, stop, Z, A)
        for s in range(stop - start):
            for j in range(out.shape[1]):
                out[start + s, j] = A[last, s, j]


# ---- the loss, and the last layer's delta ----


@kernel
def loss_and_output_delta(net, Z, A, D, Y, lo, hi, n):
    """Samples lo .. hi - 1's share of the mean loss over a batch of n; their dL/dz into D.

    Every term is divided by what the mean divides by, so the shares of a batch's samples add
    up to its loss and gradient. Cross-entropy is computed from the logits z (the stable form),
    which is why its delta is simply a - y, scaled.
    """
    L, k = len(net.activations), Y.shape[1]  # the last layer, and its width
    # Categorical cross-entropy sums over the outputs and averages over the samples; the other
    # two losses average over both.
    mean_over = n if net.loss == CATEGORICAL_CROSSENTROPY else n * k
    loss = 0.0
    for s in range(hi - lo):
        if net.loss == CATEGORICAL_CROSSENTROPY:
            # log softmax(z)_j = z_j - top - log(sum of exp(z - top))
            top = Z[L, s, 0]
            for j in range(k):
                top = max(top, Z[L, s, j])
            total = 0.0
            for j in range(k):
                total += math.exp(Z[L, s, j] - top)
            log_total = math.log(total)
            for j in range(k):
                loss -= Y[lo + s, j] * (Z[L, s, j] - top - log_total)
                D[L, s, j] = (A[L, s, j] - Y[lo + s, j]) / mean_over
        elif net.loss == BINARY_CROSSENTROPY:
            # -[y log s(z) + (1-y) log(1-s(z))] = max(z, 0) - z y + log(1 + exp(-|z|))
            for j in range(k):
                z = Z[L, s, j]
                loss += max(z, 0) - z * Y[lo + s, j] + math.log1p(math.exp(-abs(z)))
                D[L, s, j] = (A[L, s, j] - Y[lo + s, j]) / mean_over
        else:  # mse: dL/da first, then back through the output activation
            for j in range(k):
                error = A[L, s, j] - Y[lo + s, j]
                loss += error * error
                D[L, s, j] = 2 * error / mean_over
            backprop_activation(net.activations[-1], Z, A, D, L, s, k, net.alpha)
    return loss / mean_over


# ---- backward: the gradient, layer by layer from the last ----


@kernel
def backward(params, net, m, Z, A, D, grads):
    """Add the gradient of m samples to grads, given the last layer's delta in D."""
    for l in range(len(net.activations) - 1, -1, -1):
        n_in, n_out = net.sizes[l], net.sizes[l + 1]
        dW, db = layer_params(grads, net, l)
        # dL/dW[i, j] = sum over samples of a_in[i] * delta[j]. Input i outermost: row i of
        # the gradient stays in cache while every sample adds to it.
        for i in range(n_in):
            for s in range(m):
                a_i = A[l, s, i]
                for j in range(n_out):
                    dW[i * n_out + j] += a_i * D[l + 1, s, j]
        if net.bias:  # without biases db stays zero, so b never moves
            for s in range(m):
                for j in range(n_out):
                    db[j] += D[l + 1, s, j]
        if l > 0:  # nobody needs the gradient with respect to the inputs
            # dL/da_in[i] = sum over j of W[i, j] * delta[j], then back through act_{l-1}
            W, _ = layer_params(params, net, l)
            for s in range(m):
                for i in range(n_in):
                    total = params.dtype.type(0)  # accumulate in the network's dtype
                    for j in range(n_out):
                        total += W[i * n_out + j] * D[l + 1, s, j]
                    D[l, s, i] = total
                backprop_activation(net.activations[l - 1], Z, A, D, l, s, n_in, net.alpha)


@kernel
def add_gradient(params, net, X, Y, start, stop, n, grads, Z, A, D):
    """Add the gradient of samples start .. stop - 1 (of a batch of n) to grads; return their
    share of the loss.

    The samples go through in blocks of as many rows as the scratch arrays have. Every gradient
    entry still receives its samples' terms in sample order, so the block size does not change
    a single bit of the gradient.
    """
    loss = 0.0
    for lo in range(start, stop, Z.shape[1]):
        hi = min(lo + Z.shape[1], stop)
        forward(params, net, X, lo, hi, Z, A)
        loss += loss_and_output_delta(net, Z, A, D, Y, lo, hi, n)
        backward(params, net, hi - lo, Z, A, D, grads)
    return loss


@kernel
def batch_loss_and_gradient(params, net, X, Y, grads, work):
    """The batch's mean loss; its gradient into grads."""
    grads[:] = 0
    Z, A, D = work
    return add_gradient(params, net, X, Y, 0, len(X), len(X), grads, Z, A, D)


# ---- update, and whole epochs of them ----


@kernel
def gradient_descent_step(params, grads, lr):
    """W -= lr * dW and b -= lr * db, for every layer at once: they share one layout."""
    for p in range(len(params)):
        params[p] -= lr * grads[p]


@kernel
def train_epochs(params, net, X, Y, epochs, lr, batch_size, grads, work, losses):
    """Train `epochs` epochs of mini-batches taken in order; each epoch's loss into losses.

    Returns the number of epochs run: it stops after the first epoch whose loss is not a finite
    number, since every epoch after it would be NaN too.
    """
    n = len(X)
    Z, A, D = work
    for epoch in range(epochs):
        total = 0.0
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            # add_gradient's loop, written out: calling the leaf kernels directly from here
            # saves a call that would update ~10 reference counts per mini-batch.
            grads[:] = 0
            loss = 0.0
            for lo in range(start, stop, Z.shape[1]):
                hi = min(lo + Z.shape[1], stop)
                forward(params, net, X, lo, hi, Z, A)
                loss += loss_and_output_delta(net, Z, A, D, Y, lo, hi, stop - start)
                backward(params, net, hi - lo, Z, A, D, grads)
            gradient_descent_step(params, grads, lr)
            total += (stop - start) * loss
        losses[epoch] = total / n
        if not math.isfinite(losses[epoch]):
            return epoch + 1
    return epochs


# ---- the common interface around the kernels ----


class NumbaJIT(Implementation):
    name = "numba"
    dtypes = ("float64", "float32")

    def _set_weights(self, params: Params) -> None:
        self.net = make_layout(self.spec, self.dtype)
        flat = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in params])
        self.params = aligned_empty(flat.shape, self.dtype)
        self.params[:] = flat

    def _work(self, n_samples, copies=None):
        return scratch(self.spec, n_samples, self.dtype, copies)

    def _gradient_array(self):
        """Where a gradient is summed: laid out like the parameters, on a cache line."""
        return aligned_empty(self.params.shape, self.dtype)

    def _get_weights(self) -> Params:
        return layer_views(self.params, self.net)

    def _forward(self, X):
        out = np.empty((len(X), self.spec.n_outputs), self.dtype)
        predict(self.params, self.net, X, out, self._work(len(X)))
        return out

    def _loss_and_grads(self, X, Y):
        grads = self._gradient_array()
        loss = batch_loss_and_gradient(self.params, self.net, X, Y, grads, self._work(len(X)))
        return loss, layer_views(grads, self.net)

    def _train_step(self, X, Y, lr):
        return self._train_epochs(X, Y, 1, lr, len(X))[0]

    def _train_epochs(self, X, Y, epochs, lr, batch_size):
        losses = np.empty(epochs)
        done = train_epochs(self.params, self.net, X, Y, epochs, self.dtype.type(lr), batch_size,
                            self._gradient_array(), self._work(batch_size), losses)
        return losses[:done].tolist()


# ---- compile time, measured on its own ----


def warm_up(dtype: str = "float64", parallel: bool | None = None) -> float:
    """Compile (or load from Numba's on-disk cache) every kernel for `dtype`; return seconds.

    One tiny network is enough: activations and losses are run-time codes, so the kernels do
    not depend on the network. `parallel=None` warms both classes; True or False just one.
    """
    started = time.perf_counter()
    spec = NetworkSpec((2, 3, 2), ("tanh", "softmax"), "categorical_crossentropy")
    params = init_params(spec, "glorot_uniform", seed=0)
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    from .numba_parallel import NumbaParallel  # it builds on this module

    classes = {None: (NumbaJIT, NumbaParallel), False: (NumbaJIT,), True: (NumbaParallel,)}
    for cls in classes[parallel]:
        impl = cls(spec, params, dtype=dtype)
        impl.predict(X)
        impl.loss_and_grads(X, Y)
        impl.fit(X, Y, epochs=2, lr=0.1, batch_size=1)
    return time.perf_counter() - started
