"""Vectorised NumPy: the whole mini-batch at once, one matrix product per layer.

This is the reference every other implementation is tested against, so it is written to be
read: forward, loss, backward, update, each a few lines of array algebra over the batch.

Shapes for a batch of N samples: a_{l-1} is (N, n_in), W_l is (n_in, n_out), z_l and a_l are
(N, n_out). A "delta" is dL/dz_l, the gradient of the mean loss with respect to the layer's
pre-activations, also (N, n_out).
"""

from __future__ import annotations

import numpy as np

from .base import Implementation
from .spec import Params

# ---- activations, and their derivatives written in terms of (z, a) ----


def sigmoid(z):
    # exp(-|z|) never overflows; the two branches are the same function on either side of 0.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z):
    # Over the last axis, so one sample (a vector) works as well as a batch.
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def activate(name, z, alpha):
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    if name == "softmax":
        return softmax(z)
    return z  # linear


def backprop_activation(name, z, a, grad_a, alpha):
    """dL/dz from dL/da: the elementwise derivative, or softmax's Jacobian-vector product."""
    if name == "sigmoid":
        return grad_a * a * (1 - a)
    if name == "tanh":
        return grad_a * (1 - a * a)
    if name == "relu":
        return grad_a * (z > 0)
    if name == "leaky_relu":
        return grad_a * np.where(z > 0, 1, alpha).astype(z.dtype)
    if name == "softmax":
        # (diag(S) - S S^T) g, for each row, without forming the matrix.
        return a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))
    return grad_a  # linear


# ---- losses: the mean over the batch, as Keras defines them ----


def loss_and_output_delta(loss, z, a, Y, activation, alpha):
    """The mean loss and dL/dz of the last layer.

    Cross-entropy is computed from the logits z (the stable form), which is why its delta is
    simply (a - Y) scaled by the number of terms averaged.
    """
    n, k = Y.shape
    if loss == "categorical_crossentropy":
        shifted = z - z.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -np.sum(Y * log_softmax) / n, (a - Y) / n
    if loss == "binary_crossentropy":
        # -[y log s(z) + (1-y) log(1-s(z))] = max(z, 0) - z y + log(1 + exp(-|z|))
        terms = np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z)))
        return np.sum(terms) / (n * k), (a - Y) / (n * k)
    error = a - Y  # mse
    return np.sum(error * error) / (n * k), backprop_activation(activation, z, a,
                                                                 2 * error / (n * k), alpha)


class NumpyVectorised(Implementation):
    name = "numpy"

    def _set_weights(self, params: Params) -> None:
        self.weights = [W.astype(self.dtype) for W, _ in params]
        self.biases = [b.astype(self.dtype) for _, b in params]

    def _get_weights(self) -> Params:
        return list(zip(self.weights, self.biases))

    def _forward_all(self, X):
        """Every layer's (z, a), kept for the backward pass."""
        layers = []
        a = X
        for W, b, act in zip(self.weights, self.biases, self.spec.activations):
            z = a @ W + b
            a = activate(act, z, self.spec.alpha)
            layers.append((z, a))
        return layers

    def _forward(self, X):
        return self._forward_all(X)[-1][1]

    def _loss_and_grads(self, X, Y):
        spec = self.spec
        layers = self._forward_all(X)
        z, a = layers[-1]
        loss, delta = loss_and_output_delta(spec.loss, z, a, Y, spec.activations[-1], spec.alpha)
        grads = []
        for layer in reversed(range(len(layers))):
            a_prev = X if layer == 0 else layers[layer - 1][1]
            dW = a_prev.T @ delta
            db = delta.sum(axis=0) if spec.bias else np.zeros_like(self.biases[layer])
            grads.append((dW, db))
            if layer > 0:
                z_prev, a_prev = layers[layer - 1]
                delta = backprop_activation(spec.activations[layer - 1], z_prev, a_prev,
                                            delta @ self.weights[layer].T, spec.alpha)
        return float(loss), grads[::-1]

    def _train_step(self, X, Y, lr):
        loss, grads = self._loss_and_grads(X, Y)
        lr = self.dtype.type(lr)
        for W, b, (dW, db) in zip(self.weights, self.biases, grads):
            W -= lr * dW
            if self.spec.bias:
                b -= lr * db
        return loss
