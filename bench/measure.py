"""How one benchmark case is measured: build, size the work, verify against numpy, time it.

Every timed case follows the same steps, whichever operation it times:

1. **Build** the variant from the preset's starting weights. A variant that declares it does
   not support the shape (`supports`: the explicit Jacobian's memory budget on 784-512-10) is
   built at the widest power-of-two hidden width it supports, and the case says so; with
   none, the case is recorded as not supported.
2. **Size** the work of one round: the sampled paradigms (`per_sample`) get a subset
   sized to take about `Mode.timing.subset_s`; everybody else the full workload, unless one epoch of
   it would take longer than `Mode.timing.full_s` (then as many whole batches as fit in that: the
   run's length stays bounded whatever is slow). Short rounds are lengthened, by more epochs
   (train) or more calls per round (predict), to about `Mode.timing.round_s`, so that the timer's
   resolution and the call overhead don't dominate.
3. **Verify**: its outputs (predict) or its weights after one training step from the
   starting weights (train) are compared with numpy_vec's on the same data, in the same
   dtype. A mismatch is recorded in the case's `extra_info` and the report does not rank it.
4. **Time**: one warm-up round (JIT compilation, graph tracing and compiling for this data
   shape happen here; cold start measures them apart; the sampled paradigms compile nothing
   and skip it), then `benchmark.pedantic` with as many rounds as fit in `Mode.timing.case_s`,
   between `min_rounds` and `max_rounds`; in the default mode between two machine checks
   (bench/steadiness.py), so that the case says how fast the machine was while it ran. The
   rounds start once OpenBLAS's threads have stopped spinning (`wait_for_blas_threads`), and
   the cyclic garbage collector waits while a round runs (as `timeit` makes it wait) and runs
   between rounds, so that a collection does not fall inside some rounds and not others.

With a limit on one case (`Mode.timing.max_case_s`, `nnbench run --max-case-seconds S`), the
time its timed rounds will take is estimated before they start, from the first round
measured: the warm-up round (timed again, warm, when under `RETIME_BELOW_S`), or for the
sampled paradigms the one-sample probe times the subset. `expected_case_s` extrapolates it
the way steps 2 and 4 will: a short round lengthened to `Mode.timing.round_s`, times `rounds_for`
rounds. A case over the limit is skipped (`TooLong`, a pytest skip that bench/conftest.py
lists in the JSON with its estimate); by then it has spent about one round (sizing,
verifying, the warm-up), against the two or more rounds it would have timed. Cases that run
record their estimate too (`estimate_s`), to be checked against what they took. The GEMM
step, cold start, memory probes and loss curves are not limited: their work is fixed by the
mode.

A run's later blocks (bench/runner.py) skip the sizing: their processes read the sizes the
first block chose for each predict and train case (`first_block_sizes`) and time the same work
in the same number of rounds, after the verification and one warm-up round.

`extra_info` gets everything the report needs to turn the round's median into a time per
sample, samples per second and GFLOP/s (see `base_info` and the two `run_*` functions).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nnbench
import pytest
from nnbench.spec import NetworkSpec, Params, init_params
from nnbench.tolerance import RTOL, relative_error

from . import steadiness, timing
from .formatting import first_clause
from .results import Info, Kind, RunDataError, Verified, read_benchmark_json
from .threads import threads_in_effect, wait_for_blas_threads
from .timing import count_for, seconds
from .workloads import SIZING_ENV, Mode, Variant, current_block, is_sampled

# ---- 1. build, at a narrower width when the full shape is over a memory budget ----


@dataclass
class Built:
    impl: object
    spec: NetworkSpec
    params: Params
    refused: str  # why the requested shape was not built ("" when it was)


class NotSupported(pytest.skip.Exception):
    """A case its implementation declares it cannot compute (`supports`); bench/conftest.py
    records it with the reason."""

    def __init__(self, reason: str):
        super().__init__(f"not supported: {reason}")
        self.reason = reason


def build(variant: Variant, spec: NetworkSpec, params_for: Callable[[NetworkSpec], Params],
          dtype: str) -> Built:
    """The variant built for `spec`; if it does not support that shape, for the widest
    power-of-two hidden width under the requested one that it supports (a limit that grows
    with the width, like the Jacobian's memory budget); else NotSupported."""
    supports = nnbench.get_class(variant.impl).supports
    reason = supports(spec, dtype, **variant.kwargs)
    if reason is None:
        params = params_for(spec)
        return Built(variant.create(spec, params, dtype), spec, params, "")
    if len(spec.sizes) > 2 and max(spec.sizes[1:-1]) > 1:
        width = 2 ** math.floor(math.log2(max(spec.sizes[1:-1]) - 1))
        while width >= 1:
            narrower = spec.with_hidden(width)
            if supports(narrower, dtype, **variant.kwargs) is None:
                params = params_for(narrower)
                return Built(variant.create(narrower, params, dtype), narrower, params,
                             f"{shape(spec)} refused: {first_clause(reason)}; measured at "
                             f"{shape(narrower)}")
            width //= 2
    raise NotSupported(reason)


def shape(spec: NetworkSpec) -> str:
    return "-".join(map(str, spec.sizes))


# ---- 2. verify against numpy_vec ----


@dataclass(frozen=True)
class Verdict:
    status: str  # a results.Verified
    max_error: float  # largest |difference| / largest |numpy value|
    tolerance: float
    detail: str = ""

    def info(self) -> dict:
        return {Info.VERIFICATION: self.status, Info.MAX_ERROR: self.max_error,
                Info.TOLERANCE: self.tolerance, Info.VERIFICATION_DETAIL: self.detail}


def judge(pairs: list[tuple[str, object, object]], dtype: str, is_reference: bool) -> Verdict:
    """Compare each (what, actual, expected); the verdict names the worst array."""
    tolerance = RTOL[dtype]
    if is_reference:
        return Verdict(Verified.REFERENCE, 0.0, tolerance)
    errors = [(relative_error(actual, expected), what) for what, actual, expected in pairs]
    worst, what = max(errors)
    if worst <= tolerance:
        return Verdict(Verified.OK, worst, tolerance)
    return Verdict(Verified.MISMATCH, worst, tolerance,
                   f"{what} differs from numpy by a relative error of {worst:.3g} "
                   f"(tolerance {tolerance:g})")


def verify_predict(variant: Variant, impl, built: Built, X, dtype: str) -> Verdict:
    reference = nnbench.create("numpy", built.spec, built.params, dtype=dtype)
    return judge([("the output", impl.predict(X), reference.predict(X))], dtype,
                 variant.name == "numpy")


def verify_train_step(variant: Variant, impl, built: Built, X, Y, lr: float, dtype: str
                      ) -> Verdict:
    """One training step on (X, Y) by both, from the starting weights."""
    reference = nnbench.create("numpy", built.spec, built.params, dtype=dtype)
    reference.fit(X, Y, epochs=1, lr=lr, batch_size=len(X))
    impl.set_weights(built.params)
    impl.fit(X, Y, epochs=1, lr=lr, batch_size=len(X))
    pairs = []
    for layer, ((W, b), (W_ref, b_ref)) in enumerate(
            zip(impl.get_weights(), reference.get_weights()), start=1):
        pairs += [(f"W{layer} after one step", W, W_ref), (f"b{layer} after one step", b, b_ref)]
    return judge(pairs, dtype, variant.name == "numpy")


# ---- 3. size the work of one round ----


def subset_size(run: Callable[[int], object], full: int, step: int, target_s: float
                ) -> tuple[int, float]:
    """(samples, seconds per sample): how many samples a sampled paradigm handles in about
    `target_s` (a multiple of `step` when at least one step; at least 1, at most `full`),
    from the time of one sample."""
    run(1)  # anything that happens once (imports, caches) stays out of the estimate
    per_sample = max(seconds(lambda: run(1)), 1e-9)
    n = count_for(target_s, per_sample, 1, full)
    return (n - n % step if n >= step else n), per_sample


def full_or_subset(run: Callable[[int], object], full: int, batch: int, limit_s: float
                   ) -> int:
    """All `full` samples, unless one epoch over them is expected to take more than `limit_s`:
    then as many whole batches as fit in it. `run(n)` trains one epoch on the first n samples,
    and has run once on one batch already (the verification), so its compiling is done.

    One more batch gives a quick upper bound (a per-call cost counts as per-batch); only when
    that bound is over half the limit (one batch is a small sample of a machine's moods) does
    a sixteenth of the data measure the rate properly.
    """
    per_batch = seconds(lambda: run(batch))
    if per_batch * full / batch <= limit_s / 2:
        return full
    part = min(full, max(batch, full // 16 // batch * batch))
    run(part)  # a new data shape: whatever compiles for it, compiles here
    per_sample = seconds(lambda: run(part)) / part
    if per_sample * full <= limit_s:
        return full
    return max(batch, int(limit_s / per_sample) // batch * batch)


def repeats_for(run: Callable[[int], object], most: int, target_s: float) -> int:
    """How many repeats (epochs, calls) make a round's repeated work take about `target_s`,
    at most `most`; `run(k)` is assumed already warmed up for its data shape.

    The cost of one repeat is the slope from k to 2k repeats, not the time of k repeats over
    k, so that a fixed cost per run does not decide the count (`timing.cost_of`).
    """
    return timing.repeats_for(lambda k: seconds(lambda: run(k)), most, target_s)


def rounds_for(round_s: float, mode: Mode) -> int:
    """Rounds of `round_s` that fill `mode.timing.case_s`, between the mode's least and most."""
    limits = mode.timing
    return count_for(limits.case_s, round_s, limits.min_rounds, limits.max_rounds, fill=True)


# ---- the limit on one case (--max-case-seconds) ----


class TooLong(pytest.skip.Exception):
    """A case skipped because its timed rounds would take longer than `Mode.timing.max_case_s`."""

    def __init__(self, estimate_s: float, limit_s: float):
        super().__init__(f"skipped: estimated ~{estimate_s:.2g} s, over --max-case-seconds "
                         f"{limit_s:g}")
        self.estimate_s, self.limit_s = estimate_s, limit_s


def expected_case_s(first_s: float, most: int, mode: Mode) -> float:
    """Seconds the timed rounds of a case will take, from `first_s`, the time of one round as
    first measured: a round shorter than `mode.timing.round_s` will be lengthened towards it by up
    to `most` repeats (epochs or calls, as `repeats_for` does), and there will be
    `rounds_for` rounds of it."""
    round_s = max(first_s, min(mode.timing.round_s, first_s * most))
    return rounds_for(round_s, mode) * round_s


def within_case_limit(first_s: float, most: int, mode: Mode) -> float:
    """The case's estimate (`expected_case_s`); raises TooLong if it is over the limit."""
    estimate = expected_case_s(first_s, most, mode)
    if mode.timing.max_case_s is not None and estimate > mode.timing.max_case_s:
        raise TooLong(estimate, mode.timing.max_case_s)
    return estimate


# ---- 4. the two timed operations ----


def base_info(variant: Variant, network: str, dtype: str, built: Built, impl) -> dict:
    return {
        Info.VARIANT: variant.name, Info.IMPL: variant.impl, Info.VARIANT_NOTE: variant.note,
        Info.NETWORK: network, Info.DTYPE: dtype, Info.SIZES: list(built.spec.sizes),
        Info.THREADS: threads_in_effect(), Info.DEVICE: str(getattr(impl, "device", "cpu")),
        Info.REFUSED: built.refused,
    }


def timed(benchmark, mode: Mode, function, **pedantic) -> None:
    """benchmark.pedantic(function, ...), between two machine checks when the mode makes them
    per case (bench/steadiness.py), in a run's first block: how fast the machine was just
    before and just after. The rounds start once the BLAS threads that the check or the
    verification woke are asleep."""
    check = benchmark.extra_info[Info.MACHINE_CHECK] = {}
    checked = mode.timing.case_checks and current_block() == 1
    if checked:
        check["start"] = steadiness.check()
    wait_for_blas_threads()
    benchmark.pedantic(function, **pedantic)
    if checked:
        check["end"] = steadiness.check()


# A warm-up round shorter than this is timed again, warm, to size the case: compiling for the
# shape can take most of it (JAX compiles anew for each number of samples), and a case sized
# by it would get the fewest rounds. Longer warm-ups are left as they are.
RETIME_BELOW_S = 1.0


def run_train_case(benchmark, variant: Variant, network: str, dtype: str, built: Built,
                   X, Y, lr: float, batch_size: int | None, max_epochs: int, mode: Mode,
                   kind: str = Kind.TRAIN, **info) -> None:
    """Time `fit` on (X, Y): mini-batches of `batch_size` (None: full batch), the epochs of a
    round grown up to `max_epochs`; the verification is one step on the first batch (of the
    subset, for a sampled paradigm: sizing comes first, so a slow paradigm never has to take
    a full batch). A later block's process times the sizes its first block chose."""
    impl = built.impl
    full = len(X)
    batch = min(batch_size or full, full)

    def fit(n: int, epochs: int = 1):
        impl.fit(X[:n], Y[:n], epochs=epochs, lr=lr, batch_size=min(batch, n))

    def verify(n: int) -> Verdict:
        first = min(batch, n)
        return verify_train_step(variant, impl, built, X[:first], Y[:first], lr, dtype)

    sampled = is_sampled(variant.impl)
    planned = first_block_sizes().get(getattr(benchmark, "name", ""))
    if planned is not None:
        n, epochs, rounds = planned.samples, planned.epochs, planned.rounds
        verdict = verify(n)
        warm_up_s = None if sampled else seconds(lambda: fit(n))  # compiles for the shape
        estimate_s = None
    else:
        n, per_sample = subset_size(fit, full, batch, mode.timing.subset_s) if sampled else (
            full, 0.0)
        verdict = verify(n)
        if not sampled and full > batch:
            n = full_or_subset(fit, full, batch, mode.timing.full_s)
        # The warm-up round: JIT compilation and tracing for this data shape happen here.
        # The sampled paradigms compile nothing; their estimate stands in for it.
        warm_up_s = None if sampled else seconds(lambda: fit(n))
        round_s = per_sample * n if sampled else warm_up_s
        if not sampled and warm_up_s < RETIME_BELOW_S:
            round_s = seconds(lambda: fit(n))  # warm now: what a timed round will take
        estimate_s = within_case_limit(round_s, max_epochs, mode)
        epochs = 1
        if max_epochs > 1 and round_s < mode.timing.round_s:
            epochs = repeats_for(lambda k: fit(n, k), max_epochs, mode.timing.round_s)
            round_s = seconds(lambda: fit(n, epochs))
        rounds = rounds_for(round_s, mode)
    benchmark.extra_info.update(
        base_info(variant, network, dtype, built, impl), **{
            Info.KIND: kind, Info.OP: Kind.TRAIN, Info.SAMPLES: n, Info.FULL_SAMPLES: full,
            Info.SAMPLED: n < full, Info.BATCH_SIZE: min(batch, n), Info.EPOCHS: epochs,
            Info.MAX_EPOCHS: max_epochs,
            Info.FLOPS: built.spec.flops_per_sample()["train"] * n * epochs,
            Info.WARM_UP_S: warm_up_s, Info.ESTIMATE_S: estimate_s}, **verdict.info(), **info)
    benchmark.group = f"{network} {kind} {dtype}"
    timed(benchmark, mode, fit, args=(n, epochs), rounds=rounds)


MAX_CALLS = 1_000_000  # predict calls in one round, at most


def run_predict_case(benchmark, variant: Variant, network: str, dtype: str, built: Built,
                     X, mode: Mode, **info) -> None:
    """Time `predict` on the rows of X (a subset for the sampled paradigms); calls too short
    to time alone are repeated within a round. A later block's process times the sizes its
    first block chose."""
    impl = built.impl
    full = len(X)

    def predict(n: int):
        impl.predict(X[:n])

    sampled = is_sampled(variant.impl)
    planned = first_block_sizes().get(getattr(benchmark, "name", ""))
    if planned is not None:
        n, iterations, rounds = planned.samples, planned.iterations, planned.rounds
        verdict = verify_predict(variant, impl, built, X[:n], dtype)  # also the warm-up call
        estimate_s = None
    else:
        n, per_sample = subset_size(predict, full, 1, mode.timing.subset_s) if sampled else (
            full, 0.0)
        verdict = verify_predict(variant, impl, built, X[:n], dtype)  # also the warm-up call
        call_s = per_sample * n if sampled else seconds(lambda: predict(n))
        estimate_s = within_case_limit(call_s, MAX_CALLS, mode)
        iterations = 1
        if call_s < mode.timing.round_s:
            iterations = repeats_for(lambda k: [predict(n) for _ in range(k)], MAX_CALLS,
                                     mode.timing.round_s)
            call_s = seconds(lambda: [predict(n) for _ in range(iterations)]) / iterations
        rounds = rounds_for(call_s * iterations, mode)
    benchmark.extra_info.update(
        base_info(variant, network, dtype, built, impl), **{
            Info.KIND: Kind.PREDICT, Info.OP: Kind.PREDICT, Info.SAMPLES: n,
            Info.FULL_SAMPLES: full, Info.SAMPLED: n < full, Info.BATCH_SIZE: n, Info.EPOCHS: 1,
            Info.ITERATIONS: iterations,
            Info.FLOPS: built.spec.flops_per_sample()["predict"] * n,
            Info.ESTIMATE_S: estimate_s}, **verdict.info(), **info)
    benchmark.group = f"{network} predict {dtype}"
    timed(benchmark, mode, predict, args=(n,), rounds=rounds, iterations=iterations)


# ---- the sizes a later block times again ----

@dataclass(frozen=True)
class Sizes:
    """What the first block chose for a case: samples, epochs and calls per round, rounds."""

    samples: int
    epochs: int
    iterations: int
    rounds: int


@functools.cache
def first_block_document() -> dict:
    """The first block's JSON of this process's variant (empty without one, or when it cannot
    be read: then each case sizes itself)."""
    path = os.environ.get(SIZING_ENV)
    if not path:
        return {}
    try:
        return read_benchmark_json(Path(path))
    except RunDataError:
        return {}


@functools.cache
def first_block_sizes() -> dict[str, Sizes]:
    """The sizes of every predict and train case of the first block, by case name."""
    return {bench["name"]: Sizes(int(bench["extra_info"][Info.SAMPLES]),
                                 int(bench["extra_info"].get(Info.EPOCHS, 1)),
                                 int(bench["stats"].get("iterations", 1)),
                                 int(bench["stats"]["rounds"]))
            for bench in first_block_document().get("benchmarks", [])
            if bench["extra_info"].get(Info.KIND) in (Kind.PREDICT, Kind.TRAIN)}


def first_block_cold_start_s(variant: str, network: str) -> float | None:
    """The first block's cold start of `variant` on `network`, in seconds (None: none)."""
    for bench in first_block_document().get("benchmarks", []):
        info = bench["extra_info"]
        if (info.get(Info.KIND), info.get(Info.VARIANT), info.get(Info.NETWORK)) == (
                Kind.COLD_START, variant, network):
            return float(bench["stats"]["median"])
    return None


def preset_params(preset) -> Callable[[NetworkSpec], Params]:
    """Starting weights for the preset's network or a narrower one, drawn the preset's way."""
    def params_for(spec: NetworkSpec) -> Params:
        if spec == preset.spec:
            return preset.initial_params()
        return init_params(spec, preset.init, preset.seed)
    return params_for
