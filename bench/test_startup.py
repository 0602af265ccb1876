"""Cold start, measured in a fresh process (bench/probe.py): import + build + one training
step on one mini-batch, timed from outside the process; Numba compiles here (with an empty
cache: the first run on a machine) and TensorFlow traces. When the probe leaves a compile cache
behind, one more probe reusing it shows a user's second start. A run's later blocks measure it
again where the first block's start took under `ColdStart.repeat_below_s` (2 s), so that its
figure has an interval over processes like every other where that costs little.
"""

import shutil
import tempfile
from pathlib import Path

from .measure import first_clause
from .probe import run_probe

DTYPE = "float64"


def test_cold_start(benchmark, cold_variant, cold_network, mode, block):
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
        if len(probes) == 1 and block == 1 and any(Path(cache_dir).iterdir()):
            # It cached compiled code: start once more, as a user's second run would (in a
            # run's first block only: that start is a footnote, and costs seconds).
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
