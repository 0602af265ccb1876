"""NumPy at its best: the reference's whole-batch algebra, with no weight-sized temporary in a step.

The same paradigm as numpy_vec, and the same numbers to within rounding; what changes is only
where the arrays live and how many passes over memory a training step makes:

- every intermediate of a step (each layer's z, a and delta) lives in a buffer made once per
  batch size, and the products write into them (`np.matmul(..., out=)`);
- activations and their derivatives are computed in place;
- the learning rate is folded into the (small) delta before the weight-gradient product, so
  that product is already the update: it goes into a buffer made once, then `W -= update`.

What it leaves out on purpose: a fused update (one BLAS gemm with beta = 1 writing
`W - lr a^T delta` into W), which NumPy does not expose and scipy.linalg.blas made slower here
(docs/implementation-notes.md); and a `predict` or `loss_and_grads` of its own: those are the
reference's, since the training step is what this file is about.
"""

from __future__ import annotations

import numpy as np

from .numpy_vec import NumpyVectorised


def activate_into(name, z, a, scratch, alpha):
    """a = act(z), written into a; `scratch` is a buffer of z's shape to spare."""
    if name == "sigmoid":
        np.abs(z, out=a)
        np.negative(a, out=a)
        np.exp(a, out=a)  # e = exp(-|z|): never overflows
        np.add(a, 1, out=scratch)
        np.copyto(a, 1, where=z >= 0)  # z >= 0: 1 / (1 + e); z < 0: e / (1 + e)
        a /= scratch
    elif name == "tanh":
        np.tanh(z, out=a)
    elif name == "relu":
        np.maximum(z, 0, out=a)
    elif name == "leaky_relu":
        np.multiply(z, alpha, out=a)
        np.copyto(a, z, where=z > 0)
    elif name == "softmax":
        np.subtract(z, z.max(axis=1, keepdims=True), out=a)
        np.exp(a, out=a)
        a /= a.sum(axis=1, keepdims=True)
    else:  # linear
        np.copyto(a, z)


def backprop_into(name, z, a, grad, alpha):
    """grad = dL/dz from dL/da, in place (softmax as its Jacobian-vector product)."""
    if name == "sigmoid":
        grad *= a
        grad *= 1 - a
    elif name == "tanh":
        grad *= 1 - a * a
    elif name == "relu":
        grad *= z > 0
    elif name == "leaky_relu":
        grad *= np.where(z > 0, 1, alpha).astype(z.dtype)
    elif name == "softmax":
        grad -= np.sum(grad * a, axis=1, keepdims=True)
        grad *= a


class NumpyFast(NumpyVectorised):
    name = "numpy-fast"

    def _set_weights(self, params):
        super()._set_weights(params)
        self._updates = [np.empty_like(W) for W in self.weights]  # lr * dW of each layer
        self._buffers = {}  # batch size -> each layer's (z, a, delta)

    def _layers(self, n):
        """Each layer's (z, a, delta) buffers at batch size n, made on first use."""
        if n not in self._buffers:
            self._buffers[n] = [tuple(np.empty((n, n_out), self.dtype) for _ in range(3))
                                for _, n_out in self.spec.layer_shapes]
        return self._buffers[n]

    def _train_step(self, X, Y, lr):
        spec = self.spec
        layers = self._layers(len(X))
        a_prev = X
        for W, b, act, (z, a, delta) in zip(self.weights, self.biases, spec.activations, layers):
            np.matmul(a_prev, W, out=z)
            if spec.bias:
                z += b
            activate_into(act, z, a, delta, spec.alpha)  # delta is not needed until backward
            a_prev = a
        loss = self._output_delta(Y, *layers[-1])
        lr = self.dtype.type(lr)
        for layer in reversed(range(len(layers))):
            W, b, update = self.weights[layer], self.biases[layer], self._updates[layer]
            delta = layers[layer][2]
            a_prev = X if layer == 0 else layers[layer - 1][1]
            if layer > 0:  # the delta below needs this layer's W before its update
                z_below, a_below, delta_below = layers[layer - 1]
                np.matmul(delta, W.T, out=delta_below)
                backprop_into(spec.activations[layer - 1], z_below, a_below, delta_below,
                              spec.alpha)
            delta *= lr
            np.matmul(a_prev.T, delta, out=update)
            W -= update
            if spec.bias:
                b -= delta.sum(axis=0)
        return loss

    def _output_delta(self, Y, z, a, delta):
        """The batch's mean loss, and dL/dz of the last layer written into `delta`."""
        spec, (n, k) = self.spec, Y.shape
        if spec.loss == "categorical_crossentropy":
            shifted = z - z.max(axis=1, keepdims=True)
            log_sum = np.log(np.exp(shifted).sum(axis=1))  # -log softmax = log_sum - shifted
            loss = np.sum(Y.sum(axis=1) * log_sum) - np.sum(Y * shifted)
            np.subtract(a, Y, out=delta)
            delta /= n
            return float(loss / n)
        if spec.loss == "binary_crossentropy":
            terms = np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z)))
            np.subtract(a, Y, out=delta)
            delta /= n * k
            return float(np.sum(terms) / (n * k))
        np.subtract(a, Y, out=delta)  # mse
        loss = float(np.sum(delta * delta) / (n * k))
        delta *= 2 / (n * k)
        backprop_into(spec.activations[-1], z, a, delta, spec.alpha)
        return loss
