"""How the time per sample scales: against the hidden width, and against the batch size.

The width sweep trains the MNIST shape; the batch sweep the networks of the mode's
`Sweeps.batch_networks` (MNIST at the sweep's width, XOR and digits at their presets'
shapes), from which bench/fixed_cost.py fits the fixed cost of one training call. Both train
in float64 (the dtype every variant has). A point a variant does not support (the explicit
Jacobian's wide layers, over its memory budget) is recorded as refused, with the variant's
reason, instead of being timed.
"""

import nnbench
import numpy as np
from nnbench import networks

from .measure import Built, NotSupported, first_clause, run_train_case

DTYPE = "float64"


def build_or_refuse(variant, preset, axis: str, value: int, record) -> Built:
    reason = nnbench.get_class(variant.impl).supports(preset.spec, DTYPE, **variant.kwargs)
    if reason is not None:
        record(kind=axis, variant=variant.name, impl=variant.impl, network=preset.name,
               dtype=DTYPE, sizes=list(preset.spec.sizes), **{axis: value},
               refused=first_clause(reason))
        raise NotSupported(reason)
    params = preset.initial_params()
    return Built(variant.create(preset.spec, params, DTYPE), preset.spec, params, "")


def test_width(benchmark, variant, width, mode, dataset, mnist_selected, record):
    preset = networks.get("mnist").with_hidden(width)
    built = build_or_refuse(variant, preset, "width", width, record)
    data = dataset("mnist")
    n = mode.sweeps.samples
    run_train_case(benchmark, variant, "mnist", DTYPE, built, data.X_train[:n], data.Y_train[:n],
                   preset.lr, mode.sweeps.batch, 1, mode, kind="width", width=width)


def first_rows(array: np.ndarray, n: int) -> np.ndarray:
    """The first n rows of `array`, its rows repeated in order when it has fewer (XOR's 4)."""
    return array[:n] if n <= len(array) else array[np.arange(n) % len(array)]


def batch_preset(network: str, mode) -> networks.Preset:
    """The batch sweep's network: MNIST at the sweep's width, the others as their presets."""
    preset = networks.get(network)
    return preset.with_hidden(mode.sweeps.width) if network == "mnist" else preset


def test_batch(benchmark, variant, network, batch, mode, dataset, record):
    preset = batch_preset(network, mode)
    built = build_or_refuse(variant, preset, "batch", batch, record)
    data = dataset(network)
    # Enough samples for a few batches, but no more than the sweep's share for tiny batches
    # (at batch 1 every sample is a step, and the per-step overhead is what is being shown).
    n = min(max(mode.sweeps.samples, batch * 4), max(batch * 16, mode.sweeps.samples // 8))
    X, Y = first_rows(data.X_train, n), first_rows(data.Y_train, n)
    run_train_case(benchmark, variant, network, DTYPE, built, X, Y, preset.lr, batch, 1, mode,
                   kind="batch", batch=batch)
