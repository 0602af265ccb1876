"""Where the time of a training step goes: the MNIST step of numpy_vec and of numpy-fast,
phase by phase.

The fastest implementations train 784-512-10 at batch 128 below the machine's GEMM rate. This
file shows where the rest of the time goes. It takes one batch of 128 MNIST images and times
each phase of a training step on its own: every matrix product at its own shape, the
elementwise work (bias and activation, loss and output delta, the activation's derivative,
the bias gradient), the update, and then the whole step as the implementation's
`_train_step` runs it. Two steps are taken apart: numpy_vec's (the reference, `step_phases`)
and numpy-fast's (the same products written into buffers, the elementwise work in place,
`fast_step_phases`). It runs in the GEMM step's process, beside the GEMM rate, so the report
can set each product's rate against the machine's and the phases against the whole step.

The phases are each step taken apart, calling the implementation's own functions on its own
arrays; a phase starts from the arrays the previous phases produced (computed once, before
timing).
"""

from __future__ import annotations

import numpy as np
import pytest
from nnbench import networks
from nnbench.numpy_fast import NumpyFast, activate_into, backprop_into
from nnbench.numpy_vec import (
    NumpyVectorised,
    activate,
    backprop_activation,
    loss_and_output_delta,
)

from .measure import repeats_for, rounds_for, seconds, timed
from .threads import threads_in_effect

BATCH = 128  # the MNIST workload's mini-batch (bench/workloads.py)
LR = 0.0  # the update is timed, but leaves the weights where they were (numpy-fast's deltas,
# the rate folded in, are zeros then: its products and update take as long on zeros)


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


def fast_step_phases(impl: NumpyFast, X, Y) -> list[tuple[str, str, int, object]]:
    """numpy-fast's training step on (X, Y) as phases, in order, as `step_phases` has
    numpy_vec's: each writes into the step's own buffers, as `NumpyFast._train_step` does."""
    spec, W, b, n = impl.spec, impl.weights, impl.biases, len(X)
    layers = impl._layers(n)
    phases = []
    a_prev = X
    for layer, (act, (z, a, delta)) in enumerate(zip(spec.activations, layers)):
        n_in, n_out = W[layer].shape
        phases.append((f"forward product {layer + 1}: ({n}x{n_in}) @ ({n_in}x{n_out}), into z",
                       "product", 2 * n * n_in * n_out,
                       lambda a=a_prev, W=W[layer], z=z: np.matmul(a, W, out=z)))
        product = a_prev @ W[layer]  # kept apart, so that adding the bias can be repeated

        def bias_and_activation(p=product, b=b[layer], z=z, a=a, scratch=delta, act=act):
            np.add(p, b, out=z)
            activate_into(act, z, a, scratch, spec.alpha)
        bias_and_activation()
        phases.append((f"bias and {act} {layer + 1}, in place", "elementwise", 0,
                       bias_and_activation))
        a_prev = a
    phases.append(("loss and output delta, into delta", "elementwise", 0,
                   lambda: impl._output_delta(Y, *layers[-1])))
    impl._output_delta(Y, *layers[-1])
    for layer in reversed(range(len(W))):
        phases += fast_backward_phases(impl, X, layer)
    phases.append(("whole step (_train_step)", "step", 0, lambda: impl._train_step(X, Y, LR)))
    return phases


def fast_backward_phases(impl: NumpyFast, X, layer: int) -> list[tuple[str, str, int, object]]:
    """One layer of numpy-fast's backward pass as phases, each run once as it is added: the
    delta below and its derivative, the rate folded into the delta, the weight-gradient
    product (the update itself) and the update."""
    spec, W, b, layers = impl.spec, impl.weights[layer], impl.biases[layer], impl._layers(len(X))
    delta, update = layers[layer][2], impl._updates[layer]
    a_prev = X if layer == 0 else layers[layer - 1][1]
    (n, n_out), n_in = delta.shape, W.shape[0]
    phases = []
    if layer > 0:
        z_below, a_below, delta_below = layers[layer - 1]
        act = spec.activations[layer - 1]
        phases.append((f"delta through W{layer + 1}: ({n}x{n_out}) @ ({n_out}x{n_in}), into "
                       f"delta", "product", 2 * n * n_in * n_out,
                       lambda: np.matmul(delta, W.T, out=delta_below)))
        phases.append((f"{act} derivative {layer}, in place", "elementwise", 0,
                       lambda: backprop_into(act, z_below, a_below, delta_below, spec.alpha)))
    lr = impl.dtype.type(LR)
    phases.append((f"the rate folded into delta {layer + 1}", "elementwise", 0,
                   lambda: np.multiply(delta, lr, out=delta)))
    phases.append((f"weight gradient {layer + 1}: ({n_in}x{n}) @ ({n}x{n_out}), into the "
                   f"update", "product", 2 * n * n_in * n_out,
                   lambda: np.matmul(a_prev.T, delta, out=update)))

    def apply(W=W, b=b):  # as NumpyFast._train_step does it
        W -= update
        b -= delta.sum(axis=0)
    phases.append((f"update {layer + 1}", "update", 0, apply))
    for *_, call in phases[:-1]:  # the next phases start from what these produce
        call()
    return phases


PRESET = networks.get("mnist")
STEPS = {"numpy": (NumpyVectorised, step_phases), "numpy-fast": (NumpyFast, fast_step_phases)}


def phase_names(stepped: str) -> list[str]:
    """The names of the phases of `stepped`'s step, in order."""
    cls, phases = STEPS[stepped]
    impl = cls(PRESET.spec, PRESET.initial_params())
    X = np.zeros((BATCH, PRESET.spec.sizes[0]))
    Y = np.eye(PRESET.spec.sizes[-1])[np.zeros(BATCH, int)]
    return [name for name, *_ in phases(impl, X, Y)]


PHASE_NAMES = {stepped: phase_names(stepped) for stepped in STEPS}


@pytest.mark.parametrize(("stepped", "phase"), [
    (stepped, phase) for stepped, names in PHASE_NAMES.items() for phase in names])
def test_step_phase(benchmark, gemm_dtype, stepped, phase, mode, dataset, mnist_selected):
    data = dataset("mnist")
    cls, phases = STEPS[stepped]
    impl = cls(PRESET.spec, PRESET.initial_params(), dtype=gemm_dtype)
    X = data.X_train[:BATCH].astype(gemm_dtype)
    Y = data.Y_train[:BATCH].astype(gemm_dtype)
    name, kind, flops, call = next(p for p in phases(impl, X, Y) if p[0] == phase)
    first_call = seconds(call)
    iterations = repeats_for(lambda count: [call() for _ in range(count)], 100_000,
                             mode.timing.round_s)
    benchmark.extra_info.update(kind="phase", impl=stepped, phase=name, phase_kind=kind,
                                dtype=gemm_dtype, order=PHASE_NAMES[stepped].index(name),
                                batch_size=BATCH, sizes=list(PRESET.spec.sizes), flops=flops,
                                threads=threads_in_effect(), first_call_s=first_call)
    benchmark.group = f"mnist step phases {stepped} {gemm_dtype}"
    timed(benchmark, mode, call, rounds=rounds_for(first_call * iterations, mode),
          iterations=iterations)
