"""The claims whose measurement is their own, each a check function for its row of
bench/claims.py: A2 and A3 (the explicit Jacobian's long form, the softmax Jacobian), A5 (XOR
row by row: the same weights, and Octave's time against NumPy's) and B2 (a looped against a
vectorised forward pass). They judge with the same pieces as the other rows
(bench/verdicts.py) and time with bench/timing.py.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import nnbench
import numpy as np
from nnbench import networks
from nnbench.errors import UnsupportedError
from nnbench.spec import NetworkSpec, init_params
from nnbench.tolerance import largest_relative_error

from . import timing
from .formatting import bytes_text, ratio_text, seconds_text
from .verdicts import (
    DIFFERS,
    NOT_RUN,
    REPRODUCED,
    WITHIN,
    Factor,
    Finding,
    Range,
    fmt_outputs,
    verdict_of,
)

if TYPE_CHECKING:
    from .claims import Claim, Context


A2_WIDTHS = [16, 32, 64, 128, 256]  # hidden widths of MNIST 784-w-10; quick: the first only
A2_AGREE = Range(0.0, 1e-10, "1e-10 of the largest gradient")


def check_a2(ctx: Context, claim: Claim) -> list[Finding]:
    """Long form against short form at growing hidden widths: the same gradient, and what the
    long form costs in memory and time per sample; then the seed's own network, not run.
    Each finding's `data` holds the numbers that the A2 chart draws."""
    if "jacobian" not in ctx.impls:
        return [Finding("", NOT_RUN, "jacobian", "the jacobian implementation is not selected")]
    from nnbench import jacobian

    data = networks.get(claim.preset).load_data(limit=8)
    budget, _ = jacobian.resolve_budget()  # what the implementation will enforce
    findings = [a2_width(claim.preset, width, data, budget)
                for width in (A2_WIDTHS[:1] if ctx.quick else A2_WIDTHS)]
    full = networks.get(claim.preset).spec
    needed = jacobian.long_form_bytes(full, "float64")
    budget = jacobian.DEFAULT_BUDGET
    findings.append(Finding(
        f"784-512-10: the long form needs {bytes_text(needed)} for one sample; refused at the "
        f"{budget / 2**30:.0f} GiB budget", REPRODUCED if needed > budget else DIFFERS,
        "jacobian", reason="the memory problem the write-up ran into, refused before it happens",
        value=needed, data={"width": full.sizes[1], "dtype": "float64", "budget_bytes": budget,
                            "long_form_bytes": needed, "seed": True}))
    return findings


def a2_width(preset_name: str, width: int, data, budget: int) -> Finding:
    """A2 at one hidden width: both forms' gradients on 8 samples, and their time per sample."""
    from nnbench import jacobian

    preset = networks.get(preset_name).with_hidden(width)
    numbers = {"width": width, "dtype": "float64", "budget_bytes": budget,
               "long_form_bytes": jacobian.long_form_bytes(preset.spec, "float64")}
    megabytes = f"{numbers['long_form_bytes'] / 1e6:.3g} MB for one sample"
    try:
        impl = nnbench.create("jacobian", preset.spec, preset.initial_params())
    except UnsupportedError as exc:  # over the memory budget: reported, not run
        return Finding(f"784-{width}-10: the long form would need {megabytes}", NOT_RUN,
                       "jacobian", str(exc), data=numbers)
    X, Y = data.X_train, data.Y_train
    long_s, (_, long_grads) = timing.best_of(lambda: impl.loss_and_grads(X, Y), 5, enough_s=2)
    short_s, (_, short_grads) = timing.best_of(lambda: impl.short_form_grads(X, Y), 5,
                                               enough_s=2)
    long_s, short_s = long_s / len(X), short_s / len(X)
    worst = largest_relative_error(long_grads, short_grads)
    numbers.update(long_seconds_per_sample=long_s, short_seconds_per_sample=short_s)
    verdict, reason = verdict_of([A2_AGREE.judge(worst)], REPRODUCED)
    return Finding(
        f"784-{width}-10: long form = short form to {worst:.1e} of the largest gradient; "
        f"{long_s * 1e3:.2f} ms vs {short_s * 1e3:.3f} ms per sample "
        f"({ratio_text(long_s / short_s)}), {megabytes}", verdict, "jacobian", reason,
        value=long_s / short_s, data=numbers)


def check_a3(ctx: Context, claim: Claim) -> list[Finding]:
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


A5_EPOCHS = 1000
A5_SAME = Range(0.0, 1e-12, "a relative error of 1e-12 (nnbench.tolerance)")
A5_RATIO = Factor(1.76, 2, "1.76× (9.5 s against 5.4 s)")


