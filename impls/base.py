"""The common interface every implementation keeps, and the bookkeeping they all share.

An implementation (one file per paradigm) writes only its own math, in four hooks:

    _set_weights(params)          store the float64 Params in its own form (lists, arrays, ...)
    _get_weights() -> Params      give them back as float64 NumPy arrays
    _forward(X) -> outputs        the last layer's activations for a batch
    _loss_and_grads(X, Y)         the mean loss and its gradient, weights unchanged
    _train_step(X, Y, lr) -> loss one step of gradient descent on one mini-batch

and may replace `_train_epochs` when its paradigm runs whole epochs at once (Numba keeps the
epoch loop in compiled code, Keras hands it to `model.fit`), and `supports` when it cannot
compute every network the contract allows. Everything else lives here, once:
checking inputs, casting to the working dtype, cutting mini-batches, shuffling, the History,
the progress bar, the divergence check, and `evaluate`.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .errors import DivergenceError, InputError, InputTypeError, UnknownNameError, UnsupportedError
from .spec import DTYPES, NetworkSpec, Params, check_params


@dataclass
class History:
    """What `fit` returns: the loss of each epoch and the seconds training took.

    An epoch's loss is the mean over its samples of the loss each mini-batch had just before
    its update (so, weighted by batch size), which is what Keras's History reports.
    """

    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras's spelling: `history.history["loss"]`."""
        return {"loss": self.loss}


