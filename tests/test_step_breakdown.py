"""bench/test_breakdown.py takes numpy_vec's training step apart: its phases must account for
every FLOP the report counts, and timing them must not change the network."""

import numpy as np
from nnbench.bench.test_breakdown import BATCH, PRESET, step_phases
from nnbench.numpy_vec import NumpyVectorised


def phases_of(dtype="float64"):
    impl = NumpyVectorised(PRESET.spec, PRESET.initial_params(), dtype=dtype)
    data = PRESET.load_data(limit=BATCH)
    return impl, step_phases(impl, data.X_train[:BATCH].astype(dtype),
                             data.Y_train[:BATCH].astype(dtype))


def test_the_products_are_the_flops_the_report_counts():
    _, phases = phases_of()
    products = [flops for _, kind, flops, _ in phases if kind == "product"]
    assert sum(products) == PRESET.spec.flops_per_sample()["train"] * BATCH
    assert [kind for _, kind, _, _ in phases].count("step") == 1


def test_every_phase_runs_and_leaves_the_weights_alone():
    impl, phases = phases_of("float32")
    before = [(W.copy(), b.copy()) for W, b in impl.get_weights()]
    for _, _, _, call in phases:
        call()
    for (W, b), (W0, b0) in zip(impl.get_weights(), before):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)