def check_a5(ctx: Context, claim: Claim) -> list[Finding]:
    """Per-row against batched: the same weights after 1,000 epochs; and the published timing."""
    preset = networks.get(claim.preset)
    data = preset.load_data()
    start = preset.initial_params()
    batched = nnbench.create("numpy", preset.spec, start)
    batched.fit(data.X_train, data.Y_train, epochs=A5_EPOCHS, lr=preset.lr)
    per_row = {"numpy per-row port": xor_numpy_per_row(start, data.X_train, data.Y_train,
                                                       A5_EPOCHS, preset.lr)}
    if "python" in ctx.impls:  # pure Python walks the rows one by one too
        impl = nnbench.create("python", preset.spec, start)
        history = impl.fit(data.X_train, data.Y_train, epochs=A5_EPOCHS, lr=preset.lr)
        per_row["python"] = (impl.get_weights(), history.seconds)
    if "octave" in ctx.impls:
        from nnbench import octave_impl

        per_row["octave per-row"] = octave_impl.xor_per_row(start, A5_EPOCHS, preset.lr)
    findings = []
    for name, (weights, _) in per_row.items():
        worst = largest_relative_error(weights, batched.get_weights())
        verdict, reason = verdict_of([A5_SAME.judge(worst)], REPRODUCED,
                                     "identical up to the last bits of summation order")
        findings.append(Finding(
            f"{name} vs numpy batched: weights within a relative error of {worst:.1e} "
            f"(nnbench.tolerance) after {A5_EPOCHS:,} epochs", verdict, name, reason, value=worst))
    findings.append(a5_timing(per_row))
    return findings


def a5_timing(per_row) -> Finding:
    if "octave per-row" not in per_row:
        return Finding("", NOT_RUN, "octave vs numpy per-row",
                       "the octave implementation is not available here")
    octave_s, numpy_s = per_row["octave per-row"][1], per_row["numpy per-row port"][1]
    ratio = octave_s / numpy_s
    verdict, reason = verdict_of([A5_RATIO.judge(ratio)], WITHIN,
                                 "timings depend on the machine, the versions and the BLAS")
    return Finding(f"{A5_EPOCHS:,} epochs per row: Octave {seconds_text(octave_s)} (inside "
                   f"Octave), NumPy per-row {seconds_text(numpy_s)}: {ratio_text(ratio)}",
                   verdict, "octave vs numpy per-row", reason, value=ratio)


B2_NETWORKS = [  # (label, sizes, published looped us, published vectorised us)
    ("3-3-1 (B1's weights)", (3, 3, 1), 40.0, None),
    ("4-layer 3-3-3-1", (3, 3, 3, 1), 70.0, 46.0),
    ("100-100-50-10", (100, 100, 50, 10), 41_000.0, 84.0),
]
B2_LOOP = ("the ratio depends on the machine and on how the loop is written (ours: "
           "sum(map(mul, ...)) per neuron)")


def time_forward(impl, X) -> float:
    """Microseconds for one forward pass: the best of 5 timings of as many calls as take about
    0.2 s (counted as the benchmark counts the calls of its rounds, `timing.repeats_for`)."""
    def forward():
        return impl._forward(X)

    forward()
    number = timing.repeats_for(
        lambda k: timing.seconds(lambda: [forward() for _ in range(k)]), 10**6, 0.2)
    return timing.best_of(forward, 5, number)[0] * 1e6


def check_b2(ctx: Context, claim: Claim) -> list[Finding]:
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
        published_ratio = looped_us / vectorised_us if vectorised_us else None
        published = f"published {looped_us:g} µs looped" + (
            f", {vectorised_us:g} µs vectorised, {ratio_text(published_ratio)}"
            if vectorised_us else "")
        if published_ratio is None:
            verdict, reason = DIFFERS, "an absolute time on another machine; nothing to compare"
        else:
            judge = Factor(published_ratio, 2, ratio_text(published_ratio))
            verdict, reason = verdict_of([judge.judge(ratio)], WITHIN)
            reason += "" if verdict == WITHIN else f"; {B2_LOOP}"
        findings.append(Finding(
            f"{label}: looped {looped:.1f} µs, vectorised {vectorised:.1f} µs, "
            f"{ratio_text(ratio)} ({published})", verdict, "python vs numpy", reason,
            value=ratio, data={"network": label, "looped_us": looped, "vectorised_us": vectorised,
                               "ratio": ratio, "published_looped_us": looped_us,
                               "published_vectorised_us": vectorised_us,
                               "published_ratio": published_ratio}))
    return findings
