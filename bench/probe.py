"""Cold start and memory, measured in a fresh process: `python -m bench.probe VARIANT ...`.

The child imports the variant's implementation (its library with it: Numba, TensorFlow, ...),
builds it for the network and takes one training step on one mini-batch; that is what a user
waits for before the first result, and where Numba compiles and TensorFlow traces. It prints
one line, `NNBENCH_PROBE {json}`, with its own timings of those phases.

The parent (`run_probe`) times the whole process from outside, interpreter start included.
The child reports its own peak resident memory (see bench/child.py on why not `wait4`'s). A
network over the variant's memory budget is reported as refused, with the bytes it would
need, not attempted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import nnbench
import numpy as np
from nnbench import networks
from nnbench.errors import UnsupportedError
from nnbench.spec import NetworkSpec

from .child import Reported, peak_rss_children, peak_rss_self, run_reporting
from .workloads import get_variant

MARKER = "NNBENCH_PROBE "


# ---- the child ----


def synthetic_batch(spec: NetworkSpec, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [0, 1) and valid targets for the spec's loss (the values don't matter here)."""
    rng = np.random.default_rng(0)
    X = rng.random((samples, spec.n_inputs))
    if spec.loss == "categorical_crossentropy":
        Y = np.eye(spec.n_outputs)[rng.integers(0, spec.n_outputs, samples)]
    else:
        Y = rng.integers(0, 2, (samples, spec.n_outputs)).astype(np.float64)
    return X, Y


def probe(variant_name: str, network: str, dtype: str, hidden: int | None, samples: int
          ) -> dict:
    started = time.perf_counter()
    variant = get_variant(variant_name)
    module = sys.modules[nnbench.get_class(variant.impl).__module__]  # imports the library
    imported = time.perf_counter()
    report = {"import_s": imported - started, "rss_after_import_bytes": peak_rss_self()}

    preset = networks.get(network)
    if hidden is not None:
        preset = preset.with_hidden(hidden)
    spec = preset.spec
    # The memory the implementation says it needs, where it says (the Jacobian does).
    if hasattr(module, "long_form_bytes"):
        report["estimate_bytes"] = int(module.long_form_bytes(spec, dtype))
    if hasattr(module, "resolve_budget"):
        report["budget_bytes"] = int(module.resolve_budget()[0])
    try:
        impl = variant.create(spec, preset.initial_params(), dtype)
    except UnsupportedError as exc:
        report["refused"] = exc.reason
        return report
    built = time.perf_counter()
    X, Y = synthetic_batch(spec, samples)
    data_ready = time.perf_counter()
    impl.fit(X, Y, epochs=1, lr=preset.lr, batch_size=samples)
    stepped = time.perf_counter()
    # Its own peak, or that of a process it ran (Octave computes in octave-cli processes).
    report.update(build_s=built - imported, first_step_s=stepped - data_ready,
                  peak_rss_bytes=max(peak_rss_self(), peak_rss_children()))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe", description=__doc__)
    parser.add_argument("variant")
    parser.add_argument("--network", default="mnist")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--samples", type=int, default=128)
    args = parser.parse_args(argv)
    report = probe(args.variant, args.network, args.dtype, args.hidden, args.samples)
    print(MARKER + json.dumps(report), flush=True)
    return 0


# ---- the parent ----


class Probe(Reported):
    """What a probe reported (see `probe`), or why it did not."""

    @property
    def refused(self) -> str:
        return self.inner.get("refused", "")

    @property
    def peak_rss_bytes(self) -> int:
        """The probe's peak: after its training step, or after its import when it refused."""
        return self.inner.get("peak_rss_bytes", self.inner.get("rss_after_import_bytes", 0))


def run_probe(variant: str, network: str, dtype: str = "float64", hidden: int | None = None,
              samples: int = 128, env: dict[str, str] | None = None,
              timeout_s: float = 300) -> Probe:
    command = [sys.executable, "-m", "nnbench.bench.probe", variant, "--network", network,
               "--dtype", dtype, "--samples", str(samples)]
    if hidden is not None:
        command += ["--hidden", str(hidden)]
    return run_reporting(command, MARKER, {**os.environ, **(env or {})}, timeout_s, Probe)


if __name__ == "__main__":
    sys.exit(main())
