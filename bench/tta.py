"""Time to accuracy, in a fresh process: `python -m nnbench.bench.tta VARIANT PRESET TARGET`.

The child does what a user waits for, from nothing to a trained network: it imports the
variant's implementation (its library with it), builds the preset's network from the preset's
starting weights, loads the data, then trains one epoch at a time, evaluating the test set
after each, until the test accuracy first reaches the target or the preset's epochs run out.
It prints one line, `NNBENCH_TTA {json}`: the moments (seconds since the parent started it,
on the monotonic clock every process shares) at which each phase ended, and each epoch's
accuracy. The parent (`run_tta`) is timed from outside by the benchmark case, interpreter
start included; the child exits as soon as it has printed.

Every implementation sees the same epochs: the child draws each epoch's order of the samples
itself (a generator seeded with the preset's seed and the epoch) and hands them over in that
order, so the implementations follow one trajectory and reach the target at the same epoch.

A variant too slow for the mode's time limit is not trained to the end: when the preset's
epochs at the pace of the first would take longer than the limit, the child stops after the
first and reports its time, from which the report estimates the whole.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the child's imports are timed: it does without the parent's helpers
    from .child import Reported

MARKER = "NNBENCH_TTA "


# ---- the child ----


def epoch_data(X, Y, seed: int, epoch: int, shuffle: bool):
    """The training samples in the order of `epoch` (1-based): drawn per epoch, or as stored."""
    import numpy as np

    if not shuffle:
        return X, Y
    order = np.random.default_rng([seed, epoch]).permutation(len(X))
    return X[order], Y[order]


def train_to_target(variant_name: str, preset_name: str, target: float, dtype: str,
                    started: float, train: int | None, test: int | None, hidden: int | None,
                    limit_s: float) -> dict:
    """Train until the test accuracy reaches `target`; the moments of each phase, as a dict."""
    def now() -> float:
        return time.monotonic() - started

    from nnbench import get_class, networks

    from .workloads import get_variant

    variant = get_variant(variant_name)
    get_class(variant.impl)  # imports the implementation and its library
    report: dict = {"imported_s": now()}
    preset = networks.get(preset_name)
    if hidden is not None:
        preset = preset.with_hidden(hidden)
    impl = variant.create(preset.spec, preset.initial_params(), dtype)
    report["built_s"] = now()
    data = preset.load_data()
    X, Y = data.X_train[:train], data.Y_train[:train]
    X_test, Y_test = data.X_test[:test], data.Y_test[:test]
    report["loaded_s"] = now()
    report.update(sizes=list(preset.spec.sizes), train_samples=len(X),
                  test_samples=len(X_test), max_epochs=preset.epochs,
                  epochs=[], accuracy=[], trained_s=[], evaluated_s=[])
    for epoch in range(1, preset.epochs + 1):
        Xe, Ye = epoch_data(X, Y, preset.seed, epoch, preset.shuffle)
        impl.fit(Xe, Ye, epochs=1, lr=preset.lr, batch_size=preset.batch_size)
        report["trained_s"].append(now())
        accuracy = impl.evaluate(X_test, Y_test)[1]
        report["evaluated_s"].append(now())
        report["epochs"].append(epoch)
        report["accuracy"].append(accuracy)
        if accuracy >= target:
            report["reached_s"] = now()
            break
        epoch_s = report["evaluated_s"][0] - report["loaded_s"]
        if epoch == 1 and report["loaded_s"] + epoch_s * preset.epochs > limit_s:
            report.update(too_slow=True, epoch_s=epoch_s)
            break
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnbench.bench.tta", description=__doc__)
    parser.add_argument("variant")
    parser.add_argument("preset")
    parser.add_argument("target", type=float)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--started", type=float, required=True,
                        help="time.monotonic() in the parent just before it started this")
    parser.add_argument("--train", type=int)
    parser.add_argument("--test", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--limit-s", type=float, default=float("inf"))
    args = parser.parse_args(argv)
    report = train_to_target(args.variant, args.preset, args.target, args.dtype, args.started,
                             args.train, args.test, args.hidden, args.limit_s)
    print(MARKER + json.dumps(report), flush=True)
    os._exit(0)  # the clock outside stops here: no interpreter or framework teardown


# ---- the parent ----


def run_tta(variant: str, preset: str, target: float, dtype: str = "float32",
            train: int | None = None, test: int | None = None, hidden: int | None = None,
            limit_s: float = float("inf"), timeout_s: float = 600) -> Reported:
    """Start a fresh process that trains `variant` on `preset` to `target`; its report."""
    from .child import run_reporting

    options = [f"--{name}={value}" for name, value in
               (("train", train), ("test", test), ("hidden", hidden)) if value is not None]
    started = time.monotonic()
    command = [sys.executable, "-m", "nnbench.bench.tta", variant, preset, repr(target),
               "--dtype", dtype, f"--started={started!r}", f"--limit-s={limit_s!r}", *options]
    return run_reporting(command, MARKER, dict(os.environ), timeout_s)


if __name__ == "__main__":
    sys.exit(main())
