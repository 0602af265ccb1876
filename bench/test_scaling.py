"""How the time per sample scales: against the hidden width, and against the batch size.

Both sweeps train the MNIST shape in float64 (the dtype every variant has). A point a
variant does not support (the explicit Jacobian's wide layers, over its memory budget) is
recorded as refused, with the variant's reason, instead of being timed.
"""

import nnbench
from nnbench import networks

from .measure import Built, NotSupported, first_clause, run_train_case

DTYPE = "float64"


def build_or_refuse(variant, preset, axis: str, value: int, record) -> Built:
    reason = nnbench.get_class(variant.impl).supports(preset.spec, DTYPE, **variant.kwargs)
    if reason is not None:
        record(kind=axis, variant=variant.name, impl=variant.impl, dtype=DTYPE,
               sizes=list(preset.spec.sizes), **{axis: value}, refused=first_clause(reason))
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


def test_batch(benchmark, variant, batch, mode, dataset, mnist_selected, record):
    preset = networks.get("mnist").with_hidden(mode.sweeps.width)
    built = build_or_refuse(variant, preset, "batch", batch, record)
    data = dataset("mnist")
    # Enough samples for a few batches, but no more than the sweep's share for tiny batches
    # (at batch 1 every sample is a step, and the per-step overhead is what is being shown).
    n = min(max(mode.sweeps.samples, batch * 4), max(batch * 16, mode.sweeps.samples // 8))
    run_train_case(benchmark, variant, "mnist", DTYPE, built, data.X_train[:n], data.Y_train[:n],
                   preset.lr, batch, 1, mode, kind="batch", batch=batch)
