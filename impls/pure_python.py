"""Pure Python: lists of floats, `math`, and loops over samples, neurons and inputs.

No NumPy in the math (only at the edges, where the common interface hands arrays in and out).
This is the algorithm as a textbook states it, one sample at a time, written the way a careful
Python programmer would: each neuron keeps the list of its incoming weights, so a neuron's
pre-activation is one `sum(map(mul, weights, inputs))`, and no inner loop indexes a list.

For a layer with n_in inputs and n_out neurons we store, per neuron j, `incoming[j]`: the
n_in weights W[0][j] .. W[n_in-1][j] (the columns of the common (n_in, n_out) W), and
`bias[j]`.
"""

from __future__ import annotations

import math
from operator import mul

import numpy as np

from .base import Implementation
from .spec import Params

# ---- activations of one number, and their derivatives in terms of (z, a) ----


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)  # for z < 0 this cannot overflow
    return e / (1.0 + e)


ACTIVATE = {
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "relu": lambda z: z if z > 0 else 0.0,
    "linear": lambda z: z,
}
DERIVATIVE = {
    "sigmoid": lambda z, a: a * (1.0 - a),
    "tanh": lambda z, a: 1.0 - a * a,
    "relu": lambda z, a: 1.0 if z > 0 else 0.0,
    "linear": lambda z, a: 1.0,
}


def softmax(zs):
    top = max(zs)
    exps = [math.exp(z - top) for z in zs]
    total = sum(exps)
    return [e / total for e in exps]


def log_sum_exp(zs):
    top = max(zs)
    return top + math.log(sum(math.exp(z - top) for z in zs))


class PurePython(Implementation):
    name = "python"
    per_sample = True
    dtypes = ("float64",)  # a Python float is a C double; there is no float32
    rtol = {"float64": 1e-10}  # it stays this close to NumPy's float64, so it is held to it

    def _set_weights(self, params: Params) -> None:
        self.incoming = [W.T.tolist() for W, _ in params]
        self.bias = [b.tolist() for _, b in params]

    def _get_weights(self) -> Params:
        return [(np.array(incoming).T, np.array(bias))
                for incoming, bias in zip(self.incoming, self.bias)]

    # ---- forward: one sample through every layer ----

    def _activate_layer(self, name, zs):
        if name == "softmax":
            return softmax(zs)
        if name == "leaky_relu":
            alpha = self.spec.alpha
            return [z if z > 0 else alpha * z for z in zs]
        f = ACTIVATE[name]
        return [f(z) for z in zs]

    def _forward_sample(self, x):
        """Every layer's (zs, activations) for one sample x (a list of floats)."""
        layers = []
        a = x
        for incoming, bias, name in zip(self.incoming, self.bias, self.spec.activations):
            zs = [b + sum(map(mul, weights, a)) for weights, b in zip(incoming, bias)]
            a = self._activate_layer(name, zs)
            layers.append((zs, a))
        return layers

    def _forward(self, X):
        return np.array([self._forward_sample(x)[-1][1] for x in X.tolist()])

    # ---- loss and the last layer's delta, for one sample ----

    def _sample_loss_and_delta(self, zs, a, y, n):
        """This sample's share of the mean loss, and dL/dz of the last layer.

        n is the number of samples in the batch; every term is divided by what the mean
        divides by (n, or n * outputs), so summing over the batch gives the batch's mean.
        """
        loss_name, k = self.spec.loss, len(y)
        if loss_name == "categorical_crossentropy":
            # -sum(y log softmax(z)) = lse(z) sum(y) - sum(y z); sum(y) is 1 for one-hot rows
            loss = log_sum_exp(zs) * sum(y) - sum(map(mul, y, zs))
            return loss / n, [(a_i - y_i) / n for a_i, y_i in zip(a, y)]
        if loss_name == "binary_crossentropy":
            loss = sum(max(z, 0.0) - z * y_i + math.log1p(math.exp(-abs(z)))
                       for z, y_i in zip(zs, y))
            return loss / (n * k), [(a_i - y_i) / (n * k) for a_i, y_i in zip(a, y)]
        errors = [a_i - y_i for a_i, y_i in zip(a, y)]  # mse
        loss = sum(e * e for e in errors) / (n * k)
        grad_a = [2.0 * e / (n * k) for e in errors]
        return loss, self._backprop_activation(self.spec.activations[-1], zs, a, grad_a)

    def _backprop_activation(self, name, zs, a, grad_a):
        """dL/dz from dL/da for one layer of one sample."""
        if name == "softmax":  # (diag(S) - S S^T) g
            dot = sum(map(mul, grad_a, a))
            return [s * (g - dot) for s, g in zip(a, grad_a)]
        if name == "leaky_relu":
            alpha = self.spec.alpha
            return [g if z > 0 else alpha * g for z, g in zip(zs, grad_a)]
        derivative = DERIVATIVE[name]
        return [g * derivative(z, s) for z, s, g in zip(zs, a, grad_a)]

    # ---- backward: sum every sample's gradient into per-neuron lists ----

    def _gradients(self, X, Y):
        """The batch's mean loss and its gradients, as lists shaped like the weights."""
        n = len(X)
        grad_in = [[[0.0] * len(w) for w in incoming] for incoming in self.incoming]
        grad_bias = [[0.0] * len(bias) for bias in self.bias]
        total_loss = 0.0
        for x, y in zip(X.tolist(), Y.tolist()):
            layers = self._forward_sample(x)
            zs, a = layers[-1]
            loss, delta = self._sample_loss_and_delta(zs, a, y, n)
            total_loss += loss
            for layer in reversed(range(len(layers))):
                a_prev = x if layer == 0 else layers[layer - 1][1]
                grads, incoming = grad_in[layer], self.incoming[layer]
                grad_a_prev = [0.0] * len(a_prev)
                for j, d in enumerate(delta):
                    # dL/dW[i][j] = a_prev[i] * delta[j]; dL/da_prev[i] += W[i][j] * delta[j]
                    grads[j] = [g + x_i * d for g, x_i in zip(grads[j], a_prev)]
                    grad_bias[layer][j] += d
                    if layer > 0:  # nobody needs the gradient with respect to the inputs
                        grad_a_prev = [g + w * d for g, w in zip(grad_a_prev, incoming[j])]
                if layer > 0:
                    zs_prev, a_prev = layers[layer - 1]
                    delta = self._backprop_activation(self.spec.activations[layer - 1],
                                                      zs_prev, a_prev, grad_a_prev)
        if not self.spec.bias:
            grad_bias = [[0.0] * len(bias) for bias in self.bias]
        return total_loss, grad_in, grad_bias

    def _loss_and_grads(self, X, Y):
        loss, grad_in, grad_bias = self._gradients(X, Y)
        return loss, [(np.array(g).T, np.array(gb)) for g, gb in zip(grad_in, grad_bias)]

    # ---- update: plain gradient descent, neuron by neuron ----

    def _train_step(self, X, Y, lr):
        loss, grad_in, grad_bias = self._gradients(X, Y)
        for layer, (grads, grads_bias) in enumerate(zip(grad_in, grad_bias)):
            self.incoming[layer] = [[w - lr * g for w, g in zip(weights, grad)]
                                    for weights, grad in zip(self.incoming[layer], grads)]
            if self.spec.bias:
                self.bias[layer] = [b - lr * g for b, g in zip(self.bias[layer], grads_bias)]
        return loss
