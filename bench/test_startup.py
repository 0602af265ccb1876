"""Cold start and memory, each measured in a fresh process (bench/probe.py).

- cold start: import + build + one training step on one mini-batch, timed from outside the
  process; Numba compiles here (with an empty cache: the first run on a machine) and
  TensorFlow traces. When the probe leaves a compile cache behind, one more probe reusing it
  shows a user's second start.
- memory: the peak resident memory of a process that takes one training step of the MNIST
  shape at each hidden width, beside the memory the explicit Jacobian says it needs
  (`long_form_bytes`); a width over its budget is recorded as refused.
"""

import shutil
import tempfile
from pathlib import Path

import pytest

from .measure import first_clause
from .probe import run_probe

DTYPE = "float64"


def test_cold_start(benchmark, cold_variant, cold_network, mode):
    variant = cold_variant
    work = mode.workloads[cold_network]
    samples = min(work.batch_size or work.train_samples, work.train_samples)
    probes = []

    def fresh_cache():
        return (tempfile.mkdtemp(prefix="nnbench-cache-"),), {}

    def probe(cache_dir):
        probes.append(run_probe(variant.name, cold_network, DTYPE, samples=samples,
                                env={"NUMBA_CACHE_DIR": cache_dir},
                                timeout_s=mode.timing.timeout_s))
        if probes[-1].error:
            raise RuntimeError(f"the probe failed: {probes[-1].error}")
        if len(probes) == 1 and any(Path(cache_dir).iterdir()):
            # It cached compiled code: start once more, as a user's second run would.
            probes[-1].inner["cached_wall_s"] = run_probe(
                variant.name, cold_network, DTYPE, samples=samples,
                env={"NUMBA_CACHE_DIR": cache_dir}, timeout_s=mode.timing.timeout_s).wall_s

    benchmark.pedantic(probe, setup=fresh_cache, rounds=mode.cold_start.rounds,
                       teardown=lambda cache_dir: shutil.rmtree(cache_dir, ignore_errors=True))
    first = probes[0]  # the one that also tried a warm cache
    benchmark.extra_info.update(first.inner)
    benchmark.extra_info.update(
        kind="cold_start", variant=variant.name, impl=variant.impl, network=cold_network,
        dtype=DTYPE, samples=samples, peak_rss_bytes=max(p.peak_rss_bytes for p in probes),
        refused=first_clause(first.refused) if first.refused else "")
    benchmark.group = f"{cold_network} cold start"


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
