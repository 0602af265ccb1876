"""Keras 3 on TensorFlow: a `Sequential` of `Dense` layers, `compile`, `fit`, `predict`.

The network is what a Keras user writes: `Dense` layers with the spec's activations, weights
loaded with `set_weights` (the common W is already Keras's kernel layout, (n_in, n_out)),
plain `SGD`, and `model.fit(..., shuffle=False)` over the mini-batches in the order the base
class hands them. The gradients that `loss_and_grads` reports come from `tf.GradientTape`.

Cross-entropy is computed from logits, as Keras recommends: the last `Dense` layer stays linear
and the loss is built with `from_logits=True`, so it is the same function as numpy_vec's
(log-sum-exp, never the log of a rounded probability). The softmax or sigmoid is a layer put
on top for `predict` only.

float64: every layer gets `dtype="float64"`. Keras also reads its global `floatx` in places
no argument reaches (the optimizer's learning rate, the compiled loss, the History's loss
tracker), so those are created with `floatx` set to our dtype and it is put back at once:
nothing global is left changed (but two threads must not build models at the same moment).
The data goes to `fit` as a `tf.data.Dataset`, because `fit` casts NumPy arrays to `floatx`;
it prepares one batch ahead with tf.data's autotuner off, since arrays already in memory leave
it nothing to tune and its re-planning made equal epochs take unequal times.

Options: `jit_compile=True` compiles the training, prediction and gradient functions with
XLA; `steps_per_execution=k` runs k training steps per call into the graph (less Python
between steps). The defaults, False and 1, are what Keras does on a CPU (its "auto" would
turn XLA on where there is a GPU; a fixed default keeps machines comparable).

Threads: TensorFlow sizes its pools from TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS
when it starts, so a runner that sets those gets what it asked for; this file sets nothing.

Determinism: two trainings from the same Params, data and shuffle seed end on the same bits
on the CPU, with or without TensorFlow's op determinism (tests/test_determinism.py runs both);
nothing here draws a random number. This file does not switch op determinism on: the switch
is process-wide, it is not needed on the CPU, and with it on Keras refuses `jit_compile=True`,
so `keras-fast` would silently lose XLA. On a GPU, call
`tf.config.experimental.enable_op_determinism()` before building.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
import tempfile

import numpy as np

from .base import Implementation
from .errors import InputError
from .spec import Params

# ---- importing TensorFlow quietly ----
#
# TensorFlow's C++ side logs while it loads (oneDNN notices; CUDA probing on a machine without
# a GPU) before it has read its log level, straight to file descriptor 2: neither
# TF_CPP_MIN_LOG_LEVEL nor Python's logging stops those lines. So we catch descriptor 2 while
# TensorFlow loads and looks for devices, and pass on whatever it caught that is not such a log
# line. For what it logs later, TF_CPP_MIN_LOG_LEVEL=2 (errors only) is set for the import,
# unless the user chose a level: TensorFlow reads it once, at its first log line, so it holds
# after the variable is taken out of the environment again (where child processes would take
# it for the user's choice).

_USER_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
_LOG_LINE = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")
_LOG_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
_PYTHON_WARNING = re.compile(r"\S.*:\d+: \w*Warning: ")


def _without_startup_logs(text: str, user_level: str | None) -> str:
    """`text` less TensorFlow's C++ log lines, except those the user's own level asks for.

    With no level set by the user every log line goes: the CUDA probing on a machine without
    a GPU is logged as an error, but it is expected. Anything else (a Python warning) stays,
    apart from the continuation lines of a dropped log message.
    """
    shown_from = int(user_level) if user_level in ("0", "1", "2", "3") else 4  # 0=I ... 3=F
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        if _LOG_LINE.match(line):
            dropping = "IWEF".index(line[0]) < shown_from
        elif line.startswith(_LOG_BANNER):
            dropping = shown_from > 0
        elif _PYTHON_WARNING.match(line):
            dropping = False
        if not dropping:
            kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def _startup_logs_caught():
    """Catch file descriptor 2 (where C++ writes) in the block; pass on what is worth showing."""
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 at all: nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = _without_startup_logs(caught.read().decode(errors="replace"),
                                         _USER_LOG_LEVEL)
            if text:
                os.write(2, text.encode())


@contextlib.contextmanager
def _environment_defaults(**defaults):
    """Set the environment variables not already set, for the block only."""
    added = [name for name in defaults if name not in os.environ]
    os.environ.update({name: defaults[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


with _startup_logs_caught(), _environment_defaults(TF_CPP_MIN_LOG_LEVEL="2",
                                                   KERAS_BACKEND="tensorflow"):
    import keras
    import tensorflow as tf

    # If a GPU is visible TensorFlow places the work there; the benchmark reports which.
    _GPUS = tf.config.list_physical_devices("GPU")
    DEVICE = (tf.config.experimental.get_device_details(_GPUS[0]).get("device_name", "GPU")
              if _GPUS else "CPU")

if keras.backend.backend() != "tensorflow":
    raise ImportError(f"Keras runs on {keras.backend.backend()!r} in this process "
                      f"(KERAS_BACKEND); this implementation needs KERAS_BACKEND=tensorflow")


class _StopWhenDiverged(keras.callbacks.Callback):
    """Ends `fit` after the first epoch whose loss is inf or NaN, as the other paradigms stop,
    instead of training the remaining epochs on NaNs (the base class then raises)."""

    def on_epoch_end(self, epoch, logs=None):
        if not math.isfinite(float((logs or {}).get("loss", 0.0))):
            self.model.stop_training = True


class _NewModelsTrace(logging.Filter):
    """Drops TensorFlow's warning that tf.function retraces often, for Keras models' functions.

    Every new model traces its functions once, on first use; after five new models TensorFlow
    warns that "5 out of the last 5 calls" traced. A suite that builds a model per network and
    dtype does exactly that, on purpose, so for these functions the warning is noise.
    """

    def filter(self, record):
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message
                    and ("KerasTF" in message or "TensorFlowTrainer" in message))


tf.get_logger().addFilter(_NewModelsTrace())


@contextlib.contextmanager
def _floatx(dtype: str):
    """Keras's global floatx set to `dtype` inside the block, and put back after it."""
    previous = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