class Implementation(ABC):
    """One way of computing a network: subclass it, set `name`, write the hooks."""

    name: ClassVar[str] = "?"
    dtypes: ClassVar[tuple[str, ...]] = DTYPES
    # It walks a batch one sample at a time, so its time per sample does not depend on the
    # batch: the benchmark times it on a subset of each workload.
    per_sample: ClassVar[bool] = False
    # Building one costs a second or more (a graph to trace, a process to start): the
    # property tests give it fewer random networks.
    slow_to_build: ClassVar[bool] = False

    def __init__(self, spec: NetworkSpec, params: Params, dtype: str = "float64"):
        if not isinstance(spec, NetworkSpec):
            raise InputTypeError(f"spec must be a NetworkSpec, got {type(spec).__name__}")
        if dtype not in DTYPES:
            raise UnknownNameError("dtype", dtype, DTYPES)
        reason = type(self).supports(spec, dtype, **self.options)
        if reason is not None:
            raise UnsupportedError(f"{self.name} does not support {describe(spec)} in {dtype}: "
                                   f"{reason}", reason)
        self.spec = spec
        self.dtype = np.dtype(dtype)
        self.set_weights(params)

    def __repr__(self):
        spec, dtype = getattr(self, "spec", None), getattr(self, "dtype", "")  # unset if refused
        return f"<{type(self).__name__} {self.name} {spec and spec.sizes} {dtype}>"

    @classmethod
    def supports(cls, spec: NetworkSpec, dtype: str, **options) -> str | None:
        """None when it can compute `spec` in `dtype` with these constructor options, else
        why not, in a phrase ("scikit-learn has no leaky_relu"). Override to declare limits."""
        if dtype not in cls.dtypes:
            return f"it has no {dtype}, only {', '.join(cls.dtypes)}"
        return None

    @property
    def options(self) -> dict:
        """The constructor options `supports` is asked about (none by default)."""
        return {}

    # ---- the paradigm's own math: each implementation file writes these ----

    @abstractmethod
    def _set_weights(self, params: Params) -> None: ...

    @abstractmethod
    def _get_weights(self) -> Params: ...

    @abstractmethod
    def _forward(self, X: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _loss_and_grads(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, Params]: ...

    @abstractmethod
    def _train_step(self, X: np.ndarray, Y: np.ndarray, lr: float) -> float: ...

    def _train_epochs(
        self, X: np.ndarray, Y: np.ndarray, epochs: int, lr: float, batch_size: int
    ) -> list[float]:
        """Train `epochs` epochs over X in order; return each epoch's loss."""
        n = len(X)
        losses = []
        for _ in range(epochs):
            total = 0.0
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                total += (stop - start) * self._train_step(X[start:stop], Y[start:stop], lr)
            losses.append(total / n)
        return losses

    # ---- the public interface (Keras's names where Keras has one) ----

    def get_weights(self) -> Params:
        """The current Params, as new float64 arrays."""
        return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64))
                for W, b in self._get_weights()]

    def set_weights(self, params: Params) -> None:
        """Replace the weights (checked against the spec; NaN and infinity refused)."""
        self._set_weights(check_params(self.spec, params))

    def predict(self, X) -> np.ndarray:
        """The last layer's outputs for a batch X of shape (batch, n_inputs)."""
        return np.asarray(self._forward(self._check_X(X)), dtype=np.float64)

    def loss_and_grads(self, X, Y) -> tuple[float, Params]:
        """The loss on (X, Y) and its gradient with respect to every W and b."""
        X, Y = self._check_XY(X, Y)
        loss, grads = self._loss_and_grads(X, Y)
        return float(loss), [(np.asarray(dW, np.float64), np.asarray(db, np.float64))
                             for dW, db in grads]

    def fit(self, X, Y, epochs: int = 1, lr: float = 0.01, batch_size: int | None = None,
            shuffle: bool = False, seed: int = 0, progress: bool = False) -> History:
        """Plain gradient descent, `W -= lr * dW`, over mini-batches taken in order.

        `batch_size=None` trains on the whole batch. With `shuffle=True` the samples are put
        in a new order at the start of every epoch by a generator seeded with `seed`, so every
        implementation sees the same batches. Stops with a DivergenceError as soon as an
        epoch's loss is NaN or infinite.
        """
        X, Y = self._check_XY(X, Y)
        epochs, lr, batch_size = check_training_settings(epochs, lr, batch_size, len(X))

        rng = np.random.default_rng(seed) if shuffle else None
        # Epochs are handed to the implementation in chunks: all at once when nothing needs to
        # happen between them (so compiled paradigms keep the loop), one at a time when the data
        # is reshuffled, and about a hundred chunks when a progress bar wants updates.
        chunk = 1 if shuffle else (max(1, epochs // 100) if progress else epochs)
        history = History()
        bar = _progress_bar(epochs, f"{self.name} {self.dtype}", progress)
        started = time.perf_counter()
        # A diverging run overflows long before its loss is checked; the DivergenceError below
        # says so in one line, so NumPy's own overflow warnings would only repeat it, louder.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), bar:
            done = 0
            while done < epochs:
                n = min(chunk, epochs - done)
                Xe, Ye = X, Y
                if rng is not None:
                    order = rng.permutation(len(X))
                    Xe, Ye = X[order], Y[order]
                losses = [float(v) for v in self._train_epochs(Xe, Ye, n, lr, batch_size)]
                for i, loss in enumerate(losses):
                    if not math.isfinite(loss):
                        raise DivergenceError(
                            f"{self.name}: the loss became {loss} at epoch {done + i + 1}; "
                            f"try a smaller learning rate than {lr}"
                        )
                history.loss.extend(losses)
                done += n
                bar.update(n)
                bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)
        history.seconds = time.perf_counter() - started
        return history

    def evaluate(self, X, Y) -> tuple[float, float]:
        """(loss, accuracy) of the current weights on (X, Y).

        The loss is computed from the predicted outputs by one shared function (it is a
        report, not the paradigm's math). Accuracy: with one-hot targets, the share of samples
        whose largest output is the true class; otherwise the share whose every output is on
        the target's side of 0.5.
        """
        X, Y = self._check_XY(X, Y)
        outputs = np.asarray(self._forward(X), dtype=np.float64)
        Y = Y.astype(np.float64)
        return loss_of_outputs(outputs, Y, self.spec.loss), accuracy(outputs, Y)

    # ---- input checks, once for everybody ----

    def _check_X(self, X) -> np.ndarray:
        return _check_data(X, "X", self.spec.n_inputs, self.dtype)

    def _check_XY(self, X, Y) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_X(X)
        Y = _check_data(Y, "Y", self.spec.n_outputs, self.dtype)
        if len(X) != len(Y):
            raise InputError(f"X has {len(X)} samples but Y has {len(Y)}; they must match")
        if self.spec.loss in ("binary_crossentropy", "categorical_crossentropy"):
            if Y.min() < 0 or Y.max() > 1:
                raise InputError(f"{self.spec.loss} needs targets in [0, 1], got values "
                                 f"from {Y.min():g} to {Y.max():g}")
        if self.spec.loss == "categorical_crossentropy":
            sums = Y.sum(axis=1, dtype=np.float64)
            if not np.allclose(sums, 1.0, atol=1e-6):
                row = int(np.argmax(np.abs(sums - 1.0)))
                raise InputError(f"categorical_crossentropy needs one-hot (or probability) rows "
                                 f"in Y; row {row} sums to {sums[row]:g}")
        return X, Y


def describe(spec: NetworkSpec) -> str:
    """A network in a few words: `784-512-10 relu/softmax categorical_crossentropy`."""
    bias = "" if spec.bias else " without biases"
    return (f"{'-'.join(map(str, spec.sizes))} {'/'.join(spec.activations)} "
            f"{spec.loss}{bias}")


def _check_data(array, what: str, width: int, dtype: np.dtype) -> np.ndarray:
    """`array` as a C-contiguous 2-D array of `dtype`, or a clear error saying what is wrong."""
    array = np.asarray(array)
    if array.dtype.kind not in "fiub":
        raise InputTypeError(f"{what} must hold real numbers, got an array of dtype {array.dtype}")
    if array.ndim != 2:
        raise InputError(f"{what} must be 2-D (samples, features), got shape {array.shape}")
    if array.shape[0] == 0:
        raise InputError(f"{what} is empty: expected at least one sample")
    if array.shape[1] != width:
        raise InputError(f"{what} has {array.shape[1]} columns, the network expects {width}")
    array = np.ascontiguousarray(array, dtype=dtype)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{what} contains NaN or infinity")
    return array


def check_training_settings(epochs, lr, batch_size, n_samples: int) -> tuple[int, float, int]:
    """(epochs, lr, batch_size) checked; a batch size of None means the whole data."""
    epochs = _check_count(epochs, "epochs")
    lr = _check_lr(lr)
    batch_size = n_samples if batch_size is None else _check_count(batch_size, "batch size")
    if batch_size > n_samples:
        raise InputError(f"batch size {batch_size} is larger than the data ({n_samples} samples)")
    return epochs, lr, batch_size


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(f"{what} must be an integer, got {value!r}")
    if value < 1:
        raise InputError(f"{what} must be at least 1, got {value}")
    return int(value)


def _check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, np.integer)):
        raise InputTypeError(f"learning rate must be a number, got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise InputError(f"learning rate must be a finite number > 0, got {lr}")
    return float(lr)


def loss_of_outputs(outputs: np.ndarray, Y: np.ndarray, loss: str) -> float:
    """The loss of predicted outputs against targets, probabilities clipped away from 0 and 1."""
    if loss == "mse":
        return float(np.mean((outputs - Y) ** 2))
    p = np.clip(outputs, 1e-15, 1 - 1e-15)
    if loss == "binary_crossentropy":
        return float(-np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p)))
    return float(-np.mean(np.sum(Y * np.log(p), axis=1)))


def accuracy(outputs: np.ndarray, Y: np.ndarray) -> float:
    """Share of samples classified right (see `Implementation.evaluate`)."""
    one_hot = Y.shape[1] > 1 and np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)
    if one_hot:
        return float(np.mean(outputs.argmax(axis=1) == Y.argmax(axis=1)))
    return float(np.mean(np.all((outputs > 0.5) == (Y > 0.5), axis=1)))


def _progress_bar(total: int, label: str, enabled: bool):
    """A tqdm bar on stderr, or a do-nothing stand-in when progress is off."""
    if enabled:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=label, unit="epoch", leave=False, dynamic_ncols=True)
    return _NoBar()


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info): ...

    def update(self, n): ...

    def set_postfix(self, **kwargs): ...

    def close(self): ...
