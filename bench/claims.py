"""The claims table: every figure the seed write-ups published, re-measured here.

Each entry of CLAIMS is data: the SEEDS id, the write-up it comes from (by title), what was
claimed (the published figure, as published), and a `check` that measures it through the
common interface and judges the result. A check returns Findings, one per implementation
where the claim is about a network that every implementation runs, and each Finding carries
a verdict:

    reproduced                    the published figure holds here (to rounding)
    reproduced within tolerance   it holds within the stated tolerance (the reason says which)
    differs                       it does not hold here, and the reason says why
    not run                       it could not run here, and the reason says why

Training claims are estimated before they run (a short probe, extrapolated); a run that would
take longer than the time budget per (claim, implementation) is not started and says how long
it would take. `--quick` uses a small budget, so only the cheap claims run in full.

A Finding may also carry `data`, the numbers behind its text (A2: width, bytes and seconds per
sample; B2: the looped and vectorised times), so that the report's charts (`write_charts`) are
drawn from claims.json alone.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import timeit
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nnbench
import numpy as np
from nnbench import networks
from nnbench.errors import BudgetError, DataError, NNBenchError, UnknownNameError
from nnbench.spec import NetworkSpec, init_params

from . import files

RUN_FILE = "claims.json"  # a run directory's findings, which its report shows

REPRODUCED = "reproduced"
WITHIN = "reproduced within tolerance"
DIFFERS = "differs"
NOT_RUN = "not run"

# Implementations too slow for long training runs (their per-sample speed is what the
# benchmark compares); the time estimate decides, this only orders the work.
SLOW = {"python", "jacobian"}

A = '"Solving MNIST with a Neural Network from the ground up"'
B = "a neural networks tutorial (feed-forward, backpropagation, digits)"
C = '"Code a Neural Network"'
D = '"Building a program that actually learns"'


@dataclass
class Finding:
    measured: str
    verdict: str
    impl: str = ""
    reason: str = ""
    value: float | None = None  # the headline number, for charts
    seconds: float | None = None  # how long the measurement took
    data: dict | None = None  # the numbers behind `measured`, for charts (plain JSON values)


@dataclass
class Context:
    impls: list[str]  # the implementations to run, all available here
    quick: bool = False
    budget: float = 300.0  # seconds per (claim, implementation): Keras's 100,000-epoch XOR fits
    log: Callable[[str], None] = lambda message: None


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    claimed: str
    check: Callable[[Context], list[Finding]] = field(repr=False)


class TooSlow(Exception):
    def __init__(self, seconds: float):
        self.seconds = seconds


# ---- running presets within the time budget ----


def estimate_fit_seconds(name, preset, X, Y, epochs, lr, batch_size) -> float:
    """Seconds `fit` would take: probes of steps on one mini-batch (after a warm-up that pays
    any compilation), scaled to the samples and epochs of the real run.

    A call may cost a fixed amount besides its steps (Octave's round trip to its process), so
    a step costs the slope from 1 to k steps, k grown tenfold until the steps added take
    0.05 s; the fixed amount is counted once, as the real run pays it once.
    """
    batch = min(batch_size or len(X), len(X), 256)
    probe = nnbench.create(name, preset.spec, preset.initial_params())
    Xb, Yb = X[:batch], Y[:batch]

    def seconds_for(steps: int) -> float:
        started = time.perf_counter()
        probe.fit(Xb, Yb, epochs=steps, lr=lr)  # one full-batch step per epoch
        return time.perf_counter() - started

    seconds_for(1)  # warm-up: JIT compilation, graph tracing
    steps = len(X) * epochs / batch  # the real run's work, in steps of this probe's batch
    once = longer = seconds_for(1)
    k = 1
    while longer - once < 0.05 and k < steps:
        k = min(k * 10, math.ceil(steps))
        longer = seconds_for(k)
    per_step = (longer - once) / (k - 1) if k > 1 else once
    return max(once - per_step, 0.0) + per_step * steps


def train(ctx: Context, name: str, preset: networks.Preset, *, epochs=None, lr=None,
          limit=None):
    """Train `preset` with implementation `name`: (impl, history, data), or TooSlow."""
    data = preset.load_data(limit)
    epochs = epochs or preset.epochs
    lr = lr or preset.lr
    estimate = estimate_fit_seconds(name, preset, data.X_train, data.Y_train, epochs, lr,
                                    preset.batch_size)
    if estimate > ctx.budget:
        raise TooSlow(estimate)
    ctx.log(f"{name}: training {preset.name} for {epochs} epochs (~{estimate:.0f} s)")
    impl = nnbench.create(name, preset.spec, preset.initial_params())
    history = impl.fit(data.X_train, data.Y_train, epochs=epochs, lr=lr,
                       batch_size=preset.batch_size, shuffle=preset.shuffle, seed=preset.seed)
    return impl, history, data


def per_implementation(ctx: Context, measure: Callable[[str], Finding],
                       names: list[str] | None = None) -> list[Finding]:
    """`measure(name)` for each implementation, a refusal or a slow one reported, not raised."""
    findings = []
    for name in names if names is not None else ctx.impls:
        try:
            finding = measure(name)
        except TooSlow as slow:
            finding = Finding("", NOT_RUN, reason=f"would take ~{slow.seconds:.0f} s, over the "
                              f"budget of {ctx.budget:g} s per claim and implementation")
        except NNBenchError as exc:
            finding = Finding("", NOT_RUN, reason=str(exc))
        except Exception as exc:  # an implementation that breaks is reported, not fatal
            finding = Finding("", NOT_RUN, reason=f"failed: {type(exc).__name__}: {exc}")
        finding.impl = name
        findings.append(finding)
    return findings


def fmt_outputs(values) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in np.ravel(values)) + "]"


# ---- the checks, in SEEDS order ----


def check_a1(ctx):
    preset = networks.get("mnist-leaky")

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        accuracy = impl.evaluate(data.X_test, data.Y_test)[1]
        measured = (f"{accuracy:.2%} test accuracy after 5 epochs on 60,000 "
                    f"({history.seconds:.1f} s)")
        if 0.92 <= accuracy <= 0.95:
            return Finding(measured, WITHIN, reason="inside the published 92-95% range; the "
                           "notebook's 94.36% came from another random start", value=accuracy,
                           seconds=history.seconds)
        return Finding(measured, DIFFERS, reason="outside 92-95% from our random start",
                       value=accuracy, seconds=history.seconds)

    return per_implementation(ctx, measure)


def check_a1_best(ctx):
    preset = networks.get("mnist-best")

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        accuracy = impl.evaluate(data.X_test, data.Y_test)[1]
        measured = (f"{accuracy:.2%} test accuracy, plain SGD, {preset.epochs} epochs "
                    f"({history.seconds:.0f} s)")
        verdict = WITHIN if accuracy >= 0.98 else DIFFERS
        return Finding(measured, verdict, reason="our target: at least 98.0%", value=accuracy,
                       seconds=history.seconds)

    return per_implementation(ctx, measure)


A2_WIDTHS = [16, 32, 64, 128, 256]  # hidden widths of MNIST 784-w-10; quick: the first only


def seconds_per_sample(gradients, X, Y, repeats: int = 5, enough: float = 2.0):
    """(best seconds per sample over up to `repeats` calls of `gradients(X, Y)`, its result).

    The best call, not the mean: on a busy machine a call is only ever slowed down. It stops
    early once the calls have taken `enough` seconds in all.
    """
    best, spent = math.inf, 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        result = gradients(X, Y)
        elapsed = time.perf_counter() - started
        best, spent = min(best, elapsed), spent + elapsed
        if spent > enough:
            break
    return best / len(X), result


def largest_relative_difference(params_a, params_b) -> float:
    return max(float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-300)
               for pair_a, pair_b in zip(params_a, params_b) for a, b in zip(pair_a, pair_b))


def check_a2(ctx):
    """Long form against short form at growing hidden widths: the same gradient, and what the
    long form costs in memory and time per sample. Each finding's `data` holds the numbers
    that `chart_a2` draws."""
    if "jacobian" not in ctx.impls:
        return [Finding("", NOT_RUN, "jacobian", "the jacobian implementation is not selected")]
    from nnbench import jacobian

    findings = []
    data = networks.get("mnist").load_data(limit=8)
    budget, _ = jacobian.resolve_budget()  # what the implementation will enforce
    for width in A2_WIDTHS[:1] if ctx.quick else A2_WIDTHS:
        preset = networks.get("mnist").with_hidden(width)
        numbers = {"width": width, "dtype": "float64", "budget_bytes": budget,
                   "long_form_bytes": jacobian.long_form_bytes(preset.spec, "float64")}
        try:
            impl = nnbench.create("jacobian", preset.spec, preset.initial_params())
        except BudgetError as exc:  # over the memory budget: reported, not run
            findings.append(Finding(
                f"784-{width}-10: the long form would need "
                f"{numbers['long_form_bytes'] / 1e6:.3g} MB for one sample", NOT_RUN,
                "jacobian", str(exc), data=numbers))
            continue
        long_seconds, (_, long_grads) = seconds_per_sample(impl.loss_and_grads,
                                                           data.X_train, data.Y_train)
        short_seconds, (_, short_grads) = seconds_per_sample(impl.short_form_grads,
                                                             data.X_train, data.Y_train)
        worst = largest_relative_difference(long_grads, short_grads)
        numbers.update(long_seconds_per_sample=long_seconds,
                       short_seconds_per_sample=short_seconds)
        slower = long_seconds / short_seconds
        findings.append(Finding(
            f"784-{width}-10: long form = short form to {worst:.1e}; {long_seconds * 1e3:.2f} ms "
            f"vs {short_seconds * 1e3:.3f} ms per sample ({ratio_text(slower)}), "
            f"{numbers['long_form_bytes'] / 1e6:.3g} MB for one sample",
            REPRODUCED if worst < 1e-10 else DIFFERS, "jacobian", value=slower, data=numbers))
    # The seed's own network, which is not run: what it would need, against the default budget.
    full = networks.get("mnist").spec
    needed = jacobian.long_form_bytes(full, "float64")
    budget = jacobian.DEFAULT_BUDGET
    verdict = REPRODUCED if needed > budget else DIFFERS
    findings.append(Finding(
        f"784-512-10: the long form needs {needed / 1e9:.2f} GB for one sample; refused at the "
        f"{budget / 2**30:.0f} GiB budget", verdict, "jacobian",
        reason="the memory problem the write-up ran into, refused before it happens",
        value=needed, data={"width": full.sizes[1], "dtype": "float64", "budget_bytes": budget,
                            "long_form_bytes": needed, "seed": True}))
    return findings


def check_a3(ctx):
    from nnbench import jacobian

    S = np.random.default_rng(3).dirichlet(np.ones(5))
    J = jacobian.softmax_jacobian(S)
    symmetric = np.allclose(J, J.T, rtol=0, atol=1e-15)
    rows = float(np.max(np.abs(J.sum(axis=1))))
    diagonal = float(np.max(np.abs(np.diag(J) - S * (1 - S))))
    ok = symmetric and rows < 1e-15 and diagonal < 1e-15
    return [Finding(f"S = {fmt_outputs(S)}: symmetric {symmetric}, largest row sum {rows:.1e}, "
                    f"diagonal - S(1-S) {diagonal:.1e}", REPRODUCED if ok else DIFFERS,
                    "jacobian")]


def learns_xor(outputs) -> bool:
    return bool(np.all((np.ravel(outputs) > 0.5) == np.array([False, True, True, False])))


def check_a4(ctx):
    preset = networks.get("xor")

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        outputs = impl.predict(data.X_test)
        verdict = REPRODUCED if learns_xor(outputs) else DIFFERS
        return Finding(f"outputs {fmt_outputs(outputs)} after 100,000 epochs "
                       f"({history.seconds:.1f} s)", verdict,
                       reason="" if verdict == REPRODUCED else "did not learn XOR",
                       seconds=history.seconds)

    return per_implementation(ctx, measure)


def xor_numpy_per_row(params, X, Y, epochs: int, lr: float):
    """SEEDS A5's Python port of the Octave XOR: a loop over the rows with NumPy for each row,
    the logistic-cost gradients averaged over the rows, one step per epoch. (W, b) per layer,
    sigmoid layers; returns the trained Params and the seconds the loop took."""
    params = [(W.copy(), b.copy()) for W, b in params]
    started = time.perf_counter()
    for _ in range(epochs):
        sums = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
        for x, y in zip(X, Y):
            activations = [x]
            for W, b in params:
                activations.append(1 / (1 + np.exp(-(activations[-1] @ W + b))))
            delta = activations[-1] - y  # the logistic cost's dL/dz at a sigmoid output
            for layer in reversed(range(len(params))):
                sums[layer][0][...] += np.outer(activations[layer], delta)
                sums[layer][1][...] += delta
                a = activations[layer]
                delta = (params[layer][0] @ delta) * a * (1 - a)
        for (W, b), (dW, db) in zip(params, sums):
            W -= lr * dW / len(X)
            b -= lr * db / len(X)
    return params, time.perf_counter() - started


def largest_difference(params_a, params_b) -> float:
    return max(float(np.max(np.abs(a - b)))
               for pair_a, pair_b in zip(params_a, params_b) for a, b in zip(pair_a, pair_b))


def check_a5(ctx):
    """Per-row against batched: the same weights after 1,000 epochs; and the published timing."""
    preset = networks.get("xor")
    data = preset.load_data()
    start = preset.initial_params()
    batched = nnbench.create("numpy", preset.spec, start)
    batched.fit(data.X_train, data.Y_train, epochs=1000, lr=preset.lr)
    per_row = {"numpy per-row port": xor_numpy_per_row(start, data.X_train, data.Y_train,
                                                       1000, preset.lr)}
    if "python" in ctx.impls:  # pure Python walks the rows one by one too
        impl = nnbench.create("python", preset.spec, start)
        history = impl.fit(data.X_train, data.Y_train, epochs=1000, lr=preset.lr)
        per_row["python"] = (impl.get_weights(), history.seconds)
    if "octave" in ctx.impls:
        from nnbench import octave_impl

        per_row["octave per-row"] = octave_impl.xor_per_row(start, 1000, preset.lr)
    findings = []
    for name, (weights, _) in per_row.items():
        worst = largest_difference(weights, batched.get_weights())
        findings.append(Finding(
            f"{name} vs numpy batched: largest weight difference {worst:.1e} after 1,000 epochs",
            REPRODUCED if worst < 1e-12 else DIFFERS, name,
            reason="identical up to the last bits of summation order", value=worst))
    findings.append(check_a5_timing(ctx, per_row))
    return findings


def check_a5_timing(ctx, per_row) -> Finding:
    if "octave per-row" not in per_row:
        return Finding("", NOT_RUN, "octave vs numpy per-row",
                       "the octave implementation is not available here")
    octave_seconds = per_row["octave per-row"][1]
    numpy_seconds = per_row["numpy per-row port"][1]
    ratio = octave_seconds / numpy_seconds
    measured = (f"1,000 epochs per row: Octave {octave_seconds:.3f} s (inside Octave), NumPy "
                f"per-row {numpy_seconds:.3f} s: {ratio:.2f}x (published 9.5 s vs 5.4 s, 1.76x)")
    verdict = WITHIN if 1.76 / 2 <= ratio <= 1.76 * 2 else DIFFERS
    return Finding(measured, verdict, "octave vs numpy per-row", value=ratio,
                   reason="timings depend on the machine, the versions and the BLAS; within 2x "
                          "of the published ratio counts")


def check_a6(ctx):
    preset = networks.get("xor-keras")
    published = np.array([0.079, 0.914, 0.925, 0.069])

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        outputs = impl.predict(data.X_test).ravel()
        off = float(np.max(np.abs(outputs - published)))
        measured = f"outputs {fmt_outputs(outputs)} ({history.seconds:.1f} s)"
        if off <= 0.05:
            return Finding(measured, WITHIN, reason=f"within 0.05 of the published outputs "
                           f"(largest difference {off:.3f})", seconds=history.seconds)
        reason = (f"largest difference {off:.3f}: a different random start (the write-up gave "
                  f"no seed){'; still learns XOR' if learns_xor(outputs) else ''}")
        return Finding(measured, DIFFERS, reason=reason, seconds=history.seconds)

    return per_implementation(ctx, measure)


def check_a7(ctx):
    preset = networks.get("binary-reversal")
    reference = {}

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        outputs = impl.predict(data.X_test)
        accuracy = impl.evaluate(data.X_test, data.Y_test)[1]
        # The first input is 0 in every training string, so its weights never move: on the
        # test strings its contribution is whatever the initial weights were.
        untouched = np.array_equal(impl.get_weights()[0][0][0], preset.initial_params()[0][0][0])
        reference.setdefault("outputs", outputs)
        same = float(np.max(np.abs(outputs - reference["outputs"])))
        measured = (f"{accuracy:.0%} of the strings starting with 1 reversed right; weights of "
                    f"the new bit untouched: {untouched}; largest output difference to the "
                    f"first implementation {same:.1e}")
        verdict = REPRODUCED if untouched and accuracy < 1 else DIFFERS
        return Finding(measured, verdict, value=accuracy, seconds=history.seconds)

    return per_implementation(ctx, measure)


def check_b1(ctx):
    preset = networks.get("feedforward-example")
    X = preset.load_data().X_train

    def measure(name):
        output = float(nnbench.create(name, preset.spec, preset.initial_params()).predict(X)[0, 0])
        verdict = REPRODUCED if math.floor(output * 1e4) / 1e4 == 0.8354 else DIFFERS
        return Finding(f"{output:.6f}", verdict, value=output,
                       reason="the write-up printed it cut to 4 decimals")

    return per_implementation(ctx, measure)


B2_NETWORKS = [  # (label, sizes, published looped us, published vectorised us)
    ("3-3-1 (B1's weights)", (3, 3, 1), 40.0, None),
    ("4-layer 3-3-3-1", (3, 3, 3, 1), 70.0, 46.0),
    ("100-100-50-10", (100, 100, 50, 10), 41_000.0, 84.0),
]


def ratio_text(ratio: float) -> str:
    """1.5x, 15x, 488x: one decimal below 10, none above."""
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def time_forward(impl, X) -> float:
    """Microseconds for one forward pass of one sample (best of 5 timeit repeats)."""
    runs = timeit.Timer(lambda: impl._forward(X))
    number, _ = runs.autorange()
    return min(runs.repeat(repeat=5, number=number)) / number * 1e6


def check_b2(ctx):
    if not {"python", "numpy"} <= set(ctx.impls):
        return [Finding("", NOT_RUN, "python, numpy", "needs python and numpy")]
    findings = []
    for label, sizes, looped_us, vectorised_us in B2_NETWORKS:
        spec = NetworkSpec(sizes, ("sigmoid",) * (len(sizes) - 1), "mse")
        params = (networks.get("feedforward-example").initial_params() if sizes == (3, 3, 1)
                  else init_params(spec, "uniform_pos", seed=0))
        X = np.random.default_rng(0).uniform(0, 1, (1, sizes[0]))
        looped = time_forward(nnbench.create("python", spec, params), X)
        vectorised = time_forward(nnbench.create("numpy", spec, params), X)
        ratio = looped / vectorised
        published = (f"published {looped_us:g} us looped" +
                     (f", {vectorised_us:g} us vectorised, {ratio_text(looped_us / vectorised_us)}"
                      if vectorised_us else ""))
        measured = (f"{label}: looped {looped:.1f} us, vectorised {vectorised:.1f} us, "
                    f"{ratio_text(ratio)} ({published})")
        if vectorised_us is None:
            verdict, reason = DIFFERS, "an absolute time on another machine; nothing to compare"
        elif 0.5 <= ratio / (looped_us / vectorised_us) <= 2:
            verdict, reason = WITHIN, "ratio within 2x of the published ratio"
        else:
            verdict, reason = DIFFERS, ("the ratio depends on the machine and on how the loop "
                                        "is written (ours: sum(map(mul, ...)) per neuron)")
        numbers = {"network": label, "looped_us": looped, "vectorised_us": vectorised,
                   "ratio": ratio, "published_looped_us": looped_us,
                   "published_vectorised_us": vectorised_us,
                   "published_ratio": looped_us / vectorised_us if vectorised_us else None}
        findings.append(Finding(measured, verdict, "python vs numpy", reason, value=ratio,
                                data=numbers))
    return findings


def check_b3(ctx):
    preset = networks.get("digits")

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        accuracy = impl.evaluate(data.X_test, data.Y_test)[1]
        last = history.loss[-1]
        earlier = history.loss[int(len(history.loss) * 0.9)]
        measured = (f"{accuracy:.1%} test accuracy; cost {history.loss[0]:.3f} -> {last:.4f}, "
                    f"{(earlier - last) / earlier:.1%} lower over the last 300 iterations "
                    f"({history.seconds:.0f} s)")
        verdict = WITHIN if abs(accuracy - 0.86) <= 0.03 else DIFFERS
        reason = ("within 3 points of 86%" if verdict == WITHIN
                  else "more than 3 points from 86%: our split and random start differ")
        return Finding(measured, verdict, reason=reason, value=accuracy,
                       seconds=history.seconds)

    return per_implementation(ctx, measure)


def check_c1(ctx):
    preset = networks.get("xor-bias-column")
    published = np.array([0.018, 0.984, 0.986, 0.015])

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        outputs = impl.predict(data.X_test).ravel()
        off = float(np.max(np.abs(outputs - published)))
        measured = f"outputs {fmt_outputs(outputs)}, cost {history.loss[-1]:.1e}"
        verdict = WITHIN if off <= 0.02 else DIFFERS
        return Finding(measured, verdict, reason=f"largest difference {off:.3f} (tolerance "
                       "0.02; the write-up gave no seed)", seconds=history.seconds)

    return per_implementation(ctx, measure)


def check_c2(ctx):
    # The same network in Keras: SGD at 1.0 on Keras's mse (a mean), so lr 1.0 here, not 2.
    preset = dataclasses.replace(networks.get("xor-bias-column"), lr=1.0)

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        outputs = impl.predict(data.X_test).ravel()
        loss = history.loss[-1]
        classes = (outputs > 0.5).astype(int).tolist()
        measured = f"loss {loss:.1e} at epoch 5,000, classes {classes}"
        ok = classes == [0, 1, 1, 0] and 5.7e-4 / 3 <= loss <= 5.7e-4 * 3
        return Finding(measured, WITHIN if ok else DIFFERS,
                       reason="classes equal and loss within 3x of 5.7e-4 (another random "
                              "start)", value=loss, seconds=history.seconds)

    return per_implementation(ctx, measure)


def check_d1(ctx):
    preset = networks.get("copy-first-input")

    def measure(name):
        impl, history, data = train(ctx, name, preset)
        outputs = impl.predict(data.X_test).ravel()
        off = float(np.max(np.abs(outputs - np.array([0, 0, 1, 1]))))
        verdict = REPRODUCED if off < 0.05 else DIFFERS
        return Finding(f"outputs {fmt_outputs(outputs)}", verdict,
                       reason=f"all within {off:.3f} of 0, 0, 1, 1", seconds=history.seconds)

    return per_implementation(ctx, measure)


CLAIMS = [
    Claim("A1", A, "MNIST 784-512-10, leaky ReLU, 5 epochs: \"usually 92% to 95%\" test accuracy "
          "(the notebook's run: 94.36%)", check_a1),
    Claim("A2", A, "long-form backpropagation (explicit Jacobians) gives the short form's "
          "gradient but \"runs into problems with speed and memory\"; the notebook kernel "
          "crashes at a decent batch size", check_a2),
    Claim("A3", A, "the softmax Jacobian diag(S) - S S^T is symmetric, its rows sum to 0, its "
          "diagonal is S_i (1 - S_i)", check_a3),
    Claim("A4", A, "XOR in Octave: 2-2-1 sigmoid, logistic cost, lr 0.01, 100,000 iterations "
          "learns XOR (settings published, no figure)", check_a4),
    Claim("A5", A, "Octave and the Python port give identical weights after 1,000 epochs; "
          "Octave ~9.5 s, Python ~5.4 s (1.76x)", check_a5),
    Claim("A6", A, "Keras XOR (mse, SGD, batch 4, 100,000 epochs) predicts about "
          "[0.079, 0.914, 0.925, 0.069]", check_a6),
    Claim("A7", A, "a linear Dense(4) trained to reverse 4-bit strings starting with 0 ignores "
          "the new bit on strings starting with 1", check_a7),
    Claim("B1", B, "the 3-3-1 example's output is 0.8354", check_b1),
    Claim("B2", B, "looped feed-forward 40 us (3-layer); 70 us vs 46 us vectorised (4-layer); "
          "41 ms vs 84 us vectorised for 100-100-50-10, \"500 fold\"", check_b2),
    Claim("B3", B, "digits, 64-30-10 sigmoid, 3,000 iterations: 86% test accuracy, cost "
          "plateauing by 3,000", check_b3),
    Claim("C1", C, "XOR with a bias column: cost falls to about 0, outputs about "
          "[0.018, 0.984, 0.986, 0.015]", check_c1),
    Claim("C2", C, "the same network in Keras: loss about 5.7e-4 at epoch 5,000, classes "
          "[0, 1, 1, 0]", check_c2),
    Claim("D1", D, "no hidden layer, 10,000 iterations: outputs close to 0, 0, 1, 1", check_d1),
    Claim("A1+", "nnbench (beyond the seeds)", "plain SGD on 784-512-10 can reach at least "
          "98.0% (preset mnist-best), against A1's \"92% to 95%\"", check_a1_best),
]


def get_claims(ids: list[str] | None = None) -> list[Claim]:
    known = {claim.id: claim for claim in CLAIMS}
    for wanted in ids or []:
        if wanted not in known:
            raise UnknownNameError("claim id", wanted, known)
    return [claim for claim in CLAIMS if not ids or claim.id in ids]


def run_claims(ctx: Context, ids: list[str] | None = None) -> list[dict]:
    """Every selected claim checked: one row per finding, ready for JSON and pandas."""
    rows = []
    for claim in get_claims(ids):
        ctx.log(f"claim {claim.id}")
        started = time.perf_counter()
        try:
            findings = claim.check(ctx)
        except NNBenchError as exc:
            findings = [Finding("", NOT_RUN, reason=str(exc))]
        except ImportError as exc:
            findings = [Finding("", NOT_RUN, reason=f"needs {exc.name or exc}")]
        except Exception as exc:  # a broken check is reported; the other claims still run
            findings = [Finding("", NOT_RUN, reason=f"failed: {type(exc).__name__}: {exc}")]
        seconds = time.perf_counter() - started
        for finding in findings:
            rows.append({"id": claim.id, "source": claim.source, "claimed": claim.claimed,
                         **asdict(finding), "claim_seconds": seconds})
    return rows


# ---- output ----


def format_table(rows: list[dict]) -> str:
    """The findings as a plain-text table, one block per claim."""
    lines = []
    for claim_id in dict.fromkeys(row["id"] for row in rows):
        block = [row for row in rows if row["id"] == claim_id]
        first = block[0]
        lines.append(f"{claim_id}  {first['source']}")
        lines.append(f"    claimed:  {first['claimed']}")
        for row in block:
            who = f"[{row['impl']}] " if row["impl"] else ""
            lines.append(f"    {row['verdict'].upper():<28} {who}{row['measured']}".rstrip())
            if row["reason"]:
                lines.append(f"    {'':<28} ({row['reason']})")
        lines.append("")
    lines.append(f"verdicts: {verdict_counts(rows)}")
    return "\n".join(lines)


def verdict_counts(rows: list[dict]) -> str:
    """How many findings got each verdict, e.g. "30 reproduced, 2 differs"."""
    counts = Counter(row["verdict"] for row in rows)
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items())


def write_json(rows: list[dict], path) -> None:
    """Write the findings to `path` through a temporary file, so a crash leaves no half file."""
    files.write_json(Path(path), rows)


def read_json(path) -> list[dict]:
    """Findings written by `write_json`, or a clear error if the file is not such a list."""
    path = Path(path)
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read claims from {str(path)!r}: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "verdict" in r
                                             for r in rows):
        raise DataError(f"{str(path)!r} is not a claims file (a list of findings)")
    return rows


def markdown_section(rows: list[dict], charts: list[tuple[str, str]] = ()) -> list[str]:
    """REPORT.md's claims section: one table row per finding, then the charts that
    `write_charts` drew, as (caption, file name) pairs, embedded from `charts/`."""
    lines = ["## The seed write-ups' claims, re-measured", "",
             "Each figure the seed write-ups published (`nnbench claims`; ids as in SEEDS.md), "
             "beside what this machine measured and a verdict.", "",
             "| id | write-up | claimed | implementation | measured | verdict |",
             "|---|---|---|---|---|---|"]
    previous = None
    for row in rows:
        new_claim = row["id"] != previous
        previous = row["id"]
        verdict = row["verdict"] + (f" ({row['reason']})" if row["reason"] else "")
        cells = [row["id"] if new_claim else "", row["source"] if new_claim else "",
                 row["claimed"] if new_claim else "", row["impl"], row["measured"], verdict]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines += ["", f"Verdicts: {verdict_counts(rows)}.", ""]
    for caption, name in charts:
        lines += [f"![{caption}](charts/{name})", "", f"*{caption}*", ""]
    return lines


# ---- charts: each draws from the rows alone (a claims.json), or returns False ----


def write_charts(rows: list[dict], directory) -> list[tuple[str, str]]:
    """Every chart the rows allow, as PNG files in `directory`: [(caption, file name)].

    A chart needs its claim's rows with numbers: `value` for the accuracy claims, `data` for
    A2 and B2 (claims files written before `data` existed draw the accuracy chart only).
    """
    directory = Path(directory)
    drawn = []
    for name, draw, caption in CHARTS:
        if draw(rows, directory / name):
            drawn.append((caption, name))
    return drawn


def pyplot():
    """matplotlib's pyplot on the Agg backend: files only, never a window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure, path) -> None:
    """Save `figure` as a PNG through a temporary file (see bench/files.py), and close it."""
    with files.replacing(Path(path)) as temporary:
        figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(figure)


ACCURACY_CLAIMS = {"A1": (0.92, 0.95), "B3": (0.86, 0.86), "A1+": (0.98, 0.98)}


def chart_accuracy(rows: list[dict], path) -> bool:
    """Test accuracy per implementation for A1, B3 and A1+, against the published figure."""
    plt = pyplot()
    measured = [r for r in rows if r["id"] in ACCURACY_CLAIMS and r["value"] is not None]
    if not measured:
        return False
    ids = [i for i in ACCURACY_CLAIMS if any(r["id"] == i for r in measured)]
    figure, axes = plt.subplots(1, len(ids), figsize=(4.5 * len(ids), 3.6), squeeze=False)
    for axis, claim_id in zip(axes[0], ids):
        block = [r for r in measured if r["id"] == claim_id]
        names = [r["impl"] for r in block]
        values = [100 * r["value"] for r in block]
        axis.bar(names, values, color="#4c72b0")
        low, high = ACCURACY_CLAIMS[claim_id]
        if low == high:
            axis.axhline(100 * low, color="#c44e52", linestyle="--", label=f"{100 * low:g}%")
        else:
            axis.axhspan(100 * low, 100 * high, color="#c44e52", alpha=0.2,
                         label=f"published {100 * low:g}-{100 * high:g}%")
        axis.set_ylim(min(values + [100 * low]) - 3, 100)
        axis.set_title(f"{claim_id}: test accuracy")
        axis.set_ylabel("%")
        axis.tick_params(axis="x", rotation=45)
        axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    save(figure, path)
    return True


def with_data(rows: list[dict], claim_id: str) -> list[dict]:
    """The claim's rows that carry numbers (`data`), in their order."""
    return [row for row in rows if row["id"] == claim_id and row.get("data")]


def chart_a2(rows: list[dict], path) -> bool:
    """A2 on two log-log panels against the hidden width: the memory the long form needs for
    one sample (the widths run, any refused, the seed's 784-512-10, the budget), and the time
    per sample of the long and the short form."""
    points = sorted(with_data(rows, "A2"), key=lambda row: row["data"]["width"])
    if not points:
        return False
    from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter, ScalarFormatter

    plt = pyplot()
    figure, (memory, timing) = plt.subplots(1, 2, figsize=(11, 4.4), sharex=True)

    # Left: bytes for one sample. Ran, refused by the budget, and the seed's network.
    every = [p["data"] for p in points]
    ran = [d for d in every if d.get("long_seconds_per_sample") is not None]
    seed = [d for d in every if d.get("seed")]
    refused = [d for d, p in zip(every, points) if p["verdict"] == NOT_RUN and not d.get("seed")]
    memory.plot([d["width"] for d in every], [d["long_form_bytes"] for d in every],
                color="grey", linestyle="--", linewidth=1, zorder=1,
                label="grows as w\u00b2 (dz/dW holds w \u00d7 784w numbers)")
    memory.plot([d["width"] for d in ran], [d["long_form_bytes"] for d in ran], "o",
                color="#4c72b0", label="widths run here")
    if refused:
        memory.plot([d["width"] for d in refused], [d["long_form_bytes"] for d in refused],
                    "x", color="#c44e52", markersize=9, mew=2, label="refused by the budget")
    for d in seed:
        memory.plot(d["width"], d["long_form_bytes"], "*", color="#c44e52", markersize=14,
                    label="the seed's 784-512-10 (not run)")
        memory.annotate(f"would need {d['long_form_bytes'] / 1e9:.2f} GB",
                        (d["width"], d["long_form_bytes"]), textcoords="offset points",
                        xytext=(-12, 0), ha="right", va="center", fontsize=8, color="#c44e52")
    for budget in sorted({d["budget_bytes"] for d in every}):
        size = f"{budget / 2**30:g} GiB" if budget % 2**30 == 0 else f"{budget / 1e6:.3g} MB"
        memory.axhline(budget, color="#c44e52", linestyle=":", label=f"memory budget ({size})")
    memory.set_yscale("log")
    memory.yaxis.set_major_formatter(EngFormatter(unit="B"))
    memory.set_ylabel("bytes the long form holds for one sample")
    memory.set_title("Memory: one sample's explicit Jacobians", fontsize=10)

    # Right: seconds per sample, long form against short form, the ratio at each width.
    widths = [d["width"] for d in ran]
    long_s = [d["long_seconds_per_sample"] for d in ran]
    short_s = [d["short_seconds_per_sample"] for d in ran]
    timing.plot(widths, long_s, "o-", color="#c44e52", label="long form (Jacobian products)")
    timing.plot(widths, short_s, "s-", color="#4c72b0", label="short form (delta rule)")
    for width, slow, fast in zip(widths, long_s, short_s):
        timing.annotate(ratio_text(slow / fast), (width, slow), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8)
    timing.set_yscale("log")
    timing.yaxis.set_major_formatter(EngFormatter(unit="s"))
    timing.set_ylabel("time per sample (gradient of one sample)")
    timing.set_title("Time: long against short form (ratio above each point)", fontsize=10)

    memory.legend(fontsize=8, loc="lower right")
    timing.legend(fontsize=8, loc="lower right")
    for axis in (memory, timing):
        axis.set_xscale("log", base=2)
        axis.xaxis.set_major_locator(LogLocator(base=2))
        axis.xaxis.set_major_formatter(ScalarFormatter())
        axis.set_xlabel("hidden width w (MNIST 784-w-10, float64)")
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.grid(which="major", alpha=0.3)
    if ran:
        timing.set_ylim(top=max(long_s) * 2)  # room for the ratio above the highest point
        if max(long_s) / min(short_s) < 10:  # under a decade: label the minor ticks too
            timing.yaxis.set_minor_formatter(EngFormatter(unit="s"))
    else:
        timing.text(0.5, 0.5, "no width ran here", transform=timing.transAxes, ha="center")
    figure.suptitle("A2: long-form backpropagation against hidden width", fontsize=11)
    figure.tight_layout()
    save(figure, path)
    return True


def chart_b2(rows: list[dict], path) -> bool:
    """B2 per network: looped time / vectorised time, measured here beside the published one,
    log scale, the ratio written on each bar."""
    points = [row["data"] for row in with_data(rows, "B2")]
    if not points:
        return False
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(8, 4.4))
    positions = np.arange(len(points))
    bar_width = 0.38
    bars = [(-bar_width / 2, "measured here", "#4c72b0", [d["ratio"] for d in points]),
            (bar_width / 2, "published", "#dd8452",
             [d.get("published_ratio") for d in points])]
    for offset, label, color, ratios in bars:
        shown = [(x + offset, r) for x, r in zip(positions, ratios) if r is not None]
        drawn = axis.bar([x for x, _ in shown], [r for _, r in shown], bar_width, color=color,
                         label=label)
        axis.bar_label(drawn, labels=[ratio_text(r) for _, r in shown], fontsize=8, padding=2)
    axis.axhline(1, color="black", linewidth=0.8, linestyle=":",
                 label="same speed (above: vectorised is faster)")
    axis.set_yscale("log")
    top = max(r for _, _, _, ratios in bars for r in ratios if r is not None)
    axis.set_ylim(top=top * 3)  # room for the labels
    axis.set_xticks(positions, [d["network"] + ("" if d.get("published_ratio") else
                                                "\n(no published vectorised time)")
                                for d in points])
    axis.set_xlabel("network (sigmoid layers, one sample)")
    axis.set_ylabel("looped time / vectorised time (log)")
    axis.set_title("B2: looped time / vectorised time of one forward pass (a pure Python loop "
                   "against NumPy)", fontsize=10)
    axis.grid(axis="y", which="major", alpha=0.3)
    axis.legend(fontsize=8, loc="upper left")
    save(figure, path)
    return True


# (file name, drawing function, caption) of every claims chart, in the report's order.
CHARTS = [
    ("claims_accuracy.png", chart_accuracy, "A1, B3, A1+: claimed and measured test accuracy"),
    ("claims_a2_jacobian.png", chart_a2, "A2: the long form's memory and time per sample "
     "against hidden width"),
    ("claims_b2_vectorised.png", chart_b2, "B2: looped / vectorised forward pass, measured and "
     "published"),
]
