"""Peak memory, measured in a fresh process (bench/probe.py): the peak resident memory of a
process that takes one training step of the MNIST shape at each hidden width, beside the memory
the explicit Jacobian says it needs (`long_form_bytes`); a width over its budget is recorded as
refused. A run measures it once, in its first block: it does not vary between processes.
"""

import pytest

from .measure import first_clause
from .probe import run_probe

DTYPE = "float64"


def test_memory(memory_variant, memory_width, mode, mnist_selected, record):
    width = memory_width
    probe = run_probe(memory_variant.name, "mnist", DTYPE, hidden=width,
                      samples=mode.memory.batch, timeout_s=mode.timing.timeout_s)
    if probe.error:
        raise RuntimeError(f"the probe failed: {probe.error}")
    record(**{**probe.inner, "kind": "memory", "variant": memory_variant.name,
              "impl": memory_variant.impl, "dtype": DTYPE, "width": width,
              "samples": mode.memory.batch, "wall_s": probe.wall_s,
              "peak_rss_bytes": probe.peak_rss_bytes,
              "refused": first_clause(probe.refused) if probe.refused else ""})
    if probe.refused:
        pytest.skip(f"refused by its memory budget: {first_clause(probe.refused)}")
