"""bench/test_breakdown.py takes numpy_vec's and numpy-fast's training steps apart: their phases
must account for every FLOP the report counts, and timing them must not change the network."""

import numpy as np
import pytest
from nnbench.bench.test_breakdown import BATCH, PHASE_NAMES, PRESET, STEPS


def phases_of(stepped, dtype="float64"):
    cls, phases = STEPS[stepped]
    impl = cls(PRESET.spec, PRESET.initial_params(), dtype=dtype)
    data = PRESET.load_data(limit=BATCH)
    return impl, phases(impl, data.X_train[:BATCH].astype(dtype),
                        data.Y_train[:BATCH].astype(dtype))


@pytest.mark.parametrize("stepped", STEPS)
def test_the_products_are_the_flops_the_report_counts(stepped):
    _, phases = phases_of(stepped)
    products = [flops for _, kind, flops, _ in phases if kind == "product"]
    assert sum(products) == PRESET.spec.flops_per_sample()["train"] * BATCH
    assert [kind for _, kind, _, _ in phases].count("step") == 1
    assert [name for name, *_ in phases] == PHASE_NAMES[stepped]


@pytest.mark.parametrize("stepped", STEPS)
def test_every_phase_runs_and_leaves_the_weights_alone(stepped):
    impl, phases = phases_of(stepped, "float32")
    before = [(W.copy(), b.copy()) for W, b in impl.get_weights()]
    for _, _, _, call in phases:
        call()
        call()  # as the rounds repeat it
    for (W, b), (W0, b0) in zip(impl.get_weights(), before):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)


def test_numpy_fasts_phases_compute_what_its_step_computes():
    """Run in order, the phases leave the buffers as one `_train_step` does (with the rate 0)."""
    impl, phases = phases_of("numpy-fast")
    for _, kind, _, call in phases:
        if kind != "step":
            call()
    by_phases = [array.copy() for layer in impl._layers(BATCH) for array in layer[:2]]
    phases[-1][3]()  # the whole step
    for array, expected in zip(by_phases, (a for layer in impl._layers(BATCH) for a in layer[:2])):
        assert np.allclose(array, expected, rtol=1e-12, atol=0)
