"""scikit-learn's MLPClassifier and MLPRegressor, set up as plain gradient descent.

This is the network most Python users already have: `solver="sgd"` with no momentum, no L2
penalty (`alpha=0`), no shuffling, a constant learning rate and no early stopping, its
`coefs_` and `intercepts_` set from our Params (`W` of shape (n_in, n_out) is already its
layout). Training hands whole epochs to `partial_fit`; the gradient without an update comes
from its own `_backprop`, so every number here is scikit-learn's math.

What it leaves out on purpose: anything scikit-learn cannot express is declined through
`supports`, never approximated. Its layers always have biases, all hidden layers share one
activation (identity, logistic, tanh or relu: no leaky_relu), and the output layer and loss
come as canonical pairs only: linear with mse (MLPRegressor), sigmoid with binary
cross-entropy on 0/1 targets, softmax with categorical cross-entropy on one-hot targets of 3
or more classes (MLPClassifier; two classes become a single logistic output).

Of the presets it runs xor, mnist, mnist-best and binary-reversal, and declines xor-keras,
feedforward-example and digits (sigmoid outputs with mse), xor-bias-column and
copy-first-input (no biases) and mnist-leaky (leaky_relu).

Its losses differ from ours by constant factors, undone here: MLPRegressor's squared error
is half our mse and its gradient that of the sum over outputs, `k/2` times ours for `k`
outputs; the classifier's binary log-loss sums over the outputs (`k` times ours).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor

from .base import Implementation
from .errors import UnsupportedError
from .spec import NetworkSpec, Params

ACTIVATIONS = {"linear": "identity", "sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}


class SklearnMLP(Implementation):
    name = "sklearn"

    @classmethod
    def supports(cls, spec: NetworkSpec, dtype: str, **options) -> str | None:
        """The networks MLPClassifier and MLPRegressor can express."""
        reason = super().supports(spec, dtype)
        if reason is not None:
            return reason
        if "leaky_relu" in spec.activations:
            return "scikit-learn has no leaky_relu"
        if not spec.bias:
            return "scikit-learn's layers always have biases"
        if len(set(spec.activations[:-1])) > 1:
            return "scikit-learn uses one activation for every hidden layer"
        if spec.loss == "mse" and spec.activations[-1] != "linear":
            return "MLPRegressor's output layer is linear: mse needs a linear output here"
        if spec.loss == "categorical_crossentropy" and spec.n_outputs < 3:
            return ("two classes become one logistic output in MLPClassifier: softmax needs 3 "
                    "or more outputs")
        return None

    def _build(self):
        """The estimator, set up by one `partial_fit` on a dummy sample; its weights are ours."""
        spec = self.spec
        hidden = spec.activations[:-1]
        settings = dict(hidden_layer_sizes=spec.sizes[1:-1],
                        activation=ACTIVATIONS[hidden[0]] if hidden else "identity",
                        solver="sgd", alpha=0.0, momentum=0.0, nesterovs_momentum=False,
                        learning_rate="constant", shuffle=False, early_stopping=False,
                        batch_size=1)
        k = spec.n_outputs
        # Ours = theirs * loss_scale; our gradient = theirs * grad_scale (see the docstring).
        self.loss_scale, self.grad_scale = {"mse": (2.0, 2.0 / k),
                                            "binary_crossentropy": (1.0 / k, 1.0 / k),
                                            "categorical_crossentropy": (1.0, 1.0)}[spec.loss]
        X, Y = np.zeros((1, spec.n_inputs), self.dtype), np.eye(1, k, dtype=self.dtype)
        if spec.loss == "mse":
            model = MLPRegressor(**settings).partial_fit(X, self._targets(Y))
        else:
            model = MLPClassifier(**settings)
            model.partial_fit(X, self._targets(Y), classes=np.arange(max(k, 2)))
        self.lr = None
        return model

    def _targets(self, Y):
        """Y as the estimator takes it (values, 0/1 labels, an indicator matrix, class labels)."""
        spec, k = self.spec, self.spec.n_outputs
        if spec.loss == "mse":
            return Y[:, 0] if k == 1 else Y
        binary = (Y == 0) | (Y == 1)
        if spec.loss == "binary_crossentropy":
            if not np.all(binary):
                row = int(np.argmin(np.all(binary, axis=1)))
                raise _refusal(f"MLPClassifier learns from labels: binary_crossentropy needs "
                               f"targets of exactly 0 or 1, row {row} of Y is {Y[row]}")
            return Y[:, 0].astype(int) if k == 1 else Y.astype(int)
        one_hot = np.all(binary, axis=1) & (Y.sum(axis=1) == 1)
        if not np.all(one_hot):
            row = int(np.argmin(one_hot))
            raise _refusal(f"MLPClassifier learns from class labels: categorical_crossentropy "
                           f"needs one-hot rows in Y, row {row} is {Y[row]}")
        return Y.argmax(axis=1)

    def _set_weights(self, params: Params) -> None:
        if not hasattr(self, "model"):
            self.model = self._build()
        self.model.coefs_ = [W.astype(self.dtype) for W, _ in params]
        self.model.intercepts_ = [b.astype(self.dtype) for _, b in params]

    def _get_weights(self) -> Params:
        return list(zip(self.model.coefs_, self.model.intercepts_))

    def _forward(self, X):
        if self.spec.loss == "mse":
            return self.model.predict(X).reshape(len(X), -1)
        P = self.model.predict_proba(X)
        return P[:, 1:] if self.spec.n_outputs == 1 else P  # binary: the columns are [1-p, p]

    def _loss_and_grads(self, X, Y):
        self._targets(Y)  # the same targets as training takes, or the same refusal
        L = len(self.spec.sizes) - 1
        # Y is the estimator's binarized target matrix already (one-hot, 0/1 or values).
        loss, dWs, dbs = self.model._backprop(X, Y, None, [X] + [None] * L, [None] * L,
                                              [None] * L, [None] * L)
        s = self.grad_scale
        return loss * self.loss_scale, [(dW * s, db * s) for dW, db in zip(dWs, dbs)]

    def _train_step(self, X, Y, lr):
        return self._train_epochs(X, Y, 1, lr, len(X))[0]

    def _train_epochs(self, X, Y, epochs, lr, batch_size):
        y = self._targets(Y)
        if lr != self.lr:
            # partial_fit keeps its optimizer, and with it the old rate; plain SGD has no
            # other state, so a fresh one (made at the next call) changes only the rate.
            self.model.set_params(learning_rate_init=lr * self.grad_scale)
            vars(self.model).pop("_optimizer", None)
            self.lr = lr
        self.model.set_params(batch_size=batch_size)
        losses = []
        for _ in range(epochs):
            try:
                self.model.partial_fit(X, y)  # one epoch; loss_ is our History's epoch loss
            except ValueError:
                # It refuses non-finite weights after the epoch; ours would see the next loss.
                if all(np.all(np.isfinite(w)) for w in self.model.coefs_ + self.model.intercepts_):
                    raise
                return losses + [self.model.loss_ * self.loss_scale, math.inf]
            losses.append(self.model.loss_ * self.loss_scale)
        return losses


def _refusal(message: str) -> UnsupportedError:
    return UnsupportedError(f"sklearn does not support these targets: {message}", message)
