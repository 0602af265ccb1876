"""PyTorch on the CPU: `nn.Linear` layers, a loss from logits, autograd, `optim.SGD`.

The network is what a PyTorch user would write: a `Sequential` of `Linear` layers and
activation modules, weights copied in from the common Params, the loss taken from the torch
functional API, gradients from `backward()`, and the update done by `torch.optim.SGD`. With
`compile=True` the forward pass and loss go through `torch.compile` (TorchInductor writes and
builds C++ kernels with the system's compiler, and AOTAutograd compiles the backward pass too).

Layouts: the common W is (n_in, n_out), the Keras kernel; `nn.Linear` keeps its weight as
(n_out, n_in) and computes `x @ weight.T + bias`, so W goes in transposed and comes out
transposed back.

Threads: PyTorch sizes its intra-op pool from OMP_NUM_THREADS (or MKL_NUM_THREADS) when it
starts, so a runner that sets those gets what it asked for; this file sets nothing globally.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .base import Implementation
from .spec import Params


def activation_module(name: str, alpha: float) -> nn.Module:
    """The torch module for one of the common activation names."""
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(alpha)
    if name == "softmax":
        return nn.Softmax(dim=1)
    return nn.Identity()  # linear


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor sharing the array's memory (torch wants it writable, or warns: copy if not)."""
    return torch.from_numpy(np.require(array, requirements="W"))


class TorchCPU(Implementation):
    name = "torch"
    dtypes = ("float64", "float32")

    def __init__(self, spec, params, dtype="float64", compile: bool = False):
        self.compile = compile
        self.logits = None  # built on the first set_weights, once the spec has been checked
        super().__init__(spec, params, dtype)

    # ---- build: the layers, the output activation, the optimizer ----

    def _build(self) -> None:
        spec = self.spec
        self.torch_dtype = getattr(torch, self.dtype.name)
        layers = []
        for (n_in, n_out), act in zip(spec.layer_shapes, spec.activations):
            # skip_init: the weights come from Params, so don't draw random ones (which would
            # also advance torch's global generator, somebody else's state).
            layers.append(nn.utils.skip_init(nn.Linear, n_in, n_out, bias=spec.bias,
                                             dtype=self.torch_dtype))
            layers.append(activation_module(act, spec.alpha))
        # The last activation is kept apart: cross-entropy is computed from the logits z.
        self.logits = nn.Sequential(*layers[:-1])
        self.output_activation = layers[-1]
        self.linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
        # Plain gradient descent, W -= lr * dW; the learning rate is set by each fit.
        self.optimizer = torch.optim.SGD(self.logits.parameters(), lr=0.01, momentum=0)
        self.loss_fn, self.outputs_fn = self._loss, self._outputs
        if self.compile:
            # One graph for forward + loss (AOTAutograd derives and compiles the backward
            # graph from it), one for prediction; fullgraph: one graph each, or an error. A
            # batch of another size (the short last mini-batch) costs one recompilation.
            # Dynamo keeps compiled graphs per Python function and shares them across every
            # compile of it, at most 8 before it silently falls back to eager; every instance
            # compiles these same methods, so each gets its own set (isolate_recompiles).
            options = dict(fullgraph=True, isolate_recompiles=True)
            self.loss_fn = torch.compile(self._loss, **options)
            self.outputs_fn = torch.compile(self._outputs, **options)

    # ---- load weights: Params in, Params out ----

    def _set_weights(self, params: Params) -> None:
        if self.logits is None:
            self._build()
        with torch.no_grad():  # copying into parameters is not part of any gradient
            for linear, (W, b) in zip(self.linears, params):
                linear.weight.copy_(torch.from_numpy(W.T))  # copy_ also casts to our dtype
                if self.spec.bias:
                    linear.bias.copy_(torch.from_numpy(b))

    def _get_weights(self) -> Params:
        params = []
        for linear in self.linears:
            W = linear.weight.detach().numpy().T
            b = (linear.bias.detach().numpy() if self.spec.bias
                 else np.zeros(W.shape[1], dtype=self.dtype))
            params.append((W, b))
        return params

    # ---- forward and loss ----

    def _outputs(self, X: torch.Tensor) -> torch.Tensor:
        return self.output_activation(self.logits(X))

    def _forward(self, X):
        with torch.inference_mode():  # no autograd graph is recorded for a prediction
            return self.outputs_fn(as_tensor(X)).numpy()

    def _loss(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """The mean loss of a batch, as numpy_vec defines it; cross-entropy from the logits."""
        z = self.logits(X)
        if self.spec.loss == "categorical_crossentropy":
            # With probability (one-hot) targets: mean over samples of -sum(Y log softmax(z)).
            return F.cross_entropy(z, Y)
        if self.spec.loss == "binary_crossentropy":
            return F.binary_cross_entropy_with_logits(z, Y)  # mean over samples and outputs
        return F.mse_loss(self.output_activation(z), Y)  # mean over samples and outputs

    # ---- gradient: autograd ----

    def _loss_and_grads(self, X, Y):
        weights = [linear.weight for linear in self.linears]
        biases = [linear.bias for linear in self.linears] if self.spec.bias else []
        loss = self.loss_fn(as_tensor(X), as_tensor(Y))
        # autograd.grad returns the gradients without touching the parameters' .grad fields.
        grads = torch.autograd.grad(loss, weights + biases)
        dWs, dbs = grads[:len(weights)], grads[len(weights):]
        result = []
        for layer, dW in enumerate(dWs):
            db = dbs[layer].numpy() if self.spec.bias else np.zeros(dW.shape[0], self.dtype)
            result.append((dW.numpy().T, db))
        return loss.item(), result

    # ---- update: one step of SGD (the base class repeats it over mini-batches and epochs) ----

    def _step(self, X: torch.Tensor, Y: torch.Tensor) -> float:
        self.optimizer.zero_grad()  # .grad accumulates across backward() calls otherwise
        loss = self.loss_fn(X, Y)
        loss.backward()
        self.optimizer.step()  # p -= lr * p.grad, for every parameter
        return loss.item()

    def _set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _train_step(self, X, Y, lr):
        # The base class walks the mini-batches; as_tensor shares their memory, no copy.
        self._set_lr(lr)
        return self._step(as_tensor(X), as_tensor(Y))
