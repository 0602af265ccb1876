"""`nnbench verify` of the variant, in its own benchmark process (the run's first block).

Every preset of the run's networks, in each of the run's dtypes the variant has: outputs,
loss, gradients and the weights after a few steps against numpy_vec, and the drift over the
first `Scope.verify_epochs` epochs of the preset's schedule (bench/verify.py). The findings go
to the JSON's `verify` list, which the report draws; a disagreement makes the step a mismatch.
Here, a plugin that hangs is stopped by the step's time limit like any other case.
"""

import pytest

from .verify import REFERENCE, verify


def test_verify(variant, mode, selection, verified):
    if variant.impl == REFERENCE:
        pytest.skip("the reference itself")
    for network in selection.networks:
        for dtype in selection.dtypes:
            finding = verify(variant.impl, network, dtype, epochs=mode.scope.verify_epochs,
                             options=variant.kwargs, label=variant.name)
            verified(finding)
