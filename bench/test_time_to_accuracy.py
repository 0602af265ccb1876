"""Time to accuracy: the wall time from a fresh process to a trained network (bench/tta.py).

The case times the whole child process from outside, the way cold start does; the child's
report (when each phase ended, the accuracy after each epoch) goes into the case's fields.
The slow paradigms (those that declare `per_sample`) and the mode's `estimated` variants are
not trained here: a whole epoch of MNIST would take them minutes, and the report estimates
their time from their per-sample figures instead. A variant the child finds too slow for the
mode's limit is recorded with its first epoch's time, not a time to the target.
"""

import pytest

from .tta import run_tta
from .workloads import is_sampled


def test_time_to_accuracy(benchmark, variant, tta_target, mode, mnist_selected, record):
    preset, target = tta_target
    plan = mode.time_to_accuracy
    fields = dict(kind="time_to_accuracy", variant=variant.name, impl=variant.impl,
                  network=preset, dtype=plan.dtype, target=target)
    if is_sampled(variant.impl) or variant.name in plan.estimated:
        why = ("walks one sample at a time" if is_sampled(variant.impl)
               else "an epoch of the whole training set takes it most of a minute")
        record(**fields, refused=why)
        pytest.skip(f"{why}: estimated from its time per sample")
    runs = []

    def train():
        runs.append(run_tta(variant.name, preset, target, plan.dtype, plan.train, plan.test,
                            plan.hidden, plan.limit_s, mode.timing.timeout_s))

    benchmark.pedantic(train, rounds=1)
    trained = runs[0]
    if trained.error:
        raise RuntimeError(f"the training process failed: {trained.error}")
    report = trained.inner
    if report.get("too_slow"):
        record(**fields, **report, refused=f"its preset's epochs would take over the "
                                           f"{plan.limit_s:g} s limit: from its first epoch")
        pytest.skip("too slow for the mode's limit: estimated from its first epoch")
    benchmark.extra_info.update(fields, **report, reached="reached_s" in report)
    benchmark.group = f"{preset} time to {target:.0%}"
