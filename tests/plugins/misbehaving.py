"""Implementations that misbehave, each in one way, for the tests of plugins and of runs."""

import os
import time

import numpy as np
from tiny import Tiny


class WrongGradient(Tiny):
    """Forgets the factor 2 of the mse gradient: close, and wrong."""

    name = "wrong-gradient"

    def _loss_and_grads(self, X, Y):
        loss, grads = super()._loss_and_grads(X, Y)
        return loss, [(dW / 2, db / 2) for dW, db in grads] if self.spec.loss == "mse" else grads


class Raises(Tiny):
    name = "raises"

    def _train_step(self, X, Y, lr):
        raise RuntimeError("injected failure in _train_step")


class Crashes(Tiny):
    name = "crashes"

    def _forward(self, X):
        os.abort()  # the whole process dies, without writing its JSON


class Disagrees(Tiny):
    """Computes something close to the reference, but not it."""

    name = "disagrees"

    def _forward(self, X):
        return super()._forward(X) * 1.01

    def _train_step(self, X, Y, lr):
        return super()._train_step(X, Y, lr * 1.01)


class ReturnsNaN(Tiny):
    name = "returns-nan"

    def _forward(self, X):
        return np.full((len(X), self.spec.n_outputs), np.nan)


class WrongShape(Tiny):
    name = "wrong-shape"

    def _forward(self, X):
        return super()._forward(X)[:, :1].repeat(2, axis=1)


class Hangs(Tiny):
    name = "hangs"

    def _forward(self, X):
        time.sleep(3600)


class NamedLikeNumpy(Tiny):
    name = "numpy"


class NoName(Tiny):
    name = "has a space"


class NotAnImplementation:
    name = "plain"
