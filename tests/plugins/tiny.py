"""A small implementation from outside the package, as a user would write one.

A NumPy network with sigmoid, tanh or linear layers and the mse or binary cross-entropy loss,
in float64. It declares what it leaves out (softmax, relu, float32) through `supports`, and
keeps the contract: W of shape (n_in, n_out), the mean loss, `W -= lr * dW`.
"""

import numpy as np
from nnbench.base import Implementation

ACTIVATE = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "linear": lambda z: z}
SLOPE = {"sigmoid": lambda a: a * (1 - a), "tanh": lambda a: 1 - a * a, "linear": np.ones_like}


class Tiny(Implementation):
    """A plain NumPy network: sigmoid, tanh and linear layers, mse or binary cross-entropy."""

    name = "tiny"
    dtypes = ("float64",)

    @classmethod
    def supports(cls, spec, dtype, **options):
        if any(a not in ACTIVATE for a in spec.activations):
            return "tiny has only sigmoid, tanh and linear layers"
        return super().supports(spec, dtype)

    def _set_weights(self, params):
        self.params = [(W.copy(), b.copy()) for W, b in params]

    def _get_weights(self):
        return self.params

    def _layers(self, X):
        """Every layer's activations, the input first."""
        a = [X]
        for (W, b), name in zip(self.params, self.spec.activations):
            a.append(ACTIVATE[name](a[-1] @ W + b))
        return a

    def _forward(self, X):
        return self._layers(X)[-1]

    def _loss_and_grads(self, X, Y):
        a = self._layers(X)
        out, n = a[-1], Y.size
        if self.spec.loss == "mse":
            slope = SLOPE[self.spec.activations[-1]](out)
            loss, delta = np.mean((out - Y) ** 2), 2 * (out - Y) / n * slope
        else:  # binary cross-entropy from a sigmoid output: dL/dz = (a - y) / n
            p = np.clip(out, 1e-15, 1 - 1e-15)
            loss, delta = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p)), (out - Y) / n
        grads = []
        for layer in range(len(self.params) - 1, -1, -1):
            W, _ = self.params[layer]
            grads.insert(0, (a[layer].T @ delta, delta.sum(axis=0)))
            if layer:
                delta = (delta @ W.T) * SLOPE[self.spec.activations[layer - 1]](a[layer])
        if not self.spec.bias:
            grads = [(dW, np.zeros_like(db)) for dW, db in grads]
        return loss, grads

    def _train_step(self, X, Y, lr):
        loss, grads = self._loss_and_grads(X, Y)
        for (W, b), (dW, db) in zip(self.params, grads):
            W -= lr * dW
            b -= lr * db
        return loss