# ---- the pieces: activations and losses by the common names ----


def activation(name: str, alpha: float):
    """A Dense layer's activation: Keras's own, by name, except leaky_relu."""
    if name == "leaky_relu":
        # Keras's LeakyReLU runs TensorFlow's LeakyRelu kernel, which holds the slope as a
        # 32-bit attribute: in float64 a slope of 0.1 becomes 0.10000000149. The same function
        # written with Keras ops keeps the slope in the layer's dtype. (Keras's default slope,
        # 0.3 for the layer and 0.2 for the function, is not ours either: ours is spec.alpha.)
        return lambda z: keras.ops.where(z > 0, z, alpha * z)
    return name


def loss_function(name: str, dtype: str) -> keras.losses.Loss:
    """The loss as numpy_vec defines it (mean over the batch); cross-entropy from logits."""
    if name == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(from_logits=True, dtype=dtype)
    if name == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(from_logits=True, dtype=dtype)
    return keras.losses.MeanSquaredError(dtype=dtype)


# What `predict` puts on top of the logits, for the losses computed from them.
OUTPUT_OF_LOGITS = {"categorical_crossentropy": "softmax", "binary_crossentropy": "sigmoid"}


class KerasTF(Implementation):
    name = "keras"
    slow_to_build = True
    dtypes = ("float64", "float32")
    device = DEVICE  # "CPU", or the name of the GPU TensorFlow uses

    def __init__(self, spec, params, dtype="float64", jit_compile: bool = False,
                 steps_per_execution: int = 1):
        if (isinstance(steps_per_execution, bool)
                or not isinstance(steps_per_execution, (int, np.integer))
                or steps_per_execution < 1):
            raise InputError(f"steps_per_execution must be an integer >= 1, "
                             f"got {steps_per_execution!r}")
        self.jit_compile = bool(jit_compile)
        self.steps_per_execution = int(steps_per_execution)
        self.model = None  # built on the first set_weights, once the spec has been checked
        super().__init__(spec, params, dtype)

    # ---- build: Dense layers on an Input, in our dtype ----

    def _build(self) -> None:
        spec, dtype = self.spec, self.dtype.name
        inputs = keras.Input(shape=(spec.n_inputs,), dtype=dtype)
        output = OUTPUT_OF_LOGITS.get(spec.loss)
        activations = list(spec.activations)
        if output:
            activations[-1] = "linear"  # the model gives logits, which the loss takes
        layers = []
        for (_, n_out), act in zip(spec.layer_shapes, activations):
            # Zero initialisers: the weights come from Params, so draw no random numbers
            # (which would also advance Keras's global seed generator, somebody else's state).
            layers.append(keras.layers.Dense(n_out, activation=activation(act, spec.alpha),
                                             use_bias=spec.bias, dtype=dtype,
                                             kernel_initializer="zeros",
                                             bias_initializer="zeros"))
        self.model = keras.Sequential([inputs, *layers])

        # For predictions, the probabilities: one more layer on top of the trained model.
        self.predictor = self.model
        if output:
            self.predictor = keras.Sequential(
                [inputs, self.model, keras.layers.Activation(output, dtype=dtype)])
            self.predictor.jit_compile = self.jit_compile  # never compiled: set it directly

        self._compile()

    # ---- compile: the loss, plain SGD, and the options ----

    def _compile(self) -> None:
        dtype = self.dtype.name
        self.loss_fn = loss_function(self.spec.loss, dtype)
        with _floatx(dtype):  # the learning-rate variable, compiled loss and loss tracker
            self.model.compile(
                # W -= lr * dW. The rate is a variable that each fit sets: no recompiling.
                optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.0),
                loss=self.loss_fn,
                jit_compile=self.jit_compile,
                steps_per_execution=self.steps_per_execution,
            )
        # loss_and_grads' function: traced once, for batches (X, Y) of any size.
        signature = [tf.TensorSpec((None, width), dtype)
                     for width in (self.spec.n_inputs, self.spec.n_outputs)]
        self._gradient = tf.function(self._tape_gradient, input_signature=signature,
                                     jit_compile=self.jit_compile)

    # ---- load weights: Params in, Params out ----

    def _set_weights(self, params: Params) -> None:
        if self.model is None:
            self._build()
        # model.set_weights takes the variables in order: kernel, then bias, layer by layer.
        self.model.set_weights([w.astype(self.dtype) for W, b in params
                                for w in ((W, b) if self.spec.bias else (W,))])

    def _get_weights(self) -> Params:
        return self._as_params(self.model.get_weights())

    def _as_params(self, arrays) -> Params:
        """Keras's flat list (kernel, bias, kernel, bias, ...) as (W, b) pairs."""
        if self.spec.bias:
            return list(zip(arrays[0::2], arrays[1::2]))
        return [(W, np.zeros(W.shape[1], self.dtype)) for W in arrays]

    # ---- fit: whole epochs, or one batch ----

    def _train_epochs(self, X, Y, epochs, lr, batch_size):
        self.model.optimizer.learning_rate = lr  # assigns the rate's variable
        # The mini-batches in order, the last one possibly shorter: the base class's batches.
        batches = tf.data.Dataset.from_tensor_slices((X, Y)).batch(batch_size).prefetch(1)
        fixed = tf.data.Options()
        fixed.autotune.enabled = False  # no re-planning as it runs (see the module's note)
        history = self.model.fit(batches.with_options(fixed), epochs=epochs, shuffle=False,
                                 verbose=0, callbacks=[_StopWhenDiverged()])
        # Each epoch's loss: the mean of its batches' losses (each taken before its update),
        # weighted by batch size, which is the base class's definition.
        return history.history["loss"]

    def _train_step(self, X, Y, lr):
        self.model.optimizer.learning_rate = lr
        return self.model.train_on_batch(X, Y)  # the batch's loss, before the update

    # ---- predict ----

    def _forward(self, X):
        # predict_on_batch runs Keras's traced predict function on X as one batch; `predict`
        # would set up a data pipeline first, which costs far more than a small batch's work.
        return self.predictor.predict_on_batch(X)

    # ---- the gradient, through GradientTape ----

    def _tape_gradient(self, x, y):
        with tf.GradientTape() as tape:
            loss = self.loss_fn(y, self.model(x, training=True))
        return loss, tape.gradient(loss, self.model.trainable_weights)

    def _loss_and_grads(self, X, Y):
        loss, grads = self._gradient(X, Y)
        return float(loss), self._as_params([g.numpy() for g in grads])
