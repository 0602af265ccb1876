"""JAX: the network as pure functions, gradients by `jax.grad`, a whole epoch in one `jit`.

Nothing here holds state while it computes. Parameters are a pytree (a list of (W, b) pairs);
`logits`, `outputs` and `loss` are plain functions of (params, X, Y); `jax.value_and_grad`
turns `loss` into a function that also returns its gradient with respect to params; an SGD
step is a new params pytree. `train_epoch` runs every mini-batch of an epoch inside one
compiled XLA program: `lax.scan` over the full batches, then one more step for the short
last batch when there is one (its shape differs, so it cannot be a scan iteration).

The spec is a static argument of every jitted function (a frozen dataclass, so hashable):
the layer loop unrolls at trace time, and implementations of equal specs share compiled
code. A new data shape, batch size or dtype compiles once, on its first call.

float64: JAX computes in float32 unless `jax_enable_x64` is on. This file never turns it on
globally; each call into JAX from a float64 implementation runs inside the
`jax.enable_x64(True)` context (thread-local, undone on exit). So after creating and training
one, `jnp.zeros(1)` is still float32 and `jax.config.jax_enable_x64` is what it was;
tests/test_torch_jax.py checks this.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .base import Implementation
from .spec import NetworkSpec, Params

# ---- forward: pure functions of (params, X) ----


def activate(name: str, z, alpha: float):
    if name == "sigmoid":
        return jax.nn.sigmoid(z)
    if name == "tanh":
        return jnp.tanh(z)
    if name == "relu":
        return jax.nn.relu(z)  # its derivative at exactly 0 is 0, as numpy_vec's
    if name == "leaky_relu":
        # Written out rather than jax.nn.leaky_relu, whose derivative at exactly 0 is 1;
        # numpy_vec (and torch) use alpha there.
        return jnp.where(z > 0, z, alpha * z)
    if name == "softmax":
        return jax.nn.softmax(z, axis=1)
    return z  # linear


def logits(params, X, spec: NetworkSpec):
    """The last layer's pre-activation z; the layers before it are activated."""
    a = X
    for layer, ((W, b), act) in enumerate(zip(params, spec.activations)):
        # Without biases b is never used, so jax.grad gives exactly zero for it and the
        # update leaves it at zero.
        z = a @ W + b if spec.bias else a @ W
        if layer == len(params) - 1:
            return z
        a = activate(act, z, spec.alpha)


def outputs(params, X, spec: NetworkSpec):
    return activate(spec.activations[-1], logits(params, X, spec), spec.alpha)


# ---- loss: the mean over the batch, as numpy_vec defines it; cross-entropy from logits ----


def loss(params, X, Y, spec: NetworkSpec):
    z = logits(params, X, spec)
    if spec.loss == "categorical_crossentropy":
        return -jnp.sum(Y * jax.nn.log_softmax(z, axis=1)) / X.shape[0]
    if spec.loss == "binary_crossentropy":
        # -[y log s(z) + (1 - y) log(1 - s(z))], with log(1 - s(z)) = log s(-z).
        return -jnp.mean(Y * jax.nn.log_sigmoid(z) + (1 - Y) * jax.nn.log_sigmoid(-z))
    return jnp.mean((activate(spec.activations[-1], z, spec.alpha) - Y) ** 2)  # mse


# ---- gradient and update ----

loss_and_grads = jax.jit(jax.value_and_grad(loss), static_argnames="spec")


def sgd_step(params, X, Y, lr, spec: NetworkSpec):
    """One step of plain gradient descent: (new params, the loss before the step)."""
    value, grads = jax.value_and_grad(loss)(params, X, Y, spec)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads), value


@functools.partial(jax.jit, static_argnames=("spec", "batch_size"))
def train_epoch(params, X, Y, lr, spec: NetworkSpec, batch_size: int):
    """Every mini-batch of one epoch, in order: (new params, the epoch's loss)."""
    n = X.shape[0]  # shapes are static inside jit: plain Python arithmetic
    full = n // batch_size
    cut = full * batch_size
    batches = (X[:cut].reshape(full, batch_size, -1), Y[:cut].reshape(full, batch_size, -1))
    params, losses = lax.scan(lambda p, batch: sgd_step(p, *batch, lr, spec), params, batches)
    total = batch_size * jnp.sum(losses)  # each batch's loss weighted by its size
    if cut < n:
        params, last = sgd_step(params, X[cut:], Y[cut:], lr, spec)
        total = total + (n - cut) * last
    return params, total / n


predict = jax.jit(outputs, static_argnames="spec")


class JaxJIT(Implementation):
    name = "jax"
    slow_to_build = True
    dtypes = ("float64", "float32")

    def _x64(self):
        """The context every call into JAX runs in: 64-bit types on for float64 only."""
        return jax.enable_x64(self.dtype == np.float64)

    # ---- load weights: NumPy in, device arrays held, NumPy out ----

    def _set_weights(self, params: Params) -> None:
        with self._x64():
            self.params = [(jnp.asarray(W.astype(self.dtype)), jnp.asarray(b.astype(self.dtype)))
                           for W, b in params]

    def _get_weights(self) -> Params:
        return [(np.asarray(W), np.asarray(b)) for W, b in self.params]

    # ---- the interface's hooks call the pure functions above ----

    # np.array copies: a view of a JAX buffer is read-only, and callers may write to results.

    def _forward(self, X):
        with self._x64():
            return np.array(predict(self.params, X, self.spec))

    def _loss_and_grads(self, X, Y):
        with self._x64():
            value, grads = loss_and_grads(self.params, X, Y, self.spec)
            return float(value), [(np.array(dW), np.array(db)) for dW, db in grads]

    def _lr(self, lr: float):
        return jnp.asarray(lr, dtype=self.dtype)  # traced, not static: a new lr recompiles nothing

    def _train_step(self, X, Y, lr):
        with self._x64():
            self.params, value = train_epoch(self.params, X, Y, self._lr(lr), self.spec, len(X))
            return float(value)

    def _train_epochs(self, X, Y, epochs, lr, batch_size):
        with self._x64():
            X, Y, lr = jnp.asarray(X), jnp.asarray(Y), self._lr(lr)  # to the device once
            losses = []
            for _ in range(epochs):
                # Dispatch is asynchronous: the loop queues epochs while earlier ones run.
                self.params, value = train_epoch(self.params, X, Y, lr, self.spec, batch_size)
                losses.append(value)
            return [float(value) for value in losses]
