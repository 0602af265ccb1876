"""Where the time of a training step goes: numpy_vec's MNIST step, phase by phase.

The fastest implementations train 784-512-10 at batch 128 below the machine's GEMM rate. This
file shows where the rest of the time goes. It takes one batch of 128 MNIST images and times
each phase of numpy_vec's training step on its own (numpy_vec is the reference, and as fast
as any implementation here): every matrix product at its own shape, the elementwise work
(bias and activation, loss and output delta, the activation's derivative, the bias
gradient), the update, and then the whole step as `NumpyVectorised._train_step` runs it. It
runs in the GEMM step's process, beside the GEMM rate, so the report can set each product's
rate against the machine's and the phases against the whole step.

The phases below are numpy_vec's step taken apart, calling numpy_vec's own functions; a
phase starts from the arrays the previous phases produced (computed once, before timing).
"""

from __future__ import annotations

import numpy as np
import pytest
from nnbench import networks
from nnbench.numpy_vec import (
    NumpyVectorised,
    activate,
    backprop_activation,
    loss_and_output_delta,
)

from .measure import repeats_for, rounds_for, seconds, timed
from .threads import threads_in_effect

BATCH = 128  # the MNIST workload's mini-batch (bench/workloads.py)
LR = 0.0  # the update is timed, but leaves the weights where they were


def step_phases(impl: NumpyVectorised, X, Y) -> list[tuple[str, str, int, object]]:
    """numpy_vec's training step on (X, Y) as (name, kind, FLOPs, call) phases, in order.

    kind is "product" (a matrix product, its FLOPs counted), "elementwise", "update" or "step"
    (the whole step, for comparison with the sum of the others).
    """
    spec, W, b = impl.spec, impl.weights, impl.biases
    n = len(X)
    phases = []

    # Forward: the intermediates each phase starts from, computed once.
    inputs, products, zs, activations = [], [], [], []
    a = X
    for layer, act in enumerate(spec.activations):
        inputs.append(a)
        products.append(a @ W[layer])
        zs.append(products[-1] + b[layer])
        a = activate(act, zs[-1], spec.alpha)
        activations.append(a)
        n_in, n_out = W[layer].shape
        phases.append((f"forward product {layer + 1}: ({n}x{n_in}) @ ({n_in}x{n_out})",
                       "product", 2 * n * n_in * n_out,
                       lambda a=inputs[-1], W=W[layer]: a @ W))
        phases.append((f"bias and {act} {layer + 1}", "elementwise", 0,
                       lambda p=products[-1], b=b[layer], act=act: activate(act, p + b,
                                                                            spec.alpha)))
    last = len(spec.activations) - 1
    phases.append(("loss and output delta", "elementwise", 0,
                   lambda: loss_and_output_delta(spec.loss, zs[last], activations[last], Y,
                                                 spec.activations[last], spec.alpha)))
    _, delta = loss_and_output_delta(spec.loss, zs[last], activations[last], Y,
                                     spec.activations[last], spec.alpha)

    # Backward, from the last layer to the first, as numpy_vec walks it.
    gradients = []
    for layer in reversed(range(len(W))):
        n_in, n_out = W[layer].shape
        phases.append((f"weight gradient {layer + 1}: ({n_in}x{n}) @ ({n}x{n_out})", "product",
                       2 * n * n_in * n_out,
                       lambda a=inputs[layer], d=delta: a.T @ d))
        phases.append((f"bias gradient {layer + 1}", "elementwise", 0,
                       lambda d=delta: d.sum(axis=0)))
        gradients.append((inputs[layer].T @ delta, delta.sum(axis=0)))
        if layer > 0:
            act = spec.activations[layer - 1]
            phases.append((f"delta through W{layer + 1}: ({n}x{n_out}) @ ({n_out}x{n_in})",
                           "product", 2 * n * n_in * n_out,
                           lambda d=delta, W=W[layer]: d @ W.T))
            upstream = delta @ W[layer].T
            phases.append((f"{act} derivative {layer}", "elementwise", 0,
                           lambda z=zs[layer - 1], a=activations[layer - 1], g=upstream,
                           act=act: backprop_activation(act, z, a, g, spec.alpha)))
            delta = backprop_activation(act, zs[layer - 1], activations[layer - 1], upstream,
                                        spec.alpha)
    gradients.reverse()

    def update():  # as numpy_vec's _train_step: W -= lr * dW, b -= lr * db
        lr = impl.dtype.type(LR)
        for weights, biases, (dW, db) in zip(W, b, gradients):
            weights -= lr * dW
            biases -= lr * db

    phases.append(("update", "update", 0, update))
    phases.append(("whole step (_train_step)", "step", 0, lambda: impl._train_step(X, Y, LR)))
    return phases


PRESET = networks.get("mnist")
PHASE_NAMES = [name for name, *_ in step_phases(
    NumpyVectorised(PRESET.spec, PRESET.initial_params()),
    np.zeros((BATCH, PRESET.spec.sizes[0])), np.eye(PRESET.spec.sizes[-1])[np.zeros(BATCH, int)])]


@pytest.mark.parametrize("phase", PHASE_NAMES)
def test_step_phase(benchmark, gemm_dtype, phase, mode, dataset, mnist_selected):
    data = dataset("mnist")
    impl = NumpyVectorised(PRESET.spec, PRESET.initial_params(), dtype=gemm_dtype)
    X = data.X_train[:BATCH].astype(gemm_dtype)
    Y = data.Y_train[:BATCH].astype(gemm_dtype)
    name, kind, flops, call = next(p for p in step_phases(impl, X, Y) if p[0] == phase)
    first_call = seconds(call)
    iterations = repeats_for(lambda count: [call() for _ in range(count)], 100_000,
                             mode.timing.round_s)
    benchmark.extra_info.update(kind="phase", phase=name, phase_kind=kind, dtype=gemm_dtype,
                                order=PHASE_NAMES.index(name), batch_size=BATCH,
                                sizes=list(PRESET.spec.sizes), flops=flops,
                                threads=threads_in_effect(), first_call_s=first_call)
    benchmark.group = f"mnist step phases {gemm_dtype}"
    timed(benchmark, mode, call, rounds=rounds_for(first_call * iterations, mode),
          iterations=iterations)
